#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Guest side of module/measure/fastpath-length.sh: the running kernel's text
# symbols (/proc/kallsyms, read as root with kptr_restrict 0) into
# $KSLUB_OUT/kallsyms, and its release into $KSLUB_OUT/release. Debian's
# System.map files are placeholders (the real one is in the -dbg package),
# so this is the kernel's symbol map, read where it runs.
set -eu
echo 0 >/proc/sys/kernel/kptr_restrict
awk '$2 ~ /^[tT]$/ && $1 !~ /^0+$/' /proc/kallsyms >"$KSLUB_OUT/kallsyms"
uname -r >"$KSLUB_OUT/release"
n=$(wc -l <"$KSLUB_OUT/kallsyms")
[ "$n" -gt 1000 ] || { echo "kallsyms-dump: only $n text symbols readable" >&2; exit 1; }
echo "kallsyms-dump: $n text symbols of $(uname -r)"
