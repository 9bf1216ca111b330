#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot a Debian kernel in QEMU (TCG) with the host root shared read-only over
# 9p, run one guest script inside it (chrooted into the host root) and return
# the script's exit code.
#
#   tests/vm/vm.sh --kernel KERNEL --smp N [--mem MiB]
#                  [--numa NODES] --script GUEST_SCRIPT [--timeout S]
#                  [--log FILE] [--out DIR] [--env VAR=VAL ...] [--quiet]
#   tests/vm/vm.sh --kernel KERNEL --print-kernel   (the full release used)
#
# KERNEL: 6.1, 6.12, 6.18, 7.3 (the newest Debian kernel of that series, generic
# flavour), 6.1-rt, 7.3-rt (PREEMPT_RT flavour), debug, or a full release.
# Debian 12's apt installs 6.1, 6.12 and 6.1-rt into /boot and /lib/modules;
# scripts/fetch-kernels.sh unpacks 6.18, 7.3 and 7.3-rt into its cache
# (KSLUB_KERNEL_CACHE, default /var/cache/kslub/kernels).
#
# `--kernel debug` boots the debug kernel that tests/vm/debug-kernel.sh builds
# (lockdep, KASAN, atomic-sleep and list checking, UBSAN, KFENCE); it must be
# built first.
#
# The guest sees:
#   - the host root at /, read-only (9p tag hostroot), with the guest's own
#     /proc, /sys, /dev bound over it, tracefs at /sys/kernel/tracing and
#     debugfs at /sys/kernel/debug;
#   - a writable directory $KSLUB_OUT (= /tmp/kslub-out), which is a host
#     directory (9p tag out): --out DIR, or a per-run temporary directory
#     removed afterwards;
#   - TMPDIR=/dev/shm (a tmpfs), LC_ALL=C, the variables given with --env,
#     KSLUB_VM_KERNEL (the full kernel version), KSLUB_VM_SMP and KSLUB_VM_NUMA.
# --numa NODES splits the memory and the CPUs evenly over NODES memory nodes
# (one socket each; N and MiB must be multiples of NODES).
# GUEST_SCRIPT must be a host path (made absolute here); it runs with its
# shebang (or, not executable, its #! line's interpreter, else /bin/sh), as
# root, from /.
#
# Exit status: the guest script's exit code; 1 (and the console log kept) if
# the guest script failed, the kernel logged a WARNING/BUG/Oops/... (dmesg is
# scanned), the guest panicked, or the timeout expired; 2 for usage errors;
# 77 (CTest: skipped) when the kernel asked for cannot be had here
# (scripts/fetch-kernels.sh found no package for it and recorded why).
#
# Environment:
#   KSLUB_VM_CACHE   initramfs cache directory (default: <repo>/build/vm-cache)
#   KSLUB_KERNEL_CACHE  the kernels of scripts/fetch-kernels.sh
#                    (default: /var/cache/kslub/kernels)
#   KSLUB_VM_LOGDIR  where failed runs' console logs are kept
#                    (default: $KSLUB_VM_CACHE/logs)
#   KSLUB_VM_LOCK    lock file serialising QEMU runs on this machine
#                    (default: /tmp/kslub-vm.lock; "none" disables)
#   KSLUB_VM_APPEND  extra kernel command line arguments
#   KSLUB_VM_BOOT_ATTEMPTS  boots tried when the guest kernel crashes before
#                    the guest script starts (default 3; see below)
#   QEMU             the QEMU binary (default: qemu-system-x86_64)
set -euo pipefail

VM_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$VM_DIR/../.." && pwd)"
readonly VM_DIR REPO_ROOT
readonly GUEST_OUT=/tmp/kslub-out
# Loaded in the guest (with their dependencies, from modules.dep) unless built in.
readonly ROOT_MODULES=(virtio_pci 9pnet_virtio 9p)
# Kernel log lines that fail a run.
# (The debug kernel's detectors report as BUG: (KASAN, KFENCE, sleeping in
# atomic context), WARNING: (lockdep, list corruption) or UBSAN; a task stuck
# past the hung-task limit, or an RCU stall, shows as INFO:.)
readonly DMESG_BAD='WARNING:|BUG:|Oops|general protection fault|UBSAN|stack-protector|Kernel panic|INFO: task .* blocked|rcu: INFO|self-detected stall'

usage()
{
	sed -n '4,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit 2
}

die() { echo "vm: error: $*" >&2; exit 2; }
msg() { echo "vm: $*"; }

kernel_arg="" smp="" mem=512 numa=1 script="" timeout_s=600 log_file="" out_arg="" quiet=0 print_kernel=0
envs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel_arg="${2:?--kernel needs a value}"; shift 2 ;;
	--smp) smp="${2:?--smp needs a value}"; shift 2 ;;
	--mem) mem="${2:?--mem needs a value}"; shift 2 ;;
	--numa) numa="${2:?--numa needs a value}"; shift 2 ;;
	--script) script="${2:?--script needs a value}"; shift 2 ;;
	--timeout) timeout_s="${2:?--timeout needs a value}"; shift 2 ;;
	--log) log_file="${2:?--log needs a value}"; shift 2 ;;
	--out) out_arg="${2:?--out needs a value}"; shift 2 ;;
	--env) envs+=("${2:?--env needs VAR=VAL}"); shift 2 ;;
	--quiet) quiet=1; shift ;;
	--print-kernel) print_kernel=1; shift ;;
	-h|--help) usage ;;
	*) echo "vm: error: unknown argument '$1'" >&2; usage ;;
	esac
done

[ -n "$kernel_arg" ] || die "--kernel is required (6.1, 6.12, 6.18, 7.3, 6.1-rt, 7.3-rt, debug or a full release)"
if [ "$print_kernel" = 0 ]; then
	[ -n "$script" ] || die "--script is required"
	[[ "$smp" =~ ^[1-9][0-9]*$ ]] || die "--smp must be a positive integer (got '${smp}')"
fi
[[ "$mem" =~ ^[1-9][0-9]*$ ]] || die "--mem must be a positive number of MiB (got '$mem')"
[[ "$numa" =~ ^[1-9][0-9]*$ ]] || die "--numa must be a positive number of nodes (got '$numa')"
if [ "$print_kernel" = 0 ] && [ "$numa" -gt 1 ]; then
	[ $((smp % numa)) -eq 0 ] || die "--smp $smp is not a multiple of --numa $numa"
	[ $((mem % numa)) -eq 0 ] || die "--mem $mem is not a multiple of --numa $numa"
fi
[[ "$timeout_s" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive number of seconds (got '$timeout_s')"
for e in ${envs[@]+"${envs[@]}"}; do
	[[ "$e" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || die "--env '$e' is not VAR=VALUE"
done
if [ "$print_kernel" = 0 ]; then
	case "$script" in /*) ;; *) script="$(pwd)/$script" ;; esac
	[ -f "$script" ] && [ -r "$script" ] || die "guest script '$script' is not a readable file"
fi

QEMU="${QEMU:-qemu-system-x86_64}"
command -v "$QEMU" >/dev/null || die "$QEMU not found (Debian: apt-get install qemu-system-x86)"
BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
	if [ -x "$b" ] && ! ldd "$b" >/dev/null 2>&1; then BUSYBOX="$b"; break; fi
done
[ -n "$BUSYBOX" ] || die "no static busybox found (Debian: apt-get install busybox-static)"
command -v cpio >/dev/null || die "cpio not found (Debian: apt-get install cpio)"

# --- the kernel ------------------------------------------------------------
# A kernel name is a series with an optional flavour (6.1, 6.12, 6.18, 7.3,
# 6.1-rt, 7.3-rt: the newest such Debian kernel), debug, or a full release.
# Debian's images are found where apt installs them (/boot/vmlinuz-<release>
# and /lib/modules/<release>/modules.dep) or unpacked in the kernel cache of
# scripts/fetch-kernels.sh (<cache>/<release>/: usr/lib/modules/<release>/vmlinuz
# on 7.x, boot/vmlinuz-<release> on 6.x; the module tree under usr/lib/modules
# or lib/modules).
kernel_cache="${KSLUB_KERNEL_CACHE:-/var/cache/kslub/kernels}"

# kernel_files RELEASE: sets vmlinuz and moddir for an installed or cached
# release; status 1 if it has neither an image nor a modules.dep.
kernel_files()
{
	local rel="$1" root="$kernel_cache/$1" d
	if [ -f "/boot/vmlinuz-$rel" ] && [ -f "/lib/modules/$rel/modules.dep" ]; then
		vmlinuz="/boot/vmlinuz-$rel"
		moddir="/lib/modules/$rel"
		return 0
	fi
	[ -f "$root/ready" ] || return 1
	vmlinuz=""
	for d in "$root/usr/lib/modules/$rel/vmlinuz" "$root/boot/vmlinuz-$rel"; do
		[ -f "$d" ] && { vmlinuz="$d"; break; }
	done
	moddir=""
	for d in "$root/usr/lib/modules/$rel" "$root/lib/modules/$rel"; do
		[ -f "$d/modules.dep" ] && { moddir="$d"; break; }
	done
	[ -n "$vmlinuz" ] && [ -n "$moddir" ]
}

resolve_kernel()
{
	local want="$1" series flavour cand v best=""
	if kernel_files "$want"; then
		echo "$want"
		return
	fi
	case "$want" in
	*-rt) series="${want%-rt}" flavour=rt-amd64 ;;
	*) series="$want" flavour=amd64 ;;
	esac
	[[ "$series" =~ ^[0-9]+\.[0-9]+$ ]] ||
		die "unknown kernel '$want' (6.1, 6.12, 6.18, 7.3, 6.1-rt, 7.3-rt, debug, or a release in /boot or $kernel_cache)"
	for cand in /boot/vmlinuz-"$series".* "$kernel_cache/$series".*/ready; do
		case "$cand" in
		*/ready) v="$(basename "$(dirname "$cand")")" ;;
		*) v="${cand#/boot/vmlinuz-}" ;;
		esac
		# The flavour asked for: generic is plain -amd64 (Debian also ships -cloud-).
		case "$v" in
		*-rt-amd64) [ "$flavour" = rt-amd64 ] || continue ;;
		*-cloud-amd64) continue ;;
		*-amd64) [ "$flavour" = amd64 ] || continue ;;
		*) continue ;;
		esac
		kernel_files "$v" || continue
		best="$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)"
	done
	if [ -z "$best" ] && [ -f "$kernel_cache/$want.unavailable" ]; then
		# scripts/fetch-kernels.sh found no package for it: skip, saying why.
		echo "vm: skipped: Linux $want cannot be had here: $(cat "$kernel_cache/$want.unavailable")" >&2
		exit 77
	fi
	[ -n "$best" ] || die "no $want kernel here: none in /boot with /lib/modules/<release>/modules.dep, none in $kernel_cache (scripts/install-deps.sh installs 6.1, 6.12 and 6.1-rt with apt, scripts/fetch-kernels.sh fetches 6.18, 7.3 and 7.3-rt)"
	echo "$best"
}
if [ "$kernel_arg" = debug ]; then
	debug_tree="$("$VM_DIR/debug-kernel.sh" --print-dir)"
	debug_dir="$(dirname "$debug_tree")"
	[ -f "$debug_dir/ready" ] || die "the debug kernel is not built (tests/vm/debug-kernel.sh builds it into $debug_dir)"
	kver="$(cut -d' ' -f1 "$debug_dir/ready")"
	vmlinuz="$debug_dir/vmlinuz"
	moddir="$debug_dir/modules/lib/modules/$kver"
else
	kver="$(resolve_kernel "$kernel_arg")"
	kernel_files "$kver" || die "kernel $kver has no image or no modules.dep"
fi
if [ "$print_kernel" = 1 ]; then
	echo "$kver"
	exit 0
fi
[ -r "$vmlinuz" ] || die "$vmlinuz is not readable"
[ -f "$moddir/modules.dep" ] || die "$moddir/modules.dep not found"

# --- module load order -------------------------------------------------------
# Depth-first over modules.dep: every module after all of its dependencies.
declare -A dep_line=() mod_path=() visited=()
while IFS= read -r line; do
	path="${line%%:*}"
	base="${path##*/}"
	name="${base%%.ko*}"
	name="${name//-/_}"
	mod_path[$name]="$path"
	dep_line[$name]="${line#*:}"
done <"$moddir/modules.dep"
builtin_mods=""
[ -f "$moddir/modules.builtin" ] && builtin_mods="$(sed 's#.*/##; s#\.ko.*##; s#-#_#g' "$moddir/modules.builtin")"

load_order=()
visit()
{
	local name="$1" d dn
	[ -n "${visited[$name]:-}" ] && return
	visited[$name]=1
	for d in ${dep_line[$name]}; do
		dn="${d##*/}"
		dn="${dn%%.ko*}"
		visit "${dn//-/_}"
	done
	load_order+=("${mod_path[$name]}")
}
for m in "${ROOT_MODULES[@]}"; do
	if [ -n "${mod_path[$m]:-}" ]; then
		visit "$m"
	elif grep -qx "$m" <<<"$builtin_mods"; then
		:
	else
		die "module $m is neither in $moddir/modules.dep nor built in"
	fi
done

# --- the initramfs -------------------------------------------------------------
cache_dir="${KSLUB_VM_CACHE:-$REPO_ROOT/build/vm-cache}"
mkdir -p "$cache_dir"
cache_dir="$(cd "$cache_dir" && pwd)"
log_dir="${KSLUB_VM_LOGDIR:-$cache_dir/logs}"

init_script="$(cat "$VM_DIR/guest-init.sh")"
key="$(
	{
		echo "format 1"
		echo "kernel $kver"
		printf '%s\n' "${load_order[@]+"${load_order[@]}"}"
		sha256sum "$BUSYBOX" | cut -d' ' -f1
		printf '%s\n' "$init_script"
	} | sha256sum | cut -c1-16
)"
initramfs="$cache_dir/initramfs-$kver-$key.cpio"

build_initramfs()
{
	local stage m src dst
	stage="$(mktemp -d "$cache_dir/.stage.XXXXXX")"
	mkdir -p "$stage"/{bin,dev,proc,sys,newroot,lib/modules}
	cp "$BUSYBOX" "$stage/bin/busybox"
	ln -s busybox "$stage/bin/sh"
	cp "$VM_DIR/guest-init.sh" "$stage/init"
	chmod 755 "$stage/init"
	: >"$stage/modules.order"
	for m in ${load_order[@]+"${load_order[@]}"}; do
		src="$moddir/$m"
		dst="$(basename "$m")"
		dst="${dst%%.ko*}.ko"
		case "$m" in
		*.ko) cp "$src" "$stage/lib/modules/$dst" ;;
		*.ko.xz) xz -dc "$src" >"$stage/lib/modules/$dst" ;;
		*.ko.zst) zstd -qdc "$src" >"$stage/lib/modules/$dst" ;;
		*.ko.gz) gzip -dc "$src" >"$stage/lib/modules/$dst" ;;
		*) rm -rf "$stage"; die "cannot unpack module $src" ;;
		esac
		echo "$dst" >>"$stage/modules.order"
	done
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$initramfs.tmp.$$"
	mv "$initramfs.tmp.$$" "$initramfs"
	rm -rf "$stage"
}
(
	flock 9
	if [ ! -s "$initramfs" ]; then
		build_initramfs
		echo "vm: built $initramfs (modules: $(printf '%s ' "${load_order[@]+"${load_order[@]##*/}"}"))"
	fi
) 9>"$cache_dir/.lock"

# --- the run ---------------------------------------------------------------------
run_dir="$(mktemp -d "${TMPDIR:-/tmp}/kslub-vm.XXXXXX")"
if [ -n "$out_arg" ]; then
	mkdir -p "$out_arg"
	out_dir="$(cd "$out_arg" && pwd)"
else
	out_dir="$run_dir/out"
	mkdir -p "$out_dir"
fi
console="$run_dir/console.log"
cleanup()
{
	rm -f "$out_dir/.run.sh" "$out_dir/.dmesg" "$out_dir/.rc"
	rm -rf "$run_dir"
}
trap cleanup EXIT

# The guest mounts the out share here; the host root is read-only in the
# guest, so the mount point must exist on the host.
mkdir -p "$GUEST_OUT"

# What the guest init runs inside the chroot.
squote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
{
	echo "# generated by tests/vm/vm.sh"
	echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	echo "export HOME=/root TMPDIR=/dev/shm KSLUB_OUT=$GUEST_OUT LC_ALL=C"
	echo "export KSLUB_VM_KERNEL=$(squote "$kver") KSLUB_VM_SMP=$smp KSLUB_VM_NUMA=$numa"
	for e in ${envs[@]+"${envs[@]}"}; do
		echo "export ${e%%=*}=$(squote "${e#*=}")"
	done
	echo "cd /"
	# Not executable: its #! interpreter, else /bin/sh.
	interp=/bin/sh
	first="$(head -n 1 "$script")"
	case "$first" in "#!"*) interp="${first#\#!}" ;; esac
	echo "if [ -x $(squote "$script") ]; then exec $(squote "$script"); else exec $interp $(squote "$script"); fi"
} >"$out_dir/.run.sh"

append="console=ttyS0 oops=panic panic=-1 quiet loglevel=4 mitigations=off"
# Slow emulated CPUs: keep the lockup detectors from firing on emulation
# speed alone (a real hang still ends at --timeout).
append+=" watchdog_thresh=60 rcupdate.rcu_cpu_stall_timeout=300"
append+=" i8042.noaux i8042.nomux i8042.nopnp i8042.dumbkbd 8250.nr_uarts=1 random.trust_cpu=on"
append+=" ${KSLUB_VM_APPEND:-}"

smp_arg="$smp"
numa_args=()
if [ "$numa" -gt 1 ]; then
	per_cpus=$((smp / numa))
	smp_arg="$smp,sockets=$numa,cores=$per_cpus,threads=1"
	for ((i = 0; i < numa; i++)); do
		numa_args+=(-object "memory-backend-ram,id=kslub-m$i,size=$((mem / numa))M"
			-numa "node,nodeid=$i,cpus=$((i * per_cpus))-$(((i + 1) * per_cpus - 1)),memdev=kslub-m$i")
	done
fi
# shellcheck disable=SC2054 # commas inside QEMU options
qemu_cmd=("$QEMU" -accel tcg,thread=multi -cpu max -smp "$smp_arg" -m "$mem" ${numa_args[@]+"${numa_args[@]}"} -nographic -no-reboot
	-nodefaults -serial stdio -net none
	-kernel "$vmlinuz" -initrd "$initramfs" -append "$append"
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
	-virtfs "local,path=$out_dir,mount_tag=out,security_model=none,multidevs=remap")

lock="${KSLUB_VM_LOCK:-/tmp/kslub-vm.lock}"
if [ "$lock" != none ]; then
	exec 8>"$lock"
	if ! flock -n 8; then
		msg "waiting for another VM run to finish (lock $lock)"
		tw=$(date +%s)
		flock 8
		msg "lock acquired after $(($(date +%s) - tw)) s"
	fi
fi

kshort="${kver%%-*}"
kshort="${kshort%%+*}"
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Console lines go to the log and to stdout; the guest init's marker lines
# become progress lines.
filter()
{
	local line
	shopt -s extglob
	while IFS= read -r line || [ -n "$line" ]; do
		# Drop carriage returns and the firmware's terminal escapes.
		line="${line//$'\r'/}"
		line="${line//$'\e'[\[(]*([0-9;?])[A-Za-z]/}"
		line="${line//$'\e'[A-Za-z]/}"
		case "$line" in
		*"KSLUB-VM: "*)
			line="KSLUB-VM: ${line#*KSLUB-VM: }"
			printf '%s\n' "$line" >>"$console"
			case "$line" in
			"KSLUB-VM: script-start")
				msg "guest script started after $(elapsed "$t0") s"
				;;
			"KSLUB-VM: init-failed:"*)
				msg "guest init failed: ${line#KSLUB-VM: init-failed: }"
				;;
			esac
			;;
		*)
			printf '%s\n' "$line" >>"$console"
			[ "$quiet" = 1 ] || printf '%s\n' "$line"
			;;
		esac
	done
}

# A guest kernel that crashes while booting, before the guest script (and so
# before anything of kslub) runs, is QEMU TCG's trouble, not the test's: seen
# here as an int3 oops in a static-key patch site at 6 CPUs. Such a boot is
# retried (KSLUB_VM_BOOT_ATTEMPTS, default 3), its console log kept; a crash
# after the script started always counts.
attempts="${KSLUB_VM_BOOT_ATTEMPTS:-3}"
# A guest that has not started its script after KSLUB_VM_BOOT_TIMEOUT seconds
# (default 180; boots take 7 to 20 s here, the debug kernel's included) is
# stuck while booting: seen once with the debug kernel, QEMU idle after
# ACPI's AE_AML_LOOP_TIMEOUT, where only --timeout (1400 s there) would have
# ended it. QEMU is stopped, and the boot retried like a crashed one.
boot_limit="${KSLUB_VM_BOOT_TIMEOUT:-180}"
case $boot_limit in '' | *[!0-9]*) die "KSLUB_VM_BOOT_TIMEOUT=$boot_limit is not a number of seconds" ;; esac
# The QEMU process of this run, found by its unique output share.
qemu_pattern="$(printf '%s' "path=$out_dir,mount_tag=out" | sed 's/[][\\.*^$+?(){}|]/\\&/g')"
for ((attempt = 1; ; attempt++)); do
	msg "booting $kernel_arg ($kver) smp=$smp mem=${mem}M$([ "$numa" -gt 1 ] && echo " numa=$numa") script=$script$([ "$attempt" -gt 1 ] && echo " (attempt $attempt)")"
	t0=$(date +%s.%N)
	: >"$console"
	rm -f "$out_dir/.dmesg"
	rm -f "$run_dir/boot-stuck"
	(
		end=$((SECONDS + boot_limit))
		while [ "$SECONDS" -lt "$end" ]; do
			sleep 1
			if grep -aq '^KSLUB-VM: script-start' "$console"; then exit 0; fi
		done
		: >"$run_dir/boot-stuck"
		pkill -TERM -f -- "$qemu_pattern" || true
	) &
	boot_watch=$!
	set +e
	timeout -k 10 "$timeout_s" "${qemu_cmd[@]}" </dev/null 2>&1 | filter
	st=("${PIPESTATUS[@]}")
	kill "$boot_watch" 2>/dev/null
	wait "$boot_watch" 2>/dev/null
	set -e
	qemu_rc="${st[0]}"
	if [ -f "$run_dir/boot-stuck" ]; then
		mkdir -p "$log_dir"
		kept_boot="$log_dir/boot-stuck-$kshort-smp$smp-$(date -u +%Y%m%dT%H%M%SZ)-$$.log"
		cp "$console" "$kept_boot"
		if [ "$attempt" -lt "$attempts" ]; then
			msg "the guest did not start its script within $boot_limit s (stuck while booting): retrying (console log kept: $kept_boot)"
			continue
		fi
		msg "the guest did not start its script within $boot_limit s (stuck while booting; console log kept: $kept_boot)"
	fi
	if [ "$attempt" -lt "$attempts" ] && ! grep -aq '^KSLUB-VM: script-start' "$console" &&
		grep -aqE 'Oops|BUG:|Kernel panic|general protection fault' "$console"; then
		mkdir -p "$log_dir"
		kept_boot="$log_dir/boot-crash-$kshort-smp$smp-$(date -u +%Y%m%dT%H%M%SZ)-$$.log"
		cp "$console" "$kept_boot"
		msg "the guest kernel crashed while booting, before the guest script: retrying (console log kept: $kept_boot)"
		continue
	fi
	# QEMU TCG (thread=multi) sometimes faults on the kernel's own live code
	# patching (text_poke's int3 breakpoints, e.g. when BPF attaches): seen
	# here as "Oops: int3" with no other report before it, on 6.18 and 7.3.
	# No code of kslub's uses int3 (its warnings are ud2), so such a run is
	# retried like a boot crash, its console log kept.
	if [ "$attempt" -lt "$attempts" ] && grep -aq 'Oops: int3' "$console" &&
		! grep -aqE 'WARNING:|BUG:|general protection fault|UBSAN' \
			<(sed '/Oops: int3/,$d' "$console"); then
		mkdir -p "$log_dir"
		kept_boot="$log_dir/int3-$kshort-smp$smp-$(date -u +%Y%m%dT%H%M%SZ)-$$.log"
		cp "$console" "$kept_boot"
		msg "the guest kernel faulted in its own code patching (Oops: int3, an emulation fault): retrying (console log kept: $kept_boot)"
		continue
	fi
	break
done
total="$(elapsed "$t0")"
if [ "$lock" != none ]; then exec 8>&-; fi

guest_rc=""
if line="$(grep -a '^KSLUB-VM: exit=' "$console" | tail -n 1)"; then
	guest_rc="${line#KSLUB-VM: exit=}"
fi
start_line="$(grep -an '^KSLUB-VM: script-start' "$console" | head -n 1 || true)"

failures=()
if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
	failures+=("timeout: QEMU killed after ${timeout_s} s")
elif [ "$qemu_rc" != 0 ]; then
	failures+=("QEMU exited with status $qemu_rc")
fi
if [ -f "$run_dir/boot-stuck" ]; then
	failures+=("the guest did not start its script within $boot_limit s (stuck while booting)")
elif [ -z "$start_line" ]; then
	failures+=("the guest script never started (guest init failed; see the console log)")
fi
if [ -z "$guest_rc" ]; then
	[ -z "$start_line" ] || failures+=("no exit code from the guest (kernel panic or hang?)")
elif [ "$guest_rc" != 0 ]; then
	failures+=("guest script exited with status $guest_rc")
fi
# The kernel log: dmesg as saved by the guest init after the script, plus the
# console (a panic never reaches the dmesg file).
# grep's status 1 (no line matched) is the good case; anything else fails.
bad="$(
	set -o pipefail
	{
		if [ -f "$out_dir/.dmesg" ]; then cat "$out_dir/.dmesg"; fi
		grep -a -E 'Kernel panic|^\[ *[0-9]+\.[0-9]+\] ' "$console" || [ $? -eq 1 ]
	} | { grep -a -E "$DMESG_BAD" || [ $? -eq 1 ]; } | sort -u
)" || failures+=("scanning the kernel log failed")
if [ -n "$bad" ]; then
	failures+=("kernel log has warnings or errors:")
	while IFS= read -r l; do failures+=("    $l"); done <<<"$bad"
fi
if [ -f "$out_dir/.dmesg" ]; then
	cp "$out_dir/.dmesg" "$run_dir/dmesg.log"
fi

if [ -n "$log_file" ]; then
	mkdir -p "$(dirname "$log_file")"
	cp "$console" "$log_file"
fi

if [ ${#failures[@]} -eq 0 ]; then
	msg "passed: $kernel_arg smp=$smp, guest exit 0, total $total s"
	exit 0
fi

mkdir -p "$log_dir"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
kept="$log_dir/console-$kshort-smp$smp-$(basename "$script" .sh)-$stamp-$$.log"
cp "$console" "$kept"
if [ -f "$run_dir/dmesg.log" ]; then
	cp "$run_dir/dmesg.log" "${kept%.log}.dmesg"
fi
for f in "${failures[@]}"; do msg "FAIL: $f"; done
msg "console log kept: $kept"
msg "failed: $kernel_arg smp=$smp after $total s"
if [ -n "$guest_rc" ] && [ "$guest_rc" != 0 ] && [ "$guest_rc" -lt 256 ] 2>/dev/null; then
	exit "$guest_rc"
fi
exit 1
