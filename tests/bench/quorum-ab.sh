#!/usr/bin/env bash
# Two fieldgate builds side by side in one sitting: bench_quorum's cells for one client count (fsync on and
# off, writes and reads) for build A and build B, interleaved A B B A A B ..., so that a change of the
# machine's load falls on both alike. Prints one line per run and, at the end, the median of each build.
#
#   tests/bench/quorum-ab.sh [--reps N] [--seconds S] [--clients N] [--pin] A_FIELDGATE B_FIELDGATE
#   e.g. tests/bench/quorum-ab.sh --pin ../baseline/build/release/gateway/fieldgate build/release/gateway/fieldgate
#
# --pin runs every process of a run (bench, broker, three replicas) on CPU 0 at SCHED_FIFO priority 50
# (needs root; the kernel's real-time throttling still leaves 5% of that CPU to the others). Why: on a shared
# 2-core machine, where the scheduler happens to place the client and the replicas changes a single
# client's rate by up to 2x between runs of the same build (docs/benchmarks.md, "Before and after the
# house"); pinned, the runs of one build agree within about 5%.
#
# A build older than the [gateway] state_dir key (before issue 12, e.g. abf6033) refuses the config
# bench_quorum writes; such a binary is run through a shim that drops that one line.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=4 seconds=3 clients=1 pin=()
while [ $# -gt 2 ]; do
  case "$1" in
    --reps) reps=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --pin) pin=(chrt -f 50 taskset -c 0); shift ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { sed -n 6,7p "$0" | cut -c3- >&2; exit 2; }
bench=build/release/tests/bench/bench_quorum
[ -x "$bench" ] || { echo "$bench: build it first (cmake --build --preset release --target bench_quorum)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The binary to give bench_quorum for build $1: itself, or the shim if it does not know [gateway] state_dir.
runnable() {
  local binary
  binary=$(realpath "$1")
  printf '[gateway]\nid = "probe"\nstate_dir = "%s/probe-state"\n' "$work" >"$work/probe.toml"
  if [[ $("$binary" check "$work/probe.toml" 2>&1) == *"gateway.state_dir: unknown key"* ]]; then
    local shim="$work/shim-$2"
    printf '#!/bin/sh\n[ "$1" = run ] && [ "$2" = --config ] && sed "0,/^state_dir/{/^state_dir/d}" "$3" >"$3.old" &&\n  exec %q run --config "$3.old"\nexec %q "$@"\n' \
      "$binary" "$binary" >"$shim"
    chmod +x "$shim"
    binary=$shim
  fi
  echo "$binary"
}
declare -A given=([A]=$1 [B]=$2) binary=([A]=$(runnable "$1" A) [B]=$(runnable "$2" B))

# rate FSYNC OP: "fieldgate fsync off 1 clients write:     9888 ops/s, p50 ..." -> 9888
rate() { grep "fsync $1 *$clients clients $2" | sed 's/.*: *\([0-9]*\) ops.*/\1/'; }
for r in $(seq "$reps"); do
  order="A B"
  [ $((r % 2)) -eq 0 ] && order="B A"
  for build in $order; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    out=$("${pin[@]}" "$bench" --seconds "$seconds" --clients "$clients" --only fieldgate \
      --fieldgate-binary "${binary[$build]}" 2>&1) || { echo "$out" >&2; exit 1; }
    won=$(rate on write <<<"$out") woff=$(rate off write <<<"$out")
    ron=$(rate on read <<<"$out") roff=$(rate off read <<<"$out")
    echo "run $r $build, $clients client(s), ops/s: fsync on write $won read $ron, fsync off write $woff read $roff (load $load)"
    echo "$build $won $ron $woff $roff" >>"$work/rates"
  done
done
# median BUILD COLUMN: the median of one column of $work/rates over BUILD's runs.
median() {
  grep "^$1 " "$work/rates" | awk "{print \$$2}" | sort -n |
    awk '{v[NR] = $1} END {printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
for build in A B; do
  echo "$build (${given[$build]}): medians over $reps runs, $clients client(s), ops/s:" \
    "fsync on write $(median $build 2) read $(median $build 3), fsync off write $(median $build 4) read $(median $build 5)"
done
