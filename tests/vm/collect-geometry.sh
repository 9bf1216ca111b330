#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Regenerate tests/data/kmalloc-linux-<kernel>-<N>cpus.txt: boot each Debian
# kernel in QEMU (tests/vm/vm.sh) with N CPUs and read the geometry of its 13
# kmalloc caches from /sys/kernel/slab (tests/vm/guest/geometry.sh).
#
#   tests/vm/collect-geometry.sh [--kernels "6.1 6.12"] [--cpus "1 2 4 8"] [--outdir DIR]
#
# The files are written to DIR (default: tests/data). tests/unit/geometry_test.cpp
# compares kslub's kmalloc geometry with every one of them.
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$VM_DIR/../.." && pwd)"
kernels="6.1 6.12"
cpus="1 2 4 8"
outdir="$REPO_ROOT/tests/data"
while [ $# -gt 0 ]; do
	case "$1" in
	--kernels) kernels="${2:?--kernels needs a list}"; shift 2 ;;
	--cpus) cpus="${2:?--cpus needs a list}"; shift 2 ;;
	--outdir) outdir="${2:?--outdir needs a directory}"; shift 2 ;;
	-h|--help) sed -n '3,11{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) echo "collect-geometry: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
mkdir -p "$outdir"
export KSLUB_VM_CACHE="${KSLUB_VM_CACHE:-$REPO_ROOT/build-vm/vm-cache}"

work="$(mktemp -d "${TMPDIR:-/tmp}/kslub-geometry.XXXXXX")"
trap 'rm -rf "$work"' EXIT

for k in $kernels; do
	for n in $cpus; do
		run="$work/$k-$n"
		mkdir -p "$run"
		"$VM_DIR/vm.sh" --kernel "$k" --smp "$n" --timeout 600 --quiet \
			--script "$VM_DIR/guest/geometry.sh" --out "$run"
		[ -s "$run/kmalloc.txt" ] || { echo "collect-geometry: $k on $n CPUs gave no data" >&2; exit 1; }
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
	done
done
