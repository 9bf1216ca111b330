// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cache geometry as Linux 6.1 computes it (calculate_sizes, calculate_order,
 * set_cpu_partial, set_min_partial, calculate_alignment), for any CPU count.
 *
 * Worked example, kmalloc-1k on a 2-CPU machine:
 *   min_objects = 4 * (fls(2) + 1) = 12; at most 32 KiB / 1024 = 32 fit in an
 *   order-3 slab, so 12 stands. get_order(12 * 1024) = 2 (16 KiB): 16 objects,
 *   remainder 0 <= 16384 / 16, accepted: order 2, 16 objects per slab.
 *   cpu_partial = 24 (size >= 1024), cpu_partial_slabs = ceil(48 / 16) = 3,
 *   min_partial = ilog2(1024) / 2 = 5.
 */
#ifndef KSLUB_SLUB_GEOMETRY_H
#define KSLUB_SLUB_GEOMETRY_H

#include "base/base.h"

namespace kslub {

/* Cache creation flags (the subset of slab_flags_t kslub honours; own values). */
enum SlabFlags : unsigned {
	SLAB_HWCACHE_ALIGN = 1u << 0,
	SLAB_TYPESAFE_BY_RCU = 1u << 1,	   /* free pointer kept outside the object */
	SLAB_POISON = 1u << 2,		   /* layout only: free pointer outside the object */
	SLAB_CONSISTENCY_CHECKS = 1u << 3, /* debug cache: every free checked under the list lock */
	SLAB_KMALLOC = 1u << 4,
	SLAB_NO_CPU_PARTIAL = 1u << 5,
};

/* Which kernel's rules to follow where they differ. */
enum class KernelRules : u8 {
	Linux61,  /* kmalloc caches: natural alignment only for powers of two */
	Linux612, /* kmalloc caches: aligned to the largest power of two dividing the size */
};

constexpr unsigned SLUB_MAX_ORDER = 3; /* PAGE_ALLOC_COSTLY_ORDER */
constexpr unsigned SLUB_MIN_ORDER = 0;
constexpr unsigned MAX_OBJS_PER_PAGE = 32767;
constexpr unsigned MIN_PARTIAL = 5;
constexpr unsigned MAX_PARTIAL = 10;
constexpr unsigned CACHE_LINE_SIZE = 64;
constexpr unsigned ARCH_KMALLOC_MINALIGN = 8;
constexpr unsigned ARCH_SLAB_MINALIGN = 8;

struct Geometry {
	u32 object_size; /* what the user asked for */
	u32 size;	 /* object plus metadata, aligned: the stride */
	u32 align;
	u32 inuse;  /* offset of the metadata after the object */
	u32 offset; /* free pointer offset inside the stride */
	u32 order;
	u32 objects;	 /* per slab (oo) */
	u32 min_objects; /* objects of the minimum order slab (s->min) */
	u32 min_order;
	u32 cpu_partial; /* objects kept on a CPU partial list */
	u32 cpu_partial_slabs;
	u32 min_partial;
	bool ok;
};

constexpr u32 order_objects(unsigned order, u32 size)
{
	return u32((PAGE_SIZE << order) / size);
}

/* calculate_alignment(): hardware cache alignment halves while the object fits twice. */
constexpr u32 calculate_alignment(unsigned flags, u32 align, u32 size)
{
	if (flags & SLAB_HWCACHE_ALIGN) {
		u32 ralign = CACHE_LINE_SIZE;
		while (size <= ralign / 2)
			ralign /= 2;
		align = max(align, ralign);
	}
	align = max(align, ARCH_SLAB_MINALIGN);
	return u32(align_up(align, sizeof(void *)));
}

/* The alignment a kmalloc cache of this size asks for, per kernel. */
constexpr u32 kmalloc_cache_align(u32 size, KernelRules rules)
{
	u32 align = ARCH_KMALLOC_MINALIGN;
	if (rules == KernelRules::Linux61) {
		if (is_power_of_2(size))
			align = max(align, size);
	} else {
		align = max(align, size & (~size + 1)); /* largest power of two dividing size */
	}
	return align;
}

/* calc_slab_order(): first order from the one holding min_objects whose waste is small enough. */
constexpr unsigned calc_slab_order(u32 size, u32 min_objects, unsigned max_order,
				   u32 fract_leftover)
{
	if (order_objects(SLUB_MIN_ORDER, size) > MAX_OBJS_PER_PAGE)
		return get_order(u64(size) * MAX_OBJS_PER_PAGE) - 1;
	unsigned order = max(SLUB_MIN_ORDER, get_order(u64(min_objects) * size));
	for (; order <= max_order; order++) {
		u64 slab_size = PAGE_SIZE << order;
		if (slab_size % size <= slab_size / fract_leftover)
			break;
	}
	return order;
}

/* calculate_order(): returns an order, or -1 when no slab can hold one object. */
constexpr int calculate_order(u32 size, unsigned nr_cpus)
{
	u32 min_objects = 4 * (fls(nr_cpus) + 1);
	u32 max_objects = order_objects(SLUB_MAX_ORDER, size);
	min_objects = min(min_objects, max_objects);
	while (min_objects > 1) {
		for (u32 fraction = 16; fraction >= 4; fraction /= 2) {
			unsigned order =
				calc_slab_order(size, min_objects, SLUB_MAX_ORDER, fraction);
			if (order <= SLUB_MAX_ORDER)
				return int(order);
		}
		min_objects--;
	}
	/* Not even two objects fit with little waste: one object at the costly order, then above. */
	unsigned order = calc_slab_order(size, 1, SLUB_MAX_ORDER, 1);
	if (order <= SLUB_MAX_ORDER)
		return int(order);
	order = calc_slab_order(size, 1, MAX_ORDER, 1);
	if (order < MAX_ORDER)
		return int(order);
	return -1;
}

/*
 * The whole geometry of a cache. nr_cpus is the count the kernel would see
 * (num_present_cpus, or nr_cpu_ids when that is 1). `align` is the caller's
 * request; kmalloc caches pass kmalloc_cache_align().
 */
constexpr Geometry compute_geometry(u32 object_size, u32 align, unsigned flags, bool has_ctor,
				    unsigned nr_cpus)
{
	Geometry g{};
	if (object_size == 0 || object_size > (PAGE_SIZE << TOP_ORDER))
		return g;
	if (align && !is_power_of_2(align))
		return g;
	g.object_size = object_size;
	g.align = calculate_alignment(flags, align, object_size);
	u32 size = u32(align_up(object_size, sizeof(void *)));
	g.inuse = size;
	if ((flags & (SLAB_TYPESAFE_BY_RCU | SLAB_POISON)) || has_ctor) {
		g.offset = size;
		size += sizeof(void *);
	} else {
		g.offset = u32(align_down(object_size / 2, sizeof(void *)));
	}
	size = u32(align_up(size, g.align));
	g.size = size;
	int order = calculate_order(size, nr_cpus ? nr_cpus : 1);
	if (order < 0)
		return g;
	g.order = unsigned(order);
	g.objects = order_objects(g.order, size);
	g.min_order = get_order(size);
	g.min_objects = order_objects(g.min_order, size);
	if (!g.objects)
		return g;
	/* set_cpu_partial(): debug caches keep no CPU partial slabs. */
	bool cpu_partial = !(flags & (SLAB_CONSISTENCY_CHECKS | SLAB_NO_CPU_PARTIAL));
	if (!cpu_partial)
		g.cpu_partial = 0;
	else if (size >= PAGE_SIZE)
		g.cpu_partial = 6;
	else if (size >= 1024)
		g.cpu_partial = 24;
	else if (size >= 256)
		g.cpu_partial = 52;
	else
		g.cpu_partial = 120;
	g.cpu_partial_slabs = u32((u64(g.cpu_partial) * 2 + g.objects - 1) / g.objects);
	/* set_min_partial(): clamp(ilog2(size) / 2, MIN_PARTIAL, MAX_PARTIAL). */
	g.min_partial = min(MAX_PARTIAL, max(MIN_PARTIAL, ilog2(size) / 2));
	g.ok = true;
	return g;
}

} // namespace kslub

#endif
