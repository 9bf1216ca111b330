#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of tests/vm/collect-geometry.sh: the geometry of the 13 kmalloc
# caches from /sys/kernel/slab, one line per cache in the format of
# tests/data/kmalloc-linux-*.txt, written to $KSLUB_OUT/kmalloc.txt, and the
# CPU counts the kernel saw to $KSLUB_OUT/cpus.txt.
# Also, for tests/data/ files of their own:
#   $KSLUB_OUT/sheaf.txt   "kmalloc-N sheaf_capacity" per kmalloc cache, on
#                          kernels that have the file (6.18 and later; none
#                          written before);
#   $KSLUB_OUT/caches.txt  every cache of the kernel (aliases, which are
#                          symlinks, left out): "name object_size slab_size
#                          order objs_per_slab cpu_partial min_partial align
#                          sheaf_capacity sanity_checks", with "-" for a file
#                          this kernel does not have.
# With KSLUB_GEOPROBE_KO (tests/vm/geoprobe, built for this kernel) that
# module is loaded first, so that caches.txt has its caches too, and
# unloaded at the end.
set -eu

: "${KSLUB_OUT:?KSLUB_OUT is not set (run through tests/vm/vm.sh)}"
if [ -n "${KSLUB_GEOPROBE_KO:-}" ]; then
	insmod "$KSLUB_GEOPROBE_KO"
	trap 'rmmod geoprobe' EXIT
fi
out="$KSLUB_OUT/kmalloc.txt"
: >"$out.tmp"
: >"$KSLUB_OUT/sheaf.txt.tmp"
for c in 8 16 32 64 96 128 192 256 512 1k 2k 4k 8k; do
	d="/sys/kernel/slab/kmalloc-$c"
	[ -d "$d" ] || { echo "geometry: $d does not exist" >&2; exit 1; }
	line="kmalloc-$c"
	for f in object_size slab_size order objs_per_slab cpu_partial min_partial align; do
		read -r v <"$d/$f"
		line="$line $v"
	done
	echo "$line" >>"$out.tmp"
	if [ -e "$d/sheaf_capacity" ]; then
		read -r v <"$d/sheaf_capacity"
		echo "kmalloc-$c $v" >>"$KSLUB_OUT/sheaf.txt.tmp"
	fi
done
mv "$out.tmp" "$out"
if [ -s "$KSLUB_OUT/sheaf.txt.tmp" ]; then
	mv "$KSLUB_OUT/sheaf.txt.tmp" "$KSLUB_OUT/sheaf.txt"
else
	rm -f "$KSLUB_OUT/sheaf.txt.tmp"
fi
: >"$KSLUB_OUT/caches.txt.tmp"
for d in /sys/kernel/slab/*; do
	[ -d "$d" ] && [ ! -L "$d" ] || continue
	line="${d##*/}"
	for f in object_size slab_size order objs_per_slab cpu_partial min_partial align sheaf_capacity sanity_checks; do
		v=-
		[ -e "$d/$f" ] && read -r v <"$d/$f"
		line="$line $v"
	done
	echo "$line" >>"$KSLUB_OUT/caches.txt.tmp"
done
mv "$KSLUB_OUT/caches.txt.tmp" "$KSLUB_OUT/caches.txt"
{
	echo "release $(uname -r)"
	echo "present $(cat /sys/devices/system/cpu/present)"
	echo "possible $(cat /sys/devices/system/cpu/possible)"
	echo "online $(cat /sys/devices/system/cpu/online)"
	echo "cmdline $(cat /proc/cmdline)"
} >"$KSLUB_OUT/cpus.txt"
cat "$out" "$KSLUB_OUT/cpus.txt"
[ ! -e "$KSLUB_OUT/sheaf.txt" ] || cat "$KSLUB_OUT/sheaf.txt"
echo "geometry: $(wc -l <"$KSLUB_OUT/caches.txt") caches in caches.txt"
