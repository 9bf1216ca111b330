#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build kslub.ko for one kernel (module/build.sh) and run a guest script
# against it in QEMU (tests/vm/vm.sh); the guest finds the module at $KSLUB_KO.
#
#   tests/vm/run-module.sh --kernel 6.1|6.12|debug --smp N [--script GUEST_SCRIPT]
#                          [--timeout S] [--build-dir DIR] [--src TREE] [vm.sh options...]
#
# GUEST_SCRIPT defaults to tests/vm/module-test.sh. The module is built into
# DIR/<kernel release>/ (default DIR: <repo>/build-vm/module), against
# /lib/modules/<release>/build, from TREE/module and TREE/core (default: this
# repository). Other options go to vm.sh unchanged.
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$VM_DIR/../.." && pwd)"
die() { echo "run-module: error: $*" >&2; exit 2; }

kernel="" script="$VM_DIR/module-test.sh" build_dir="$REPO_ROOT/build-vm/module" src="$REPO_ROOT"
pass=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel="${2:?--kernel needs a value}"; shift 2 ;;
	--script) script="${2:?--script needs a value}"; shift 2 ;;
	--build-dir) build_dir="${2:?--build-dir needs a value}"; shift 2 ;;
	--src) src="${2:?--src needs a value}"; shift 2 ;;
	-h|--help) sed -n '3,13{s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
	*) pass+=("$1"); shift ;;
	esac
done
[ -n "$kernel" ] || die "--kernel is required"
[ -x "$src/module/build.sh" ] || die "$src/module/build.sh not found or not executable"

kver="$("$VM_DIR/vm.sh" --kernel "$kernel" --print-kernel)"
kdir="/lib/modules/$kver/build"
vm_kernel="$kver"
if [ "$kernel" = debug ]; then
	# The debug kernel's module carries every assertion tier too.
	kdir="$("$VM_DIR/debug-kernel.sh" --print-dir)"
	vm_kernel=debug
	export CONFIG_KSLUB_DEBUG=3
fi
[ -f "$kdir/Makefile" ] || die "$kdir is not a kernel build tree (Debian: linux-headers-$kver)"
mkdir -p "$build_dir"
out="$(cd "$build_dir" && pwd)/$kver"

t0=$(date +%s)
echo "run-module: building kslub.ko for $kver in $out"
# One build per output directory at a time.
(
	flock 9
	"$src/module/build.sh" "$kdir" "$out" >"$build_dir/build-$kver.log" 2>&1 ||
		{ tail -n 30 "$build_dir/build-$kver.log"; die "module build for $kver failed (whole log: $build_dir/build-$kver.log)"; }
) 9>"$build_dir/.lock-$kver"
echo "run-module: built $out/kslub.ko in $(($(date +%s) - t0)) s"

exec "$VM_DIR/vm.sh" --kernel "$vm_kernel" --script "$script" --env "KSLUB_KO=$out/kslub.ko" \
	--env "KSLUB_SRC=$REPO_ROOT" ${pass[@]+"${pass[@]}"}
