#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script for a two-node guest:
#   tests/vm/vm.sh --kernel 6.12 --smp 2 --mem 1024 --numa 2 \
#       --script module/tests/guest-numa.sh --env KSLUB_KO=…/kslub.ko
# The pool is spread over both nodes (buddyinfo shows two zones), slabs land
# on the node of the CPU that allocates, a stress run on both CPUs leaves
# slabs on both nodes, and everything validates and unloads.

KO=${KSLUB_KO:?KSLUB_KO must name the module}
D=/sys/kernel/debug/kslub
fail=0
no() { echo "FAIL: $*"; fail=1; }

[ "$(cat /sys/devices/system/node/online)" = 0-1 ] || { echo "FAIL: not a two-node guest"; exit 1; }
insmod "$KO" pool_mb=32 || exit 1
cat $D/buddyinfo
[ "$(grep -c '^Node' $D/buddyinfo)" -eq 2 ] || no "pool on both nodes"
{ grep -q '^ok ' $D/selftest && ! grep -q '^not ok' $D/selftest; } || no "selftest (results, none 'not ok')"
echo "create n 256" >$D/control || no "create n"
taskset -c 1 sh -c "echo 'alloc n 2000' > $D/control" || no "alloc on CPU 1"
cat $D/caches/n/slabs
grep -q '^[0-9]* N1=[0-9]*$' $D/caches/n/slabs || no "slabs of CPU 1's allocations on node 1"
echo "stress n 200000" >$D/control || no "stress"
cat $D/control
grep -q ' 0 errors, validate 0' $D/control || no "stress errors"
echo "free n 2000" >$D/control || no "free n"
cat $D/caches/n/slabs $D/caches/n/partial
echo "destroy n" >$D/control || no "destroy n"
cat $D/buddyinfo
rmmod kslub || no "rmmod"
echo "guest-numa: fail=$fail"
[ $fail -eq 0 ]
