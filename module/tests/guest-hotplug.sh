#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script (tests/vm/vm.sh --script, best with --smp 4): stress on two
# caches while CPUs 1..N-1 go offline and online in turn and validate and
# shrink flush every CPU by IPI at the same time. Checks that every run
# ends with no fill or free error and validate 0, and that the module
# unloads.
#
#   KSLUB_KO    path of kslub.ko (required)
#   ROUNDS      hotplug rounds (default 6)

KO=${KSLUB_KO:?KSLUB_KO must name the module}
D=/sys/kernel/debug/kslub
ROUNDS=${ROUNDS:-6}
fail=0
insmod "$KO" pool_mb=64 || exit 1
ncpu=$(grep -c ^processor /proc/cpuinfo)
echo "create hp 200" >$D/control || exit 1

(echo "stress kmalloc-192 3000000" >$D/control) &
s1=$!
r=0
while [ $r -lt $ROUNDS ]; do
	c=$((r % (ncpu - 1) + 1))
	echo 0 >/sys/devices/system/cpu/cpu$c/online || fail=1
	echo 1 >$D/caches/kmalloc-192/validate || fail=1
	echo 1 >$D/caches/kmalloc-192/shrink || fail=1
	cat $D/caches/kmalloc-192/cpu_slabs $D/slabinfo >/dev/null || fail=1
	echo 1 >/sys/devices/system/cpu/cpu$c/online || fail=1
	r=$((r + 1))
done
wait $s1 || fail=1
cat $D/control
grep -q ' 0 errors, validate 0' $D/control || fail=1
cat $D/stress
# A second run, on a cache made through control, with a CPU down for its whole length.
echo 0 >/sys/devices/system/cpu/cpu1/online || fail=1
echo "stress hp 200000" >$D/control || fail=1
cat $D/control
grep -q ' 0 errors, validate 0' $D/control || fail=1
echo 1 >/sys/devices/system/cpu/cpu1/online
# A refused write leaves the previous result in control: each write's own
# status counts before its result line is read.
if echo "validate hp" >$D/control; then
	cat $D/control
	grep -q ': 0 errors' $D/control || fail=1
else
	echo "FAIL: validate hp refused"
	fail=1
fi
echo "destroy hp" >$D/control || fail=1
n=0
for c in $(ls $D/caches); do
	n=$((n + 1))
	if echo "validate $c" >$D/control; then
		grep -q ': 0 errors' $D/control || { cat $D/control; fail=1; }
	else
		echo "FAIL: validate $c refused"
		fail=1
	fi
done
[ $n -ge 13 ] || { echo "FAIL: validated $n caches, expected the 13 kmalloc caches at least"; fail=1; }
# The re-run's report must hold results ("ok"), not just no "not ok".
echo 1 >$D/selftest && grep -q '^ok ' $D/selftest && ! grep -q '^not ok' $D/selftest || fail=1
rmmod kslub || fail=1
dmesg | grep -E "offline|affine|kslub" | tail -25
echo "guest-hotplug: fail=$fail"
[ $fail -eq 0 ]
