#!/usr/bin/env bash
# Checks a built fieldgate .deb without installing it: its fields, its files, lintian, and that its
# program runs `fieldgate check` on the configuration it ships (natively on amd64, under qemu-user for
# the Pi builds). Prints the stripped program's size.
#
#   tests/install/check-package.sh TARGET DEB        TARGET: amd64 | arm64 | armhf | armv6
#
# The Pi packages cannot be installed here (no binfmt_misc, so no foreign chroot); their maintainer
# scripts are the amd64 package's, which tests/install/install-amd64.sh installs, upgrades and purges.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

target=$1
deb=$(realpath "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$deb" "$work/root"
field() { dpkg-deb -f "$deb" "$1"; }

case "$target" in
  amd64) arch=amd64 machine="x86-64" run=() ;;
  arm64) arch=arm64 machine="ARM aarch64" run=(qemu-aarch64 -L /) ;;
  armhf) arch=armhf machine="ARM, EABI5" run=(qemu-arm -L /) ;;
  armv6) arch=armhf machine="ARM, EABI5" run=(qemu-arm -cpu arm1176) ;;
  *) echo "usage: $0 amd64|arm64|armhf|armv6 DEB" >&2; exit 2 ;;
esac
program=$work/root/usr/bin/fieldgate

echo "--- $target: $(basename "$deb")"
check "Package is fieldgate" test "$(field Package)" = fieldgate
check "Architecture is $arch" test "$(field Architecture)" = "$arch"
check "the files are the expected ones (tests/install/contents.txt)" \
  diff -u "$here/contents.txt" <(cd "$work/root" && find . -type f -o -type l | sed 's/^\.//' | sort)
check "the configuration is a conffile" \
  sh -c "dpkg-deb --ctrl-tarfile '$deb' | tar -xO ./conffiles | grep -qx /etc/fieldgate/fieldgate.toml"
check "the program is for $machine" sh -c "file -b '$program' | grep -q '$machine'"
check "the program is stripped" sh -c "file -b '$program' | grep -q ', stripped'"

if [ "$target" = armv6 ]; then
  check "Version ends in +armv6" sh -c "dpkg-deb -f '$deb' Version | grep -q '+armv6$'"
  check "the program is statically linked" sh -c "file -b '$program' | grep -q 'statically linked'"
  # Built as armel: soft-float calling convention, so it needs no VFP. (readelf -A says v7 all the same:
  # libatomic carries ARMv7 variants that it picks at run time only on an ARMv7 core. That the code runs
  # on the ARM1176 is shown by running it, here and in the package build's tests, on qemu's arm1176.)
  check "it is armel code: no VFP registers in its calling convention" \
    sh -c "! readelf -A '$program' | grep -q 'Tag_ABI_VFP_args: VFP registers'"
  check "it depends on no library: only on systemd, for sysusers, and procps, for the unit's /bin/kill" \
    test "$(field Depends)" = "systemd | systemd-standalone-sysusers | systemd-sysusers, procps"
else
  check "it is dynamically linked" sh -c "file -b '$program' | grep -q 'dynamically linked'"
  for lib in libc6 libuv1 libmosquitto1 libsodium23 zlib1g procps; do
    check "Depends names $lib" sh -c "dpkg-deb -f '$deb' Depends | tr ',' '\n' | grep -qx ' *$lib\( .*\)\?'"
  done
  # libstdc++ is linked in by design (docs/benchmarks.md, "Memory").
  check "it loads no shared C++ library" sh -c "! readelf -d '$program' | grep -q 'libstdc++'"
fi
check "Built-Using names the statically linked sources" sh -c "dpkg-deb -f '$deb' Built-Using | grep -q 'gcc-12'"

check "fieldgate version runs" "${run[@]}" "$program" version
check "fieldgate check passes on the shipped configuration" \
  "${run[@]}" "$program" check "$work/root/etc/fieldgate/fieldgate.toml"
bad=$work/bad.toml
printf '[mqtt]\nport = "1883"\n' >"$bad"
check_rejects() {
  local out
  if out=$("${run[@]}" "$program" check "$bad" 2>&1); then return 1; fi
  grep -q "bad.toml:2:8: mqtt.port" <<<"$out"
}
check "fieldgate check rejects a bad file with FILE:LINE:COLUMN: key" check_rejects

if [ "$target" = amd64 ]; then
  check "bash completion knows every command and option" \
    "$here/check-completion.sh" "$program" "$work/root/usr/share/bash-completion/completions/fieldgate"
fi

# lintian: no error and no warning that is not overridden with a reason (debian/fieldgate.lintian-overrides).
lint() {
  local out
  out=$(lintian --fail-on error,warning --tag-display-limit 0 "$deb" 2>&1) || { echo "$out"; return 1; }
  echo "$out" | grep -E '^[EW]:' && return 1
  return 0
}
check "lintian: no error, no warning" lint

size=$(stat -c %s "$program")
echo "size: $target stripped fieldgate $size bytes ($(awk "BEGIN{printf \"%.2f\", $size/1048576}") MiB)"
finish
