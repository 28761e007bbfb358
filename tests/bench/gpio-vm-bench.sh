#!/usr/bin/env bash
# The GPIO benchmark (bench_gpio_vm.cpp) in the gpio-sim VM, for libgpiod v1 and v2 (and sysfs in each):
# optimised builds (the release preset; v2 in build/release-gpiod2 against scripts/libgpiod2-prefix.sh's
# prefix), then one VM boot per build. Numbers go to the console and build/gpio-vm/bench-vN/console.log.
#
#   tests/bench/gpio-vm-bench.sh [v1] [v2] [-- BENCH_ARGS...]    e.g. -- --idle-seconds 10 --edges 100
set -euo pipefail
cd "$(dirname "$0")/../.."
apis=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do apis+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
[ ${#apis[@]} -gt 0 ] || apis=(v1 v2)
bench_args="$*"

export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER-$(command -v ccache || true)}
export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER-$(command -v ccache || true)}
for api in "${apis[@]}"; do
  case "$api" in
    v1) dir=build/release; env=() ;;
    v2)
      scripts/libgpiod2-prefix.sh >/dev/null
      dir=build/release-gpiod2
      env=(PKG_CONFIG_PATH=/opt/libgpiod2/usr/lib/$(gcc -dumpmachine)/pkgconfig)
      ;;
    *) echo "usage: $0 [v1] [v2] [-- BENCH_ARGS...]" >&2; exit 2 ;;
  esac
  env "${env[@]}" cmake --preset release -B "$dir" >/dev/null
  cmake --build "$dir" -j "$(nproc)" --target bench_gpio_vm
  echo "=== bench_gpio_vm, libgpiod $api ($dir)"
  tests/gpio-vm/run.sh --out "build/gpio-vm/bench-$api" --timeout 900 --file "$dir/gateway/fieldgate" \
    "$dir/tests/bench/bench_gpio_vm $bench_args" | grep --line-buffered -E '^(==|kernel|gpiod|sysfs|-) ' || true
  grep -q '^@@FG-VM END 1 0$' "build/gpio-vm/bench-$api/console.log" ||
    { tail -40 "build/gpio-vm/bench-$api/console.log"; exit 1; }
done
