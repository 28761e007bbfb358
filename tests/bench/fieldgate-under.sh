#!/usr/bin/env bash
# Stands in for the fieldgate binary (bench_quorum_count --fieldgate-binary THIS) and runs each replica,
# `fieldgate run --config .../replica-N.toml`, under a counting tool; any other command (keygen) runs as is.
# Set by the caller (tests/bench/quorum-callgrind.sh):
#   FG_UNDER_BINARY        the real fieldgate
#   FG_UNDER_TOOL          callgrind | strace | none
#   FG_UNDER_OUT           where the tool writes, one file per replica: replica-N.callgrind or replica-N.strace,
#                          and replica-N.log, a copy of the replica's standard error
#   FG_UNDER_OLD_CONFIG=1  drop the [gateway] state_dir line, which builds before issue 12 (abf6033) refuse
set -euo pipefail
if [ "${1-}" != run ] || [ "${2-}" != --config ]; then
  exec "$FG_UNDER_BINARY" "$@"
fi
config=$3 replica=$(basename "$3" .toml)
if [ "${FG_UNDER_OLD_CONFIG-0}" = 1 ]; then
  sed '0,/^state_dir/{/^state_dir/d}' "$3" >"$3.old"
  config=$3.old
fi
# A copy of what the replica says (its log), kept beside the tool's file.
exec 2> >(tee "$FG_UNDER_OUT/$replica.log" >&2)
case $FG_UNDER_TOOL in
  none) exec "$FG_UNDER_BINARY" run --config "$config" ;;
  callgrind)
    exec valgrind --tool=callgrind --callgrind-out-file="$FG_UNDER_OUT/$replica.callgrind" \
      "$FG_UNDER_BINARY" run --config "$config" ;;
  strace)
    # strace, given the SIGTERM meant for the daemon, would leave the daemon running: pass it on instead,
    # and let the daemon end strace by exiting. Each dies with its parent, as the replica would.
    setpriv --pdeathsig KILL strace -c -f -o "$FG_UNDER_OUT/$replica.strace" \
      setpriv --pdeathsig KILL "$FG_UNDER_BINARY" run --config "$config" &
    tracer=$!
    trap 'kill -TERM $(cat /proc/$tracer/task/$tracer/children) 2>/dev/null || true' TERM INT
    while kill -0 "$tracer" 2>/dev/null; do
      wait "$tracer" || true
    done ;;
  *) echo "FG_UNDER_TOOL: callgrind, strace or none, not '$FG_UNDER_TOOL'" >&2; exit 2 ;;
esac
