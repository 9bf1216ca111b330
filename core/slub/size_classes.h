// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmalloc size classes of SLUB on 4 KiB pages (Linux 6.1; the same on 6.12,
 * 6.18 and 7.3).
 *
 * Caches by index: 1 = kmalloc-96, 2 = kmalloc-192, 3..13 = kmalloc-8 ..
 * kmalloc-8k. Requests up to 192 bytes look their index up in a table of
 * 8-byte steps (so 72..96 lands in kmalloc-96 and 136..192 in kmalloc-192);
 * larger ones take fls(size - 1). Above KMALLOC_MAX_CACHE_SIZE (two pages)
 * kmalloc goes to the page allocator (kmalloc_large).
 *
 * Worked example: kmalloc(100): (100 - 1) / 8 = 12 -> table[12] = 7 ->
 * kmalloc-128. kmalloc(200): fls(199) = 8 -> kmalloc-256.
 */
#ifndef KSLUB_SLUB_SIZE_CLASSES_H
#define KSLUB_SLUB_SIZE_CLASSES_H

#include "base/base.h"

namespace kslub {

constexpr unsigned KMALLOC_SHIFT_LOW = 3;
constexpr unsigned KMALLOC_SHIFT_HIGH = PAGE_SHIFT + 1;
constexpr usize KMALLOC_MAX_CACHE_SIZE = usize(1) << KMALLOC_SHIFT_HIGH;
constexpr unsigned KMALLOC_NR_CACHES = KMALLOC_SHIFT_HIGH + 1; /* indices 0..13, 0 unused */
/* The largest object a cache may have (kmem_cache_create refuses more): 2 MiB. */
constexpr usize CACHE_MAX_OBJECT_SIZE = KMALLOC_MAX_CACHE_SIZE * 256;
/* kmalloc(0) returns this: a non-NULL pointer that faults on use and kfree ignores. */
constexpr uptr ZERO_SIZE_PTR_VALUE = 16;
inline void *zero_size_ptr()
{
	return reinterpret_cast<void *>(ZERO_SIZE_PTR_VALUE);
}
inline bool zero_or_null_ptr(const void *p)
{
	return uptr(p) <= ZERO_SIZE_PTR_VALUE;
}

/* size_index[(size - 1) / 8] for sizes 1..192. */
constexpr u8 kmalloc_size_index[24] = {
	3, /* 8 */ 4,	/* 16 */ 5,  /* 24 */ 5,  /* 32 */ 6,  /* 40 */ 6,  /* 48 */
	6, /* 56 */ 6,	/* 64 */ 1,  /* 72 */ 1,  /* 80 */ 1,  /* 88 */ 1,  /* 96 */
	7, /* 104 */ 7, /* 112 */ 7, /* 120 */ 7, /* 128 */ 2, /* 136 */ 2, /* 144 */
	2, /* 152 */ 2, /* 160 */ 2, /* 168 */ 2, /* 176 */ 2, /* 184 */ 2, /* 192 */
};

/* Cache index for a request of 1..KMALLOC_MAX_CACHE_SIZE bytes. */
constexpr unsigned kmalloc_index(usize size)
{
	if (size <= 192)
		return kmalloc_size_index[(size - 1) / 8];
	return fls(size - 1);
}

/* Object size of the cache at an index. */
constexpr u32 kmalloc_index_size(unsigned index)
{
	return index == 1 ? 96 : index == 2 ? 192 : u32(1) << index;
}

/* The kernel's cache name for an index: kmalloc-96, kmalloc-1k, kmalloc-8k. */
inline const char *kmalloc_cache_name(unsigned index)
{
	static constexpr const char *names[KMALLOC_NR_CACHES] = {
		"kmalloc-0",  "kmalloc-96", "kmalloc-192", "kmalloc-8",	  "kmalloc-16",
		"kmalloc-32", "kmalloc-64", "kmalloc-128", "kmalloc-256", "kmalloc-512",
		"kmalloc-1k", "kmalloc-2k", "kmalloc-4k",  "kmalloc-8k",
	};
	return index < KMALLOC_NR_CACHES ? names[index] : "kmalloc-?";
}

/* The order of 2^order pages a kmalloc_large request takes. */
constexpr unsigned kmalloc_large_order(usize size)
{
	return get_order(size);
}

} // namespace kslub

#endif
