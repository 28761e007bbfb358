#!/bin/sh
# The gpio-sim VM's /init (busybox sh, PID 1). Mounts what the tests need, loads configfs and gpio-sim,
# runs each line of /fg-vm/commands and prints its result between markers that tests/gpio-vm/run.sh reads
# from the serial console, then powers off. Nothing here may wait for input: a hang is ended by the
# per-command timeout here and by the host's timeout around the whole VM.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
# Plain gtest output on the serial console, which run.sh copies into the CI log.
export GTEST_COLOR=no
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /root
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
insmod /fg-vm/configfs.ko
mount -t configfs configfs /sys/kernel/config
insmod /fg-vm/gpiosim.ko
ip link set lo up
. /fg-vm/settings

echo "@@FG-VM UP kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) cpu, gpio-sim $([ -d /sys/kernel/config/gpio-sim ] && echo yes || echo MISSING)"
n=0
while IFS= read -r cmd <&3; do
  n=$((n + 1))
  echo "@@FG-VM BEGIN $n $cmd"
  cd /tmp
  # gtest programs write their XML report here; other programs ignore the variable.
  GTEST_OUTPUT=xml:/tmp/fg-vm-$n.xml timeout -s KILL "$FG_VM_TIMEOUT" sh -c "$cmd" </dev/null 2>&1
  rc=$?
  [ $rc -eq 137 ] && echo "@@FG-VM TIMEOUT $n after $FG_VM_TIMEOUT s"
  if [ -f /tmp/fg-vm-$n.xml ]; then
    echo "@@FG-VM XML $n"
    cat /tmp/fg-vm-$n.xml
    echo "@@FG-VM XML-END $n"
  fi
  echo "@@FG-VM END $n $rc"
done 3< /fg-vm/commands
echo "@@FG-VM DONE $n"
sync
poweroff -f
