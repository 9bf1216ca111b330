#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install the Debian 12 packages needed to build and test kslub, then the
# guest kernels and build chroot Debian 12's apt does not carry
# (scripts/fetch-kernels.sh: Linux 6.18, 7.3, 7.3-rt from trixie, through a
# private apt configuration; the system's apt sources are never changed).
# Idempotent: when everything is already there it prints "deps: all present"
# and "kernels: all present" without touching apt or the network.
#
# Extend KSLUB_DEPS (one place) when a new tool or library is needed.

set -euo pipefail

KSLUB_DEPS="build-essential cmake ninja-build clang-14 lld-14 libclang-rt-14-dev llvm-14 clang-format-14
	libgtest-dev libgmock-dev libbenchmark-dev valgrind gawk binutils
	libjemalloc2 libtcmalloc-minimal4 libmimalloc2.0 python3 python3-matplotlib
	linux-headers-amd64 linux-image-amd64 linux-headers-6.12-amd64 linux-image-6.12-amd64
	linux-headers-rt-amd64 linux-image-rt-amd64 debootstrap
	dwarves kmod dkms qemu-system-x86 busybox-static xz-utils cpio
	libbpf-dev bpftool bpftrace libelf-dev zlib1g-dev pkg-config zstd
	flex bison bc libssl-dev linux-source-6.12"

die() {
	echo "install-deps: error: $*" >&2
	exit 1
}

if ! command -v dpkg-query >/dev/null 2>&1; then
	die "dpkg-query not found: this script supports Debian/Ubuntu only; install by hand: ${KSLUB_DEPS//[$'\t\n']/ }"
fi

missing=()
for pkg in $KSLUB_DEPS; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [[ "$status" != "install ok installed" ]]; then
		missing+=("$pkg")
	fi
done

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ ${#missing[@]} -eq 0 ]]; then
	echo "deps: all present"
	exec "$here/fetch-kernels.sh"
fi

echo "deps: missing: ${missing[*]}"

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo_cmd=(sudo)
	else
		die "not running as root and sudo is not available; run as root: apt-get install ${missing[*]}"
	fi
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install by hand: ${missing[*]}"

"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq ||
	die "apt-get update failed"
"${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
	apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
	die "apt-get install failed for: ${missing[*]}"

echo "deps: installed ${missing[*]}"
exec "$here/fetch-kernels.sh"
