#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.hotplug.* tests (best with --smp 4): a stress run on
# kmalloc-192 while CPUs 1..N-1 go offline and online in turn, and validate
# and shrink (written to the cache's own files) flush every CPU (by IPI; on PREEMPT_RT by a work item per CPU) at the
# same time; then a stress run on a cache made through control with CPU 1
# down for its whole length. Every run must end with no fill or free error
# and validate 0; then validate of every cache finds nothing, the self-test
# passes again and the module unloads.
#
#   tests/vm/run-module.sh --kernel 6.12 --smp 4 --script tests/vm/guest/module-hotplug.sh
#
# TAP lines (guest/lib.sh), exit status 1 if any check failed.
# Environment: KSLUB_KO (required), KSLUB_HOTPLUG_ROUNDS (default 6),
# KSLUB_HOTPLUG_OPS (stress operations per CPU, default 3000000),
# KSLUB_INSMOD_ARGS (default pool_mb=64).
set -uo pipefail

. "$(dirname "$0")/lib.sh"
D="$KSLUB_DEBUGFS"
ROUNDS="${KSLUB_HOTPLUG_ROUNDS:-6}"
OPS="${KSLUB_HOTPLUG_OPS:-3000000}"
NCPUS="$(grep -c ^processor /proc/cpuinfo)"
CPU_SYS=/sys/devices/system/cpu

# put FILE VALUE: VALUE written to FILE (its status: the write's).
put() { echo "$2" >"$1"; }
# readable FILE...: every FILE reads to its end.
readable() { cat "$@" >/dev/null; }

diag "Linux $(uname -r), $NCPUS CPUs, module $KSLUB_KO"
if [ "$NCPUS" -lt 2 ]; then
	not_ok "at least 2 CPUs for CPU hotplug ($NCPUS)"
	finish
fi
KSLUB_INSMOD_ARGS="${KSLUB_INSMOD_ARGS:-pool_mb=64}"
load_module
ctl_ok "create hp 200" "create hp 200" '^create hp'
if [ "$CTL_ERR" != OK ]; then
	unload_module
	finish
fi

# --- CPUs 1..N-1 offline and online in turn under a stress run ---------------------
# The stress write returns when the run is over: in the background, its
# errno and result line back through files.
(
	ctl "stress kmalloc-192 $OPS"
	echo "$CTL_ERR" >"$T_TMP/stress.err"
	echo "$CTL_RESULT" >"$T_TMP/stress.result"
) &
stress_pid=$!
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	c=$((r % (NCPUS - 1) + 1))
	check "round $r: cpu$c offline during stress" put "$CPU_SYS/cpu$c/online" 0
	check "round $r: validate file of kmalloc-192 (flushes every CPU)" put "$D/caches/kmalloc-192/validate" 1
	check "round $r: shrink file of kmalloc-192 (flushes every CPU)" put "$D/caches/kmalloc-192/shrink" 1
	check "round $r: cpu_slabs and slabinfo read" readable "$D/caches/kmalloc-192/cpu_slabs" "$D/slabinfo"
	check "round $r: cpu$c online again" put "$CPU_SYS/cpu$c/online" 1
	r=$((r + 1))
done
wait "$stress_pid"
expect_eq "stress kmalloc-192: the control write succeeds" OK "$(cat "$T_TMP/stress.err" 2>/dev/null)"
result="$(cat "$T_TMP/stress.result" 2>/dev/null)"
if [[ "$result" =~ \ 0\ errors,\ validate\ 0 ]]; then
	ok "stress kmalloc-192 under hotplug: 0 errors, validate 0 ($result)"
else
	not_ok "stress kmalloc-192 under hotplug: 0 errors, validate 0 (result: '$result')"
fi
sed 's/^/#   stress: /' "$D/stress"

# --- a run with CPU 1 down throughout -------------------------------------------------------
check "cpu1 offline for the whole second run" put "$CPU_SYS/cpu1/online" 0
ctl_ok "stress hp 200000 with cpu1 offline" "stress hp 200000" ' 0 errors, validate 0'
check "cpu1 online again" put "$CPU_SYS/cpu1/online" 1
expect_eq "online CPUs after the runs" "0-$((NCPUS - 1))" "$(cat "$CPU_SYS/online")"
# Each write's own status counts, then its result line (a refused write
# leaves the previous result in control).
ctl_ok "validate hp" "validate hp" ': 0 errors'
ctl_ok "destroy hp" "destroy hp" 'destroyed'

# --- every cache validates ------------------------------------------------------------------
n=0
for d in "$D"/caches/*/; do
	c="$(basename "$d")"
	n=$((n + 1))
	ctl_ok "validate $c" "validate $c" ': 0 errors'
done
check "validated $n caches, the 13 kmalloc caches at least" [ "$n" -ge 13 ]
# The re-run's report must hold results ("ok"), not just no "not ok".
check "selftest re-run on write" put "$D/selftest" 1
selftest_passed "re-run"
unload_module
dmesg | grep -E "offline|affine|kslub" | tail -n 25 | sed 's/^/# dmesg: /'
finish
