#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.hostile.* tests: hostile writes to
# /sys/kernel/debug/kslub/control, each made with one write() of exact bytes
# (guest/lib.sh write_printf, write_bytes), each checked for the errno the command language
# (core/control/command.h) gives it:
#   -EINVAL  unknown verbs, missing or extra arguments, non-numbers, signs,
#            zero, numbers above a limit or beyond 64 bits, bad or over-long
#            names, NULs and control bytes, random binary, over-long commands;
#   -ENOENT  a cache that does not exist;
#   -EEXIST  creating a cache that exists;
#   -EBUSY   destroying a cache with live objects (or one the control file
#            did not create), alloc on kmem_cache.
# Then the module must still work: a create/alloc/free/validate/destroy
# round, validate of every cache, slabinfo, rmmod.
#
#   tests/vm/run-module.sh --kernel 6.12 --smp 2 --script tests/vm/guest/control-hostile.sh
set -euo pipefail

. "$(dirname "$0")/lib.sh"
# class_count, class_summary (tested on the host by tests/scripts/vm-selftest.sh).
. "$(dirname "$0")/checks.sh"
D="$KSLUB_DEBUGFS"

load_module

# hostile CLASS ERRNO PRINTF_FORMAT: the bytes printf makes of the format
# (\xHH, \n, \t ... interpreted; no newline added) in one write.
hostile()
{
	local class="$1" want="$2" fmt="$3"
	write_printf "$D/control" "$fmt"
	if [ "$W_ERR" = "$want" ]; then
		class_count "$class" ok
		ok "$class: '$fmt' -> $want"
		# A refused command has no effect: no cache appears.
		if [ -e "$D/caches/kvm-h" ]; then
			not_ok "$class: '$fmt' was refused ($want) but created kvm-h"
			ctl "free kvm-h 1000000"
			ctl "destroy kvm-h"
		fi
	else
		class_count "$class" failed
		not_ok "$class: '$fmt': expected $want, got $W_ERR"
		local r=""
		IFS= read -r r <"$D/control" || true
		diag "    result: '$r'"
	fi
}

# cases CLASS ERRNO: one printf format per line on stdin.
cases()
{
	local fmt
	while IFS= read -r fmt; do
		[ -n "$fmt" ] || continue
		hostile "$1" "$2" "$fmt"
	done
}

# --- unknown verbs ---------------------------------------------------------------
cases "unknown verb" EINVAL <<'EOF'
Create kvm-h 64\n
CREATE kvm-h 64\n
creat kvm-h 64\n
createe kvm-h 64\n
allocate kmalloc-64 1\n
malloc 64 1\n
kfree kmalloc-64\n
kfreeall\n
kfree_all\n
destroy-all\n
validatex kmalloc-64\n
stress2 kmalloc-64 10\n
help\n
ls\n
rm -rf /\n
reboot\n
1create kvm-h 64\n
-create kvm-h 64\n
create;\n
create,kvm-h,64\n
echo hello\n
Kmalloc 64 1\n
SHRINK kmalloc-64\n
EOF

# --- missing and extra arguments -------------------------------------------------------
cases "missing or extra argument" EINVAL <<'EOF'
create\n
create kvm-h\n
create kvm-h \n
destroy\n
alloc\n
alloc kmalloc-64\n
free\n
free kmalloc-64\n
kmalloc\n
kmalloc 64\n
shrink\n
validate\n
stress\n
stress kmalloc-64\n
compare\n
compare 64\n
\n
 \n
   
destroy kvm-h extra\n
kfree-all now\n
shrink kmalloc-64 kmalloc-32\n
validate kmalloc-64 1\n
create kvm-h 64 align=8 extra\n
alloc kmalloc-64 1 2\n
kmalloc 64 1 2\n
EOF

# --- not numbers ------------------------------------------------------------------------
cases "not a number" EINVAL <<'EOF'
create kvm-h abc\n
create kvm-h 8k\n
create kvm-h 0x10\n
create kvm-h 1e3\n
create kvm-h 12.5\n
alloc kmalloc-64 ten\n
alloc kmalloc-64 1O\n
kmalloc 1k 1\n
kmalloc 64 1,000\n
kmalloc 64 1_000\n
stress kmalloc-64 10ops\n
compare 64 abc\n
create kvm-h 64 align=abc\n
create kvm-h 64 align=\n
create kvm-h 64 align\n
create kvm-h 64 alignment=8\n
create kvm-h 64 align=0x8\n
kmalloc 64 1.\n
kmalloc NaN 1\n
kmalloc inf 1\n
free kmalloc-64 ∞\n
create kvm-h ６４\n
EOF

# --- negative and signed numbers -----------------------------------------------------------
cases "negative or signed" EINVAL <<'EOF'
create kvm-h -8\n
alloc kmalloc-64 -1\n
kmalloc -1 1\n
kmalloc 64 -1\n
free kmalloc-64 -5\n
stress kmalloc-64 -100\n
compare -8 10\n
compare 8 -10\n
create kvm-h 64 align=-8\n
kmalloc +64 1\n
alloc kmalloc-64 +1\n
create kvm-h -0\n
kmalloc -0 1\n
free kmalloc-64 -0\n
kmalloc 64 --1\n
create kvm-h −8\n
stress kmalloc-64 -1\n
compare -1 -1\n
alloc kmalloc-64 -1000000\n
kmalloc -9223372036854775808 1\n
create kvm-h +8\n
EOF

# --- zero and below the minimum -----------------------------------------------------------------
cases "zero" EINVAL <<'EOF'
create kvm-h 0\n
alloc kmalloc-64 0\n
kmalloc 0 1\n
kmalloc 64 0\n
free kmalloc-64 0\n
stress kmalloc-64 0\n
compare 0 10\n
compare 8 0\n
create kvm-h 64 align=0\n
create kvm-h 00\n
kmalloc 000 1\n
alloc kmalloc-64 0000\n
create kvm-h 7\n
create kvm-h 1\n
kmalloc 64 00000000000000000000\n
compare 0 0\n
stress kvm-nope 0\n
free kmalloc-64 00\n
create kvm-h 0 align=0\n
kmalloc 0 0\n
EOF

# --- huge and overflowing numbers ---------------------------------------------------------------
cases "huge or overflowing" EINVAL <<'EOF'
create kvm-h 2097153\n
create kvm-h 4294967296\n
create kvm-h 18446744073709551615\n
create kvm-h 18446744073709551616\n
create kvm-h 99999999999999999999\n
create kvm-h 999999999999999999999\n
alloc kmalloc-64 1000001\n
alloc kmalloc-64 18446744073709551616\n
kmalloc 4194305 1\n
kmalloc 8589934592 1\n
kmalloc 64 1000001\n
stress kmalloc-64 100000001\n
compare 4194305 10\n
compare 8 100000001\n
create kvm-h 64 align=8192\n
create kvm-h 64 align=3\n
create kvm-h 64 align=4294967296\n
create kvm-h 64 align=18446744073709551616\n
free kmalloc-64 18446744073709551615\n
kmalloc 18446744073709551615 18446744073709551615\n
kmalloc 1000000000000000000000000000000000000000000000000000000000000000000000000000000 1\n
create kvm-h 64 align=96\n
EOF

# --- names: too long, bad characters; commands too long -------------------------------------------
n32="$(printf 'n%.0s' $(seq 32))"
n33="${n32}n"
n64="$n32$n32"
n100="$(printf 'x%.0s' $(seq 100))"
n120="$(printf 'y%.0s' $(seq 120))"
long_line="$(printf 'create %s 64' "$(printf 'z%.0s' $(seq 200))")"
spaces="$(printf ' %.0s' $(seq 130))"
cases "bad name or line" EINVAL <<EOF
create $n32 64\n
create $n33 64\n
create $n64 64\n
create $n100 64\n
create $n120 64\n
alloc $n32 1\n
destroy $n64\n
validate $n100\n
$long_line\n
shrink kmalloc-64$spaces\n
create a/b 64\n
create a\\\\b 64\n
create a*b 64\n
create a:b 64\n
create a,b 64\n
create ä 64\n
create a;b 64\n
create ../x 64\n
create a\$b 64\n
create a'b 64\n
create a"b 64\n
create {x} 64\n
create a=b 64\n
create . 64\n
create .. 64\n
validate .\n
destroy ..\n
EOF

# --- NULs and control bytes --------------------------------------------------------------------------
cases "NUL or control byte" EINVAL <<'EOF'
create kvm-h\x00 64\n
\x00
\x00\n
create\x00\n
alloc kmalloc-64 1\x00
create kvm-h 64\x00\n
\t
create\tkvm-h 64\n
create kvm-h 64\r\n
create kvm-h 64\n\n
\x01
\x1b[2J
create kvm-h\x7f 64\n
\x80
\xff
create kvm-h 64\x00garbage
\n\n
create \x08kvm-h 64\n
\v
\f
create kvm-h 64\x0b\n
validate kmalloc-64\n\x00
EOF

# --- random binary -------------------------------------------------------------------------------------
for len in 1 2 3 5 8 13 21 34 55 89 127 128 129 200 255 256 511 1000 2048 4000 4096; do
	head -c "$len" /dev/urandom >"$T_TMP/random"
	# Make sure it is not by chance a valid command: one byte outside 0x20..0x7e.
	printf '\x01' | dd of="$T_TMP/random" bs=1 seek=$((len / 2)) conv=notrunc status=none
	write_bytes "$D/control" "$T_TMP/random"
	if [ "$W_ERR" = EINVAL ]; then
		class_count random ok
		ok "random binary: $len bytes -> EINVAL"
	else
		class_count random failed
		not_ok "random binary: $len bytes: expected EINVAL, got $W_ERR"
		od -An -tx1 -N 64 "$T_TMP/random" | sed 's/^/#   /'
	fi
done

# --- missing caches --------------------------------------------------------------------------------------
cases "missing cache" ENOENT <<'EOF'
alloc kvm-nope 1\n
free kvm-nope 1\n
shrink kvm-nope\n
validate kvm-nope\n
destroy kvm-nope\n
stress kvm-nope 10\n
alloc kmalloc-7 1\n
alloc Kmalloc-64 1\n
validate KMALLOC-64\n
shrink kmalloc-16k\n
validate kmalloc-cg-64\n
validate dma-kmalloc-64\n
alloc kmalloc-64. 1\n
shrink -\n
validate ...\n
validate .x\n
validate _\n
destroy kvm-h\n
alloc kmalloc-1024 1\n
alloc kmalloc-8192 1\n
validate aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n
shrink kmalloc-64-\n
EOF

# --- duplicates --------------------------------------------------------------------------------------------
ctl_ok "create kvm-dup for the duplicate checks" "create kvm-dup 64" '^create kvm-dup'
cases "duplicate" EEXIST <<'EOF'
create kvm-dup 64\n
create kvm-dup 8\n
create kvm-dup 4096\n
create kvm-dup 2097152\n
create kvm-dup 64 align=64\n
 create kvm-dup 128 \n
create kvm-dup 100
create kmalloc-8 8\n
create kmalloc-16 16\n
create kmalloc-32 32\n
create kmalloc-64 64\n
create kmalloc-96 96\n
create kmalloc-128 128\n
create kmalloc-192 192\n
create kmalloc-256 256\n
create kmalloc-512 512\n
create kmalloc-1k 1024\n
create kmalloc-2k 2048\n
create kmalloc-4k 4096\n
create kmalloc-8k 8192\n
create kmem_cache 64\n
create kmalloc-64 100 align=8\n
EOF
ctl_ok "destroy kvm-dup" "destroy kvm-dup" 'destroyed'

# --- destroy while objects are live -------------------------------------------------------------------------
busy_names=""
for i in $(seq 1 10); do
	ctl_ok "create kvm-busy-$i" "create kvm-busy-$i $((i * 40))" "^create kvm-busy-$i"
	ctl_ok "alloc $i in kvm-busy-$i" "alloc kvm-busy-$i $i" "$i objects held"
	busy_names="$busy_names kvm-busy-$i"
done
# (Process substitution, not a pipe: cases must run in this shell to count.)
cases "destroy with live objects" EBUSY < <(
	for c in $busy_names; do
		echo "destroy $c\\n"
		echo " destroy $c \\n"
	done
	echo 'destroy kmalloc-64\n'
	echo 'destroy kmem_cache\n'
	echo 'alloc kmem_cache 1\n'
)
for c in $busy_names; do
	ctl_ok "free $c" "free $c 1000" 'objects freed \(0 held\)'
	ctl_ok "destroy $c once empty" "destroy $c" 'destroyed'
done

# --- summary per class -----------------------------------------------------------------------------------------
# Every class by name: one whose inputs never came (an empty list, a loop
# that did not run) fails here instead of going unmentioned.
class_summary 20 "unknown verb" "missing or extra argument" "not a number" "negative or signed" "zero" \
	"huge or overflowing" "bad name or line" "NUL or control byte" random "missing cache" duplicate \
	"destroy with live objects"

# --- the module still works -----------------------------------------------------------------------------------
ctl_ok "after the battery: create" "create kvm-after 333" '^create kvm-after'
ctl_ok "after the battery: alloc" "alloc kvm-after 500" '500 objects held'
ctl_ok "after the battery: kmalloc" "kmalloc 700 50" '50 objects held'
ctl_ok "after the battery: validate" "validate kvm-after" ': 0 errors'
ctl_ok "after the battery: free" "free kvm-after 500" '500 objects freed \(0 held\)'
ctl_ok "after the battery: kfree-all" "kfree-all" '50 objects freed'
ctl_ok "after the battery: destroy" "destroy kvm-after" 'destroyed'
bad=""
for d in "$D"/caches/*/; do
	c="$(basename "$d")"
	ctl "validate $c"
	[ "$CTL_ERR" = OK ] && [[ "$CTL_RESULT" =~ :\ 0\ errors ]] || bad="$bad $c($CTL_ERR: $CTL_RESULT)"
done
expect_eq "validate of every cache: 0 errors" "" "$bad"
if head -n 1 "$D/slabinfo" | grep -q '^slabinfo - version: 2.1'; then ok "slabinfo readable"; else not_ok "slabinfo readable"; fi
unload_module
finish
