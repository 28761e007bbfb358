# Shared by the install tests: checks that count, and the closing "N passed, N failed" line.
passed=0
failed=0

# check DESCRIPTION COMMAND...: runs COMMAND; a non-zero exit is a failure, with its output shown.
check() {
  local what=$1
  shift
  local output
  if output=$("$@" 2>&1); then
    passed=$((passed + 1))
    echo "ok      $what"
  else
    failed=$((failed + 1))
    echo "FAILED  $what"
    echo "        command: $*"
    sed 's/^/        | /' <<<"$output"
  fi
}

# The closing line that CI reads, and the exit status.
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
