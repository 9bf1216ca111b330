#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# A fuzzing campaign: libFuzzer fork mode on every core for FUZZ_SECONDS,
# then a corpus merge, then a source coverage report of core/ (llvm-cov).
#
#   fuzz/campaign.sh [--target T] [--seconds S] [--jobs N] [--build DIR]
#
# Environment: FUZZ_TARGET (races), FUZZ_SECONDS (600), FUZZ_JOBS (nproc).
# Output under DIR/fuzz-campaign/T/: corpus/ (kept between campaigns and
# grown by each), findings/ (crash inputs; replay races ones with
# fuzz-replay), coverage/index.html and coverage.txt.
set -euo pipefail

src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${FUZZ_TARGET:-races}
seconds=${FUZZ_SECONDS:-600}
jobs=${FUZZ_JOBS:-$(nproc)}
build="$src/build"
while [ $# -gt 0 ]; do
	case "$1" in
	--target) target=$2; shift 2 ;;
	--seconds) seconds=$2; shift 2 ;;
	--jobs) jobs=$2; shift 2 ;;
	--build) build=$2; shift 2 ;;
	-h | --help) sed -n '3,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "campaign: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done
[ -f "$src/fuzz/${target}_fuzz.cpp" ] || {
	echo "campaign: no target '$target' (fuzz/*_fuzz.cpp: $(cd "$src/fuzz" && ls ./*_fuzz.cpp | sed 's|./||;s|_fuzz.cpp||' | tr '\n' ' '))" >&2
	exit 2
}
case "$seconds" in '' | *[!0-9]*) echo "campaign: FUZZ_SECONDS must be a number of seconds" >&2; exit 2 ;; esac

llvm_profdata=$(command -v llvm-profdata-14 || command -v llvm-profdata || true)
llvm_cov=$(command -v llvm-cov-14 || command -v llvm-cov || true)

out="$build/fuzz-campaign/$target"
mkdir -p "$out/corpus" "$out/findings"
bin="$build/fuzz-$target"
echo "campaign: building fuzz-$target ..."
cmake --build "$build" --target "fuzz-$target" >"$out/build.log" 2>&1 ||
	{ tail -30 "$out/build.log" >&2; echo "campaign: building fuzz-$target failed (log $out/build.log)" >&2; exit 1; }

echo "campaign: $target for ${seconds}s on $jobs jobs (fork mode); corpus $out/corpus"
start=$(date +%s)
nfind_before=$(find "$out/findings" -type f | wc -l)
# The fuzzer's status is taken from PIPESTATUS, not from the filter's: in fork
# mode with -ignore_crashes=1 it exits non-zero when it saved findings, and
# any other non-zero exit (a bad flag, a fuzzer that never ran) is an error.
set +e
"$bin" -fork="$jobs" -ignore_crashes=1 -max_total_time="$seconds" -max_len=4096 -len_control=20 \
	-artifact_prefix="$out/findings/" "$out/corpus" "$src/fuzz/corpus/$target" 2>&1 |
	grep --line-buffered -E '^#[0-9]+|INFO: fuzzed|crash|FINDING|ERROR|DONE'
st=("${PIPESTATUS[@]}")
set -e
fuzz_rc=${st[0]}
echo "campaign: fuzzing done after $(($(date +%s) - start))s (fuzzer exit status $fuzz_rc)"
if [ "${st[1]}" -gt 1 ]; then
	echo "campaign: the output filter failed (grep status ${st[1]})" >&2
	exit 1
fi
nfind=$(find "$out/findings" -type f | wc -l)
if [ "$fuzz_rc" -ne 0 ] && [ "$nfind" -le "$nfind_before" ]; then
	echo "campaign: FAILED: fuzz-$target exited with status $fuzz_rc without saving a finding" >&2
	exit 1
fi

echo "campaign: merging the corpus ..."
merged=$(mktemp -d)
# Only a merge that succeeded replaces the corpus: a partial one would lose inputs.
if "$bin" -merge=1 -max_len=4096 "$merged" "$out/corpus" "$src/fuzz/corpus/$target" >"$out/merge.log" 2>&1; then
	if [ -n "$(ls -A "$merged")" ]; then
		rm -rf "$out/corpus"
		mv "$merged" "$out/corpus"
	else
		rm -rf "$merged"
	fi
else
	rm -rf "$merged"
	tail -20 "$out/merge.log" >&2
	echo "campaign: FAILED: the corpus merge failed (log $out/merge.log); the corpus is left as it was" >&2
	exit 1
fi
echo "campaign: corpus holds $(find "$out/corpus" -type f | wc -l) inputs"

echo "campaign: $nfind finding(s) in $out/findings ($((nfind - nfind_before)) new)"
if [ "$nfind" -gt 0 ] && [ "$target" = races ] && [ -x "$build/fuzz-replay" ]; then
	echo "campaign: replay one with: $build/fuzz-replay $(find "$out/findings" -type f | head -1)"
fi

if [ -z "$llvm_profdata" ] || [ -z "$llvm_cov" ]; then
	echo "campaign: llvm-profdata/llvm-cov not found (Debian: llvm-14); no coverage report"
	exit 0
fi
echo "campaign: coverage of core/ from the merged corpus ..."
cov="$build/fuzz-coverage"
clang_c=$(command -v clang-14 || command -v clang || echo cc)
if [ ! -f "$cov/build.ninja" ]; then
	cmake -S "$src" -B "$cov" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKSLUB_BUILD_TESTS=OFF \
		-DCMAKE_C_COMPILER="$clang_c" \
		-DCMAKE_CXX_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
		-DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >"$out/coverage-configure.log" 2>&1 ||
		{ echo "campaign: configuring the coverage build failed (log $out/coverage-configure.log)" >&2; exit 1; }
fi
cmake --build "$cov" --target "fuzz-$target" >"$out/coverage-build.log" 2>&1 ||
	{ echo "campaign: the coverage build failed (log $out/coverage-build.log)" >&2; exit 1; }
rm -f "$out"/*.profraw
# Every corpus input once; a run that fails would make a partial report.
LLVM_PROFILE_FILE="$out/cov-%p.profraw" "$cov/fuzz-$target" -runs=0 -max_len=4096 "$out/corpus" >"$out/coverage-run.log" 2>&1 ||
	{ tail -20 "$out/coverage-run.log" >&2; echo "campaign: FAILED: the coverage run failed (log $out/coverage-run.log)" >&2; exit 1; }
"$llvm_profdata" merge -sparse "$out"/cov-*.profraw -o "$out/coverage.profdata"
rm -f "$out"/cov-*.profraw
ignore='^(/usr/|.*/fuzz/|.*/userspace/|.*/tests/|.*/build)'
"$llvm_cov" report "$cov/fuzz-$target" -instr-profile="$out/coverage.profdata" -ignore-filename-regex="$ignore" \
	>"$out/coverage.txt"
"$llvm_cov" show "$cov/fuzz-$target" -instr-profile="$out/coverage.profdata" -ignore-filename-regex="$ignore" \
	-format=html -output-dir="$out/coverage" >/dev/null
sed -n '1,2p;$p' "$out/coverage.txt" | cut -c1-160
echo "campaign: report $out/coverage/index.html (per file: $out/coverage.txt)"
exit 0
