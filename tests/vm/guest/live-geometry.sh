#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.geometry.* tests: the unit test that compares kslub's
# kmalloc geometry with the running kernel's /sys/kernel/slab
# (KmallocGeometry.MatchesThisMachinesSysfs), run inside the guest, where
# /sys/kernel/slab is the guest kernel's and readable. It must run, not skip.
# The test compares under the rules of the guest kernel's version, as
# kslub.ko picks them (< 6.12: 6.1, 6.12 .. 6.17: 6.12, 6.18 .. 6.x: 6.18,
# >= 7.0: 7.3), passed to it as KSLUB_GEOMETRY_KERNEL.
# KSLUB_UNIT_TESTS: the kslub_unit_tests binary of a build directory.
set -eu

: "${KSLUB_UNIT_TESTS:?KSLUB_UNIT_TESTS (the kslub_unit_tests binary) is not set}"
[ -x "$KSLUB_UNIT_TESTS" ] || { echo "live-geometry: $KSLUB_UNIT_TESTS is not executable (build kslub_unit_tests first)" >&2; exit 1; }
release="$(uname -r)"
major="${release%%.*}"
minor="${release#*.}"
minor="${minor%%[!0-9]*}"
case "$major.$minor" in
*[!0-9.]* | .* | *.) rules="" ;;
*)
	if [ "$major" -ge 7 ]; then rules=7.3
	elif [ "$major" -lt 6 ] || [ "$minor" -lt 12 ]; then rules=6.1
	elif [ "$minor" -lt 18 ]; then rules=6.12
	else rules=6.18
	fi
	;;
esac
[ -n "$rules" ] || { echo "live-geometry: cannot read a version from '$release'" >&2; exit 1; }
echo "live-geometry: Linux $release, present CPUs $(cat /sys/devices/system/cpu/present), kslub rules $rules"
out="$TMPDIR/live-geometry.out"
rc=0
KSLUB_GEOMETRY_KERNEL="$rules" "$KSLUB_UNIT_TESTS" --gtest_filter='KmallocGeometry.MatchesThisMachinesSysfs' --gtest_brief=0 >"$out" 2>&1 || rc=$?
cat "$out"
if grep -q '\[  SKIPPED \]' "$out"; then
	echo "live-geometry: the test skipped instead of comparing" >&2
	exit 1
fi
grep -q '\[  PASSED  \] 1 test\.' "$out" || { echo "live-geometry: the comparison failed (status $rc)" >&2; exit 1; }
# A PASSED line does not outweigh the exit status (a failure at exit, a leak report).
[ "$rc" -eq 0 ] || { echo "live-geometry: the test binary exited with status $rc after PASSED" >&2; exit 1; }
echo "live-geometry: compared, passed"
