#!/usr/bin/env bash
# Prepares the gpio-sim VM's kernel side from Debian packages and prints the directory that holds it:
#   vmlinuz      Debian's kernel image (linux-image-<abi>, the ABI of the installed linux-headers-amd64)
#   configfs.ko  from the same package (Debian builds configfs as a module)
#   gpiosim.ko   gpio-sim built out of tree from linux-source-6.1 (Debian's kernel does not build it)
# The result is cached under build/gpio-vm/kernel-<abi>-<version>/: a second run prints it at once.
#
#   tests/gpio-vm/kernel.sh [CACHE_ROOT]      (default: build/gpio-vm in the source tree)
#
# Needs the packages of `scripts/install-deps.sh gpio-vm` (linux-headers-amd64, linux-source-6.1).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache_root=${1:-$here/../../build/gpio-vm}
mkdir -p "$cache_root"
cache_root=$(cd "$cache_root" && pwd)

log() { echo "gpio-vm/kernel: $*" >&2; }
die() { log "$*"; exit 1; }

# The ABI ("6.1.0-57-amd64") and version ("6.1.192-3") the headers metapackage points at, so the image,
# the headers and the module agree (the module's vermagic must be the image's).
depends=$(dpkg-query -W -f '${Depends}' linux-headers-amd64 2>/dev/null) ||
  die "linux-headers-amd64 is not installed: run scripts/install-deps.sh gpio-vm"
if [[ $depends =~ linux-headers-([0-9][^ ]*-amd64)\ \(=\ ([^\)]+)\) ]]; then
  abi=${BASH_REMATCH[1]}
  version=${BASH_REMATCH[2]}
else
  die "cannot read the kernel ABI from linux-headers-amd64's Depends: '$depends'"
fi
headers=/usr/src/linux-headers-$abi
[ -d "$headers" ] || die "$headers is missing (linux-headers-$abi not installed)"
source_tar=/usr/src/linux-source-${abi%%.0-*}.tar.xz
[ -f "$source_tar" ] || die "$source_tar is missing (linux-source-${abi%%.0-*} not installed)"

out=$cache_root/kernel-$abi-$version
if [ -f "$out/vmlinuz" ] && [ -f "$out/configfs.ko" ] && [ -f "$out/gpiosim.ko" ]; then
  echo "$out"
  exit 0
fi
work=$(mktemp -d "$cache_root/kernel-work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 1. The image package, downloaded (not installed: the host keeps its own kernel). apt's download sandbox
# user must be able to write the folder.
log "downloading linux-image-$abi $version"
chmod 0777 "$work"
(cd "$work" && apt-get download -qq "linux-image-$abi=$version" 2>&1 | grep -v 'unsandboxed as root' >&2 || true)
deb=$(ls "$work"/linux-image-"$abi"_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || die "apt-get download linux-image-$abi=$version failed"
mkdir "$work/image"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/image" --wildcards \
  "./boot/vmlinuz-$abi" "./lib/modules/$abi/kernel/fs/configfs/configfs.ko*"
configfs=$(ls "$work"/image/lib/modules/"$abi"/kernel/fs/configfs/configfs.ko*)
case "$configfs" in
  *.xz) xz -dc "$configfs" > "$work/configfs.ko" ;;
  *) cp "$configfs" "$work/configfs.ko" ;;
esac

# 2. gpio-sim out of tree: its source, gpiolib.h, and the interrupt simulator it needs (CONFIG_IRQ_SIM is
# off in Debian's kernel, so irq_sim.c is linked into the module). irq_to_desc is not exported to modules:
# generic_handle_irq(irq) does the same as handle_simple_irq(irq_to_desc(irq)) for this simple handler.
log "building gpiosim.ko from $source_tar against $headers"
top=$(basename "$source_tar" .tar.xz)
tar -xJf "$source_tar" -C "$work" "$top/drivers/gpio/gpio-sim.c" "$top/drivers/gpio/gpiolib.h" \
  "$top/kernel/irq/irq_sim.c"
mkdir "$work/module"
cp "$work/$top/drivers/gpio/gpio-sim.c" "$work/$top/drivers/gpio/gpiolib.h" "$work/module/"
sed 's/handle_simple_irq(irq_to_desc(irqnum))/generic_handle_irq(irqnum)/' \
  "$work/$top/kernel/irq/irq_sim.c" > "$work/module/irq_sim.c"
grep -q 'generic_handle_irq(irqnum)' "$work/module/irq_sim.c" ||
  die "irq_sim.c of $top no longer has the line this script patches: update kernel.sh"
printf 'obj-m := gpiosim.o\ngpiosim-y := gpio-sim.o irq_sim.o\n' > "$work/module/Kbuild"
make -s -C "$headers" M="$work/module" modules >&2 || die "building gpiosim.ko failed"

mkdir -p "$out"
cp "$work/image/boot/vmlinuz-$abi" "$out/vmlinuz"
cp "$work/configfs.ko" "$work/module/gpiosim.ko" "$out/"
log "cached in $out"
echo "$out"
