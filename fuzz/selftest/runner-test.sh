#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The test of fuzz/run-smoke.sh itself: it must pass a clean target and
# fail a target that crashes, leaks or times out, a stand-in that exits
# non-zero, and a stand-in that exits 0 without fuzzing; and it must pass the
# options file's settings to the fuzzer.
#
#   fuzz/selftest/runner-test.sh BUILD_DIR
#
# TAP output; exit status non-zero if any case went the wrong way.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runner=$here/../run-smoke.sh
build=$(cd "${1:?usage: runner-test.sh BUILD_DIR}" && pwd) || exit 1
seeds=$here/seeds
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

n=0 failed=0
# check NAME EXPECT(pass|fail) [GREP] -- COMMAND...: run the runner, compare.
check() {
	local name=$1 expect=$2 pattern=$3
	shift 4
	n=$((n + 1))
	local rc=0
	# A runner that hangs fails the case instead of the whole test.
	timeout -k 5 120 "$@" >"$work/out.$n" 2>&1 || rc=$?
	local got=pass
	[ $rc -eq 0 ] || got=fail
	if [ "$got" = "$expect" ] && { [ -z "$pattern" ] || grep -qE "$pattern" "$work/out.$n"; }; then
		echo "ok $n - $name: runner said $got (status $rc)"
	else
		echo "not ok $n - $name: expected $expect${pattern:+ with /$pattern/}, runner said $got (status $rc)"
		sed 's/^/# /' "$work/out.$n" | tail -20
		failed=$((failed + 1))
	fi
}

for m in clean crash leak timeout; do
	[ -x "$build/fuzz-selftest-$m" ] || { echo "Bail out! $build/fuzz-selftest-$m not built"; exit 1; }
done
printf '#!/bin/sh\necho "pretending to fuzz"\nexit 1\n' >"$work/exit1"
printf '#!/bin/sh\necho "INFO: nothing"\nexit 0\n' >"$work/exit0"
chmod +x "$work/exit1" "$work/exit0"

echo "1..8"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
check "clean target" pass 'run-smoke: passed' -- "$runner" "$build/fuzz-selftest-clean" "$seeds" 200
check "crashing target" fail 'finding saved as fuzz-findings/crash-' -- "$runner" "$build/fuzz-selftest-crash" "$seeds" 200
check "leaking target" fail 'LeakSanitizer' -- "$runner" "$build/fuzz-selftest-leak" "$seeds" 200
check "target that times out" fail 'timeout' -- env FUZZ_SMOKE_TIMEOUT=2 "$runner" "$build/fuzz-selftest-timeout" "$seeds" 200
check "stand-in exiting 1" fail 'exited with status 1' -- "$runner" "$work/exit1" "$seeds" 200
check "stand-in exiting 0 without fuzzing" fail "did not report 'Done 200 runs'" -- "$runner" "$work/exit0" "$seeds" 200
check "options file passed (dictionary loaded)" pass 'Dictionary: 2 entries' -- "$runner" "$build/fuzz-selftest-clean" "$seeds" 200 "$here/selftest.options"
check "missing options file refused" fail 'no such options file' -- "$runner" "$build/fuzz-selftest-clean" "$seeds" 200 "$here/none.options"

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
