#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host test (CTest bpf.record_replay, label bpf): record 3 seconds of the
# running kernel's kmem tracepoints with kslub-record while a small workload
# makes the kernel allocate, then replay the trace with kslub-replay and
# check it (tests/bpf/record-checks.sh, the same checks as the guest's
# guest-record-test.sh):
#   - the metadata lines (this kernel, its possible CPUs, lost events as the
#     sum of lost_ringbuf and lost_recursion where those follow), then the
#     header of the trace format, more than 1000 events;
#   - it round-trips: the replayer accepts every line, and its event counts
#     equal the counts of the CSV taken by awk;
#   - size classes agree on 100% of the kmalloc events, large ones included
#     (the workload resizes pipes to 1 MiB, a kmalloc above 8 KiB, when perl is
#     there to call F_SETPIPE_SZ); one anon-<size> cache per object size of
#     the unnamed cache_alloc events;
#   - the replay made kslub report nothing and refuse no free.
# TAP lines (tests/vm/guest/lib.sh), exit status 1 if any check failed.
# Exit 77 (skipped) only when BPF cannot run at all: not root.
#
# usage: tests/bpf/record-replay-test.sh KSLUB_RECORD KSLUB_REPLAY
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
record=${1:?usage: record-replay-test.sh KSLUB_RECORD KSLUB_REPLAY}
replay=${2:?usage: record-replay-test.sh KSLUB_RECORD KSLUB_REPLAY}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: not root: loading BPF programs on the kmem tracepoints needs root (CAP_BPF, CAP_PERFMON)"
	exit 77
fi
# shellcheck source=../vm/guest/lib.sh
. "$here/../vm/guest/lib.sh"
# shellcheck source=record-checks.sh
. "$here/record-checks.sh"
trap 'rm -rf "$T_TMP"' EXIT

diag "Linux $(uname -r), $(nproc) CPUs online"
# check() reports but always returns 0 (the guest scripts run under set -e),
# so the preconditions are tested here and reported as one line each.
if test -r /sys/kernel/btf/vmlinux; then
	ok "BTF of the running kernel (kslub-record needs it)"
else
	not_ok "BTF of the running kernel (kslub-record needs it)"
	finish
fi
if [ ! -d /sys/kernel/tracing/events/kmem ] && [ ! -d /sys/kernel/debug/tracing/events/kmem ]; then
	if mount -t tracefs none /sys/kernel/tracing; then
		ok "tracefs mounted (it was not)"
	else
		not_ok "tracefs mounted (it was not)"
		finish
	fi
fi
ulimit -l unlimited 2>/dev/null || diag "ulimit -l unlimited refused: $(ulimit -l)"

W="$T_TMP/work"
mkdir -p "$W/files"
perl=$(command -v perl) || perl=""
# A 1 MiB pipe each round when perl is there: its ring of 256 pipe_buffers
# is a kmalloc above 8 KiB (kmalloc_large).
[ -z "$perl" ] || RECORD_LARGE=1
# Kernel allocation traffic, one round (record_trace repeats it while the
# recorder runs): files created, read, renamed and removed; processes
# forked; pipes.
workload_round()
{
	local i
	for i in $(seq 1 40); do
		head -c $((i * 700)) /dev/zero >"$W/files/f$i"
	done
	cat "$W/files"/* | wc -c >/dev/null
	for i in $(seq 1 40); do
		mv "$W/files/f$i" "$W/files/g$i"
	done
	rm -f "$W/files"/g*
	ls -lR /usr/include >/dev/null 2>&1
	sh -c 'true'
	sh -c 'echo x | cat >/dev/null'
	if [ -n "$perl" ]; then
		"$perl" -e 'pipe(R, W) or die; fcntl(W, 1031, 1048576) or die "F_SETPIPE_SZ: $!"'
	fi
}

trace="$T_TMP/trace.csv"
if record_trace "$record" "$trace" && check_trace "$trace"; then
	check_replay "$replay" "$trace"
fi
finish
