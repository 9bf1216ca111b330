/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * kslub user-space API: the SLUB allocator and its buddy page allocator,
 * one independent instance per kslub_create(), with the kernel's names.
 *
 * Errors are negative errno values. Misuse (a foreign pointer, a double
 * free, destroying a cache with live objects) is reported through the
 * instance's reporter (stderr by default) and refused; the allocator's state
 * is left as it was.
 */
#ifndef KSLUB_H
#define KSLUB_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kslub_instance kslub_t;
typedef struct kslub_cache kslub_cache_t;

/* kslub_create() flags */
#define KSLUB_DETERMINISTIC 0x1u /* single thread; the caller picks the CPU (kslub_set_cpu) */
#define KSLUB_KERNEL_6_12 0x2u	 /* Linux 6.12 rules: kmalloc-96/192 alignment, slab order */
#define KSLUB_DEBUG_CACHES 0x4u	 /* every cache a debug cache (SLAB_CONSISTENCY_CHECKS) */
#define KSLUB_KERNEL_6_18 0x8u	 /* Linux 6.18 rules (the geometry of 6.12) */
#define KSLUB_KERNEL_7_3 0x10u	 /* Linux 7.3 rules: sheaves for every cache, no CPU slab */
#define KSLUB_TID_ONLY 0x20u	 /* the TID design (CPU slab, no sheaves) under any rules */
#define KSLUB_SHEAVES 0x40u	 /* the sheaves design (7.x's) under any rules; not with TID_ONLY */
#define KSLUB_NO_RSEQ 0x80u	 /* locked per-CPU CAS, never restartable sequences */
/*
 * The kernel flags choose whose cache geometry an instance follows (the same
 * for kslub_kmalloc_geometry()); none: Linux 6.1. At most one of them.
 */
#define KSLUB_KERNEL_MASK (KSLUB_KERNEL_6_12 | KSLUB_KERNEL_6_18 | KSLUB_KERNEL_7_3)

/* kslub_cache_create() flags */
#define KSLUB_SLAB_HWCACHE_ALIGN 0x1u
#define KSLUB_SLAB_TYPESAFE_BY_RCU 0x2u
#define KSLUB_SLAB_POISON 0x4u
#define KSLUB_SLAB_CONSISTENCY_CHECKS 0x8u
/*
 * This cache's per-CPU design, whatever the instance's (at most one): the TID
 * design (CPU slab, no sheaves), or 7.x's (sheaves by 7.x's capacity rule, no
 * CPU slab). Caches of both designs can be timed side by side in one instance.
 */
#define KSLUB_SLAB_DESIGN_TID 0x10u
#define KSLUB_SLAB_DESIGN_SHEAVES 0x20u

/* gfp flags */
#define KSLUB_GFP_KERNEL 0x0u
#define KSLUB_GFP_ZERO 0x1u
#define KSLUB_GFP_THISNODE 0x2u

#define KSLUB_NUMA_NO_NODE (-1)
#define KSLUB_MAX_ORDER 11
#define KSLUB_NR_STATS 43
/* The first sheaf counter (alloc_cpu_sheaf); the 26 before it are the TID design's. */
#define KSLUB_NR_TID_STATS 26

/*
 * A new instance with a pool of pool_bytes (rounded up to 4 MiB blocks, split
 * evenly over nr_nodes nodes), nr_cpus CPUs (1..256; 0: the machine's
 * possible CPUs, KSLUB_CPUS_MACHINE) and nr_nodes nodes (1..4). NULL on
 * failure, with *err (if given) set.
 *
 * Threads and CPUs: with at least as many CPUs as the machine has, a thread
 * runs on its host CPU's slot; the TID fast paths then run as restartable
 * sequences (rseq) committing with plain stores (no atomic instruction), unless
 * KSLUB_NO_RSEQ is given, KSLUB_RSEQ=0 is in the environment or the process
 * has no rseq (valgrind); otherwise they commit with a locked CAS. With fewer
 * CPUs, each thread gets a slot of its own, round robin, shared only when
 * there are more threads than CPUs. kslub_commit_mode() says which.
 */
#define KSLUB_CPUS_MACHINE 0u
kslub_t *kslub_create(size_t pool_bytes, unsigned nr_cpus, unsigned nr_nodes, unsigned flags,
		      int *err);
/*
 * -EBUSY (instance kept, still usable) while objects are live, kmalloc_large
 * blocks included; 0 and the instance is gone.
 */
int kslub_destroy(kslub_t *k);

/* How the instance's threads find their CPU and commit: "rseq", "locked" or "deterministic". */
const char *kslub_commit_mode(const kslub_t *k);
/* The CPUs it declares (nr_cpus as given, or the machine's for KSLUB_CPUS_MACHINE). */
unsigned kslub_nr_cpus(const kslub_t *k);

/* Deterministic mode: the CPU the next calls run on. -EINVAL if offline or out of range. */
int kslub_set_cpu(kslub_t *k, unsigned cpu);
/* Take a CPU offline (its slabs are flushed, as slub_cpu_dead) or back online. */
int kslub_cpu_offline(kslub_t *k, unsigned cpu);
int kslub_cpu_online(kslub_t *k, unsigned cpu);

/* Reports of misuse and corruption: default stderr. */
struct kslub_report {
	const char *kind;  /* "double free", "invalid free", ... */
	const char *what;  /* one-line explanation */
	const char *cache; /* or NULL */
	const void *ptr;
	uint64_t value;
};
typedef void (*kslub_report_fn)(void *arg, const struct kslub_report *r);
void kslub_set_reporter(kslub_t *k, kslub_report_fn fn, void *arg);
uint64_t kslub_report_count(const kslub_t *k);

kslub_cache_t *kslub_cache_create(kslub_t *k, const char *name, size_t size, size_t align,
				  unsigned flags, void (*ctor)(void *), int *err);
/*
 * As kslub_cache_create, with kmem_cache_args' sheaf_capacity (1..1024; the
 * 6.18 and 7.3 rules only, -EINVAL otherwise): under 6.18 the cache gets
 * sheaves of that capacity in front of its CPU slab, under 7.3 at least that
 * capacity. 0: as kslub_cache_create (7.3: the kernel's capacity by size).
 */
kslub_cache_t *kslub_cache_create_sheaves(kslub_t *k, const char *name, size_t size, size_t align,
					  unsigned flags, void (*ctor)(void *),
					  unsigned sheaf_capacity, int *err);
/* The cache's sheaf capacity; 0: the TID design alone. */
unsigned kslub_cache_sheaf_capacity(const kslub_cache_t *s);
int kslub_cache_destroy(kslub_cache_t *s);
kslub_cache_t *kslub_cache_find(kslub_t *k, const char *name);
/* The kmalloc cache serving a request of size bytes, or NULL above 8 KiB. */
kslub_cache_t *kslub_kmalloc_cache(kslub_t *k, size_t size);
const char *kslub_cache_name(const kslub_cache_t *s);

void *kslub_cache_alloc(kslub_cache_t *s, unsigned gfp);
void *kslub_cache_alloc_node(kslub_cache_t *s, unsigned gfp, int node);
/*
 * 0, or -EFAULT (not in a slab of this instance) / -EINVAL (another cache's
 * object, not the start of an object, a double free it can see, a cache
 * descriptor: a kslub_cache_t is destroyed with kslub_cache_destroy, never
 * freed), reported, and nothing changed.
 */
int kslub_cache_free(kslub_cache_t *s, void *obj);
/* All n or none: returns n, or 0 with nothing allocated. */
int kslub_cache_alloc_bulk(kslub_cache_t *s, unsigned gfp, size_t n, void **p);
/*
 * All or nothing. Every non-NULL entry is checked before anything is freed:
 * in a slab (-EFAULT), of this cache, the start of an object, no cache
 * descriptor, then (-EINVAL, "double free") not named twice, not the head
 * of its slab's or a CPU's freelist (hardened freelist), not already free
 * (debug caches), no more objects of a slab than it has in use. On error
 * the first problem is reported, nothing is freed and p[] is left as it
 * was; on success 0 and every entry is cleared. Beyond 64 entries the
 * check sorts a copy in scratch pages of the pool (given back before
 * returning; O(n log n)); with no page free it reads the array in O(n^2).
 */
int kslub_cache_free_bulk(kslub_cache_t *s, size_t n, void **p);

/*
 * kfree_rcu: the object is freed after a grace period. With sheaves it goes
 * to the CPU's rcu_free sheaf; otherwise the call waits for a grace period
 * and frees. User space's grace periods are deterministic: they end at
 * kslub_rcu_barrier(), at a synchronous wait, and when 64 callbacks queue.
 * Errors as kslub_cache_free.
 */
int kslub_cache_free_rcu(kslub_cache_t *s, void *obj);
int kslub_kfree_rcu(kslub_t *k, const void *p);
/* Run every grace-period callback queued so far. */
void kslub_rcu_barrier(kslub_t *k);

/*
 * Prefilled sheaves (kmem_cache_prefill_sheaf and friends): a sheaf holding at
 * least `size` objects, to allocate from later without failing. NULL: the
 * cache has no sheaves, size is 0 or memory ran out.
 */
typedef struct kslub_sheaf kslub_sheaf_t;
kslub_sheaf_t *kslub_prefill_sheaf(kslub_cache_t *s, unsigned gfp, unsigned size);
/* An object of the sheaf; NULL when it is empty. */
void *kslub_alloc_from_sheaf(kslub_cache_t *s, unsigned gfp, kslub_sheaf_t *sheaf);
unsigned kslub_sheaf_size(const kslub_sheaf_t *sheaf);
void kslub_return_sheaf(kslub_cache_t *s, unsigned gfp, kslub_sheaf_t *sheaf);

/* One CPU's sheaves and one node's barn (all zero without sheaves). */
struct kslub_sheaf_cpu {
	int has_main, has_spare, has_rcu_free;
	unsigned main_size, spare_size, rcu_free_size;
};
int kslub_cache_sheaf_cpu(kslub_cache_t *s, unsigned cpu, struct kslub_sheaf_cpu *out);
struct kslub_barn {
	unsigned nr_full, nr_empty;
	uint64_t objects;
};
int kslub_cache_barn(kslub_cache_t *s, unsigned node, struct kslub_barn *out);

void *kslub_kmalloc(kslub_t *k, size_t size, unsigned gfp);
void *kslub_kmalloc_node(kslub_t *k, size_t size, unsigned gfp, int node);
/* As kslub_cache_free, for any slab object or kmalloc_large block. */
int kslub_kfree(kslub_t *k, const void *p);
size_t kslub_ksize(kslub_t *k, const void *p);

/* Slabs given back to the page allocator (>= 0). */
long kslub_cache_shrink(kslub_cache_t *s);
/*
 * Flushes the CPUs, then returns the number of errors found (and repaired):
 * those the flush finds on the CPU freelists and those of the slab walk.
 * Exact on a cache nobody uses meanwhile.
 */
long kslub_cache_validate(kslub_cache_t *s);
/* No flush, no change: errors found; the census if census != NULL. */
struct kslub_census {
	uint64_t slabs, frozen_slabs, partial_slabs, cpu_partial_slabs;
	uint64_t objects, live_objects, free_objects;
	uint64_t sheaf_objects;	   /* in CPU sheaves, barns, rcu_free and prefilled sheaves */
	uint64_t sheaves;	   /* sheaves in CPUs and barns */
	uint64_t internal_objects; /* sheaves (of any cache) carved from this cache */
};
long kslub_cache_check(kslub_cache_t *s, struct kslub_census *census);
/* Page allocator walk: errors found. */
long kslub_buddy_check(kslub_t *k);

struct kslub_geometry {
	uint32_t object_size, slab_size, align, inuse, offset;
	uint32_t order, objs_per_slab, min_order, min_objects;
	uint32_t cpu_partial, cpu_partial_slabs, min_partial;
	/* kslub_cache_geometry: the cache's; kslub_kmalloc_geometry: what the kernel's file reads */
	uint32_t sheaf_capacity;
};
int kslub_cache_geometry(const kslub_cache_t *s, struct kslub_geometry *g);
/*
 * The geometry Linux gives a kmalloc cache of size bytes on nr_cpus CPUs (no
 * instance needed), by the rules of the kernel flag in flags (none: 6.1;
 * -EINVAL for more than one).
 */
int kslub_kmalloc_geometry(size_t size, unsigned nr_cpus, unsigned flags, struct kslub_geometry *g);

const char *kslub_stat_name(unsigned item);
/* The item of the counter named `name` (kslub_stat_name's inverse), or -1. */
int kslub_stat_index(const char *name);
/* Counter `item` of one CPU, or summed over all CPUs with cpu == -1. */
uint64_t kslub_cache_stat(const kslub_cache_t *s, unsigned item, int cpu);

struct kslub_cache_usage {
	uint64_t slabs, total_objects, partial_slabs, objects_partial, cpu_slabs, slabs_cpu_partial,
		errors;
};
int kslub_cache_usage(kslub_cache_t *s, struct kslub_cache_usage *u);

/* Free blocks per order on a node; pages in the pool, free, reserved for descriptors. */
uint64_t kslub_buddy_nr_free(const kslub_t *k, int node, unsigned order);
struct kslub_pool {
	uint64_t pool_pages, free_pages, reserved_pages;
	unsigned nr_nodes;
};
void kslub_pool_info(const kslub_t *k, struct kslub_pool *p);
/*
 * The next n page allocations fail (failure injection). A bulk free of more
 * than 64 entries takes scratch pages too (falling back to smaller blocks,
 * then to no scratch at all), so it uses up injected failures.
 */
void kslub_fail_next(kslub_t *k, unsigned n);
/* Visit every cache. */
void kslub_for_each_cache(kslub_t *k, void (*fn)(kslub_cache_t *s, void *arg), void *arg);

#ifdef __cplusplus
}
#endif

#endif
