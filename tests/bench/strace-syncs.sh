#!/bin/bash
# Runs a command (the gateway, from bench_spool's FG_BENCH_WRAP) under strace, stopping only on the sync
# calls (seccomp-bpf), one output file per thread: ${STRACE_OUT:-/tmp/fg-syncs}.<tid>. Which thread made
# each fdatasync, and how long it took (-T), shows whether the loop thread waits for the disk.
#   FG_BENCH_WRAP=tests/bench/strace-syncs.sh build/release/tests/bench/bench_spool --only latency
# SIGTERM is passed on to the traced command: strace itself would detach and leave it running.
strace -f --seccomp-bpf -T -tt -e trace=fdatasync,fsync,unlinkat,renameat -ff -o "${STRACE_OUT:-/tmp/fg-syncs}" "$@" &
tracer=$!
trap 'kill -TERM $(cat /proc/$tracer/task/$tracer/children)' TERM
wait $tracer
wait $tracer
