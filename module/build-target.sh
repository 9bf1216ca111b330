#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The module's CMake build targets and their CTest fixtures
# (module/CMakeLists.txt): one kslub.ko per kernel, built by module/build.sh
# (which fails on any compiler, modpost or objtool warning) into OUTDIR, once,
# for every test that loads it.
#
#   module/build-target.sh config KERNEL OUTDIR
#       Write OUTDIR/kbuild.config: what the build depends on besides the
#       sources (the kernel tree and its release, CONFIG_KSLUB_*, CXX). It is
#       rewritten only when that changes, so that Ninja (restat) rebuilds the
#       module only then. Run on every build of the target; never fails.
#   module/build-target.sh build KERNEL OUTDIR
#       module/build.sh KDIR OUTDIR, then OUTDIR/kslub.ko.ok. Without that
#       stamp (the first build, or the last one failed) OUTDIR is emptied
#       first, so that no object kept from a failed build hides its warnings.
#   module/build-target.sh fixture KERNEL OUTDIR CMAKE BUILD_DIR TARGET
#       The CTest test module.build.KERNEL: exit 77 (skipped) when KERNEL
#       has no tree here, else `CMAKE --build BUILD_DIR --target TARGET`
#       (a no-op when kslub.ko is up to date) and kslub.ko must be there.
#
# KERNEL: 6.1, 6.12, 6.1-rt, 7.3 or 7.3-rt: the build tree of the kernel
# that tests/vm/vm.sh boots for that name (found at build time: kernels
# installed later are picked up): /lib/modules/<release>/build for Debian 12's
# own (6.1, 6.12, 6.1-rt), the headers in the build chroot of
# scripts/fetch-kernels.sh for 7.3 and 7.3-rt (module/build.sh builds in
# there, with gcc-14); or debug, the debug
# guest kernel's tree (tests/vm/debug-kernel.sh, once it is ready), for which
# the module carries every assertion tier of the core (CONFIG_KSLUB_DEBUG=3).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
die() { echo "module/build-target.sh: error: $*" >&2; exit 1; }

[ $# -ge 3 ] || die "usage: $0 config|build KERNEL OUTDIR | fixture KERNEL OUTDIR CMAKE BUILD_DIR TARGET"
mode=$1 kernel=$2 out=$3
case $kernel in
6.1 | 6.12 | 6.1-rt | 7.3 | 7.3-rt | debug) ;;
*) die "unknown kernel '$kernel' (6.1, 6.12, 6.1-rt, 7.3, 7.3-rt or debug)" ;;
esac
kcache=$("$top/scripts/fetch-kernels.sh" --print-dir)

# kernel_tree: prints the kernel build tree of $kernel; status 1 when there is none.
kernel_tree()
{
	local dir kver
	case $kernel in
	debug)
		dir=$("$top/tests/vm/debug-kernel.sh" --print-dir) || return 1
		[ -f "$(dirname "$dir")/ready" ] && [ -f "$dir/Makefile" ] || return 1
		echo "$dir"
		;;
	*)
		# The tree of the very kernel the VM tests boot (run-module.sh
		# checks the module's vermagic against it), not merely the newest
		# headers of the series, which may be an -rt or -cloud flavour.
		kver=$("$top/tests/vm/vm.sh" --kernel "$kernel" --print-kernel 2>/dev/null) || return 1
		for dir in "/lib/modules/$kver/build" "$kcache/chroot-trixie/usr/src/linux-headers-$kver"; do
			if [ -f "$dir/Makefile" ]; then
				readlink -f "$dir"
				return 0
			fi
		done
		return 1
		;;
	esac
}

# no_tree_reason: why kernel_tree found nothing, for the skip message.
no_tree_reason()
{
	local item=$kernel
	case $kernel in
	debug) echo "the debug kernel is not built (tests/vm/debug-kernel.sh)"; return ;;
	6.1 | 6.12 | 6.1-rt) echo "no Debian kernel image and headers for $kernel installed (scripts/install-deps.sh installs them)"; return ;;
	esac
	[ -f "$kcache/$item.unavailable" ] || item=chroot
	if [ -f "$kcache/$item.unavailable" ]; then
		echo "Linux $kernel cannot be had here: $(cat "$kcache/$item.unavailable")"
	else
		echo "Linux $kernel or its headers in the build chroot are not fetched (scripts/fetch-kernels.sh; status: $("$top/scripts/fetch-kernels.sh" --status $kernel chroot | tr '\n' ';'))"
	fi
}

# The debug kernel's module: every assertion tier (as run-module.sh --kernel debug builds it).
[ "$kernel" != debug ] || export CONFIG_KSLUB_DEBUG=3

case $mode in
config)
	mkdir -p "$out"
	kdir=$(kernel_tree) || kdir=""
	{
		echo "kernel=$kernel"
		echo "kdir=${kdir:-none}"
		if [ -n "$kdir" ]; then
			echo "release=$(cat "$kdir/include/config/kernel.release" 2>/dev/null || echo unknown)"
			# A kernel rebuilt under the same release (the debug kernel) changes these.
			[ ! -f "$kdir/Module.symvers" ] || echo "symvers=$(stat -c '%s %Y' "$kdir/Module.symvers")"
			[ ! -f "$(dirname "$kdir")/ready" ] || echo "ready=$(cat "$(dirname "$kdir")/ready")"
		fi
		for v in CONFIG_KSLUB_DEBUG CONFIG_KSLUB_FREELIST_HARDENED CONFIG_KSLUB_FREELIST_RANDOM CXX; do
			echo "$v=${!v-(unset)}"
		done
	} >"$out/kbuild.config.new"
	if cmp -s "$out/kbuild.config.new" "$out/kbuild.config"; then
		rm -f "$out/kbuild.config.new"
	else
		mv "$out/kbuild.config.new" "$out/kbuild.config"
	fi
	;;
build)
	kdir=$(kernel_tree) || die "no kernel tree for '$kernel' here: $(no_tree_reason)"
	mkdir -p "$out"
	if [ ! -f "$out/kslub.ko.ok" ]; then
		find "$out" -mindepth 1 -maxdepth 1 ! -name kbuild.config -exec rm -rf {} +
	fi
	rm -f "$out/kslub.ko.ok"
	"$here/build.sh" "$kdir" "$out"
	date -u '+%Y-%m-%d %H:%M:%S UTC' >"$out/kslub.ko.ok"
	;;
fixture)
	[ $# -eq 6 ] || die "usage: $0 fixture KERNEL OUTDIR CMAKE BUILD_DIR TARGET"
	cmake=$4 build_dir=$5 target=$6
	# A skipped fixture does not stop CTest from running the tests that need
	# it: OUTDIR/skipped tells them (run-module.sh) to skip too, with why.
	mkdir -p "$out"
	if ! kdir=$(kernel_tree); then
		why="no kernel tree for '$kernel' here: $(no_tree_reason)"
		echo "$why" >"$out/skipped"
		echo "module: $why: skipped"
		exit 77
	fi
	rm -f "$out/skipped"
	echo "module: kslub.ko for $kernel ($kdir) into $out: $cmake --build $build_dir --target $target"
	"$cmake" --build "$build_dir" --target "$target"
	[ -f "$out/kslub.ko.ok" ] && [ -f "$out/kslub.ko" ] ||
		die "$out/kslub.ko was not built cleanly (no $out/kslub.ko.ok)"
	echo "module: $out/kslub.ko for $(cat "$kdir/include/config/kernel.release") ready, built cleanly" \
		"$(cat "$out/kslub.ko.ok") (log: $out/build.log)"
	;;
*)
	die "unknown mode '$mode' (config, build or fixture)"
	;;
esac
