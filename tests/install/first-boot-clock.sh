#!/usr/bin/env bash
# First boot of a Pi without a real-time clock: the installed daemon, with replication configured and a
# new (empty) state directory, started while the wall clock says 1970. It must serve at once (publish its
# retained "online" status: serial and GPIO do not wait for the clock) and keep running, the register
# waiting for a plausible clock instead of the daemon refusing to start (issue 14, "First boot right").
#
#   tests/install/first-boot-clock.sh build/deb/amd64/fieldgate_<ver>_amd64.deb
#
# The clock is faked for the daemon alone with Debian's libfaketime (LD_PRELOAD; the monotonic clock
# stays real), in the root that tests/install/install-amd64.sh bootstraps (its cached tarball is reused).
# Needs root, debootstrap and Debian's archive (as install-amd64.sh). The daemon must also say once that
# the register waits for the clock, and leave the new state directory alone until then.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

deb=$(realpath "$1")
mirror=${FG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(realpath -m "$here/../../build/install-test")
root=$work/clock-root
mkdir -p "$work/archives"
cleanup() {
  for m in "$root/var/cache/apt/archives" "$root/proc" "$root/dev/pts" "$root/dev"; do
    mountpoint -q "$m" && umount -l "$m"
  done
  return 0
}
trap cleanup EXIT
cleanup
rm -rf "$root" && mkdir -p "$root"
if [ ! -f "$work/bookworm-minbase.tar" ]; then
  debootstrap --variant=minbase --cache-dir="$work/archives" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1
  tar -C "$root" -cf "$work/bookworm-minbase.tar" .
else
  tar -C "$root" -xf "$work/bookworm-minbase.tar"
fi
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount --bind "$work/archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
in_root apt-get update -q >/dev/null
cp "$deb" "$root/tmp/fieldgate.deb"
in_root apt-get install -y -q /tmp/fieldgate.deb mosquitto mosquitto-clients faketime >/dev/null 2>&1

# A site of one member (the smallest valid [replication]), with a new state directory.
in_root fieldgate keygen /etc/fieldgate/site.key
chroot "$root" chown root:fieldgate /etc/fieldgate/site.key
chmod 0640 "$root/etc/fieldgate/site.key"
cat >>"$root/etc/fieldgate/fieldgate.toml" <<'TOML'

[replication]
node = 1
listen = "127.0.0.1:7400"
key_file = "/etc/fieldgate/site.key"
TOML
rm -rf "$root/var/lib/fieldgate/quorum"
check "the configuration with [replication] passes check" \
  in_root setpriv --reuid=fieldgate --regid=fieldgate --init-groups -- fieldgate check /etc/fieldgate/fieldgate.toml
install -d -o "$(chroot "$root" id -u fieldgate)" -g "$(chroot "$root" id -g fieldgate)" "$root/run/fieldgate"

first_boot() {
  rm -f "$root/tmp/status.txt" "$root/tmp/run.log"
  unshare --net -- sh -c "
    ip link set lo up
    chroot '$root' sh -c '
      mosquitto -p 1883 >/tmp/mosquitto.log 2>&1 &
      broker=\$!
      sleep 0.5
      timeout 20 mosquitto_sub -h localhost -p 1883 -v -t \"fieldgate/+/status\" -C 1 >/tmp/status.txt &
      sub=\$!
      setpriv --reuid=fieldgate --regid=fieldgate --init-groups -- env \\
        FAKETIME=\"@1970-01-01 00:00:42\" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_DISABLE_SHM=1 \\
        LD_PRELOAD=/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \\
        fieldgate run --config /etc/fieldgate/fieldgate.toml >>/tmp/run.log 2>&1 &
      # Appended (O_APPEND): with a plain >, the daemon writes at its own offset, over the lines added below.
      daemon=\$!
      sleep 5
      # Still running after 5 s: it did not refuse the clock and exit.
      kill -0 \$daemon && echo \"running after 5 s\" >>/tmp/run.log
      kill -TERM \$daemon 2>/dev/null
      wait \$daemon
      echo \"exit status \$?\" >>/tmp/run.log
      wait \$sub
      kill \$broker
      cat /tmp/status.txt
      grep -q \" online\$\" /tmp/status.txt && grep -qx \"running after 5 s\" /tmp/run.log &&
        grep -qx \"exit status 0\" /tmp/run.log &&
        [ \"\$(grep -c \"waiting for the wall clock to be set\" /tmp/run.log)\" = 1 ] &&
        ! grep -q \"replication: member\" /tmp/run.log && [ ! -e /var/lib/fieldgate/quorum ]
    '
  " || { echo "--- its log:"; cat "$root/tmp/run.log"; return 1; }
}
check "with the clock at 1970 and a new state directory, the daemon serves at once and keeps running" first_boot
finish
