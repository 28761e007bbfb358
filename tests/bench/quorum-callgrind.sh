#!/usr/bin/env bash
# What one register operation costs each replica, counted rather than timed (issue 8): instructions under
# callgrind, or system calls under strace -c, for fieldgate builds A and B in turn. Three replicas on
# loopback with fsync off (bench_quorum's "fsync off" mode); bench_quorum_count writes the keys, then sends
# N and, in a second cluster, 3N operations through replica 1 (2 connections x 32 in flight, as the
# coordinator sees under 64 clients). Per operation = (count at 3N - count at N) / 2N, so start-up and
# shutdown cancel out. The builds run in turn, A B B A ..., --reps times each (default 3), and the table
# gives each build's median and range. Why not once: part of the count is per datagram (sealing,
# system calls), and how many messages share a datagram follows how fast each replica runs, so a busier
# machine moves the counts of both builds (by 10 % and more); compare builds within one sitting.
#
#   tests/bench/quorum-callgrind.sh [--tool callgrind|strace] [--op get|put] [--ops N] [--reps N] A_FIELDGATE B_FIELDGATE
#   e.g. tests/bench/quorum-callgrind.sh ../baseline/build/release/gateway/fieldgate build/release/gateway/fieldgate
#
# --keep DIR keeps the tools' files (replica-N.callgrind for callgrind_annotate) in DIR/A-N-REP, DIR/B-3N-REP, ...
set -euo pipefail
cd "$(dirname "$0")/../.."
tool=callgrind op=get ops=3000 reps=3 keep=
while [ $# -gt 2 ]; do
  case "$1" in
    --tool) tool=$2; shift 2 ;;
    --op) op=$2; shift 2 ;;
    --ops) ops=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { sed -n 12,13p "$0" | cut -c3- >&2; exit 2; }
bench=build/release/tests/bench/bench_quorum_count
[ -x "$bench" ] || { echo "$bench: build it first (cmake --build --preset release --target bench_quorum_count)" >&2; exit 1; }
work=${keep:-$(mktemp -d)}
mkdir -p "$work"
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT

# 1 if fieldgate $1 refuses the [gateway] state_dir key that FieldgateCluster writes (builds before issue 12).
old_config() {
  printf '[gateway]\nid = "probe"\nstate_dir = "%s/probe-state"\n' "$work" >"$work/probe.toml"
  [[ $("$1" check "$work/probe.toml" 2>&1) == *"gateway.state_dir: unknown key"* ]] && echo 1 || echo 0
}

# count FILE: instructions (callgrind) or "syscall calls" lines (strace) of one replica's file.
count() {
  if [ "$tool" = callgrind ]; then
    grep -m1 -E '^(summary|totals):' "$1" | awk '{print "instructions", $2}'
  else
    awk '$NF != "syscall" && $NF != "total" && $4 ~ /^[0-9]+$/ {print $NF, $4}' "$1"
  fi
}

declare -A given=([A]=$1 [B]=$2)
for rep in $(seq "$reps"); do
  order="A B"
  [ $((rep % 2)) -eq 0 ] && order="B A"
  for build in $order; do
    binary=$(realpath "${given[$build]}")
    for n in "$ops" $((3 * ops)); do
      out="$work/$build-$n-$rep"
      mkdir -p "$out"
      echo "run $rep $build: $n ${op}s under $tool ($(cut -d' ' -f1 /proc/loadavg) load)" >&2
      FG_UNDER_BINARY=$binary FG_UNDER_TOOL=$tool FG_UNDER_OUT=$out FG_UNDER_OLD_CONFIG=$(old_config "$binary") \
        nice "$bench" --op "$op" --ops "$n" --fieldgate-binary "$PWD/tests/bench/fieldgate-under.sh" >&2
      for r in 1 2 3; do
        count "$out/replica-$r.$tool" | sed "s/^/$build $rep $r $n /" >>"$work/counts"
      done
    done
  done
done

# Per operation, per replica, build and run: (3N count - N count) / 2N; then each build's median and range.
echo "per $op, $tool; replica 1 coordinates ($ops and $((3 * ops)) ${op}s, 2 connections x 32 in flight);"
echo "median (lowest - highest) of $reps runs each, interleaved"
echo "A: ${given[A]}"
echo "B: ${given[B]}"
echo
echo "| what | replica | A | B | B - A (medians) |"
echo "|---|---|---:|---:|---:|"
awk -v n="$ops" -v reps="$reps" '
  { c[$1 " " $2 " " $3 " " $5 " " ($4 == n ? "n" : "3n")] = $6; what[$5] = 1 }
  function per(b, k, r, w,   sum, x) {
    if (w != "all calls") return (c[b " " k " " r " " w " 3n"] - c[b " " k " " r " " w " n"]) / (2 * n)
    for (x in what) if (x != "all calls") sum += per(b, k, r, x)
    return sum
  }
  # The median of per(b, 1..reps, r, w); sets lo and hi to the range.
  function median(b, r, w,   v, k, i, j, t) {
    for (k = 1; k <= reps; k++) v[k] = per(b, k, r, w)
    for (i = 2; i <= reps; i++) for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    lo = v[1]; hi = v[reps]
    return reps % 2 ? v[(reps + 1) / 2] : (v[reps / 2] + v[reps / 2 + 1]) / 2
  }
  END {
    if (!("instructions" in what)) what["all calls"] = 1
    for (w in what) for (r = 1; r <= 3; r++) {
      a = median("A", r, w); alo = lo; ahi = hi
      b = median("B", r, w)
      if (a == 0 && b == 0 && alo == 0 && ahi == 0 && lo == 0 && hi == 0) continue
      f = w == "instructions" ? "%.0f" : "%.2f"
      printf "| %s | %d | " f " (" f " - " f ") | " f " (" f " - " f ") | %+.1f %% |\n", w, r, a, alo, ahi, b, lo, hi, a ? 100 * (b - a) / a : 0
    }
  }' "$work/counts" | sort -t'|' -k2,2 -k3,3n
