// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cache lifecycle: boot, create, destroy, shrink. Lock order: slub/cache.h.
 */
#ifndef KSLUB_SLUB_LIFECYCLE_H
#define KSLUB_SLUB_LIFECYCLE_H

#include "slub/object.h"

namespace kslub {

template <class P>
int Slub<P>::cache_open(Cache *s, const char *name, u32 size, u32 align, unsigned flags,
			void (*ctor)(void *))
{
	/* Under the rules init() was given (rules_ is set before the first cache opens). */
	Geometry g = compute_geometry(size, align, flags, ctor != nullptr, pal_.nr_present_cpus(),
				      rules_);
	if (!g.ok)
		return -KSLUB_EINVAL;
	str_copy(s->name, name, CACHE_NAME_MAX);
	s->flags = flags;
	s->object_size = g.object_size;
	s->size = g.size;
	s->size_reciprocal = ~u64(0) / g.size + 1;
	s->align = g.align;
	s->inuse = g.inuse;
	s->offset = g.offset;
	s->oo_order = g.order;
	s->oo_objects = g.objects;
	s->min_order = g.min_order;
	s->min_objects = g.min_objects;
	s->cpu_partial = g.cpu_partial;
	s->cpu_partial_slabs = g.cpu_partial_slabs;
	s->min_partial = g.min_partial;
	s->remote_node_defrag_ratio = 1000;
	s->ctor = ctor;
	s->random = pal_.random();
	s->random_seq = nullptr;
	s->random_seq_page = nullptr;
	s->errors = 0;
	s->owner = owner_;
	s->refcount = 1;
	/* set_debug_caches(): the geometry as computed, every free checked, no CPU partial list. */
	if (debug_all_ && s != &boot_cache_)
		s->flags |= SLAB_CONSISTENCY_CHECKS;
	for (unsigned i = 0; i < MAX_NODES; i++) {
		Node *n = &s->node[i];
		pal_.spin_lock_init(n->list_lock, LockClass::NodeList);
		n->nr_partial = 0;
		n->partial.init();
		n->full.init();
		n->nr_slabs = 0;
		n->total_objects = 0;
		pal_.spin_lock_init(n->barn_lock, LockClass::Barn);
		n->sheaves_full.init();
		n->sheaves_empty.init();
		n->nr_full = n->nr_empty = 0;
	}
	/* Sheaves come later (sheaves_init), once the kmalloc caches their memory comes from exist. */
	s->cpu_sheaves = nullptr;
	s->sheaf_capacity = 0;
	s->cpu_slabs = (flags & SLAB_KSLUB_TID)	    ? true :
		       (flags & SLAB_KSLUB_SHEAVES) ? false :
						      (rules_cpu_slabs(rules_) && !sheaves_all_) ||
							      tid_only_;
	if (!s->cpu_slabs || (debug_all_ && s != &boot_cache_)) {
		/* No CPU slab, so no CPU partial list (7.x's cpu_partial reads 0); none for debug caches. */
		s->cpu_partial = 0;
		s->cpu_partial_slabs = 0;
	}
	s->internal = s->rcu_pending = s->prefilled = 0;
	s->cpu_slab = pal_.template percpu_alloc<Cpu>();
	if (!s->cpu_slab)
		return -KSLUB_ENOMEM;
	for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++) {
		Cpu *c = pal_.per_cpu_ptr(s->cpu_slab, cpu);
		c->freelist = nullptr;
		c->tid = cpu; /* init_tid(): the CPU lives in the low bits */
		c->cpu = cpu;
		c->slab = nullptr;
		c->partial = nullptr;
		pal_.slot_lock_init(c->lock);
		for (unsigned i = 0; i < NR_SLUB_STAT_ITEMS; i++)
			c->stat[i] = 0;
	}
	if constexpr (CONFIG_KSLUB_FREELIST_RANDOM) {
		int err = init_random_seq(s);
		if (err) {
			pal_.percpu_free(s->cpu_slab);
			return err;
		}
	}
	return 0;
}

/* init_cache_random_seq(): a Fisher-Yates shuffle of the object offsets of a full slab. */
template <class P> int Slub<P>::init_random_seq(Cache *s)
{
	u32 count = s->oo_objects;
	if (count < 2)
		return 0;
	unsigned order = get_order(u64(count) * sizeof(u32));
	Page *page = buddy_.alloc_pages(order, NUMA_NO_NODE, 0);
	if (!page)
		return -KSLUB_ENOMEM;
	u32 *seq = static_cast<u32 *>(buddy_.page_address(page));
	for (u32 i = 0; i < count; i++)
		seq[i] = i;
	for (u32 i = count - 1; i > 0; i--) {
		u32 j = u32(pal_.random() % (i + 1));
		u32 t = seq[i];
		seq[i] = seq[j];
		seq[j] = t;
	}
	for (u32 i = 0; i < count; i++)
		seq[i] *= s->size;
	s->random_seq = seq;
	s->random_seq_page = page;
	return 0;
}

/* shuffle_freelist(): chain the objects in the cache's shuffled order from a random start. */
template <class P> void Slub<P>::shuffle_freelist(Cache *s, Page *slab, void **first)
{
	u32 count = s->oo_objects;
	u8 *base = static_cast<u8 *>(slab_address(slab));
	u32 pos = u32(pal_.random() % count);
	void *head = base + s->random_seq[pos];
	void *cur = head;
	for (u32 i = 1; i < count; i++) {
		pos = (pos + 1) % count;
		void *next = base + s->random_seq[pos];
		set_fp(s, cur, next);
		cur = next;
	}
	set_fp(s, cur, nullptr);
	*first = head;
}

template <class P> int Slub<P>::init(KernelRules rules)
{
	rules_ = rules;
	tid_step_ = roundup_pow_of_two(pal_.nr_cpu_ids());
	pal_.spin_lock_init(caches_lock_, LockClass::CacheList);
	caches_.init();
	int err = cache_open(&boot_cache_, "kmem_cache", sizeof(Cache), alignof(Cache),
			     SLAB_NO_SHEAVES, nullptr);
	if (err)
		return err;
	caches_.add_tail(&boot_cache_.list);
	/* kmalloc-8 .. kmalloc-8k first, then 96 and 192, as create_kmalloc_caches does. */
	static constexpr unsigned order[KMALLOC_NR_CACHES - 1] = {3, 4, 5,  6,	1,  7, 2,
								  8, 9, 10, 11, 12, 13};
	for (unsigned idx : order) {
		u32 size = kmalloc_index_size(idx);
		kmalloc_caches_[idx] = cache_create(kmalloc_cache_name(idx), size,
						    kmalloc_cache_align(size, rules), SLAB_KMALLOC,
						    nullptr, &err);
		if (!kmalloc_caches_[idx])
			return err;
	}
	/* Now sheaf memory can be had: the kmalloc caches get their sheaves. */
	sheaves_ready_ = true;
	for (unsigned idx : order) {
		Cache *s = kmalloc_caches_[idx];
		err = sheaves_init(s, sheaf_capacity_for(s, 0));
		if (err)
			return err;
	}
	return 0;
}

template <class P> typename Slub<P>::Cache *Slub<P>::find_cache(const char *name)
{
	unsigned long flags = pal_.spin_lock_irqsave(caches_lock_);
	Cache *found = nullptr;
	for (ListHead *e = caches_.next; e != &caches_; e = e->next) {
		Cache *s = KSLUB_CONTAINER_OF(e, Cache, list);
		if (str_eq(s->name, name)) {
			found = s;
			break;
		}
	}
	pal_.spin_unlock_irqrestore(caches_lock_, flags);
	return found;
}

template <class P> template <class F> void Slub<P>::for_each_cache(F &&fn)
{
	for (ListHead *e = caches_.next; e != &caches_;) {
		ListHead *next = e->next;
		fn(KSLUB_CONTAINER_OF(e, Cache, list));
		e = next;
	}
}

template <class P>
typename Slub<P>::Cache *Slub<P>::cache_create(const char *name, u32 size, u32 align,
					       unsigned flags, void (*ctor)(void *),
					       u32 sheaf_capacity, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	usize len = name ? str_len(name) : 0;
	if (!len || len >= CACHE_NAME_MAX) {
		report(nullptr, ReportKind::BadArgument, nullptr, "cache name empty or too long",
		       len);
		*err = -KSLUB_EINVAL;
		return nullptr;
	}
	for (usize i = 0; i < len; i++) {
		if (name[i] <= ' ' || name[i] > '~' || name[i] == '/') {
			report(nullptr, ReportKind::BadArgument, nullptr,
			       "cache name has a space, slash or control byte");
			*err = -KSLUB_EINVAL;
			return nullptr;
		}
	}
	if (!size || size > CACHE_MAX_OBJECT_SIZE || (align && !is_power_of_2(align)) ||
	    align > TOP_BLOCK_SIZE) {
		report(nullptr, ReportKind::BadArgument, nullptr,
		       "cache object size or alignment out of range", size);
		*err = -KSLUB_EINVAL;
		return nullptr;
	}
	if ((flags & SLAB_KSLUB_TID) && (flags & SLAB_KSLUB_SHEAVES)) {
		report(nullptr, ReportKind::BadArgument, nullptr,
		       "a cache runs one per-CPU design: TID or sheaves, not both");
		*err = -KSLUB_EINVAL;
		return nullptr;
	}
	if (sheaf_capacity && (flags & SLAB_KSLUB_TID)) {
		report(nullptr, ReportKind::BadArgument, nullptr,
		       "a sheaf capacity for a cache of the TID design", sheaf_capacity);
		*err = -KSLUB_EINVAL;
		return nullptr;
	}
	if (sheaf_capacity && !(flags & SLAB_KSLUB_SHEAVES) && !sheaves_possible()) {
		report(nullptr, ReportKind::BadArgument, nullptr,
		       "sheaves need the 6.18 or 7.3 rules and the sheaves design", sheaf_capacity);
		*err = -KSLUB_EINVAL;
		return nullptr;
	}
	if (sheaf_capacity > SHEAF_CAPACITY_MAX) {
		report(nullptr, ReportKind::BadArgument, nullptr,
		       "sheaf capacity above the maximum", sheaf_capacity);
		*err = -KSLUB_EINVAL;
		return nullptr;
	}
	if (find_cache(name)) {
		*err = -KSLUB_EEXIST;
		return nullptr;
	}
	void *mem = cache_alloc(&boot_cache_, GFP_ZERO);
	if (!mem) {
		*err = -KSLUB_ENOMEM;
		return nullptr;
	}
	Cache *s = new (mem, PlacementTag{}) Cache();
	*err = cache_open(s, name, size, align, flags, ctor);
	if (*err) {
		cache_free(&boot_cache_, s);
		return nullptr;
	}
	if (sheaves_ready_) {
		*err = sheaves_init(s, sheaf_capacity_for(s, sheaf_capacity));
		if (*err) {
			if (s->random_seq_page)
				buddy_.free_pages(s->random_seq_page, s->random_seq_page->order);
			pal_.percpu_free(s->cpu_slab);
			cache_free(&boot_cache_, s);
			return nullptr;
		}
	}
	unsigned long lf = pal_.spin_lock_irqsave(caches_lock_);
	caches_.add_tail(&s->list);
	pal_.spin_unlock_irqrestore(caches_lock_, lf);
	return s;
}

/*
 * __kmem_cache_shutdown(): flush, discard empty partial slabs; any slab
 * left means live objects. The cache then stays usable and -EBUSY says so,
 * as kmem_cache_destroy warns and leaves the cache in place.
 */
template <class P> int Slub<P>::cache_shutdown(Cache *s)
{
	/*
	 * shrink() flushes the CPUs and the sheaves (after the grace periods of
	 * the rcu_free sheaves) and gives back every empty slab; any slab left
	 * holds objects. A kmalloc cache's may be the sheaves of other caches.
	 */
	if (s->has_sheaves()) {
		/* Partly filled rcu_free sheaves leave the CPUs by call_rcu: wait for them. */
		pal_.rcu_barrier();
		flush_all(s);
		pal_.rcu_barrier();
	}
	shrink(s);
	u64 live = 0;
	for (unsigned nid = 0; nid < MAX_NODES; nid++)
		live += pal_.load(&get_node(s, nid)->nr_slabs);
	if (live && pal_.load(&s->internal)) {
		CacheCensus c{};
		check(s, &c);
		live = c.live_objects;
	}
	if (live) {
		report(s, ReportKind::LiveObjects, nullptr, "cache still has objects", u64(live));
		return -KSLUB_EBUSY;
	}
	return 0;
}

template <class P> int Slub<P>::cache_destroy(Cache *s)
{
	if (!s || s == &boot_cache_)
		return -KSLUB_EINVAL;
	for (unsigned i = 0; i < KMALLOC_NR_CACHES; i++)
		if (kmalloc_caches_[i] == s)
			return -KSLUB_EBUSY;
	int err = cache_shutdown(s);
	if (err)
		return err;
	if (s->has_sheaves()) {
		sheaves_release(s);
		shrink(s);
	}
	unsigned long flags = pal_.spin_lock_irqsave(caches_lock_);
	s->list.del();
	pal_.spin_unlock_irqrestore(caches_lock_, flags);
	if (s->random_seq_page)
		buddy_.free_pages(s->random_seq_page, s->random_seq_page->order);
	pal_.percpu_free(s->cpu_slab);
	s->cpu_slab = nullptr;
	return cache_free(&boot_cache_, s);
}

/* Destroy everything: every user cache, then the kmalloc caches, then the boot cache. */
template <class P> int Slub<P>::shutdown()
{
	/* First make sure nothing is live anywhere, so that a refusal frees nothing. */
	int busy = 0;
	pal_.rcu_barrier();
	for_each_cache([&](Cache *s) {
		if (s != &boot_cache_ && cache_shutdown(s))
			busy = -KSLUB_EBUSY;
	});
	if (busy)
		return busy;
	/* Every cache's sheaves go before any kmalloc cache their memory is in. */
	for_each_cache([&](Cache *s) { sheaves_release(s); });
	sheaves_ready_ = false;
	for_each_cache([&](Cache *s) {
		bool km = false;
		for (unsigned i = 0; i < KMALLOC_NR_CACHES; i++)
			km |= kmalloc_caches_[i] == s;
		if (s != &boot_cache_ && !km)
			cache_destroy(s);
	});
	for (unsigned i = 0; i < KMALLOC_NR_CACHES; i++) {
		Cache *s = kmalloc_caches_[i];
		kmalloc_caches_[i] = nullptr;
		if (s)
			cache_destroy(s);
	}
	int err = cache_shutdown(&boot_cache_);
	if (err)
		return err;
	boot_cache_.list.del();
	if (boot_cache_.random_seq_page)
		buddy_.free_pages(boot_cache_.random_seq_page, boot_cache_.random_seq_page->order);
	pal_.percpu_free(boot_cache_.cpu_slab);
	boot_cache_.cpu_slab = nullptr;
	return 0;
}

/*
 * kmem_cache_shrink(): flush every CPU, give back the empty partial slabs,
 * and sort the rest fullest first so allocations fill them up.
 */
template <class P> long Slub<P>::shrink(Cache *s)
{
	constexpr unsigned SHRINK_PROMOTE_MAX = 32;
	long freed = 0;
	/*
	 * The barns first (their objects may go back through a CPU slab, under
	 * 6.18's rules, and may be of any node's slabs), then the CPUs.
	 */
	if (s->has_sheaves())
		for (unsigned nid = 0; nid < MAX_NODES; nid++)
			barn_shrink(s, get_node(s, nid));
	flush_all(s);
	for (unsigned nid = 0; nid < MAX_NODES; nid++) {
		Node *n = get_node(s, nid);
		ListHead promote[SHRINK_PROMOTE_MAX];
		for (auto &l : promote)
			l.init();
		Page *discard = nullptr;
		unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
		/* First the empty slabs leave the list, so that nr_partial is right at every step ... */
		for (ListHead *e = n->partial.next; e != &n->partial;) {
			Page *slab = KSLUB_CONTAINER_OF(e, Page, lru);
			e = e->next;
			SlabCounters cnt{pal_.load(&slab->counters)};
			if (cnt.inuse() == 0) {
				remove_partial(n, slab);
				slab->next = discard;
				discard = slab;
			}
		}
		/* ... then the nearly full ones are sorted to the front. */
		for (ListHead *e = n->partial.next; e != &n->partial;) {
			Page *slab = KSLUB_CONTAINER_OF(e, Page, lru);
			e = e->next;
			SlabCounters cnt{pal_.load(&slab->counters)};
			u32 free = cnt.objects() - cnt.inuse();
			if (free && free <= SHRINK_PROMOTE_MAX) {
				slab->lru.del();
				promote[free - 1].add(&slab->lru);
			}
		}
		for (unsigned i = SHRINK_PROMOTE_MAX; i-- > 0;)
			n->partial.splice(&promote[i]);
		pal_.spin_unlock_irqrestore(n->list_lock, flags);
		while (discard) {
			Page *slab = discard;
			discard = slab->next;
			discard_slab(s, slab);
			freed++;
		}
	}
	return freed;
}

} // namespace kslub

#endif
