#!/usr/bin/env bash
# The sensor-node firmware's own stage: the AVR build (with its size budgets), then the end-to-end tests
# of that .elf in simavr with the real gateway and broker, then the benchmark. Each step prints its time.
#
#   scripts/firmware.sh              build, test, benchmark (10 s)
#   BENCH_SECONDS=0 scripts/firmware.sh    skip the benchmark
#
# It uses the dev build tree (build/dev), turning FG_FIRMWARE_AVR on there; scripts/test.sh builds and runs
# everything else, the firmware's host tests included.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
step() { echo "=== firmware: $1 (at $((SECONDS - started)) s)"; }

scripts/install-deps.sh >/dev/null

step "configure (dev preset, FG_FIRMWARE_AVR=ON)"
cmake --preset dev -DFG_FIRMWARE_AVR=ON >/dev/null

step "AVR build: fieldgate-node.elf, .hex, size report and budgets"
cmake --build --preset dev --target firmware_avr
avr-size -C --mcu=atmega328p build/dev/firmware-avr/fieldgate-node.elf || true

step "simavr host program, tests and benchmark"
cmake --build --preset dev -j "$(nproc)" --target fieldgate-simavr test_firmware_simavr bench_firmware_simavr fieldgate

step "end to end in simavr"
ctest --preset dev -L simavr

if [ "${BENCH_SECONDS:-10}" != "0" ]; then
  step "benchmark: frames per second through simavr, the gateway and the broker"
  build/dev/tests/firmware/bench_firmware_simavr "${BENCH_SECONDS:-10}"
fi

step "done in $((SECONDS - started)) s"
