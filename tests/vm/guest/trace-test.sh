#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest script: the kslub:* tracepoints. With the events enabled through
# tracefs, a known sequence of control commands must produce exactly the
# events worked out below, with the kmem fields and the cache name; with the
# events disabled, nothing. Needs $KSLUB_KO (tests/vm/run-module.sh sets it).
set -uo pipefail
. "$(dirname "$0")/lib.sh"
# check_trace_events (tested on the host by tests/scripts/vm-selftest.sh).
. "$(dirname "$0")/checks.sh"

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
# Exactly the events worked out from run_sequence (see check_trace_events).
check_trace_events "$T_TMP/trace"
grep -m 3 kslub_ "$T_TMP/trace" | sed 's/^/# /'

unload_module
finish
