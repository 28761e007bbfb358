#!/usr/bin/env bash
# Installs everything fieldgate needs to build, test and benchmark, from Debian 12 (bookworm) packages.
# Idempotent: apt-get skips what is already there.
#
#   scripts/install-deps.sh          host build, tests, benchmarks
#   scripts/install-deps.sh arm64    the above plus the arm64 cross set (Pi 3/4/5, 64-bit OS) and qemu-user
#   scripts/install-deps.sh armhf    ... the armhf cross set (Pi 2/3/4, 32-bit OS) and qemu-user
#   scripts/install-deps.sh armv6    ... the armel cross compiler for the static ARMv6 build (Pi Zero W,
#                                    Pi 1); its libraries are unpacked by scripts/armv6-sysroot.sh
#   scripts/install-deps.sh pkg      ... what builds, checks and install-tests the Debian packages
#   scripts/install-deps.sh gpio-vm  ... what builds and boots the gpio-sim VM (tests/gpio-vm): kernel
#                                    headers and source for gpiosim.ko, qemu, busybox, cpio
# Sets combine: scripts/install-deps.sh arm64 armhf armv6 pkg
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive

# The -dev libraries the code links against; the same list is installed for the cross architecture.
libs=(libuv1-dev libmosquitto-dev libgpiod-dev libsystemd-dev libsodium-dev libre2-dev libtomlplusplus-dev libfmt-dev zlib1g-dev)

host=(
  build-essential cmake ninja-build pkg-config git lld ccache
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev
  mosquitto mosquitto-clients gpiod socat
  # tests/install/check-completion.sh, run by ctest: the completion must match `fieldgate --help`.
  bash-completion
  clang libclang-rt-14-dev
  # The quorum benchmark's comparison: a 3-member etcd cluster, driven through its own gRPC API.
  etcd-server libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # The sensor-node firmware: the AVR toolchain, simavr for its end-to-end tests (libsimavr needs libelf),
  # and avrdude to flash a real board (docs/firmware.md).
  gcc-avr binutils-avr avr-libc simavr libsimavr-dev libelf-dev avrdude
  "${libs[@]}"
)

cross=()
for set in "$@"; do
  case "$set" in
    arm64 | armhf)
      if ! dpkg --print-foreign-architectures | grep -qx "$set"; then
        dpkg --add-architecture "$set"
      fi
      # pkgconf of the target architecture brings /usr/bin/<triplet>-pkg-config, which debhelper passes
      # to CMake as PKG_CONFIG_EXECUTABLE in a cross build.
      cross+=("crossbuild-essential-$set" qemu-user "pkgconf:$set" "libgtest-dev:$set" "libgmock-dev:$set")
      for l in "${libs[@]}"; do cross+=("$l:$set"); done
      ;;
    armv6) cross+=(crossbuild-essential-armel qemu-user dpkg-dev) ;;
    pkg) cross+=(debhelper dpkg-dev lintian pandoc bash-completion debootstrap iproute2 file) ;;
    # The kernel image itself is downloaded, not installed, by tests/gpio-vm/kernel.sh (the headers'
    # version); binutils' objcopy strips the programs copied into the initramfs.
    gpio-vm) cross+=(linux-headers-amd64 linux-source-6.1 qemu-system-x86 busybox-static cpio kmod xz-utils binutils make bc) ;;
    *)
      echo "usage: $0 [arm64] [armhf] [armv6] [pkg] [gpio-vm]" >&2
      exit 2
      ;;
  esac
done

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${host[@]}" "${cross[@]}" >/dev/null
echo "install-deps: done (host${*:+ $*})"
