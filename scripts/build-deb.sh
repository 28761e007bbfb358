#!/usr/bin/env bash
# Builds the Debian package of fieldgate for one architecture, from a copy of the committed tree and
# the working tree's changes, in build/deb/<target>/ (dpkg-buildpackage writes next to the source).
#
#   scripts/build-deb.sh [amd64|arm64|armhf|armv6] [--check]
#
# With --check the package build also builds and runs the unit tests: natively on amd64, and under
# qemu-user for the other architectures (the ARMv6 build under qemu-arm -cpu arm1176). CI builds the
# Pi packages this way, so the tests run on the very binaries that are shipped.
# arm64 and armhf are cross-built against Debian's multiarch libraries (scripts/install-deps.sh arm64,
# armhf); armv6 is the statically linked armhf package for the Pi Zero W and Pi 1 (install-deps.sh
# armv6, debian/README.source). Without --check the test suites are not built (nocheck): CI runs them
# through the CMake presets. Prints the path of the .deb.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${1:-$(dpkg --print-architecture)}
check=${2:-}
out=build/deb/$target
rm -rf "$out" && mkdir -p "$out/src"
# The tree as git sees it (committed and changed files, not build/ or anything ignored).
git ls-files -z --cached --others --exclude-standard | xargs -0 cp -a --parents -t "$out/src"

args=(-b -us -uc)
case "$target" in
  "$(dpkg --print-architecture)") ;;
  arm64 | armhf) args+=(-a"$target") ;;
  armv6)
    # The armel sysroot (cached in build/armv6-sysroot) stands in for the -dev build dependencies.
    scripts/armv6-sysroot.sh
    export FG_ARMV6_SYSROOT=$PWD/build/armv6-sysroot
    args+=(-aarmhf -Ppkg.fieldgate.armv6)
    ;;
  *) echo "usage: $0 [amd64|arm64|armhf|armv6] [--check]" >&2; exit 2 ;;
esac
if [ "$check" != "--check" ]; then
  export DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}"
  args+=(-Pnocheck)
fi
# -P replaces the profiles rather than adding to them: give them all at once.
profiles=()
for a in "${args[@]}"; do [[ "$a" == -P* ]] && profiles+=("${a#-P}"); done
if [ ${#profiles[@]} -gt 1 ]; then
  mapfile -t args < <(printf '%s\n' "${args[@]}" | grep -v '^-P')
  args+=("-P$(IFS=,; echo "${profiles[*]}")")
fi
export DEB_BUILD_OPTIONS="parallel=$(nproc) ${DEB_BUILD_OPTIONS:-}"
# Compiles go through ccache (CMake reads the launcher from the environment when it configures), so that
# building a package again, as a second CI run on the same machine does, is cache hits. The copy in
# build/deb/<target>/src is the base directory: the paths ccache hashes are relative to it, and Debian's
# -ffile-prefix-map names the same path in every run from one checkout.
if command -v ccache >/dev/null; then
  export CMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER-ccache}
  export CMAKE_C_COMPILER_LAUNCHER=${CMAKE_C_COMPILER_LAUNCHER-ccache}
  export CCACHE_BASEDIR=${CCACHE_BASEDIR-$PWD/$out/src} CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR-1}
fi

(cd "$out/src" && dpkg-buildpackage "${args[@]}") >"$out/build.log" 2>&1 || {
  tail -n 60 "$out/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed; the whole log is $out/build.log" >&2
  exit 1
}
# The test run's summary, when there was one (ctest's own closing line).
grep -E "tests passed|tests failed|Total Test time" "$out/build.log" || true
ls "$out"/fieldgate_*.deb
