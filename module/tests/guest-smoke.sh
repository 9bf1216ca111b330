#!/bin/sh
set -x
KO=${KSLUB_KO:?}
D=/sys/kernel/debug/kslub
insmod $KO pool_mb=32 || exit 1
ls $D $D/caches | head -40
ls $D/caches/kmalloc-64 | wc -l
cat $D/slabinfo
cat $D/buddyinfo
cat $D/selftest
cat $D/caches/kmalloc-64/alloc_fastpath $D/caches/kmalloc-64/objs_per_slab $D/caches/kmalloc-96/align
echo "create foo 100" > $D/control; cat $D/control
ls $D/caches/foo | wc -l
echo "alloc foo 1000" > $D/control; cat $D/control
cat $D/caches/foo/slabs $D/caches/foo/alloc_fastpath
echo "bogus" > $D/control; cat $D/control
echo "destroy foo" > $D/control; cat $D/control
echo "free foo 1000" > $D/control; cat $D/control
echo "destroy foo" > $D/control; cat $D/control
ls $D/caches/
echo "stress kmalloc-128 20000" > $D/control; cat $D/control
cat $D/stress
echo "compare 128 20000" > $D/control; cat $D/control
cat $D/compare
echo 1 > $D/caches/kmalloc-128/validate
dmesg | grep kslub
rmmod kslub || exit 1
dmesg | tail -5
