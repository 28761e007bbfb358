#!/bin/bash
# Shows, with mosquitto's own tools and no fieldgate, how a broker with its default settings (no
# set_tcp_nodelay) batches messages to a QoS 0 subscriber (docs/benchmarks.md, "The 17 ms batches at a
# QoS 0 subscriber, found"). A publisher sends 8,000 messages at 1,000/s; the subscriber's keepalive of 5 s
# makes it send a PINGREQ while they flow, which is when its kernel starts delaying ACKs. A packet capture
# counts how many messages each TCP segment to the subscriber carried.
#
#   tests/bench/broker-batching.sh            # payloads of 90 and 500 bytes, publisher at QoS 0 and 1
#
# Expect one message a segment with the publisher at QoS 0 and, at QoS 1, the messages after the
# subscriber's PINGREQ (about 3,000) in segments of 17: the broker's PUBACK to the publisher between two deliveries is what
# changes it. Needs root (tcpdump on lo), mosquitto, mosquitto-clients, tcpdump and python3.
set -euo pipefail

for tool in mosquitto mosquitto_pub mosquitto_sub tcpdump python3; do
  command -v "$tool" > /dev/null || { echo "$0: needs $tool (apt-get install mosquitto mosquitto-clients tcpdump python3)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "$0: tcpdump needs root" >&2; exit 2; }

work=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
trap 'kill $(jobs -p) 2> /dev/null || true; rm -rf "$work"' EXIT

# Publishes 8,000 messages of $1 bytes at 1,000/s at QoS $2; prints the messages a segment to the subscriber.
measure() {
  local size=$1 qos=$2
  mosquitto -p "$port" > /dev/null 2>&1 &
  local broker=$!
  sleep 0.5
  mosquitto_sub -p "$port" -q 0 -k 5 -t fg/batching > /dev/null &
  local sub=$!
  sleep 0.3
  tcpdump -i lo -n -s 80 -w "$work/capture.pcap" "tcp port $port" > /dev/null 2>&1 &
  local capture=$!
  sleep 1
  python3 -c "
import sys, time
line = 'x' * $size + '\n'
due = time.monotonic()
for _ in range(8000):
    sys.stdout.write(line)
    sys.stdout.flush()
    due += 0.001
    time.sleep(max(0.0, due - time.monotonic()))
" | mosquitto_pub -p "$port" -q "$qos" -l -t fg/batching
  sleep 0.5
  kill "$capture" "$sub" "$broker"
  wait "$capture" "$sub" "$broker" 2> /dev/null || true
  tcpdump -r "$work/capture.pcap" -n 2> /dev/null | python3 -c "
import collections, re, sys
# The broker's segments to each client, by the client's port; the subscriber is the one that got the
# most bytes (the publisher only gets PUBACKs). A PUBLISH of this topic is the payload
# and 15 bytes (16 from 113 bytes of payload on, when its length takes two bytes).
per_client = collections.defaultdict(list)
for line in sys.stdin:
    m = re.search(r'127\.0\.0\.1\.$port > 127\.0\.0\.1\.(\d+):.* length (\d+)', line)
    if m and int(m[2]) > 0:
        per_client[m[1]].append(int(m[2]))
segments = max(per_client.values(), key=sum)
messages = [round(s / ($size + 15 + ($size > 112))) for s in segments]
carried = collections.Counter()
for n in messages:
    carried[n] += n
top = ', '.join(f'{m} alone' if n == 1 else f'{m} in segments of {n}' for n, m in carried.most_common(3))
print(f'payload $size B, publisher QoS $qos: {sum(messages)} messages in {len(segments)} segments: {top}')
"
}

for size in 90 500; do
  for qos in 0 1; do
    measure "$size" "$qos"
  done
done
