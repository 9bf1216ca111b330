#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the fuzz targets the OSS-Fuzz / ClusterFuzzLite way: $CC, $CXX,
# $CFLAGS, $CXXFLAGS and $LIB_FUZZING_ENGINE from the environment, binaries
# and <target>_seed_corpus.zip (plus .options and .dict files) into $OUT.
# Run from anywhere; defaults give a local libFuzzer+ASan build in ./out.
#
# What is built from what is fuzz/CMakeLists.txt's business: this script
# configures the project with CMake (the compilers and flags above, the
# sanitizers from $CXXFLAGS alone, the engine from $LIB_FUZZING_ENGINE),
# builds the fuzz-targets target and packages what CMake lists in
# fuzz-targets.tsv. The build tree is $WORK/kslub-fuzz when $WORK is set (as
# on OSS-Fuzz; kept for the next run), else a temporary directory. $JOBS
# parallel jobs (default: the number of CPUs). Needs cmake 3.20 or later,
# ninja if present (else make), and zip or python3.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${CC:=clang}"
: "${CXX:=clang++}"
: "${CFLAGS:=}"
: "${CXXFLAGS:=-O1 -g -fsanitize=address,undefined -fsanitize=fuzzer-no-link}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$PWD/out}"
: "${JOBS:=$(nproc 2>/dev/null || echo 2)}"
export CC CXX CFLAGS CXXFLAGS
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

if [ -n "${WORK:-}" ]; then
	build=$WORK/kslub-fuzz
	mkdir -p "$build"
else
	build=$(mktemp -d)
	trap 'rm -rf "$build"' EXIT
fi

generator=()
command -v ninja >/dev/null 2>&1 && generator=(-G Ninja)
# CMAKE_BUILD_TYPE=None: no flags of a build type on top of $CXXFLAGS, which
# are passed explicitly, so that a kept $WORK tree takes changed ones too.
# KSLUB_FUZZ_FLAGS empty: the sanitizers and coverage are $CXXFLAGS'.
# No tests (no GoogleTest needed) and no LeakSanitizer probe.
cmake -S "$src" -B "$build" "${generator[@]}" \
	-DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
	-DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
	-DCMAKE_BUILD_TYPE=None \
	-DKSLUB_BUILD_TESTS=OFF -DKSLUB_BUILD_FUZZ=ON -DKSLUB_LSAN_WORKS=OFF \
	-DKSLUB_FUZZ_FLAGS= \
	-DKSLUB_FUZZ_ENGINE="$LIB_FUZZING_ENGINE"
cmake --build "$build" --target fuzz-targets --parallel "$JOBS"

manifest=$build/fuzz-targets.tsv
[ -s "$manifest" ] || { echo "build.sh: $manifest is missing or empty (is the compiler clang?)" >&2; exit 1; }
tab=$(printf '\t')
while IFS=$tab read -r name bin corpus options dict; do
	cp "$bin" "$OUT/$name"
	if [ "$corpus" != - ]; then
		rm -f "$OUT/${name}_seed_corpus.zip"
		(cd "$corpus" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./* 2>/dev/null) ||
			python3 -c 'import sys,zipfile,os; z=zipfile.ZipFile(sys.argv[1],"w"); [z.write(os.path.join(sys.argv[2],f),f) for f in sorted(os.listdir(sys.argv[2]))]' \
				"$OUT/${name}_seed_corpus.zip" "$corpus"
	fi
	[ "$options" = - ] || cp "$options" "$OUT/$name.options"
	[ "$dict" = - ] || cp "$dict" "$OUT/$name.dict"
	echo "built $OUT/$name"
done <"$manifest"
