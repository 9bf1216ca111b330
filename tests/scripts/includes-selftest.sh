#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Mutation check of scripts/check-includes.sh (CTest scripts.includes): on a
# copy of the sources it must pass as they are, and fail on each kind of
# broken layering: an arrow up or sideways between core layers, an include
# past a layer's umbrella (inside and outside core/), a part including a part
# not declared for it, a name two include roots both have, the core including
# a system header or a file outside core/, and an include of nothing.
#
#   tests/scripts/includes-selftest.sh SRC_DIR
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:?usage: includes-selftest.sh SRC_DIR}" && pwd) || exit 1
check=$src/scripts/check-includes.sh
TAP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kslub-includes-selftest.XXXXXX")
trap 'rm -rf "$TAP_WORK"' EXIT
# shellcheck source=tap.sh
. "$here/tap.sh"

# The files the check reads, as it lists them.
sources=$(bash "$check" --files "$src") || { echo "Bail out! $check --files failed"; exit 1; }

# One copy of the sources (not a git tree), cloned for each case.
base=$TAP_WORK/base
mkdir -p "$base"
(cd "$src" && printf '%s\n' "$sources" | while IFS= read -r f; do
	[ ! -f "$f" ] || printf '%s\0' "$f"
done | xargs -0 cp --parents -t "$base/") || { echo "Bail out! cannot copy the sources"; exit 1; }

# tree NAME [FILE LINE]...: a clone of that copy with LINE appended to FILE
# for each pair.
tree()
{
	local t="$TAP_WORK/$1"
	shift
	cp -a "$base" "$t"
	while [ $# -ge 2 ]; do
		mkdir -p "$t/$(dirname "$1")"
		printf '%s\n' "$2" >>"$t/$1"
		shift 2
	done
	echo "$t"
}


case_run "the sources as they are" pass "check-includes: OK" -- bash "$check" "$(tree clean)"
case_run "buddy includes the slub layer above it" fail 'layer buddy includes core/slub/slub.h of layer slub, which is not below it' -- \
	bash "$check" "$(tree up core/buddy/page.h '#include "slub/slub.h"')"
case_run "show includes control beside it" fail 'layer show includes core/control/control.h of layer control' -- \
	bash "$check" "$(tree side core/show/slabinfo.h '#include "control/control.h"')"
case_run "slub includes a buddy file past the umbrella" fail 'core/buddy/page.h is included past its umbrella core/buddy/buddy.h' -- \
	bash "$check" "$(tree past core/slub/cache.h '#include "buddy/page.h"')"
case_run "the module includes a slub file past the umbrella" fail 'module includes core/slub/cache.h past its umbrella' -- \
	bash "$check" "$(tree modpast module/instance.h '#include "slub/cache.h"')"
case_run "the module includes the user-space C API" fail 'module includes userspace/include/kslub.h of userspace/include, an arrow not declared' -- \
	bash "$check" "$(tree undeclared module/instance.h '#include "kslub.h"')"
case_run "a name two include roots both have" fail '"slub/slub.h" is ambiguous' -- \
	bash "$check" "$(tree ambiguous fuzz/slub/slub.h '/* a second slub/slub.h */' module/instance.h '#include "slub/slub.h"')"
case_run "the core includes <stdio.h>" fail 'the core includes <stdio.h>, which is not a core header' -- \
	bash "$check" "$(tree stdio core/base/types.h '#include <stdio.h>')"
case_run "the core includes the C API" fail 'the core includes userspace/include/kslub.h, outside core/' -- \
	bash "$check" "$(tree outside core/slub/cache.h '#include "kslub.h"')"
case_run "an include of a file that is nowhere" fail '"no_such_header.h" is not in the tree' -- \
	bash "$check" "$(tree missing fuzz/api_fuzz.cpp '#include "no_such_header.h"')"
case_done
