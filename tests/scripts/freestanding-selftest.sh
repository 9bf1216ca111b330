#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Mutation check of tests/freestanding/check.sh (CTest scripts.freestanding):
# on a copy of the core it must pass as it is, and fail when a core header
# includes <stdio.h>, calls a libc function it never declared, or declares
# and calls one (an undefined symbol nm must report), and when nm itself fails.
#
#   tests/scripts/freestanding-selftest.sh SRC_DIR CXX
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:?usage: freestanding-selftest.sh SRC_DIR CXX}" && pwd) || exit 1
cxx=${2:?usage: freestanding-selftest.sh SRC_DIR CXX}
check=$src/tests/freestanding/check.sh
TAP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kslub-fs-selftest.XXXXXX")
trap 'rm -rf "$TAP_WORK"' EXIT
# shellcheck source=tap.sh
. "$here/tap.sh"

# tree NAME [TEXT]: a source tree whose core is a copy (TEXT appended to
# slub/instance.h, which slub/slub.h includes); the rest is linked.
tree()
{
	local t="$TAP_WORK/$1"
	mkdir -p "$t/tests/freestanding"
	cp -r "$src/core" "$t/core"
	ln -s "$src/scripts" "$t/scripts"
	ln -s "$src/Kconfig" "$t/Kconfig"
	[ ! -f "$src/.config" ] || ln -s "$src/.config" "$t/.config"
	ln -s "$src/tests/freestanding/instance.cpp" "$t/tests/freestanding/instance.cpp"
	[ $# -lt 2 ] || printf '%s\n' "$2" >>"$t/core/slub/instance.h"
	echo "$t"
}

clean=$(tree clean)
stdio=$(tree stdio '#include <stdio.h>')
undeclared=$(tree undeclared 'inline int kslub_selftest_mutant(void) { return printf("x"); }')
declared=$(tree declared 'extern "C" int puts(const char *);
void kslub_selftest_mutant(void) { puts("x"); }')

case_run "the core as it is" pass "freestanding: OK" -- bash "$check" "$clean" "$cxx"
case_run "a core header includes <stdio.h>" fail 'compilation failed' -- bash "$check" "$stdio" "$cxx"
case_run "a core header calls printf undeclared" fail 'compilation failed' -- bash "$check" "$undeclared" "$cxx"
case_run "a core header declares and calls puts" fail 'puts +<- DISALLOWED' -- bash "$check" "$declared" "$cxx"
case_run "nm fails" fail 'false -u .* failed' -- env NM=false bash "$check" "$clean" "$cxx"
case_done
