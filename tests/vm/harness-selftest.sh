#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The harness itself (CTest vm.harness): vm.sh must return a guest script's
# exit code, fail on a kernel WARNING even when the script succeeds, fail on
# a kernel oops (oops=panic), on a hang (--timeout) and on a boot that never
# reaches the script (KSLUB_VM_BOOT_TIMEOUT, retried first), keep the console log
# of every failed run, and pass --env values through unchanged.
#
#   tests/vm/harness-selftest.sh [--kernel 6.12]
#
# KSLUB_VM_SH: the harness under test (default tests/vm/vm.sh);
# tests/scripts/vm-selftest.sh gives stand-ins that must fail this test.
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VM_SH="${KSLUB_VM_SH:-$VM_DIR/vm.sh}"
kernel=6.12
[ "${1:-}" != --kernel ] || kernel="${2:?--kernel needs a value}"
work="$(mktemp -d "${TMPDIR:-/tmp}/kslub-harness.XXXXXX")"
trap 'rm -rf "$work"' EXIT
export KSLUB_VM_LOGDIR="$work/logs"
failed=0
n=0

# run_case NAME EXPECTED_STATUS OUTPUT_PATTERN [vm.sh options...]
run_case()
{
	local name="$1" want="$2" pattern="$3" rc=0
	shift 3
	n=$((n + 1))
	"$VM_SH" --kernel "$kernel" --smp 1 --quiet --script "$VM_DIR/guest/harness-case.sh" \
		--env "KSLUB_CASE=$name" "$@" >"$work/$name.out" 2>&1 || rc=$?
	if [ "$rc" = "$want" ] && grep -qE "$pattern" "$work/$name.out"; then
		echo "ok $n - $name: status $rc, output matches '$pattern'"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: status $rc (expected $want), output should match '$pattern':"
		sed 's/^/#   /' "$work/$name.out"
	fi
	# Every failed run keeps its console log, and says where.
	if [ "$want" != 0 ]; then
		local kept
		kept="$(sed -n 's/^vm: console log kept: //p' "$work/$name.out")"
		if [ -n "$kept" ] && [ -s "$kept" ]; then
			echo "ok $n.1 - $name: console log kept"
		else
			failed=$((failed + 1))
			echo "not ok $n.1 - $name: console log kept ('$kept')"
		fi
	fi
}

run_case env 0 'passed' --env "KSLUB_X=a 'b' \$c"
run_case exit3 3 'FAIL: guest script exited with status 3'
run_case warning 1 'FAIL: +\[ *[0-9.]+\] WARNING: CPU: 0 PID: 1 at harness-case injected'
run_case oops 1 'no exit code from the guest'
run_case hang 1 'timeout: QEMU killed after 15 s' --timeout 15
# A boot that never reaches the guest script: init replaced by a busy loop.
# Stopped after KSLUB_VM_BOOT_TIMEOUT, retried, then failed; not --timeout.
KSLUB_VM_BOOT_TIMEOUT=20 KSLUB_VM_BOOT_ATTEMPTS=2 KSLUB_VM_APPEND='rdinit=/bin/sh -- -c "while :; do :; done"' \
	run_case stuck-boot 1 'FAIL: the guest did not start its script within 20 s' --timeout 90
n=$((n + 1))
if grep -q 'did not start its script within 20 s (stuck while booting): retrying' "$work/stuck-boot.out"; then
	echo "ok $n - stuck-boot: the first boot was retried"
else
	failed=$((failed + 1))
	echo "not ok $n - stuck-boot: the first boot was retried"
fi
echo "1..$n"
[ "$failed" -eq 0 ]
