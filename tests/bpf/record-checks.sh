# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The record/replay checks of the eBPF tests, written once for both kernels
# they run on: the host's (tests/bpf/record-replay-test.sh, CTest
# bpf.record_replay) and a guest's in QEMU (tests/bpf/guest-record-test.sh,
# vm.bpf.record.*). Sourced by bash after tests/vm/guest/lib.sh, whose TAP
# functions (ok, not_ok, check, expect_eq, diag) and scratch folder (T_TMP)
# they use. tests/scripts/bpf-selftest.sh and vm-selftest.sh run both
# scripts on corrupted traces of a stand-in recorder, which must fail them.
#
#   record_trace RECORDER TRACE
#       RECORDER --duration 3 --output TRACE, and, from the moment it says
#       it is recording until it exits, the caller's function workload_round
#       in a loop; status 1 (after a not ok) when the recorder fails.
#   check_trace TRACE
#       the metadata lines (this kernel, its possible CPUs, lost events as
#       the sum of lost_ringbuf and lost_recursion where those follow), the
#       CSV header after them, more than 1000 events; counts the events per
#       type (EVENT_COUNT) and sets TRACE_LINES and TRACE_RECORDS; status 1
#       when there is no trace to replay.
#   check_replay REPLAY TRACE [ARGS...]
#       REPLAY TRACE ARGS --json: exit status 0 (every line accepted), its
#       counts equal the CSV's, size classes agree on every kmalloc event
#       (large ones too when RECORD_LARGE=1: the workload made some), one
#       anon-<size> cache per object size of the unnamed cache_alloc
#       events, no cache refused, no kslub report, no free refused.

RECORD_EVENTS="kmalloc kfree cache_alloc cache_free page_alloc page_free"
RECORD_HEADER="ts_ns,cpu,event,ptr,call_site,bytes_req,bytes_alloc,gfp_flags,cache"
declare -A EVENT_COUNT=()
TRACE_LINES=0
TRACE_RECORDS=0
TRACE_HEADER_LINE=0

record_trace()
{
	local record="$1" trace="$2" rec t0=$SECONDS rounds=0
	"$record" --duration 3 --output "$trace" 2>"$T_TMP/record.log" &
	rec=$!
	# The recorder prints its "recording" line once attached.
	for _ in $(seq 1 100); do
		grep -q 'recording' "$T_TMP/record.log" && break
		kill -0 "$rec" 2>/dev/null || break
		sleep 0.1
	done
	while kill -0 "$rec" 2>/dev/null; do
		workload_round
		rounds=$((rounds + 1))
	done
	if wait "$rec"; then
		ok "kslub-record --duration 3 ($((SECONDS - t0)) s, $rounds rounds of workload)"
		sed 's/^/# record: /' "$T_TMP/record.log"
		return 0
	fi
	not_ok "kslub-record --duration 3"
	sed 's/^/# /' "$T_TMP/record.log"
	return 1
}

# meta_value TRACE NAME: N of the first metadata line "# NAME=N" (empty if none).
meta_value()
{
	sed -n "/^# $2=[0-9][0-9]*\$/{s/^# $2=//p;q;}" "$1"
}

check_trace()
{
	local trace="$1" meta lost ringbuf recursion possible n e
	if [ -s "$trace" ]; then
		ok "the recorder wrote a trace ($(wc -c <"$trace") bytes)"
	else
		not_ok "the recorder wrote a trace"
		return 1
	fi
	expect_eq "metadata: this kernel" "# kernel=$(uname -r)" "$(sed -n 1p "$trace")"
	possible="$(cut -d- -f2 /sys/devices/system/cpu/possible)"
	expect_eq "metadata: the possible CPUs" "# cpus=$((possible + 1))" "$(sed -n 2p "$trace")"
	if [[ "$(sed -n 3p "$trace")" =~ ^#\ lost=[0-9]+$ ]]; then
		ok "metadata: the lost events ($(sed -n 3p "$trace"))"
	else
		not_ok "metadata: the lost events (line 3: '$(sed -n 3p "$trace")')"
	fi
	lost="$(meta_value "$trace" lost)"
	ringbuf="$(meta_value "$trace" lost_ringbuf)"
	recursion="$(meta_value "$trace" lost_recursion)"
	if [ -n "$ringbuf" ] || [ -n "$recursion" ]; then
		expect_eq "metadata: lost = lost_ringbuf + lost_recursion" "$lost" "$((${ringbuf:-0} + ${recursion:-0}))"
	fi
	# The metadata: every '# ' line before the header.
	meta="$(awk '/^# / { n++; next } { exit } END { print n + 0 }' "$trace")" ||
		{ not_ok "counting the metadata lines of $trace"; return 1; }
	TRACE_HEADER_LINE=$((meta + 1))
	expect_eq "the CSV header (line $TRACE_HEADER_LINE, after the metadata)" "$RECORD_HEADER" \
		"$(sed -n "${TRACE_HEADER_LINE}p" "$trace")"
	TRACE_LINES="$(wc -l <"$trace")"
	TRACE_RECORDS=$((TRACE_LINES - TRACE_HEADER_LINE))
	check "more than 1000 events recorded ($TRACE_RECORDS)" [ "$TRACE_RECORDS" -gt 1000 ]
	EVENT_COUNT=()
	for e in $RECORD_EVENTS; do
		EVENT_COUNT[$e]=0
	done
	if ! awk -F, -v h="$TRACE_HEADER_LINE" 'NR > h { n[$3]++ } END { for (e in n) print n[e], e }' \
		"$trace" >"$T_TMP/counts"; then
		not_ok "counting the events of $trace"
		return 1
	fi
	while read -r n e; do
		EVENT_COUNT[$e]=$n
	done <"$T_TMP/counts"
	diag "events in the CSV: $(for e in $RECORD_EVENTS; do printf '%s %s ' "$e" "${EVENT_COUNT[$e]}"; done)"
	return 0
}

# replay_value NAME: the number "NAME" of the replay's JSON report ("missing" if none).
replay_value()
{
	local v
	v="$(sed -n "s/^  \"$1\": \\([0-9.]*\\),\\{0,1\\}\$/\\1/p" "$T_TMP/replay.json")"
	echo "${v:-missing}"
}

# count_awk DESCRIPTION AWK_ARGS...: the number awk prints, or "awk failed:
# DESCRIPTION" (which no number and no other such text equals).
count_awk()
{
	local what="$1" v
	shift
	if v="$(awk "$@")"; then
		echo "$v"
	else
		echo "awk failed: $what"
	fi
}

check_replay()
{
	local replay="$1" trace="$2" rc=0 e kmalloc agree anon_sizes anon_caches
	shift 2
	"$replay" "$trace" "$@" --json >"$T_TMP/replay.json" 2>"$T_TMP/replay.err" || rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "kslub-replay${*:+ $*}: exit status 0 (every line accepted)"
	else
		not_ok "kslub-replay${*:+ $*}: exit status 0 (every line accepted): got $rc (3: malformed lines)"
		head -n 20 "$T_TMP/replay.err" | sed 's/^/# /'
	fi
	expect_eq "replay: lines read" "$TRACE_LINES" "$(replay_value lines)"
	expect_eq "replay: records accepted" "$TRACE_RECORDS" "$(replay_value records)"
	expect_eq "replay: malformed lines" 0 "$(replay_value malformed_lines)"
	for e in $RECORD_EVENTS; do
		expect_eq "replay: $e events" "${EVENT_COUNT[$e]}" "$(replay_value "events_$e")"
	done
	kmalloc="$(replay_value kmalloc_events)"
	agree="$(replay_value kmalloc_size_class_agree)"
	check "kmalloc events recorded ($kmalloc)" [ "$kmalloc" -gt 0 ]
	if [[ "$kmalloc" =~ ^[0-9]+$ ]] && [ "$kmalloc" = "$agree" ]; then
		ok "size classes agree on every kmalloc event ($agree of $kmalloc)"
	else
		not_ok "size classes agree on every kmalloc event ($agree of $kmalloc)"
		grep -A6 '"mismatches"' "$T_TMP/replay.json" | sed 's/^/# /'
	fi
	if [ "${RECORD_LARGE:-0}" = 1 ]; then
		check "large kmalloc recorded ($(replay_value kmalloc_large_events))" [ "$(replay_value kmalloc_large_events)" -gt 0 ]
	fi
	# Unnamed cache_alloc events (kmem_cache_alloc has no name before 6.18):
	# one kslub cache "anon-<size>" per object size.
	anon_sizes="$(count_awk "object sizes of unnamed cache_alloc events" -F, -v h="$TRACE_HEADER_LINE" \
		'NR > h && $3 == "cache_alloc" && $9 == "" { s[$7] = 1 } END { n = 0; for (k in s) n++; print n }' "$trace")"
	anon_caches="$(count_awk "anon caches of the replay" '/"name": "anon-/ { n++ } END { print n + 0 }' "$T_TMP/replay.json")"
	expect_eq "replay: one anon cache per object size of unnamed cache_alloc events" "$anon_sizes" "$anon_caches"
	expect_eq "replay: no cache refused" 0 "$(replay_value cache_create_failures)"
	expect_eq "kslub reported nothing" 0 "$(replay_value kslub_reports)"
	expect_eq "kslub refused no free" 0 "$(replay_value kslub_free_errors)"
	diag "recorded $TRACE_RECORDS events ($(replay_value lost) lost) on $(replay_value trace_cpus) CPUs;" \
		"size classes agree on $agree of $kmalloc kmalloc events ($(replay_value kmalloc_large_events) large);" \
		"LIFO reuse: kernel $(replay_value reuse_kernel_lifo), kslub $(replay_value reuse_kslub_lifo)" \
		"of $(replay_value reuse_eligible); replay $(replay_value replay_events_per_second) events/s"
}
