#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script: the kslub:* tracepoints. With the events enabled through
# tracefs, a known sequence of control commands must produce exactly the
# events worked out below, with the kmem fields and the cache name; with the
# events disabled, nothing. Needs $KSLUB_KO (tests/vm/run-module.sh sets it).
set -uo pipefail
. "$(dirname "$0")/guest/lib.sh"

TR=/sys/kernel/tracing
load_module
if [ ! -d "$TR/events/kslub" ]; then
	not_ok "$TR/events/kslub exists (tracepoints registered by the module)"
	unload_module
	finish
fi
for e in kslub_cache_alloc kslub_cache_free kslub_kmalloc kslub_kfree; do
	check "event $e exists" test -f "$TR/events/kslub/$e/format"
done
# The fields of the kmem tracepoints, plus name.
for f in call_site ptr bytes_req bytes_alloc gfp_flags node accounted name; do
	check "kslub_cache_alloc has field $f" grep -q "field:.* $f;" "$TR/events/kslub/kslub_cache_alloc/format"
done
for f in call_site ptr name; do
	check "kslub_kfree has field $f" grep -q "field:.* $f;" "$TR/events/kslub/kslub_kfree/format"
done

run_sequence()
{
	ctl_ok "create tr-64" "create tr-64 64"
	ctl_ok "alloc tr-64 10" "alloc tr-64 10"
	ctl_ok "free tr-64 10" "free tr-64 10"
	ctl_ok "kmalloc 100 5" "kmalloc 100 5"
	ctl_ok "kmalloc 20000 2" "kmalloc 20000 2"
	ctl_ok "kfree-all" "kfree-all"
	ctl_ok "destroy tr-64" "destroy tr-64"
}

# Disabled: the same sequence leaves the buffer empty.
echo 0 >"$TR/tracing_on"
echo >"$TR/trace"
echo 0 >"$TR/events/enable"
echo 1 >"$TR/tracing_on"
run_sequence
expect_eq "no kslub events while they are disabled" 0 "$(grep -c 'kslub_' "$TR/trace")"

echo >"$TR/trace"
echo 1 >"$TR/events/kslub/enable"
run_sequence
echo 0 >"$TR/events/kslub/enable"
cp "$TR/trace" "$T_TMP/trace"
count() { grep -E "$1" "$T_TMP/trace" | grep -c .; }
# Worked out from the sequence: the cache's own kmem_cache object allocated by
# create and freed by destroy (as kmem_cache_create/destroy do); 10
# allocations and 10 frees of 64-byte objects (stride 64); 5 kmalloc(100)
# served by kmalloc-128; 2 kmalloc(20000) as order-3 pages (32768 bytes, no
# cache); 7 kfree, 5 of them of kmalloc-128.
expect_eq "kslub_cache_alloc of kmem_cache (create): 1" 1 "$(count 'kslub_cache_alloc: .*name=kmem_cache$')"
expect_eq "kslub_cache_free of kmem_cache (destroy): 1" 1 "$(count 'kslub_cache_free: .*name=kmem_cache$')"
expect_eq "kslub_cache_alloc of tr-64: 10" 10 \
	"$(count 'kslub_cache_alloc: .*bytes_req=64 bytes_alloc=64 .*node=-1 accounted=false name=tr-64$')"
expect_eq "kslub_cache_free of tr-64: 10" 10 "$(count 'kslub_cache_free: .*name=tr-64$')"
expect_eq "kslub_kmalloc 100 -> kmalloc-128: 5" 5 \
	"$(count 'kslub_kmalloc: .*bytes_req=100 bytes_alloc=128 .*name=kmalloc-128$')"
expect_eq "kslub_kmalloc 20000 -> 32768 bytes of pages: 2" 2 \
	"$(count 'kslub_kmalloc: .*bytes_req=20000 bytes_alloc=32768 .*name=$')"
expect_eq "kslub_kfree of kmalloc-128: 5" 5 "$(count 'kslub_kfree: .*name=kmalloc-128$')"
expect_eq "kslub_kfree of pages: 2" 2 "$(count 'kslub_kfree: .*name=$')"
expect_eq "no other kslub events" 36 "$(count 'kslub_')"
# Every allocation event's pointer is freed by a later event of the same run.
alloc_ptrs=$(grep -oE 'kslub_(cache_alloc|kmalloc): call_site=[^ ]* ptr=[^ ]*' "$T_TMP/trace" | sed 's/.*ptr=//' | sort)
free_ptrs=$(grep -oE 'kslub_(cache_free|kfree): call_site=[^ ]* ptr=[^ ]*' "$T_TMP/trace" | sed 's/.*ptr=//' | sort)
expect_eq "the freed pointers are the allocated ones" "$alloc_ptrs" "$free_ptrs"
grep -m 3 kslub_ "$T_TMP/trace" | sed 's/^/# /'

unload_module
finish
