#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The static length of kslub.ko's fast paths against the same guest kernel's
# own kmem_cache_alloc and kmem_cache_free, read from both disassemblies the
# same way (module/measure/fastpath_length.py says how).
#
#   module/measure/fastpath-length.sh KERNEL [--build DIR] [--verbose]
#
# KERNEL as tests/vm/vm.sh takes it (6.1, 6.12, 6.1-rt, 7.3, 7.3-rt). The
# module is DIR/module-KERNEL/kslub.ko (the CMake target kslub-module-KERNEL
# builds it; default DIR: build). The kernel's symbol addresses come from its
# own /proc/kallsyms, read in a QEMU guest (Debian's System.map files are
# placeholders; the real ones are in the -dbg packages); its ELF is
# extracted from the vmlinuz that guest booted.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
die() {
	echo "fastpath-length: error: $*" >&2
	exit 1
}
[ $# -ge 1 ] || die "usage: $0 KERNEL [--build DIR] [--verbose]"
kernel=$1
shift
build=$root/build
verbose=()
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=${2:?--build needs a directory}; shift 2 ;;
	--verbose) verbose=(--verbose); shift ;;
	*) die "unknown argument '$1'" ;;
	esac
done
ko=$build/module-$kernel/kslub.ko
if [ -e "$build/module-$kernel/skipped" ]; then
	echo "fastpath-length: skipped: kslub.ko was not built for $kernel ($(cat "$build/module-$kernel/skipped"))"
	exit 77
fi
[ -f "$ko" ] || die "$ko missing (cmake --build $build --target kslub-module-$kernel)"
rc=0
release=$("$root/tests/vm/vm.sh" --kernel "$kernel" --print-kernel) || rc=$?
[ $rc = 77 ] && { echo "fastpath-length: skipped: no kernel $kernel here"; exit 77; }
[ $rc = 0 ] || die "no kernel $kernel here"
cache=${KSLUB_KERNEL_CACHE:-/var/cache/kslub/kernels}
vmlinuz=
for f in "/boot/vmlinuz-$release" "$cache/$release/usr/lib/modules/$release/vmlinuz" \
	"$cache/$release/boot/vmlinuz-$release"; do
	[ -f "$f" ] && { vmlinuz=$f; break; }
done
[ -n "$vmlinuz" ] || die "no vmlinuz for $release"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "fastpath-length: $release: reading its kallsyms in a guest"
"$root/tests/vm/vm.sh" --kernel "$kernel" --smp 1 --script "$root/tests/vm/guest/kallsyms-dump.sh" \
	--out "$out" --quiet >"$out/vm.log" 2>&1 || { cat "$out/vm.log" >&2; die "the guest run failed"; }
[ "$(cat "$out/release")" = "$release" ] || die "the guest ran $(cat "$out/release"), not $release"
echo "fastpath-length: kslub.ko $ko against $vmlinuz"
/usr/bin/python3 "$here/fastpath_length.py" --vmlinuz "$vmlinuz" --kallsyms "$out/kallsyms" --ko "$ko" "${verbose[@]}"
