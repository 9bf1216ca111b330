#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host test (CTest label bpf): record 3 seconds of the running kernel's kmem
# tracepoints with kslub-record while a small workload makes the kernel
# allocate, then replay the trace with kslub-replay and check:
#   - the file has the metadata lines (kernel, cpus, lost first; lost the sum
#     of lost_ringbuf and lost_recursion where those follow) and then the
#     header of the trace format;
#   - it round-trips: the replayer accepts every line, and its event counts
#     equal the counts of the CSV taken by awk;
#   - size classes agree on 100% of the kmalloc events, large ones included
#     (the workload resizes pipes to 1 MiB, a kmalloc above 8 KiB, when perl is
#     there to call F_SETPIPE_SZ);
#   - the replay made kslub report nothing and refuse no free.
# Exit 77 (skipped) only when BPF cannot run at all: not root.
#
# usage: record-replay-test.sh KSLUB_RECORD KSLUB_REPLAY
set -euo pipefail

record=$1
replay=$2

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: not root: loading BPF programs on the kmem tracepoints needs root (CAP_BPF, CAP_PERFMON)"
	exit 77
fi
[ -r /sys/kernel/btf/vmlinux ] || fail "no /sys/kernel/btf/vmlinux: the kernel lacks BTF, which kslub-record needs"
if [ ! -d /sys/kernel/tracing/events/kmem ] && [ ! -d /sys/kernel/debug/tracing/events/kmem ]; then
	mount -t tracefs none /sys/kernel/tracing || fail "tracefs is not mounted and mounting it failed"
fi
ulimit -l unlimited 2>/dev/null || true

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
trace=$work/trace.csv

# Kernel allocation traffic: files created, read, renamed and removed; processes forked; pipes.
workload() {
	local end=$((SECONDS + 3)) i
	mkdir -p "$work/files"
	while [ $SECONDS -lt $end ]; do
		for i in $(seq 1 40); do
			head -c $((i * 700)) /dev/zero >"$work/files/f$i"
		done
		cat "$work/files"/* | wc -c >/dev/null
		for i in $(seq 1 40); do
			mv "$work/files/f$i" "$work/files/g$i"
		done
		rm -f "$work/files"/g*
		ls -lR /usr/include >/dev/null 2>&1 || true
		sh -c 'true' && sh -c 'echo x | cat >/dev/null'
		# A 1 MiB pipe: its ring of 256 pipe_buffers is a kmalloc above 8 KiB (kmalloc_large).
		if [ -n "$perl" ]; then
			"$perl" -e 'pipe(R, W) or die; fcntl(W, 1031, 1048576) or die "F_SETPIPE_SZ: $!"' || true
		fi
	done
}
perl=$(command -v perl || true)

"$record" --duration 3 --output "$trace" 2>"$work/record.log" &
rec_pid=$!
sleep 0.3
workload
wait "$rec_pid" || {
	cat "$work/record.log" >&2
	fail "kslub-record failed"
}
tail -1 "$work/record.log"

[ -s "$trace" ] || fail "kslub-record wrote no trace"
# The metadata: every '# ' line before the header.
meta=$(awk '/^# / { n++; next } { exit } END { print n + 0 }' "$trace")
[ "$meta" -ge 3 ] || fail "$meta metadata lines before the header, expected at least 3"
[[ "$(sed -n 1p "$trace")" =~ ^#\ kernel=. ]] || fail "line 1 is not '# kernel=...'"
[[ "$(sed -n 2p "$trace")" =~ ^#\ cpus=[0-9]+$ ]] || fail "line 2 is not '# cpus=N'"
[[ "$(sed -n 3p "$trace")" =~ ^#\ lost=([0-9]+)$ ]] || fail "line 3 is not '# lost=N'"
lost=${BASH_REMATCH[1]}
ringbuf=$(sed -n 's/^# lost_ringbuf=\([0-9][0-9]*\)$/\1/p' "$trace" | head -1)
recursion=$(sed -n 's/^# lost_recursion=\([0-9][0-9]*\)$/\1/p' "$trace" | head -1)
if [ -n "$ringbuf" ] || [ -n "$recursion" ]; then
	[ "$lost" = $((${ringbuf:-0} + ${recursion:-0})) ] ||
		fail "# lost=$lost is not lost_ringbuf ${ringbuf:-?} + lost_recursion ${recursion:-?}"
fi
header=$((meta + 1))
[ "$(sed -n "${header}p" "$trace")" = "ts_ns,cpu,event,ptr,call_site,bytes_req,bytes_alloc,gfp_flags,cache" ] ||
	fail "line $header (after the metadata) is not the header"

lines=$(wc -l <"$trace")
records=$((lines - header))
[ "$records" -gt 1000 ] || fail "only $records events recorded in 3 seconds of traffic"

declare -A count
for e in kmalloc kfree cache_alloc cache_free page_alloc page_free; do
	count[$e]=0
done
awk -F, -v h="$header" 'NR > h { n[$3]++ } END { for (e in n) print n[e], e }' "$trace" >"$work/counts" ||
	fail "counting the events of the trace failed"
while read -r n e; do
	count[$e]=$n
done <"$work/counts"

json=$work/replay.json
rc=0
"$replay" "$trace" --json >"$json" 2>"$work/replay.err" || rc=$?
if [ "$rc" -ne 0 ]; then
	head -20 "$work/replay.err" >&2
	fail "kslub-replay exit status $rc (3: malformed lines)"
fi

val() {
	local v
	v=$(sed -n "s/^  \"$1\": \([0-9.]*\),\{0,1\}\$/\1/p" "$json")
	[ -n "$v" ] || fail "no \"$1\" in the replay's JSON"
	echo "$v"
}

[ "$(val lines)" = "$lines" ] || fail "replay read $(val lines) lines, the file has $lines"
[ "$(val records)" = "$records" ] || fail "replay accepted $(val records) records of $records"
[ "$(val malformed_lines)" = 0 ] || fail "$(val malformed_lines) malformed lines"
for e in kmalloc kfree cache_alloc cache_free page_alloc page_free; do
	[ "$(val "events_$e")" = "${count[$e]}" ] ||
		fail "$e: replayed $(val "events_$e"), the file has ${count[$e]}"
done
kmalloc=$(val kmalloc_events)
agree=$(val kmalloc_size_class_agree)
[ "$kmalloc" -gt 0 ] || fail "no kmalloc events recorded"
[ "$agree" = "$kmalloc" ] ||
	fail "size classes agree on $agree of $kmalloc kmalloc events; first mismatches: $(grep -A3 '"mismatches"' "$json" | tr -d '\n')"
if [ -n "$perl" ]; then
	[ "$(val kmalloc_large_events)" -gt 0 ] || fail "no large kmalloc recorded, although the workload resized pipes"
fi
[ "$(val kslub_reports)" = 0 ] || fail "kslub reported $(val kslub_reports) problems during the replay"
[ "$(val kslub_free_errors)" = 0 ] || fail "kslub refused $(val kslub_free_errors) frees"

echo "recorded $records events ($(val lost) lost) on $(val trace_cpus) CPUs;" \
	"size classes agree on $agree of $kmalloc kmalloc events ($(val kmalloc_large_events) large);" \
	"LIFO reuse: kernel $(val reuse_kernel_lifo), kslub $(val reuse_kslub_lifo) of $(val reuse_eligible);" \
	"replay $(val replay_events_per_second) events/s"
echo "PASS"
