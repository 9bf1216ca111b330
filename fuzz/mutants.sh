#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Seeded bugs: build the core with each mutant (KSLUB_MUTANT=<n>), run its
# fuzz target with a fixed seed and a fixed number of runs from the seed
# corpus (which holds no reproducer of any mutant), and report executions and
# seconds to detection. Then run the unmutated core with the same settings:
# it must show no finding. Exit status non-zero if a mutant survives or the
# clean core shows a finding.
#
#   fuzz/mutants.sh [--build-root DIR] [--runs N] [--buddy-runs M] [--only NAME] [--clean-bin DIR]
#
# --runs N: executions for the races target (default 200000), --buddy-runs M
# for the buddy target (default 100000), for each mutant and for the clean core.
# --clean-bin DIR: a build directory whose fuzz-* binaries are the unmutated
# core (default: build one under the build root).
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root="$src/build/mutants"
races_runs=200000
buddy_runs=100000
only=""
clean_bin=""
while [ $# -gt 0 ]; do
	case "$1" in
	--build-root) root=$2; shift 2 ;;
	--runs) races_runs=$2; shift 2 ;;
	--buddy-runs) buddy_runs=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	--clean-bin) clean_bin=$2; shift 2 ;;
	-h | --help) sed -n '3,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "mutants: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

# name number target: what the mutant does is written beside its #if in core/.
MUTANTS="
tid-not-compared 1 races
free-reads-slab-before-tid 2 races
tid-not-bumped 3 races
cas-on-start-cpu 4 races
tid-load-hoisted 5 races
lost-partial-drain 6 races
buddy-merge-any-order 7 buddy
partial-list-unlocked 8 races
"

mkdir -p "$root"
rm -f "$root/.failed"
configure_and_build() { # dir mutant-name target
	local dir=$1 n=$2 target=$3
	if [ ! -f "$dir/build.ninja" ]; then
		cmake -S "$src" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKSLUB_BUILD_TESTS=OFF \
			${n:+-DKSLUB_MUTANT=$n} >"$dir.configure.log" 2>&1 ||
			{ cat "$dir.configure.log"; return 1; }
	fi
	cmake --build "$dir" --target "fuzz-$target" >"$dir.build.log" 2>&1 || { tail -30 "$dir.build.log"; return 1; }
}

# run_target BIN TARGET LOG: the fixed-seed run; prints "found EXECS SECONDS CHECK" or "clean RUNS SECONDS"
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
	if [ $rc -ne 0 ]; then
		local execs check
		execs=$(grep -o 'execution [0-9]*' "$log" | head -1 | awk '{print $2}')
		[ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
		check=$(grep -m1 -oE 'FINDING[^(]*' "$log" | head -1 | sed 's/FINDING:* *//' | cut -c1-60)
		[ -n "$check" ] || check=$(grep -m1 -oE 'ERROR: [A-Za-z]+: [a-z-]+|libFuzzer: [a-z -]+' "$log" | head -1)
		for f in "$work"/crash-* "$work"/timeout-* "$work"/leak-*; do
			[ -e "$f" ] && cp "$f" "$log.input"
		done
		echo "found ${execs:-?} $secs ${check:-?}"
	else
		echo "clean $runs $secs"
	fi
	rm -rf "$work"
}

status=0
printf '%-28s %-7s %12s %9s  %s\n' mutant target executions seconds "first check that fired"
echo "$MUTANTS" | while read -r name n target; do
	[ -n "$name" ] || continue
	[ -z "$only" ] || [ "$only" = "$name" ] || continue
	dir="$root/$name"
	echo "mutants: building $name (KSLUB_MUTANT=$n, fuzz-$target) ..." >&2
	if ! configure_and_build "$dir" "$name" "$target"; then
		echo "mutants: build of $name failed" >&2
		exit 1
	fi
	# The seed corpus must not already reproduce the mutant: every seed once.
	if ! "$dir/fuzz-$target" -runs=0 "$src/fuzz/corpus/$target" >"$dir.seeds.log" 2>&1; then
		echo "mutants: a seed of fuzz/corpus/$target reproduces $name on its own (log $dir.seeds.log)" >&2
		echo fail >"$root/.failed"
		continue
	fi
	echo "mutants: fuzzing $name (fuzz-$target, seed 1, at most $([ "$target" = buddy ] && echo "$buddy_runs" || echo "$races_runs") runs) ..." >&2
	read -r verdict execs secs check <<<"$(run_target "$dir/fuzz-$target" "$target" "$dir.fuzz.log")"
	if [ "$verdict" = found ]; then
		printf '%-28s %-7s %12s %9s  %s\n' "$name" "$target" "$execs" "$secs" "$check"
	else
		printf '%-28s %-7s %12s %9s  %s\n' "$name" "$target" "-" "$secs" "SURVIVED"
		echo "mutants: $name survived; log: $dir.fuzz.log" >&2
		echo fail >"$root/.failed"
	fi
done || status=1

# The unmutated core with the same settings.
if [ -z "$only" ]; then
	if [ -z "$clean_bin" ]; then
		clean_bin="$root/clean"
		echo "mutants: building the unmutated core ..." >&2
		configure_and_build "$clean_bin" "" races || exit 1
		cmake --build "$clean_bin" --target fuzz-buddy >>"$clean_bin.build.log" 2>&1
	fi
	for target in races buddy; do
		echo "mutants: fuzzing the unmutated core (fuzz-$target, seed 1, same runs) ..." >&2
		read -r verdict execs secs check <<<"$(run_target "$clean_bin/fuzz-$target" "$target" "$root/clean-$target.fuzz.log")"
		if [ "$verdict" = clean ]; then
			printf '%-28s %-7s %12s %9s  %s\n' "(unmutated core)" "$target" "$execs" "$secs" "no finding"
		else
			printf '%-28s %-7s %12s %9s  %s\n' "(unmutated core)" "$target" "$execs" "$secs" "FINDING: $check"
			echo "mutants: the unmutated core shows a finding; log: $root/clean-$target.fuzz.log" >&2
			echo fail >"$root/.failed"
		fi
	done
fi

if [ -f "$root/.failed" ] || [ $status -ne 0 ]; then
	rm -f "$root/.failed"
	echo "mutants: FAILED"
	exit 1
fi
echo "mutants: every mutant found; the unmutated core is clean"
