#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run a guest script against kslub.ko in QEMU (tests/vm/vm.sh); the guest
# finds the module at $KSLUB_KO. The module is one built already (--ko: what
# CTest's module.build.<kernel> fixtures build, module/CMakeLists.txt), or,
# by hand, one this script builds first (module/build.sh).
#
#   tests/vm/run-module.sh --kernel KERNEL --smp N [--script GUEST_SCRIPT]
#                          [--timeout S] [--ko KSLUB_KO | --build-dir DIR] [--src TREE]
#                          [vm.sh options...]
#
# GUEST_SCRIPT defaults to tests/vm/guest/module-test.sh. With --ko the module is
# KSLUB_KO, which must have been built for the release the guest boots (its
# vermagic is checked here, before QEMU). Without it the module is built into
# DIR/<kernel release>/ (default DIR: <repo>/build-vm/module) by
# TREE/module/build-target.sh, as the CMake targets are, from TREE/module and
# TREE/core (default: this repository). Other options go to vm.sh unchanged.
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$VM_DIR/../.." && pwd)"
die() { echo "run-module: error: $*" >&2; exit 2; }

kernel="" script="$VM_DIR/guest/module-test.sh" build_dir="$REPO_ROOT/build-vm/module" src="$REPO_ROOT" ko=""
pass=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel="${2:?--kernel needs a value}"; shift 2 ;;
	--script) script="${2:?--script needs a value}"; shift 2 ;;
	--build-dir) build_dir="${2:?--build-dir needs a value}"; shift 2 ;;
	--ko) ko="${2:?--ko needs a value}"; shift 2 ;;
	--src) src="${2:?--src needs a value}"; shift 2 ;;
	-h|--help) sed -n '3,18{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) pass+=("$1"); shift ;;
	esac
done
[ -n "$kernel" ] || die "--kernel is required"

kver="$("$VM_DIR/vm.sh" --kernel "$kernel" --print-kernel)"
vm_kernel="$kver"
[ "$kernel" != debug ] || vm_kernel=debug

if [ -n "$ko" ]; then
	# A module built already: it must be one for the kernel the guest boots.
	if [ ! -f "$ko" ] && [ -f "$(dirname "$ko")/skipped" ]; then
		# The fixture module.build.<kernel> was skipped, and said why.
		echo "run-module: skipped: $(cat "$(dirname "$ko")/skipped")"
		exit 77
	fi
	[ -f "$ko" ] || die "--ko $ko: no such file (CTest builds it in the module.build.<kernel> fixture)"
	ko="$(cd "$(dirname "$ko")" && pwd)/$(basename "$ko")"
	vermagic="$(modinfo -F vermagic "$ko")" || die "--ko $ko: modinfo cannot read it"
	[ "${vermagic%% *}" = "$kver" ] ||
		die "--ko $ko was built for '${vermagic%% *}', the guest boots $kver (vermagic '$vermagic')"
	echo "run-module: kslub.ko for $kver: $ko"
else
	# The build of the CMake targets (module/build-target.sh): the tree of
	# the kernel vm.sh boots, every assertion tier for the debug kernel.
	[ -x "$src/module/build-target.sh" ] || die "$src/module/build-target.sh not found or not executable"
	mkdir -p "$build_dir"
	out="$(cd "$build_dir" && pwd)/$kver"

	t0=$(date +%s)
	echo "run-module: building kslub.ko for $kver in $out"
	# One build per output directory at a time.
	(
		flock 9
		"$src/module/build-target.sh" build "$kernel" "$out" >"$build_dir/build-$kver.log" 2>&1 ||
			{ tail -n 30 "$build_dir/build-$kver.log"; die "module build for $kver failed (whole log: $build_dir/build-$kver.log)"; }
	) 9>"$build_dir/.lock-$kver"
	echo "run-module: built $out/kslub.ko in $(($(date +%s) - t0)) s"
	ko="$out/kslub.ko"
fi

exec "$VM_DIR/vm.sh" --kernel "$vm_kernel" --script "$script" --env "KSLUB_KO=$ko" \
	--env "KSLUB_SRC=$REPO_ROOT" ${pass[@]+"${pass[@]}"}
