#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DKMS: register this tree under a version of its own, `dkms build` it for
# every kernel kslub.ko supports that has headers here, fail on a failed
# build or any warning in DKMS's make.log (Debian 6.1's "Skipping BTF
# generation" aside), and remove the registration again whatever happens.
#   - 6.1, 6.12, 6.1-rt: installed on this machine (Debian 12's apt), DKMS here;
#   - 7.3, 7.3-rt: their headers live in the trixie build chroot of
#     scripts/fetch-kernels.sh (a 7.3 user's userland: gcc-14, glibc 2.38,
#     trixie's dkms); DKMS runs in there, in a private mount namespace with
#     this tree mounted at its own path.
#
#   tests/vm/dkms-check.sh          (CTest: module.dkms, module/CMakeLists.txt)
#
# Needs root and dkms; exit 77 (skipped) without them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "dkms-check: not root: skipped"; exit 77; }
command -v dkms >/dev/null || { echo "dkms-check: dkms not installed: skipped"; exit 77; }
croot="$("$top/scripts/fetch-kernels.sh" --print-dir)/chroot-trixie"

version="0.0.check$$"
in_chroot()
{
	unshare -m --propagation private bash -c '
		set -e
		root=$1 top=$2
		shift 2
		mount -t proc proc "$root/proc"
		mkdir -p "$root$top"
		mount --bind "$top" "$root$top"
		exec chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C "$@"' \
		dkms-chroot "$croot" "$top" "$@"
}
cleanup()
{
	"$top/module/dkms-install.sh" --remove "$version" >/dev/null 2>&1 || true
	if [ -f "$croot/.kslub-chroot" ]; then
		in_chroot "$top/module/dkms-install.sh" --remove "$version" >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

# check KVER ROOT: DKMS's results for KVER under ROOT (/ or the chroot).
check()
{
	local kver=$1 root=$2 log ko
	log=$root/var/lib/dkms/kslub/$version/$kver/$(uname -m)/log/make.log
	[ -s "$log" ] || { echo "dkms-check: $kver: DKMS kept no make.log at $log" >&2; exit 1; }
	grep -q 'LD \[M\].*kslub.ko' "$log" || { echo "dkms-check: $kver: $log does not show kslub.ko linked" >&2; exit 1; }
	# grep's status 1 (no warning) is the good case; 2 (an error) is not.
	warnings=$(grep -iE 'warning|error' "$log" | { grep -v 'Skipping BTF generation' || [ $? -eq 1 ]; }) ||
		[ $? -eq 1 ] || { echo "dkms-check: $kver: cannot read $log" >&2; exit 1; }
	if [ -n "$warnings" ]; then
		printf '%s\n' "$warnings"
		echo "dkms-check: $kver: warnings in $log" >&2
		exit 1
	fi
	ko=$(find "$root/var/lib/dkms/kslub/$version/$kver" -name 'kslub.ko*' | head -1)
	[ -n "$ko" ] || { echo "dkms-check: $kver: no kslub.ko among DKMS's results" >&2; exit 1; }
	echo "dkms-check: $kver: built $ko, make.log clean"
	built=$((built + 1))
}

built=0
"$top/module/dkms-install.sh" "$version"
for series in 6.1 6.12 6.1-rt; do
	if ! kver=$("$top/tests/vm/vm.sh" --kernel "$series" --print-kernel 2>/dev/null) ||
		[ ! -f "/lib/modules/$kver/build/Makefile" ]; then
		echo "dkms-check: no $series kernel with headers installed"
		continue
	fi
	echo "dkms-check: dkms build -m kslub -v $version -k $kver"
	dkms build -m kslub -v "$version" -k "$kver"
	check "$kver" ""
done

if [ -f "$croot/.kslub-chroot" ]; then
	in_chroot "$top/module/dkms-install.sh" "$version"
	for kver in $(grep -v '^packages ' "$croot/.kslub-chroot"); do
		echo "dkms-check: in $croot: dkms build -m kslub -v $version -k $kver"
		in_chroot dkms build -m kslub -v "$version" -k "$kver"
		check "$kver" "$croot"
	done
else
	echo "dkms-check: no build chroot for 7.3 ($croot; scripts/fetch-kernels.sh makes it)"
fi
[ "$built" -gt 0 ] || { echo "dkms-check: no kernel to build for: skipped"; exit 77; }
echo "dkms-check: built for $built kernel(s)"
