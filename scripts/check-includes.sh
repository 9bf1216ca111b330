#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The include graph of the whole project against its layering rules; exit 1
# with one line per broken rule, 0 when the graph is clean.
#
#   scripts/check-includes.sh [--graph] [SRC]
#
# --graph prints every project arrow ("from -> to") instead of checking.
#
# core/ has one folder per layer, bottom-up: base, buddy, slub, then show and
# control side by side (neither includes the other). A core file includes
# files of its own layer, and of a lower layer only its umbrella
# (<layer>/<layer>.h); nothing outside core/ but the generated
# kslub_autoconf.h. Outside core/, code includes only core umbrellas, and
# each part includes only the parts declared for it below (ARROWS).
#
# An include is resolved as the compilers do: a quoted name first beside the
# including file, then in the include roots (ROOTS, the directories the build
# puts on include paths). A name found under two roots is an error: two
# headers look alike. A name found nowhere is a system or generated header.
set -euo pipefail

graph=0
if [ "${1:-}" = --graph ]; then
	graph=1
	shift
fi
src=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$src"

ROOTS="core userspace/include userspace/platform userspace/lib fuzz bpf module"
# part: the parts it may include (besides itself and core umbrellas).
ARROWS="
core:
module:
userspace/include:
userspace/platform:
userspace/lib: userspace/include userspace/platform
userspace/tools: userspace/include userspace/lib
fuzz: userspace/include userspace/platform userspace/lib
bpf: userspace/include
tests/unit: userspace/include userspace/platform userspace/lib
tests/stress: userspace/include
tests/freestanding:
"
# Generated at build time, never in the tree.
GENERATED="kslub_autoconf.h vmlinux.h kslub_record.skel.h"
CORE_RANK="base:0 buddy:1 slub:2 show:3 control:3"

rank() { # layer -> rank, or empty
	local kv
	for kv in $CORE_RANK; do
		[ "${kv%%:*}" = "$1" ] && { echo "${kv#*:}"; return; }
	done
}
part_of() { # path -> part
	case $1 in
	core/*) echo core ;;
	userspace/*/*) echo "${1%/*}" | cut -d/ -f1-2 ;;
	tests/*/*) echo "$1" | cut -d/ -f1-2 ;;
	*/*) echo "${1%%/*}" ;;
	*) echo . ;;
	esac
}
allowed() { # from-part to-part
	local line
	[ "$1" = "$2" ] && return 0
	line=$(printf '%s\n' "$ARROWS" | grep "^$1:" || true)
	[ -n "$line" ] || return 1
	case " ${line#*:} " in *" $2 "*) return 0 ;; esac
	return 1
}

if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
	files=$(git ls-files -co --exclude-standard -- core userspace fuzz module bpf tests | grep -E '\.(c|h|cpp|hpp)$' || true)
else
	files=$(find core userspace fuzz module bpf tests -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' \) | sort)
fi
[ -n "$files" ] || { echo "check-includes: no sources under $src" >&2; exit 2; }

bad=0
arrows=0
fail() {
	echo "check-includes: $*"
	bad=$((bad + 1))
}

while IFS= read -r f; do
	[ -f "$f" ] || continue
	dir=$(dirname "$f")
	from=$(part_of "$f")
	while IFS=: read -r lineno name; do
		[ -n "$name" ] || continue
		kind=${name:0:1}
		name=${name:1:${#name}-2}
		target=""
		if [ "$kind" = '"' ] && [ -f "$dir/$name" ]; then
			target=$(realpath -m --relative-to=. "$dir/$name")
		else
			hits=""
			for r in $ROOTS; do
				[ -f "$r/$name" ] && hits="$hits $r/$name"
			done
			set -- $hits
			if [ $# -gt 1 ]; then
				fail "$f:$lineno: \"$name\" is ambiguous:$hits"
				continue
			fi
			target=${1:-}
		fi
		if [ -z "$target" ]; then
			if [ "$from" = core ] && [ "$name" != kslub_autoconf.h ]; then
				fail "$f:$lineno: the core includes <$name>, which is not a core header"
			elif [ "$kind" = '"' ] && ! printf ' %s ' $GENERATED | grep -q " ${name##*/} "; then
				fail "$f:$lineno: \"$name\" is not in the tree (and not a generated header)"
			fi
			continue
		fi
		arrows=$((arrows + 1))
		to=$(part_of "$target")
		if [ $graph = 1 ]; then
			echo "$f -> $target"
			continue
		fi
		if [ "$to" = core ]; then
			tl=$(echo "$target" | cut -d/ -f2)
			umbrella="core/$tl/$tl.h"
			if [ "$from" = core ]; then
				fl=$(echo "$f" | cut -d/ -f2)
				[ "$fl" = "$tl" ] && continue
				fr=$(rank "$fl")
				tr=$(rank "$tl")
				if [ -z "$fr" ] || [ -z "$tr" ]; then
					fail "$f:$lineno: core/$fl or core/$tl is not a known layer ($CORE_RANK)"
				elif [ "$tr" -ge "$fr" ]; then
					fail "$f:$lineno: layer $fl includes $target of layer $tl, which is not below it"
				elif [ "$target" != "$umbrella" ]; then
					fail "$f:$lineno: $target is included past its umbrella $umbrella"
				fi
			elif [ "$target" != "$umbrella" ]; then
				fail "$f:$lineno: $from includes $target past its umbrella $umbrella"
			fi
			continue
		fi
		if [ "$from" = core ]; then
			fail "$f:$lineno: the core includes $target, outside core/"
		elif ! allowed "$from" "$to"; then
			fail "$f:$lineno: $from includes $target of $to, an arrow not declared in scripts/check-includes.sh"
		fi
	done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<][^">]+[">]' "$f" |
		sed -E 's/^([0-9]+):[[:space:]]*#[[:space:]]*include[[:space:]]*(["<][^">]+[">]).*/\1:\2/')
done <<<"$files"

[ $graph = 1 ] && exit 0
if [ $bad -gt 0 ]; then
	echo "check-includes: $bad broken rule(s) in $arrows project include(s)"
	exit 1
fi
echo "check-includes: OK, $arrows project includes follow the layering"
