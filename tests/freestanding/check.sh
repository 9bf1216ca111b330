#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Check that the core builds freestanding and needs nothing from a libc or
# C++ runtime beyond the platform hooks.
#
# usage: check.sh SRC_DIR [CXX...]      (default compilers: g++ clang++)
#
# For each compiler, tests/freestanding/instance.cpp (which instantiates the
# core templates) is compiled with -ffreestanding -nostdinc -nostdinc++ and
# only the compiler's own headers, core and a generated
# kslub_autoconf.h on the include path. The undefined symbols of the object
# must then all be platform hooks (kslub_pal_*) or one of
# memset, memcpy, memmove, memcmp.

set -euo pipefail

die() {
	echo "freestanding: error: $*" >&2
	exit 1
}

[[ $# -ge 1 ]] || die "usage: $0 SRC_DIR [CXX...]"
src=$(cd "$1" && pwd) || die "source directory '$1' not found"
shift
compilers=("$@")
[[ ${#compilers[@]} -gt 0 ]] || compilers=(g++ clang++)

instance=$src/tests/freestanding/instance.cpp
[[ -f "$instance" ]] ||
	die "$instance is missing: it must instantiate the core templates to check"

NM=${NM:-nm}
command -v "$NM" >/dev/null 2>&1 || die "nm not found (install binutils)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/kslub-freestanding.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/gen"
"$src/scripts/genconfig.sh" "$tmp/gen/kslub_autoconf.h" >/dev/null ||
	die "scripts/genconfig.sh failed"

flags=(-std=c++17 -O2 -ffreestanding -nostdinc -nostdinc++ -fno-exceptions -fno-rtti
	-fno-stack-protector -fno-asynchronous-unwind-tables -mcx16 -Wall -Wextra -Werror)

is_allowed() {
	local sym=$1 demangled=$2
	case $sym in
	memset | memcpy | memmove | memcmp) return 0 ;;
	kslub_pal_*) return 0 ;;
	# Defined by the linker in every link, not a library dependency.
	_GLOBAL_OFFSET_TABLE_) return 0 ;;
	esac
	# A platform hook declared with C++ linkage in the global namespace.
	[[ $demangled =~ ^kslub_pal_[A-Za-z0-9_]*\( ]] && return 0
	return 1
}

status=0
n=0
for cxx in "${compilers[@]}"; do
	n=$((n + 1))
	if ! command -v "$cxx" >/dev/null 2>&1; then
		echo "freestanding: FAIL ($cxx): compiler not found" >&2
		status=1
		continue
	fi
	incdir=$("$cxx" -print-file-name=include)
	if [[ ! -d "$incdir" ]]; then
		echo "freestanding: FAIL ($cxx): compiler include directory '$incdir' not found" >&2
		status=1
		continue
	fi
	obj=$tmp/instance.$n.o
	echo "freestanding: compiling with $cxx"
	if ! "$cxx" "${flags[@]}" \
		-isystem "$incdir" \
		-I "$src/core" -I "$tmp/gen" \
		-c "$instance" -o "$obj"; then
		echo "freestanding: FAIL ($cxx): compilation failed" >&2
		status=1
		continue
	fi

	# nm's status counts: an nm that fails lists nothing, which must not
	# read as "no undefined symbols" (a process substitution would lose it).
	if ! "$NM" -u --format=posix "$obj" >"$tmp/nm.$n" 2>"$tmp/nm.$n.err"; then
		echo "freestanding: FAIL ($cxx): $NM -u $obj failed: $(head -3 "$tmp/nm.$n.err")" >&2
		status=1
		continue
	fi
	mapfile -t syms < <(awk '{ print $1 }' "$tmp/nm.$n" | sort -u)
	echo "freestanding: undefined symbols ($cxx): ${#syms[@]}"
	bad=0
	for sym in "${syms[@]}"; do
		[[ -n "$sym" ]] || continue
		demangled=$(printf '%s\n' "$sym" | c++filt 2>/dev/null || printf '%s' "$sym")
		if is_allowed "$sym" "$demangled"; then
			echo "  $sym"
		else
			shown=$sym
			[[ "$demangled" == "$sym" ]] || shown="$sym ($demangled)"
			echo "  $shown  <- DISALLOWED: the core needs it from outside, but only" \
				"kslub_pal_* hooks and memset/memcpy/memmove/memcmp may be undefined"
			bad=$((bad + 1))
		fi
	done
	if [[ $bad -ne 0 ]]; then
		echo "freestanding: FAIL ($cxx): $bad disallowed undefined symbol(s)"
		status=1
	else
		echo "freestanding: OK ($cxx)"
	fi
done

exit $status
