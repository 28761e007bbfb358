#!/usr/bin/env bash
# Install test of the amd64 package in a fresh minimal Debian 12 root (debootstrap --variant=minbase, in
# a chroot), as a user would do it on a new machine: apt install ./fieldgate_<ver>_amd64.deb.
#
#   tests/install/install-amd64.sh build/deb/amd64/fieldgate_<ver>_amd64.deb
#
# Needs root (debootstrap, chroot, unshare), debootstrap, and Debian's archive. The bootstrapped root is
# cached as build/install-test/bookworm-minbase.tar (delete it to bootstrap afresh); the packages apt
# downloads into the root are cached in build/install-test/archives.
#
# What a chroot cannot show: systemd is not running in it, so the unit is enabled (its symlink is made)
# but not started; the maintainer scripts skip start and restart, as Debian's do in any chroot. The
# daemon's start is checked by running the unit's ExecStart as the unit's user, against a mosquitto
# installed from Debian, in a network namespace of its own (so port 1883 is free and nothing leaves it).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

deb=$(realpath "$1")
mirror=${FG_DEBIAN_MIRROR:-http://deb.debian.org/debian}
work=$(realpath -m "$here/../../build/install-test")
root=$work/root
mkdir -p "$work/archives"

cleanup() {
  for m in "$root/var/cache/apt/archives" "$root/proc" "$root/dev/pts" "$root/dev"; do
    mountpoint -q "$m" && umount -l "$m"
  done
  return 0
}
trap cleanup EXIT
cleanup
rm -rf "$root"

started=$SECONDS
if [ ! -f "$work/bookworm-minbase.tar" ]; then
  echo "--- debootstrap bookworm minbase (cached afterwards)"
  debootstrap --variant=minbase --cache-dir="$work/archives" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -20 "$work/debootstrap.log"; exit 1; }
  tar -C "$root" -cf "$work/bookworm-minbase.tar" .
else
  mkdir -p "$root" && tar -C "$root" -xf "$work/bookworm-minbase.tar"
fi
echo "--- root ready in $((SECONDS - started)) s"

mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount --bind /dev/pts "$root/dev/pts"
mount --bind "$work/archives" "$root/var/cache/apt/archives"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# What the Debian installer (or a Raspberry Pi OS image) writes and debootstrap does not: without it
# "localhost", the broker of the default configuration, does not resolve.
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
cat >"$root/etc/apt/sources.list" <<SOURCES
deb $mirror bookworm main
deb $mirror bookworm-updates main
SOURCES
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
apt_in_root() { in_root apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@"; }
in_root apt-get update -q >/dev/null

# --- the previous version, then this one over it (the upgrade), all from one build: the previous one is
# this package with a lower version (no earlier release exists yet), so the upgrade runs this package's
# maintainer scripts exactly as a real upgrade would.
version=$(dpkg-deb -f "$deb" Version)
previous_version="${version%%+*}~previous"
mkdir -p "$work/previous"
rm -rf "$work/previous/tree" && dpkg-deb -R "$deb" "$work/previous/tree"
sed -i "s/^Version: .*/Version: $previous_version/" "$work/previous/tree/DEBIAN/control"
dpkg-deb -b "$work/previous/tree" "$root/tmp/fieldgate_previous.deb" >/dev/null
cp "$deb" "$root/tmp/fieldgate.deb"

echo "--- apt install ./fieldgate (version $previous_version)"
check "apt installs the package and its dependencies" apt_in_root install /tmp/fieldgate_previous.deb

check "user fieldgate exists, home /var/lib/fieldgate, no login shell" \
  sh -c "chroot '$root' getent passwd fieldgate | grep -Eq '^fieldgate:x:[0-9]+:[0-9]+:[^:]*:/var/lib/fieldgate:/usr/sbin/nologin$'"
check "group gpio created (Debian has none)" in_root getent group gpio
check "fieldgate is in dialout and gpio" \
  sh -c "chroot '$root' id -nG fieldgate | tr ' ' '\n' | sort | tr '\n' ' ' | grep -qx 'dialout fieldgate gpio '"
check "the unit is installed" test -f "$root/lib/systemd/system/fieldgate.service"
check "the unit is enabled" sh -c "[ \"\$(chroot '$root' systemctl is-enabled fieldgate.service)\" = enabled ]"
state_dir_is() { # the owner and mode, as names of the root's own users
  local got
  got=$(chroot "$root" stat -c '%U:%G %a' /var/lib/fieldgate) && [ "$got" = "$1" ] || { echo "got: $got"; return 1; }
}
check "the state directory exists: fieldgate, 0750" state_dir_is "fieldgate:fieldgate 750"
check "/etc/fieldgate/fieldgate.toml is a conffile" \
  sh -c "chroot '$root' dpkg-query -W -f='\${Conffiles}' fieldgate | grep -q ' /etc/fieldgate/fieldgate.toml '"
check "fieldgate check passes on the installed config, as the fieldgate user" \
  in_root runuser -u fieldgate -- fieldgate check /etc/fieldgate/fieldgate.toml
check "the man pages are installed" \
  test -f "$root/usr/share/man/man1/fieldgate.1.gz" -a -f "$root/usr/share/man/man5/fieldgate.toml.5.gz"
check "bash completion is installed" test -f "$root/usr/share/bash-completion/completions/fieldgate"

verify_unit() {
  local out
  out=$(in_root systemd-analyze verify /lib/systemd/system/fieldgate.service 2>&1) || { echo "$out"; return 1; }
  # verify exits 0 on unknown keys and other warnings: any output is a failure (test-rig.md).
  [ -z "$out" ] || { echo "$out"; return 1; }
}
check "systemd-analyze verify: no error, no warning" verify_unit
security_level() {
  local out
  out=$(in_root systemd-analyze security --offline=true --threshold=17 /lib/systemd/system/fieldgate.service 2>&1) ||
    { echo "$out" | tail -3; return 1; }
  echo "$out" | grep "Overall exposure level"
}
check "systemd-analyze security --offline=true: exposure at or below 1.7" security_level
in_root systemd-analyze security --offline=true /lib/systemd/system/fieldgate.service 2>&1 | grep "Overall exposure level" | sed 's/^/        /'

# --- the service's first start, with the config as installed: no devices, the broker on localhost.
echo "--- fieldgate run with the installed config, against mosquitto on localhost"
apt_in_root install --no-install-recommends mosquitto mosquitto-clients >/dev/null
first_start() {
  # As systemd would for the unit (RuntimeDirectory=fieldgate): the control socket's directory.
  install -d -o "$(chroot "$root" id -u fieldgate)" -g "$(chroot "$root" id -g fieldgate)" "$root/run/fieldgate"
  rm -f "$root/tmp/status.txt" "$root/tmp/run.log"
  unshare --net -- sh -c "
    ip link set lo up
    chroot '$root' sh -c '
      mosquitto -p 1883 >/tmp/mosquitto.log 2>&1 &
      broker=\$!
      sleep 0.5
      timeout 20 mosquitto_sub -h localhost -p 1883 -v -t \"fieldgate/+/status\" -C 2 >/tmp/status.txt &
      sub=\$!
      sleep 0.5
      # As the unit runs it: its user and groups, its ExecStart. setpriv execs the daemon itself (runuser
      # would stay its parent), so the SIGTERM below reaches the daemon as systemctl stop would.
      setpriv --reuid=fieldgate --regid=fieldgate --init-groups -- \\
        \$(sed -n \"s/^ExecStart=//p\" /lib/systemd/system/fieldgate.service) >/tmp/run.log 2>&1 &
      daemon=\$!
      sleep 3
      kill -TERM \$daemon
      wait \$daemon
      echo \"exit status \$?\" >>/tmp/run.log
      wait \$sub
      kill \$broker
      cat /tmp/status.txt
      grep -q \" online\$\" /tmp/status.txt && grep -q \" offline\$\" /tmp/status.txt &&
        grep -qx \"exit status 0\" /tmp/run.log
    '
  " || { echo "--- its log:"; cat "$root/tmp/run.log"; return 1; }
}
check "the service starts with the installed config: online, then offline and exit 0 at SIGTERM" first_start

# --- upgrade over the previous version with a changed conffile
echo "--- upgrade to $version with a changed conffile"
sed -i 's/^#log_level = "info"/log_level = "debug"  # changed by the test/' "$root/etc/fieldgate/fieldgate.toml"
check "the conffile was changed" grep -q "changed by the test" "$root/etc/fieldgate/fieldgate.toml"
check "apt upgrades to this version" apt_in_root install /tmp/fieldgate.deb
check "the upgrade left version $version installed" \
  sh -c "[ \"\$(chroot '$root' dpkg-query -W -f='\${Version}' fieldgate)\" = '$version' ]"
check "the changed conffile is kept" grep -q "changed by the test" "$root/etc/fieldgate/fieldgate.toml"
check "no .dpkg-new or .dpkg-dist left beside it" sh -c "! ls '$root'/etc/fieldgate/*.dpkg-* 2>/dev/null"
check "the unit is still enabled" sh -c "[ \"\$(chroot '$root' systemctl is-enabled fieldgate.service)\" = enabled ]"
check "postinst restarts the unit on upgrade (when systemd runs)" \
  grep -q "deb-systemd-invoke \$_dh_action 'fieldgate.service'" "$root/var/lib/dpkg/info/fieldgate.postinst"

# --- remove keeps the configuration and the state; purge removes what the package made
echo "--- remove, then purge"
mkdir -p "$root/var/lib/fieldgate/quorum" && echo state >"$root/var/lib/fieldgate/quorum/replica.log"
check "apt remove" apt_in_root remove fieldgate
check "remove keeps the state directory" test -f "$root/var/lib/fieldgate/quorum/replica.log"
check "remove keeps the configuration" test -f "$root/etc/fieldgate/fieldgate.toml"
check "remove takes the program" test ! -e "$root/usr/bin/fieldgate"
check "apt purge" apt_in_root purge fieldgate
check "purge removes the state directory" test ! -e "$root/var/lib/fieldgate"
check "purge removes /etc/fieldgate" test ! -e "$root/etc/fieldgate"
check "purge removes the unit and its enablement" \
  sh -c "test ! -e '$root/lib/systemd/system/fieldgate.service' && ! ls '$root'/etc/systemd/system/*/fieldgate.service 2>/dev/null"
check "purge removes the sysusers and tmpfiles files" \
  test ! -e "$root/usr/lib/sysusers.d/fieldgate.conf" -a ! -e "$root/usr/lib/tmpfiles.d/fieldgate.conf"
check "dpkg forgets the package" sh -c "! chroot '$root' dpkg-query -W fieldgate 2>/dev/null"

echo "--- install test done in $((SECONDS - started)) s"
finish
