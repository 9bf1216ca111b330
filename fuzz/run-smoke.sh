#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A short, reproducible fuzzing run:
#
#   fuzz/run-smoke.sh TARGET_BINARY SEED_CORPUS RUNS [OPTIONS_FILE]
#
# OPTIONS_FILE is the target's `.options` file (OSS-Fuzz format: a
# `[libfuzzer]` section of `key = value` lines); each key becomes
# `-key=value`, and a relative `dict` is taken beside the options file.
# The seed corpus is read, never written: new inputs go to a scratch folder.
#
# Exit status: non-zero when the fuzzer exits non-zero (a crash, a leak, a
# timeout, an out-of-memory, any abnormal end; the input is saved under
# fuzz-findings/), and also when it exits 0 without saying that it completed
# the requested runs ("Done N runs"), so that a target that stops early or a
# binary that is no fuzzer at all cannot pass. The per-input progress lines
# are filtered from the log; the filter's own status never decides anything.
#
# FUZZ_SMOKE_TIMEOUT (default 60): seconds one input may take (-timeout).
set -euo pipefail

if [ $# -lt 3 ] || [ $# -gt 4 ]; then
	echo "usage: $0 TARGET_BINARY SEED_CORPUS RUNS [OPTIONS_FILE]" >&2
	exit 2
fi
bin=$1 seeds=$2 runs=$3 options=${4:-}
[ -x "$bin" ] || { echo "run-smoke: $bin: not an executable" >&2; exit 2; }
[ -d "$seeds" ] || { echo "run-smoke: $seeds: no such seed corpus" >&2; exit 2; }
case $runs in '' | *[!0-9]*) echo "run-smoke: RUNS '$runs' is not a number" >&2; exit 2 ;; esac

opts=()
if [ -n "$options" ]; then
	[ -f "$options" ] || { echo "run-smoke: $options: no such options file" >&2; exit 2; }
	optdir=$(cd "$(dirname "$options")" && pwd)
	section=""
	while IFS= read -r line || [ -n "$line" ]; do
		line=${line%%#*}
		line=$(echo "$line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
		[ -n "$line" ] || continue
		case $line in
		\[*\]) section=$line; continue ;;
		esac
		[ "$section" = "[libfuzzer]" ] || continue
		case $line in
		*=*) ;;
		*) echo "run-smoke: $options: not 'key = value': $line" >&2; exit 2 ;;
		esac
		key=$(echo "${line%%=*}" | sed 's/[[:space:]]*$//')
		val=$(echo "${line#*=}" | sed 's/^[[:space:]]*//')
		if [ "$key" = dict ] && [ "${val#/}" = "$val" ]; then
			val=$optdir/$val
		fi
		opts+=("-$key=$val")
	done <"$options"
	echo "run-smoke: options from $options: ${opts[*]:-none}"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log
# max_len first so that an options file can override it.
set +e
"$bin" -max_len=4096 "${opts[@]}" -seed=1 -runs="$runs" -reload=0 -timeout="${FUZZ_SMOKE_TIMEOUT:-60}" \
	-print_final_stats=1 -artifact_prefix="$work/" "$work" "$seeds" >"$log" 2>&1
status=$?
set -e
grep -vE '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$log" || [ $? -eq 1 ]

if [ "$status" -ne 0 ]; then
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* "$work"/slow-unit-*; do
		[ -e "$f" ] || continue
		mkdir -p fuzz-findings && cp "$f" fuzz-findings/
		echo "run-smoke: finding saved as fuzz-findings/$(basename "$f")"
	done
	echo "run-smoke: FAILED: $bin exited with status $status"
	exit "$status"
fi
if ! grep -qE "^Done $runs runs in " "$log"; then
	echo "run-smoke: FAILED: $bin exited 0 but did not report 'Done $runs runs'"
	exit 1
fi
echo "run-smoke: passed: $runs runs of $(basename "$bin")"
