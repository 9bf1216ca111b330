#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A stand-in for kslub-record (bpf/kslub_record.c) in the mutation checks of
# the scripts that test it: same arguments, same output formats, no BPF.
#
#   fake-record.sh --check [--btf FILE]      the field listing
#   fake-record.sh --duration S --output F   a synthetic trace in F
#
# FAKE_RECORD_CHECK: how --check behaves
#   ok (default)   the listing of a 6.1/6.12 kernel for --btf (kmem_cache_alloc
#                  without a name), of 6.18 for the running kernel
#   named          kmem_cache_alloc has a name for --btf too (wrong for 6.1/6.12)
#   fail           exits 1, as when a CO-RE relocation fails
# FAKE_RECORD_TRACE: the trace written
#   ok (default)   kernel=$(uname -r), cpus = possible CPUs, 2400 events that
#                  replay cleanly: kmalloc/kfree (sizes 64 to 9000, the large
#                  ones included), cache_alloc/cache_free, page_alloc/page_free
#   malformed      one kmalloc line lacks its bytes_alloc field
#   size-class     one kmalloc(100) says bytes_alloc=96 (no kmalloc class)
#   no-header      the CSV header is missing
#   few            only 60 events
#   lost-sum       "# lost=" is not the sum of the two lost_* lines
# FAKE_RECORD_STATUS: exit status of a recording (default 0).
# FAKE_RECORD_SILENT=1: --check and recordings print nothing (no message).
# FAKE_RECORD_STDERR: a line printed on standard error first.
set -euo pipefail

check=0 btf="" duration="" output=""
while [ $# -gt 0 ]; do
	case "$1" in
	--check) check=1; shift ;;
	--btf) btf=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--output) output=$2; shift 2 ;;
	*) echo "fake-record: unexpected argument '$1'" >&2; exit 2 ;;
	esac
done

[ -z "${FAKE_RECORD_STDERR:-}" ] || echo "$FAKE_RECORD_STDERR" >&2
if [ "$check" = 1 ]; then
	mode=${FAKE_RECORD_CHECK:-ok}
	if [ "$mode" = fail ]; then
		[ -n "${FAKE_RECORD_SILENT:-}" ] || echo "kslub-record: loading the BPF program failed: Invalid argument" >&2
		exit 1
	fi
	name=" name(absent)"
	if [ -z "$btf" ] || [ "$mode" = named ]; then
		name=" name"
	fi
	echo "loaded: CO-RE relocations against ${btf:-/sys/kernel/btf/vmlinux} resolved"
	echo "kmem:kmalloc           call_site ptr bytes_req bytes_alloc gfp_flags"
	echo "kmem:kfree             call_site ptr"
	echo "kmem:kmem_cache_alloc  call_site ptr bytes_req bytes_alloc gfp_flags$name"
	echo "kmem:kmem_cache_free   call_site ptr name"
	echo "kmem:mm_page_alloc     pfn order gfp_flags"
	echo "kmem:mm_page_free      pfn order"
	exit 0
fi

if [ -z "$duration" ] || [ -z "$output" ]; then
	echo "fake-record: --duration and --output are needed" >&2
	exit 2
fi
[ -n "${FAKE_RECORD_SILENT:-}" ] || echo "kslub-record: recording for $duration s into $output" >&2
# Long enough for a workload round of the scripts under test, short enough to be cheap.
sleep 1
possible=$(cut -d- -f2 /sys/devices/system/cpu/possible)
awk -v kernel="$(uname -r)" -v cpus=$((possible + 1)) -v mutation="${FAKE_RECORD_TRACE:-ok}" '
BEGIN {
	lost = 3
	printf "# kernel=%s\n# cpus=%d\n# lost=%d\n# lost_ringbuf=1\n# lost_recursion=%d\n", kernel, cpus, lost,
		(mutation == "lost-sum" ? 1 : 2)
	if (mutation != "no-header")
		print "ts_ns,cpu,event,ptr,call_site,bytes_req,bytes_alloc,gfp_flags,cache"
	split("64 100 200 1000 3000 9000", req, " ")
	split("64 128 256 1024 4096 16384", got, " ")
	rounds = (mutation == "few" ? 10 : 400)
	ts = 1000000
	for (i = 0; i < rounds; i++) {
		k = i % 6 + 1
		cpu = i % cpus
		ptr = sprintf("0xffff888100%06x", i * 64)
		ba = got[k]
		if (i == 7 && mutation == "size-class") ba = 96
		if (i == 13 && mutation == "malformed")
			printf "%d,%d,kmalloc,%s,0xffffffff81000000,%d,0xcc0,\n", ts++, cpu, ptr, req[k]
		else
			printf "%d,%d,kmalloc,%s,0xffffffff81000000,%d,%d,0xcc0,\n", ts++, cpu, ptr, req[k], ba
		printf "%d,%d,kfree,%s,0xffffffff81000010,0,0,0x0,\n", ts++, cpu, ptr
		cptr = sprintf("0xffff888200%06x", i * 64)
		printf "%d,%d,cache_alloc,%s,0xffffffff81000020,184,192,0xcc0,filp\n", ts++, cpu, cptr
		printf "%d,%d,cache_free,%s,0xffffffff81000030,0,0,0x0,filp\n", ts++, cpu, cptr
		pfn = sprintf("0x%x", 1048576 + i)
		printf "%d,%d,page_alloc,%s,0x0,0,4096,0x440dc0,\n", ts++, cpu, pfn
		printf "%d,%d,page_free,%s,0x0,0,4096,0x0,\n", ts++, cpu, pfn
	}
}' >"$output"
[ -n "${FAKE_RECORD_SILENT:-}" ] || echo "kslub-record: $(($(wc -l <"$output") - 6)) events written to $output, 3 lost" >&2
exit "${FAKE_RECORD_STATUS:-0}"
