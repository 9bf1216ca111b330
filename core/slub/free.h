// SPDX-License-Identifier: GPL-2.0-only
/*
 * Freeing: the lockless fast path to the CPU slab (do_slab_free), the slow
 * path on the slab's own {freelist, counters} (__slab_free) with its list
 * moves, and the debug-cache path. Bulk free: slub/bulk.h.
 */
#ifndef KSLUB_SLUB_FREE_H
#define KSLUB_SLUB_FREE_H

#include "slub/object.h"

namespace kslub {

/*
 * Is obj a cache on the list of caches, a kmem_cache in use? Its memory
 * must not go back to the kmem_cache cache while it is listed: the next
 * cache created would get it and the list would become a cycle. The walk
 * holds caches_lock (lock 1, taken with nothing else held).
 */
template <class P>
bool cache_is_listed(P &pal, typename P::Spinlock &lock, ListHead &caches, const void *obj)
{
	bool found = false;
	unsigned long flags = pal.spin_lock_irqsave(lock);
	for (ListHead *e = caches.next; e != &caches && !found; e = e->next)
		found = KSLUB_CONTAINER_OF(e, KmemCache<P>, list) == obj;
	pal.spin_unlock_irqrestore(lock, flags);
	return found;
}

constexpr const char *CACHE_DESCRIPTOR_FREE =
	"pointer is a live cache descriptor; destroy the cache instead";

template <class P> int Slub<P>::cache_free(Cache *s, void *obj)
{
	if (!obj)
		return 0;
	Page *slab = virt_to_slab(obj);
	int err = object_check(s, slab, obj, false);
	if (err)
		return err;
	if (__builtin_expect(s == &boot_cache_, 0) &&
	    cache_is_listed(pal_, caches_lock_, caches_, obj)) {
		report(s, ReportKind::InvalidFree, obj, CACHE_DESCRIPTOR_FREE);
		return -KSLUB_EINVAL;
	}
	if (pal_.tracing())
		pal_.trace(TraceEvent{TraceKind::CacheFree, s->name, obj,
				      uptr(__builtin_return_address(0)), 0, 0, 0, NUMA_NO_NODE});
	return slab_free(s, slab, obj);
}

/*
 * Entry of every single-object free (bulk frees build their chains and go to
 * do_slab_free): the main sheaf for an object of this node where the cache
 * has sheaves, else the CPU slab's fast path, or the slab itself (7.x).
 */
template <class P> int Slub<P>::slab_free(Cache *s, Page *slab, void *obj)
{
	if (s->debug())
		return free_debug(s, slab, obj);
	pal_.poison_free(obj, s->object_size);
	if (__builtin_expect(s->cpu_slabs && !s->has_sheaves(), 1))
		return do_slab_free(s, slab, obj, obj, 1);
	return free_sheaves_or_slab(s, slab, obj);
}

/* slab_free() of a cache with sheaves or without a CPU slab: kept out of the TID design's way. */
template <class P>
__attribute__((noinline)) int Slub<P>::free_sheaves_or_slab(Cache *s, Page *slab, void *obj)
{
	if (s->has_sheaves() && slab->node == numa_mem_id()) {
		int err = 0;
		if (free_to_pcs(s, obj, &err))
			return err;
	}
	if (!s->cpu_slabs)
		return slab_free_slow(s, slab, obj, obj, 1);
	return do_slab_free(s, slab, obj, obj, 1);
}

template <class P> int Slub<P>::do_slab_free(Cache *s, Page *slab, void *head, void *tail, u32 cnt)
{
	if (sequences())
		return free_seq(s, slab, head, tail, cnt);
	for (;;) {
		Cpu *c = pal_.raw_cpu_ptr(s->cpu_slab);
		u64 tid = pal_.load(&c->tid);
		pal_.barrier();
		Page *cslab = pal_.load(&c->slab);
		if (slab != cslab)
			return slab_free_slow(s, slab, head, tail, cnt);
		void *freelist = pal_.load(&c->freelist);
		if constexpr (CONFIG_KSLUB_FREELIST_HARDENED) {
			/*
			 * Naive double-free detection: an object of the chain is already the head of
			 * the freelist. The tail is the kernel's BUG_ON(object == fp) in set_freepointer;
			 * missing it would link a bulk chain in front of itself, a cycle.
			 */
			if (__builtin_expect(head == freelist || tail == freelist, 0))
				return report_chain_head(s, freelist);
		}
		set_fp(s, tail, freelist);
		if (pal_.this_cpu_cas2(s->cpu_slab, c, Pair{freelist, tid},
				       Pair{head, next_tid(tid)})) {
			stat_slot(c, FREE_FASTPATH);
			return 0;
		}
		stat_slot(c, CMPXCHG_DOUBLE_CPU_FAIL);
	}
}

/* do_slab_free() as a restartable sequence (base/platform.h); the rest to the slow path. */
template <class P> int Slub<P>::free_seq(Cache *s, Page *slab, void *head, void *tail, u32 cnt)
{
	if constexpr (P::PERCPU_SEQUENCES) {
		Cpu *c;
		void *first;
		int r = pal_.template seq_free<Cpu, CONFIG_KSLUB_FREELIST_HARDENED>(
			s->cpu_slab, slab, head, tail, s->offset, s->random, tid_step_, &c, &first);
		if (__builtin_expect(r == SEQ_DONE, 1)) {
			stat_slot(c, FREE_FASTPATH);
			return 0;
		}
		if (r == SEQ_DOUBLE_FREE)
			return report_chain_head(s, first);
	}
	return slab_free_slow(s, slab, head, tail, cnt);
}

/* A chain to free begins or ends with the object at the head of the CPU freelist. */
template <class P>
__attribute__((noinline, cold)) int Slub<P>::report_chain_head(Cache *s, void *freelist)
{
	report(s, ReportKind::DoubleFree, freelist, "object is already the first free object");
	return -KSLUB_EINVAL;
}

/*
 * __slab_free(). The CAS links the chain in front of the slab's freelist and
 * lowers inuse. A full unfrozen slab that gains free objects is frozen and
 * goes to this CPU's partial list; a slab that becomes empty, or a full one
 * when there are no CPU partial lists, needs the node list lock, taken
 * speculatively before the CAS so that the list move is atomic with it.
 */
template <class P>
int Slub<P>::slab_free_slow(Cache *s, Page *slab, void *head, void *tail, u32 cnt)
{
	Node *n = nullptr;
	unsigned long flags = 0;
	void *prior;
	SlabCounters old, nw;
	bool was_frozen;
	do {
		if (n) {
			pal_.spin_unlock_irqrestore(n->list_lock, flags);
			n = nullptr;
		}
		prior = pal_.load(&slab->freelist);
		old.v = pal_.load(&slab->counters);
		if constexpr (CONFIG_KSLUB_FREELIST_HARDENED) {
			if (__builtin_expect(tail == prior, 0)) {
				report(s, ReportKind::DoubleFree, tail,
				       "object is already the first free object of its slab");
				return -KSLUB_EINVAL;
			}
		}
		if (old.inuse() < cnt) {
			report(s, ReportKind::DoubleFree, head,
			       "slab has fewer objects in use than are being freed", old.inuse());
			return -KSLUB_EINVAL;
		}
		set_fp(s, tail, prior);
		nw = old;
		was_frozen = old.frozen();
		nw.set_inuse(old.inuse() - cnt);
		if ((!nw.inuse() || !prior) && !was_frozen) {
			if (s->has_cpu_partial() && !prior) {
				/* On no list and about to be partially empty: freeze it for this CPU. */
				nw.set_frozen(true);
			} else {
				n = get_node(s, slab->node);
				flags = pal_.spin_lock_irqsave(n->list_lock);
			}
		}
	} while (!cas_slab(s, slab, prior, old.v, head, nw.v));
	stat(s, FREE_SLOWPATH); /* counted once done: a refused free counts nothing */

	if (!n) {
		if (was_frozen) {
			stat(s, FREE_FROZEN);
		} else if (nw.frozen()) {
			put_cpu_partial(s, slab, true);
			stat(s, CPU_PARTIAL_FREE);
		}
		return 0;
	}
	if (!nw.inuse() && pal_.load(&n->nr_partial) >= s->min_partial) {
		if (prior) {
			remove_partial(n, slab);
			stat(s, FREE_REMOVE_PARTIAL);
		}
		pal_.spin_unlock_irqrestore(n->list_lock, flags);
		stat(s, FREE_SLAB);
		discard_slab(s, slab);
		return 0;
	}
	if (!s->has_cpu_partial() && !prior) {
		add_partial(n, slab, true);
		stat(s, FREE_ADD_PARTIAL);
	}
	pal_.spin_unlock_irqrestore(n->list_lock, flags);
	return 0;
}

/* Debug caches: every free under the list lock, refused if the object is already free. */
template <class P> int Slub<P>::free_debug(Cache *s, Page *slab, void *obj)
{
	Node *n = get_node(s, slab->node);
	unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
	void *prior = pal_.load(&slab->freelist);
	SlabCounters old{pal_.load(&slab->counters)};
	u32 walked = 0;
	for (void *fp = prior; fp && walked <= old.objects(); fp = get_fp(s, fp), walked++) {
		if (fp == obj) {
			pal_.spin_unlock_irqrestore(n->list_lock, flags);
			report(s, ReportKind::DoubleFree, obj, "object already free");
			return -KSLUB_EINVAL;
		}
		if (!check_valid_pointer(s, slab, get_fp(s, fp)))
			break;
	}
	stat(s, FREE_SLOWPATH);
	pal_.poison_free(obj, s->object_size);
	SlabCounters nw;
	do {
		prior = pal_.load(&slab->freelist);
		old.v = pal_.load(&slab->counters);
		set_fp(s, obj, prior);
		nw = old;
		nw.set_inuse(old.inuse() - 1);
	} while (!cas_slab(s, slab, prior, old.v, obj, nw.v));
	/* free_to_partial_list(): the list moves decided under the lock, the page freed after it. */
	bool slab_free = !nw.inuse() && pal_.load(&n->nr_partial) >= s->min_partial;
	if (!prior) {
		slab->lru.del(); /* off the full list */
		if (!slab_free) {
			add_partial(n, slab, true);
			stat(s, FREE_ADD_PARTIAL);
		}
	} else if (slab_free) {
		remove_partial(n, slab);
		stat(s, FREE_REMOVE_PARTIAL);
	}
	pal_.spin_unlock_irqrestore(n->list_lock, flags);
	if (slab_free) {
		stat(s, FREE_SLAB);
		discard_slab(s, slab);
	}
	return 0;
}

} // namespace kslub

#endif
