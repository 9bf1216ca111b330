// SPDX-License-Identifier: GPL-2.0-only
/*
 * Freestanding basics for the kslub core: fixed-width types, bit helpers,
 * placement new with a private tag, and the assertion tiers.
 *
 * The core includes no platform, libc or standard-library header; everything
 * it needs from the outside goes through the platform contract (platform.h).
 */
#ifndef KSLUB_BASE_TYPES_H
#define KSLUB_BASE_TYPES_H

#include "base/config.h"

namespace kslub {

using u8 = unsigned char;
using u16 = unsigned short;
using u32 = unsigned int;
using u64 = unsigned long long;
using s64 = long long;
using uptr = __UINTPTR_TYPE__;
using usize = __SIZE_TYPE__;

static_assert(sizeof(u64) == 8 && sizeof(uptr) == 8, "kslub supports 64-bit targets only");

constexpr unsigned PAGE_SHIFT = 12;
constexpr usize PAGE_SIZE = usize(1) << PAGE_SHIFT;
/* Orders 0..MAX_ORDER-1: 4 KiB pages up to 4 MiB top blocks (6.1's MAX_ORDER 11). */
constexpr unsigned MAX_ORDER = 11;
constexpr unsigned TOP_ORDER = MAX_ORDER - 1;
constexpr usize TOP_BLOCK_SIZE = PAGE_SIZE << TOP_ORDER;
constexpr int NUMA_NO_NODE = -1;

/* Error codes returned as negative numbers, with Linux's values. */
enum Errno : int {
	KSLUB_ENOENT = 2,
	KSLUB_E2BIG = 7,
	KSLUB_ENOMEM = 12,
	KSLUB_EFAULT = 14,
	KSLUB_EBUSY = 16,
	KSLUB_EEXIST = 17,
	KSLUB_EINVAL = 22,
	KSLUB_ENOSPC = 28,
};

/* Allocation flags the core honours (a subset of gfp_t, with its own values). */
enum Gfp : unsigned {
	GFP_KERNEL = 0,
	GFP_ZERO = 1u << 0,	   /* __GFP_ZERO: clear the object */
	GFP_THISNODE = 1u << 1,	   /* __GFP_THISNODE: never fall back to another node */
	GFP_NOFAIL_WARN = 1u << 2, /* report an out-of-memory failure (slab_out_of_memory) */
	GFP_NO_SHEAVES = 1u << 3,  /* the core's own: from the slab layer, past the sheaves */
};
constexpr unsigned MAX_NODES = 4;

/* fls(): position of the most significant set bit, 1-based; fls(0) == 0. */
constexpr unsigned fls(u64 x)
{
	return x ? 64 - unsigned(__builtin_clzll(x)) : 0;
}
/* ilog2() of a non-zero value: floor(log2(x)). */
constexpr unsigned ilog2(u64 x)
{
	return fls(x) - 1;
}
constexpr bool is_power_of_2(u64 x)
{
	return x && !(x & (x - 1));
}
constexpr u64 roundup_pow_of_two(u64 x)
{
	return x <= 1 ? 1 : u64(1) << fls(x - 1);
}
constexpr u64 align_up(u64 x, u64 a)
{
	return (x + a - 1) & ~(a - 1);
}
constexpr u64 align_down(u64 x, u64 a)
{
	return x & ~(a - 1);
}
template <class T> constexpr T min(T a, T b)
{
	return a < b ? a : b;
}
template <class T> constexpr T max(T a, T b)
{
	return a > b ? a : b;
}
/* get_order(): the smallest order whose block holds `size` bytes (size > 0). */
constexpr unsigned get_order(u64 size)
{
	return size <= PAGE_SIZE ? 0 : fls((size - 1) >> PAGE_SHIFT);
}

/* Byte swap, for the hardened free pointer (the kernel's swab64). */
constexpr u64 swab64(u64 x)
{
	return __builtin_bswap64(x);
}

template <class T> inline T *ptr_add(void *p, usize off)
{
	return reinterpret_cast<T *>(static_cast<u8 *>(p) + off);
}

/* Local memory helpers: the compiler may still emit memset/memcpy, which the contract lists. */
inline void mem_zero(void *p, usize n)
{
	u8 *b = static_cast<u8 *>(p);
	for (usize i = 0; i < n; i++)
		b[i] = 0;
}
inline usize str_len(const char *s)
{
	usize n = 0;
	while (s[n])
		n++;
	return n;
}
inline bool str_eq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}
inline void str_copy(char *dst, const char *src, usize cap)
{
	usize i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

/* Placement construction without <new>: the tag keeps it apart from any global operator new. */
struct PlacementTag {};

} // namespace kslub

inline void *operator new(kslub::usize, void *where, kslub::PlacementTag) noexcept
{
	return where;
}
inline void operator delete(void *, void *, kslub::PlacementTag) noexcept {}

/*
 * Assertion tiers (Kconfig KSLUB_DEBUG): 1 cheap invariants, 2 internal
 * steps of the slow paths (lock held, slab frozen), 3 walkers after every
 * step that changes a list: the node partial list and the buddy free list
 * touched are walked and counted. A failed assertion goes to the platform's
 * assert_fail(): it is a bug in kslub, never a user error. User space, the
 * simulation and the fuzz targets abort the process (fatal, like BUG_ON());
 * the module WARNs once and carries on, since a BUG_ON() in a module takes
 * the whole machine down (the VM tests fail on any WARNING in the log).
 */
#define KSLUB_ASSERT_AT(level, pal, cond)                                     \
	do {                                                                  \
		if constexpr (CONFIG_KSLUB_DEBUG >= (level)) {                \
			if (__builtin_expect(!(cond), 0))                     \
				(pal).assert_fail(#cond, __FILE__, __LINE__); \
		}                                                             \
	} while (0)
#define KSLUB_ASSERT(pal, cond) KSLUB_ASSERT_AT(1, pal, cond)
#define KSLUB_ASSERT_INTERNAL(pal, cond) KSLUB_ASSERT_AT(2, pal, cond)
#define KSLUB_ASSERT_EXPENSIVE(pal, cond) KSLUB_ASSERT_AT(3, pal, cond)

#endif
