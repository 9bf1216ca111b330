#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make run's module part: build kslub.ko and run module/demo/guest-demo.sh
# where it can load: directly on this machine if its kernel loads modules and
# has its build tree, else inside QEMU (tests/vm/vm.sh) on the newest
# Debian kernel available for QEMU among KSLUB_DEMO_KERNEL (default: 7.3,
# else 6.12, else 6.1; 7.3's module is built in the chroot of
# scripts/fetch-kernels.sh).
#
#   module/demo/run.sh [BUILD_DIR]
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$src/build}
mkdir -p "$build"
build=$(cd "$build" && pwd)
guest="$src/module/demo/guest-demo.sh"

if [ -e /proc/modules ] && [ -f "/lib/modules/$(uname -r)/build/Makefile" ] && [ "$(id -u)" = 0 ]; then
	kver=$(uname -r)
	out="$build/module-demo/$kver"
	mkdir -p "$build/module-demo"
	echo "demo: this kernel ($kver) loads modules: building and loading kslub.ko here"
	"$src/module/build.sh" "/lib/modules/$kver/build" "$out" >"$out.log" 2>&1 ||
		{ tail -n 30 "$out.log"; echo "demo: module build failed (log $out.log)" >&2; exit 1; }
	KSLUB_KO="$out/kslub.ko" exec sh "$guest"
fi

why="this kernel has no module support"
[ -e /proc/modules ] && why="no build tree at /lib/modules/$(uname -r)/build"
[ "$(id -u)" = 0 ] || why="not root"
kcache=$("$src/scripts/fetch-kernels.sh" --print-dir)
for series in ${KSLUB_DEMO_KERNEL:-7.3 6.12 6.1}; do
	if kver=$("$src/tests/vm/vm.sh" --kernel "$series" --print-kernel 2>/dev/null) &&
		{ [ -f "/lib/modules/$kver/build/Makefile" ] ||
			[ -f "$kcache/chroot-trixie/usr/src/linux-headers-$kver/Makefile" ]; }; then
		echo "demo: $why; running the module in QEMU (TCG) on Debian's $kver, 2 CPUs"
		echo "demo: times below are emulated: only ratios between kslub and the kernel's SLUB mean something"
		KSLUB_VM_CACHE="$build/vm-cache" exec "$src/tests/vm/run-module.sh" --kernel "$series" --smp 2 \
			--timeout 300 --build-dir "$build/module-demo" --script "$guest"
	fi
done
echo "demo: $why, and no Debian kernel with headers is here for QEMU among ${KSLUB_DEMO_KERNEL:-7.3 6.12 6.1} (make deps installs and fetches them)" >&2
exit 1
