# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The checking functions of the module's guest scripts (module-test.sh,
# control-hostile.sh, trace-test.sh), sourced by bash after guest/lib.sh.
# They read what they judge from $D (the module's debugfs directory), from
# files and directories passed to them and from $T_TMP, and report with
# ok / not_ok, so that tests/scripts/vm-selftest.sh can run them on the host
# against canned broken inputs (a fake $D) and require that they fail.

KMALLOC_CACHES="kmalloc-8 kmalloc-16 kmalloc-32 kmalloc-64 kmalloc-96 kmalloc-128 kmalloc-192
kmalloc-256 kmalloc-512 kmalloc-1k kmalloc-2k kmalloc-4k kmalloc-8k"
# /sys/kernel/slab/<name>/ of Linux 6.1 (29 files). From 6.18 on the kernel
# also has sheaf_capacity, and so has kslub.ko built for it: module-test.sh
# adds it to the list there (sheaf_file_expected).
SYSFS_FILES="aliases align cache_dma cpu_partial cpu_slabs ctor destroy_by_rcu hwcache_align
min_partial object_size objects objects_partial objs_per_slab order partial poison reclaim_account
red_zone remote_node_defrag_ratio sanity_checks shrink slab_size slabs slabs_cpu_partial store_user
total_objects trace usersize validate"
# CONFIG_SLUB_STATS counters: the 26 of 6.1, then the 17 sheaf counters of 6.18
# (kslub shows all 43 under every rule set).
STAT_FILES="alloc_fastpath alloc_slowpath free_fastpath free_slowpath free_frozen free_add_partial
free_remove_partial alloc_from_partial alloc_slab alloc_refill alloc_node_mismatch free_slab
cpuslab_flush deactivate_full deactivate_empty deactivate_to_head deactivate_to_tail
deactivate_remote_frees deactivate_bypass order_fallback cmpxchg_double_cpu_fail
cmpxchg_double_fail cpu_partial_alloc cpu_partial_free cpu_partial_node cpu_partial_drain
alloc_cpu_sheaf free_cpu_sheaf free_rcu_sheaf free_rcu_sheaf_fail sheaf_flush sheaf_refill
sheaf_alloc sheaf_free barn_get barn_get_fail barn_put barn_put_fail sheaf_prefill_fast
sheaf_prefill_slow sheaf_prefill_oversize sheaf_return_fast sheaf_return_slow"

# --- slabinfo -----------------------------------------------------------------
# check_slabinfo TAG: $D/slabinfo, every line after the two header lines
#   name active num objsize objperslab pagesperslab : tunables 0 0 0 : slabdata slabs slabs 0
# with active <= num = slabs * objperslab; the 13 kmalloc caches listed
# (a file of header lines only is not "well formed").
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
	local lines=$(($(wc -l <"$T_TMP/slabinfo") - 2))
	if [ -z "$bad" ] && [ "$lines" -gt 0 ]; then
		ok "slabinfo ($tag): $lines cache lines well formed and consistent"
	else
		not_ok "slabinfo ($tag): bad lines (or none: $lines cache lines)"
		[ -z "$bad" ] || echo "$bad" | sed 's/^/#   /'
	fi
	local c missing=""
	for c in $KMALLOC_CACHES; do
		grep -q "^$c " "$T_TMP/slabinfo" || missing="$missing $c"
	done
	expect_eq "slabinfo ($tag) lists the 13 kmalloc caches" "" "$missing"
}

# --- every file of every cache ----------------------------------------------------
# stat_ok LINE: a stat file's "SUM C0=n C5=m ..." with SUM the total and CPUs < $NCPUS.
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

# check_cache_files NAME: all 72 files of $D/caches/NAME exist and read; numeric ones parse.
check_cache_files()
{
	local name="$1" dir="$D/caches/$1" f line problems="" n=0
	for f in $SYSFS_FILES $STAT_FILES; do
		if [ ! -e "$dir/$f" ]; then
			problems="$problems missing:$f"
			continue
		fi
		# A read error (EIO, EACCES, EISDIR ...) shows on standard error; an
		# empty file or a last line without a newline does not. (The size
		# says nothing: every debugfs file has st_size 0.)
		line=""
		{ IFS= read -r line <"$dir/$f"; } 2>"$T_TMP/read.err" || true
		if [ -s "$T_TMP/read.err" ]; then
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
		align | cpu_partial | min_partial | object_size | objs_per_slab | order | slab_size | sheaf_capacity | \
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

# The cache directories of $D/caches, one name per line.
caches_list()
{
	local d
	for d in "$D"/caches/*/; do
		d="${d%/}"
		echo "${d##*/}"
	done
}

# --- geometry -------------------------------------------------------------------------
# kslub_rules_of_release RELEASE: the kernel rules kslub.ko follows on that
# kernel (module/instance.cpp): < 6.12 -> 6.1, 6.12 .. 6.17 -> 6.12,
# 6.18 .. 6.x -> 6.18, >= 7.0 -> 7.3.
kslub_rules_of_release()
{
	local major minor
	major="${1%%.*}"
	minor="${1#*.}"
	minor="${minor%%[!0-9]*}"
	if ! [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]]; then
		echo "unknown"
	elif [ "$major" -ge 7 ]; then
		echo 7.3
	elif [ "$major" -lt 6 ] || [ "$minor" -lt 12 ]; then
		echo 6.1
	elif [ "$minor" -lt 18 ]; then
		echo 6.12
	else
		echo 6.18
	fi
}

# What check_geometry compares, what it does not and why (one line each).
GEOMETRY_FILES="order objs_per_slab cpu_partial min_partial align object_size slab_size"
geometry_plan()
{
	local rules="$1"
	diag "geometry: kslub's $rules rules; compared with the kernel's file: $GEOMETRY_FILES"
	case "$rules" in
	6.18) diag "geometry: compared too: sheaf_capacity (6.18's kmalloc caches have no sheaves, nor have kslub's: 0)" ;;
	7.3)
		if [ "${KSLUB_SHEAVES:-0}" = 1 ]; then
			diag "geometry: compared too: sheaf_capacity (kslub.ko runs sheaves, the kernel's own design: 7.3's capacities, 60/28/12/4 by size)"
		else
			diag "geometry: NOT compared: sheaf_capacity (7.3's kmalloc caches have sheaves, 60/28/12/4 by size; kslub.ko runs the TID design (loaded with sheaves=0), so its file must read 0)"
		fi
		;;
	*) diag "geometry: NOT compared: sheaf_capacity (Linux $rules has no such file)" ;;
	esac
	diag "geometry: NOT compared: objects objects_partial partial slabs total_objects cpu_slabs slabs_cpu_partial (the state of the moment, not geometry; 7.x's cpu_slabs and slabs_cpu_partial read 0 and 0(0), kslub's too when it runs sheaves, not in the TID design), aliases ctor usersize and the flag files (how a cache was created, not what its geometry is)"
}

# check_geometry CACHE SYSFS_SLAB_DIR [RULES]: the cache's geometry files in
# $D/caches equal the kernel's (/sys/kernel/slab in the guest), and are
# numbers: two unreadable or missing files do not agree. RULES (6.1, 6.12,
# 6.18, 7.3; default: those of `uname -r`) decides sheaf_capacity, when the
# kernel has the file: equal to the kernel's under 6.18's rules and under
# 7.3's when kslub.ko runs sheaves (KSLUB_SHEAVES=1, lib.sh),
# else 0 (the TID design) and not compared.
check_geometry()
{
	local c="$1" sys="$2" rules="${3:-}" f mine theirs diff="" compared="$GEOMETRY_FILES" skipped=""
	[ -n "$rules" ] || rules="$(kslub_rules_of_release "$(uname -r)")"
	for f in $GEOMETRY_FILES; do
		mine="$(first_word "$D/caches/$c/$f")"
		theirs="$(first_word "$sys/$c/$f")"
		if [ "$f" = cpu_partial ] && [ "${KSLUB_SHEAVES:-0}" = 1 ] && [ "$rules" != 7.3 ]; then
			# 7.x's design on a 6.x kernel: no CPU slab, so no CPU partial list.
			compared="${compared/cpu_partial /}"
			skipped="$skipped; not compared: cpu_partial (kslub '$mine' with sheaves=1, kernel '$theirs')"
			[ "$mine" = 0 ] || diff="$diff cpu_partial: kslub '$mine', not 0 (sheaves=1);"
			continue
		fi
		if ! [[ "$mine" =~ ^[0-9]+$ ]] || [ "$mine" != "$theirs" ]; then
			diff="$diff $f: kslub '$mine' kernel '$theirs';"
		fi
	done
	if [ -e "$sys/$c/sheaf_capacity" ]; then
		mine="$(first_word "$D/caches/$c/sheaf_capacity")"
		theirs="$(first_word "$sys/$c/sheaf_capacity")"
		case "$rules:${KSLUB_SHEAVES:-0}" in
		6.18:* | 7.3:1)
			compared="$compared sheaf_capacity"
			if ! [[ "$mine" =~ ^[0-9]+$ ]] || [ "$mine" != "$theirs" ]; then
				diff="$diff sheaf_capacity: kslub '$mine' kernel '$theirs';"
			fi
			;;
		*)
			skipped="; not compared: sheaf_capacity (kslub '$mine', kernel '$theirs': kslub.ko runs the TID design)"
			[ "$mine" = 0 ] || diff="$diff sheaf_capacity: kslub '$mine', not 0 (kslub.ko runs the TID design);"
			;;
		esac
	fi
	if [ -z "$diff" ]; then
		ok "geometry of $c equals $sys/$c ($rules rules; compared: $compared$skipped)"
	else
		not_ok "geometry of $c ($rules rules):$diff"
	fi
}

# --- stress and buddyinfo ------------------------------------------------------------------
# col_total COLUMN: the row "all" of the table in $T_TMP/stress under the
# header column COLUMN ("missing" when there is none).
col_total()
{
	awk -v col="$1" '$1 == "cpu" { for (i = 1; i <= NF; i++) if ($i == col) c = i }
		$1 == "all" && c { v = $c } END { print (v == "" ? "missing" : v) }' "$T_TMP/stress"
}

# check_buddyinfo_unchanged AFTER_LOAD NOW: two snapshots of buddyinfo are
# equal, and the first is a real one (two empty snapshots are not "equal").
check_buddyinfo_unchanged()
{
	if ! grep -q '^Node [0-9][0-9]*, zone' "$1"; then
		not_ok "buddyinfo equals its state after load: no 'Node N, zone' line after load"
		sed 's/^/#   /' "$1"
	elif cmp -s "$1" "$2"; then
		ok "buddyinfo equals its state after load"
	else
		not_ok "buddyinfo equals its state after load"
		diag "after load:"
		sed 's/^/#   /' "$1"
		diag "now:"
		sed 's/^/#   /' "$2"
	fi
}

# --- classes of inputs (control-hostile.sh) ------------------------------------------------
declare -A CLASS_TOTAL=() CLASS_FAILED=()
# class_count CLASS ok|failed: one input of CLASS and how it went.
class_count()
{
	CLASS_TOTAL[$1]=$((${CLASS_TOTAL[$1]:-0} + 1))
	[ "$2" = ok ] || CLASS_FAILED[$1]=$((${CLASS_FAILED[$1]:-0} + 1))
}
# class_summary MIN CLASS...: each CLASS named had at least MIN inputs; a
# class with none (its list lost, a loop that never ran) fails too.
class_summary()
{
	local min="$1" class
	shift
	for class in "$@"; do
		diag "$class: ${CLASS_TOTAL[$class]:-0} inputs, ${CLASS_FAILED[$class]:-0} failed"
		[ "${CLASS_TOTAL[$class]:-0}" -ge "$min" ] || not_ok "$class: at least $min inputs (${CLASS_TOTAL[$class]:-0})"
	done
}

# --- the kslub:* trace events (trace-test.sh) -----------------------------------------------
# check_trace_events FILE: the trace (tracefs's "trace") of trace-test.sh's
# run_sequence holds exactly the events worked out from it: the cache's own
# kmem_cache object allocated by create and freed by destroy (as
# kmem_cache_create/destroy do); 10 allocations and 10 frees of 64-byte
# objects (stride 64); 5 kmalloc(100) served by kmalloc-128; 2
# kmalloc(20000) as order-3 pages (32768 bytes, no cache); 7 kfree, 5 of
# them of kmalloc-128; and every pointer allocated is freed.
check_trace_events()
{
	local trace="$1"
	count() { grep -E "$1" "$trace" | grep -c .; }
	expect_eq "kslub_cache_alloc of kmem_cache (create): 1" 1 "$(count 'kslub_cache_alloc: .*name=kmem_cache$')"
	expect_eq "kslub_cache_free of kmem_cache (destroy): 1" 1 "$(count 'kslub_cache_free: .*name=kmem_cache$')"
	expect_eq "kslub_cache_alloc of tr-64: 10" 10 \
		"$(count 'kslub_cache_alloc: .*bytes_req=64 bytes_alloc=64 .*node=-1 accounted=false name=tr-64$')"
	expect_eq "kslub_cache_free of tr-64: 10" 10 "$(count 'kslub_cache_free: .*name=tr-64$')"
	expect_eq "kslub_kmalloc 100 -> kmalloc-128: 5" 5 \
		"$(count 'kslub_kmalloc: .*bytes_req=100 bytes_alloc=128 .*name=kmalloc-128$')"
	expect_eq "kslub_kmalloc 20000 -> 32768 bytes of pages: 2" 2 \
		"$(count 'kslub_kmalloc: .*bytes_req=20000 bytes_alloc=32768 .*name=$')"
	expect_eq "kslub_kfree of kmalloc-128: 5" 5 "$(count 'kslub_kfree: .*name=kmalloc-128$')"
	expect_eq "kslub_kfree of pages: 2" 2 "$(count 'kslub_kfree: .*name=$')"
	expect_eq "no other kslub events" 36 "$(count 'kslub_')"
	local alloc_ptrs free_ptrs
	alloc_ptrs=$(grep -oE 'kslub_(cache_alloc|kmalloc): call_site=[^ ]* ptr=[^ ]*' "$trace" | sed 's/.*ptr=//' | sort)
	free_ptrs=$(grep -oE 'kslub_(cache_free|kfree): call_site=[^ ]* ptr=[^ ]*' "$trace" | sed 's/.*ptr=//' | sort)
	expect_eq "the freed pointers are the allocated ones" "$alloc_ptrs" "$free_ptrs"
}
