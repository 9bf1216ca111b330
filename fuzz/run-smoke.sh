#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A short, reproducible fuzzing run: TARGET_BINARY SEED_CORPUS RUNS.
# The seed corpus is read, never written: new inputs go to a scratch folder.
# Exit status: libFuzzer's (non-zero on a finding, with the crash file named).
set -euo pipefail
bin=$1 seeds=$2 runs=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
opts=()
[ -f "${bin}.options" ] && echo "using ${bin}.options"
"$bin" -seed=1 -runs="$runs" -reload=0 -max_len=4096 -print_final_stats=1 -artifact_prefix="$work/" "$work" "$seeds" 2>&1 |
	grep -vE '^#[0-9]+\s+(NEW|REDUCE|pulse)' || true
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
		[ -e "$f" ] || continue
		mkdir -p fuzz-findings && cp "$f" fuzz-findings/
		echo "finding saved as fuzz-findings/$(basename "$f")"
	done
fi
exit "$status"
