#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script of the vm.bpf.record.* tests: kslub-record on the guest
# kernel, kslub-replay of its trace. Records 3 s of the kernel's kmem
# tracepoints (CO-RE relocated against the guest kernel's BTF) while files,
# processes and pipes make the kernel allocate (kslub.ko is not involved),
# then checks it with tests/bpf/record-checks.sh (the same checks as the
# host's record-replay-test.sh), the replay with the guest series' alignment
# rules:
#   - the metadata lines name the guest kernel and its possible CPUs, and
#     say how many events were lost (the sum of the parts that follow);
#   - the replay accepts every line and its event counts are those of the CSV;
#   - size classes agree on 100% of the kmalloc events, large ones included;
#     one anon-<size> cache per object size of the unnamed cache_alloc events;
#   - the replay made kslub report nothing and refuse no free.
# Needs $KSLUB_RECORD and $KSLUB_REPLAY (host binaries; tests/bpf/CMakeLists.txt
# passes them with --env):
#
#   tests/vm/vm.sh --kernel 6.12 --smp 2 --script tests/bpf/guest-record-test.sh \
#       --env KSLUB_RECORD=build/bpf/kslub-record --env KSLUB_REPLAY=build/kslub-replay
set -uo pipefail
. "$(dirname "$0")/../vm/guest/lib.sh"
. "$(dirname "$0")/record-checks.sh"

: "${KSLUB_RECORD:?KSLUB_RECORD (the path of kslub-record) is not set}"
: "${KSLUB_REPLAY:?KSLUB_REPLAY (the path of kslub-replay) is not set}"
ulimit -l unlimited 2>/dev/null || diag "ulimit -l unlimited refused: $(ulimit -l)"

rel=$(uname -r)
# The geometry rules of the guest's kernel (kslub-replay --kernel).
case "$rel" in
6.1.*) series=6.1 ;;
6.18.*) series=6.18 ;;
7.*) series=7.3 ;;
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
perl=$(command -v perl) || perl=""
# Kernel allocation traffic, independent of kslub: files written, read,
# renamed and removed; processes; pipes, one resized to 1 MiB per round (its
# 256 pipe_buffers are a kmalloc above 8 KiB) when perl is there.
# One round; record_trace repeats it until the recorder exits (under TCG a
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
	RECORD_LARGE=1
	exec 8> >("$perl" -e '$| = 1; while (<STDIN>) { pipe(R, W) or die; fcntl(W, 1031, 1048576) or die "F_SETPIPE_SZ: $!"; close(R); close(W); }')
fi

trace="$T_TMP/trace.csv"
recorded=0
record_trace "$KSLUB_RECORD" "$trace" && recorded=1
[ -z "$perl" ] || exec 8>&-
if [ "$recorded" = 1 ] && check_trace "$trace"; then
	cache_named=$(count_awk "named cache_alloc events" -F, -v h="$TRACE_HEADER_LINE" \
		'NR > h && $3 == "cache_alloc" && $9 != "" { n++ } END { print n + 0 }' "$trace")
	diag "cache_alloc events with a cache name: $cache_named (the kmem_cache_alloc tracepoint of $series)"
	check_replay "$KSLUB_REPLAY" "$trace" --kernel "$series" --pool 192
	# The text report, trimmed, for the record.
	"$KSLUB_REPLAY" "$trace" --kernel "$series" --pool 192 --top 8 2>/dev/null | sed 's/^/# report: /'
	if [ -n "${KSLUB_OUT:-}" ]; then
		cp "$trace" "$KSLUB_OUT/trace-$series.csv" || diag "could not copy the trace to $KSLUB_OUT"
	fi
fi
finish
