// SPDX-License-Identifier: GPL-2.0-only
/*
 * Freeing: the lockless fast path to the CPU slab (do_slab_free), the slow
 * path on the slab's own {freelist, counters} (__slab_free) with its list
 * moves, bulk free, and the debug-cache path.
 */
#ifndef KSLUB_SLUB_FREE_H
#define KSLUB_SLUB_FREE_H

#include "slub/object.h"

namespace kslub {

template <class P> int Slub<P>::cache_free(Cache *s, void *obj)
{
	if (!obj)
		return 0;
	Page *slab = virt_to_slab(obj);
	int err = object_check(s, slab, obj, false);
	if (err)
		return err;
	if (pal_.tracing())
		pal_.trace(TraceEvent{TraceKind::CacheFree, s->name, obj, uptr(__builtin_return_address(0)), 0, 0, 0,
				      NUMA_NO_NODE});
	return slab_free(s, slab, obj);
}

/* Entry of every single-object free (bulk frees build their chains and go to do_slab_free). */
template <class P> int Slub<P>::slab_free(Cache *s, Page *slab, void *obj)
{
	if (s->debug())
		return free_debug(s, slab, obj);
	pal_.poison_free(obj, s->object_size);
	return do_slab_free(s, slab, obj, obj, 1);
}

template <class P> int Slub<P>::do_slab_free(Cache *s, Page *slab, void *head, void *tail, u32 cnt)
{
	for (;;) {
		Cpu *c = pal_.raw_cpu_ptr(s->cpu_slab);
#if KSLUB_MUTANT == 2
		Page *cslab = pal_.load(&c->slab); /* read before the tid */
		u64 tid = pal_.load(&c->tid);
		pal_.barrier();
#else
		u64 tid = pal_.load(&c->tid);
		pal_.barrier();
		Page *cslab = pal_.load(&c->slab);
#endif
		if (slab != cslab)
			return slab_free_slow(s, slab, head, tail, cnt);
		void *freelist = pal_.load(&c->freelist);
		if constexpr (CONFIG_KSLUB_FREELIST_HARDENED) {
			/*
			 * Naive double-free detection: an object of the chain is already the head of
			 * the freelist. The tail is the kernel's BUG_ON(object == fp) in set_freepointer;
			 * missing it would link a bulk chain in front of itself, a cycle.
			 */
			if (__builtin_expect(head == freelist || tail == freelist, 0)) {
				report(s, ReportKind::DoubleFree, freelist, "object is already the first free object");
				return -KSLUB_EINVAL;
			}
		}
		set_fp(s, tail, freelist);
		if (pal_.this_cpu_cas2(s->cpu_slab, Pair{freelist, tid}, Pair{head, next_tid(tid)})) {
			stat(s, FREE_FASTPATH);
			return 0;
		}
		stat(s, CMPXCHG_DOUBLE_CPU_FAIL);
	}
}

/*
 * __slab_free(). The CAS links the chain in front of the slab's freelist and
 * lowers inuse. A full unfrozen slab that gains free objects is frozen and
 * goes to this CPU's partial list; a slab that becomes empty, or a full one
 * when there are no CPU partial lists, needs the node list lock, taken
 * speculatively before the CAS so that the list move is atomic with it.
 */
template <class P> int Slub<P>::slab_free_slow(Cache *s, Page *slab, void *head, void *tail, u32 cnt)
{
	stat(s, FREE_SLOWPATH);
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
				report(s, ReportKind::DoubleFree, tail, "object is already the first free object of its slab");
				return -KSLUB_EINVAL;
			}
		}
		if (old.inuse() < cnt) {
			report(s, ReportKind::DoubleFree, head, "slab has fewer objects in use than are being freed",
			       old.inuse());
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

/*
 * kmem_cache_free_bulk(): objects of one slab are chained into a detached
 * freelist (looking ahead past at most three objects of other slabs) and
 * freed with one CAS. Entries are cleared as they are consumed.
 */
template <class P> int Slub<P>::free_bulk(Cache *s, usize size, void **p)
{
	int result = 0;
	/* Check everything first: a bad pointer leaves the whole batch untouched. */
	for (usize i = 0; i < size; i++) {
		if (!p[i])
			continue;
		int err = object_check(s, virt_to_slab(p[i]), p[i], false);
		if (err)
			return err;
		for (usize j = 0; j < i; j++) {
			if (p[j] == p[i]) {
				report(s, ReportKind::DoubleFree, p[i], "object appears twice in a bulk free");
				return -KSLUB_EINVAL;
			}
		}
	}
	for (usize i = size; i-- > 0;) {
		void *object = p[i];
		if (!object)
			continue;
		p[i] = nullptr;
		Page *slab = virt_to_slab(object);
		if (s->debug()) {
			int err = free_debug(s, slab, object);
			if (err)
				result = err;
			continue;
		}
		void *head = object, *tail = object;
		u32 cnt = 1;
		pal_.poison_free(object, s->object_size);
		unsigned lookahead = 3;
		for (usize j = i; j-- > 0;) {
			void *o = p[j];
			if (!o)
				continue;
			if (virt_to_slab(o) == slab) {
				pal_.poison_free(o, s->object_size);
				set_fp(s, o, head);
				head = o;
				cnt++;
				p[j] = nullptr;
			} else if (!--lookahead) {
				break;
			}
		}
		int err = do_slab_free(s, slab, head, tail, cnt);
		if (err)
			result = err;
	}
	return result;
}

/* Debug caches: every free under the list lock, refused if the object is already free. */
template <class P> int Slub<P>::free_debug(Cache *s, Page *slab, void *obj)
{
	stat(s, FREE_SLOWPATH);
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
