#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Mutation check of the eBPF host tests, tests/bpf/ (CTest scripts.bpf), with
# tests/scripts/fake-record.sh standing in for kslub-record (no BPF needed)
# and the real kslub-replay:
#   not-root-test.sh      a recorder that succeeds without privileges, or
#                         fails without saying to run as root, must fail it;
#   core-kernels-test.sh  over a made-up /boot (KSLUB_BOOT_DIR) of tiny 6.1
#                         (xz) and 6.12 (zstd) images: a listing that gives
#                         kmem_cache_alloc a name, a failing --check, an image
#                         that cannot be unpacked must fail it; a /boot
#                         without a 6.1 image must skip it, not pass;
#   record-replay-test.sh a corrupted trace (a malformed line, a wrong size
#                         class, no header, too few events, lost counts that
#                         do not add up) or a failed recording must fail it
#                         (its checks are tests/bpf/record-checks.sh, which the
#                         guest's guest-record-test.sh shares: vm-selftest.sh).
# Each has a sound input as control, which must pass.
# The tests under test skip (77) unless run as root; so does this one.
#
#   tests/scripts/bpf-selftest.sh SRC_DIR KSLUB_REPLAY [KSLUB_RECORD]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:?usage: bpf-selftest.sh SRC_DIR KSLUB_REPLAY [KSLUB_RECORD]}" && pwd) || exit 1
replay=${2:?usage: bpf-selftest.sh SRC_DIR KSLUB_REPLAY [KSLUB_RECORD]}
record=${3:-}
fake=$here/fake-record.sh
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: not root: the bpf tests under test skip without root"
	exit 77
fi
[ -x "$replay" ] || { echo "Bail out! $replay is not an executable"; exit 1; }
TAP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kslub-bpf-selftest.XXXXXX")
trap 'rm -rf "$TAP_WORK"' EXIT
# not-root-test.sh runs the recorder as nobody: the scratch files must be reachable.
chmod 755 "$TAP_WORK"
# shellcheck source=tap.sh
. "$here/tap.sh"
W=$TAP_WORK

# --- not-root-test.sh -------------------------------------------------------------
nr=$src/tests/bpf/not-root-test.sh
if command -v setpriv >/dev/null; then
	if [ -n "$record" ]; then
		case_run "not-root: the real kslub-record" pass '^PASS' -- "$nr" "$record"
	fi
	case_run "not-root: a recorder that succeeds unprivileged" fail 'succeeded without privileges' -- \
		env FAKE_RECORD_SILENT=1 "$nr" "$fake"
	case_run "not-root: a recorder that fails with only the generic warning" fail 'does not say to run as root' -- \
		env FAKE_RECORD_SILENT=1 FAKE_RECORD_STATUS=1 \
		FAKE_RECORD_STDERR="kslub-record: warning: not running as root; loading BPF programs needs root (or CAP_BPF and CAP_PERFMON): try sudo" \
		"$nr" "$fake"
	case_run "not-root: a recorder that fails silently" fail 'does not say to run as root' -- \
		env FAKE_RECORD_SILENT=1 FAKE_RECORD_STATUS=1 "$nr" "$fake"
else
	echo "# no setpriv: not-root-test.sh cases left out"
fi

# --- core-kernels-test.sh -----------------------------------------------------------
ck=$src/tests/bpf/core-kernels-test.sh
printf '\177ELF\002\001\001' >"$W/elf"
head -c 4096 /dev/zero >>"$W/elf"
# image FILE xz|zstd|junk: some bytes of "setup code", then the compressed ELF.
image()
{
	head -c 1024 /dev/zero >"$1"
	case $2 in
	xz) xz -c "$W/elf" >>"$1" ;;
	zstd) zstd -qc "$W/elf" >>"$1" ;;
	junk) echo "no compressed stream here" >>"$1" ;;
	esac
}
if command -v xz >/dev/null && command -v zstd >/dev/null; then
	mkdir -p "$W/boot-ok" "$W/boot-junk" "$W/boot-no61"
	image "$W/boot-ok/vmlinuz-6.1.0-99-amd64" xz
	image "$W/boot-ok/vmlinuz-6.12.99+deb12-amd64" zstd
	image "$W/boot-junk/vmlinuz-6.1.0-99-amd64" junk
	image "$W/boot-junk/vmlinuz-6.12.99+deb12-amd64" zstd
	image "$W/boot-no61/vmlinuz-6.12.99+deb12-amd64" zstd
	case_run "core-kernels: sound listings of 6.1 and 6.12" pass 'checked: running .*6\.1\.0-99-amd64, 6\.12\.99' -- \
		env KSLUB_BOOT_DIR="$W/boot-ok" "$ck" "$fake"
	case_run "core-kernels: kmem_cache_alloc named on 6.1" fail '6\.1\.0-99-amd64: kmem_cache_alloc should have no name field' -- \
		env KSLUB_BOOT_DIR="$W/boot-ok" FAKE_RECORD_CHECK=named "$ck" "$fake"
	case_run "core-kernels: --check fails" fail 'kslub-record --check failed on the running kernel' -- \
		env KSLUB_BOOT_DIR="$W/boot-ok" FAKE_RECORD_CHECK=fail "$ck" "$fake"
	case_run "core-kernels: an image that cannot be unpacked" fail 'could not unpack .*vmlinuz-6\.1\.0-99-amd64' -- \
		env KSLUB_BOOT_DIR="$W/boot-junk" "$ck" "$fake"
	case_run "core-kernels: no 6.1 image" skip 'no .*vmlinuz-6\.1\.\* image' -- \
		env KSLUB_BOOT_DIR="$W/boot-no61" "$ck" "$fake"
else
	echo "# no xz or zstd: core-kernels-test.sh cases left out"
fi

# --- record-replay-test.sh ----------------------------------------------------------
# It needs the kernel's BTF and the kmem tracepoints even with a stand-in recorder.
if [ ! -r /sys/kernel/btf/vmlinux ] ||
	{ [ ! -d /sys/kernel/tracing/events/kmem ] && [ ! -d /sys/kernel/debug/tracing/events/kmem ]; }; then
	echo "# no /sys/kernel/btf/vmlinux or no kmem tracepoints in tracefs: record-replay-test.sh cases left out"
	case_done
	exit
fi
rr=$src/tests/bpf/record-replay-test.sh
case_run "record-replay: a sound trace" pass '^# all [0-9]+ checks passed' -- bash "$rr" "$fake" "$replay"
case_run "record-replay: a malformed line" fail 'not ok .*exit status 0 \(every line accepted\): got 3' -- \
	env FAKE_RECORD_TRACE=malformed bash "$rr" "$fake" "$replay"
case_run "record-replay: a kmalloc of no size class" fail 'not ok .*size classes agree on every kmalloc event \(399 of 400\)' -- \
	env FAKE_RECORD_TRACE=size-class bash "$rr" "$fake" "$replay"
case_run "record-replay: no header" fail 'not ok .*the CSV header \(line 6' -- \
	env FAKE_RECORD_TRACE=no-header bash "$rr" "$fake" "$replay"
case_run "record-replay: too few events" fail 'not ok .*more than 1000 events recorded \(60\)' -- \
	env FAKE_RECORD_TRACE=few bash "$rr" "$fake" "$replay"
case_run "record-replay: lost counts that do not add up" fail 'not ok .*lost = lost_ringbuf \+ lost_recursion' -- \
	env FAKE_RECORD_TRACE=lost-sum bash "$rr" "$fake" "$replay"
case_run "record-replay: the recorder fails" fail 'not ok .*kslub-record --duration 3' -- \
	env FAKE_RECORD_STATUS=1 bash "$rr" "$fake" "$replay"
case_done
