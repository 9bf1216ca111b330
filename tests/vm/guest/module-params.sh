#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.params.* tests (--mem 512): the module parameters at
# their limits. pool_mb=1 and pool_mb=241 are refused; pool_mb=4 (one
# block) loads, passes its self-test, runs out with ENOMEM and keeps working;
# pool_mb=240 loads with whatever blocks the guest can give; selftest=0
# skips the self-test, which a write to the selftest file then runs.
# sheaves=2 and -2 are refused; the load line and kmalloc-64 show the design
# of the default (the kernel's own) and of sheaves=-1, 0 and 1.
#
#   tests/vm/run-module.sh --kernel 6.1 --smp 2 --mem 512 --script tests/vm/guest/module-params.sh
#
# TAP lines (guest/lib.sh), exit status 1 if any check failed.
# Environment: KSLUB_KO (required).
set -uo pipefail

. "$(dirname "$0")/lib.sh"
D="$KSLUB_DEBUGFS"
: "${KSLUB_KO:?KSLUB_KO (the path of kslub.ko) is not set}"

# insmod_with ARGS...: kslub.ko loaded with ARGS (one check).
insmod_with()
{
	if insmod "$KSLUB_KO" "$@" 2>"$T_TMP/insmod.err"; then
		ok "insmod $*"
		return 0
	fi
	not_ok "insmod $*: $(cat "$T_TMP/insmod.err")"
	dmesg | tail -n 10 | sed 's/^/# /'
	return 1
}

# insmod_refused ARGS...: loading with ARGS fails (unloaded again if it did not).
insmod_refused()
{
	if insmod "$KSLUB_KO" "$@" 2>"$T_TMP/insmod.err"; then
		not_ok "insmod $* is refused: it loaded"
		rmmod kslub
		return
	fi
	ok "insmod $* is refused ($(cat "$T_TMP/insmod.err"))"
}

diag "Linux $(uname -r), module $KSLUB_KO"
if lsmod | grep -q '^kslub '; then
	rmmod kslub
fi

# --- out of range ------------------------------------------------------------------
insmod_refused pool_mb=1
insmod_refused pool_mb=241
insmod_refused sheaves=2
insmod_refused sheaves=-2

# --- one 4 MiB block: exhaustion and recovery ----------------------------------------
if insmod_with pool_mb=4; then
	sed 's/^/#   buddyinfo: /' "$D/buddyinfo"
	selftest_passed "with one block"
	ctl_ok "create big 65536" "create big 65536" '^create big'
	ctl_err "alloc big 100 (100 x 64 KiB from 4 MiB)" ENOMEM "alloc big 100"
	if [[ "$CTL_RESULT" =~ ENOMEM ]]; then
		ok "the result line says ENOMEM ($CTL_RESULT)"
	else
		not_ok "the result line says ENOMEM ('$CTL_RESULT')"
	fi
	ctl_ok "free big 100 (what the failed alloc holds)" "free big 100"
	ctl_ok "kmalloc 1000 100 after the exhaustion" "kmalloc 1000 100" '100 objects held'
	ctl_ok "kfree-all" "kfree-all" '100 objects freed'
	ctl_ok "destroy big" "destroy big" 'destroyed'
	unload_module
fi

# --- the largest pool -------------------------------------------------------------
if insmod_with pool_mb=240; then
	sed 's/^/#   buddyinfo: /' "$D/buddyinfo"
	unload_module
fi

# --- sheaves: the per-CPU design ---------------------------------------------------------
# The load line names the design: by default the kernel's own (Linux 7.0 on:
# sheaves for every cache; before: TID), else what sheaves= asks.
load_line() { dmesg | grep 'kslub: .* MiB pool' | tail -n 1; }
own=TID
[ "$(KSLUB_INSMOD_ARGS="" kslub_expected_sheaves)" = 0 ] || own=sheaves
for arg in "" sheaves=-1 sheaves=0 sheaves=1; do
	case "$arg" in sheaves=0) want=TID ;; sheaves=1) want=sheaves ;; *) want=$own ;; esac
	if insmod_with selftest=0 $arg; then
		l="$(load_line)"
		if [[ "$l" == *"per-CPU design $want"* ]]; then ok "${arg:-no sheaves=}: design $want ($l)"; else not_ok "${arg:-no sheaves=}: design $want: '$l'"; fi
		w=tid
		[ "$want" = TID ] || w=sheaves
		check "${arg:-no sheaves=}: kmalloc-64 runs $w" grep -q "^design $w" "$D/caches/kmalloc-64/sheaves"
		unload_module
	fi
done

# --- no self-test at load ----------------------------------------------------------------
if insmod_with selftest=0; then
	check "selftest=0: the report says it did not run" grep -q 'SKIP not run' "$D/selftest"
	check "selftest runs on a write" sh -c "echo 1 >$D/selftest"
	check "selftest after the write: its first result ok" grep -q '^ok 1 ' "$D/selftest"
	selftest_passed "after the write"
	unload_module
fi
dmesg | grep kslub | grep -v "invalid free\|wrong cache\|double free\|objects remaining" | tail -n 12 | sed 's/^/# dmesg: /'
finish
