#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The kslub.ko demo, run where the module can be loaded (the host, or a QEMU
# guest through tests/vm/vm.sh): load, show slabinfo, a cache's stats after
# some traffic, a compare with the kernel's own SLUB, unload.
# The module path comes in $KSLUB_KO.
set -eu
ko=${KSLUB_KO:?KSLUB_KO names the kslub.ko to load}
d=/sys/kernel/debug/kslub
mountpoint -q /sys/kernel/debug 2>/dev/null || mount -t debugfs none /sys/kernel/debug

echo "== insmod $ko (pool_mb=64)"
insmod "$ko" pool_mb=64
trap 'rmmod kslub 2>/dev/null || true' EXIT
echo "== $d/selftest (summary)"
grep -E '^(KTAP|1\.\.|not ok|# )' "$d/selftest" || true
echo "selftest: $(grep -c '^ok ' "$d/selftest") ok, $(grep -c '^not ok ' "$d/selftest" || true) not ok"

echo "== traffic: create demo-256 256; alloc 5000; free 3000; kmalloc 100 2000; stress demo-256 20000"
echo "create demo-256 256" >"$d/control"
echo "alloc demo-256 5000" >"$d/control"
echo "free demo-256 3000" >"$d/control"
echo "kmalloc 100 2000" >"$d/control"
echo "stress demo-256 20000" >"$d/control"
echo "last control result: $(cat "$d/control")"

echo "== $d/slabinfo"
cat "$d/slabinfo"
echo "== $d/caches/demo-256/ (geometry and the SLUB_STATS counters that moved)"
for f in object_size slab_size order objs_per_slab cpu_partial min_partial slabs partial objects; do
	printf '%-24s %s\n' "$f" "$(cat "$d/caches/demo-256/$f")"
done
for f in "$d"/caches/demo-256/alloc_* "$d"/caches/demo-256/free_* "$d"/caches/demo-256/cmpxchg_double_cpu_fail; do
	v=$(cat "$f")
	[ "${v%% *}" = 0 ] || printf '%-24s %s\n' "$(basename "$f")" "$v"
done
echo "== $d/stress"
cat "$d/stress"

# The same patterns on kslub and on a kmem_cache_create cache at four sizes.
for size in 64 256 1024 4096; do
	echo "== compare $size 20000 (the same pattern on kslub and on kmem_cache_create)"
	echo "compare $size 20000" >"$d/control"
	cat "$d/compare"
done

echo "== cleanup"
echo "free demo-256 2000" >"$d/control"
echo "kfree-all" >"$d/control"
echo "destroy demo-256" >"$d/control"
echo "validate kmalloc-128" >"$d/control"
echo "last control result: $(cat "$d/control")"
echo "== $d/buddyinfo"
cat "$d/buddyinfo"
rmmod kslub
trap - EXIT
echo "== rmmod kslub: done"
