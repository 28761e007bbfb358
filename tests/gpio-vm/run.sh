#!/usr/bin/env bash
# Runs programs on a real Linux kernel with gpio-sim: Debian's kernel in qemu (TCG, no KVM needed, no
# network), a busybox initramfs holding configfs.ko, gpiosim.ko, the programs, their shared libraries and
# mosquitto. Exits 0 when every program exited 0 in the guest.
#
#   tests/gpio-vm/run.sh [options] [--] 'PROGRAM [ARGS...]' ...
#
# Each argument is one command line for the guest's sh; its first word is a program on this machine,
# copied into the guest at the same absolute path with what `ldd` lists (so paths compiled into a test,
# like the fieldgate binary's, hold there too). Options:
#   --file PATH     also put PATH (a file or folder) at the same path in the guest (configs, scripts)
#   --out DIR       where console.log and each gtest program's XML report go (default build/gpio-vm/out)
#   --timeout S     a command's time limit in the guest (default 300); the VM's is the sum plus 120 s
#   --memory MB     guest memory (default 1024)
#
# In the guest each command runs as `sh -c`, in /tmp, with PATH holding /usr/sbin (mosquitto) and the
# busybox tools, configfs mounted and gpio-sim loaded. See docs/testing.md.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

out=$root/build/gpio-vm/out
timeout_s=300
memory=1024
files=()
commands=()
while [ $# -gt 0 ]; do
  case "$1" in
    --file) files+=("$(realpath "$2")"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --memory) memory=$2; shift 2 ;;
    --) shift; commands+=("$@"); break ;;
    -*) echo "usage: $0 [--file PATH] [--out DIR] [--timeout S] [--memory MB] [--] 'PROGRAM [ARGS]'..." >&2; exit 2 ;;
    *) commands+=("$1"); shift ;;
  esac
done
[ ${#commands[@]} -gt 0 ] || { echo "gpio-vm: no program to run" >&2; exit 2; }

log() { echo "gpio-vm: $*" >&2; }
for tool in qemu-system-x86_64 busybox cpio ldd; do
  command -v "$tool" >/dev/null || { log "$tool is missing: run scripts/install-deps.sh gpio-vm"; exit 2; }
done
kernel=$("$here/kernel.sh" "$root/build/gpio-vm")

mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d "$root/build/gpio-vm/initramfs.XXXXXX")
initramfs=$stage.cpio  # beside the stage, not shared: two runs at once (v1 and v2 builds) do not mix
trap 'rm -rf "$stage" "$initramfs"' EXIT

# The guest's tree is merged-/usr like the host's, so a library path ldd prints (/lib/x86_64-linux-gnu/...)
# and its /usr twin are the same file in the guest too.
mkdir -p "$stage"/usr/{bin,sbin,lib,lib64} "$stage"/{etc,fg-vm,proc,sys,dev,tmp,run,root}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$stage/$d"; done
cp "$(command -v busybox)" "$stage/usr/bin/busybox"
ln -s busybox "$stage/usr/bin/sh"
cp "$here/init.sh" "$stage/init"
cp "$kernel/configfs.ko" "$kernel/gpiosim.ko" "$stage/fg-vm/"
printf 'root:x:0:0:root:/root:/bin/sh\nmosquitto:x:100:100::/tmp:/bin/false\n' > "$stage/etc/passwd"
printf 'root:x:0:\nmosquitto:x:100:\ngpio:x:101:\ndialout:x:102:\n' > "$stage/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' > "$stage/etc/hosts"
printf 'passwd: files\ngroup: files\nhosts: files\n' > "$stage/etc/nsswitch.conf"
echo "FG_VM_TIMEOUT=$timeout_s" > "$stage/fg-vm/settings"

# Copies one file to the same path in the guest. Programs and libraries lose their debug sections
# (the initramfs is unpacked into guest memory; symbols stay for backtraces).
add_file() {
  local src=$1 dst=$stage$1
  [ -e "$dst" ] && return 0
  mkdir -p "$(dirname "$dst")"
  if file_is_elf "$src"; then
    objcopy --strip-debug "$src" "$dst" 2>/dev/null || cp -L "$src" "$dst"
    chmod --reference="$src" "$dst"
  else
    cp -L "$src" "$dst"
  fi
}
file_is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }
# A program and every library ldd finds for it (ldd resolves RUNPATHs, such as a libgpiod v2 prefix's).
add_program() {
  local program=$1 lib
  add_file "$program"
  while read -r lib; do
    add_file "$lib"
  done < <(ldd "$program" 2>/dev/null | grep -o '/[^ ]*' | sort -u)
}

# mosquitto and its clients for the end-to-end tests; the gpiod tools (v1) for a busy line held by another
# process and for looking around in the guest.
for tool in /usr/sbin/mosquitto /usr/bin/mosquitto_sub /usr/bin/mosquitto_pub /usr/bin/gpioinfo \
  /usr/bin/gpioset /usr/bin/gpioget /usr/bin/gpiomon; do
  [ -x "$tool" ] && add_program "$tool"
done
: > "$stage/fg-vm/commands"
for cmd in "${commands[@]}"; do
  read -r program rest <<< "$cmd"
  program=$(realpath "$(type -P "$program" || echo "$program")")
  [ -x "$program" ] || { log "not a program: $program"; exit 2; }
  add_program "$program"
  echo "$program${rest:+ $rest}" >> "$stage/fg-vm/commands"
done
for f in "${files[@]}"; do
  while IFS= read -r -d '' path; do
    if file_is_elf "$path" && [ -x "$path" ]; then add_program "$path"; else add_file "$path"; fi
  done < <(find "$f" -type f -print0)
done

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet) > "$initramfs"
log "initramfs $(( $(stat -c %s "$initramfs") / 1024 / 1024 )) MiB, ${#commands[@]} command(s), kernel $(basename "$kernel")"

# No network device at all (-nic none); the guest's only output is its serial console, on our stdout,
# line by line as it comes (sed -u: a plain `tr` would hold it in its buffer until the VM exits).
# no_timer_check: on a loaded host the emulated CPU is too slow for the kernel's boot-time check of the
# IO-APIC timer, which then panics ("IO-APIC + timer doesn't work"); the timer itself works.
vm_timeout=$(( timeout_s * ${#commands[@]} + 120 ))
console=$out/console.log
started=$SECONDS
set +e
timeout -k 10 "$vm_timeout" qemu-system-x86_64 -accel tcg -cpu max -m "$memory" -smp 1 \
  -display none -monitor none -serial stdio -nic none -no-reboot \
  -kernel "$kernel/vmlinuz" -initrd "$initramfs" \
  -append "console=ttyS0 panic=-1 quiet loglevel=3 no_timer_check rdinit=/init" </dev/null |
  sed -u 's/\r//g' | tee "$console"
vm_rc=${PIPESTATUS[0]}
set -e
log "VM ran $((SECONDS - started)) s (qemu exit $vm_rc)"

# Each command's result from its markers; XML reports into $out/<n>-<program>.xml.
awk -v out="$out" '
  /^@@FG-VM BEGIN / { n = $3; name = $4; sub(".*/", "", name) }
  /^@@FG-VM XML-END / { close(file); file = ""; next }
  file != "" { print > file; next }
  /^@@FG-VM XML / { file = out "/" $3 "-" name ".xml" }
' "$console"

failed=0
passed=0
for i in $(seq 1 ${#commands[@]}); do
  rc=$(sed -n "s/^@@FG-VM END $i \([0-9]*\)\$/\1/p" "$console" | tail -1)
  cmd=${commands[$((i - 1))]}
  if [ -z "$rc" ]; then
    log "FAILED (no result: the guest hung or crashed before it finished): $cmd"
    failed=$((failed + 1))
  elif [ "$rc" != 0 ]; then
    log "FAILED (exit $rc): $cmd"
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
done
if [ "$vm_rc" = 124 ] || [ "$vm_rc" = 137 ]; then
  log "the VM was killed after $vm_timeout s"
fi
grep -q '^@@FG-VM DONE' "$console" || { log "the guest did not reach its end (see $console)"; failed=$((failed + 1)); }
log "$passed of ${#commands[@]} programs passed in the VM; console log and XML reports in $out"
[ "$failed" -eq 0 ]
