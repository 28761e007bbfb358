#!/usr/bin/env bash
# Sets up a fresh Debian 12 / Raspberry Pi OS machine and runs the test suites.
#
#   scripts/test.sh                      dev preset (debug build, all tests)
#   scripts/test.sh asan rpi-aarch64     any presets from CMakePresets.json, in order
#
# rpi-aarch64 cross-builds for a 64-bit Pi and runs the tests under qemu-aarch64; rpi-armhf for a 32-bit
# Pi under qemu-arm; rpi-armv6 statically for the Pi Zero W and Pi 1 under qemu-arm -cpu arm1176.
set -euo pipefail
cd "$(dirname "$0")/.."

presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(dev)

deps_args=()
for p in "${presets[@]}"; do
  case "$p" in
    rpi-aarch64) deps_args+=(arm64) ;;
    rpi-armhf) deps_args+=(armhf) ;;
    rpi-armv6) deps_args+=(armv6) ;;
  esac
done
scripts/install-deps.sh "${deps_args[@]}"
[[ " ${presets[*]} " == *" rpi-armv6 "* ]] && scripts/armv6-sysroot.sh

jobs=$(nproc)
for p in "${presets[@]}"; do
  echo "=== preset $p"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  ctest --preset "$p" -j "$jobs"
done
