#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build (once per machine, then cached) the debug guest kernel of the VM
# tests: Debian's linux-source-6.12 with lockdep (PROVE_LOCKING), KASAN
# (generic, inline), DEBUG_ATOMIC_SLEEP, DEBUG_PREEMPT, DEBUG_LIST, UBSAN and
# KFENCE, on `make tinyconfig` plus tests/vm/debug-kernel.config. The result
# is a kernel tree usable as a KDIR (module/build.sh) and a bzImage that
# tests/vm/vm.sh boots as `--kernel debug`.
#
#   tests/vm/debug-kernel.sh [--print-dir]
#
# The tree lives in $KSLUB_DEBUG_KERNEL_CACHE (default
# /var/cache/kslub/debug-kernel), in a folder named by the source version and
# a hash of the config fragment and the script's format number, so a change of
# either builds a new one. It is reused when its `ready` marker exists. Cost on a 2-core
# machine: see README ("The kernel's own bug detectors").
#
# --print-dir: print the tree's folder (built or not) and exit.
# Exit status 0 when the tree is ready; 1 with a message when it cannot be built.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fragment=$here/debug-kernel.config
tarball=${KSLUB_LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
cache=${KSLUB_DEBUG_KERNEL_CACHE:-/var/cache/kslub/debug-kernel}

die() { echo "debug-kernel: error: $*" >&2; exit 1; }
msg() { echo "debug-kernel: $*"; }

[ -f "$tarball" ] || die "$tarball not found (Debian: apt-get install linux-source-6.12; make deps does)"
# Bump when a change of this script changes the tree it builds.
format=1
key=$({ echo "format $format"; cat "$fragment"; stat -c '%s %Y' "$tarball"; } | sha256sum | cut -c1-12)
src_name=$(basename "$tarball" .tar.xz)
dir=$cache/$src_name-$key
tree=$dir/$src_name

if [ "${1:-}" = --print-dir ]; then
	echo "$tree"
	exit 0
fi
[ $# -eq 0 ] || die "usage: $0 [--print-dir]"

mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -n 9; then
	msg "another build holds $cache/.lock; waiting"
	flock 9
fi
if [ -f "$dir/ready" ]; then
	msg "cached: $tree ($(cat "$dir/ready"))"
	exit 0
fi

for tool in flex bison bc gcc make; do
	command -v "$tool" >/dev/null || die "$tool not found (make deps installs it)"
done
t0=$(date +%s)
jobs=$(nproc)
rm -rf "$dir"
mkdir -p "$dir"
msg "unpacking $tarball into $dir"
tar -xJf "$tarball" -C "$dir"
[ -d "$tree" ] || die "$tarball did not unpack to $src_name/"

# Lines "CONFIG_X=n" are written as Kconfig's "# CONFIG_X is not set".
sed -E 's/^(CONFIG_[A-Za-z0-9_]+)=n$/# \1 is not set/' "$fragment" >"$dir/fragment.config"
cd "$tree"
msg "configuring: tinyconfig + $(grep -c '^CONFIG_\|^# CONFIG_' "$dir/fragment.config") options of $fragment"
make -s ARCH=x86_64 tinyconfig >"$dir/config.log" 2>&1 || { tail -20 "$dir/config.log"; die "make tinyconfig failed"; }
scripts/kconfig/merge_config.sh -m -O . .config "$dir/fragment.config" >>"$dir/config.log" 2>&1 ||
	{ tail -20 "$dir/config.log"; die "merge_config.sh failed"; }
make -s ARCH=x86_64 olddefconfig >>"$dir/config.log" 2>&1 || { tail -20 "$dir/config.log"; die "make olddefconfig failed"; }

# Every option of the fragment must have survived olddefconfig.
missing=()
while IFS= read -r line; do
	case $line in
	CONFIG_*=n) opt=${line%%=*}; grep -qx "$opt=[ym]" .config && missing+=("$opt should be off") ;;
	CONFIG_*=*) grep -qx "$line" .config || missing+=("$line (have: $(grep -E "^(# )?${line%%=*}[= ]" .config || echo unset))") ;;
	esac
done <"$fragment"
if [ ${#missing[@]} -gt 0 ]; then
	printf 'debug-kernel:   %s\n' "${missing[@]}" >&2
	die "the options above did not survive olddefconfig (a dependency is missing from $fragment)"
fi

msg "building bzImage and vmlinux symbols with $jobs jobs (log: $dir/build.log); about 10-20 min on 2 cores"
# A progress line a minute, so that a long build is seen to move.
(
	while sleep 60; do
		n=$(find . -name '*.o' -newer "$dir/fragment.config" 2>/dev/null | wc -l)
		echo "debug-kernel: ... $(( ($(date +%s) - t0) / 60 )) min, $n objects built"
	done
) &
progress=$!
trap 'kill $progress 2>/dev/null || true' EXIT
if ! make ARCH=x86_64 -j"$jobs" bzImage modules >"$dir/build.log" 2>&1; then
	tail -30 "$dir/build.log"
	die "kernel build failed (log: $dir/build.log)"
fi
make ARCH=x86_64 -j"$jobs" modules_prepare >>"$dir/build.log" 2>&1 || die "make modules_prepare failed"
kill $progress 2>/dev/null || true
trap - EXIT

# What vm.sh reads of a kernel: the image, and a module tree in which the
# virtio and 9p drivers are built in.
release=$(make -s ARCH=x86_64 kernelrelease)
mods=$dir/modules/lib/modules/$release
mkdir -p "$mods"
: >"$mods/modules.dep"
cp modules.builtin "$mods/modules.builtin"
ln -sfn "$tree" "$mods/build"
cp arch/x86/boot/bzImage "$dir/vmlinuz"
echo "$release built in $(( $(date +%s) - t0 )) s on $(date -u +%Y-%m-%d)" >"$dir/ready"
msg "ready: $tree ($(cat "$dir/ready"))"
