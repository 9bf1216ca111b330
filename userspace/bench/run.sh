#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: kslub against glibc, jemalloc, tcmalloc and mimalloc in one run.
#
#   userspace/bench/run.sh [--build DIR] [--out DIR] [--rounds N] [--min-time S] [--smoke]
#
# Every allocator runs in a process of its own (kslub-gbench; the others
# through LD_PRELOAD of Debian's libjemalloc2, libtcmalloc-minimal4 and
# libmimalloc2.0), and each process says which malloc it found mapped, which
# is checked. Then:
#   1. times: ROUNDS rounds, each running every allocator once in turn (so a
#      noisy moment hits them alike); the median over rounds is reported;
#   2. memory: RSS before and after 1 M live 64-byte objects, one process each;
#   3. instructions per item by callgrind: two runs of each loop with different
#      counts, their difference over the difference in items (start-up and
#      tear-down cancel); kslub also with CONFIG_KSLUB_STATS=n when
#      kslub-gbench-nostats is built (make bench builds it). valgrind has no
#      rseq: kslub is counted in its deterministic mode (one thread, CPU 0);
#   4. report.py: OUT/results.json, OUT/table.md (printed), OUT/*.png.
# --smoke: one round, tiny times and counts, 100 k objects: checks that the
# whole pipeline runs and produces its files; says nothing about speed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=build
out=
rounds=3
min_time=0.5
smoke=0

die() {
	echo "bench: error: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--rounds) rounds=${2:?}; shift 2 ;;
	--min-time) min_time=${2:?}; shift 2 ;;
	--smoke) smoke=1; shift ;;
	*) die "unknown argument '$1' (see the head of $0)" ;;
	esac
done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || die "--rounds: a positive integer, not '$rounds'"
out=${out:-$build/bench}

gbench=$build/kslub-gbench
nostats=$build/kslub-gbench-nostats
[ -x "$gbench" ] || die "$gbench not built (make; Google Benchmark: make deps)"
py=/usr/bin/python3
"$py" -c 'import matplotlib' 2>/dev/null || die "$py cannot import matplotlib (make deps: python3-matplotlib)"
command -v valgrind >/dev/null || die "valgrind missing (make deps)"

libdir=/usr/lib/x86_64-linux-gnu
declare -A preload=(
	[glibc]=""
	[jemalloc]=$libdir/libjemalloc.so.2
	[tcmalloc]=$libdir/libtcmalloc_minimal.so.4
	[mimalloc]=$libdir/libmimalloc.so.2
)
allocs=(kslub kslub-sheaves glibc jemalloc tcmalloc mimalloc)
for a in jemalloc tcmalloc mimalloc; do
	[ -e "${preload[$a]}" ] || die "${preload[$a]} missing (make deps: libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0)"
done

if [ "$smoke" = 1 ]; then
	rounds=1
	min_time=0.01
	lo=8000 hi=24000
	objects=100000
else
	lo=64000 hi=192000
	objects=1000000
fi

rm -rf "$out"
mkdir -p "$out/raw"

# side ALLOC [WRAPPER...] -- ARGS...: kslub-gbench for one allocator, in its
# own process, run under WRAPPER (valgrind) if given.
side() {
	local a=$1 wrap=() bin=$gbench alloc=system pre=
	shift
	while [ "$1" != -- ]; do
		wrap+=("$1")
		shift
	done
	shift
	case $a in
	kslub | kslub-sheaves) alloc=$a ;;
	kslub-nostats) bin=$nostats alloc=kslub ;;
	*) pre=${preload[$a]} ;;
	esac
	LD_PRELOAD=$pre "${wrap[@]}" "$bin" --alloc "$alloc" "$@"
}

cpus=$(nproc)
echo "bench: $cpus CPUs, $rounds round(s) of ${min_time} s per benchmark, output in $out"
for ((r = 1; r <= rounds; r++)); do
	for a in "${allocs[@]}"; do
		echo "bench: times, round $r/$rounds: $a"
		side "$a" -- --benchmark_min_time="$min_time" --benchmark_out_format=json \
			--benchmark_out="$out/raw/times-$a-$r.json" >"$out/raw/times-$a-$r.log" 2>&1 ||
			die "$a failed (round $r): $out/raw/times-$a-$r.log"
	done
done

for a in "${allocs[@]}"; do
	echo "bench: memory, $objects live 64-byte objects: $a"
	side "$a" -- --memory "$objects" >"$out/raw/memory-$a.json" || die "$a: the memory run failed"
done

# count ALLOC PATTERN OPS: instructions callgrind collects for the whole process.
count() {
	local a=$1 p=$2 n=$3 logf=$out/raw/callgrind-$1-$2-$3.log
	side "$a" valgrind --tool=callgrind --callgrind-out-file=/dev/null -- --count "$p" --ops "$n" \
		>"$logf" 2>&1 || die "callgrind of $a $p failed: $logf"
	awk '/Collected/ { n = $NF } END { if (n == "") exit 1; print n }' "$logf" ||
		die "no instruction count in $logf"
}
counted=("${allocs[@]}")
[ -x "$nostats" ] && counted+=(kslub-nostats)
: >"$out/raw/instructions.tsv"
for a in "${counted[@]}"; do
	echo "bench: instructions (callgrind): $a"
	for p in pair batch1000 kmalloc bulk64; do
		c_lo=$(count "$a" "$p" "$lo") || exit 1
		c_hi=$(count "$a" "$p" "$hi") || exit 1
		printf '%s\t%s\t%s\n' "$a" "$p" "$(((c_hi - c_lo) / (hi - lo)))" >>"$out/raw/instructions.tsv"
	done
done

"$py" "$here/report.py" "$out"
