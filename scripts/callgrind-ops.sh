#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Instructions per operation of kslub and of glibc malloc, counted by
# callgrind (reproducible whatever else the machine does). Each pattern runs
# twice with different operation counts; the difference divided by the
# difference in operations removes start-up and tear-down. Then the same for
# kslub's two per-CPU designs (the TID design and sheaves, 7.3's rules).
#   usage: scripts/callgrind-ops.sh [BUILD_DIR]
set -euo pipefail
bench="${1:-build}/kslub-bench"
[ -x "$bench" ] || { echo "callgrind-ops: $bench not built (run make)" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "callgrind-ops: valgrind missing (make deps)" >&2; exit 1; }
count() {
	valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bench" --pattern "$1" --impl "$2" --ops "$3" 2>&1 |
		awk '/Collected/ { print $NF }'
}
# Instructions per operation of one side: two runs' difference over their ops.
per_op() {
	local lo=65536 hi=196608
	echo $(( ($(count "$1" "$2" $hi) - $(count "$1" "$2" $lo)) / (hi - lo) ))
}
# table A B: instructions per operation of sides A and B for every pattern, and A / B.
table() {
	printf '%-8s %14s %14s %8s\n' pattern "$1_instr/op" "$2_instr/op" ratio
	for p in pair batch kmalloc remote bulk; do
		a=$(per_op "$p" "$1")
		b=$(per_op "$p" "$2")
		awk -v p="$p" -v a="$a" -v b="$b" 'BEGIN { printf "%-8s %14d %14d %8.2f\n", p, a, b, a / b }'
	done
}
table kslub malloc
# The two per-CPU designs under the 7.3 rules.
echo
table sheaves tid
