#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Host test (CTest bpf.core_kernels, label bpf): the CO-RE relocations of
# kslub-record resolve against the running kernel's BTF and against the BTF
# of every kernel image in /boot (Debian's 6.1 and 6.12 are installed by
# scripts/install-deps.sh): kslub-record --check [--btf vmlinux] loads the
# program relocated for that kernel and lists the tracepoint fields it
# found. On 6.1 and 6.12 kmem_cache_alloc has no cache name (it came later,
# e.g. 6.18) while kmem_cache_free has one; the listing must say so.
# An image that cannot be unpacked fails the test (it would go unchecked).
# Exit 77 (skipped) when not root (loading needs CAP_BPF), and, after the
# running kernel and every image passed, when /boot lacks a 6.1 or a 6.12
# image: the name-field checks above did not run, so the test cannot pass.
#
# usage: tests/bpf/core-kernels-test.sh KSLUB_RECORD
# KSLUB_BOOT_DIR (default /boot): where the vmlinuz-* images are.
set -euo pipefail
record=$1
boot=${KSLUB_BOOT_DIR:-/boot}

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: not root: loading BPF programs needs root (CAP_BPF)"
	exit 77
fi
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$record" --check >"$work/running.txt" || {
	cat "$work/running.txt"
	fail "kslub-record --check failed on the running kernel $(uname -r)"
}
echo "== running kernel $(uname -r)"
cat "$work/running.txt"
checked="running $(uname -r)"

# The vmlinux inside a bzImage: the first xz or zstd stream that unpacks to an ELF file.
extract() {
	local image=$1 out=$2 tool pat off
	for tool in xz zstd; do
		command -v "$tool" >/dev/null || continue
		case $tool in
		xz) pat='\xfd\x37\x7a\x58\x5a\x00' ;;
		zstd) pat='\x28\xb5\x2f\xfd' ;;
		esac
		for off in $(LC_ALL=C grep -obUaP "$pat" "$image" | cut -d: -f1 | head -5); do
			tail -c +$((off + 1)) "$image" | "$tool" -dc 2>/dev/null >"$out" || true
			if [ "$(head -c 4 "$out" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ]; then
				return 0
			fi
		done
	done
	return 1
}

series_checked=""
for image in "$boot"/vmlinuz-*; do
	[ -e "$image" ] || continue
	ver=${image#"$boot"/vmlinuz-}
	[ -r "$image" ] || fail "$image is not readable"
	if ! extract "$image" "$work/vmlinux"; then
		fail "could not unpack $image (an xz or zstd stream holding an ELF vmlinux; needs xz and zstd)"
	fi
	echo "== $ver"
	"$record" --check --btf "$work/vmlinux" >"$work/out.txt" || {
		cat "$work/out.txt"
		fail "CO-RE relocation against $ver failed"
	}
	cat "$work/out.txt"
	case $ver in
	6.1.* | 6.12.*)
		grep -q '^kmem:kmem_cache_alloc .* name(absent)$' "$work/out.txt" ||
			fail "$ver: kmem_cache_alloc should have no name field"
		grep -q '^kmem:kmem_cache_free .* name$' "$work/out.txt" ||
			fail "$ver: kmem_cache_free should have a name field"
		case $ver in
		6.1.*) series_checked="$series_checked 6.1" ;;
		6.12.*) series_checked="$series_checked 6.12" ;;
		esac
		;;
	esac
	checked="$checked, $ver"
	rm -f "$work/vmlinux"
done
echo "checked: $checked"
for series in 6.1 6.12; do
	case " $series_checked " in
	*" $series "*) ;;
	*)
		echo "SKIP: no $boot/vmlinuz-$series.* image: its name-field checks did not run (scripts/install-deps.sh installs Debian's 6.1 and 6.12)"
		exit 77
		;;
	esac
done
echo PASS
