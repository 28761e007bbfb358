#!/usr/bin/env bash
# Checks that the bash completion offers exactly the commands of `fieldgate --help`, and for each command
# exactly the long options of `fieldgate COMMAND --help`. CLI11 cannot generate a completion, so this is
# what keeps the hand-written one (scripts/completion/fieldgate.bash) from falling behind the program.
#
#   tests/install/check-completion.sh PROGRAM COMPLETION_FILE
set -euo pipefail
program=$1
completion=$2

# complete WORD...: what the completion offers for the command line "fieldgate WORD...", the last word
# being the one under the cursor.
complete() {
  bash -c '
    source /usr/share/bash-completion/bash_completion
    source "$1"
    shift
    COMP_WORDS=(fieldgate "$@")
    COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
    COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}
    _fieldgate fieldgate "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}"
  ' _ "$completion" "$@" | sort
}

# The section of CLI11's help that lists subcommands or options, one per line.
section() { # section HEADER: the first word of each line under HEADER
  awk -v h="$1" '$0 == h {on = 1; next} on && /^[^ ]/ {on = 0} on && NF {print $1}'
}

status=0
commands=$("$program" --help | section "Subcommands:" | sort)
offered=$(complete "" | grep -v '^-' || true)
if [ "$commands" != "$offered" ]; then
  echo "commands: fieldgate --help lists [$(echo $commands)], the completion offers [$(echo $offered)]"
  status=1
fi
for command in $commands; do
  options=$("$program" "$command" --help | section "Options:" | tr ',' '\n' | grep '^--' | sed 's/[=:].*//' | sort)
  offered=$(complete "$command" "-" | grep '^--' || true)
  if [ "$options" != "$offered" ]; then
    echo "$command: fieldgate $command --help has [$(echo $options)], the completion offers [$(echo $offered)]"
    status=1
  fi
done
exit $status
