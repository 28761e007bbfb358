#!/usr/bin/env bash
# The main job, end to end on one machine: a mosquitto broker on 127.0.0.1:18830, two serial sensors on pty
# pairs (a simulated text sensor, and our own sensor-node firmware built for Linux, speaking COBS frames),
# fieldgate serving them with examples/demo.toml, and a subscriber printing what arrives. After a few
# seconds it sends commands (requests and sets to both) so the replies show too.
# Ctrl-C stops everything it started. DEMO_SECONDS=N ends it by itself after N seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target fieldgate fieldgate-devsim fieldgate-node

work=/tmp/fieldgate-demo
mkdir -p "$work"
pids=()
cleanup() {
  trap - EXIT INT TERM
  # Newest first: the gateway stops (and says offline) while the broker and the devices still run.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
}
trap cleanup EXIT INT TERM

printf 'listener 18830 127.0.0.1\nallow_anonymous true\npersistence false\nset_tcp_nodelay true\n' > "$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" 2>"$work/mosquitto.log" & pids+=($!)
build/release/tests/devsim/fieldgate-devsim --link "$work/weather" --format kv --interval-ms 1000 & pids+=($!)
build/release/firmware/fieldgate-node --link "$work/node1" --interval-ms 2000 & pids+=($!)
sleep 0.5

mosquitto_sub -h 127.0.0.1 -p 18830 -v -t 'fieldgate/#' & pids+=($!)
build/release/gateway/fieldgate run --config examples/demo.toml & pids+=($!)

sleep 3
echo "--- demo: requests (PING, VERSION) and sets (led=on, out=on) through MQTT; the replies come on .../reply"
mosquitto_pub -h 127.0.0.1 -p 18830 -t fieldgate/demo/weather/request -m PING
mosquitto_pub -h 127.0.0.1 -p 18830 -t fieldgate/demo/weather/led/set -m on
mosquitto_pub -h 127.0.0.1 -p 18830 -t fieldgate/demo/node1/request -m VERSION
mosquitto_pub -h 127.0.0.1 -p 18830 -t fieldgate/demo/node1/out/set -m on

if [ -n "${DEMO_SECONDS:-}" ]; then
  sleep "$DEMO_SECONDS"
else
  echo "--- Ctrl-C to stop"
  wait
fi
