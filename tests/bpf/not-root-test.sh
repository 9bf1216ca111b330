#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host test (CTest bpf.record_not_root, label bpf): kslub-record run
# without root privileges must fail and say what to do (run as root). Needs
# root itself to drop them (setpriv); exit 77 (skipped) when not root or
# without setpriv.
#
# usage: tests/bpf/not-root-test.sh KSLUB_RECORD
set -euo pipefail
record=$1
if [ "$(id -u)" -ne 0 ] || ! command -v setpriv >/dev/null; then
	echo "SKIP: needs root and setpriv to run kslub-record as an unprivileged user"
	exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
rc=0
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$record" --duration 1 --output /dev/null >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" -ne 0 ] || { echo "FAIL: kslub-record succeeded without privileges"; exit 1; }
# The explanation of the failure, not the warning every unprivileged start
# prints ("not running as root ... try sudo"), which would match "root" alone.
grep -qE 'run (it|kslub-record) as root' "$out" || { echo "FAIL: the message does not say to run as root"; exit 1; }
echo PASS
