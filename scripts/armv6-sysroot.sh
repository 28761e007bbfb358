#!/usr/bin/env bash
# Makes the sysroot of the static ARMv6 build (Pi Zero W, Pi 1): Debian 12's armel libraries, whose
# ARMv5TE code runs on the Pi's ARMv6 core, and a static libmosquitto built from Debian's own mosquitto
# source package, since Debian ships libmosquitto only as a shared library.
#
#   scripts/armv6-sysroot.sh [DIR]          (default build/armv6-sysroot; toolchains/armv6-static.cmake)
#
# The .debs are unpacked into DIR with dpkg -x rather than installed as a foreign architecture: armel
# is out of Debian 12's security support (bookworm-security carries amd64, arm64, armhf, i386 and
# ppc64el), so armel packages shared with the host (libssl3, zlib1g) are older than the host's and
# multiarch, which needs one version of each on both architectures, cannot install them side by side.
# The armel packages used are those of bookworm's last armel point release. Needs
# crossbuild-essential-armel, cmake, ninja-build and dpkg-dev (scripts/install-deps.sh armv6).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath -m "${1:-build/armv6-sysroot}")
mirror=${FG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
security_mirror=${FG_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
triplet=arm-linux-gnueabi

# Static archives (.a) and headers; the runtime packages come along only because some -dev packages
# keep their .so links there. The header-only libraries are taken from the same archive.
packages=(
  libuv1-dev libsodium-dev libre2-dev zlib1g-dev libssl-dev libgpiod-dev
  libtomlplusplus-dev libfmt-dev libcli11-dev nlohmann-json3-dev libgtest-dev libgmock-dev
)
# Runtime packages whose files the -dev packages' CMake and pkg-config files name (libfmt.so for fmt's
# CMake targets, even though fieldgate uses fmt header-only).
runtime=(libuv1 libsodium23 libre2-9 zlib1g libssl3 libgpiod2 libfmt9)
stamp="$dir/.complete-$(echo "${packages[*]} ${runtime[*]} $(sha256sum <"$0")" | sha256sum | cut -c1-12)"
if [ -f "$stamp" ]; then
  echo "armv6-sysroot: $dir is ready"
  exit 0
fi
rm -rf "$dir"
mkdir -p "$dir/.debs" "$dir/.src"
# apt drops privileges to _apt for downloads: it must be able to write there.
chmod 0777 "$dir/.debs" "$dir/.src"

# A private apt state that knows armel and source packages, leaving the machine's apt untouched.
apt_dir="$dir/.apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/etc/preferences.d" "$apt_dir/etc/apt.conf.d"
cat >"$apt_dir/etc/sources.list" <<SOURCES
deb [arch=armel signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $security_mirror bookworm-security main
SOURCES
apt_private=(-o Dir::Etc::SourceList="$apt_dir/etc/sources.list" -o Dir::Etc::SourceParts=/nonexistent
  -o Dir::Etc::Preferences="$apt_dir/etc/preferences" -o Dir::Etc::PreferencesParts="$apt_dir/etc/preferences.d"
  -o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" -o Dir::State::Status=/dev/null
  -o APT::Architecture=armel -o APT::Architectures::=armel -o Debug::NoLocking=1)
apt-get "${apt_private[@]}" update -qq

echo "armv6-sysroot: armel packages"
(cd "$dir/.debs" && apt-get "${apt_private[@]}" download -qq "${packages[@]/%/:armel}" "${runtime[@]/%/:armel}")
for deb in "$dir"/.debs/*.deb; do
  dpkg-deb -x "$deb" "$dir"
done
# Without the libX.so development links, -lX can only mean libX.a: CMake's Linux platform file puts
# .so first in the suffixes find_library tries, after any toolchain file could change them. (The
# versioned .so files stay: fmt's CMake package checks that its shared library exists.)
find "$dir/usr/lib/$triplet" -maxdepth 1 -name 'lib*.so' -delete
# Debian names libuv's static archive libuv_a.a (for its libuv-static.pc); libuv.pc's -luv finds it as libuv.a.
ln -s libuv_a.a "$dir/usr/lib/$triplet/libuv.a"

echo "armv6-sysroot: static libmosquitto from Debian's mosquitto source package"
(cd "$dir/.src" && apt-get "${apt_private[@]}" source -qq mosquitto >/dev/null)
src=$(find "$dir/.src" -maxdepth 1 -type d -name 'mosquitto-*' | head -n1)
# Debian's own compiler flags for armel (hardening included), as its package build would use; the
# multiarch include directory holds OpenSSL's configuration header.
cflags="$(DEB_HOST_ARCH=armel DEB_BUILD_MAINT_OPTIONS=hardening=+all dpkg-buildflags --get CFLAGS) -isystem $dir/usr/include/$triplet"
cmake -S "$src" -B "$dir/.src/build" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_C_FLAGS="$cflags" \
  -DCMAKE_SYSTEM_NAME=Linux -DCMAKE_SYSTEM_PROCESSOR=arm \
  -DCMAKE_C_COMPILER=$triplet-gcc -DCMAKE_CXX_COMPILER=$triplet-g++ \
  -DCMAKE_FIND_ROOT_PATH="$dir" -DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY \
  -DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY -DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=NEVER \
  -DCMAKE_LIBRARY_ARCHITECTURE=$triplet -DOPENSSL_ROOT_DIR="$dir/usr" \
  -DWITH_STATIC_LIBRARIES=ON -DWITH_PIC=ON -DWITH_TLS=ON -DWITH_TLS_PSK=ON -DWITH_THREADING=ON \
  -DWITH_BROKER=OFF -DWITH_APPS=OFF -DWITH_CLIENTS=OFF -DWITH_PLUGINS=OFF -DWITH_CJSON=OFF \
  -DWITH_SRV=OFF -DDOCUMENTATION=OFF >"$dir/.src/cmake.log"
cmake --build "$dir/.src/build" --target libmosquitto_static >"$dir/.src/build.log"
install -m 0644 "$dir/.src/build/lib/libmosquitto_static.a" "$dir/usr/lib/$triplet/libmosquitto.a"
install -m 0644 "$src/include/mosquitto.h" "$src/include/mqtt_protocol.h" "$dir/usr/include/"
version=$(sed -n 's/^set (VERSION \([0-9.]*\)).*/\1/p' "$src/CMakeLists.txt")
cat >"$dir/usr/lib/$triplet/pkgconfig/libmosquitto.pc" <<PC
prefix=/usr
libdir=\${prefix}/lib/$triplet
includedir=\${prefix}/include

Name: mosquitto
Description: mosquitto MQTT library (C bindings), static, built from Debian's source package
Version: $version
Libs: -L\${libdir} -lmosquitto
Libs.private: -lssl -lcrypto -pthread
Cflags: -I\${includedir}
PC
# The sources of what the static binary links, for the package's Built-Using field (debian/rules).
source_of() { # source_of DEB: "source (= version)"
  local package version source
  package=$(dpkg-deb -f "$1" Package)
  version=$(dpkg-deb -f "$1" Version)
  source=$(dpkg-deb -f "$1" Source)
  # Source is absent when it is the package's name, and carries a version when it differs (binNMU).
  [[ "$source" =~ ^([^ ]+)\ \((.*)\)$ ]] && { source=${BASH_REMATCH[1]}; version=${BASH_REMATCH[2]}; }
  echo "${source:-$package} (= $version)"
}
{
  for deb in "$dir"/.debs/{libuv1-dev,libsodium-dev,libre2-dev,zlib1g-dev,libssl-dev,libgpiod-dev}_*.deb; do
    source_of "$deb"
  done
  basename "$(find "$dir/.src" -maxdepth 1 -name 'mosquitto_*.dsc')" .dsc | sed 's/_/ (= /; s/$/)/'
} | sort -u | paste -sd, - | sed 's/,/, /g' >"$dir/.built-using"
touch "$stamp"
echo "armv6-sysroot: $dir is ready: $(cat "$dir/.built-using")"
