#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of harness-selftest.sh: misbehave as $KSLUB_CASE says.
set -eu
case "${KSLUB_CASE:?}" in
exit3) echo "harness-case: exiting with 3"; exit 3 ;;
warning) echo "WARNING: CPU: 0 PID: 1 at harness-case injected" >/dev/kmsg ;;
oops) echo 1 >/proc/sys/kernel/sysrq; echo c >/proc/sysrq-trigger ;;
hang) sleep 1000 ;;
env) [ "${KSLUB_X:-}" = "a 'b' \$c" ] || { echo "harness-case: KSLUB_X='${KSLUB_X:-}'"; exit 1; } ;;
*) echo "harness-case: unknown case $KSLUB_CASE"; exit 1 ;;
esac
