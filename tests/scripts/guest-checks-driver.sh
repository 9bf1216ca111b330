#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs one checking function of the module's guest scripts
# (tests/vm/guest/checks.sh and lib.sh) on the host, on a fake debugfs tree
# made by tests/scripts/vm-selftest.sh, and exits as the guest script would:
# lib.sh's finish, status 1 if any check failed.
#
#   guest-checks-driver.sh WHAT FAKE_DIR
#
# WHAT: slabinfo, cache-files, geometry, buddyinfo, stress, classes-all,
# classes-missing, classes-few, trace, lib-not-ok, ctl-ok, ctl-ok-pattern,
# ctl-err-written. (D/control is a plain file there: every write succeeds and
# reads back as the command.)
# FAKE_DIR holds D/ (as /sys/kernel/debug/kslub), sys/ (as /sys/kernel/slab)
# and the trace file.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
guest=$here/../vm/guest
what=${1:?usage: guest-checks-driver.sh WHAT FAKE_DIR}
fake=${2:?usage: guest-checks-driver.sh WHAT FAKE_DIR}

# shellcheck source=../vm/guest/lib.sh
. "$guest/lib.sh"
# shellcheck source=../vm/guest/checks.sh
. "$guest/checks.sh"
D=$fake/D
# shellcheck disable=SC2034 # read by lib.sh's ctl and by checks.sh's stat_ok
KSLUB_DEBUGFS=$D NCPUS=2

case "$what" in
slabinfo) check_slabinfo "fake" ;;
cache-files) check_cache_files kmalloc-64 ;;
geometry) check_geometry kmalloc-64 "$fake/sys" ;;
buddyinfo) check_buddyinfo_unchanged "$fake/buddyinfo.load" "$D/buddyinfo" ;;
stress)
	snap "$D/stress" "$T_TMP/stress"
	expect_eq "stress file: no fill errors" 0 "$(col_total fill_errors)"
	expect_eq "stress file: no free errors" 0 "$(col_total free_errors)"
	;;
classes-all | classes-missing | classes-few)
	for _ in $(seq 1 20); do
		class_count one ok
		class_count two failed
		[ "$what" = classes-missing ] || class_count three ok
	done
	[ "$what" != classes-few ] || CLASS_TOTAL["three"]=5
	class_summary 20 one two three
	;;
trace) check_trace_events "$fake/trace" ;;
lib-not-ok)
	check "true is true" true
	check "false is true" false
	;;
ctl-ok) ctl_ok "create answered as expected" "create foo 64" '^create foo' ;;
ctl-ok-pattern) ctl_ok "create answered as expected" "create foo 64" '^destroy foo' ;;
ctl-err-written) ctl_err "a write that should be refused" EBUSY "destroy foo" ;;
*)
	echo "guest-checks-driver: unknown check '$what'" >&2
	exit 2
	;;
esac
finish
