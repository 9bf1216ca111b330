#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script (tests/vm/vm.sh --script): load kslub.ko, check every debugfs
# file, drive control through its success and error cases, run stress while
# CPU 1 goes offline and comes back, run compare, unload.
#
#   KSLUB_KO   path of the kslub.ko built for the guest's kernel (required)
#
# Exit status 0 when every check passed; each check prints "ok" or "FAIL".

KO=${KSLUB_KO:?KSLUB_KO must name the module}
D=/sys/kernel/debug/kslub
failures=0

check() { # description, then a command that must succeed
	desc=$1
	shift
	if "$@"; then
		echo "ok: $desc"
	else
		echo "FAIL: $desc"
		failures=$((failures + 1))
	fi
}
ctl() { echo "$*" >$D/control; }
ctl_fails() { # expected errno name, command...
	want=$1
	shift
	if echo "$*" >$D/control 2>/dev/null; then return 1; fi
	grep -q "($want)" $D/control
}

check "insmod" insmod "$KO" pool_mb=32
[ -d $D ] || { echo "FAIL: no $D"; exit 1; }
for f in slabinfo buddyinfo control stress compare selftest; do
	check "$f exists" test -e $D/$f
done
check "14 cache directories" test "$(ls $D/caches | wc -l)" -eq 14
for c in $D/caches/*; do
	[ "$(ls $c | wc -l)" -eq 55 ] || { echo "FAIL: $c has $(ls $c | wc -l) files"; failures=$((failures + 1)); }
done
cat $D/selftest
check "selftest: KTAP header" grep -q '^KTAP version 1' $D/selftest
check "selftest: plan" grep -q '^1\.\.[0-9]' $D/selftest
check "selftest: results, no failures" sh -c "grep -q '^ok ' $D/selftest && ! grep -q '^not ok' $D/selftest"
check "selftest re-run on write" sh -c "echo 1 >$D/selftest && grep -q '^ok ' $D/selftest && ! grep -q '^not ok' $D/selftest"
head -5 $D/slabinfo
check "slabinfo header" grep -q '^slabinfo - version: 2.1' $D/slabinfo
cat $D/buddyinfo
check "buddyinfo" grep -q '^Node 0, zone    kslub' $D/buddyinfo
check "kmalloc-64 objs_per_slab 64" test "$(cat $D/caches/kmalloc-64/objs_per_slab)" = 64

check "create foo 100" ctl create foo 100
check "caches/foo appears" test -d $D/caches/foo
check "create foo again: EEXIST" ctl_fails EEXIST create foo 100
check "alloc foo 1000" ctl alloc foo 1000
check "foo: slabs for 1000 objects" test "$(cut -d' ' -f1 $D/caches/foo/objects)" -ge 1000
check "alloc_fastpath counted" sh -c "test \$(cut -d' ' -f1 $D/caches/foo/alloc_fastpath) -gt 0"
check "destroy foo while held: EBUSY" ctl_fails EBUSY destroy foo
check "free foo 1000" ctl free foo 1000
check "validate foo" ctl validate foo
cat $D/control
check "destroy foo" ctl destroy foo
check "caches/foo gone" test ! -e $D/caches/foo
check "destroy foo again: ENOENT" ctl_fails ENOENT destroy foo
check "unknown verb: EINVAL" ctl_fails EINVAL frobnicate
check "destroy kmalloc-64: EBUSY" ctl_fails EBUSY destroy kmalloc-64
check "create big 2097152" ctl create big 2097152
check "alloc big 100 from 32 MiB: ENOMEM" ctl_fails ENOMEM alloc big 100
cat $D/control
check "kmalloc still works after exhaustion" ctl free big 100
check "destroy big" ctl destroy big
check "kmalloc 100 50" ctl kmalloc 100 50
check "kfree-all" ctl kfree-all
check "shrink file" sh -c "echo 1 > $D/caches/kmalloc-128/shrink"
check "validate file" sh -c "echo 1 > $D/caches/kmalloc-128/validate"

# stress while CPU 1 goes offline and comes back
ncpu=$(grep -c ^processor /proc/cpuinfo)
ctl stress kmalloc-256 4000000 &
spid=$!
if [ "$ncpu" -gt 1 ] && [ -e /sys/devices/system/cpu/cpu1/online ]; then
	sleep 0.5
	check "CPU 1 offline during stress" sh -c "echo 0 > /sys/devices/system/cpu/cpu1/online"
	cat $D/stress
	sleep 0.5
	check "CPU 1 online again" sh -c "echo 1 > /sys/devices/system/cpu/cpu1/online"
fi
check "stress finished" wait $spid
cat $D/stress
cat $D/control
check "stress: no fill or free errors" grep -q ' 0 errors, validate 0' $D/control
check "compare 256 20000" ctl compare 256 20000
cat $D/compare
check "compare shows a ratio" grep -q '^ratio kslub/kernel' $D/compare

# Unload with objects held by control: they are given back first.
check "alloc held at unload" ctl alloc kmalloc-64 10
check "rmmod" rmmod kslub
check "debugfs gone" test ! -e $D
dmesg | grep -i kslub | tail -20
echo "guest-smoke: $failures failures"
[ $failures -eq 0 ]
