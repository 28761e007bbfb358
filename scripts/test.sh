#!/usr/bin/env bash
# Sets up a fresh Debian 12 / Raspberry Pi OS machine and runs the test suites.
#
#   scripts/test.sh                      dev preset (debug build, all tests)
#   scripts/test.sh asan rpi-aarch64     any presets from CMakePresets.json, in order
#
# rpi-aarch64 cross-builds for a 64-bit Pi and runs the tests under qemu-aarch64.
set -euo pipefail
cd "$(dirname "$0")/.."

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(dev)

deps_arg=""
for p in "${presets[@]}"; do
  [ "$p" = "rpi-aarch64" ] && deps_arg="arm64"
done
scripts/install-deps.sh $deps_arg

jobs=$(nproc)
for p in "${presets[@]}"; do
  echo "=== preset $p"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  ctest --preset "$p" -j "$jobs"
done
