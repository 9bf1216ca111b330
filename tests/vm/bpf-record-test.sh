#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script: kslub-record on the guest kernel, kslub-replay of its trace.
# Records 3 s of the kernel's kmem tracepoints (CO-RE relocated against the
# guest kernel's BTF) while files, processes and pipes make the kernel
# allocate (kslub.ko is not involved), then checks:
#   - the metadata lines name the guest kernel and its possible CPUs, and
#     say how many events were lost (the sum of the parts that follow);
#   - the replay (with the guest series' alignment rules) accepts every line
#     and its event counts are those of the CSV;
#   - size classes agree on 100% of the kmalloc events, large ones included;
#   - the replay made kslub report nothing and refuse no free.
# Needs $KSLUB_RECORD and $KSLUB_REPLAY (host binaries; tests/vm/CMakeLists.txt
# passes them with --env).
set -uo pipefail
. "$(dirname "$0")/guest/lib.sh"

: "${KSLUB_RECORD:?KSLUB_RECORD (the path of kslub-record) is not set}"
: "${KSLUB_REPLAY:?KSLUB_REPLAY (the path of kslub-replay) is not set}"
ulimit -l unlimited 2>/dev/null || diag "ulimit -l unlimited refused: $(ulimit -l)"

rel=$(uname -r)
case "$rel" in
6.1.*) series=6.1 ;;
*) series=6.12 ;;
esac
check "BTF of the guest kernel ($rel)" test -r /sys/kernel/btf/vmlinux

# The recorder's CO-RE relocation against this kernel, with the fields it found.
if "$KSLUB_RECORD" --check >"$T_TMP/check.out" 2>&1; then
	ok "kslub-record --check on $rel"
else
	not_ok "kslub-record --check on $rel"
	sed 's/^/# /' "$T_TMP/check.out"
	finish
fi
sed 's/^/# check: /' "$T_TMP/check.out"

W="$T_TMP/work"
mkdir -p "$W/files"
perl=$(command -v perl || true)
# Kernel allocation traffic, independent of kslub: files written, read,
# renamed and removed; processes; pipes, one resized to 1 MiB per round (its
# 256 pipe_buffers are a kmalloc above 8 KiB) when perl is there.
# One round; the workload repeats it until the recorder exits (under TCG a
# round takes one to three seconds).
workload_round()
{
	local i
	[ -z "$perl" ] || echo resize >&8
	for i in 1 2 3 4 5 6 7 8; do
		head -c $((i * 1300)) /dev/zero >"$W/files/f$i"
	done
	cat "$W/files"/* | wc -c >/dev/null
	for i in 1 2 3 4 5 6 7 8; do
		mv "$W/files/f$i" "$W/files/g$i"
	done
	rm -f "$W/files"/g*
	ls -l /usr/bin >/dev/null
	sh -c 'echo x | cat >/dev/null'
}

# A perl started before the recording (its start-up under TCG takes about a
# second) makes a 1 MiB pipe for each line it reads.
if [ -n "$perl" ]; then
	exec 8> >("$perl" -e '$| = 1; while (<STDIN>) { pipe(R, W) or die; fcntl(W, 1031, 1048576) or die "F_SETPIPE_SZ: $!"; close(R); close(W); }')
fi

trace="$T_TMP/trace.csv"
t0=$SECONDS
"$KSLUB_RECORD" --duration 3 --output "$trace" 2>"$T_TMP/record.log" &
rec=$!
# The recorder prints its "recording" line once attached.
for _ in $(seq 1 100); do
	grep -q 'recording' "$T_TMP/record.log" && break
	kill -0 "$rec" 2>/dev/null || break
	sleep 0.1
done
rounds=0
while kill -0 "$rec" 2>/dev/null; do
	workload_round
	rounds=$((rounds + 1))
done
[ -z "$perl" ] || exec 8>&-
if wait "$rec"; then
	ok "kslub-record --duration 3 ($((SECONDS - t0)) s, $rounds rounds of workload)"
else
	not_ok "kslub-record --duration 3"
	sed 's/^/# /' "$T_TMP/record.log"
	finish
fi
sed 's/^/# record: /' "$T_TMP/record.log"

expect_eq "metadata: the guest kernel" "# kernel=$rel" "$(sed -n 1p "$trace")"
expect_eq "metadata: the possible CPUs" "# cpus=$(($(cut -d- -f2 /sys/devices/system/cpu/possible) + 1))" \
	"$(sed -n 2p "$trace")"
check "metadata: lost events line" grep -qE '^# lost=[0-9]+$' <(sed -n 3p "$trace")
# The metadata: every '# ' line before the header (kernel, cpus, lost, then
# lost_ringbuf and lost_recursion, whose sum lost is).
meta=$(awk '/^# / { n++; next } { exit } END { print n + 0 }' "$trace" 2>/dev/null)
lost=$(sed -n 's/^# lost=\([0-9][0-9]*\)$/\1/p' "$trace" | head -1)
ringbuf=$(sed -n 's/^# lost_ringbuf=\([0-9][0-9]*\)$/\1/p' "$trace" | head -1)
recursion=$(sed -n 's/^# lost_recursion=\([0-9][0-9]*\)$/\1/p' "$trace" | head -1)
if [ -n "$ringbuf" ] || [ -n "$recursion" ]; then
	expect_eq "metadata: lost = lost_ringbuf + lost_recursion" "$lost" "$((${ringbuf:-0} + ${recursion:-0}))"
fi
header=$((${meta:-0} + 1))
expect_eq "the CSV header (line $header, after the metadata)" "ts_ns,cpu,event,ptr,call_site,bytes_req,bytes_alloc,gfp_flags,cache" \
	"$(sed -n "${header}p" "$trace")"
lines=$(wc -l <"$trace")
records=$((lines - header))
check "more than 1000 events recorded ($records)" [ "$records" -gt 1000 ]
cache_named=$(awk -F, -v h="$header" 'NR > h && $3 == "cache_alloc" && $9 != "" { n++ } END { print n + 0 }' "$trace")
diag "cache_alloc events with a cache name: $cache_named (the kmem_cache_alloc tracepoint of $series)"

declare -A count
for e in kmalloc kfree cache_alloc cache_free page_alloc page_free; do
	count[$e]=0
done
while read -r n e; do
	count[$e]=$n
done < <(awk -F, -v h="$header" 'NR > h { n[$3]++ } END { for (e in n) print n[e], e }' "$trace")

rc=0
"$KSLUB_REPLAY" "$trace" --kernel "$series" --pool 192 --json >"$T_TMP/replay.json" 2>"$T_TMP/replay.err" || rc=$?
expect_eq "kslub-replay --kernel $series: exit status 0 (every line accepted)" 0 "$rc"
[ "$rc" -eq 0 ] || head -20 "$T_TMP/replay.err" | sed 's/^/# /'

val()
{
	sed -n "s/^  \"$1\": \([0-9.]*\),\{0,1\}\$/\1/p" "$T_TMP/replay.json"
}
expect_eq "replay: lines read" "$lines" "$(val lines)"
expect_eq "replay: records accepted" "$records" "$(val records)"
expect_eq "replay: malformed lines" 0 "$(val malformed_lines)"
for e in kmalloc kfree cache_alloc cache_free page_alloc page_free; do
	expect_eq "replay: $e events" "${count[$e]}" "$(val "events_$e")"
done
kmalloc=$(val kmalloc_events)
agree=$(val kmalloc_size_class_agree)
check "kmalloc events recorded (${kmalloc:-none})" [ "${kmalloc:-0}" -gt 0 ]
expect_eq "size classes agree on every kmalloc event" "$kmalloc" "$agree"
[ "$kmalloc" = "$agree" ] || grep -A6 '"mismatches"' "$T_TMP/replay.json" | sed 's/^/# /'
if [ -n "$perl" ]; then
	check "large kmalloc recorded ($(val kmalloc_large_events))" [ "$(val kmalloc_large_events)" -gt 0 ]
fi
# Unnamed cache_alloc events (kmem_cache_alloc has no name before 6.18):
# one kslub cache "anon-<size>" per object size.
anon_sizes=$(awk -F, -v h="$header" 'NR > h && $3 == "cache_alloc" && $9 == "" { print $7 }' "$trace" | sort -u | grep -c .)
anon_caches=$(grep -c '"name": "anon-' "$T_TMP/replay.json")
expect_eq "replay: one anon cache per object size of unnamed cache_alloc events" "$anon_sizes" "$anon_caches"
expect_eq "replay: no cache refused" 0 "$(val cache_create_failures)"
expect_eq "kslub reported nothing" 0 "$(val kslub_reports)"
expect_eq "kslub refused no free" 0 "$(val kslub_free_errors)"
diag "recorded $records events ($(val lost) lost) on $(val trace_cpus) CPUs in 3 s;" \
	"size classes agree on $agree of $kmalloc kmalloc events ($(val kmalloc_large_events) large);" \
	"LIFO reuse: kernel $(val reuse_kernel_lifo), kslub $(val reuse_kslub_lifo) of $(val reuse_eligible);" \
	"replay $(val replay_events_per_second) events/s"
# The text report, trimmed, for the record.
"$KSLUB_REPLAY" "$trace" --kernel "$series" --pool 192 --top 8 2>/dev/null | sed 's/^/# report: /'
[ -z "${KSLUB_OUT:-}" ] || cp "$trace" "$KSLUB_OUT/trace-$series.csv" 2>/dev/null || true

finish
