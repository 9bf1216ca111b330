#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# A QEMU wrapper for tests/vm/vm.sh (QEMU=module/tests/qemu-numa.sh): two
# NUMA nodes of 512 MiB, one socket each, CPU 0 on node 0 and CPU 1 on
# node 1. Use with --smp 2 --mem 1024.
exec "${QEMU_REAL:-qemu-system-x86_64}" "$@" \
	-object memory-backend-ram,id=m0,size=512M -object memory-backend-ram,id=m1,size=512M \
	-smp 2,sockets=2,cores=1,threads=1 \
	-numa node,nodeid=0,cpus=0,memdev=m0 -numa node,nodeid=1,cpus=1,memdev=m1
