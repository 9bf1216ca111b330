#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.module.* tests: kslub.ko in a booted kernel, driven and
# checked through /sys/kernel/debug/kslub. Run by tests/vm/run-module.sh (which
# builds the module and sets KSLUB_KO):
#
#   tests/vm/run-module.sh --kernel 6.1 --smp 2 --script tests/vm/module-test.sh
#
# One line per check ("ok N - what" / "not ok N - what"), the plan line at the
# end, exit status 1 if any check failed. In order:
#   load: insmod, the debugfs files, the self-test's KTAP report;
#   show: slabinfo parsed line by line, every file of every caches/<name>/
#     (the 29 of 6.1's /sys/kernel/slab/<name>/ and the 26 stat counters);
#   geometry: kslub's kmalloc caches against this kernel's /sys/kernel/slab;
#   control: create, alloc, free, validate, shrink, kmalloc, kfree-all, destroy;
#   stress: `stress NAME OPS` (OPS per CPU) while a CPU goes offline and comes back;
#   compare: `compare SIZE OPS` gives kslub's and the kernel's figures;
#   end: buddyinfo as right after load once everything is freed; rmmod.
# Environment: KSLUB_KO (required), KSLUB_STRESS_OPS (per CPU, default 5000000),
# KSLUB_COMPARE_OPS (default 20000), KSLUB_INSMOD_ARGS.
set -euo pipefail

. "$(dirname "$0")/guest/lib.sh"
D="$KSLUB_DEBUGFS"
NCPUS="$(nproc)"
STRESS_OPS="${KSLUB_STRESS_OPS:-5000000}"
COMPARE_OPS="${KSLUB_COMPARE_OPS:-20000}"
KMALLOC_CACHES="kmalloc-8 kmalloc-16 kmalloc-32 kmalloc-64 kmalloc-96 kmalloc-128 kmalloc-192
kmalloc-256 kmalloc-512 kmalloc-1k kmalloc-2k kmalloc-4k kmalloc-8k"
# /sys/kernel/slab/<name>/ of Linux 6.1 (29 files).
SYSFS_FILES="aliases align cache_dma cpu_partial cpu_slabs ctor destroy_by_rcu hwcache_align
min_partial object_size objects objects_partial objs_per_slab order partial poison reclaim_account
red_zone remote_node_defrag_ratio sanity_checks shrink slab_size slabs slabs_cpu_partial store_user
total_objects trace usersize validate"
# CONFIG_SLUB_STATS counters (26 files).
STAT_FILES="alloc_fastpath alloc_slowpath free_fastpath free_slowpath free_frozen free_add_partial
free_remove_partial alloc_from_partial alloc_slab alloc_refill alloc_node_mismatch free_slab
cpuslab_flush deactivate_full deactivate_empty deactivate_to_head deactivate_to_tail
deactivate_remote_frees deactivate_bypass order_fallback cmpxchg_double_cpu_fail
cmpxchg_double_fail cpu_partial_alloc cpu_partial_free cpu_partial_node cpu_partial_drain"

diag "Linux $(uname -r), $NCPUS CPUs, module $KSLUB_KO"

# --- load ---------------------------------------------------------------------
load_module
for f in slabinfo buddyinfo control stress compare selftest; do
	check "debugfs file $f" [ -e "$D/$f" ]
done
check "debugfs directory caches/" [ -d "$D/caches" ]
snap "$D/buddyinfo" "$T_TMP/buddyinfo.load"
diag "buddyinfo after load:"
sed 's/^/#   /' "$T_TMP/buddyinfo.load"

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

diag "load: ${SECONDS} s"
# --- slabinfo -----------------------------------------------------------------
# Every line after the two header lines:
#   name active num objsize objperslab pagesperslab : tunables 0 0 0 : slabdata slabs slabs 0
# with active <= num = slabs * objperslab.
check_slabinfo()
{
	local tag="$1"
	snap "$D/slabinfo" "$T_TMP/slabinfo"
	expect_eq "slabinfo ($tag): version line" "slabinfo - version: 2.1" "$(head -n 1 "$T_TMP/slabinfo")"
	local bad
	bad="$(awk 'NR == 2 { if ($0 !~ /^# name/) print "line 2: " $0; next }
		NR > 2 {
			if (NF != 16 || $7 != ":" || $8 != "tunables" || $9 != 0 || $10 != 0 || $11 != 0 ||
			    $12 != ":" || $13 != "slabdata" || $16 != 0 || $14 != $15) { print "format: " $0; next }
			if ($2 + 0 > $3 + 0) print "active > num: " $0
			if ($3 + 0 != $14 * $5) print "num_objs != slabs * objperslab: " $0
			if ($6 != 1 && $6 != 2 && $6 != 4 && $6 != 8 && $6 != 16 && $6 != 32 && $6 != 64 && $6 != 128 && $6 != 256 && $6 != 512 && $6 != 1024) print "pagesperslab: " $0
		}' "$T_TMP/slabinfo")"
	if [ -z "$bad" ]; then
		ok "slabinfo ($tag): $(($(wc -l <"$T_TMP/slabinfo") - 2)) cache lines well formed and consistent"
	else
		not_ok "slabinfo ($tag): bad lines"
		echo "$bad" | sed 's/^/#   /'
	fi
}
check_slabinfo "after load"
missing=""
for c in $KMALLOC_CACHES; do
	grep -q "^$c " "$T_TMP/slabinfo" || missing="$missing $c"
done
expect_eq "slabinfo lists the 13 kmalloc caches" "" "$missing"

# --- every file of every cache ----------------------------------------------------
# Stat files: "SUM C0=n C5=m ..." with SUM the total and CPUs < nproc.
stat_ok()
{
	local line="$1" sum rest tot=0 tok cpu v
	sum="${line%% *}"
	[[ "$sum" =~ ^[0-9]+$ ]] || return 1
	rest=""
	[ "$line" = "$sum" ] || rest="${line#* }"
	for tok in $rest; do
		[[ "$tok" =~ ^C([0-9]+)=([0-9]+)$ ]] || return 1
		cpu="${BASH_REMATCH[1]}"
		v="${BASH_REMATCH[2]}"
		[ "$cpu" -lt "$NCPUS" ] || return 1
		tot=$((tot + v))
	done
	[ "$tot" -eq "$sum" ]
}

# check_cache_files NAME: all 55 files exist and read; numeric ones parse.
check_cache_files()
{
	local name="$1" dir="$D/caches/$1" f line problems="" n=0
	for f in $SYSFS_FILES $STAT_FILES; do
		if [ ! -e "$dir/$f" ]; then
			problems="$problems missing:$f"
			continue
		fi
		line=""
		if ! { IFS= read -r line <"$dir/$f" || [ -n "$line" ] || [ ! -s "$dir/$f" ]; } 2>/dev/null; then
			problems="$problems unreadable:$f"
			continue
		fi
		n=$((n + 1))
		case " $STAT_FILES " in
		*[[:space:]]"$f"[[:space:]]*)
			stat_ok "$line" || problems="$problems $f='$line'"
			continue
			;;
		esac
		case "$f" in
		align | cpu_partial | min_partial | object_size | objs_per_slab | order | slab_size | \
		cache_dma | destroy_by_rcu | hwcache_align | poison | reclaim_account | red_zone | \
		sanity_checks | store_user | trace | usersize | remote_node_defrag_ratio | aliases)
			[[ "$line" =~ ^[0-9]+$ ]] || problems="$problems $f='$line'"
			;;
		objects | objects_partial | partial | slabs | total_objects | cpu_slabs | slabs_cpu_partial)
			# "N N0=n" / "N C0=n", slabs_cpu_partial "objects(slabs) C0=o(s)"
			[[ "$line" =~ ^[0-9]+(\([0-9]+\))?( (N|C)[0-9]+=[0-9]+(\([0-9]+\))?)*$ ]] || problems="$problems $f='$line'"
			;;
		esac
	done
	if [ -z "$problems" ]; then
		ok "caches/$name: $n files read and well formed"
	else
		not_ok "caches/$name:$problems"
	fi
}

caches_list()
{
	local d
	for d in "$D"/caches/*/; do
		d="${d%/}"
		echo "${d##*/}"
	done
}
nr_caches=0
for c in $(caches_list); do
	nr_caches=$((nr_caches + 1))
	check_cache_files "$c"
done
diag "$nr_caches cache directories"
missing=""
for c in $KMALLOC_CACHES; do
	[ -d "$D/caches/$c" ] || missing="$missing $c"
done
expect_eq "caches/ holds the 13 kmalloc caches" "" "$missing"

diag "files: ${SECONDS} s"
# --- kmalloc geometry against this kernel ---------------------------------------------
for c in $KMALLOC_CACHES; do
	diff=""
	for f in order objs_per_slab cpu_partial min_partial align object_size slab_size; do
		mine="$(first_word "$D/caches/$c/$f")"
		theirs="$(first_word "/sys/kernel/slab/$c/$f")"
		[ "$mine" = "$theirs" ] || diff="$diff $f: kslub '$mine' kernel '$theirs';"
	done
	if [ -z "$diff" ]; then
		ok "geometry of $c equals /sys/kernel/slab/$c"
	else
		not_ok "geometry of $c:$diff"
	fi
done

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
# names the columns and whose row "all" sums the CPUs.
col_total()
{
	awk -v col="$1" '$1 == "cpu" { for (i = 1; i <= NF; i++) if ($i == col) c = i }
		$1 == "all" && c { v = $c } END { print (v == "" ? "missing" : v) }' "$T_TMP/stress"
}
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
	'^compare 256: kslub [0-9]+\.[0-9]+ ns/op, kernel [0-9]+\.[0-9]+ ns/op'
diag "compare took $(($(date +%s) - t_cmp)) s"
snap "$D/compare" "$T_TMP/compare"
sed 's/^/#   compare: /' "$T_TMP/compare"
if grep -qE '^kslub +[0-9]+\.[0-9]+ ns/op' "$T_TMP/compare" && grep -qE '^kernel +[0-9]+\.[0-9]+ ns/op' "$T_TMP/compare"; then
	ok "compare file: kslub's and the kernel's figures"
else
	not_ok "compare file: kslub's and the kernel's figures"
fi

diag "stress and compare: ${SECONDS} s"
# --- back to the state after load --------------------------------------------------------------
for c in $(caches_list); do
	ctl "shrink $c"
done
check_slabinfo "at the end"
for c in $(caches_list); do
	check_cache_files "$c"
done
snap "$D/buddyinfo" "$T_TMP/buddyinfo.end"
if cmp -s "$T_TMP/buddyinfo.load" "$T_TMP/buddyinfo.end"; then
	ok "buddyinfo equals its state after load"
else
	not_ok "buddyinfo equals its state after load"
	diag "after load:"
	sed 's/^/#   /' "$T_TMP/buddyinfo.load"
	diag "now:"
	sed 's/^/#   /' "$T_TMP/buddyinfo.end"
fi
unload_module
finish
