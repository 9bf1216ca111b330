// SPDX-License-Identifier: GPL-2.0-only
/*
 * The slab layer of the sheaves design as 7.x has it: no CPU slab, no CPU
 * partial list. Objects are taken from the node partial slabs under the
 * node's list_lock (the slabs stay unfrozen; the take is a CAS on the slab's
 * {freelist, counters}, since frees push onto it without the lock), then
 * from new slabs; frees go straight to the slab (__slab_free, slub/free.h).
 * Under the 6.18 rules a cache with sheaves keeps its CPU slab below them:
 * layer_alloc_bulk / layer_free_bulk / free_nosheaves pick the layer.
 */
#ifndef KSLUB_SLUB_REFILL_H
#define KSLUB_SLUB_REFILL_H

#include "slub/object.h"

namespace kslub {

/*
 * Take up to max objects from the partial slabs of node n. A slab whose
 * freelist is taken whole leaves the list (full, unfrozen, on no list, as
 * 7.x leaves it); one that keeps some stays on it.
 */
template <class P> usize Slub<P>::take_partial(Cache *s, Node *n, void **p, usize max)
{
	if (!pal_.load(&n->nr_partial))
		return 0;
	usize filled = 0;
	unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
	ListHead *e = pal_.load(&n->partial.next);
	while (e != &n->partial && filled < max) {
		Page *slab = KSLUB_CONTAINER_OF(e, Page, lru);
		e = pal_.load(&e->next);
		void *fl, *rest;
		u32 k;
		for (;;) {
			fl = pal_.load(&slab->freelist);
			SlabCounters cnt{pal_.load(&slab->counters)};
			KSLUB_ASSERT(pal_, !cnt.frozen());
			/* The chain behind the head is stable: frees only push in front, and allocations hold the lock. */
			k = 0;
			rest = fl;
			while (rest && filled + k < max) {
				p[filled + k++] = rest;
				rest = get_fp(s, rest);
			}
			SlabCounters nw = cnt;
			nw.set_inuse(cnt.inuse() + k);
			if (cas_slab(s, slab, fl, cnt.v, rest, nw.v))
				break;
		}
		filled += k;
		stat(s, ALLOC_FROM_PARTIAL);
		if (!rest)
			remove_partial(n, slab);
	}
	pal_.spin_unlock_irqrestore(n->list_lock, flags);
	return filled;
}

/* Take up to max objects from a slab nobody else sees yet; what is left goes on the partial list. */
template <class P> usize Slub<P>::take_new_slab(Cache *s, Page *slab, void **p, usize max)
{
	usize k = 0;
	void *fl = slab->freelist;
	while (fl && k < max) {
		p[k++] = fl;
		fl = get_fp(s, fl);
	}
	SlabCounters cnt{slab->counters};
	cnt.set_inuse(u32(k));
	slab->counters = cnt.v;
	slab->freelist = fl;
	if (fl) {
		Node *n = get_node(s, slab->node);
		unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
		add_partial(n, slab, false);
		pal_.spin_unlock_irqrestore(n->list_lock, flags);
	}
	return k;
}

/*
 * __refill_objects(): up to max objects, from the wanted node's partial
 * slabs (the local node's for NUMA_NO_NODE), then other nodes' within the
 * defrag ratio, then new slabs. Returns how many (short only when the pool
 * runs out).
 */
template <class P>
usize Slub<P>::refill_objects(Cache *s, unsigned gfp, int node, void **p, usize max)
{
	if (node != NUMA_NO_NODE && !buddy_.node_present(node))
		node = NUMA_NO_NODE;
	int local = node == NUMA_NO_NODE ? numa_mem_id() : node;
	usize filled = take_partial(s, get_node(s, local), p, max);
	if (filled < max && node == NUMA_NO_NODE && s->remote_node_defrag_ratio &&
	    pal_.random() % 1024 <= s->remote_node_defrag_ratio) {
		for (unsigned i = 1; i < MAX_NODES && filled < max; i++) {
			int nid = (local + int(i)) % int(MAX_NODES);
			if (!buddy_.node_present(nid))
				continue;
			Node *n = get_node(s, nid);
			if (pal_.load(&n->nr_partial) > s->min_partial)
				filled += take_partial(s, n, p + filled, max - filled);
		}
	}
	while (filled < max) {
		Page *slab = new_slab(s, gfp, node);
		if (!slab) {
			if (gfp & GFP_NOFAIL_WARN)
				report(s, ReportKind::OutOfMemory, nullptr,
				       "unable to allocate a slab", s->oo_order);
			break;
		}
		stat(s, ALLOC_SLAB);
		filled += take_new_slab(s, slab, p + filled, max - filled);
	}
	return filled;
}

/* One object from the slab layer (7.x's ___slab_alloc without a CPU slab). */
template <class P> void *Slub<P>::alloc_single(Cache *s, unsigned gfp, int node)
{
	void *obj = nullptr;
	stat(s, ALLOC_SLOWPATH);
	return refill_objects(s, gfp, node, &obj, 1) ? obj : nullptr;
}

/* Bulk allocation from the layer below the sheaves: the CPU slab (6.18) or the slabs (7.x). */
template <class P> usize Slub<P>::layer_alloc_bulk(Cache *s, unsigned gfp, usize n, void **p)
{
	if (s->cpu_slabs)
		return alloc_bulk_tid(s, gfp, n, p);
	return refill_objects(s, gfp, NUMA_NO_NODE, p, n);
}

/* Bulk free to the layer below the sheaves; p's entries are cleared. */
template <class P> void Slub<P>::layer_free_bulk(Cache *s, usize n, void **p)
{
	bulk_free_chains(
		n, p, false, [this](const void *o) { return virt_to_slab(o); },
		[this, s](void *o, void *head) { set_fp(s, o, head); },
		[this, s](Page *slab, void *head, void *tail, u32 cnt) {
			return s->cpu_slabs ? do_slab_free(s, slab, head, tail, cnt) :
					      slab_free_slow(s, slab, head, tail, cnt);
		});
}

/* A single free past the sheaves. */
template <class P> int Slub<P>::free_nosheaves(Cache *s, Page *slab, void *obj)
{
	if (s->debug())
		return free_debug(s, slab, obj);
	pal_.poison_free(obj, s->object_size);
	if (s->cpu_slabs)
		return do_slab_free(s, slab, obj, obj, 1);
	return slab_free_slow(s, slab, obj, obj, 1);
}

/*
 * alloc_object() (slub/cache.h), for a cache with sheaves or without a CPU
 * slab: the main sheaf first where the cache has
 * sheaves (GFP_NO_SHEAVES: the core's own sheaf memory skips them), then the
 * layer below: the CPU slab's TID fast path (slab_alloc) or the slabs.
 */
template <class P>
__attribute__((noinline)) void *Slub<P>::alloc_sheaves_or_slab(Cache *s, unsigned gfp, int node)
{
	if (s->debug())
		return slab_alloc(s, gfp, node);
	void *obj = nullptr;
	if (s->has_sheaves() && !(gfp & GFP_NO_SHEAVES))
		obj = alloc_from_pcs(s, gfp, node);
	if (!obj) {
		if (s->cpu_slabs)
			return slab_alloc(s, gfp, node);
		obj = alloc_single(s, gfp, node);
	}
	if (obj)
		post_alloc(s, obj, gfp);
	return obj;
}

} // namespace kslub

#endif
