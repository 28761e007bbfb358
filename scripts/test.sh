#!/usr/bin/env bash
# Sets up a fresh Debian 12 / Raspberry Pi OS machine and runs the test suites.
#
#   scripts/test.sh                      dev preset (debug build, all tests)
#   scripts/test.sh asan rpi-aarch64     any presets from CMakePresets.json, in order
#
# FG_CTEST_ARGS adds arguments to every ctest run: CI runs the slow suites as a stage of their own
# (FG_CTEST_ARGS="-LE ^(e2e|sim)$" here, then ctest -L; docs/testing.md, "What CI runs").
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

# ccache (installed by install-deps.sh) makes a second build of the same sources with the same flags, in
# another build tree, a cache hit: the GPIO VM stage's libgpiod v1 build (scripts/gpio-vm.sh) is the dev
# build again. Debug info names the tree of the first build; nothing here reads it.
export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER-ccache}
export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER-ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR-1}

jobs=$(nproc)
for p in "${presets[@]}"; do
  echo "=== preset $p"
  cmake --preset "$p" >/dev/null
  cmake --build --preset "$p" -j "$jobs"
  # shellcheck disable=SC2086 # FG_CTEST_ARGS is a list of arguments
  ctest --preset "$p" -j "$jobs" ${FG_CTEST_ARGS:-}
done
