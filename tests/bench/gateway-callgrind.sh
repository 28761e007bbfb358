#!/usr/bin/env bash
# What one serial reading costs the gateway, counted rather than timed (issue 8): instructions under
# callgrind for fieldgate builds A and B in turn. One pty port (socat), a kv parser, a real mosquitto on
# loopback; the gateway runs under callgrind, N and then 3N lines are written to the port at 500 lines/s
# (callgrind runs the gateway ~50x slower), and a subscriber waits until every reading arrived.
# Per reading = (count at 3N - count at N) / 2N, so start-up, connect and shutdown cancel out.
# Builds run A B B A ..., --reps times each (default 2); the table gives each run.
#
#   tests/bench/gateway-callgrind.sh [--qos 0|1] [--no-spool] [--lines N] [--reps N] [--keep DIR] A_FIELDGATE B_FIELDGATE
#   e.g. tests/bench/gateway-callgrind.sh ../wt/baseline/build/release/gateway/fieldgate build/release/gateway/fieldgate
#
# --qos 1 with a build that has the disk spool (issue 12) counts the spool's appends too; --no-spool turns
# it off there ([mqtt] spool = false), to compare the rest of the path with a build before it.
# --keep DIR keeps each run's callgrind file (DIR/A-N-1.callgrind, ...) for callgrind_annotate.
set -euo pipefail
qos=0 lines=2000 reps=2 keep= spool=true
while [ $# -gt 2 ]; do
  case "$1" in
    --qos) qos=$2; shift 2 ;;
    --no-spool) spool=false; shift ;;
    --lines) lines=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    *) break ;;
  esac
done
[ $# -eq 2 ] || { sed -n 9,10p "$0" | cut -c3- >&2; exit 2; }
for tool in socat mosquitto mosquitto_sub valgrind callgrind_annotate python3; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/install-deps.sh --bench)" >&2; exit 1; }
done
work=$(mktemp -d)
mkdir -p "${keep:-$work}"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" &
pids+=($!)
for _ in $(seq 50); do mosquitto_sub -p "$port" -t probe -W 1 -C 1 -E 2>/dev/null && break || sleep 0.1; done

# 1 if fieldgate $1 refuses the [gateway] state_dir key (builds before issue 12).
old_config() {
  printf '[gateway]\nid = "probe"\nstate_dir = "%s/probe-state"\n' "$work" >"$work/probe.toml"
  [[ $("$1" check "$work/probe.toml" 2>&1) == *"gateway.state_dir: unknown key"* ]] && echo 1 || echo 0
}

# Runs build $2 under callgrind for $3 lines; prints its instruction count. $1 names the run.
count_run() {
  local name=$1 binary=$2 n=$3 run="$work/$1"
  mkdir -p "$run"
  socat "pty,raw,echo=0,link=$run/dev" "pty,raw,echo=0,link=$run/host" &
  local socat_pid=$!
  for _ in $(seq 50); do [ -e "$run/host" ] && [ -e "$run/dev" ] && break || sleep 0.1; done
  {
    printf '[gateway]\nid = "cg"\nlog_level = "warning"\n'
    [ "$(old_config "$binary")" = 1 ] || printf 'state_dir = "%s/state"\n' "$run"
    printf '[mqtt]\nhost = "127.0.0.1"\nport = %s\nprefix = "%s"\nqos = %s\n' "$port" "$name" "$qos"
    [ "$(old_config "$binary")" = 1 ] || printf 'spool = %s\n' "$spool"
    printf '[[serial]]\nname = "d"\npath = "%s/dev"\nbaud = 115200\nparser = "kv"\n' "$run"
  } >"$run/gateway.toml"
  mosquitto_sub -p "$port" -q 1 -t "$name/cg/status" -C 1 >"$run/online" &
  local online_pid=$!
  mosquitto_sub -p "$port" -q 1 -t "$name/cg/d/v" -C "$n" >"$run/readings" &
  local sub_pid=$!
  local out="${keep:-$work}/$name.callgrind"
  valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" run --config "$run/gateway.toml" \
    2>"$run/valgrind.log" &
  local gateway_pid=$!
  wait "$online_pid"
  sleep 1  # the device's port opened, its availability published
  python3 - "$run/host" "$n" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY)
start = time.monotonic()
for i in range(int(sys.argv[2])):
    os.write(fd, b"v=%d\n" % i)
    time.sleep(max(0.0, start + (i + 1) / 500.0 - time.monotonic()))
os.close(fd)
EOF
  if ! timeout 120 tail --pid="$sub_pid" -f /dev/null; then
    echo "$name: $(wc -l <"$run/readings") of $n readings arrived in 120 s" >&2
    kill "$sub_pid" 2>/dev/null || true
  fi
  kill -TERM "$gateway_pid"
  wait "$gateway_pid" || true
  kill "$socat_pid" 2>/dev/null || true
  wait "$socat_pid" 2>/dev/null || true
  callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ && !done { gsub(",", "", $1); print $1; done = 1 }'
}

printf '%-5s %-4s %14s %14s %12s\n' build rep "Ir (N=$lines)" "Ir (3N)" "Ir/reading"
for rep in $(seq "$reps"); do
  order="A B"
  [ $((rep % 2)) = 0 ] && order="B A"
  for build in $order; do
    binary=$1
    [ "$build" = B ] && binary=$2
    low=$(count_run "$build-N-$rep" "$binary" "$lines")
    high=$(count_run "$build-3N-$rep" "$binary" $((3 * lines)))
    printf '%-5s %-4s %14s %14s %12s\n' "$build" "$rep" "$low" "$high" $(((high - low) / (2 * lines)))
  done
done
