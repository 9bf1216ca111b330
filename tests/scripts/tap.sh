# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Sourced by the tests/scripts/*-selftest.sh mutation checks: run a test
# runner on a broken (or, as a control, a sound) input and compare its verdict
# with the expected one, TAP style (the style of fuzz/selftest/runner-test.sh).
#
#   case_run NAME EXPECT PATTERN -- COMMAND...
#       EXPECT: pass (status 0), fail (any status but 0 and 77), skip (77),
#       or a number (that exact status). PATTERN: an extended regular
#       expression the output must match ("" for none).
#   case_done: the plan and summary lines and the status: 1 if any case went
#       the wrong way, 77 (skipped) if no case ran.
#
# TAP_WORK must name a scratch directory; TAP_TIMEOUT (default 120) bounds
# each case, so that a runner that hangs fails its case, not the whole test.

TAP_N=0
TAP_FAILED=0

case_run()
{
	local name="$1" expect="$2" pattern="$3" rc=0 got out
	shift 4
	TAP_N=$((TAP_N + 1))
	out="$TAP_WORK/case.$TAP_N.out"
	timeout -k 5 "${TAP_TIMEOUT:-120}" "$@" >"$out" 2>&1 </dev/null || rc=$?
	case "$rc" in
	0) got=pass ;;
	77) got=skip ;;
	*) got=fail ;;
	esac
	local want_ok=0
	case "$expect" in
	pass | fail | skip) [ "$got" = "$expect" ] && want_ok=1 ;;
	*) [ "$rc" = "$expect" ] && want_ok=1 ;;
	esac
	if [ "$want_ok" = 1 ] && { [ -z "$pattern" ] || grep -qE -- "$pattern" "$out"; }; then
		echo "ok $TAP_N - $name: the runner said $got (status $rc)"
	else
		echo "not ok $TAP_N - $name: expected $expect${pattern:+ with /$pattern/}, the runner said $got (status $rc)"
		sed 's/^/# /' "$out" | tail -n 25
		TAP_FAILED=$((TAP_FAILED + 1))
	fi
}

case_done()
{
	if [ "$TAP_N" -eq 0 ]; then
		# Nothing ran: that is no pass.
		echo "1..0 # SKIP no case could run here"
		return 77
	fi
	echo "1..$TAP_N"
	echo "# $((TAP_N - TAP_FAILED)) passed, $TAP_FAILED failed"
	[ "$TAP_FAILED" -eq 0 ]
}
