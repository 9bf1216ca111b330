#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Mutation check of the QEMU tests' scripts (CTest scripts.vm), on the host
# and without QEMU:
#   - the checking functions of the module's guest scripts (module-test.sh,
#     control-hostile.sh, trace-test.sh: tests/vm/guest/checks.sh, lib.sh),
#     run by guest-checks-driver.sh on a fake debugfs tree: a sound tree
#     passes; each broken one (slabinfo with no cache lines or a bad line, a
#     cache file that cannot be read, is missing or does not add up, geometry
#     files missing on both sides or different, empty or changed buddyinfo,
#     stress errors or a missing column, a class of hostile inputs that never
#     came or came too few, a trace with an event missing or extra, a failed
#     check, a control write that succeeded where it should not, a result line
#     that does not match) fails;
#   - guest/live-geometry.sh with stand-in unit-test binaries (skipped, no
#     test run, PASSED but a non-zero exit);
#   - tests/bpf/guest-record-test.sh, the guest script, with
#     tests/scripts/fake-record.sh and the real kslub-replay (KSLUB_REPLAY;
#     left out without it): a corrupted trace or a failed recording fails it;
#   - harness-selftest.sh with stand-ins for vm.sh (KSLUB_VM_SH): one that
#     always passes, one that keeps no console log, one that loses the guest's
#     exit status, one that fails a stuck boot without retrying it must all
#     fail it; a faithful one passes;
#   - run-module.sh with a module build that fails, and with a prebuilt
#     module (--ko, as CTest's module.build.<kernel> fixtures hand it) that
#     is missing or was built for another kernel: it must fail before QEMU
#     (left out where vm.sh finds no 6.12 kernel with headers);
#   - vm.sh's kernel lookup in a fake cache of scripts/fetch-kernels.sh
#     (KSLUB_KERNEL_CACHE): the newest release of the series and flavour is
#     found, a tree without modules.dep or ready stamp is passed over, a
#     kernel recorded as unavailable is skipped (77) with its reason, one
#     merely missing is an error.
#
#   tests/scripts/vm-selftest.sh SRC_DIR [KSLUB_REPLAY]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "${1:?usage: vm-selftest.sh SRC_DIR [KSLUB_REPLAY]}" && pwd) || exit 1
replay=${2:-}
vm=$src/tests/vm
driver=$here/guest-checks-driver.sh
TAP_WORK=$(mktemp -d "${TMPDIR:-/tmp}/kslub-vm-selftest.XXXXXX")
trap 'rm -rf "$TAP_WORK"' EXIT
# shellcheck source=tap.sh
. "$here/tap.sh"
W=$TAP_WORK

# --- a sound fake debugfs tree -------------------------------------------------------
kmalloc="kmalloc-8 kmalloc-16 kmalloc-32 kmalloc-64 kmalloc-96 kmalloc-128 kmalloc-192
kmalloc-256 kmalloc-512 kmalloc-1k kmalloc-2k kmalloc-4k kmalloc-8k"
sound=$W/sound
mkdir -p "$sound/D/caches/kmalloc-64" "$sound/sys/kmalloc-64"
{
	echo "slabinfo - version: 2.1"
	echo "# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>"
	for c in kmem_cache $kmalloc; do
		echo "$c 10 64 64 64 1 : tunables 0 0 0 : slabdata 1 1 0"
	done
} >"$sound/D/slabinfo"
echo "Node 0, zone    kslub      3      2      1      0      1      0      0      0      0      0      7" >"$sound/D/buddyinfo"
cp "$sound/D/buddyinfo" "$sound/buddyinfo.load"
: >"$sound/D/control"
(
	cd "$sound/D/caches/kmalloc-64" || exit 1
	for f in aliases cache_dma destroy_by_rcu hwcache_align poison reclaim_account red_zone \
		remote_node_defrag_ratio sanity_checks store_user trace usersize; do
		echo 0 >"$f"
	done
	for f in cpu_slabs objects objects_partial partial slabs total_objects; do
		echo "1 N0=1" >"$f"
	done
	echo "0(0) C0=0(0)" >slabs_cpu_partial
	: >ctor
	: >shrink
	: >validate
	for f in alloc_fastpath alloc_slowpath free_fastpath free_slowpath free_frozen free_add_partial \
		free_remove_partial alloc_from_partial alloc_slab alloc_refill alloc_node_mismatch free_slab \
		cpuslab_flush deactivate_full deactivate_empty deactivate_to_head deactivate_to_tail \
		deactivate_remote_frees deactivate_bypass order_fallback cmpxchg_double_cpu_fail \
		cmpxchg_double_fail cpu_partial_alloc cpu_partial_free cpu_partial_node cpu_partial_drain \
		alloc_cpu_sheaf free_cpu_sheaf free_rcu_sheaf free_rcu_sheaf_fail sheaf_flush sheaf_refill \
		sheaf_alloc sheaf_free barn_get barn_get_fail barn_put barn_put_fail sheaf_prefill_fast \
		sheaf_prefill_slow sheaf_prefill_oversize sheaf_return_fast sheaf_return_slow; do
		echo "5 C0=2 C1=3" >"$f"
	done
)
# The geometry files, kslub's and the kernel's alike.
for f in order:0 objs_per_slab:64 cpu_partial:120 min_partial:5 align:64 object_size:64 slab_size:64; do
	echo "${f#*:}" >"$sound/D/caches/kmalloc-64/${f%%:*}"
	echo "${f#*:}" >"$sound/sys/kmalloc-64/${f%%:*}"
done
cat >"$sound/D/stress" <<'EOF'
cache kvm-stress 192 on 2 CPUs: done, 400 ops, validate 0
cpu ops fill_errors free_errors
0 200 0 0
1 200 0 0
all 400 0 0
EOF
# The events of trace-test.sh's run_sequence, as tracefs prints them.
{
	ev() { echo "              sh-141     [000] .....    12.000000: $*"; }
	ev "kslub_cache_alloc: call_site=kslub_ctl+0x10 ptr=00000000aaaa0000 bytes_req=200 bytes_alloc=256 gfp_flags=GFP_KERNEL node=-1 accounted=false name=kmem_cache"
	for i in 0 1 2 3 4 5 6 7 8 9; do
		ev "kslub_cache_alloc: call_site=kslub_ctl+0x20 ptr=00000000bbbb000$i bytes_req=64 bytes_alloc=64 gfp_flags=GFP_KERNEL node=-1 accounted=false name=tr-64"
	done
	for i in 0 1 2 3 4 5 6 7 8 9; do
		ev "kslub_cache_free: call_site=kslub_ctl+0x30 ptr=00000000bbbb000$i name=tr-64"
	done
	for i in 0 1 2 3 4; do
		ev "kslub_kmalloc: call_site=kslub_ctl+0x40 ptr=00000000cccc000$i bytes_req=100 bytes_alloc=128 gfp_flags=GFP_KERNEL node=-1 accounted=false name=kmalloc-128"
	done
	for i in 0 1; do
		ev "kslub_kmalloc: call_site=kslub_ctl+0x50 ptr=00000000dddd000$i bytes_req=20000 bytes_alloc=32768 gfp_flags=GFP_KERNEL node=-1 accounted=false name="
	done
	for i in 0 1 2 3 4; do
		ev "kslub_kfree: call_site=kslub_ctl+0x60 ptr=00000000cccc000$i name=kmalloc-128"
	done
	for i in 0 1; do
		ev "kslub_kfree: call_site=kslub_ctl+0x70 ptr=00000000dddd000$i name="
	done
	ev "kslub_cache_free: call_site=kslub_ctl+0x80 ptr=00000000aaaa0000 name=kmem_cache"
} >"$sound/trace"

# broken NAME: a copy of the sound tree to break; prints its path.
broken()
{
	cp -r "$sound" "$W/$1"
	echo "$W/$1"
}

# --- the checking functions -----------------------------------------------------------
d() { echo env TMPDIR="$W" bash "$driver" "$1" "$2"; }
# shellcheck disable=SC2046
{
case_run "checks: sound slabinfo" pass 'ok .* 14 cache lines well formed' -- $(d slabinfo "$sound")
t=$(broken slabinfo-headers); sed -i '3,$d' "$t/D/slabinfo"
case_run "checks: slabinfo with the header lines only" fail 'not ok .*0 cache lines' -- $(d slabinfo "$t")
t=$(broken slabinfo-active); sed -i 's/^kmalloc-64 10 64 /kmalloc-64 100 64 /' "$t/D/slabinfo"
case_run "checks: slabinfo with active > num" fail 'active > num: kmalloc-64' -- $(d slabinfo "$t")

case_run "checks: sound cache files" pass 'caches/kmalloc-64: 72 files read' -- $(d cache-files "$sound")
t=$(broken files-eio); ln -sfn /proc/self/mem "$t/D/caches/kmalloc-64/ctor"
case_run "checks: a cache file whose read fails (EIO, size 0)" fail 'unreadable:ctor' -- $(d cache-files "$t")
t=$(broken files-missing); rm "$t/D/caches/kmalloc-64/validate"
case_run "checks: a cache file missing" fail 'missing:validate' -- $(d cache-files "$t")
t=$(broken files-sum); echo "5 C0=2 C1=2" >"$t/D/caches/kmalloc-64/alloc_fastpath"
case_run "checks: a stat file whose CPUs do not add up" fail "alloc_fastpath='5 C0=2 C1=2'" -- $(d cache-files "$t")

case_run "checks: sound geometry" pass 'ok .* geometry of kmalloc-64 equals' -- $(d geometry "$sound")
t=$(broken geometry-gone); rm "$t/D/caches/kmalloc-64/order" "$t/sys/kmalloc-64/order"
case_run "checks: geometry file missing on both sides" fail "order: kslub '' kernel ''" -- $(d geometry "$t")
t=$(broken geometry-differs); echo 1 >"$t/sys/kmalloc-64/order"
case_run "checks: geometry differs" fail "order: kslub '0' kernel '1'" -- $(d geometry "$t")

case_run "checks: buddyinfo as after load" pass 'ok .* buddyinfo equals' -- $(d buddyinfo "$sound")
t=$(broken buddy-empty); : >"$t/D/buddyinfo"; : >"$t/buddyinfo.load"
case_run "checks: buddyinfo empty after load and at the end" fail 'no .Node N, zone. line' -- $(d buddyinfo "$t")
t=$(broken buddy-changed); sed -i 's/ 7$/ 6/' "$t/D/buddyinfo"
case_run "checks: buddyinfo changed" fail 'not ok .* buddyinfo equals' -- $(d buddyinfo "$t")

case_run "checks: sound stress table" pass 'ok .* no free errors' -- $(d stress "$sound")
t=$(broken stress-errors); sed -i 's/^all 400 0 0$/all 400 3 0/' "$t/D/stress"
case_run "checks: stress fill errors" fail "not ok .* no fill errors" -- $(d stress "$t")
t=$(broken stress-column); sed -i 's/ free_errors$//' "$t/D/stress"
case_run "checks: stress table without its free_errors column" fail "got: +'missing'" -- $(d stress "$t")

case_run "checks: every class of inputs" pass '# three: 20 inputs' -- $(d classes-all "$sound")
case_run "checks: a class of inputs that never came" fail 'not ok .* three: at least 20 inputs \(0\)' -- $(d classes-missing "$sound")
case_run "checks: a class with 5 inputs" fail 'not ok .* three: at least 20 inputs \(5\)' -- $(d classes-few "$sound")

case_run "checks: the trace of run_sequence" pass '# all 10 checks passed' -- $(d trace "$sound")
t=$(broken trace-lost); sed -i '/ptr=00000000bbbb0003 name=tr-64$/d' "$t/trace"
case_run "checks: a trace with a free missing" fail 'not ok .* kslub_cache_free of tr-64: 10' -- $(d trace "$t")
t=$(broken trace-extra); sed -n '/bytes_req=100 /{p;q}' "$sound/trace" >>"$t/trace"
case_run "checks: a trace with an extra kmalloc" fail 'not ok .* no other kslub events' -- $(d trace "$t")
t=$(broken trace-empty); : >"$t/trace"
case_run "checks: an empty trace" fail 'not ok .* no other kslub events' -- $(d trace "$t")

case_run "lib.sh: a failed check fails the script" fail 'not ok 2 - false is true' -- $(d lib-not-ok "$sound")
case_run "lib.sh: ctl_ok, result as expected" pass 'ok 1 - create answered' -- $(d ctl-ok "$sound")
case_run "lib.sh: ctl_ok, result not as expected" fail 'result: +.create foo 64.' -- $(d ctl-ok-pattern "$sound")
case_run "lib.sh: ctl_err, the write succeeded" fail 'expected EBUSY, got OK' -- $(d ctl-err-written "$sound")
}

# --- guest/live-geometry.sh -----------------------------------------------------------
# gtest UNIT OUTPUT_LINE STATUS: a stand-in for kslub_unit_tests.
gtest()
{
	printf '#!/bin/sh\necho "[ RUN      ] KmallocGeometry.MatchesThisMachinesSysfs"\necho "%s"\nexit %s\n' "$2" "$3" >"$W/$1"
	chmod +x "$W/$1"
}
gtest unit-pass '[  PASSED  ] 1 test.' 0
gtest unit-skip '[  SKIPPED ] 1 test, listed below:' 0
gtest unit-none '[  PASSED  ] 0 tests.' 0
gtest unit-exit1 '[  PASSED  ] 1 test.' 1
lg=$vm/guest/live-geometry.sh
case_run "live-geometry: the comparison passed" pass 'compared, passed' -- env TMPDIR="$W" KSLUB_UNIT_TESTS="$W/unit-pass" sh "$lg"
case_run "live-geometry: the test skipped" fail 'skipped instead of comparing' -- env TMPDIR="$W" KSLUB_UNIT_TESTS="$W/unit-skip" sh "$lg"
case_run "live-geometry: no test ran" fail 'the comparison failed' -- env TMPDIR="$W" KSLUB_UNIT_TESTS="$W/unit-none" sh "$lg"
case_run "live-geometry: PASSED, then exit status 1" fail 'exited with status 1 after PASSED' -- env TMPDIR="$W" KSLUB_UNIT_TESTS="$W/unit-exit1" sh "$lg"

# --- tests/bpf/guest-record-test.sh on the host ------------------------------------------------
if [ -n "$replay" ] && [ -x "$replay" ] && [ -r /sys/kernel/btf/vmlinux ]; then
	br=$src/tests/bpf/guest-record-test.sh
	fr=$here/fake-record.sh
	case_run "guest-record-test: a sound trace" pass '# all [0-9]+ checks passed' -- \
		env TMPDIR="$W" KSLUB_RECORD="$fr" KSLUB_REPLAY="$replay" bash "$br"
	case_run "guest-record-test: a kmalloc of no size class" fail 'not ok .* size classes agree on every kmalloc event \(399 of 400\)' -- \
		env TMPDIR="$W" KSLUB_RECORD="$fr" KSLUB_REPLAY="$replay" FAKE_RECORD_TRACE=size-class bash "$br"
	case_run "guest-record-test: a malformed line" fail 'not ok .* exit status 0 \(every line accepted\): got 3' -- \
		env TMPDIR="$W" KSLUB_RECORD="$fr" KSLUB_REPLAY="$replay" FAKE_RECORD_TRACE=malformed bash "$br"
	case_run "guest-record-test: lost counts that do not add up" fail 'not ok .* lost = lost_ringbuf \+ lost_recursion' -- \
		env TMPDIR="$W" KSLUB_RECORD="$fr" KSLUB_REPLAY="$replay" FAKE_RECORD_TRACE=lost-sum bash "$br"
	case_run "guest-record-test: the recording fails" fail 'not ok .* kslub-record --duration 3' -- \
		env TMPDIR="$W" KSLUB_RECORD="$fr" KSLUB_REPLAY="$replay" FAKE_RECORD_STATUS=1 bash "$br"
else
	echo "# no kslub-replay or no readable /sys/kernel/btf/vmlinux: guest-record-test.sh cases left out"
fi

# --- harness-selftest.sh with stand-ins for vm.sh --------------------------------------------
# STANDIN_VM: faithful (what vm.sh does), always-pass, no-log (keeps no
# console log), status (loses the guest's exit status: always 1 on failure),
# no-boot-retry (fails a stuck boot at once, without retrying it).
cat >"$W/vm-standin.sh" <<'EOF'
#!/usr/bin/env bash
mode=${STANDIN_VM:-faithful} case_name="" x="" timeout=600
while [ $# -gt 0 ]; do
	case "$1" in
	--env) case "$2" in KSLUB_CASE=*) case_name=${2#KSLUB_CASE=} ;; KSLUB_X=*) x=${2#KSLUB_X=} ;; esac; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--quiet) shift ;;
	*) shift 2 ;;
	esac
done
if [ "$mode" = always-pass ]; then echo "vm: passed: stand-in"; exit 0; fi
fail()
{
	echo "vm: FAIL: $1"
	if [ "$mode" != no-log ]; then
		mkdir -p "$KSLUB_VM_LOGDIR"
		echo "console" >"$KSLUB_VM_LOGDIR/console-$case_name.log"
		echo "vm: console log kept: $KSLUB_VM_LOGDIR/console-$case_name.log"
	fi
	[ "$mode" = status ] && exit 1
	exit "$2"
}
case "$case_name" in
env) [ "$x" = "a 'b' \$c" ] && { echo "vm: passed: stand-in"; exit 0; }; fail "guest script exited with status 1" 1 ;;
exit3) fail "guest script exited with status 3" 3 ;;
warning) fail "    [    1.234567] WARNING: CPU: 0 PID: 1 at harness-case injected" 1 ;;
oops) fail "no exit code from the guest (kernel panic or hang?)" 1 ;;
hang) fail "timeout: QEMU killed after $timeout s" 1 ;;
stuck-boot)
	b=${KSLUB_VM_BOOT_TIMEOUT:-180}
	[ "$mode" = no-boot-retry ] ||
		echo "vm: the guest did not start its script within $b s (stuck while booting): retrying (console log kept: x)"
	fail "the guest did not start its script within $b s (stuck while booting)" 1
	;;
*) fail "unknown case" 1 ;;
esac
EOF
chmod +x "$W/vm-standin.sh"
hs=$vm/harness-selftest.sh
case_run "harness-selftest: a faithful vm.sh" pass '^ok 7 - stuck-boot' -- env KSLUB_VM_SH="$W/vm-standin.sh" bash "$hs"
case_run "harness-selftest: a vm.sh that always passes" fail 'not ok 2 - exit3' -- \
	env KSLUB_VM_SH="$W/vm-standin.sh" STANDIN_VM=always-pass bash "$hs"
case_run "harness-selftest: a vm.sh that keeps no console log" fail 'not ok 2\.1 - exit3: console log kept' -- \
	env KSLUB_VM_SH="$W/vm-standin.sh" STANDIN_VM=no-log bash "$hs"
case_run "harness-selftest: a vm.sh that loses the guest's exit status" fail 'not ok 2 - exit3: status 1 \(expected 3\)' -- \
	env KSLUB_VM_SH="$W/vm-standin.sh" STANDIN_VM=status bash "$hs"
case_run "harness-selftest: a vm.sh that does not retry a stuck boot" fail 'not ok 7 - stuck-boot: the first boot was retried' -- \
	env KSLUB_VM_SH="$W/vm-standin.sh" STANDIN_VM=no-boot-retry bash "$hs"

# --- run-module.sh: a failing module build, a prebuilt module ------------------------------
kver=$("$vm/vm.sh" --kernel 6.12 --print-kernel 2>/dev/null) || kver=""
if [ -n "$kver" ] && [ -f "/lib/modules/$kver/build/Makefile" ]; then
	mkdir -p "$W/src/module"
	printf '#!/bin/sh\necho "stand-in module/build.sh: error: 1 warning"\nexit 1\n' >"$W/src/module/build.sh"
	chmod +x "$W/src/module/build.sh"
	# The real build-target.sh (it runs the stand-in build.sh beside it) and vm.sh.
	cp "$src/module/build-target.sh" "$W/src/module/"
	ln -s "$src/tests" "$W/src/tests"
	# --script names no file: were the build's failure lost, vm.sh would stop at once (status 2, another message).
	case_run "run-module: the module build fails" fail 'module build for .* failed' -- \
		env KSLUB_VM_LOCK=none bash "$vm/run-module.sh" --kernel 6.12 --smp 1 --src "$W/src" \
		--build-dir "$W/module-build" --script "$W/no-such-guest-script.sh"
	# A prebuilt module: missing, or one whose vermagic names another kernel.
	case_run "run-module: --ko names no file" fail 'run-module: error: --ko .*: no such file' -- \
		env KSLUB_VM_LOCK=none bash "$vm/run-module.sh" --kernel 6.12 --smp 1 \
		--ko "$W/no-such-kslub.ko" --script "$W/no-such-guest-script.sh"
	# A module of the 6.12 kernel stands in for its kslub.ko: it passes the
	# check and reaches vm.sh (which stops at the missing script).
	own=""
	for f in "/lib/modules/$kver/kernel/fs/9p/9p.ko" "/lib/modules/$kver/kernel/fs/9p/9p.ko.xz"; do
		[ ! -f "$f" ] || own=$f
	done
	if [ -n "$own" ]; then
		case_run "run-module: --ko built for the guest's kernel" 2 "^run-module: kslub.ko for ${kver//+/[+]}: " -- \
			env KSLUB_VM_LOCK=none bash "$vm/run-module.sh" --kernel 6.12 --smp 1 \
			--ko "$own" --script "$W/no-such-guest-script.sh"
	fi
	other=$("$vm/vm.sh" --kernel 6.1 --print-kernel 2>/dev/null) || other=""
	if [ -n "$other" ] && [ -f "/lib/modules/$other/kernel/fs/9p/9p.ko" ]; then
		# A real module of the 6.1 kernel stands in for a kslub.ko built for it.
		case_run "run-module: --ko built for another kernel" fail "was built for '${other//+/[+]}', the guest boots ${kver//+/[+]}" -- \
			env KSLUB_VM_LOCK=none bash "$vm/run-module.sh" --kernel 6.12 --smp 1 \
			--ko "/lib/modules/$other/kernel/fs/9p/9p.ko" --script "$W/no-such-guest-script.sh"
	else
		echo "# no 6.1 kernel's 9p.ko to stand in for a kslub.ko of another kernel: that run-module.sh case left out"
	fi
else
	echo "# vm.sh finds no 6.12 kernel with headers: run-module.sh case left out"
fi
# --- vm.sh's kernel lookup in a fake kernel cache ----------------------------------------
kc=$W/kcache
mk_kernel()
{
	# mk_kernel ITEM RELEASE [nodep]: a fake unpacked 7.x tree of the cache.
	local d="$kc/$2/usr/lib/modules/$2"
	mkdir -p "$d"
	: >"$d/vmlinuz"
	[ "${3:-}" = nodep ] || : >"$d/modules.dep"
	echo "$1 $2" >"$kc/$2/ready"
}
mk_kernel 7.3 7.3.4+deb13-amd64
mk_kernel 7.3 7.3.10+deb13-amd64
mk_kernel 7.3-rt 7.3.4+deb13-rt-amd64
mk_kernel 7.3 7.3.11+deb13-amd64 nodep
mk_kernel 7.3 7.3.12+deb13-cloud-amd64
mkdir -p "$kc/7.3.13+deb13-amd64/usr/lib/modules/7.3.13+deb13-amd64"
: >"$kc/7.3.13+deb13-amd64/usr/lib/modules/7.3.13+deb13-amd64/modules.dep"
echo "no package matching linux-image-6\.18 in the index" >"$kc/6.18.unavailable"
case_run "vm.sh: the newest generic 7.3 of the cache (no cloud, no tree without modules.dep or image)" pass '^7\.3\.10[+]deb13-amd64$' -- \
	env KSLUB_KERNEL_CACHE="$kc" bash "$vm/vm.sh" --kernel 7.3 --print-kernel
case_run "vm.sh: the RT flavour of 7.3" pass '^7\.3\.4[+]deb13-rt-amd64$' -- \
	env KSLUB_KERNEL_CACHE="$kc" bash "$vm/vm.sh" --kernel 7.3-rt --print-kernel
case_run "vm.sh: a release of the cache by name" pass '^7\.3\.4[+]deb13-amd64$' -- \
	env KSLUB_KERNEL_CACHE="$kc" bash "$vm/vm.sh" --kernel 7.3.4+deb13-amd64 --print-kernel
case_run "vm.sh: a kernel recorded as unavailable is skipped, with the reason" skip 'skipped: Linux 6\.18 cannot be had here: no package matching' -- \
	env KSLUB_KERNEL_CACHE="$kc" bash "$vm/vm.sh" --kernel 6.18 --print-kernel
case_run "vm.sh: a kernel merely missing is an error" 2 'no 6\.17 kernel here' -- \
	env KSLUB_KERNEL_CACHE="$kc" bash "$vm/vm.sh" --kernel 6.17 --print-kernel
case_run "vm.sh: a bogus kernel name" 2 "unknown kernel 'seven'" -- \
	env KSLUB_KERNEL_CACHE="$kc" bash "$vm/vm.sh" --kernel seven --print-kernel

case_done
