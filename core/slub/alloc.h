// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocation: the lockless fast path (slab_alloc_node), the slow path in the
 * kernel's order (___slab_alloc), partial-list refills and new slabs.
 * Lock order and the slot protocol: slub/cache.h and base/platform.h.
 */
#ifndef KSLUB_SLUB_ALLOC_H
#define KSLUB_SLUB_ALLOC_H

#include "slub/object.h"

namespace kslub {

template <class P> void Slub<P>::post_alloc(Cache *s, void *obj, unsigned gfp)
{
	pal_.unpoison(obj, s->object_size);
	if (__builtin_expect(gfp & GFP_ZERO, 0)) {
		u8 *b = static_cast<u8 *>(obj);
		for (u32 i = 0; i < s->object_size; i++)
			b[i] = 0;
	}
}

/*
 * The fast path. The tid is read before the freelist and the slab: if
 * anything changes them afterwards it also changes the tid, and the CAS,
 * aimed at the CPU we are on at that moment, fails. The next pointer is read
 * speculatively from an object that may by then belong to someone else; the
 * CAS throws the value away in that case.
 */
template <class P> void *Slub<P>::slab_alloc(Cache *s, unsigned gfp, int node)
{
	void *object;
	if (__builtin_expect(s->debug(), 0)) {
		object = alloc_debug(s, gfp, node);
	} else if (sequences()) {
		object = alloc_seq(s, gfp, node);
	} else {
redo:
		Cpu *c = pal_.raw_cpu_ptr(s->cpu_slab);
		u64 tid = pal_.load(&c->tid);
		pal_.barrier();
		object = pal_.load(&c->freelist);
		Page *slab = pal_.load(&c->slab);
		if (__builtin_expect(!object || !slab || !node_match(slab, node), 0)) {
			object = alloc_slow(s, gfp, node);
		} else {
			void *next = get_fp_safe(s, object);
			if (!pal_.this_cpu_cas2(s->cpu_slab, c, Pair{object, tid},
						Pair{next, next_tid(tid)})) {
				stat_slot(c, CMPXCHG_DOUBLE_CPU_FAIL);
				goto redo;
			}
			stat_slot(c, ALLOC_FASTPATH);
		}
	}
	if (__builtin_expect(object != nullptr, 1))
		post_alloc(s, object, gfp);
	return object;
}

/* The slow path with the task kept on its CPU (slub_get_cpu_ptr / slub_put_cpu_ptr). */
template <class P> void *Slub<P>::alloc_slow(Cache *s, unsigned gfp, int node)
{
	pal_.preempt_disable();
	void *object = slab_alloc_slow(s, gfp, node, pal_.raw_cpu_ptr(s->cpu_slab));
	pal_.preempt_enable();
	return object;
}

/*
 * The fast path as a restartable sequence on the current CPU's slot
 * (base/platform.h). What it leaves goes to the slow path, never to
 * slab_alloc()'s CAS, which must not race with an unlocked commit.
 */
template <class P> void *Slub<P>::alloc_seq(Cache *s, unsigned gfp, int node)
{
	if constexpr (P::PERCPU_SEQUENCES) {
		if (node == NUMA_NO_NODE) {
			Cpu *c;
			void *object = pal_.template seq_alloc<Cpu, CONFIG_KSLUB_FREELIST_HARDENED>(
				s->cpu_slab, s->offset, s->random, tid_step_, &c);
			if (__builtin_expect(object != nullptr, 1)) {
				stat_slot(c, ALLOC_FASTPATH);
				return object;
			}
		}
	}
	return alloc_slow(s, gfp, node);
}

/* get_freelist(): take the slab's whole freelist; the slab stays frozen only if there was one. */
template <class P> void *Slub<P>::get_freelist(Cache *s, Page *slab)
{
	for (;;) {
		void *fl = pal_.load(&slab->freelist);
		SlabCounters cnt{pal_.load(&slab->counters)};
		KSLUB_ASSERT_INTERNAL(pal_, cnt.frozen());
		SlabCounters nw = cnt;
		nw.set_inuse(cnt.objects());
		nw.set_frozen(fl != nullptr);
		if (cas_slab(s, slab, fl, cnt.v, nullptr, nw.v))
			return fl;
	}
}

/*
 * acquire_slab(): freeze a slab of the node partial list and take its
 * freelist (all of it for the slab that becomes the CPU slab, none for one
 * that goes to the CPU partial list). Called with n->list_lock held.
 */
template <class P> void *Slub<P>::acquire_slab(Cache *s, Node *n, Page *slab, bool whole)
{
	KSLUB_ASSERT_INTERNAL(pal_, pal_.spin_is_locked(n->list_lock));
	void *fl = pal_.load(&slab->freelist);
	SlabCounters cnt{pal_.load(&slab->counters)};
	SlabCounters nw = cnt;
	void *new_fl = fl;
	if (whole) {
		nw.set_inuse(cnt.objects());
		new_fl = nullptr;
	}
	KSLUB_ASSERT(pal_, !cnt.frozen());
	nw.set_frozen(true);
	if (!cas_slab(s, slab, fl, cnt.v, new_fl, nw.v))
		return nullptr;
	remove_partial(n, slab);
	KSLUB_ASSERT(pal_, fl != nullptr);
	return fl;
}

/* get_partial_node(): the first slab becomes the CPU slab, some more go to the CPU partial list. */
template <class P> void *Slub<P>::get_partial_node(Cache *s, Node *n, Page **ret)
{
	/* Racy check: a wrong answer only costs an empty slab or a lock round trip. */
	if (!pal_.load(&n->nr_partial))
		return nullptr;
	void *object = nullptr;
	u32 partial_slabs = 0;
	unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
	ListHead *e = pal_.load(&n->partial.next);
	while (e != &n->partial) {
		Page *slab = KSLUB_CONTAINER_OF(e, Page, lru);
		e = pal_.load(&e->next);
		void *t = acquire_slab(s, n, slab, object == nullptr);
		if (!t)
			break;
		if (!object) {
			*ret = slab;
			stat(s, ALLOC_FROM_PARTIAL);
			object = t;
		} else {
			put_cpu_partial(s, slab, false);
			stat(s, CPU_PARTIAL_NODE);
			partial_slabs++;
		}
		if (!s->has_cpu_partial() || partial_slabs > s->cpu_partial_slabs / 2)
			break;
	}
	pal_.spin_unlock_irqrestore(n->list_lock, flags);
	return object;
}

/* get_any_partial(): other nodes, unless the defrag ratio says to leave them alone this time. */
template <class P> void *Slub<P>::get_any_partial(Cache *s, Page **ret)
{
	if (!s->remote_node_defrag_ratio || pal_.random() % 1024 > s->remote_node_defrag_ratio)
		return nullptr;
	int local = numa_mem_id();
	for (unsigned i = 1; i < MAX_NODES; i++) {
		int nid = (local + int(i)) % int(MAX_NODES);
		if (!buddy_.node_present(nid))
			continue;
		Node *n = get_node(s, nid);
		if (pal_.load(&n->nr_partial) > s->min_partial) {
			void *object = get_partial_node(s, n, ret);
			if (object)
				return object;
		}
	}
	return nullptr;
}

template <class P> void *Slub<P>::get_partial(Cache *s, unsigned gfp, int node, Page **ret)
{
	(void)gfp;
	int searchnode = node == NUMA_NO_NODE ? numa_mem_id() : node;
	void *object = get_partial_node(s, get_node(s, searchnode), ret);
	if (object || node != NUMA_NO_NODE)
		return object;
	return get_any_partial(s, ret);
}

/* allocate_slab(): a block of the preferred order, else of the minimum one; objects chained in order. */
template <class P> Page *Slub<P>::new_slab(Cache *s, unsigned gfp, int node)
{
	u32 order = s->oo_order, objects = s->oo_objects;
	Page *slab = buddy_.alloc_pages(order, node, gfp);
	if (!slab) {
		/* Maybe fragmentation: retry at the minimum order, as allocate_slab does even when equal. */
		order = s->min_order;
		objects = s->min_objects;
		slab = buddy_.alloc_pages(order, node, gfp);
		if (slab)
			stat(s, ORDER_FALLBACK);
	}
	if (!slab)
		return nullptr;
	buddy_.add_flags(slab, PG_slab);
	slab->slab_cache = s;
	slab->next = nullptr;
	slab->slabs = 0;
	SlabCounters cnt{0};
	cnt.set_objects(objects);
	slab->counters = cnt.v;

	u8 *base = static_cast<u8 *>(slab_address(slab));
	if (s->ctor)
		for (u32 i = 0; i < objects; i++)
			s->ctor(base + usize(i) * s->size);
	/* Everything but allocated objects is out of bounds for the user. */
	pal_.poison_free(base, PAGE_SIZE << order);
	void *first = nullptr;
	bool shuffled = false;
	if constexpr (CONFIG_KSLUB_FREELIST_RANDOM) {
		if (s->random_seq && objects == s->oo_objects) {
			shuffle_freelist(s, slab, &first);
			shuffled = true;
		}
	}
	for (u32 i = objects; !shuffled && i-- > 0;) {
		void *obj = base + usize(i) * s->size;
		set_fp(s, obj, first);
		first = obj;
	}
	slab->freelist = first;
	pal_.atomic_add(&get_node(s, slab->node)->nr_slabs, 1);
	pal_.atomic_add(&get_node(s, slab->node)->total_objects, objects);
	return slab;
}

template <class P> void Slub<P>::discard_slab(Cache *s, Page *slab)
{
	u32 objects = cnt_of(slab).objects();
	pal_.atomic_add(&get_node(s, slab->node)->nr_slabs, -1);
	pal_.atomic_add(&get_node(s, slab->node)->total_objects, -s64(objects));
	buddy_.clear_flags(slab, PG_slab);
	slab->slab_cache = nullptr;
	slab->freelist = nullptr;
	slab->counters = 0;
	buddy_.free_pages(slab, slab->order);
}

/*
 * ___slab_alloc(). Entered with preemption disabled and c the current CPU's
 * slot. Order: the CPU slab's own freelist, the CPU partial list, the node
 * partial list, other nodes, a new slab; then the slot is re-checked, since
 * the new slab was allocated with preemption enabled.
 */
template <class P> void *Slub<P>::slab_alloc_slow(Cache *s, unsigned gfp, int node, Cpu *c)
{
	void *freelist;
	Page *slab;
	unsigned long flags;

	stat(s, ALLOC_SLOWPATH);
reread_slab:
	slab = pal_.load(&c->slab);
	if (!slab) {
		if (node != NUMA_NO_NODE && !buddy_.node_present(node))
			node = NUMA_NO_NODE;
		goto new_slab;
	}
redo:
	if (!node_match(slab, node)) {
		if (!buddy_.node_present(node)) {
			node = NUMA_NO_NODE;
		} else {
			stat(s, ALLOC_NODE_MISMATCH);
			goto deactivate;
		}
	}
	flags = pal_.slot_lock(c->lock);
	if (slab != pal_.load(&c->slab)) {
		pal_.slot_unlock(c->lock, flags);
		goto reread_slab;
	}
	freelist = slot_empty(c);
	if (freelist)
		goto load_freelist;
	freelist = get_freelist(s, slab);
	if (!freelist) {
		/* The slab is full and now unfrozen on no list; the tid moved with the take. */
		pal_.slot_unlock(c->lock, flags);
		stat(s, DEACTIVATE_BYPASS);
		goto new_slab;
	}
	stat(s, ALLOC_REFILL);

load_freelist:
	/* Slot lock held, slot empty, c->slab clear; `slab` is frozen and owns `freelist`. */
	KSLUB_ASSERT(pal_, SlabCounters{pal_.load(&slab->counters)}.frozen());
	if (__builtin_expect(!pal_.cpu_online(c->cpu), 0)) {
		/*
		 * The slot's CPU went offline and was flushed while we ran on it (possible
		 * only where a task can outlive its CPU's flush, as a thread in user space):
		 * installing would strand the slab. Give it back and keep one object.
		 */
		pal_.slot_unlock(c->lock, flags);
		deactivate_slab(s, slab, get_fp(s, freelist));
		return freelist;
	}
	slot_fill(c, get_fp(s, freelist));
	pal_.store(&c->slab, slab);
	pal_.slot_unlock(c->lock, flags);
	return freelist;

deactivate:
	flags = pal_.slot_lock(c->lock);
	if (slab != pal_.load(&c->slab)) {
		pal_.slot_unlock(c->lock, flags);
		goto reread_slab;
	}
	freelist = slot_empty(c);
	pal_.slot_unlock(c->lock, flags);
	deactivate_slab(s, slab, freelist);

new_slab:
	if (pal_.load(&c->partial)) {
		flags = pal_.slot_lock(c->lock);
		if (pal_.load(&c->slab)) {
			pal_.slot_unlock(c->lock, flags);
			goto reread_slab;
		}
		slab = pal_.load(&c->partial);
		if (!slab) {
			pal_.slot_unlock(c->lock, flags);
			goto new_objects;
		}
		pal_.store(&c->partial, slab->next);
		pal_.store(&c->slab, slab);
		pal_.slot_unlock(c->lock, flags);
		stat(s, CPU_PARTIAL_ALLOC);
		goto redo;
	}

new_objects:
	freelist = get_partial(s, gfp, node, &slab);
	if (freelist)
		goto retry_load_slab;

	pal_.preempt_enable();
	slab = new_slab(s, gfp, node);
	pal_.preempt_disable();
	c = pal_.raw_cpu_ptr(s->cpu_slab);
	if (!slab) {
		if (gfp & GFP_NOFAIL_WARN)
			report(s, ReportKind::OutOfMemory, nullptr, "unable to allocate a slab",
			       s->oo_order);
		return nullptr;
	}
	stat(s, ALLOC_SLAB);
	{
		/* Nobody else can see the slab yet. */
		freelist = slab->freelist;
		slab->freelist = nullptr;
		SlabCounters cnt{slab->counters};
		cnt.set_inuse(cnt.objects());
		cnt.set_frozen(true);
		slab->counters = cnt.v;
	}

retry_load_slab:
	flags = pal_.slot_lock(c->lock);
	if (pal_.load(&c->slab)) {
		/* Someone installed a slab while we were out: flush it, keep ours. */
		Page *flush_slab = pal_.load(&c->slab);
		void *flush_freelist = slot_empty(c);
		pal_.slot_unlock(c->lock, flags);
		deactivate_slab(s, flush_slab, flush_freelist);
		stat(s, CPUSLAB_FLUSH);
		goto retry_load_slab;
	}
	{
		void *stale = slot_take(c);
		KSLUB_ASSERT(pal_, stale == nullptr);
		(void)stale;
	}
	goto load_freelist;
}

/*
 * Debug caches (SLAB_CONSISTENCY_CHECKS) keep no CPU slab: each object comes
 * from a node partial slab or a new slab under the list lock, so that every
 * free can be checked against a stable freelist.
 */
template <class P> void *Slub<P>::alloc_debug(Cache *s, unsigned gfp, int node)
{
	stat(s, ALLOC_SLOWPATH);
	int nid = (node == NUMA_NO_NODE || !buddy_.node_present(node)) ? numa_mem_id() : node;
	Node *n = get_node(s, nid);
	unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
	Page *slab = n->partial.empty() ? nullptr : KSLUB_CONTAINER_OF(n->partial.next, Page, lru);
	if (!slab) {
		pal_.spin_unlock_irqrestore(n->list_lock, flags);
		slab = new_slab(s, gfp, nid);
		if (!slab) {
			if (gfp & GFP_NOFAIL_WARN)
				report(s, ReportKind::OutOfMemory, nullptr,
				       "unable to allocate a slab", s->oo_order);
			return nullptr;
		}
		stat(s, ALLOC_SLAB);
		n = get_node(s, slab->node);
		flags = pal_.spin_lock_irqsave(n->list_lock);
		add_partial(n, slab, false);
	}
	void *object;
	for (;;) {
		object = pal_.load(&slab->freelist);
		SlabCounters cnt{pal_.load(&slab->counters)};
		KSLUB_ASSERT(pal_, object != nullptr);
		SlabCounters nw = cnt;
		nw.set_inuse(cnt.inuse() + 1);
		if (cas_slab(s, slab, object, cnt.v, get_fp(s, object), nw.v))
			break;
	}
	if (!pal_.load(&slab->freelist)) {
		remove_partial(n, slab);
		n->full.add(&slab->lru);
	}
	pal_.spin_unlock_irqrestore(n->list_lock, flags);
	return object;
}

} // namespace kslub

#endif
