#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Fetch the guest kernels that Debian 12's own apt sources do not carry, and
# the build chroot for the headers that need a newer toolchain, into a cache
# on this machine. Run by scripts/install-deps.sh (so by `make test` and
# `make run`); idempotent: what is ready is never fetched again, and when
# everything is, it prints "kernels: all present" without touching the network.
#
#   scripts/fetch-kernels.sh [--status] [--print-dir] [ITEM...]
#
# ITEM (default: all of them):
#   6.18    linux-image-6.18.*+deb13-amd64 (trixie-backports; images only, no
#           headers exist): boot/vmlinuz-<release> and its module tree
#   7.3     linux-binary-, linux-modules-, linux-base-7.3.*+deb13-amd64
#           (trixie-backports; the image package is a meta package):
#           usr/lib/modules/<release>/{vmlinuz,kernel/...}
#   7.3-rt  the same for the PREEMPT_RT flavour (-rt-amd64)
#   chroot  a trixie root (debootstrap: make, gcc-14, g++-14, g++, libc6-dev,
#           kmod, dkms) with linux-headers-<release> of 7.3 and 7.3-rt
#           installed in it: what a 7.3 user's machine has to build modules.
#           7.3's kbuild tools need glibc 2.38 and its kernels were built with
#           gcc-14; module/build.sh enters it for kernel trees under it.
# (6.1-rt is in bookworm itself: install-deps.sh installs it with apt.)
#
# Layout of the cache (KSLUB_KERNEL_CACHE, default /var/cache/kslub/kernels):
#   <release>/            the packages unpacked (dpkg-deb -x), modules.dep made
#                         by depmod; <release>/ready holds "ITEM RELEASE"
#   chroot-trixie/        the build root; its .kslub-chroot lists its packages
#                         and the releases whose headers it has (and marks it
#                         for build.sh); a root with fewer packages is topped up
#   ITEM.unavailable      why ITEM could not be had (its package is not in the
#                         index): the tests needing it skip with that reason
#   apt/                  the private apt configuration and package lists
#
# The trixie suites are read through a private apt configuration
# (Dir::Etc::SourceList, Dir::State::Lists, Dir::Cache under apt/); the
# system's apt sources are never changed. Needs root (debootstrap, chroot).
#
# --status     print each item's state (ready RELEASE / missing / unavailable: why)
# --print-dir  print the cache directory
# Exit status: 0 every item ready or recorded as unavailable; 1 a fetch failed.
set -euo pipefail

cache="${KSLUB_KERNEL_CACHE:-/var/cache/kslub/kernels}"
mirror="${KSLUB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
security="${KSLUB_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}"
ALL_ITEMS="6.18 7.3 7.3-rt chroot"
CHROOT_PACKAGES="make gcc-14 g++-14 g++ libc6-dev kmod xz-utils dkms"

die() { echo "fetch-kernels: error: $*" >&2; exit 1; }
msg() { echo "kernels: $*"; }

status=0 items=()
while [ $# -gt 0 ]; do
	case "$1" in
	--status) status=1; shift ;;
	--print-dir) echo "$cache"; exit 0 ;;
	-h | --help) sed -n '3,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
	6.18 | 7.3 | 7.3-rt | chroot) items+=("$1"); shift ;;
	*) die "unknown argument '$1' (items: $ALL_ITEMS)" ;;
	esac
done
[ ${#items[@]} -gt 0 ] || read -r -a items <<<"$ALL_ITEMS"

# ready_release ITEM: the release of a ready item; status 1 if not ready.
ready_release()
{
	local f
	if [ "$1" = chroot ]; then
		f="$cache/chroot-trixie/.kslub-chroot"
		[ -f "$f" ] && grep -qxF "packages $CHROOT_PACKAGES" "$f" || return 1
		grep -v '^packages ' "$f" | tr '\n' ' ' | sed 's/ $//'
		return 0
	fi
	for f in "$cache"/*/ready; do
		[ -f "$f" ] || continue
		if [ "$(cut -d' ' -f1 "$f")" = "$1" ]; then
			cut -d' ' -f2 "$f"
			return 0
		fi
	done
	return 1
}

if [ "$status" = 1 ]; then
	for it in "${items[@]}"; do
		if r=$(ready_release "$it"); then
			echo "$it: ready $r"
		elif [ -f "$cache/$it.unavailable" ]; then
			echo "$it: unavailable: $(cat "$cache/$it.unavailable")"
		else
			echo "$it: missing"
		fi
	done
	exit 0
fi

todo=()
for it in "${items[@]}"; do
	ready_release "$it" >/dev/null || todo+=("$it")
done
if [ ${#todo[@]} -eq 0 ]; then
	msg "all present ($cache)"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null ||
		die "fetching ${todo[*]} needs root (debootstrap, chroot; into $cache) and sudo is not available"
	exec sudo env KSLUB_KERNEL_CACHE="$cache" KSLUB_DEBIAN_MIRROR="$mirror" \
		KSLUB_DEBIAN_SECURITY="$security" "${BASH_SOURCE[0]}" "${todo[@]}"
fi
for t in apt-get dpkg-deb depmod; do
	command -v "$t" >/dev/null || die "$t not found (scripts/install-deps.sh installs what is needed)"
done
msg "fetching ${todo[*]} into $cache"
mkdir -p "$cache"
t_all=$(date +%s)

# --- the private apt configuration -------------------------------------------
aptdir="$cache/apt"
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring not found (Debian: debian-archive-keyring)"
{
	for s in trixie trixie-updates trixie-backports; do
		echo "deb [signed-by=$keyring] $mirror $s main"
	done
	echo "deb [signed-by=$keyring] $security trixie-security main"
} >"$aptdir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::Etc::Preferences=/dev/null -o Dir::Etc::PreferencesParts=/dev/null
	-o "Dir::State::Lists=$aptdir/lists" -o Dir::State::status=/dev/null
	-o "Dir::Cache=$aptdir/cache" -o APT::Architecture=amd64 -o Debug::NoLocking=1)
apt_updated=0
apt_update()
{
	[ "$apt_updated" = 0 ] || return 0
	t=$(date +%s)
	apt-get "${apt_opts[@]}" -qq update || die "apt-get update of the trixie suites failed"
	apt_updated=1
	msg "trixie package index read in $(($(date +%s) - t)) s"
}

# newest PATTERN: the newest package name matching the extended regex PATTERN;
# nothing when none does. An unreadable index fails (not "no such package").
newest()
{
	local names
	names=$(apt-cache "${apt_opts[@]}" pkgnames) || die "apt-cache pkgnames failed on the trixie index"
	[ -n "$names" ] || die "the trixie package index is empty ($aptdir/lists): apt-get update read nothing"
	# grep's status 1 (no match) is a real answer; 2 is not.
	{ grep -E "^$1\$" <<<"$names" || [ $? -eq 1 ]; } | sort -V | tail -n 1
}

# deb_of PACKAGE: the downloaded .deb of PACKAGE in $aptdir/debs, or nothing.
deb_of()
{
	local f
	for f in "$aptdir/debs/${1}_"*.deb; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
}

# download PACKAGE...: the .deb files, into $aptdir/debs (kept until the
# unpack succeeded: a rerun after a failed one does not download again);
# prints their paths.
download()
{
	local p f
	for p in "$@"; do
		f=$(deb_of "$p")
		if [ -z "$f" ]; then
			(cd "$aptdir/debs" && apt-get "${apt_opts[@]}" -qq download "$p" 2>&1 |
				{ grep -v 'unsandboxed as root' || [ $? -eq 1 ]; }) >&2 ||
				die "apt-get download $p failed"
			f=$(deb_of "$p")
			[ -n "$f" ] || die "apt-get download $p gave no .deb"
		fi
		echo "$f"
	done
}

unavailable()
{
	echo "$2" >"$cache/$1.unavailable"
	echo "kernels: WARNING: $1 cannot be had: $2 (its tests will be skipped, saying so)" >&2
}

# fetch_image ITEM: unpack the newest image of ITEM into $cache/<release>.
fetch_image()
{
	local it=$1 pkgre rel pkgs stage d t
	case $it in
	6.18) pkgre='linux-image-6\.18\.[0-9]+\+deb13-amd64' ;;
	7.3) pkgre='linux-binary-7\.3\.[0-9]+\+deb13-amd64' ;;
	7.3-rt) pkgre='linux-binary-7\.3\.[0-9]+\+deb13-rt-amd64' ;;
	esac
	apt_update
	rel=$(newest "$pkgre")
	if [ -z "$rel" ]; then
		unavailable "$it" "no package matching $pkgre in trixie, trixie-updates, trixie-backports or trixie-security"
		return 0
	fi
	rel=${rel#linux-image-}
	rel=${rel#linux-binary-}
	case $it in
	6.18) pkgs=("linux-image-$rel") ;;
	*) pkgs=("linux-binary-$rel" "linux-modules-$rel" "linux-base-$rel") ;;
	esac
	t=$(date +%s)
	mapfile -t debs < <(download "${pkgs[@]}")
	[ ${#debs[@]} -eq ${#pkgs[@]} ] || die "downloading ${pkgs[*]} failed"
	stage="$cache/.stage-$rel"
	rm -rf "$stage"
	mkdir -p "$stage"
	for d in "${debs[@]}"; do
		dpkg-deb -x "$d" "$stage" || die "dpkg-deb -x $d failed"
	done
	# 7.x keeps everything under usr/lib/modules/<release>/; 6.18 has boot/.
	[ -f "$stage/usr/lib/modules/$rel/vmlinuz" ] || [ -f "$stage/boot/vmlinuz-$rel" ] ||
		die "$it: no vmlinuz in ${pkgs[*]}"
	[ -d "$stage/usr/lib/modules/$rel/kernel" ] || die "$it: no module tree in ${pkgs[*]}"
	# No modules.dep is shipped; the guest's initramfs is built from it.
	depmod -b "$stage/usr" "$rel" || die "depmod for $rel failed"
	rm -rf "${cache:?}/$rel"
	mv "$stage" "$cache/$rel"
	echo "$it $rel" >"$cache/$rel/ready"
	rm -f "$cache/$it.unavailable"
	# Unpacked and ready: the .deb files are not needed again.
	rm -f "${debs[@]}"
	msg "$it: $rel ready in $(($(date +%s) - t)) s ($(du -sm "$cache/$rel" | cut -f1) MB)"
}

# fetch_chroot: debootstrap trixie and install the 7.3 headers in it.
fetch_chroot()
{
	local root="$cache/chroot-trixie" rels=() hdrs=() it rel t
	command -v debootstrap >/dev/null || die "debootstrap not found (scripts/install-deps.sh installs it)"
	command -v unshare >/dev/null || die "unshare not found (util-linux)"
	# The headers of the very kernels fetched (a chroot made alone: the newest).
	for it in 7.3 7.3-rt; do
		if ! rel=$(ready_release "$it"); then
			apt_update
			case $it in
			7.3) rel=$(newest 'linux-binary-7\.3\.[0-9]+\+deb13-amd64') ;;
			7.3-rt) rel=$(newest 'linux-binary-7\.3\.[0-9]+\+deb13-rt-amd64') ;;
			esac
			rel=${rel#linux-binary-}
		fi
		[ -n "$rel" ] || continue
		rels+=("$rel")
		hdrs+=("linux-headers-$rel")
	done
	if [ ${#hdrs[@]} -eq 0 ]; then
		unavailable chroot "no 7.3 kernel headers in trixie-backports"
		return 0
	fi
	t=$(date +%s)
	if [ ! -x "$root/usr/bin/apt-get" ] || [ ! -f "$root/etc/debian_version" ]; then
		rm -rf "$root"
		msg "chroot: debootstrap trixie into $root ($CHROOT_PACKAGES; about 2 minutes)"
		debootstrap --variant=minbase --include="${CHROOT_PACKAGES// /,}" \
			trixie "$root" "$mirror" >"$cache/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$cache/debootstrap.log" >&2; rm -rf "$root"; die "debootstrap failed (log: $cache/debootstrap.log)"; }
	fi
	{
		for s in trixie trixie-updates trixie-backports; do echo "deb $mirror $s main"; done
		echo "deb $security trixie-security main"
	} >"$root/etc/apt/sources.list"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	# A private mount namespace: /proc for apt and objtool, gone afterwards.
	# The packages again too: a root made with fewer is topped up.
	# shellcheck disable=SC2086 # the package list is words
	unshare -m --propagation private chroot "$root" /bin/sh -c \
		'mount -t proc proc /proc && apt-get -qq update &&
		 DEBIAN_FRONTEND=noninteractive apt-get -qq install -y --no-install-recommends "$@" &&
		 apt-get clean' \
		sh $CHROOT_PACKAGES "${hdrs[@]}" >"$cache/chroot-apt.log" 2>&1 ||
		{ tail -n 20 "$cache/chroot-apt.log" >&2; die "installing ${hdrs[*]} in $root failed (log: $cache/chroot-apt.log)"; }
	for rel in "${rels[@]}"; do
		[ -f "$root/usr/src/linux-headers-$rel/Makefile" ] || die "$root/usr/src/linux-headers-$rel missing after install"
	done
	{
		echo "packages $CHROOT_PACKAGES"
		printf '%s\n' "${rels[@]}"
	} >"$root/.kslub-chroot"
	rm -f "$cache/chroot.unavailable"
	msg "chroot: ready in $(($(date +%s) - t)) s with ${hdrs[*]} ($(du -sm "$root" | cut -f1) MB)"
}

for it in "${todo[@]}"; do
	case $it in
	chroot) ;;
	*) fetch_image "$it" ;;
	esac
done
# Last: it installs the headers of the kernels just fetched.
for it in "${todo[@]}"; do
	[ "$it" != chroot ] || fetch_chroot
done
msg "done in $(($(date +%s) - t_all)) s"
