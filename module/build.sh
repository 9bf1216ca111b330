#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build kslub.ko against one kernel's headers, out of tree.
#
# usage: module/build.sh KDIR OUTDIR [make arguments...]
#
#   KDIR    a kernel build tree (/lib/modules/<release>/build or
#           /usr/src/linux-headers-<release>), or a kernel series such as
#           6.1, 6.12, 7.3, 6.1-rt or 7.3-rt: the newest Debian headers of
#           that series and flavour (/usr/src/linux-headers-<series>.*-amd64,
#           -rt-amd64 for -rt, or the same in the build chroot), found when
#           the script runs, so that headers installed later are picked up.
#           A tree inside the build chroot of scripts/fetch-kernels.sh (a
#           directory holding .kslub-chroot above KDIR: Linux 7.3, whose
#           kbuild tools need glibc 2.38 and whose kernel was built with
#           gcc-14) is built in there: this script runs itself inside it, in
#           a private mount namespace where /proc, this source tree and OUTDIR
#           are mounted at the same paths (root needed), with the chroot's
#           C++ compiler (KSLUB_CHROOT_CXX, default x86_64-linux-gnu-g++-14).
#   OUTDIR  where objects and kslub.ko go (created; one per kernel, so that
#           builds for different kernels do not clobber each other)
#
# The module sources are linked into OUTDIR and Kbuild runs there with
# M=OUTDIR; the core is used in place. The whole log is printed. The script
# fails if the build fails or if the log contains any warning (compiler,
# modpost, objtool), with one exception: Debian's 6.1 headers always print
# "Skipping BTF generation ... due to unavailability of vmlinux", which is
# about the headers package, not this module.
#
# Exit status: 0 built cleanly; 1 build failed or warned; 77 no headers for
# the series asked for (CTest counts it as skipped).
#
# Environment: JOBS (default 2), CXX for the C++ compiler (default g++),
# CONFIG_KSLUB_DEBUG / CONFIG_KSLUB_FREELIST_HARDENED / CONFIG_KSLUB_FREELIST_RANDOM.

set -euo pipefail

die() {
	echo "module/build.sh: error: $*" >&2
	exit 1
}

[[ $# -ge 2 ]] || die "usage: $0 KDIR OUTDIR [make arguments...]"
kdir=$1
out=$2
shift 2

# A series (6.1, 6.12, 7.3; -rt for the PREEMPT_RT flavour): the newest
# matching Debian headers (version sort), found by glob, never by a fixed ABI
# number: installed in /usr/src, or in the build chroot of scripts/fetch-kernels.sh.
if [[ "$kdir" =~ ^[0-9]+\.[0-9]+(-rt)?$ ]]; then
	series=${kdir%-rt}
	flavour=amd64
	[[ "$kdir" != *-rt ]] || flavour=rt-amd64
	kcache=$("$(dirname "${BASH_SOURCE[0]}")/../scripts/fetch-kernels.sh" --print-dir 2>/dev/null || echo /var/cache/kslub/kernels)
	kdir=$(for d in /usr/src/linux-headers-"$series".*-"$flavour" \
		"$kcache"/chroot-trixie/usr/src/linux-headers-"$series".*-"$flavour"; do
		# The generic flavour's glob also matches -rt-amd64 and -cloud-amd64.
		case "$d" in *-rt-amd64 | *-cloud-amd64) [[ $flavour == rt-amd64 && $d == *-rt-amd64 ]] || continue ;; esac
		if [[ -f "$d/Makefile" ]]; then echo "$d"; fi
	done | sort -V | tail -n 1)
	if [[ -z "$kdir" ]]; then
		echo "module/build.sh: no linux-headers-$series.*-$flavour in /usr/src or $kcache/chroot-trixie/usr/src; skipping" >&2
		exit 77
	fi
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
core=$(cd "$here/../core" 2>/dev/null && pwd) || core=$here/core
[[ -d "$core/base" ]] || die "the core is not at $here/../core or $here/core"

# A tree of the build chroot: run this script in there.
croot=""
if [[ -z "${KSLUB_IN_CHROOT:-}" && -d "$kdir" ]]; then
	d=$(readlink -f "$kdir")
	while [[ "$d" != / ]]; do
		if [[ -f "$d/.kslub-chroot" ]]; then
			croot=$d
			break
		fi
		d=$(dirname "$d")
	done
fi
if [[ -n "$croot" ]]; then
	[[ $(id -u) -eq 0 ]] || die "$kdir is in the build chroot $croot: entering it needs root"
	kin=$(readlink -f "$kdir")
	kin=${kin#"$croot"}
	top=$(cd "$here/.." && pwd)
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	envs=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C KSLUB_IN_CHROOT=1
		CXX="${KSLUB_CHROOT_CXX:-x86_64-linux-gnu-g++-14}" JOBS="${JOBS:-2}")
	for v in CONFIG_KSLUB_DEBUG CONFIG_KSLUB_FREELIST_HARDENED CONFIG_KSLUB_FREELIST_RANDOM; do
		[[ -z "${!v+set}" ]] || envs+=("$v=${!v}")
	done
	echo "kslub: $kdir is in the build chroot $croot: building in there"
	# shellcheck disable=SC2016 # expanded by the inner shell
	exec unshare -m --propagation private bash -c '
		set -e
		root=$1 top=$2 out=$3
		shift 3
		mount -t proc proc "$root/proc"
		for d in "$top" "$out"; do
			mkdir -p "$root$d"
			mount --bind "$d" "$root$d"
		done
		exec chroot "$root" env -i "$@"' \
		kslub-chroot "$croot" "$top" "$out" "${envs[@]}" bash "$here/build.sh" "$kin" "$out" "$@"
fi
[[ -f "$kdir/Makefile" ]] || die "$kdir is not a kernel build tree (no Makefile)"
verh=$kdir/include/generated/uapi/linux/version.h
[[ -f "$verh" ]] || die "$verh missing: headers not prepared"
# The release the module's vermagic carries (Debian fills kernel.release
# with the upstream version, e.g. 6.1.192-rt64 for 6.1.0-57-rt-amd64).
release=$(sed -n 's/^#define UTS_RELEASE "\(.*\)"$/\1/p' "$kdir/include/generated/utsrelease.h" 2>/dev/null || true)
[[ -n "$release" ]] || release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || echo unknown)
code=$(awk '/define LINUX_VERSION_CODE/ { print $3 }' "$verh")
[[ -n "$code" ]] || die "no LINUX_VERSION_CODE in $verh"
major=$((code >> 16))
minor=$(((code >> 8) & 255))
if ((major > 6 || (major == 6 && minor >= 5))); then
	cas=this_cpu_try_cmpxchg128
else
	cas=this_cpu_cmpxchg_double
fi

mkdir -p "$out"
out=$(cd "$out" && pwd)
# Sources by symbolic link: Kbuild builds in M=, and dependency tracking follows the links.
for f in "$here"/Kbuild "$here"/*.c "$here"/*.h "$here"/*.cpp; do
	ln -sfn "$f" "$out/$(basename "$f")"
done
echo "kslub: building for $release (Linux $major.$minor, per-CPU CAS as $cas) in $out"

log=$out/build.log
set +e
make -C "$kdir" M="$out" KSLUB_CORE="$core" ${CXX:+KSLUB_CXX="$CXX"} -j"${JOBS:-2}" "$@" modules 2>&1 | tee "$log"
st=("${PIPESTATUS[@]}")
set -e
rc=${st[0]}
[[ $rc -eq 0 ]] || die "make failed ($rc)"
# The log is what the warning scan reads: it must have been written whole.
[[ ${st[1]} -eq 0 && -s "$log" ]] || die "could not write the build log $log"
[[ -f "$out/kslub.ko" ]] || die "$out/kslub.ko was not produced"
# Compiler options (-Werror=...) are not findings: drop them before looking.
# grep's status 1 (nothing found) is the good case; 2 (an error) is not.
warnings=$(sed -E 's/(^|[[:space:]])-[A-Za-z][^[:space:]]*//g' "$log" |
	{ grep -iE 'warning|error|not supported|unsupported' || [ $? -eq 1 ]; } |
	{ grep -v 'Skipping BTF generation' || [ $? -eq 1 ]; }) || die "scanning $log failed"
if [[ -n "$warnings" ]]; then
	echo "module/build.sh: the build log has warnings:" >&2
	echo "$warnings" >&2
	exit 1
fi
echo "kslub: $out/kslub.ko built cleanly for $release"
