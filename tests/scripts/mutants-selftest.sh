#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Mutation check of fuzz/mutants.sh (CTest scripts.mutants): given prebuilt
# "mutants" (--prebuilt) it must
#   - report a mutant that is no bug (the unmutated fuzz-races when given,
#     else a stand-in that fuzzes and finds nothing) as SURVIVED and fail;
#   - fail, not count as found, a mutant binary that exits non-zero without
#     a finding (a binary that cannot run, a refused flag);
#   - fail an unknown --only name instead of testing nothing;
#   - fail an unmutated core that exits 0 without fuzzing, or that finds
#     something; and pass when every mutant is found and the core is clean;
#   - fail when one mutant survives and the others are found, with several
#     jobs running at a time.
# Stand-ins are shell scripts that answer libFuzzer's -runs= and
# -artifact_prefix= flags.
#
#   tests/scripts/mutants-selftest.sh SRC_DIR [FUZZ_RACES_BINARY]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:?usage: mutants-selftest.sh SRC_DIR [FUZZ_RACES]}" && pwd) || exit 1
races=${2:-}
mutants=$src/fuzz/mutants.sh
TAP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kslub-mutants-selftest.XXXXXX")
trap 'rm -rf "$TAP_WORK"' EXIT
# shellcheck source=tap.sh
. "$here/tap.sh"

# standin FILE MODE: nobug (fuzzes, finds nothing), crash (a finding, its
# input saved), broken (exits 127, nothing saved), silent (exits 0, no runs).
# Every mode passes the seed check (-runs=0).
standin()
{
	mkdir -p "$(dirname "$1")"
	cat >"$1" <<EOF
#!/bin/sh
runs="" prefix=""
for a; do
	case \$a in
	-runs=*) runs=\${a#-runs=} ;;
	-artifact_prefix=*) prefix=\${a#-artifact_prefix=} ;;
	esac
done
[ "\$runs" != 0 ] || exit 0
case $2 in
nobug) echo "Done \$runs runs in 0 second(s)"; exit 0 ;;
crash) echo "kslub-races: FINDING [stand-in]: injected (execution 42)" >&2; echo x >"\${prefix}crash-standin"; exit 1 ;;
broken) echo "stand-in: error while loading shared libraries" >&2; exit 127 ;;
silent) echo "INFO: nothing to do"; exit 0 ;;
esac
EOF
	chmod +x "$1"
}

W=$TAP_WORK
# "name target" per seeded bug, as the runner reads them.
names=$("$mutants" --list) || { echo "Bail out! $mutants --list failed"; exit 1; }
first=$(echo "$names" | awk 'NR == 1 { print $1 }')
first_target=$(echo "$names" | awk 'NR == 1 { print $2 }')
# A patch without its target line, and an empty folder of patches.
mkdir -p "$W/no-target" "$W/no-patches"
sed '/^Target:/d' "$src/fuzz/mutants/$first.patch" >"$W/no-target/$first.patch"

# A "mutant" that is no bug: the unmutated fuzzer itself.
mkdir -p "$W/nobug/$first"
if [ -n "$races" ] && [ "$first_target" = races ]; then
	[ -x "$races" ] || { echo "Bail out! $races is not an executable"; exit 1; }
	ln -s "$races" "$W/nobug/$first/fuzz-races"
	nobug_what="the unmutated fuzz-races"
else
	standin "$W/nobug/$first/fuzz-$first_target" nobug
	nobug_what="a stand-in that finds nothing"
fi
standin "$W/broken/$first/fuzz-$first_target" broken
standin "$W/crash/$first/fuzz-$first_target" crash
# Every mutant found, for the runs with the unmutated core.
while read -r name target; do
	[ -n "$name" ] || continue
	standin "$W/all/$name/fuzz-$target" crash
done <<<"$names"
# All found but one in the middle of the list, for a run of several jobs: a
# failure in any job, not only the last to finish, must fail the run.
mid=$(echo "$names" | awk 'NR == 3 { print $1 }')
while read -r name target; do
	[ -n "$name" ] || continue
	standin "$W/one-survives/$name/fuzz-$target" "$([ "$name" = "$mid" ] && echo nobug || echo crash)"
done <<<"$names"
for t in races buddy; do
	standin "$W/clean-ok/fuzz-$t" nobug
	standin "$W/clean-silent/fuzz-$t" nobug
	standin "$W/clean-finding/fuzz-$t" nobug
done
standin "$W/clean-silent/fuzz-buddy" silent
standin "$W/clean-finding/fuzz-races" crash

m() { echo "$mutants" --build-root "$W/root.$1" --runs 2000 --buddy-runs 2000; }
# shellcheck disable=SC2046
{
case_run "a mutant that is no bug ($nobug_what)" fail "$first .*SURVIVED" -- $(m 1) --prebuilt "$W/nobug" --only "$first"
case_run "a mutant binary exiting 127 without a finding" fail "$first .*ERROR" -- $(m 2) --prebuilt "$W/broken" --only "$first"
case_run "a mutant found (stand-in crash, input saved)" pass "mutants: $first found" -- $(m 3) --prebuilt "$W/crash" --only "$first"
case_run "--only naming no mutant" 2 'no such mutant' -- $(m 4) --prebuilt "$W/crash" --only no-such-mutant
KSLUB_MUTANT_DIR=$W/no-target case_run "a patch without its Target: line" 2 'no .Target: <fuzz target>. line' -- $(m 9) --prebuilt "$W/crash"
KSLUB_MUTANT_DIR=$W/no-patches case_run "no patches at all" 2 'no seeded bugs in' -- $(m 10) --prebuilt "$W/crash"
case_run "unmutated core exiting 0 without fuzzing" fail 'unmutated core.*buddy.*ERROR' -- $(m 5) --prebuilt "$W/all" --clean-bin "$W/clean-silent"
case_run "unmutated core with a finding" fail 'unmutated core.*races.*FINDING' -- $(m 6) --prebuilt "$W/all" --clean-bin "$W/clean-finding"
case_run "unmutated core missing" fail 'unmutated core.*ERROR: no binary' -- $(m 7) --prebuilt "$W/all" --clean-bin "$W/none"
case_run "every mutant found, the core clean" pass 'every mutant found' -- $(m 8) --prebuilt "$W/all" --clean-bin "$W/clean-ok"
case_run "one survivor among the mutants, 3 jobs at a time" fail "$mid .*SURVIVED" -- $(m 11) --prebuilt "$W/one-survives" --clean-bin "$W/clean-ok" --jobs 3
}
case_done
