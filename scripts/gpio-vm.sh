#!/usr/bin/env bash
# GPIO on a real kernel: builds the GPIO test programs (tests/gpio) and fieldgate twice, against libgpiod
# v1 (bookworm's libgpiod-dev 1.6) and v2 (2.1 from bookworm-backports in a private prefix), and runs each
# build's programs in the gpio-sim VM (tests/gpio-vm/run.sh) through its ctest entry (label gpio-vm). The
# sysfs backend is tested by the same programs in both builds. Exits non-zero if any program failed.
#
#   scripts/gpio-vm.sh            both builds
#   scripts/gpio-vm.sh v1         one of them (v1 or v2)
#
# Build trees: build/gpio-vm-v1, build/gpio-vm-v2 (debug, tests, no benchmarks); the kernel and gpiosim.ko
# are cached in build/gpio-vm/ by kernel ABI. Console logs and gtest XML: build/gpio-vm-vN/gpio-vm/.
set -euo pipefail
cd "$(dirname "$0")/.."

apis=("$@")
[ ${#apis[@]} -gt 0 ] || apis=(v1 v2)
started=$SECONDS
step() { echo "=== gpio-vm: $1 (at $((SECONDS - started)) s)"; }

step "packages (scripts/install-deps.sh gpio-vm)"
scripts/install-deps.sh gpio-vm
step "kernel image and gpiosim.ko"
tests/gpio-vm/kernel.sh build/gpio-vm

# As scripts/test.sh: the v1 build is the dev preset's, so after the README's test command it is ccache hits.
export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER-$(command -v ccache || true)}
export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER-$(command -v ccache || true)}
export CCACHE_BASEDIR=${CCACHE_BASEDIR-$PWD} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR-1}
jobs=$(nproc)
failed=()
for api in "${apis[@]}"; do
  dir=build/gpio-vm-$api
  case "$api" in
    v1) preset=dev ;;
    v2)
      # The v2 prefix and preset come with devices/gpio's v2 backend; a tree without them has no v2 to test.
      if [ ! -x scripts/libgpiod2-prefix.sh ] || ! grep -q '"dev-gpiod2"' CMakePresets.json; then
        echo "=== gpio-vm: libgpiod v2 SKIPPED: scripts/libgpiod2-prefix.sh or the dev-gpiod2 preset is missing"
        continue
      fi
      step "libgpiod v2 prefix (scripts/libgpiod2-prefix.sh)"
      scripts/libgpiod2-prefix.sh
      preset=dev-gpiod2
      ;;
    *) echo "usage: $0 [v1] [v2]" >&2; exit 2 ;;
  esac
  step "libgpiod $api: configure and build the GPIO test programs and fieldgate ($dir)"
  cmake --preset "$preset" -B "$dir" -DFG_GPIO_VM=ON -DFG_BUILD_BENCH=OFF >/dev/null
  grep -m1 -E '^(GPIOD|FG_SIM_PROBE_GPIOD)_VERSION:INTERNAL=' "$dir/CMakeCache.txt" || true
  cmake --build "$dir" -j "$jobs" --target gpio_vm_programs
  step "libgpiod $api: the programs in the gpio-sim VM"
  api_started=$SECONDS
  if ! (cd "$dir" && ctest -L gpio-vm --output-on-failure); then
    failed+=("$api")
  fi
  echo "=== gpio-vm: libgpiod $api in the VM took $((SECONDS - api_started)) s"
done
echo "=== gpio-vm: done in $((SECONDS - started)) s${failed[*]:+, FAILED: ${failed[*]}}"
[ ${#failed[@]} -eq 0 ]
