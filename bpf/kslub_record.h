/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The record kslub_record.bpf.c sends through its ring buffer to
 * kslub-record (kslub_record.c): one per kmem tracepoint hit.
 */
#ifndef KSLUB_RECORD_H
#define KSLUB_RECORD_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define KSLUB_REC_NAME_LEN 64

enum kslub_rec_type {
	KSLUB_REC_KMALLOC = 0,
	KSLUB_REC_KFREE = 1,
	KSLUB_REC_CACHE_ALLOC = 2,
	KSLUB_REC_CACHE_FREE = 3,
	KSLUB_REC_PAGE_ALLOC = 4,
	KSLUB_REC_PAGE_FREE = 5,
};

struct kslub_rec {
	__u64 ts_ns;
	__u64 ptr; /* object address, or the pfn for page events */
	__u64 call_site;
	__u64 bytes_req;
	__u64 bytes_alloc; /* page events: 0, the user side computes PAGE_SIZE << order */
	__u64 gfp_flags;
	__u32 cpu;
	__u16 type;			/* enum kslub_rec_type */
	__u16 order;			/* page events */
	char cache[KSLUB_REC_NAME_LEN]; /* empty when the tracepoint has no name */
};

#endif
