#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build the fuzz targets the OSS-Fuzz / ClusterFuzzLite way: $CC, $CXX,
# $CFLAGS, $CXXFLAGS and $LIB_FUZZING_ENGINE from the environment, binaries
# and <target>_seed_corpus.zip (plus .options files) into $OUT.
# Run from anywhere; defaults give a local libFuzzer+ASan build in ./out.
set -euo pipefail
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${CXX:=clang++}"
: "${CXXFLAGS:=-O1 -g -fsanitize=address,undefined -fsanitize=fuzzer-no-link}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:=$PWD/out}"
mkdir -p "$OUT"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$src/scripts/genconfig.sh" "$work/kslub_autoconf.h"
inc=(-I"$src/core/include" -I"$src/core" -I"$src/userspace/include" -I"$src/userspace" -I"$src/fuzz" -I"$work")
objs=()
# The user-space library, the simulation platform and the races harness.
for f in "$src"/userspace/lib/*.cpp "$src"/fuzz/sim/*.cpp "$src"/fuzz/races/*.cpp; do
	o="$work/$(basename "$(dirname "$f")")-$(basename "$f" .cpp).o"
	# shellcheck disable=SC2086
	$CXX -std=c++17 -mcx16 $CXXFLAGS "${inc[@]}" -c "$f" -o "$o"
	objs+=("$o")
done
for t in "$src"/fuzz/*_fuzz.cpp; do
	name=$(basename "$t" _fuzz.cpp)
	# shellcheck disable=SC2086
	$CXX -std=c++17 -mcx16 $CXXFLAGS "${inc[@]}" "$t" "${objs[@]}" $LIB_FUZZING_ENGINE -o "$OUT/$name"
	if [ -d "$src/fuzz/corpus/$name" ]; then
		(cd "$src/fuzz/corpus/$name" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./* 2>/dev/null) ||
			python3 -c 'import sys,zipfile,os; z=zipfile.ZipFile(sys.argv[1],"w"); [z.write(os.path.join(sys.argv[2],f),f) for f in os.listdir(sys.argv[2])]' \
				"$OUT/${name}_seed_corpus.zip" "$src/fuzz/corpus/$name"
	fi
	[ -f "$src/fuzz/$name.options" ] && cp "$src/fuzz/$name.options" "$OUT/"
	[ -f "$src/fuzz/$name.dict" ] && cp "$src/fuzz/$name.dict" "$OUT/"
	echo "built $OUT/$name"
done
