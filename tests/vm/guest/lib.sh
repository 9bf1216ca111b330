# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Helpers for the guest-side scripts of tests/vm/guest/ (module-test.sh,
# control-hostile.sh, control-cancel.sh, trace-test.sh, module-*.sh) and of
# tests/bpf/, sourced by bash inside the guest (and by
# tests/bpf/record-replay-test.sh on the host):
#   - TAP-style results: ok / not_ok / check, and finish (the plan line and
#     the exit status);
#   - one write() of exact bytes to a file and the errno it failed with;
#   - the control file: run a command, get its result line and errno;
#   - loading kslub.ko from $KSLUB_KO.

KSLUB_DEBUGFS=/sys/kernel/debug/kslub
T_N=0
T_FAILED=0
T_TMP="${TMPDIR:-/tmp}/kslub-test.$$"
mkdir -p "$T_TMP"

# The per-CPU design kslub.ko's kmalloc caches must run, known from outside
# the module: the sheaves= argument of KSLUB_INSMOD_ARGS (1: 7.x's sheaves,
# 0: the TID design), else the guest kernel's own design for its kmalloc
# caches (Linux 7.0 on: sheaves; before: TID, 6.18 included, whose kmalloc
# caches have none). KSLUB_SHEAVES=1 when it is sheaves, 0 when TID.
kslub_expected_sheaves()
{
	local a major
	for a in ${KSLUB_INSMOD_ARGS:-}; do
		case "$a" in
		sheaves=1) echo 1; return ;;
		sheaves=0) echo 0; return ;;
		esac
	done
	major="$(uname -r | cut -d. -f1)"
	if [ "$major" -ge 7 ]; then echo 1; else echo 0; fi
}
KSLUB_SHEAVES="$(kslub_expected_sheaves)"

ok() { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
not_ok() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
diag() { echo "# $*"; }

# check DESCRIPTION COMMAND...: ok when COMMAND succeeds.
check()
{
	local what="$1"
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

# selftest_passed WHAT [FILE]: the module's self-test report FILE (default
# $D/selftest) holds results ("ok"), none "not ok"; printed when it does not.
selftest_passed()
{
	local f=${2:-$D/selftest}
	if grep -q '^ok ' "$f" && ! grep -q '^not ok' "$f"; then
		ok "selftest $1: results, none 'not ok'"
	else
		not_ok "selftest $1: results, none 'not ok'"
		sed 's/^/#   /' "$f"
	fi
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq()
{
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		not_ok "$1"
		diag "    expected: '$2'"
		diag "    got:      '$3'"
	fi
}

finish()
{
	echo "1..$T_N"
	rm -rf "$T_TMP"
	if [ "$T_FAILED" -ne 0 ]; then
		echo "# $T_FAILED of $T_N checks failed"
		exit 1
	fi
	echo "# all $T_N checks passed"
	exit 0
}

# errno_of STRERROR_TEXT: sets ERRNO_NAME to the errno's name (no subshell:
# the battery makes hundreds of writes, and every fork is slow under TCG).
ERRNO_NAME=""
errno_of()
{
	case "$1" in
	*"Invalid argument"*) ERRNO_NAME=EINVAL ;;
	*"No such file or directory"*) ERRNO_NAME=ENOENT ;;
	*"File exists"*) ERRNO_NAME=EEXIST ;;
	*"Device or resource busy"*) ERRNO_NAME=EBUSY ;;
	*"Cannot allocate memory"*) ERRNO_NAME=ENOMEM ;;
	*"No space left on device"*) ERRNO_NAME=ENOSPC ;;
	*"Bad address"*) ERRNO_NAME=EFAULT ;;
	*"Operation not permitted"*) ERRNO_NAME=EPERM ;;
	*"Operation canceled"*) ERRNO_NAME=ECANCELED ;;
	*"Permission denied"*) ERRNO_NAME=EACCES ;;
	*"Argument list too long"*) ERRNO_NAME=E2BIG ;;
	*"Resource temporarily unavailable"*) ERRNO_NAME=EAGAIN ;;
	*"Operation not supported"*) ERRNO_NAME=EOPNOTSUPP ;;
	*"Numerical result out of range"*) ERRNO_NAME=ERANGE ;;
	*"Value too large"*) ERRNO_NAME=EOVERFLOW ;;
	*"Interrupted system call"*) ERRNO_NAME=EINTR ;;
	*"No such device"*) ERRNO_NAME=ENODEV ;;
	*) ERRNO_NAME="E?($1)" ;;
	esac
}

# write_printf FILE FORMAT [ARGS...]: what bash's printf builtin makes of
# FORMAT (\xHH, \n, \0 ... interpreted, NULs included) written to FILE in
# one write(). The builtin flushes its output at every newline, so it writes
# to FILE itself only when the text has no newline but a final one; other
# texts are rendered into a file and written by dd. Sets W_ERR to OK or the
# errno's name.
W_ERR=""
write_printf()
{
	local target="$1" err="" lines=()
	shift
	printf -- "$@" >"$T_TMP/payload"
	mapfile -n 3 lines <"$T_TMP/payload" 2>/dev/null || true
	if [ "${#lines[@]}" -gt 1 ]; then
		write_bytes "$target" "$T_TMP/payload"
		return
	fi
	if { printf -- "$@" >"$target"; } 2>"$T_TMP/write.err"; then
		W_ERR=OK
	else
		IFS= read -r err <"$T_TMP/write.err" || true
		errno_of "$err"
		W_ERR="$ERRNO_NAME"
	fi
}

# write_bytes FILE PAYLOAD_FILE: the payload's bytes (at most 64 KiB) in one
# write(): dd with a block larger than the payload, no truncation. Sets W_ERR
# as write_printf.
write_bytes()
{
	local target="$1" payload="$2" err=""
	if dd if="$payload" of="$target" bs=65536 count=1 conv=notrunc status=none 2>"$T_TMP/write.err"; then
		W_ERR=OK
	else
		IFS= read -r err <"$T_TMP/write.err" || true
		errno_of "$err"
		W_ERR="$ERRNO_NAME"
	fi
}

# ctl COMMAND: writes "COMMAND\n" to control in one write(). Sets CTL_ERR
# (OK or the errno's name) and CTL_RESULT (the result line read back).
CTL_ERR=""
CTL_RESULT=""
ctl()
{
	write_printf "$KSLUB_DEBUGFS/control" '%s\n' "$1"
	CTL_ERR="$W_ERR"
	CTL_RESULT=""
	IFS= read -r CTL_RESULT <"$KSLUB_DEBUGFS/control" || true
}

# ctl_ok DESCRIPTION COMMAND [RESULT_PATTERN]: the command succeeds (and its
# result line matches the extended regular expression RESULT_PATTERN).
ctl_ok()
{
	ctl "$2"
	if [ "$CTL_ERR" = OK ] && { [ -z "${3:-}" ] || [[ "$CTL_RESULT" =~ $3 ]]; }; then
		ok "$1 ($CTL_RESULT)"
	else
		not_ok "$1"
		diag "    command: '$2'"
		diag "    write:   $CTL_ERR"
		diag "    result:  '$CTL_RESULT'"
		[ -z "${3:-}" ] || diag "    expected result matching: $3"
	fi
}

# ctl_err DESCRIPTION ERRNO_NAME COMMAND: the command's write fails with ERRNO_NAME.
ctl_err()
{
	ctl "$3"
	if [ "$CTL_ERR" = "$2" ]; then
		ok "$1: $2"
	else
		not_ok "$1: expected $2, got $CTL_ERR"
		diag "    command: '$3'"
		diag "    result:  '$CTL_RESULT'"
	fi
}

# snap SRC DST: a copy of a (debugfs) file; an empty DST when SRC cannot be read.
snap()
{
	cat "$1" >"$2" 2>/dev/null || : >"$2"
}

# First token of a one-line file ("sum C0=1 C1=2" -> "sum"); empty if unreadable.
first_word()
{
	local line=""
	IFS= read -r line <"$1" 2>/dev/null || true
	echo "${line%% *}"
}

load_module()
{
	: "${KSLUB_KO:?KSLUB_KO (the path of kslub.ko) is not set}"
	if [ ! -f "$KSLUB_KO" ]; then
		not_ok "insmod: $KSLUB_KO does not exist"
		finish
	fi
	if lsmod | grep -q '^kslub '; then
		rmmod kslub || true
	fi
	if insmod "$KSLUB_KO" ${KSLUB_INSMOD_ARGS:-} 2>"$T_TMP/insmod.err"; then
		ok "insmod $(basename "$KSLUB_KO") ${KSLUB_INSMOD_ARGS:-}"
	else
		not_ok "insmod $KSLUB_KO: $(cat "$T_TMP/insmod.err")"
		dmesg | tail -n 20 | sed 's/^/# /'
		finish
	fi
	if [ ! -d "$KSLUB_DEBUGFS" ]; then
		not_ok "$KSLUB_DEBUGFS exists"
		finish
	fi
}

unload_module()
{
	if rmmod kslub 2>"$T_TMP/rmmod.err"; then
		ok "rmmod kslub"
	else
		not_ok "rmmod kslub: $(cat "$T_TMP/rmmod.err")"
	fi
	check "$KSLUB_DEBUGFS removed" [ ! -e "$KSLUB_DEBUGFS" ]
}
