#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# clang-format-14 over every C and C++ source of the project, in the style
# of .clang-format: core/, userspace/, fuzz/, module/, bpf/, tests/, cmake/
# and anything else in the tree (.c .h .cpp .cc .hh .hpp), except generated
# files (vmlinux.h, BPF skeletons *.skel.h, Kbuild's *.mod.c). In a git
# tree the files are git's (tracked, and new ones that .gitignore does not
# exclude); elsewhere find's, without .git/ and the build trees build*/.
#
#   scripts/format.sh --check [SRC_DIR]   list the files clang-format would
#                                         change; fails (1) if any; exit 77
#                                         when clang-format-14 is missing
#   scripts/format.sh --fix [SRC_DIR]     rewrite them in place (make format)
#   scripts/format.sh --list [SRC_DIR]    print the files, one a line
#
# $CLANG_FORMAT names another binary; the style is clang-format 14's.

set -euo pipefail

usage() {
	echo "usage: $0 --check|--fix|--list [SRC_DIR]" >&2
	exit 2
}

[[ $# -ge 1 && $# -le 2 ]] || usage
mode=$1
case $mode in
--check | --fix | --list) ;;
*) usage ;;
esac
src=${2:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$src" || exit 2

# NUL-separated paths relative to SRC_DIR.
list_files() {
	local f
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1 &&
		[[ "$(git rev-parse --show-toplevel)" == "$(pwd -P)" ]]; then
		git ls-files -z --cached --others --exclude-standard -- \
			'*.c' '*.h' '*.cpp' '*.cc' '*.hh' '*.hpp'
	else
		find . \( -path ./.git -o -path './build' -o -path './build-*' \) -prune -o \
			-type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.cc' \
			-o -name '*.hh' -o -name '*.hpp' \) -printf '%P\0'
	fi | while IFS= read -r -d '' f; do
		case $f in
		*/vmlinux.h | vmlinux.h | *.skel.h | *.mod.c) continue ;;
		esac
		# Listed by git but deleted in the work tree (a move not yet staged).
		[[ -f $f ]] && printf '%s\0' "$f"
	done | sort -z
}

files=()
while IFS= read -r -d '' f; do
	files+=("$f")
done < <(list_files)

if [[ $mode == --list ]]; then
	printf '%s\n' "${files[@]}"
	exit 0
fi

cf=${CLANG_FORMAT:-clang-format-14}
if ! command -v "$cf" >/dev/null 2>&1; then
	echo "format: $cf not found (scripts/install-deps.sh installs clang-format-14)" >&2
	[[ $mode == --check ]] && exit 77
	exit 1
fi
[[ ${#files[@]} -gt 0 ]] || {
	echo "format: no C/C++ files found under $src" >&2
	exit 1
}

if [[ $mode == --fix ]]; then
	"$cf" -i --style=file "${files[@]}"
	echo "format: ${#files[@]} files formatted with $cf"
	exit 0
fi

# --check: one run over all files; each of its complaints names a file.
rc=0
out=$("$cf" --dry-run -Werror --style=file "${files[@]}" 2>&1) || rc=$?
if [[ $rc -eq 0 ]]; then
	echo "format: ${#files[@]} files, all formatted"
	exit 0
fi
mapfile -t bad < <(printf '%s\n' "$out" | sed -n 's/^\(.*\):[0-9][0-9]*:[0-9][0-9]*: error: code should be clang-formatted.*/\1/p' | sort -u)
if [[ ${#bad[@]} -eq 0 ]]; then
	# Not a formatting complaint: a bad .clang-format, an unreadable file.
	printf '%s\n' "$out" >&2
	echo "format: $cf failed (status $rc)" >&2
	exit 1
fi
echo "format: ${#bad[@]} of ${#files[@]} files are not formatted as .clang-format says (fix: make format):"
printf '  %s\n' "${bad[@]}"
exit 1
