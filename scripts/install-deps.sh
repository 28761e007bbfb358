#!/usr/bin/env bash
# Installs everything fieldgate needs to build, test and benchmark, from Debian 12 (bookworm) packages.
# Idempotent: apt-get skips what is already there.
#
#   scripts/install-deps.sh          host build, tests, benchmarks
#   scripts/install-deps.sh arm64    the above plus the arm64 cross set (Pi 3/4/5, 64-bit OS) and qemu-user
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive

# The -dev libraries the code links against; the same list is installed for the cross architecture.
libs=(libuv1-dev libmosquitto-dev libgpiod-dev libsystemd-dev libsodium-dev libre2-dev libtomlplusplus-dev libfmt-dev zlib1g-dev)

host=(
  build-essential cmake ninja-build pkg-config git lld
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev
  mosquitto mosquitto-clients gpiod socat
  clang libclang-rt-14-dev
  # The quorum benchmark's comparison: a 3-member etcd cluster, driven through its own gRPC API.
  etcd-server libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  # The sensor-node firmware: the AVR toolchain, simavr for its end-to-end tests (libsimavr needs libelf),
  # and avrdude to flash a real board (docs/firmware.md).
  gcc-avr binutils-avr avr-libc simavr libsimavr-dev libelf-dev avrdude
  "${libs[@]}"
)

cross=()
if [ "${1:-}" = "arm64" ]; then
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    dpkg --add-architecture arm64
  fi
  cross=(crossbuild-essential-arm64 qemu-user libgtest-dev:arm64 libgmock-dev:arm64)
  for l in "${libs[@]}"; do cross+=("$l:arm64"); done
elif [ -n "${1:-}" ]; then
  echo "usage: $0 [arm64]" >&2
  exit 2
fi

apt-get update -qq
apt-get install -y -qq --no-install-recommends "${host[@]}" "${cross[@]}" >/dev/null
echo "install-deps: done (${1:-host})"
