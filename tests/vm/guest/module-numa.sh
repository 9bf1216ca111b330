#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.numa.* tests, on a two-node guest: the pool is spread
# over both nodes (buddyinfo shows two zones), the slabs of a CPU's
# allocations are on that CPU's node (node 1), a stress run on every CPU
# (both nodes) ends clean, and everything validates, is freed and unloads.
#
#   tests/vm/run-module.sh --kernel 6.12 --smp 2 --mem 1024 --numa 2 \
#       --script tests/vm/guest/module-numa.sh
#
# TAP lines (guest/lib.sh), exit status 1 if any check failed.
# Environment: KSLUB_KO (required), KSLUB_INSMOD_ARGS (default pool_mb=32).
set -uo pipefail

. "$(dirname "$0")/lib.sh"
D="$KSLUB_DEBUGFS"

diag "Linux $(uname -r), module $KSLUB_KO"
nodes="$(cat /sys/devices/system/node/online)"
if [ "$nodes" != 0-1 ]; then
	not_ok "a two-node guest (nodes online: '$nodes')"
	finish
fi
ok "a two-node guest (nodes online: $nodes)"
# The first CPU of node 1 (CPU 1 with --smp 2 --numa 2).
cpu="$(cut -d, -f1 /sys/devices/system/node/node1/cpulist)"
cpu="${cpu%%-*}"
diag "node 1: CPUs $(cat /sys/devices/system/node/node1/cpulist); allocating on CPU $cpu"

KSLUB_INSMOD_ARGS="${KSLUB_INSMOD_ARGS:-pool_mb=32}"
load_module
sed 's/^/#   buddyinfo: /' "$D/buddyinfo"
expect_eq "the pool on both nodes (Node lines of buddyinfo)" 2 "$(grep -c '^Node' "$D/buddyinfo")"
selftest_passed "at load"
ctl_ok "create n 256" "create n 256" '^create n'
check "alloc n 2000 on CPU $cpu (node 1)" taskset -c "$cpu" sh -c "echo 'alloc n 2000' >$D/control"
slabs="$(cat "$D/caches/n/slabs")"
if [[ "$slabs" =~ ^[0-9]+\ N1=[0-9]+$ ]]; then
	ok "the slabs of CPU $cpu's allocations are on node 1 ($slabs)"
else
	not_ok "the slabs of CPU $cpu's allocations are on node 1 (slabs: '$slabs')"
fi
ctl_ok "stress n 200000 on both nodes' CPUs" "stress n 200000" ' 0 errors, validate 0'
ctl_ok "free n 2000" "free n 2000" '2000 objects freed \(0 held\)'
diag "slabs: $(cat "$D/caches/n/slabs"), partial: $(cat "$D/caches/n/partial")"
ctl_ok "destroy n" "destroy n" 'destroyed'
sed 's/^/#   buddyinfo: /' "$D/buddyinfo"
unload_module
finish
