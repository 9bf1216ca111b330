// SPDX-License-Identifier: GPL-2.0-only
/*
 * SLUB: caches, slabs, per-CPU and per-node structures.
 *
 * Lock order (numbered; a lock may be taken while holding a lower number):
 *   1. caches_lock: the list of caches and their names.
 *   2. kmem_cache_node.list_lock: the node partial list, nr_partial, the
 *      full list of debug caches, and the transition of an unfrozen slab on
 *      or off those lists.
 *   3. kmem_cache_cpu.lock (slot lock): c->slab, c->partial and the CPU
 *      partial chain; the slow path's changes of {freelist, tid}.
 *   4. the buddy allocator's zone locks.
 * Sheaves (slub/sheaf.h) add two: the CPU's sheaves lock (a local lock,
 * taken before anything else but caches_lock, and never held while taking
 * a list_lock or allocating), and a node's barn lock, a leaf taken under it.
 *
 * Nothing protects a slab's {freelist, counters}: they change only by a
 * 16-byte CAS. A frozen slab belongs to one CPU (as its CPU slab or on its
 * CPU partial list); other CPUs may only push freed objects onto its
 * freelist. An unfrozen slab with free objects is on its node's partial list.
 * An unfrozen full slab is on no list (debug caches: the node full list).
 * A cache with cpu_partial == 0 (debug caches, SLAB_NO_CPU_PARTIAL, and every
 * cache under the 7.3 rules, KernelRules) has no CPU partial list: a free
 * into a full slab puts it on the node partial list under list_lock, and
 * get_partial_node() takes one slab only.
 *
 * Interrupts, preemption and migration: the fast paths run with all three
 * enabled and are correct because the tid, read before freelist and slab,
 * changes with every change of the CPU freelist or slab, and carries the CPU
 * number in its low bits (init_tid(cpu) == cpu, steps of TID_STEP, a power of
 * two >= the CPU count): a CAS after a migration hits another CPU's tid and
 * fails. The slow paths run with preemption disabled and take the slot lock
 * (see the exclusion rule in base/platform.h).
 *
 * Invariants (checked by check(), at quiescent points):
 *   for every slab:   inuse + |slab freelist| == objects
 *   for every CPU:    every object on c->freelist belongs to c->slab
 *   per node:         nr_partial == |partial| == unfrozen slabs with a free object
 *                     nr_slabs == slabs of the node; frozen slabs == CPU slabs + CPU partial slabs
 *   live objects  ==  sum(inuse) - sum(|c->freelist|)
 */
#ifndef KSLUB_SLUB_CACHE_H
#define KSLUB_SLUB_CACHE_H

#include "base/base.h"
#include "buddy/buddy.h"
#include "slub/geometry.h"
#include "slub/size_classes.h"
#include "slub/stats.h"

namespace kslub {

constexpr unsigned CACHE_NAME_MAX = 32;

/*
 * A sheaf (struct slab_sheaf): an array of free objects of one cache, used
 * from the top. The object pointers follow the header in the same block
 * (objects()). Blocks come from the kmalloc caches' slab layer, never from
 * sheaves (GFP_NO_SHEAVES), and count in that cache's `internal`.
 */
template <class P> struct alignas(8) SlabSheaf {
	ListHead barn_list;
	typename P::RcuHead rcu;
	void *cache; /* KmemCache<P> */
	void *core;  /* the Slub<P> that made it, for the grace-period callback */
	u32 size;
	u32 capacity;
	int node;   /* where an rcu_free sheaf was filled */
	u32 nobarn; /* after its grace period, back to the slabs (a flushed rcu_free sheaf) */

	void **objects() { return reinterpret_cast<void **>(this + 1); }
};

/*
 * The per-CPU sheaves (struct slub_percpu_sheaves), all under lock (the
 * kernel's local lock, here the platform's slot lock, taken with a trylock
 * on the allocation and free paths). main exists from sheaves_init() on.
 */
template <class P> struct SheafCpu {
	typename P::SlotLock lock;
	SlabSheaf<P> *main;
	SlabSheaf<P> *spare;
	SlabSheaf<P> *rcu_free;
	u32 cpu;
};

template <class P> struct alignas(16) KmemCacheCpu {
	void *freelist; /* with tid: the double word of the fast path */
	u64 tid;
	Page *slab;    /* the CPU slab, frozen */
	Page *partial; /* chain of frozen partial slabs through Page::next */
	typename P::SlotLock lock;
	u32 cpu; /* whose slot this is */
	u64 stat[NR_SLUB_STAT_ITEMS];
};

template <class P> struct KmemCacheNode {
	typename P::Spinlock list_lock;
	u64 nr_partial;
	ListHead partial;
	ListHead full; /* debug caches only */
	u64 nr_slabs;
	u64 total_objects;
	/* The barn (struct node_barn): full and empty sheaves of this node. */
	typename P::Spinlock barn_lock;
	ListHead sheaves_full;
	ListHead sheaves_empty;
	u32 nr_full;
	u32 nr_empty;
};

/* The barn's limits (MAX_FULL_SHEAVES, MAX_EMPTY_SHEAVES). */
constexpr u32 BARN_MAX_FULL = 10;
constexpr u32 BARN_MAX_EMPTY = 10;

template <class P> struct KmemCache {
	KmemCacheCpu<P> *cpu_slab; /* per-CPU cookie; its stat[] serves both designs */
	SheafCpu<P> *cpu_sheaves;  /* per-CPU cookie; nullptr without sheaves */
	u32 sheaf_capacity;	   /* 0: no sheaves */
	bool cpu_slabs;	 /* the CPU slab and its TID fast path (not under the 7.3 rules) */
	u64 internal;	 /* sheaves carved from this (kmalloc) cache */
	u64 rcu_pending; /* objects in rcu_free sheaves waiting for a grace period */
	u64 prefilled;	 /* objects in prefilled sheaves their callers hold */
	unsigned flags;
	u32 min_partial;
	u32 size;	     /* stride of objects in a slab */
	u64 size_reciprocal; /* ceil(2^64 / size): object index by a multiply (obj_to_index) */
	u32 object_size;
	u32 offset; /* free pointer offset */
	u32 cpu_partial;
	u32 cpu_partial_slabs;
	u32 oo_order, oo_objects;   /* preferred slab (oo) */
	u32 min_order, min_objects; /* fallback slab (min) */
	u32 inuse;
	u32 align;
	u32 remote_node_defrag_ratio;
	u64 random;	 /* freelist hardening key */
	u32 *random_seq; /* shuffled object offsets, freelist randomisation */
	Page *random_seq_page;
	void (*ctor)(void *);
	u64 errors;  /* problems reported against this cache */
	void *owner; /* the embedding's handle of the instance, for callbacks */
	int refcount;
	ListHead list;
	char name[CACHE_NAME_MAX];
	KmemCacheNode<P> node[MAX_NODES];

	bool debug() const { return flags & SLAB_CONSISTENCY_CHECKS; }
	bool has_cpu_partial() const { return cpu_partial != 0; }
	bool has_sheaves() const { return sheaf_capacity != 0; }
};

/* Everything check() learns about a cache. */
struct CacheCensus {
	u64 slabs;
	u64 frozen_slabs;
	u64 partial_slabs; /* on node partial lists */
	u64 cpu_partial_slabs;
	u64 objects;	      /* capacity of all slabs */
	u64 live_objects;     /* handed out to users */
	u64 free_objects;     /* on slab and CPU freelists */
	u64 sheaf_objects;    /* in CPU sheaves, barns, rcu_free sheaves and prefilled sheaves */
	u64 sheaves;	      /* sheaves of this cache in CPUs and barns */
	u64 internal_objects; /* sheaves (of any cache) carved from this cache */
};

/* One CPU's sheaves (debugfs, kslub-info). */
struct SheafCpuInfo {
	bool has_main, has_spare, has_rcu_free;
	u32 main_size, spare_size, rcu_free_size;
};

/* One node's barn. */
struct BarnInfo {
	u32 nr_full, nr_empty;
	u64 objects; /* in its full sheaves */
};

/* Geometry and counters of one cache, as the sysfs files show them. */
struct CacheInfo {
	const char *name;
	Geometry geo;
	unsigned flags;
	u64 slabs, objects, objects_partial, partial, total_objects;
	u64 cpu_slabs, slabs_cpu_partial; /* CPU slabs, slabs on CPU partial lists */
	u64 errors;
};

/* One node's share of a cache: the per-node breakdown of the sysfs files ("N0=..."). */
struct NodeSlabInfo {
	u64 nr_slabs, total_objects;	 /* every slab of the node */
	u64 nr_partial;			 /* slabs on the node partial list */
	u64 partial_inuse, partial_free; /* objects in use / free on those slabs */
};

/* One CPU's slot: its CPU slab and CPU partial list (cpu_slabs, slabs_cpu_partial). */
struct CpuSlabInfo {
	bool online;
	bool has_slab;
	bool has_partial;
	u8 slab_node;	   /* node of the CPU slab */
	u8 partial_node;   /* node of the first slab of the CPU partial list */
	u32 partial_slabs; /* list length as its first slab records it (slab->slabs) */
};

template <class P> class Slub {
public:
	using Cache = KmemCache<P>;
	using Cpu = KmemCacheCpu<P>;
	using Node = KmemCacheNode<P>;
	using Sheaf = SlabSheaf<P>;
	using Pcs = SheafCpu<P>;

	Slub(P &pal, BuddyAllocator<P> &buddy) : pal_(pal), buddy_(buddy) {}
	Slub(const Slub &) = delete;
	Slub &operator=(const Slub &) = delete;

	/* The embedding's handle, stored in every cache (KmemCache::owner). Set before init(). */
	void set_owner(void *owner) { owner_ = owner; }
	/*
	 * The TID design alone, whatever the rules say: no sheaves, a CPU slab
	 * (and, where the rules have them, CPU partial lists). Before init().
	 */
	void set_tid_only(bool on) { tid_only_ = on; }
	/*
	 * Every cache but kmem_cache a debug cache (SLAB_CONSISTENCY_CHECKS, no
	 * CPU partial list, no sheaves), with the geometry of a normal one. Before init().
	 */
	void set_debug_caches(bool on) { debug_all_ = on; }
	bool tid_only() const { return tid_only_; }
	/*
	 * The sheaves design, whatever the rules say (the rules keep deciding the
	 * geometry): every cache gets sheaves by 7.x's capacity rule over a slab
	 * layer without CPU slabs or CPU partial lists. Before init().
	 */
	void set_sheaves_everywhere(bool on) { sheaves_all_ = on; }
	/* Caches may be created with sheaves (the 6.18 or 7.3 rules, or set_sheaves_everywhere). */
	bool sheaves_possible() const
	{
		return !tid_only_ && (sheaves_all_ || rules_sheaves(rules_));
	}

	/*
	 * Boot: the kmem_cache cache, then the kmalloc caches. 0 or -errno.
	 * rules: which kernel's geometry every cache gets (slub/geometry.h).
	 */
	int init(KernelRules rules);
	/* Tear down every cache; -KSLUB_EBUSY (and nothing freed) while objects are live. */
	int shutdown();

	/* Cache lifecycle. create returns nullptr and sets *err on failure. */
	Cache *cache_create(const char *name, u32 size, u32 align, unsigned flags,
			    void (*ctor)(void *), int *err)
	{
		return cache_create(name, size, align, flags, ctor, 0, err);
	}
	/* sheaf_capacity: kmem_cache_args' (0: the rules' default; refused before 6.18). */
	Cache *cache_create(const char *name, u32 size, u32 align, unsigned flags,
			    void (*ctor)(void *), u32 sheaf_capacity, int *err);
	int cache_destroy(Cache *s);
	Cache *find_cache(const char *name);
	template <class F> void for_each_cache(F &&fn);

	/* Objects. */
	void *cache_alloc(Cache *s, unsigned gfp)
	{
		return alloc_traced(s, gfp, NUMA_NO_NODE, uptr(__builtin_return_address(0)));
	}
	void *cache_alloc_node(Cache *s, unsigned gfp, int node)
	{
		return alloc_traced(s, gfp, node, uptr(__builtin_return_address(0)));
	}
	int cache_free(Cache *s, void *obj);
	int alloc_bulk(Cache *s, unsigned gfp, usize n, void **p);
	int free_bulk(Cache *s, usize n, void **p);
	int free_bulk_unchecked(Cache *s, usize n, void **p);
	int free_bulk_chains(Cache *s, usize n, void **p);

	void *kmalloc(usize size, unsigned gfp) { return kmalloc_node(size, gfp, NUMA_NO_NODE); }
	void *kmalloc_node(usize size, unsigned gfp, int node);
	int kfree(const void *p);
	usize ksize(const void *p);

	/*
	 * kfree_rcu(): the object is freed after a grace period (the platform's
	 * call_rcu). Caches with sheaves batch such objects in the CPU's
	 * rcu_free sheaf; otherwise (or when that fails) the caller waits for
	 * a grace period (synchronize_rcu) and frees. 0 or -errno as cache_free.
	 */
	int cache_free_rcu(Cache *s, void *obj);
	int kfree_rcu(const void *p);
	/* Wait until every grace-period callback queued so far has run (rcu_barrier). */
	void rcu_barrier() { pal_.rcu_barrier(); }

	/*
	 * Prefilled sheaves (kmem_cache_prefill_sheaf, kmem_cache_alloc_from_sheaf,
	 * kmem_cache_return_sheaf): a sheaf of at least `size` objects that the
	 * caller then allocates from without failing. nullptr when the cache
	 * has no sheaves, size is 0 or memory ran out.
	 */
	Sheaf *prefill_sheaf(Cache *s, unsigned gfp, u32 size);
	void *alloc_from_sheaf(Cache *s, unsigned gfp, Sheaf *sheaf);
	void return_sheaf(Cache *s, unsigned gfp, Sheaf *sheaf);
	static u32 sheaf_size(const Sheaf *sheaf) { return sheaf->size; }
	Cache *kmalloc_cache(unsigned index) const
	{
		return index < KMALLOC_NR_CACHES ? kmalloc_caches_[index] : nullptr;
	}
	Cache *kmalloc_slab(usize size) const
	{
		return size && size <= KMALLOC_MAX_CACHE_SIZE ?
			       kmalloc_caches_[kmalloc_index(size)] :
			       nullptr;
	}

	/* Maintenance. */
	long shrink(Cache *s);	 /* returns slabs given back to the page allocator */
	long validate(Cache *s); /* flushes, then returns the number of errors found */
	long check(Cache *s, CacheCensus *out); /* no flush, changes nothing; errors found */
	void flush_all(Cache *s);
	void cpu_dead(unsigned cpu); /* slub_cpu_dead: flush a CPU that went offline */

	/* Observation. */
	void info(Cache *s, CacheInfo *out);
	void node_info(Cache *s, unsigned nid, NodeSlabInfo *out);
	void cpu_info(Cache *s, unsigned cpu, CpuSlabInfo *out);
	void sheaf_cpu_info(Cache *s, unsigned cpu, SheafCpuInfo *out);
	void barn_info(Cache *s, unsigned nid, BarnInfo *out);
	unsigned nr_cpu_ids() const { return pal_.nr_cpu_ids(); }
	bool node_present(int nid) const { return buddy_.node_present(nid); }
	u64 stat_sum(Cache *s, unsigned item) const;
	u64 stat_cpu(Cache *s, unsigned item, unsigned cpu) const;
	u64 tid_step() const { return tid_step_; }
	Cpu *cpu_ptr(Cache *s, unsigned cpu) const { return pal_.per_cpu_ptr(s->cpu_slab, cpu); }
	Page *virt_to_slab(const void *p) const;
	Geometry geometry(const Cache *s) const;
	KernelRules rules() const { return rules_; }

private:
	/* Free pointers (slub/object.h). */
	void *freelist_ptr(const Cache *s, void *ptr, uptr slot) const;
	void *get_fp(const Cache *s, void *obj) const;
	void *get_fp_safe(const Cache *s, void *obj) const;
	void set_fp(const Cache *s, void *obj, void *fp) const;
	SlabCounters cnt_of(const Page *slab) const
	{
		return SlabCounters{pal_.load(&slab->counters)};
	}
	void *slab_address(const Page *slab) const { return buddy_.page_address(slab); }
	bool check_valid_pointer(const Cache *s, const Page *slab, const void *p) const;
	int object_check(Cache *s, Page *slab, const void *obj, bool from_kfree);
	int object_refused(Cache *s, Page *slab, const void *obj, bool from_kfree);
	/* A fast path's count, on the slot it committed to (the kernel's this_cpu_inc there). */
	void stat_slot(Cpu *c, unsigned item) const
	{
		if constexpr (CONFIG_KSLUB_STATS)
			pal_.stat_inc(&c->stat[item]);
	}
	void stat(const Cache *s, unsigned item) const
	{
		if constexpr (CONFIG_KSLUB_STATS)
			pal_.stat_inc(&pal_.raw_cpu_ptr(s->cpu_slab)->stat[item]);
	}
	void stat_add(const Cache *s, unsigned item, u64 n) const
	{
		if constexpr (CONFIG_KSLUB_STATS)
			pal_.stat_add(&pal_.raw_cpu_ptr(s->cpu_slab)->stat[item], n);
	}
	void report(Cache *s, ReportKind k, const void *p, const char *what, u64 v = 0);
	u64 next_tid(u64 tid) const { return tid + tid_step_; }
	Node *get_node(Cache *s, int node) const { return &s->node[node]; }
	int numa_mem_id() const
	{
		int n = pal_.cpu_to_node(pal_.raw_cpu());
		return buddy_.node_present(n) ? n : 0;
	}
	static bool node_match(const Page *slab, int node)
	{
		return node == NUMA_NO_NODE || slab->node == node;
	}
	bool cas_slab(Cache *s, Page *slab, void *old_fl, u64 old_cnt, void *new_fl, u64 new_cnt);

	/* The slot protocol (base/platform.h). */
	void *slot_take(Cpu *c);
	void slot_fill(Cpu *c, void *freelist);
	void *slot_empty(Cpu *c);

	/* Allocation (slub/alloc.h). */
	void *alloc_traced(Cache *s, unsigned gfp, int node, uptr call_site)
	{
		void *p = alloc_object(s, gfp, node);
		if (pal_.tracing())
			pal_.trace(TraceEvent{TraceKind::CacheAlloc, s->name, p, call_site,
					      s->object_size, s->size, gfp, node});
		return p;
	}
	void *slab_alloc(Cache *s, unsigned gfp, int node);
	void *do_kmalloc(usize size, unsigned gfp, int node);
	void *slab_alloc_slow(Cache *s, unsigned gfp, int node, Cpu *c);
	void *alloc_slow(Cache *s, unsigned gfp, int node);
	void *alloc_seq(Cache *s, unsigned gfp, int node);
	/* The platform runs the fast paths as restartable sequences (base/platform.h). */
	bool sequences() const
	{
		if constexpr (P::PERCPU_SEQUENCES)
			return pal_.sequences();
		else
			return false;
	}
	void *get_freelist(Cache *s, Page *slab);
	void *get_partial(Cache *s, unsigned gfp, int node, Page **ret);
	void *get_partial_node(Cache *s, Node *n, Page **ret);
	void *get_any_partial(Cache *s, Page **ret);
	void *acquire_slab(Cache *s, Node *n, Page *slab, bool whole);
	Page *new_slab(Cache *s, unsigned gfp, int node);
	void discard_slab(Cache *s, Page *slab);
	void *alloc_debug(Cache *s, unsigned gfp, int node);
	void post_alloc(Cache *s, void *obj, unsigned gfp);

	/* Freeing (slub/free.h). */
	int slab_free(Cache *s, Page *slab, void *obj);
	int do_slab_free(Cache *s, Page *slab, void *head, void *tail, u32 cnt);
	int slab_free_slow(Cache *s, Page *slab, void *head, void *tail, u32 cnt);
	int free_debug(Cache *s, Page *slab, void *obj);
	int free_seq(Cache *s, Page *slab, void *head, void *tail, u32 cnt);
	int report_chain_head(Cache *s, void *freelist);

	/* The slab layer without CPU slabs, as 7.x has it (slub/refill.h). */
	usize refill_objects(Cache *s, unsigned gfp, int node, void **p, usize max);
	usize take_partial(Cache *s, Node *n, void **p, usize max);
	usize take_new_slab(Cache *s, Page *slab, void **p, usize max);
	void *alloc_single(Cache *s, unsigned gfp, int node);
	usize layer_alloc_bulk(Cache *s, unsigned gfp, usize n, void **p);
	void layer_free_bulk(Cache *s, usize n, void **p);
	usize alloc_bulk_tid(Cache *s, unsigned gfp, usize size, void **p);

	/* Sheaves and barns (slub/sheaf.h). */
	void *alloc_from_pcs(Cache *s, unsigned gfp, int node);
	bool free_to_pcs(Cache *s, void *obj, int *err);
	Pcs *replace_empty_main(Cache *s, Pcs *pcs, unsigned gfp, unsigned long *flags);
	Pcs *replace_full_main(Cache *s, Pcs *pcs, unsigned long *flags);
	void install_empty(Cache *s, Pcs *pcs, Sheaf *empty, Node *barn);
	int refill_sheaf(Cache *s, Sheaf *sheaf, unsigned gfp);
	bool flush_main(Cache *s, bool try_only);
	u32 take_batch(Sheaf *sheaf, void **batch, u32 *size);
	void sheaf_flush_unused(Cache *s, Sheaf *sheaf);
	Sheaf *alloc_empty_sheaf(Cache *s, unsigned gfp, u32 capacity);
	void free_empty_sheaf(Cache *s, Sheaf *sheaf);
	Node *get_barn(Cache *s) { return get_node(s, numa_mem_id()); }
	Sheaf *barn_pop(ListHead *list, u32 *nr);
	void barn_push(ListHead *list, u32 *nr, Sheaf *sheaf);
	Sheaf *barn_get_empty(Node *b);
	Sheaf *barn_get_full_or_empty(Node *b);
	void barn_put_empty(Node *b, Sheaf *sheaf);
	void barn_put_full(Node *b, Sheaf *sheaf);
	Sheaf *barn_replace_empty(Node *b, Sheaf *empty);
	Sheaf *barn_replace_full(Node *b, Sheaf *full, int *why);
	void barn_shrink(Cache *s, Node *b);
	void pcs_flush_cpu(Cache *s, unsigned cpu, bool release);
	int sheaves_init(Cache *s, u32 capacity);
	u32 sheaf_capacity_for(const Cache *s, u32 requested) const
	{
		if (s->flags & SLAB_KSLUB_SHEAVES)
			return cache_sheaf_capacity(s->size, s->flags, requested,
						    KernelRules::Linux73);
		if (tid_only_ || (s->flags & SLAB_KSLUB_TID))
			return 0;
		return cache_sheaf_capacity(s->size, s->flags, requested,
					    sheaves_all_ ? KernelRules::Linux73 : rules_);
	}
	void sheaves_release(Cache *s);
	bool free_to_rcu_sheaf(Cache *s, void *obj);
	static void rcu_sheaf_done(typename P::RcuHead *head);
	long check_sheaves(Cache *s, CacheCensus *census);
	long check_sheaf(Cache *s, Sheaf *sheaf, u32 capacity, const char *where, u64 *objects);
	int free_nosheaves(Cache *s, Page *slab, void *obj);
	/*
	 * Every single-object allocation: the TID design's fast path inline, the
	 * rest (sheaves, the slab layer without CPU slabs) out of line.
	 */
	void *alloc_object(Cache *s, unsigned gfp, int node)
	{
		if (__builtin_expect(s->cpu_slabs && !s->has_sheaves(), 1))
			return slab_alloc(s, gfp, node);
		return alloc_sheaves_or_slab(s, gfp, node);
	}
	void *alloc_sheaves_or_slab(Cache *s, unsigned gfp, int node);
	int free_sheaves_or_slab(Cache *s, Page *slab, void *obj);

	/* Lists (slub/lists.h). */
	void add_partial(Node *n, Page *slab, bool tail);
	bool partial_list_ok(Cache *s, Node *n);
	void remove_partial(Node *n, Page *slab);
	void put_cpu_partial(Cache *s, Page *slab, bool drain);
	void unfreeze_partials(Cache *s, Page *partial);
	void deactivate_slab(Cache *s, Page *slab, void *freelist);
	void flush_cpu(Cache *s, unsigned cpu);

	/* Lifecycle (slub/lifecycle.h). */
	int cache_open(Cache *s, const char *name, u32 size, u32 align, unsigned flags,
		       void (*ctor)(void *));
	int init_random_seq(Cache *s);
	void shuffle_freelist(Cache *s, Page *slab, void **first);
	int cache_shutdown(Cache *s);

	/* Validation (slub/validate.h). */
	long validate_slab(Cache *s, Page *slab);
	long on_freelist_count(Cache *s, Page *slab, long *errors, bool repair);

	P &pal_;
	BuddyAllocator<P> &buddy_;
	KernelRules rules_ = KernelRules::Linux61;
	bool tid_only_ = false;	     /* set_tid_only(): no sheaves, CPU slabs under any rules */
	bool sheaves_all_ = false;   /* set_sheaves_everywhere() */
	bool sheaves_ready_ = false; /* the kmalloc caches exist: sheaves can be allocated */
	bool debug_all_ = false;     /* set_debug_caches() */
	void *owner_ = nullptr;
	u64 tid_step_ = 1;
	typename P::Spinlock caches_lock_;
	ListHead caches_;
	Cache boot_cache_; /* the cache of kmem_cache structures */
	Cache *kmalloc_caches_[KMALLOC_NR_CACHES] = {};
};

} // namespace kslub

#endif
