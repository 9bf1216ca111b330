#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of the vm.boot.* tests: what the module tests rely on is in
# place. The host root is mounted over 9p (read-only), debugfs and tracefs
# are mounted, $KSLUB_OUT is writable, /sys/kernel/slab is there, and a CPU
# can be taken offline and brought back.
set -u

n=0
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {
	what="$1"
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
fstype() { awk -v m="$1" '$2 == m { t = $3 } END { print t }' /proc/mounts; }
mount_opts() { awk -v m="$1" '$2 == m { o = $4 } END { print o }' /proc/mounts; }

echo "guest: Linux $(uname -r), $(nproc) CPUs online, present $(cat /sys/devices/system/cpu/present)"
check "root is 9p" [ "$(fstype /)" = 9p ]
case ",$(mount_opts /)," in *,ro,*) ok "root is read-only" ;; *) not_ok "root is read-only" ;; esac
check "host tree visible (this script)" [ -r "$0" ]
check "debugfs on /sys/kernel/debug" [ "$(fstype /sys/kernel/debug)" = debugfs ]
check "tracefs on /sys/kernel/tracing" [ "$(fstype /sys/kernel/tracing)" = tracefs ]
check "kmem tracepoints present" [ -d /sys/kernel/tracing/events/kmem/kmalloc ]
check "/sys/kernel/slab/kmalloc-64 present" [ -r /sys/kernel/slab/kmalloc-64/order ]
check "\$KSLUB_OUT writable" sh -c 'echo x >"$KSLUB_OUT/boot-check" && rm "$KSLUB_OUT/boot-check"'
check "\$TMPDIR writable" sh -c 'echo x >"$TMPDIR/boot-check" && rm "$TMPDIR/boot-check"'
check "running as root" [ "$(id -u)" = 0 ]

online=/sys/devices/system/cpu/cpu1/online
if [ -e "$online" ]; then
	before="$(cat /sys/devices/system/cpu/online)"
	if echo 0 >"$online" && [ "$(cat "$online")" = 0 ]; then
		ok "cpu1 offline (online: $(cat /sys/devices/system/cpu/online))"
	else
		not_ok "cpu1 offline"
	fi
	if echo 1 >"$online" && [ "$(cat "$online")" = 1 ]; then
		ok "cpu1 back online"
	else
		not_ok "cpu1 back online"
	fi
	check "online CPUs as before ($before)" [ "$(cat /sys/devices/system/cpu/online)" = "$before" ]
else
	echo "# one CPU: no hotplug check"
fi

echo "1..$n"
[ "$failed" -eq 0 ]
