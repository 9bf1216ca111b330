#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.cancel.* tests: long stress and compare runs through
# /sys/kernel/debug/kslub/control must hold up no other task and must end
# when asked:
#   - while a stress runs, other writers return at once: a second stress and
#     a compare with -EBUSY, destroy of the stressed cache with -EBUSY (it is
#     pinned), a short command (validate) succeeds; a writer still there
#     after the deadline is reported with its state (D: uninterruptible) and
#     must yield to SIGINT, then SIGKILL;
#   - "stop" from another task ends the run promptly: the stress writer gets
#     -ECANCELED, the result line and the stress file keep its partial counts;
#     stop with nothing running succeeds and says so;
#   - a fatal signal (SIGINT with its default action, SIGKILL) to the writer
#     of a stress or compare ends the run promptly; stop ends a compare;
#   - rmmod against a running stress returns promptly: the writer's open
#     control file holds the module, so rmmod says "in use" and the run goes
#     on untouched; after stop, rmmod unloads cleanly;
#   - with the hung-task detector at 10 s, no task is reported blocked.
# Every wait has a deadline, so a writer that hangs fails a check instead of
# the run (the last resort, SIGKILL to the stress writer, ends any run).
#
#   tests/vm/run-module.sh --kernel 6.12 --smp 2 --script tests/vm/guest/control-cancel.sh
set -euo pipefail

. "$(dirname "$0")/lib.sh"
D="$KSLUB_DEBUGFS"
OPS=100000000 # the largest OPS: 2-3 minutes per run here, far longer than any check waits
PROMPT=${KSLUB_CANCEL_PROMPT_S:-10} # seconds a write() may take, or a writer to die after a signal
WAIT=${KSLUB_CANCEL_WAIT_S:-60}     # seconds for a process to start and exit (slow under TCG beside a stress)

load_module

# --- helpers ---------------------------------------------------------------------
# The writer: one write() of "COMMAND\n" to control in its own process, with
# SIGINT and SIGTERM at their default action (a background job of a
# non-interactive shell starts with them ignored). Its status file gets
# "OK|ERRNO_NAME MS END_MS" when the write returns (MS: how long open() and
# write() took; END_MS: the time it returned, ms since boot); a killed
# writer writes none.
cat >"$T_TMP/writer.pl" <<'EOF'
use strict;
use warnings;
use Errno ();
use Fcntl qw(O_WRONLY);
my ($path, $cmd, $status) = @ARGV;
$SIG{$_} = 'DEFAULT' for qw(INT TERM QUIT);
# Milliseconds since boot, to 10 ms (perl-base has no Time::HiRes).
sub now_ms {
	open(my $u, '<', '/proc/uptime') or die "/proc/uptime: $!";
	my ($up) = split(' ', scalar <$u>);
	return int($up * 1000 + 0.5);
}
my $t0 = now_ms();
sub errname {
	for my $n (qw(EBUSY EINTR ECANCELED EINVAL ENOENT EEXIST ENOMEM ENODEV EAGAIN EPERM EFAULT)) {
		return $n if $!{$n};
	}
	return "E" . ($! + 0);
}
sub report {
	open(my $o, '>', "$status.tmp") or die "$status: $!";
	my $t = now_ms();
	printf $o "%s %d %d\n", $_[0], $t - $t0, $t;
	close($o);
	rename("$status.tmp", $status) or die "$status: $!";
}
sysopen(my $fh, $path, O_WRONLY) or do { report("open-" . errname()); exit 2; };
my $n = syswrite($fh, "$cmd\n");
report(defined $n ? "OK" : errname());
exit 0;
EOF

declare -A W_PID=()
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# writer TAG COMMAND: start a writer in the background.
writer()
{
	rm -f "$T_TMP/$1.st"
	perl "$T_TMP/writer.pl" "$D/control" "$2" "$T_TMP/$1.st" &
	W_PID[$1]=$!
}

# proc_state PID: the state letter (R, S, D, Z, ...) or empty when gone.
proc_state()
{
	local stat=""
	stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
	stat="${stat##*) }"
	echo "${stat%% *}"
}

gone() { local s; s="$(proc_state "$1")"; [ -z "$s" ] || [ "$s" = Z ]; }

# wait_gone PID SECONDS: 0 once the process has exited, 1 at the deadline.
wait_gone()
{
	local end=$(($(now_ms) + $2 * 1000))
	while ! gone "$1"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# reap TAG: collect the writer once it is gone; REAP_RC is its exit code
# (130 after SIGINT, 137 after SIGKILL). Not in a subshell: only this shell can wait.
REAP_RC=""
reap()
{
	REAP_RC=0
	wait "${W_PID[$1]}" 2>/dev/null || REAP_RC=$?
}

# status TAG: what the writer's write() returned, "none" if it did not return.
status()
{
	local s="none" ms="" end=""
	[ -f "$T_TMP/$1.st" ] && read -r s ms end <"$T_TMP/$1.st"
	echo "$s"
}
status_ms()
{
	local s="" ms=-1 end=""
	[ -f "$T_TMP/$1.st" ] && read -r s ms end <"$T_TMP/$1.st"
	echo "$ms"
}
status_end()
{
	local s="" ms="" end=0
	[ -f "$T_TMP/$1.st" ] && read -r s ms end <"$T_TMP/$1.st"
	echo "$end"
}

result_line() { local r=""; IFS= read -r r <"$D/control" 2>/dev/null || true; echo "$r"; }
stress_head() { local r=""; IFS= read -r r <"$D/stress" 2>/dev/null || true; echo "$r"; }
stress_running() { [[ "$(stress_head)" =~ ^cache\ $1\ .*\ running\  ]]; }

# wait_running CACHE: the stress file shows a run on CACHE (30 s at most).
wait_running()
{
	local end=$(($(now_ms) + 30000))
	until stress_running "$1"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# wait_compare SIZE: the executor has taken "compare SIZE OPS" (its result
# line says started; the run slot is claimed under the same lock), 30 s at most.
wait_compare()
{
	local end=$(($(now_ms) + 30000))
	until [[ "$(result_line)" =~ ^compare\ $1\ [0-9]+:\ started ]]; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.2
	done
}

# ended_with_stop RUN STOP WHAT: the run's write() returned ECANCELED within
# PROMPT s of the stop's (which returns once the run has ended).
ended_with_stop()
{
	local gap=$(($(status_end "$1") - $(status_end "$2")))
	[ "$gap" -ge 0 ] || gap=$((-gap))
	if [ "$(status "$2")" = OK ] && [ "$gap" -le $((PROMPT * 1000)) ]; then
		ok "$3 ends with stop: its write returned $gap ms from stop's"
	else
		not_ok "$3 ends with stop: $gap ms between its write's return and stop's ($(status "$2"))"
	fi
}

# expect_prompt TAG WANT WHAT: the writer's write() fails or succeeds as WANT
# says within PROMPT s. A writer still there after WAIT s is reported with
# its state, then SIGINT and SIGKILL are tried: each must end a writer that
# waits interruptibly or killably.
expect_prompt()
{
	local tag="$1" want="$2" what="$3" pid="${W_PID[$1]}" st ms
	if wait_gone "$pid" "$WAIT"; then
		reap "$tag"
		st="$(status "$tag")"
		ms="$(status_ms "$tag")"
		if [ "$st" = "$want" ] && [ "$ms" -ge 0 ] && [ "$ms" -le $((PROMPT * 1000)) ]; then
			ok "$what: $want in $ms ms"
		else
			not_ok "$what: expected $want within ${PROMPT} s, got $st after $ms ms"
		fi
		return
	fi
	st="$(proc_state "$pid")"
	not_ok "$what: still in write() after ${WAIT} s (state $st$( [ "$st" = D ] && echo ', uninterruptible'))"
	kill -INT "$pid" 2>/dev/null || true
	if wait_gone "$pid" 5; then ok "$what: SIGINT ends the blocked writer"; reap "$tag"; return; fi
	not_ok "$what: SIGINT does not end the blocked writer (state $(proc_state "$pid"))"
	kill -KILL "$pid" 2>/dev/null || true
	if wait_gone "$pid" 5; then ok "$what: SIGKILL ends the blocked writer"; reap "$tag"; return; fi
	not_ok "$what: SIGKILL does not end the blocked writer (state $(proc_state "$pid"))"
}

# last_resort TAG: SIGKILL to a stress or compare writer left over by a failed
# check, and wait for every writer (ends any run; the old module needs it).
last_resort()
{
	local t
	kill -KILL "${W_PID[$1]}" 2>/dev/null || true
	for t in "${!W_PID[@]}"; do
		wait_gone "${W_PID[$t]}" 60 || not_ok "writer $t still there a minute after SIGKILL of the run"
	done
}

# --- hung-task detector: 10 s ------------------------------------------------------
HT=/proc/sys/kernel/hung_task_timeout_secs
ht_old=""
if [ -w "$HT" ]; then
	ht_old="$(cat "$HT")"
	echo 10 >"$HT"
	ok "hung-task timeout 10 s (was $ht_old)"
else
	diag "no $HT: the hung-task check is skipped"
fi
dmesg_lines0=$(dmesg | wc -l)

ctl_ok "create the stress cache" "create kvm-cancel 256" '^create kvm-cancel'

# --- stop with nothing running ------------------------------------------------------
writer stop0 "stop"
expect_prompt stop0 OK "stop with nothing running"
r="$(result_line)"
if [[ "$r" =~ ^stop:\ no\ stress\ or\ compare\ run\ in\ progress ]]; then ok "stop with nothing running: '$r'"; else not_ok "stop with nothing running: result '$r'"; fi

# --- other writers during a stress run ------------------------------------------------
writer run1 "stress kvm-cancel $OPS"
if wait_running kvm-cancel; then ok "stress kvm-cancel $OPS running"; else not_ok "stress kvm-cancel running ($(stress_head))"; fi
t0=$(now_ms)
writer busy1 "stress kmalloc-64 1000"
writer busy2 "compare 64 1000"
writer busy3 "destroy kvm-cancel"
writer short1 "validate kmalloc-64"
expect_prompt busy1 EBUSY "second stress during a stress"
expect_prompt busy2 EBUSY "compare during a stress"
expect_prompt busy3 EBUSY "destroy of the stressed cache"
expect_prompt short1 OK "validate kmalloc-64 during a stress"
diag "the four writers took $(($(now_ms) - t0)) ms together"
if stress_running kvm-cancel && ! gone "${W_PID[run1]}"; then ok "the stress is still running"; else not_ok "the stress is still running ($(stress_head))"; fi

# --- stop ends it, with its partial result ------------------------------------------------
writer stop1 "stop"
expect_prompt stop1 OK "stop during a stress"
if wait_gone "${W_PID[run1]}" "$WAIT"; then
	reap run1
	ended_with_stop run1 stop1 "the stress"
	expect_eq "the stopped stress write fails with ECANCELED" ECANCELED "$(status run1)"
	r="$(result_line)"
	if [[ "$r" =~ ^stress\ kvm-cancel:\ ([0-9]+)\ ops\ on\ [0-9]+\ CPUs,\ 0\ errors,\ validate\ 0\ \(stopped\)$ ]] &&
		[ "${BASH_REMATCH[1]}" -gt 0 ]; then
		ok "result line of the stopped stress: '$r'"
	else
		not_ok "result line of the stopped stress: '$r'"
	fi
	h="$(stress_head)"
	if [[ "$h" =~ ^cache\ kvm-cancel\ .*\ done\ .*validate\ 0$ ]]; then ok "stress file: done, validate 0"; else not_ok "stress file: '$h'"; fi
else
	not_ok "the stress writer is still there ${WAIT} s after stop (state $(proc_state "${W_PID[run1]}"))"
	last_resort run1
fi
ctl_ok "validate after the stopped stress" "validate kvm-cancel" ': 0 errors'

# --- fatal signals end a run ----------------------------------------------------------------
for sig in INT KILL; do
	writer "sig$sig" "stress kvm-cancel $OPS"
	if wait_running kvm-cancel; then ok "stress for SIG$sig running"; else not_ok "stress for SIG$sig running ($(stress_head))"; fi
	sleep 1
	t0=$(now_ms)
	kill "-$sig" "${W_PID[sig$sig]}" 2>/dev/null || true
	if wait_gone "${W_PID[sig$sig]}" "$PROMPT"; then
		reap "sig$sig"
		ok "SIG$sig ends the stress writer in $(($(now_ms) - t0)) ms (exit $REAP_RC)"
	else
		not_ok "SIG$sig: the stress writer is still there after ${PROMPT} s (state $(proc_state "${W_PID[sig$sig]}"))"
		last_resort "sig$sig"
	fi
	h="$(stress_head)"
	if [[ "$h" =~ ^cache\ kvm-cancel\ .*\ done\  ]]; then ok "SIG$sig: stress file done"; else not_ok "SIG$sig: stress file '$h'"; fi
	r="$(result_line)"
	if [[ "$r" =~ ^stress\ kvm-cancel:\ .*\ 0\ errors,\ validate\ 0\ \(interrupted\)$ ]]; then ok "SIG$sig: '$r'"; else not_ok "SIG$sig: result line '$r'"; fi
done

# compare, in the writing task: stop, then SIGINT.
writer cmp1 "compare 256 $OPS"
if wait_compare 256 && ! gone "${W_PID[cmp1]}"; then ok "compare 256 $OPS running"; else not_ok "compare 256 $OPS running ($(status cmp1): '$(result_line)')"; fi
writer cmpbusy "stress kvm-cancel 1000"
expect_prompt cmpbusy EBUSY "stress during a compare"
writer stop2 "stop"
expect_prompt stop2 OK "stop during a compare"
if wait_gone "${W_PID[cmp1]}" "$WAIT"; then
	reap cmp1
	ended_with_stop cmp1 stop2 "the compare"
	expect_eq "the stopped compare write fails with ECANCELED" ECANCELED "$(status cmp1)"
	r="$(result_line)"
	if [[ "$r" =~ ECANCELED.*compare\ 256:\ stopped ]]; then ok "compare stopped: '$r'"; else not_ok "compare stopped: result line '$r'"; fi
else
	not_ok "the compare writer is still there ${WAIT} s after stop"
	last_resort cmp1
fi
writer cmp2 "compare 512 $OPS"
if wait_compare 512 && ! gone "${W_PID[cmp2]}"; then ok "compare 512 $OPS running"; else not_ok "compare 512 $OPS running ($(status cmp2): '$(result_line)')"; fi
sleep 1
t0=$(now_ms)
kill -INT "${W_PID[cmp2]}" 2>/dev/null || true
if wait_gone "${W_PID[cmp2]}" "$PROMPT"; then
	reap cmp2
	ok "SIGINT ends the compare writer in $(($(now_ms) - t0)) ms (exit $REAP_RC)"
else
	not_ok "SIGINT: the compare writer is still there after ${PROMPT} s"
	last_resort cmp2
fi
ctl_ok "the module works after the interrupted runs" "validate kvm-cancel" ': 0 errors'

# --- rmmod against a running stress ------------------------------------------------------------
writer run2 "stress kvm-cancel $OPS"
if wait_running kvm-cancel; then ok "stress for rmmod running"; else not_ok "stress for rmmod running ($(stress_head))"; fi
t0=$(now_ms)
rc=0
timeout -s KILL "$WAIT" rmmod kslub >"$T_TMP/rmmod.out" 2>&1 || rc=$?
dt=$(($(now_ms) - t0))
if [ "$rc" = 137 ] || [ "$dt" -ge $((WAIT * 1000)) ]; then
	not_ok "rmmod during a stress: returns within ${WAIT} s (took $dt ms, rc $rc)"
else
	ok "rmmod during a stress returns in $dt ms (rc $rc: $(tr '\n' ' ' <"$T_TMP/rmmod.out"))"
fi
if [ "$rc" = 0 ]; then
	# Only a forced unload could get here: the run must have ended with it.
	if wait_gone "${W_PID[run2]}" "$PROMPT"; then ok "unloaded: the stress writer returned"; reap run2; else not_ok "unloaded, but the stress writer is still there"; fi
else
	if grep -q 'in use' "$T_TMP/rmmod.out"; then ok "rmmod refused: the writer's open control file holds the module"; else not_ok "rmmod failed for another reason"; fi
	if stress_running kvm-cancel; then ok "the stress goes on after the refused rmmod"; else not_ok "the stress after the refused rmmod: '$(stress_head)'"; fi
	writer stop3 "stop"
	expect_prompt stop3 OK "stop before rmmod"
	if wait_gone "${W_PID[run2]}" "$WAIT"; then reap run2; expect_eq "the stress ended by stop" ECANCELED "$(status run2)"; ended_with_stop run2 stop3 "the stress before rmmod"; else not_ok "stress writer still there after stop"; last_resort run2; fi
	ctl_ok "destroy the stress cache" "destroy kvm-cancel" 'destroyed'
	t0=$(now_ms)
	if timeout -s KILL "$WAIT" rmmod kslub 2>"$T_TMP/rmmod.err"; then
		ok "rmmod after the run in $(($(now_ms) - t0)) ms"
	else
		not_ok "rmmod after the run: $(cat "$T_TMP/rmmod.err")"
	fi
fi
check "the module is gone" sh -c '! grep -q "^kslub " /proc/modules'
check "$D removed" [ ! -e "$D" ]

# --- the kernel log ---------------------------------------------------------------------------
dmesg | tail -n +$((dmesg_lines0 + 1)) >"$T_TMP/dmesg"
if grep -E 'blocked for more than|hung_task' "$T_TMP/dmesg" >"$T_TMP/hung"; then
	not_ok "hung-task detector: $(head -n 3 "$T_TMP/hung" | tr '\n' ' ')"
else
	ok "hung-task detector: no task blocked"
fi
if grep -E 'WARNING:|BUG:|Oops|remain|leak' "$T_TMP/dmesg" >"$T_TMP/bad"; then
	not_ok "kernel log: $(head -n 3 "$T_TMP/bad" | tr '\n' ' ')"
else
	ok "kernel log: no warning, oops or leak report"
fi
sed 's/^/# dmesg: /' "$T_TMP/dmesg" | grep -v 'kslub: control: ' | tail -n 20 || true
[ -z "$ht_old" ] || echo "$ht_old" >"$HT"
# Leftover writers (a failed check): end them before the script does.
for t in "${!W_PID[@]}"; do kill -KILL "${W_PID[$t]}" 2>/dev/null || true; done
finish
