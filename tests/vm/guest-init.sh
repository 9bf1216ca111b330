#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the initramfs built by tests/vm/vm.sh (busybox sh, PID 1).
# Loads the virtio/9p modules listed in /modules.order, mounts the host root
# (9p tag hostroot, read-only) and the writable results share (tag out),
# binds /proc, /sys, /dev into the host root, mounts tracefs and debugfs
# there, runs /tmp/kslub-out/.run.sh (written by vm.sh) chrooted into it,
# saves dmesg, prints "KSLUB-VM: exit=<status>" and powers the machine off.
# The harness reads the lines starting with "KSLUB-VM: " from the console.

bb=/bin/busybox
R=/newroot
OUT=/tmp/kslub-out

$bb mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

halt()
{
	$bb sync
	$bb poweroff -f
	while :; do $bb sleep 1; done
}

fail()
{
	echo "KSLUB-VM: init-failed: $*"
	halt
}

$bb mount -t proc proc /proc || fail "mount /proc"
$bb mount -t sysfs sysfs /sys || fail "mount /sys"

for m in $($bb cat /modules.order); do
	$bb insmod "/lib/modules/$m" || fail "insmod $m"
done

opts=trans=virtio,version=9p2000.L,msize=262144
$bb mount -t 9p -o "$opts,ro,cache=loose" hostroot $R || fail "mount 9p hostroot"
for d in proc sys dev; do
	$bb mount -o rbind /$d $R/$d || fail "bind /$d"
done
$bb mount -t tracefs tracefs $R/sys/kernel/tracing || fail "mount tracefs"
$bb mount -t debugfs debugfs $R/sys/kernel/debug || fail "mount debugfs"
$bb mkdir -p $R/dev/shm $R/dev/pts
# What udev would add: bash's process substitution needs /dev/fd.
$bb ln -sfn /proc/self/fd $R/dev/fd
$bb ln -sfn /proc/self/fd/0 $R/dev/stdin
$bb ln -sfn /proc/self/fd/1 $R/dev/stdout
$bb ln -sfn /proc/self/fd/2 $R/dev/stderr
$bb mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm || fail "mount /dev/shm"
$bb mount -t devpts devpts $R/dev/pts || fail "mount /dev/pts"
$bb mount -t 9p -o "$opts" out $R$OUT || fail "mount 9p out on $OUT"
[ -f $R$OUT/.run.sh ] || fail "$OUT/.run.sh missing"

echo "KSLUB-VM: script-start"
$bb chroot $R /bin/sh $OUT/.run.sh
rc=$?
$bb dmesg >$R$OUT/.dmesg
$bb sync
echo "KSLUB-VM: exit=$rc"
$bb umount $R$OUT
halt
