#!/usr/bin/env bash
# Unpacks libgpiod v2 (2.1.x, Debian bookworm-backports) into a private prefix, so that one machine builds
# fieldgate against both libgpiod APIs: the system keeps bookworm's libgpiod-dev 1.6 (the two -dev
# packages conflict), and the `dev-gpiod2` CMake preset finds v2 through PKG_CONFIG_PATH.
#
#   scripts/libgpiod2-prefix.sh [PREFIX]      default PREFIX: /opt/libgpiod2
#
# Afterwards: PKG_CONFIG_PATH=PREFIX/usr/lib/<triplet>/pkgconfig finds libgpiod 2.x (the preset sets it
# for /opt/libgpiod2). Test programs find libgpiod.so.3 through the RUNPATH CMake gives them. Idempotent.
set -euo pipefail

prefix=${1:-/opt/libgpiod2}
triplet=$(gcc -dumpmachine)
pc="$prefix/usr/lib/$triplet/pkgconfig/libgpiod.pc"
if [ -f "$pc" ]; then
  echo "libgpiod2-prefix: $pc is there"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E "$0" "$@"
fi

list=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' >"$list"
fi
apt-get update -qq

# apt-get download writes into the current directory as the _apt user: a directory it may write.
work=$(mktemp -d)
chmod 0777 "$work"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -qq libgpiod-dev/bookworm-backports libgpiod3/bookworm-backports)
mkdir -p "$prefix"
for deb in "$work"/*.deb; do
  dpkg -x "$deb" "$prefix"
done

# The .pc file says prefix=/usr; make it point into the private prefix.
sed -i "s|^prefix=.*|prefix=$prefix/usr|" "$pc"
echo "libgpiod2-prefix: libgpiod $(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --modversion libgpiod) in $prefix"
