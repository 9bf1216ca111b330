#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Seeded bugs: build the core with each mutant (-DKSLUB_MUTANT=<name>), run its
# fuzz target with a fixed seed and a fixed number of runs from the seed
# corpus (which holds no reproducer of any mutant), and report executions and
# seconds to detection. Then run the unmutated core with the same settings:
# it must show no finding. Exit status non-zero if a mutant survives, the
# clean core shows a finding, or a run proves nothing either way.
#
#   fuzz/mutants.sh [--build-root DIR] [--runs N] [--buddy-runs M] [--only NAME] [--clean-bin DIR]
#                   [--prebuilt DIR] [--jobs J]
#   fuzz/mutants.sh --list      the seeded bugs, "name target" a line
#
# --runs N: executions for the races target (default 300000), --buddy-runs M
# for the buddy target (default 100000), for each mutant and for the clean core.
# --clean-bin DIR: a build directory whose fuzz-* binaries are the unmutated
# core (default: build one under the build root).
# --prebuilt DIR: take each mutant's binary as DIR/<name>/fuzz-<target>
# instead of building it (tests/scripts/mutants-selftest.sh uses stand-ins).
# --jobs J: mutants (each a build, then one single-threaded fuzzer) and clean
# runs at a time (default: the CPUs, nproc); the table comes in the list's
# order once all are done, the seconds column is each run's own wall time.
#
# A mutant counts as found only when its fuzzer exits non-zero AND leaves a
# crash-, timeout-, leak- or oom- input: a binary that cannot run, refuses its
# flags or dies without a finding is an error, not a detection. A clean run
# must exit 0 and report "Done N runs".
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root="$src/build/mutants"
races_runs=300000
buddy_runs=100000
only=""
clean_bin=""
prebuilt=""
list=0
jobs_max=$(nproc 2>/dev/null || echo 1)
while [ $# -gt 0 ]; do
	case "$1" in
	--build-root) root=$2; shift 2 ;;
	--runs) races_runs=$2; shift 2 ;;
	--buddy-runs) buddy_runs=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--clean-bin) clean_bin=$2; shift 2 ;;
	--prebuilt) prebuilt=$2; shift 2 ;;
	--jobs) jobs_max=$2; shift 2 ;;
	--list) list=1; shift ;;
	-h | --help) sed -n '3,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "mutants: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

# The seeded bugs: fuzz/mutants/<name>.patch, each with its description and
# a "Target: <fuzz target>" line; this folder is their only list.
# KSLUB_MUTANT_DIR (for tests/scripts/mutants-selftest.sh, with --prebuilt
# only: CMake always applies fuzz/mutants/<name>.patch) reads another folder.
patches=${KSLUB_MUTANT_DIR:-$src/fuzz/mutants}
MUTANTS=""
for p in "$patches"/*.patch; do
	[ -e "$p" ] || continue
	name=$(basename "$p" .patch)
	target=$(sed -n 's/^Target: *\([a-z]*\) *$/\1/p' "$p" | head -1)
	if [ -z "$target" ]; then
		echo "mutants: $p has no 'Target: <fuzz target>' line" >&2
		exit 2
	fi
	MUTANTS="$MUTANTS$name $target
"
done
if [ -z "$MUTANTS" ]; then
	echo "mutants: no seeded bugs in $patches (*.patch)" >&2
	exit 2
fi
if [ $list = 1 ]; then
	printf '%s' "$MUTANTS"
	exit 0
fi

for v in "$races_runs" "$buddy_runs" "$jobs_max"; do
	case $v in '' | *[!0-9]*) echo "mutants: '$v' is not a number (of runs or jobs)" >&2; exit 2 ;; esac
done
[ "$jobs_max" -ge 1 ] || jobs_max=1
if [ -n "$only" ] && ! grep -q "^$only " <<<"$MUTANTS"; then
	echo "mutants: --only $only: no such mutant (one of:$(printf '%s\n' "$MUTANTS" | awk 'NF { printf " %s", $1 }'))" >&2
	exit 2
fi

mkdir -p "$root"
configure_and_build() { # dir mutant-name target
	local dir=$1 name=$2 target=$3
	if [ ! -f "$dir/build.ninja" ]; then
		cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKSLUB_BUILD_TESTS=OFF \
			${name:+-DKSLUB_MUTANT=$name} >"$dir.configure.log" 2>&1 ||
			{ cat "$dir.configure.log"; return 1; }
	fi
	cmake --build "$dir" --target "fuzz-$target" >"$dir.build.log" 2>&1 || { tail -30 "$dir.build.log"; return 1; }
}

# run_target BIN TARGET LOG: the fixed-seed run; prints one of
#   "found EXECS SECONDS CHECK"  non-zero exit with a finding's input saved
#   "clean RUNS SECONDS"         exit 0 after "Done RUNS runs"
#   "error STATUS SECONDS WHY"   anything else (no verdict either way)
run_target() {
	local bin=$1 target=$2 log=$3 work runs=$races_runs
	[ "$target" = buddy ] && runs=$buddy_runs
	work=$(mktemp -d)
	local start end rc=0
	start=$(date +%s.%N)
	"$bin" -seed=1 -runs="$runs" -reload=0 -max_len=4096 -timeout=60 -rss_limit_mb=4096 -print_final_stats=1 \
		-artifact_prefix="$work/" "$work" "$src/fuzz/corpus/$target" >"$log" 2>&1 || rc=$?
	end=$(date +%s.%N)
	local secs
	secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
	local f artifact=""
	for f in "$work"/crash-* "$work"/timeout-* "$work"/leak-* "$work"/oom-*; do
		if [ -e "$f" ]; then
			artifact=$f
			break
		fi
	done
	if [ $rc -ne 0 ] && [ -n "$artifact" ]; then
		local execs check
		# Report columns only (the verdict is above); awk exits 0 on no match.
		execs=$(awk 'match($0, /execution [0-9]+/) { print substr($0, RSTART + 10, RLENGTH - 10); exit }' "$log")
		[ -n "$execs" ] || execs=$(awk 'match($0, /^#[0-9]+/) { n = substr($0, 2, RLENGTH - 1) } END { print n }' "$log")
		check=$(awk 'match($0, /FINDING[^(]*/) { s = substr($0, RSTART, RLENGTH); sub(/^FINDING:* */, "", s)
			print substr(s, 1, 60); exit }' "$log")
		[ -n "$check" ] ||
			check=$(awk 'match($0, /ERROR: [A-Za-z]+: [a-z-]+|libFuzzer: [a-z -]+/) { print substr($0, RSTART, RLENGTH); exit }' "$log")
		cp "$artifact" "$log.input"
		echo "found ${execs:-?} $secs ${check:-?}"
	elif [ $rc -eq 0 ] && grep -qE "^Done $runs runs in " "$log"; then
		echo "clean $runs $secs"
	elif [ $rc -ne 0 ]; then
		echo "error $rc $secs exited $rc without saving a finding's input"
	else
		echo "error $rc $secs exited 0 without reporting 'Done $runs runs'"
	fi
	rm -rf "$work"
}

row() { printf '%-28s %-7s %12s %9s  %s\n' "$@"; }

# one_mutant NAME TARGET: build (unless --prebuilt), seed check, fixed-seed run.
# Prints its table row; exit status 0 found, 1 not (survived, no verdict, no
# binary, build failed). Runs as a job: the parent reads its output file.
one_mutant() {
	local name=$1 target=$2 dir="$root/$1" bin verdict execs secs check
	if [ -n "$prebuilt" ]; then
		bin="$prebuilt/$name/fuzz-$target"
	else
		bin="$dir/fuzz-$target"
		echo "mutants: building $name (fuzz/mutants/$name.patch, fuzz-$target) ..." >&2
		if ! configure_and_build "$dir" "$name" "$target" >&2; then
			row "$name" "$target" "-" "-" "ERROR: build failed"
			echo "mutants: build of $name failed" >&2
			return 1
		fi
	fi
	if [ ! -x "$bin" ]; then
		row "$name" "$target" "-" "-" "ERROR: no binary"
		echo "mutants: $bin: not an executable" >&2
		return 1
	fi
	# The seed corpus must not already reproduce the mutant: every seed once.
	if ! "$bin" -runs=0 "$src/fuzz/corpus/$target" >"$dir.seeds.log" 2>&1; then
		row "$name" "$target" "-" "-" "ERROR: a seed reproduces it"
		echo "mutants: a seed of fuzz/corpus/$target reproduces $name on its own (log $dir.seeds.log)" >&2
		return 1
	fi
	echo "mutants: fuzzing $name (fuzz-$target, seed 1, at most $([ "$target" = buddy ] && echo "$buddy_runs" || echo "$races_runs") runs) ..." >&2
	read -r verdict execs secs check <<<"$(run_target "$bin" "$target" "$dir.fuzz.log")"
	case "$verdict" in
	found)
		row "$name" "$target" "$execs" "$secs" "$check"
		;;
	clean)
		row "$name" "$target" "-" "$secs" "SURVIVED"
		echo "mutants: $name survived; log: $dir.fuzz.log" >&2
		return 1
		;;
	*)
		row "$name" "$target" "-" "${secs:-?}" "ERROR: ${check:-no verdict}"
		echo "mutants: $name: no verdict (${verdict:-nothing} ${execs:-} ${check:-}); log: $dir.fuzz.log" >&2
		return 1
		;;
	esac
}

# one_clean TARGET: the unmutated core's run; its row, status 0 when clean.
one_clean() {
	local target=$1 verdict execs secs check
	echo "mutants: fuzzing the unmutated core (fuzz-$target, seed 1, same runs) ..." >&2
	if [ ! -x "$clean_bin/fuzz-$target" ]; then
		row "(unmutated core)" "$target" "-" "-" "ERROR: no binary"
		echo "mutants: $clean_bin/fuzz-$target: not an executable" >&2
		return 1
	fi
	read -r verdict execs secs check <<<"$(run_target "$clean_bin/fuzz-$target" "$target" "$root/clean-$target.fuzz.log")"
	case "$verdict" in
	clean)
		row "(unmutated core)" "$target" "$execs" "$secs" "no finding"
		;;
	found)
		row "(unmutated core)" "$target" "$execs" "$secs" "FINDING: $check"
		echo "mutants: the unmutated core shows a finding; log: $root/clean-$target.fuzz.log" >&2
		return 1
		;;
	*)
		row "(unmutated core)" "$target" "-" "${secs:-?}" "ERROR: ${check:-no verdict}"
		echo "mutants: the unmutated core's run gave no verdict; log: $root/clean-$target.fuzz.log" >&2
		return 1
		;;
	esac
}

# The work, as "kind name target" lines; the clean races run first (the
# longest), so that it does not start last and finish alone.
tested=0
work=""
if [ -z "$only" ]; then
	if [ -z "$clean_bin" ]; then
		clean_bin="$root/clean"
		echo "mutants: building the unmutated core ..." >&2
		configure_and_build "$clean_bin" "" races || exit 1
		cmake --build "$clean_bin" --target fuzz-buddy >>"$clean_bin.build.log" 2>&1 ||
			{ tail -30 "$clean_bin.build.log"; echo "mutants: build of the unmutated fuzz-buddy failed" >&2; exit 1; }
	fi
	work="clean clean-races races
"
fi
while read -r name target; do
	[ -n "$name" ] || continue
	[ -z "$only" ] || [ "$only" = "$name" ] || continue
	tested=$((tested + 1))
	work="${work}mutant $name $target
"
done <<<"$MUTANTS"
if [ "$tested" -eq 0 ]; then
	echo "mutants: FAILED: no mutant was tested"
	exit 1
fi
[ -n "$only" ] || work="${work}clean clean-buddy buddy
"
total=$(printf '%s' "$work" | grep -c .)

# At most jobs_max at a time; each leaves NAME.row and NAME.status in $out.
out=$(mktemp -d "${TMPDIR:-/tmp}/kslub-mutants.XXXXXX")
trap 'rm -rf "$out"' EXIT
running=0 done_n=0
reap() {
	local pid
	wait -n -p pid || true
	running=$((running - 1))
	done_n=$((done_n + 1))
	echo "mutants: $done_n of $total done" >&2
}
while read -r kind name target; do
	[ -n "$kind" ] || continue
	while [ "$running" -ge "$jobs_max" ]; do reap; done
	(
		rc=0
		if [ "$kind" = clean ]; then
			one_clean "$target" >"$out/$name.row" || rc=$?
		else
			one_mutant "$name" "$target" >"$out/$name.row" || rc=$?
		fi
		echo "$rc" >"$out/$name.status"
	) &
	running=$((running + 1))
done <<<"$work"
while [ "$running" -gt 0 ]; do reap; done

# The table in the list's order (the mutants, then the unmutated core).
failed=0
printf '%-28s %-7s %12s %9s  %s\n' mutant target executions seconds "first check that fired"
for name in $(printf '%s' "$work" | awk '$1 == "mutant" { print $2 }') clean-races clean-buddy; do
	[ -n "$only" ] && [ "${name#clean-}" != "$name" ] && continue
	if [ -s "$out/$name.row" ]; then
		cat "$out/$name.row"
	else
		row "$name" "?" "-" "-" "ERROR: the job left no result"
	fi
	[ "$(cat "$out/$name.status" 2>/dev/null)" = 0 ] || failed=1
done

if [ "$failed" -ne 0 ]; then
	echo "mutants: FAILED"
	exit 1
fi
if [ -n "$only" ]; then
	echo "mutants: $only found"
else
	echo "mutants: every mutant found; the unmutated core is clean"
fi
