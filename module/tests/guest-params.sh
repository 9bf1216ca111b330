#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script (tests/vm/vm.sh --script, --mem 512): module parameters at
# their limits. pool_mb=1 and 241 are refused; pool_mb=4 (one block) loads,
# passes its self-test, runs out with ENOMEM and keeps working; pool_mb=240
# loads with whatever blocks the guest can give; selftest=0 skips the test.
#
#   KSLUB_KO    path of kslub.ko (required)

KO=${KSLUB_KO:?KSLUB_KO must name the module}
D=/sys/kernel/debug/kslub
fail=0
no() { echo "FAIL: $*"; fail=1; }

insmod "$KO" pool_mb=1 2>/dev/null && { no "pool_mb=1 loaded"; rmmod kslub; }
insmod "$KO" pool_mb=241 2>/dev/null && { no "pool_mb=241 loaded"; rmmod kslub; }

insmod "$KO" pool_mb=4 || no "pool_mb=4"
cat $D/buddyinfo
{ grep -q '^ok ' $D/selftest && ! grep -q '^not ok' $D/selftest; } || no "selftest with one block (results, none 'not ok')"
echo "create big 65536" >$D/control || no "create big"
echo "alloc big 100" >$D/control 2>/dev/null && no "100 x 64 KiB from 4 MiB"
cat $D/control
grep -q ENOMEM $D/control || no "ENOMEM expected"
echo "free big 100" >$D/control || no "free big"
echo "kmalloc 1000 100" >$D/control || no "kmalloc after exhaustion"
echo "kfree-all" >$D/control || no "kfree-all"
echo "destroy big" >$D/control || no "destroy big"
rmmod kslub || no "rmmod (pool_mb=4)"

insmod "$KO" pool_mb=240 || no "pool_mb=240"
cat $D/buddyinfo
rmmod kslub || no "rmmod (pool_mb=240)"

insmod "$KO" selftest=0 || no "selftest=0"
grep -q 'SKIP not run' $D/selftest || no "selftest=0 ran the test"
echo 1 >$D/selftest
grep -q '^ok 1 ' $D/selftest || no "selftest on write"
rmmod kslub || no "rmmod (selftest=0)"
dmesg | grep kslub | grep -v "invalid free\|wrong cache\|double free\|objects remaining" | tail -12
echo "guest-params: fail=$fail"
[ $fail -eq 0 ]
