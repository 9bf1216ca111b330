#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Regenerate tests/data/kmalloc-linux-<kernel>-<N>cpus.txt and
# caches-linux-<kernel>.txt: boot each Debian kernel in QEMU (tests/vm/vm.sh)
# with N CPUs and read the geometry of its 13 kmalloc caches, and of every
# cache it has (sheaf_capacity included), from /sys/kernel/slab
# (tests/vm/guest/geometry.sh).
#
#   tests/vm/collect-geometry.sh [--kernels "6.1 6.12 6.18 7.3"] [--cpus "1 2 4 8"]
#                                [--outdir DIR] [--probe]
#
# --probe loads tests/vm/geoprobe (caches of sizes no stock cache has, where
# the kernels' order rules differ) before the read; it is built against
# /lib/modules/<release>/build, so only for kernels whose headers are
# installed here (6.1, 6.12), and the caches file says which caches it made.
# The files are written to DIR (default: tests/data). tests/unit/geometry_test.cpp
# and kernel_rules_test.cpp compare kslub's geometry with every one of them.
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$VM_DIR/../.." && pwd)"
kernels="6.1 6.12 6.18 7.3"
cpus="1 2 4 8"
outdir="$REPO_ROOT/tests/data"
probe=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernels) kernels="${2:?--kernels needs a list}"; shift 2 ;;
	--cpus) cpus="${2:?--cpus needs a list}"; shift 2 ;;
	--outdir) outdir="${2:?--outdir needs a directory}"; shift 2 ;;
	--probe) probe=1; shift ;;
	-h|--help) sed -n '3,19{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "collect-geometry: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
mkdir -p "$outdir"
export KSLUB_VM_CACHE="${KSLUB_VM_CACHE:-$REPO_ROOT/build-vm/vm-cache}"

work="$(mktemp -d "${TMPDIR:-/tmp}/kslub-geometry.XXXXXX")"
trap 'rm -rf "$work"' EXIT

for k in $kernels; do
	probe_env=()
	probe_note=""
	if [ "$probe" = 1 ]; then
		kver="$("$VM_DIR/vm.sh" --kernel "$k" --print-kernel)"
		if [ -f "/lib/modules/$kver/build/Makefile" ]; then
			pdir="$work/geoprobe-$kver"
			mkdir -p "$pdir"
			cp "$VM_DIR/geoprobe/Kbuild" "$VM_DIR/geoprobe/geoprobe.c" "$pdir/"
			make -s -C "/lib/modules/$kver/build" M="$pdir" modules >"$pdir.log" 2>&1 ||
				{ cat "$pdir.log" >&2; echo "collect-geometry: building geoprobe for $kver failed" >&2; exit 1; }
			probe_env=(--env "KSLUB_GEOPROBE_KO=$pdir/geoprobe.ko")
			sizes="$(sed -n 's/^static unsigned int sizes\[\] = {\(.*\)};/\1/p' "$VM_DIR/geoprobe/geoprobe.c")"
			probe_note="# Before the read tests/vm/geoprobe called kmem_cache_create(\"geoprobe-<size>\", size, 0, 0, NULL)
# for sizes $sizes (the kernel may merge them into caches of their own geometry)."
		else
			echo "collect-geometry: no headers for $kver here: $k read without the probe caches"
		fi
	fi
	caches="$work/caches-$k.txt"
	: >"$caches"
	for n in $cpus; do
		run="$work/$k-$n"
		mkdir -p "$run"
		"$VM_DIR/vm.sh" --kernel "$k" --smp "$n" --timeout 600 --quiet \
			--script "$VM_DIR/guest/geometry.sh" --out "$run" ${probe_env[@]+"${probe_env[@]}"}
		[ -s "$run/kmalloc.txt" ] || { echo "collect-geometry: $k on $n CPUs gave no data" >&2; exit 1; }
		[ -s "$run/caches.txt" ] || { echo "collect-geometry: $k on $n CPUs gave no caches.txt" >&2; exit 1; }
		release="$(sed -n 's/^release //p' "$run/cpus.txt")"
		present="$(sed -n 's/^present //p' "$run/cpus.txt")"
		[ "$(wc -l <"$run/kmalloc.txt")" -eq 13 ] || { echo "collect-geometry: $k: expected 13 caches" >&2; exit 1; }
		f="$outdir/kmalloc-linux-$k-${n}cpus.txt"
		{
			echo "# read from /sys/kernel/slab on Linux $release, $n CPUs, on $(date -u +%Y-%m-%d)"
			echo "# QEMU TCG -smp $n (present CPUs $present), by tests/vm/collect-geometry.sh"
			echo "# name object_size slab_size order objs_per_slab cpu_partial min_partial align"
			cat "$run/kmalloc.txt"
		} >"$f"
		echo "collect-geometry: wrote $f"
		sed "s/^/$n /" "$run/caches.txt" >>"$caches"
	done
	f="$outdir/caches-linux-$k.txt"
	{
		echo "# every cache of /sys/kernel/slab (aliases, which are symlinks, left out) on Linux $release,"
		echo "# booted in QEMU TCG with -smp $(echo $cpus | sed 's/ /, /g') (present CPUs 0 .. N-1) on $(date -u +%Y-%m-%d), read by"
		echo "# tests/vm/guest/geometry.sh (its caches.txt); \"-\": this kernel has no such file."
		[ -z "$probe_note" ] || echo "$probe_note"
		echo "# cpus name object_size slab_size order objs_per_slab cpu_partial min_partial align sheaf_capacity sanity_checks"
		cat "$caches"
	} >"$f"
	echo "collect-geometry: wrote $f"
done
