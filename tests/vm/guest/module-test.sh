#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.module.* tests: kslub.ko in a booted kernel, driven and
# checked through /sys/kernel/debug/kslub. Run by tests/vm/run-module.sh (which
# sets KSLUB_KO to the module of --ko, or to one it builds first):
#
#   tests/vm/run-module.sh --kernel 6.1 --smp 2 --script tests/vm/guest/module-test.sh
#
# One line per check ("ok N - what" / "not ok N - what"), the plan line at the
# end, exit status 1 if any check failed. In order:
#   load: insmod, the debugfs files, the self-test's KTAP report, buddyinfo's zone;
#   show: slabinfo parsed line by line, every file of every caches/<name>/
#     (the 29 of 6.1's /sys/kernel/slab/<name>/, sheaf_capacity too where
#     the kernel has it (6.18 on), and the 43 stat counters), the 14 caches
#     of a fresh load;
#   geometry: kslub's kmalloc caches against this kernel's /sys/kernel/slab,
#     under the rules kslub.ko follows on this kernel (6.1, 6.12, 6.18, 7.3;
#     which files it compares and which not, and why, is printed first);
#   control: create, alloc, free, validate, shrink, kmalloc, kfree-all, destroy;
#     the pool exhausted (ENOMEM) and working again; shrink and validate
#     through a cache's own files;
#   stress: `stress NAME OPS` (OPS per CPU) while a CPU goes offline and comes back;
#   compare: `compare SIZE OPS` gives, for pair, batch and bulk, the figures of
#     kslub's two designs and the kernel's cache, and their ratios;
#   end: buddyinfo as right after load once everything is freed; the
#     self-test run again by a write; rmmod with objects still held by
#     control (given back first).
# (The checks of the former module/tests/guest-smoke.sh are among these.)
# Environment: KSLUB_KO (required), KSLUB_STRESS_OPS (per CPU, default 5000000),
# KSLUB_COMPARE_OPS (default 20000), KSLUB_INSMOD_ARGS, KSLUB_GEOMETRY_SKIP.
set -euo pipefail

. "$(dirname "$0")/lib.sh"
# KMALLOC_CACHES, SYSFS_FILES, STAT_FILES and the checking functions
# (check_slabinfo, check_cache_files, check_geometry, col_total,
# check_buddyinfo_unchanged), which tests/scripts/vm-selftest.sh also runs on
# the host against broken inputs.
. "$(dirname "$0")/checks.sh"
D="$KSLUB_DEBUGFS"
NCPUS="$(nproc)"
STRESS_OPS="${KSLUB_STRESS_OPS:-5000000}"
COMPARE_OPS="${KSLUB_COMPARE_OPS:-20000}"

RULES="$(kslub_rules_of_release "$(uname -r)")"

diag "Linux $(uname -r), $NCPUS CPUs, module $KSLUB_KO, kslub rules $RULES"
# The kernel's caches have sheaf_capacity from 6.18 on; kslub.ko built for
# such a kernel mirrors it (module/instance.cpp), so every cache directory
# must have it too.
sheaf_kernel=no
if [ -e /sys/kernel/slab/kmalloc-64/sheaf_capacity ]; then
	sheaf_kernel=yes
	SYSFS_FILES="$SYSFS_FILES sheaf_capacity"
fi

# --- load ---------------------------------------------------------------------
load_module
for f in slabinfo buddyinfo control stress compare selftest; do
	check "debugfs file $f" [ -e "$D/$f" ]
done
check "debugfs directory caches/" [ -d "$D/caches" ]
snap "$D/buddyinfo" "$T_TMP/buddyinfo.load"
diag "buddyinfo after load:"
sed 's/^/#   /' "$T_TMP/buddyinfo.load"
check "buddyinfo: node 0's pool as zone kslub" grep -q '^Node 0, zone    kslub' "$T_TMP/buddyinfo.load"

# The self-test's report (KTAP): a version line, at least one "ok", no "not ok".
snap "$D/selftest" "$T_TMP/selftest"
if head -n 1 "$T_TMP/selftest" | grep -q '^KTAP version [0-9]'; then
	ok "selftest: KTAP header ($(head -n 1 "$T_TMP/selftest"))"
else
	not_ok "selftest: KTAP header (first line: '$(head -n 1 "$T_TMP/selftest")')"
fi
st_ok=$(grep -cE '^[[:space:]]*ok [0-9]+' "$T_TMP/selftest" || true)
st_fail=$(grep -cE '^[[:space:]]*not ok [0-9]+' "$T_TMP/selftest" || true)
if [ "$st_fail" -eq 0 ] && [ "$st_ok" -gt 0 ]; then
	ok "selftest: $st_ok ok, no 'not ok'"
else
	not_ok "selftest: $st_ok ok, $st_fail not ok"
	grep -E 'not ok' "$T_TMP/selftest" | sed 's/^/#   /' || true
fi
check "selftest: the plan line" grep -qE '^1\.\.[0-9]+' "$T_TMP/selftest"

diag "load: ${SECONDS} s"
# --- slabinfo -----------------------------------------------------------------
check_slabinfo "after load"

# --- every file of every cache ----------------------------------------------------
nr_caches=0
for c in $(caches_list); do
	nr_caches=$((nr_caches + 1))
	check_cache_files "$c"
done
diag "$nr_caches cache directories"
sheaf_kslub=no
[ ! -e "$D/caches/kmalloc-64/sheaf_capacity" ] || sheaf_kslub=yes
expect_eq "caches/kmalloc-64 has a sheaf_capacity file where the kernel's kmalloc-64 has one" \
	"$sheaf_kernel" "$sheaf_kslub"
expect_eq "caches/ after load: kmem_cache and the 13 kmalloc caches" 14 "$nr_caches"
missing=""
for c in $KMALLOC_CACHES; do
	[ -d "$D/caches/$c" ] || missing="$missing $c"
done
expect_eq "caches/ holds the 13 kmalloc caches" "" "$missing"

diag "files: ${SECONDS} s"
# --- kmalloc geometry against this kernel ---------------------------------------------
# KSLUB_GEOMETRY_SKIP=REASON: the guest kernel's caches are not the stock ones
# (the debug kernel's KASAN adds metadata to every object); said, not hidden.
[ -n "${KSLUB_GEOMETRY_SKIP:-}" ] || geometry_plan "$RULES"
for c in $KMALLOC_CACHES; do
	if [ -n "${KSLUB_GEOMETRY_SKIP:-}" ]; then
		ok "geometry of $c # SKIP $KSLUB_GEOMETRY_SKIP"
		continue
	fi
	check_geometry "$c" /sys/kernel/slab "$RULES"
done
# kmalloc-64 in one page (also where the geometry comparison is skipped).
expect_eq "kmalloc-64 objs_per_slab" 64 "$(first_word "$D/caches/kmalloc-64/objs_per_slab")"
# The per-CPU design kslub.ko runs (KSLUB_SHEAVES, lib.sh: the kernel's own
# unless sheaves= says otherwise): sheaves, of 60 for kmalloc-64 (what a 7.3
# guest's own kmalloc-64 has), or the TID design.
want_design="design tid"
[ "${KSLUB_SHEAVES:-0}" != 1 ] || want_design="design sheaves capacity 60"
snap "$D/caches/kmalloc-64/sheaves" "$T_TMP/sheaves"
expect_eq "caches/kmalloc-64/sheaves: the design" "$want_design" "$(head -n1 "$T_TMP/sheaves")"
if [ "$want_design" != "design tid" ]; then
	check "caches/kmalloc-64/sheaves: a line per CPU" [ "$(grep -c '^cpu[0-9]* main [0-9]' "$T_TMP/sheaves")" -eq "$NCPUS" ]
	check "caches/kmalloc-64/sheaves: node 0's barn" grep -q '^node0 barn full [0-9]* ([0-9]* objects) empty [0-9]*$' "$T_TMP/sheaves"
	sed 's/^/#   sheaves: /' "$T_TMP/sheaves"
fi

# --- control ---------------------------------------------------------------------------
# A stat counter's sum, 0 when the file is missing or malformed (reported above).
stat_sum()
{
	local v
	v="$(first_word "$D/caches/$1/$2")"
	[[ "$v" =~ ^[0-9]+$ ]] && echo "$v" || echo 0
}
ctl_ok "create a cache" "create kvm-test 200" '^create kvm-test'
check "caches/kvm-test appears" [ -d "$D/caches/kvm-test" ]
expect_eq "kvm-test object_size" 200 "$(first_word "$D/caches/kvm-test/object_size")"
if grep -q '^kvm-test ' "$D/slabinfo"; then ok "slabinfo lists kvm-test"; else not_ok "slabinfo lists kvm-test"; fi
ctl_ok "alloc 1000" "alloc kvm-test 1000" '1000 objects held'
objs="$(first_word "$D/caches/kvm-test/objects")"
if [[ "$objs" =~ ^[0-9]+$ ]] && [ "$objs" -ge 1000 ]; then ok "objects >= 1000 ($objs)"; else not_ok "objects >= 1000 (got '$objs')"; fi
check "alloc_fastpath counted ($(stat_sum kvm-test alloc_fastpath))" [ "$(stat_sum kvm-test alloc_fastpath)" -gt 0 ]
allocs=$(($(stat_sum kvm-test alloc_fastpath) + $(stat_sum kvm-test alloc_slowpath)))
if [ "$allocs" -ge 1000 ]; then ok "alloc_fastpath + alloc_slowpath >= 1000 ($allocs)"; else not_ok "alloc_fastpath + alloc_slowpath >= 1000 ($allocs)"; fi
ctl_ok "validate with objects live" "validate kvm-test" ': 0 errors'
ctl_err "destroy with live objects" EBUSY "destroy kvm-test"
check "caches/kvm-test still there after refused destroy" [ -d "$D/caches/kvm-test" ]
ctl_ok "free 400" "free kvm-test 400" '400 objects freed \(600 held\)'
ctl_ok "free the rest" "free kvm-test 1000000" '600 objects freed \(0 held\)'
frees=$(($(stat_sum kvm-test free_fastpath) + $(stat_sum kvm-test free_slowpath)))
if [ "$frees" -ge 1000 ]; then ok "free_fastpath + free_slowpath >= 1000 ($frees)"; else not_ok "free_fastpath + free_slowpath >= 1000 ($frees)"; fi
ctl_ok "validate after free" "validate kvm-test" ': 0 errors'
ctl_ok "shrink" "shrink kvm-test" 'slabs freed'
ctl_ok "kmalloc 100 x 300" "kmalloc 100 300" '300 objects held'
ctl_ok "kmalloc 5000 x 20" "kmalloc 5000 20" '20 objects held'
ctl_ok "kmalloc 100000 x 2 (kmalloc_large)" "kmalloc 100000 2" '2 objects held'
ctl_ok "kfree-all" "kfree-all" '322 objects freed'
# The pool exhausted: 100 objects of 2 MiB do not fit (what was allocated
# stays held), and everything works again once they are freed.
ctl_ok "create a cache of 2 MiB objects" "create kvm-big 2097152" '^create kvm-big'
ctl_err "alloc kvm-big 100: the pool runs out" ENOMEM "alloc kvm-big 100"
ctl_ok "free what the failed alloc holds" "free kvm-big 100" '\(0 held\)'
ctl_ok "destroy kvm-big" "destroy kvm-big" 'destroyed'
ctl_ok "kmalloc 100 x 50 after the exhaustion" "kmalloc 100 50" '50 objects held'
ctl_ok "kfree-all after the exhaustion" "kfree-all" '50 objects freed'
# shrink and validate through the cache's own files (flushing every CPU).
write_printf "$D/caches/kmalloc-128/shrink" '1\n'
expect_eq "write to caches/kmalloc-128/shrink" OK "$W_ERR"
write_printf "$D/caches/kmalloc-128/validate" '1\n'
expect_eq "write to caches/kmalloc-128/validate" OK "$W_ERR"
ctl_ok "validate kmalloc-128" "validate kmalloc-128" ': 0 errors'
ctl_ok "destroy" "destroy kvm-test" 'destroyed'
check "caches/kvm-test gone" [ ! -e "$D/caches/kvm-test" ]
ctl_err "destroy again" ENOENT "destroy kvm-test"

diag "control: ${SECONDS} s"
# --- stress with CPU hotplug -----------------------------------------------------------------
# The control write of "stress NAME OPS" returns when the run is over, so it
# runs in the background while cpu1 goes offline and comes back.
ctl_ok "create the stress cache" "create kvm-stress 192" '^create kvm-stress'
# ctl runs in a subshell here: its errno comes back through a file.
(
	ctl "stress kvm-stress $STRESS_OPS"
	echo "$CTL_ERR" >"$T_TMP/stress.err"
) &
stress_pid=$!
hot=/sys/devices/system/cpu/cpu1/online
t_stress=$(date +%s)
stress_running() { grep -q '^cache kvm-stress .* running ' "$D/stress" 2>/dev/null; }
if [ "$NCPUS" -ge 2 ] && [ -w "$hot" ]; then
	# As soon as the threads run: offline, a pause, online, all while they run.
	for _ in $(seq 1 200); do
		stress_running && break
		sleep 0.05
	done
	if stress_running; then ok "stress running"; else not_ok "stress running"; fi
	t_off=$(date +%s%N)
	if echo 0 >"$hot"; then ok "cpu1 offline during stress"; else not_ok "cpu1 offline during stress"; fi
	diag "offline took $((($(date +%s%N) - t_off) / 1000000)) ms"
	if stress_running; then ok "stress still running after cpu1 went offline"; else not_ok "stress still running after cpu1 went offline (raise KSLUB_STRESS_OPS)"; fi
	sleep 0.5
	if echo 1 >"$hot"; then ok "cpu1 online again during stress"; else not_ok "cpu1 online again during stress"; fi
	if stress_running; then ok "stress still running after cpu1 came back"; else diag "stress ended before cpu1 came back"; fi
else
	diag "one CPU: no hotplug during stress"
fi
wait "$stress_pid" || true
diag "stress took $(($(date +%s) - t_stress)) s"
expect_eq "stress: the control write succeeds" OK "$(cat "$T_TMP/stress.err" 2>/dev/null || echo none)"
result=""
IFS= read -r result <"$D/control" || true
# "stress NAME: N ops on T CPUs, E errors, validate V"
if [[ "$result" =~ ^stress\ kvm-stress:\ ([0-9]+)\ ops\ on\ ([0-9]+)\ CPUs,\ ([0-9]+)\ errors,\ validate\ (-?[0-9]+) ]]; then
	ok "stress result line ($result)"
	expect_eq "stress: errors in the result line" 0 "${BASH_REMATCH[3]}"
	expect_eq "stress: validate in the result line" 0 "${BASH_REMATCH[4]}"
else
	not_ok "stress result line: '$result'"
fi
snap "$D/stress" "$T_TMP/stress"
sed 's/^/#   stress: /' "$T_TMP/stress"
# The stress file: "cache NAME ... done ... validate V", a table whose header
# names the columns and whose row "all" sums the CPUs (col_total).
if grep -qE '^cache kvm-stress .* done .*validate 0$' "$T_TMP/stress"; then
	ok "stress file: kvm-stress done, validate 0"
else
	not_ok "stress file: kvm-stress done, validate 0 (first line: '$(head -n 1 "$T_TMP/stress")')"
fi
expect_eq "stress file: no fill errors" 0 "$(col_total fill_errors)"
expect_eq "stress file: no free errors" 0 "$(col_total free_errors)"
ops_all="$(col_total ops)"
if [[ "$ops_all" =~ ^[0-9]+$ ]] && [ "$ops_all" -gt 0 ]; then ok "stress file: $ops_all ops"; else not_ok "stress file: ops ($ops_all)"; fi
ctl_ok "validate after stress" "validate kvm-stress" ': 0 errors'
ctl_ok "shrink after stress" "shrink kvm-stress" 'slabs freed'
ctl_ok "destroy the stress cache" "destroy kvm-stress" 'destroyed'
expect_eq "online CPUs after stress" "0-$((NCPUS - 1))" "$(cat /sys/devices/system/cpu/online)"

# --- compare ---------------------------------------------------------------------------------
t_cmp=$(date +%s)
ctl_ok "compare 256 $COMPARE_OPS" "compare 256 $COMPARE_OPS" \
	'^compare 256: pair: kslub-tid [0-9]+\.[0-9]+, kslub-sheaves [0-9]+\.[0-9]+, kernel \((TID|sheaves)\) [0-9]+\.[0-9]+ ns/op'
diag "compare took $(($(date +%s) - t_cmp)) s"
snap "$D/compare" "$T_TMP/compare"
sed 's/^/#   compare: /' "$T_TMP/compare"
# The kernel's own design for the kernel's cache: sheaves from Linux 7.0 on.
kernel_design=TID
[ "$(uname -r | cut -d. -f1)" -lt 7 ] || kernel_design=sheaves
check "compare file: the kernel's cache runs its own design ($kernel_design)" \
	grep -q "kernel's own design ($kernel_design)" "$T_TMP/compare"
# Three patterns, each with ns/op and cycles/op of the three caches (a
# table each) and three ratios; no cycle count is 0.00 (the TSC was read).
for p in pair batch bulk; do
	n=$(grep -cE "^$p +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2} +[0-9]+\.[0-9]{2}\$" "$T_TMP/compare")
	r=$(grep -cE "^$p +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3} +[0-9]+\.[0-9]{3}\$" "$T_TMP/compare")
	check "compare file: $p: ns/op and cycles/op of kslub-tid, kslub-sheaves, kernel, and their ratios" [ "$n:$r" = 2:1 ]
done
check "compare file: the cycles table" grep -qE '^cycles/op +kslub-tid +kslub-sheaves +kernel$' "$T_TMP/compare"
check "compare file: no cycle count is zero" \
	awk '/^cycles\/op/ { t = 1; next } /^ratio/ { t = 0 } t && / 0\.00( |$)/ { bad = 1 } END { exit bad }' "$T_TMP/compare"
# Whether the kernel zeroes objects on allocation: its configuration's
# default (CONFIG_INIT_ON_ALLOC_DEFAULT_ON, read from the host's copy of the
# kernel's config), unless the command line says; compare must say so
# exactly then. (The boot log's "mem auto-init" line can be gone from the
# ring buffer by now.)
rel=$(uname -r)
zeroes=""
for f in "/boot/config-$rel" "/var/cache/kslub/kernels/$rel/usr/lib/modules/$rel/config" \
	"/var/cache/kslub/kernels/$rel/boot/config-$rel"; do
	if [ -r "$f" ]; then
		if grep -q '^CONFIG_INIT_ON_ALLOC_DEFAULT_ON=y' "$f"; then zeroes=1; else zeroes=0; fi
		break
	fi
done
case " $(cat /proc/cmdline) " in
*" init_on_alloc=0 "*) zeroes=0 ;;
*" init_on_alloc=1 "*) zeroes=1 ;;
esac
said=0
grep -q '^init_on_alloc is on: the kernel zeroes every object' "$T_TMP/compare" && said=1
if [ -n "$zeroes" ]; then
	expect_eq "compare file: the kernel's init_on_alloc named exactly when it is on ($zeroes)" "$zeroes" "$said"
else
	diag "no config of $rel found here: compare's init_on_alloc line ($said) not checked"
fi
check "compare file: the ratio columns" grep -qE '^ratio +tid/kernel +sheaves/kernel +sheaves/tid$' "$T_TMP/compare"
check "compare: its caches are gone" [ ! -e "$D/caches/kslub-compare-tid" -a ! -e "$D/caches/kslub-compare-sheaves" ]

diag "stress and compare: ${SECONDS} s"
# --- back to the state after load --------------------------------------------------------------
# Twice: with sheaves, shrinking a cache frees its spare and barn
# sheaves into the kmalloc caches they were carved from, which may have been
# shrunk already in this loop.
for pass in 1 2; do
	for c in $(caches_list); do
		ctl "shrink $c"
	done
done
check_slabinfo "at the end"
for c in $(caches_list); do
	check_cache_files "$c"
done
snap "$D/buddyinfo" "$T_TMP/buddyinfo.end"
if [ "${KSLUB_SHEAVES:-0}" = 1 ]; then
	# The kmalloc caches keep every CPU's main sheaf, and mains trade places
	# with the barn's sheaves: the slabs holding them after shrink need not
	# be those of load time. Every page comes back at rmmod (a leak WARNs).
	diag "buddyinfo not compared with its state after load: kslub.ko runs sheaves"
	sed 's/^/#   /' "$T_TMP/buddyinfo.end"
else
	check_buddyinfo_unchanged "$T_TMP/buddyinfo.load" "$T_TMP/buddyinfo.end"
fi
if ! cmp -s "$T_TMP/buddyinfo.load" "$T_TMP/buddyinfo.end"; then
	diag "slabinfo now (the caches still holding slabs):"
	awk 'NR > 2 && $NF + 0 > 0' "$D/slabinfo" | sed 's/^/#   /'
fi
# The self-test again, by a write (after the buddyinfo comparison: it may
# leave slabs in caches); the new report must hold results ("ok"), not just
# no "not ok".
if write_printf "$D/selftest" '1\n' && [ "$W_ERR" = OK ]; then
	ok "selftest re-run on write"
else
	not_ok "selftest re-run on write (write: $W_ERR)"
fi
selftest_passed "re-run"
# Unloading gives back what control still holds.
ctl_ok "alloc kmalloc-64 10, held at unload" "alloc kmalloc-64 10" '10 objects held'
unload_module
finish
