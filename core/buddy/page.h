// SPDX-License-Identifier: GPL-2.0-only
/*
 * The core's struct page: one 64-byte descriptor per 4 KiB page of the
 * reserved regions. A slab overlays the descriptor of its first page, as
 * struct slab overlays struct page in Linux.
 *
 * Invariants (checked by BuddyAllocator::check and the SLUB walkers):
 *   PG_buddy  => head of a free block of `order` pages, on free_area[order],
 *                pfn % (1 << order) == 0, no other page of the block flagged.
 *   PG_head   => first page of an allocated block of `order` pages; the other
 *                pages carry PG_tail and head_delta = their pfn - head's pfn.
 *   PG_slab   => PG_head too; slab_cache, freelist, counters, lru/next valid.
 *   PG_large  => PG_head too; a kmalloc_large block.
 *   PG_reserved => holds the allocator's own descriptors; never allocated or freed.
 */
#ifndef KSLUB_BUDDY_PAGE_H
#define KSLUB_BUDDY_PAGE_H

#include "base/base.h"

namespace kslub {

enum PageFlags : u32 {
	PG_buddy = 1u << 0,
	PG_head = 1u << 1,
	PG_tail = 1u << 2,
	PG_slab = 1u << 3,
	PG_large = 1u << 4,
	PG_reserved = 1u << 5,
};

/* slab counters word: inuse:16 | objects:15 | frozen:1 (bits 0..31), as 6.1's struct slab. */
struct SlabCounters {
	u64 v;
	constexpr u32 inuse() const { return u32(v & 0xffff); }
	constexpr u32 objects() const { return u32((v >> 16) & 0x7fff); }
	constexpr bool frozen() const { return (v >> 31) & 1; }
	constexpr void set_inuse(u32 n) { v = (v & ~u64(0xffff)) | (n & 0xffff); }
	constexpr void set_objects(u32 n)
	{
		v = (v & ~(u64(0x7fff) << 16)) | (u64(n & 0x7fff) << 16);
	}
	constexpr void set_frozen(bool f) { v = (v & ~(u64(1) << 31)) | (u64(f) << 31); }
};

struct alignas(64) Page {
	/* The slab's double word, changed only by cas2: {freelist, counters}. */
	void *freelist;
	u64 counters;
	/* Buddy free list, or the slab's node partial list. */
	ListHead lru;
	/* Owning kmem_cache (opaque to the buddy layer). */
	void *slab_cache;
	/* CPU partial chain: next slab and the chain length from here. */
	Page *next;
	u32 slabs;
	u32 flags;
	u32 head_delta;
	u8 order;
	u8 node;
	u16 pad;

	Pair *pair() { return reinterpret_cast<Pair *>(this); }
	SlabCounters cnt() const { return SlabCounters{counters}; }
};
static_assert(sizeof(Page) == 64, "page descriptor must stay one cache line");
static_assert(__builtin_offsetof(Page, counters) == 8,
	      "freelist and counters form one double word");

} // namespace kslub

#endif
