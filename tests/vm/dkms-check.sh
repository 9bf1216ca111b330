#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DKMS: register this tree under a version of its own, `dkms build` it for
# every installed Debian kernel kslub.ko supports (6.1, 6.12, 6.1-rt), fail on a failed build
# or any warning in DKMS's make.log (Debian 6.1's "Skipping BTF generation"
# aside), and remove the registration again whatever happens.
#
#   tests/vm/dkms-check.sh          (CTest: module.dkms, module/CMakeLists.txt)
#
# Needs root and dkms; exit 77 (skipped) without them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "dkms-check: not root: skipped"; exit 77; }
command -v dkms >/dev/null || { echo "dkms-check: dkms not installed: skipped"; exit 77; }

version="0.0.check$$"
cleanup() { "$top/module/dkms-install.sh" --remove "$version" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"$top/module/dkms-install.sh" "$version"

built=0
for series in 6.1 6.12 6.1-rt; do
	if ! kver=$("$top/tests/vm/vm.sh" --kernel "$series" --print-kernel 2>/dev/null) ||
		[ ! -f "/lib/modules/$kver/build/Makefile" ]; then
		echo "dkms-check: no $series kernel with headers installed"
		continue
	fi
	echo "dkms-check: dkms build -m kslub -v $version -k $kver"
	dkms build -m kslub -v "$version" -k "$kver"
	log=/var/lib/dkms/kslub/$version/$kver/$(uname -m)/log/make.log
	[ -s "$log" ] || { echo "dkms-check: $kver: DKMS kept no make.log at $log" >&2; exit 1; }
	grep -q 'LD \[M\].*kslub.ko' "$log" || { echo "dkms-check: $kver: $log does not show kslub.ko linked" >&2; exit 1; }
	if grep -iE 'warning|error' "$log" | grep -v 'Skipping BTF generation'; then
		echo "dkms-check: $kver: warnings in $log" >&2
		exit 1
	fi
	ko=$(find "/var/lib/dkms/kslub/$version/$kver" -name 'kslub.ko*' | head -1)
	[ -n "$ko" ] || { echo "dkms-check: $kver: no kslub.ko among DKMS's results" >&2; exit 1; }
	echo "dkms-check: $kver: built $ko, make.log clean"
	built=$((built + 1))
done
[ "$built" -gt 0 ] || { echo "dkms-check: no kernel to build for: skipped"; exit 77; }
echo "dkms-check: built for $built kernel(s)"
