#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.geometry.* tests: the unit test that compares kslub's
# kmalloc geometry with the running kernel's /sys/kernel/slab
# (KmallocGeometry.MatchesThisMachinesSysfs), run inside the guest, where
# /sys/kernel/slab is the guest kernel's and readable. It must run, not skip.
# KSLUB_UNIT_TESTS: the kslub_unit_tests binary of a build directory.
set -eu

: "${KSLUB_UNIT_TESTS:?KSLUB_UNIT_TESTS (the kslub_unit_tests binary) is not set}"
[ -x "$KSLUB_UNIT_TESTS" ] || { echo "live-geometry: $KSLUB_UNIT_TESTS is not executable (build kslub_unit_tests first)" >&2; exit 1; }
echo "live-geometry: Linux $(uname -r), present CPUs $(cat /sys/devices/system/cpu/present)"
out="$TMPDIR/live-geometry.out"
rc=0
"$KSLUB_UNIT_TESTS" --gtest_filter='KmallocGeometry.MatchesThisMachinesSysfs' --gtest_brief=0 >"$out" 2>&1 || rc=$?
cat "$out"
if grep -q '\[  SKIPPED \]' "$out"; then
	echo "live-geometry: the test skipped instead of comparing" >&2
	exit 1
fi
grep -q '\[  PASSED  \] 1 test\.' "$out" || { echo "live-geometry: the comparison failed (status $rc)" >&2; exit 1; }
# A PASSED line does not outweigh the exit status (a failure at exit, a leak report).
[ "$rc" -eq 0 ] || { echo "live-geometry: the test binary exited with status $rc after PASSED" >&2; exit 1; }
echo "live-geometry: compared, passed"
