#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script of the vm.bpf.compare.* tests: bpf/kslub_compare.bt and
# bpf/kslub_slabratetop.bt on the kslub module's tracepoints and the
# kernel's kmem ones.
#
# Both bpftrace scripts run in the background while
#   - one task (a subshell, started before bpftrace so that its PID can be
#     passed) writes "compare SIZE OPS" to control;
#   - this shell allocates N objects into a cache of its own through control.
# compare runs, in the writing task, three caches of SIZE bytes: kslub's TID
# design (kslub-compare-tid), kslub's sheaves (kslub-compare-sheaves) and a
# kmem_cache_create() cache (kslub_compare), each under three patterns of OPS
# operations (an allocation and its free are 2), twice: pair (alloc, free) and
# batch (32 allocations, freed in reverse) allocate and free one object at a
# time, OPS/2 allocations per pass each (OPS even); bulk goes through
# kmem_cache_alloc_bulk / kmem_cache_free_bulk, which fire no per-object
# tracepoint, neither the kernel's (mm/slub.c: kmem_cache_alloc_bulk and
# kmem_cache_free_bulk have no trace_kmem_cache_*) nor kslub's. So each cache
# sees 2 * OPS traced allocations and 2 * OPS traced frees. kslub_compare.bt,
# filtered by that task's PID, COMM and SIZE, must count exactly those, both
# designs of kslub side by side, and kslub_slabratetop.bt must show the kslub
# caches with their allocations.
# Needs $KSLUB_KO and bpftrace:
#
#   tests/vm/run-module.sh --kernel 6.12 --smp 2 --script tests/bpf/guest-compare-test.sh
set -uo pipefail
. "$(dirname "$0")/../vm/guest/lib.sh"

BPF_DIR="$(cd "$(dirname "$0")/../../bpf" && pwd)"
SIZE=360
OPS=2000
OWN=rt-96
OWN_N=50

ulimit -l unlimited 2>/dev/null || diag "ulimit -l unlimited refused: $(ulimit -l)"
if ! command -v bpftrace >/dev/null; then
	not_ok "bpftrace is installed"
	finish
fi
diag "$(bpftrace --version) on $(uname -r)"
load_module

# The writing task: waits for the go, then writes the command (a builtin echo:
# the write is the subshell's own).
mkfifo "$T_TMP/go"
(
	read -r _ <"$T_TMP/go"
	echo "compare $SIZE $OPS" >"$KSLUB_DEBUGFS/control"
	echo "$?" >"$T_TMP/compare.rc"
) &
writer=$!
writer_comm=$(cat "/proc/$writer/comm")
diag "writer: PID $writer, COMM $writer_comm"
# Holds the fifo's write end open until the go, so the writer does not see EOF.
exec 7<>"$T_TMP/go"

# bpftrace ignores nothing: SIGINT (its Ctrl-C) works in a background job when
# job control is on.
set -m
t0=$SECONDS
bpftrace "$BPF_DIR/kslub_compare.bt" "$writer" "$SIZE" "$writer_comm" >"$T_TMP/compare.out" 2>&1 &
bt_cmp=$!
bpftrace "$BPF_DIR/kslub_slabratetop.bt" 1 >"$T_TMP/top.out" 2>&1 &
bt_top=$!
set +m

# wait_attached FILE PID: bpftrace printed its "Attaching" line (up to 120 s:
# its start-up takes about 15 s under TCG).
wait_attached()
{
	local i
	for i in $(seq 1 240); do
		grep -q '^Attaching' "$1" && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.5
	done
	return 1
}
if wait_attached "$T_TMP/compare.out" "$bt_cmp" && wait_attached "$T_TMP/top.out" "$bt_top"; then
	ok "both bpftrace scripts attached ($((SECONDS - t0)) s)"
else
	not_ok "both bpftrace scripts attached"
	sed 's/^/# compare: /' "$T_TMP/compare.out"
	sed 's/^/# top: /' "$T_TMP/top.out"
	kill -INT "$bt_cmp" "$bt_top" 2>/dev/null
	echo go >&7
	wait
	unload_module
	finish
fi
sleep 1

ctl_ok "create $OWN 96" "create $OWN 96"
ctl_ok "alloc $OWN $OWN_N" "alloc $OWN $OWN_N"
echo go >&7
wait "$writer"
exec 7>&-
expect_eq "compare $SIZE $OPS succeeded" 0 "$(cat "$T_TMP/compare.rc" 2>/dev/null)"
sed "s/^/# /" "$KSLUB_DEBUGFS/compare"
# A report of slabratetop after the work.
sleep 2.5
# stop_bt PID NAME: SIGINT, and its exit status. A bpftrace still running
# 30 s later gets a second SIGINT (one was seen lost once, in a run that
# then hung until the harness's timeout), and after 30 s more SIGKILL, which
# fails the check with what happened.
stop_bt()
{
	local i rc
	kill -INT "$1"
	for i in $(seq 1 120); do
		kill -0 "$1" 2>/dev/null || break
		[ "$i" = 60 ] && { diag "$2 still running 30 s after SIGINT: sent it again"; kill -INT "$1"; }
		sleep 0.5
	done
	if kill -0 "$1" 2>/dev/null; then
		kill -KILL "$1"
		wait "$1"
		not_ok "$2 exits 0 on SIGINT (still running 60 s after it: killed)"
		return
	fi
	wait "$1"
	rc=$?
	expect_eq "$2 exits 0 on SIGINT" 0 "$rc"
}
stop_bt "$bt_cmp" kslub_compare.bt
stop_bt "$bt_top" kslub_slabratetop.bt
sed 's/^/# compare: /' "$T_TMP/compare.out"

# "@map[k1, k2]: N" -> N, summed over the lines of that key (0 when absent).
map_val()
{
	awk -v key="$1]: " 'index($0, key) { sub(/.*]: /, ""); s += $1 } END { print s + 0 }' "$2"
}
N=$((2 * OPS))
expect_eq "kslub allocations of $SIZE bytes by the writer (two caches)" $((2 * N)) "$(map_val "@alloc[kslub, $SIZE" "$T_TMP/compare.out")"
expect_eq "kernel allocations of $SIZE bytes by the writer" "$N" "$(map_val "@alloc[kernel, $SIZE" "$T_TMP/compare.out")"
expect_eq "kslub frees, cache kslub-compare-tid" "$N" "$(map_val "@free[kslub, kslub-compare-tid" "$T_TMP/compare.out")"
expect_eq "kslub frees, cache kslub-compare-sheaves" "$N" "$(map_val "@free[kslub, kslub-compare-sheaves" "$T_TMP/compare.out")"
expect_eq "kernel frees, cache kslub_compare" "$N" "$(map_val "@free[kernel, kslub_compare" "$T_TMP/compare.out")"
expect_eq "no other allocations pass the filter" 2 "$(grep -c '^@alloc\[' "$T_TMP/compare.out")"
expect_eq "no other frees" 3 "$(grep -c '^@free\[' "$T_TMP/compare.out")"
check "lifetime histograms of both allocators" grep -q '^@lifetime_ns\[kslub\]' "$T_TMP/compare.out"
check "lifetime histogram of the kernel" grep -q '^@lifetime_ns\[kernel\]' "$T_TMP/compare.out"

# slabratetop: the reports summed over the run.
grep -E '^@kslub_allocs|^[0-9][0-9]:' "$T_TMP/top.out" | sed 's/^/# top: /'
# Each report prints the maps, then clears them: events counted in between
# are lost (seen here: 1999 of the 2000 allocations of compare when a report
# fell in the middle of it). The sums are at most the allocations made, and
# show up.
in_range()
{
	[ "$2" -ge "$1" ] && [ "$2" -le "$3" ]
}
n=$(map_val "@kslub_allocs[$OWN" "$T_TMP/top.out")
check "slabratetop: $OWN shows up, $n of $OWN_N allocations" in_range 1 "$n" "$OWN_N"
b=$(map_val "@kslub_bytes[$OWN" "$T_TMP/top.out")
check "slabratetop: $OWN bytes: 96 per allocation ($b)" [ "$b" -eq $((n * 96)) ]
# compare runs long enough for reports to fall in the middle of it, and
# there a count can come back after its clear(): the BPF program read the
# per-CPU value before userspace deleted the key and writes it back, plus
# one, after (seen: 1800 in one report, 4000 in the next, of 4000). So no
# report may show more than the cache's allocations; the sum may.
map_max()
{
	awk -v key="$1]: " 'index($0, key) { sub(/.*]: /, ""); if ($1 > m) m = $1 } END { print m + 0 }' "$2"
}
for c in kslub-compare-tid kslub-compare-sheaves; do
	n=$(map_max "@kslub_allocs[$c" "$T_TMP/top.out")
	check "slabratetop: $c shows up, at most $N allocations in a report ($n)" in_range 1 "$n" "$N"
done
check "slabratetop: kernel caches reported" grep -q '^@kernel_allocs\[' "$T_TMP/top.out"

# The outputs, for vm.sh --out DIR.
if [ -n "${KSLUB_OUT:-}" ]; then
	cp "$T_TMP/compare.out" "$T_TMP/top.out" "$KSLUB_OUT/" || diag "could not copy the outputs to $KSLUB_OUT"
fi

ctl_ok "free $OWN $OWN_N" "free $OWN $OWN_N"
ctl_ok "destroy $OWN" "destroy $OWN"
unload_module
finish
