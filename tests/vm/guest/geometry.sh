#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of tests/vm/collect-geometry.sh: the geometry of the 13 kmalloc
# caches from /sys/kernel/slab, one line per cache in the format of
# tests/data/kmalloc-linux-*.txt, written to $KSLUB_OUT/kmalloc.txt, and the
# CPU counts the kernel saw to $KSLUB_OUT/cpus.txt.
set -eu

: "${KSLUB_OUT:?KSLUB_OUT is not set (run through tests/vm/vm.sh)}"
out="$KSLUB_OUT/kmalloc.txt"
: >"$out.tmp"
for c in 8 16 32 64 96 128 192 256 512 1k 2k 4k 8k; do
	d="/sys/kernel/slab/kmalloc-$c"
	[ -d "$d" ] || { echo "geometry: $d does not exist" >&2; exit 1; }
	line="kmalloc-$c"
	for f in object_size slab_size order objs_per_slab cpu_partial min_partial align; do
		read -r v <"$d/$f"
		line="$line $v"
	done
	echo "$line" >>"$out.tmp"
done
mv "$out.tmp" "$out"
{
	echo "release $(uname -r)"
	echo "present $(cat /sys/devices/system/cpu/present)"
	echo "possible $(cat /sys/devices/system/cpu/possible)"
	echo "online $(cat /sys/devices/system/cpu/online)"
	echo "cmdline $(cat /proc/cmdline)"
} >"$KSLUB_OUT/cpus.txt"
cat "$out" "$KSLUB_OUT/cpus.txt"
