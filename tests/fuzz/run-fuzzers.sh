#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each one over its seed corpus for a while.
#
#   tests/fuzz/run-fuzzers.sh [SECONDS] [TARGET...]
#
# SECONDS per target defaults to 10; TARGETs default to every directory under tests/fuzz/corpus/ (each is
# named for its target). New inputs go to a scratch corpus under the build dir, never into the checked-in
# seeds; a crash leaves its input in build/fuzz/artifacts/<target>/ and makes the script exit non-zero after
# the other targets have run. FG_FUZZ_BUILD_DIR overrides the build dir (default build/fuzz).
set -euo pipefail

seconds="${1:-10}"
shift || true
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build="${FG_FUZZ_BUILD_DIR:-$root/build/fuzz}"
corpus_root="$root/tests/fuzz/corpus"

if [[ $# -gt 0 ]]; then
  targets=("$@")
else
  targets=()
  for dir in "$corpus_root"/*/; do
    targets+=("$(basename "$dir")")
  done
fi

cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DFG_BUILD_BENCH=OFF >/dev/null
# Only the fuzz targets (and what they link), not the whole tree.
cmake --build "$build" --target "${targets[@]}"

failed=()
for target in "${targets[@]}"; do
  scratch="$build/corpus/$target"
  artifacts="$build/artifacts/$target"
  mkdir -p "$scratch" "$artifacts"
  echo "== $target: ${seconds}s"
  # The scratch dir comes first, so libFuzzer writes what it finds there.
  if ! "$build/tests/fuzz/$target" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" "$scratch" "$corpus_root/$target" 2>"$build/$target.log"; then
    failed+=("$target")
    tail -n 60 "$build/$target.log"
  fi
  grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::peak_rss_mb)' \
    "$build/$target.log" || true
done

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzers that failed: ${failed[*]} (inputs in $build/artifacts/)" >&2
  exit 1
fi
echo "all fuzzers ran clean: ${targets[*]}"
