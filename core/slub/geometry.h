// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cache geometry as Linux computes it (calculate_sizes, calculate_order,
 * set_cpu_partial, set_min_partial, calculate_alignment), for any CPU count,
 * by the rules of one of four kernels (KernelRules):
 *
 *   rule                        6.1          6.12          6.18          7.3
 *   kmalloc-96/192 align        8            32 / 64       32 / 64       32 / 64
 *   calculate_order             6.1 loop     6.12 loop     6.12 loop     6.12 loop
 *   cpu_partial (objects)       by size      by size       by size       0: no CPU partial lists
 *   sysfs sheaf_capacity        no file      no file       0 (kmalloc)   by size (kmalloc too)
 *
 * The two calculate_order loops (6.12's and 7.3's mm/slub.c read the same;
 * mainline rewrote 6.1's between the two) differ only where at most two
 * objects fit an order-3 slab with more than a quarter of it left over
 * (strides 10928 .. 12280): 6.1 lowers min_objects and settles for
 * get_order(size) (order 2, one object), 6.12 keeps the order min_objects
 * asks for and accepts up to half of it as leftover (order 3, two objects).
 * Read on booted kernels: tests/data/caches-linux-6.1.txt and -6.12.txt,
 * strides 10928, 11000 and 12280.
 * 7.x replaced the CPU slab and its partial list by sheaves: under the 7.3
 * rules kslub's caches have sheaves over a slab layer with no CPU slab
 * (rules_cpu_slabs), and cpu_partial reads 0 as on 7.x. Sheaves:
 * cache_sheaf_capacity() gives a cache's capacity under each rule,
 * linux_sheaf_capacity() what the kernel's file reads for a cache that did
 * not ask for one.
 *
 * Worked example, kmalloc-1k on a 2-CPU machine:
 *   min_objects = 4 * (fls(2) + 1) = 12; at most 32 KiB / 1024 = 32 fit in an
 *   order-3 slab, so 12 stands. get_order(12 * 1024) = 2 (16 KiB): 16 objects,
 *   remainder 0 <= 16384 / 16, accepted: order 2, 16 objects per slab.
 *   cpu_partial = 24 (size >= 1024; 0 under the 7.3 rules),
 *   cpu_partial_slabs = ceil(48 / 16) = 3, min_partial = ilog2(1024) / 2 = 5.
 */
#ifndef KSLUB_SLUB_GEOMETRY_H
#define KSLUB_SLUB_GEOMETRY_H

#include "base/base.h"
#include "slub/size_classes.h"

namespace kslub {

/* Cache creation flags (the subset of slab_flags_t kslub honours; own values). */
enum SlabFlags : unsigned {
	SLAB_HWCACHE_ALIGN = 1u << 0,
	SLAB_TYPESAFE_BY_RCU = 1u << 1,	   /* free pointer kept outside the object */
	SLAB_POISON = 1u << 2,		   /* layout only: free pointer outside the object */
	SLAB_CONSISTENCY_CHECKS = 1u << 3, /* debug cache: every free checked under the list lock */
	SLAB_KMALLOC = 1u << 4,
	SLAB_NO_CPU_PARTIAL = 1u << 5,
	SLAB_NO_SHEAVES =
		1u << 6, /* never sheaves (the kmem_cache cache, as 7.x's bootstrap caches) */
	/*
	 * kslub's own: this cache runs one per-CPU design whatever the
	 * instance's (set_tid_only, set_sheaves_everywhere, the rules): the TID
	 * design (a CPU slab, no sheaves), or 7.x's (sheaves by 7.x's capacity
	 * rule, no CPU slab). At most one; caches of both designs live side by
	 * side in one instance (kslub.ko's compare times them so).
	 */
	SLAB_KSLUB_TID = 1u << 7,
	SLAB_KSLUB_SHEAVES = 1u << 8,
};

/* Which kernel's rules to follow where they differ (the table above). */
enum class KernelRules : u8 {
	Linux61,  /* 6.1 .. 6.11 */
	Linux612, /* 6.12 .. 6.17: kmalloc alignment by the lowest set bit, 6.12 calculate_order */
	Linux618, /* 6.18 and later 6.x: as 6.12; the kernel has a sheaf_capacity file */
	Linux73,  /* 7.0 and later: no CPU partial lists */
};

/* The series a rule set is named after: "6.1", "6.12", "6.18", "7.3". */
constexpr const char *kernel_rules_name(KernelRules r)
{
	return r == KernelRules::Linux61  ? "6.1" :
	       r == KernelRules::Linux612 ? "6.12" :
	       r == KernelRules::Linux618 ? "6.18" :
					    "7.3";
}

/*
 * The rules of a kernel version (major * 65536 + minor * 256, as
 * KERNEL_VERSION and KSLUB_LINUX_VERSION): < 6.12 -> 6.1, 6.12 .. 6.17 ->
 * 6.12, 6.18 .. 6.x -> 6.18, >= 7.0 -> 7.3.
 */
constexpr KernelRules kernel_rules_for_version(unsigned version)
{
	return version >= (7u << 16)		    ? KernelRules::Linux73 :
	       version >= ((6u << 16) | (18u << 8)) ? KernelRules::Linux618 :
	       version >= ((6u << 16) | (12u << 8)) ? KernelRules::Linux612 :
						      KernelRules::Linux61;
}

/* kmalloc-96/192 aligned to 32/64 (6.12 on) rather than 8. */
constexpr bool rules_kmalloc_align_lowest_bit(KernelRules r)
{
	return r != KernelRules::Linux61;
}
/* calculate_order() as 6.12 has it (the waste fraction goes to 1/2, min_objects stays). */
constexpr bool rules_order_612(KernelRules r)
{
	return r != KernelRules::Linux61;
}
/* CPU partial lists (CONFIG_SLUB_CPU_PARTIAL); 7.x has none and its sysfs cpu_partial reads 0. */
constexpr bool rules_cpu_partial_lists(KernelRules r)
{
	return r != KernelRules::Linux73;
}
/* /sys/kernel/slab/<cache>/sheaf_capacity exists (6.18 on). */
constexpr bool rules_sheaf_capacity_file(KernelRules r)
{
	return r == KernelRules::Linux618 || r == KernelRules::Linux73;
}

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
	if (!rules_kmalloc_align_lowest_bit(rules)) {
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

/* Linux 6.1's calculate_order(): fewer objects before more waste. -1: nothing fits. */
constexpr int calculate_order_61(u32 size, unsigned nr_cpus)
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
 * calculate_order() of 6.12 (and 6.18, 7.x): the order min_objects asks
 * for is the floor; the leftover allowed grows from 1/16 to 1/2 of the slab
 * before an order above the costly one is considered, and then only the
 * smallest that holds one object. -1: nothing fits.
 */
constexpr int calculate_order_612(u32 size, unsigned nr_cpus)
{
	u32 min_objects = 4 * (fls(nr_cpus) + 1);
	u32 max_objects = max(order_objects(SLUB_MAX_ORDER, size), u32(1));
	min_objects = min(min_objects, max_objects);
	unsigned min_order = max(SLUB_MIN_ORDER, get_order(u64(min_objects) * size));
	if (order_objects(min_order, size) > MAX_OBJS_PER_PAGE)
		return int(get_order(u64(size) * MAX_OBJS_PER_PAGE) - 1);
	for (u32 fraction = 16; fraction >= 2; fraction /= 2) {
		for (unsigned order = min_order; order <= SLUB_MAX_ORDER; order++) {
			u64 slab_size = PAGE_SIZE << order;
			if (slab_size % size <= slab_size / fraction)
				return int(order);
		}
	}
	unsigned order = get_order(size);
	return order < MAX_ORDER ? int(order) : -1;
}

/* calculate_order(): returns an order, or -1 when no slab can hold one object. */
constexpr int calculate_order(u32 size, unsigned nr_cpus, KernelRules rules)
{
	return rules_order_612(rules) ? calculate_order_612(size, nr_cpus) :
					calculate_order_61(size, nr_cpus);
}

/*
 * What /sys/kernel/slab/<cache>/sheaf_capacity reads on a Linux of these
 * rules for a cache of stride `size` made without a sheaf_capacity request.
 * 6.18 gives sheaves only to caches that ask (kmalloc caches: 0). 7.x gives
 * every cache but debug and boot caches a capacity by size (4 from a page,
 * 12 from 1 KiB, 26 from 256 bytes, else 60), grown until the sheaf (a
 * 32-byte header and a pointer per object) fills its kmalloc bucket: 4, 12,
 * 28, 60. 0 where the file does not exist (before 6.18).
 */
constexpr u32 linux_sheaf_capacity(u32 size, bool debug, KernelRules rules)
{
	if (rules != KernelRules::Linux73 || debug)
		return 0;
	constexpr u32 SHEAF_HEADER = 32; /* struct slab_sheaf without its objects */
	u32 capacity = size >= PAGE_SIZE ? 4 : size >= 1024 ? 12 : size >= 256 ? 26 : 60;
	u32 bytes = SHEAF_HEADER + capacity * u32(sizeof(void *));
	u32 bucket = kmalloc_index_size(kmalloc_index(bytes));
	return (bucket - SHEAF_HEADER) / u32(sizeof(void *));
}

/*
 * The sheaf capacity a cache gets (0: no sheaves, the TID design alone).
 * 6.1/6.12: never. 6.18: what the creator asks for (kmem_cache_args'
 * sheaf_capacity), and none for debug caches. 7.x: every cache but debug
 * caches and SLAB_NO_SHEAVES ones, at least the kernel's capacity by size
 * (linux_sheaf_capacity), more if asked.
 */
constexpr u32 cache_sheaf_capacity(u32 size, unsigned flags, u32 requested, KernelRules rules)
{
	if (flags & (SLAB_CONSISTENCY_CHECKS | SLAB_NO_SHEAVES))
		return 0;
	if (rules == KernelRules::Linux618)
		return requested;
	if (rules != KernelRules::Linux73)
		return 0;
	return max(linux_sheaf_capacity(size, false, rules), requested);
}

/* The CPU slab and its TID fast path below the sheaves (7.x has neither). */
constexpr bool rules_cpu_slabs(KernelRules r)
{
	return r != KernelRules::Linux73;
}

/* Sheaves may be asked for at cache creation (6.18 on). */
constexpr bool rules_sheaves(KernelRules r)
{
	return r == KernelRules::Linux618 || r == KernelRules::Linux73;
}

/* Largest sheaf a cache may be created with (an oversize prefill may be larger). */
constexpr u32 SHEAF_CAPACITY_MAX = 1024;

/*
 * The whole geometry of a cache under a kernel's rules. nr_cpus is the count
 * the kernel would see (num_present_cpus, or nr_cpu_ids when that is 1).
 * `align` is the caller's request; kmalloc caches pass kmalloc_cache_align().
 */
constexpr Geometry compute_geometry(u32 object_size, u32 align, unsigned flags, bool has_ctor,
				    unsigned nr_cpus, KernelRules rules)
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
	int order = calculate_order(size, nr_cpus ? nr_cpus : 1, rules);
	if (order < 0)
		return g;
	g.order = unsigned(order);
	g.objects = order_objects(g.order, size);
	g.min_order = get_order(size);
	g.min_objects = order_objects(g.min_order, size);
	if (!g.objects)
		return g;
	/* set_cpu_partial(): debug caches keep no CPU partial slabs; 7.x keeps none at all. */
	bool cpu_partial = rules_cpu_partial_lists(rules) &&
			   !(flags & (SLAB_CONSISTENCY_CHECKS | SLAB_NO_CPU_PARTIAL));
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
