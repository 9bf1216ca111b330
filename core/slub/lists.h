// SPDX-License-Identifier: GPL-2.0-only
/*
 * Slab lists: the node partial list, the CPU partial list, deactivation of
 * a CPU slab and flushing a CPU. Lock order: slub/cache.h.
 */
#ifndef KSLUB_SLUB_LISTS_H
#define KSLUB_SLUB_LISTS_H

#include "slub/object.h"

namespace kslub {

/*
 * The tier-3 walker of a node partial list, with n->list_lock held: the list
 * is as long as nr_partial says, and every slab on it belongs to this cache
 * and node, is not frozen and has a free object (inuse < objects). Only frees
 * change a listed slab without the lock (inuse goes down), which keeps all of
 * that true, so the walk holds while other CPUs run.
 */
template <class P> bool Slub<P>::partial_list_ok(Cache *s, Node *n)
{
	const u64 want = pal_.peek(&n->nr_partial);
	const unsigned node = unsigned(n - s->node);
	u64 count = 0;
	for (ListHead *e = pal_.peek(&n->partial.next); e != &n->partial; e = pal_.peek(&e->next)) {
		if (++count > want)
			return false;
		Page *slab = KSLUB_CONTAINER_OF(e, Page, lru);
		SlabCounters c{pal_.peek(&slab->counters)};
		if (slab->slab_cache != s || slab->node != node || c.frozen() ||
		    c.inuse() >= c.objects())
			return false;
	}
	return count == want;
}

/* add_partial(): called with n->list_lock held. */
template <class P> void Slub<P>::add_partial(Node *n, Page *slab, bool tail)
{
	KSLUB_ASSERT_INTERNAL(pal_, pal_.spin_is_locked(n->list_lock));
	pal_.store(&n->nr_partial, pal_.load(&n->nr_partial) + 1);
	if (tail)
		list_add_tail(pal_, &n->partial, &slab->lru);
	else
		list_add(pal_, &n->partial, &slab->lru);
	KSLUB_ASSERT_EXPENSIVE(pal_, partial_list_ok(static_cast<Cache *>(slab->slab_cache), n));
}

template <class P> void Slub<P>::remove_partial(Node *n, Page *slab)
{
	KSLUB_ASSERT_INTERNAL(pal_, pal_.spin_is_locked(n->list_lock));
	list_del(pal_, &slab->lru);
	pal_.store(&n->nr_partial, pal_.load(&n->nr_partial) - 1);
	KSLUB_ASSERT_EXPENSIVE(pal_, partial_list_ok(static_cast<Cache *>(slab->slab_cache), n));
}

/*
 * put_cpu_partial(): push a frozen slab onto this CPU's partial list. When
 * draining is allowed and the list already holds cpu_partial_slabs slabs, the
 * whole list goes to the node first (outside the slot lock).
 */
template <class P> void Slub<P>::put_cpu_partial(Cache *s, Page *slab, bool drain)
{
	Page *to_unfreeze = nullptr;
	u32 slabs = 0;
	Cpu *c = pal_.raw_cpu_ptr(s->cpu_slab);
	unsigned long flags = pal_.slot_lock(c->lock);
	Page *oldslab = pal_.load(&c->partial);
	if (oldslab) {
		if (drain && oldslab->slabs >= s->cpu_partial_slabs) {
			to_unfreeze = oldslab;
			oldslab = nullptr;
		} else {
			slabs = oldslab->slabs;
		}
	}
	slabs++;
	slab->slabs = slabs;
	slab->next = oldslab;
	pal_.store(&c->partial, slab);
	pal_.slot_unlock(c->lock, flags);
	if (to_unfreeze) {
		unfreeze_partials(s, to_unfreeze);
		stat(s, CPU_PARTIAL_DRAIN);
	}
}

/* __unfreeze_partials(): move a detached chain of frozen slabs to their node lists. */
template <class P> void Slub<P>::unfreeze_partials(Cache *s, Page *partial)
{
	Node *n = nullptr;
	unsigned long flags = 0;
	Page *to_discard = nullptr;
	while (partial) {
		Page *slab = partial;
		partial = slab->next;
		Node *n2 = get_node(s, slab->node);
		if (n != n2) {
			if (n)
				pal_.spin_unlock_irqrestore(n->list_lock, flags);
			n = n2;
			flags = pal_.spin_lock_irqsave(n->list_lock);
		}
		SlabCounters old, nw;
		void *fl;
		do {
			fl = pal_.load(&slab->freelist);
			old.v = pal_.load(&slab->counters);
			KSLUB_ASSERT(pal_, old.frozen());
			nw = old;
			nw.set_frozen(false);
		} while (!cas_slab(s, slab, fl, old.v, fl, nw.v));
		if (!nw.inuse() && pal_.load(&n->nr_partial) >= s->min_partial) {
			slab->next = to_discard;
			to_discard = slab;
		} else {
			add_partial(n, slab, true);
			stat(s, FREE_ADD_PARTIAL);
		}
	}
	if (n)
		pal_.spin_unlock_irqrestore(n->list_lock, flags);
	while (to_discard) {
		Page *slab = to_discard;
		to_discard = slab->next;
		stat(s, DEACTIVATE_EMPTY);
		discard_slab(s, slab);
		stat(s, FREE_SLAB);
	}
}

/*
 * deactivate_slab(): give a former CPU slab back. Count the objects of the
 * detached CPU freelist, then in one slab CAS splice them in front of the
 * slab's freelist and unfreeze it; the slab is then discarded (empty, enough
 * partial slabs), put on the partial list (head; tail if other CPUs freed to
 * it meanwhile) or left on no list (full).
 */
template <class P> void Slub<P>::deactivate_slab(Cache *s, Page *slab, void *freelist)
{
	enum { M_PARTIAL, M_FREE, M_FULL_NOLIST } mode;
	Node *n = get_node(s, slab->node);
	bool tail = false;
	unsigned long flags = 0;

	if (pal_.load(&slab->freelist)) {
		stat(s, DEACTIVATE_REMOTE_FREES);
		tail = true;
	}
	/* Stage one: count the CPU freelist and find its last object. */
	u32 free_delta = 0;
	void *freelist_tail = nullptr;
	for (void *it = freelist; it;) {
		void *next = get_fp(s, it);
		if (!check_valid_pointer(s, slab, next)) {
			/* Corrupted beyond this object: keep what is known good, drop the rest. */
			report(s, ReportKind::CorruptFreelist, it,
			       "CPU freelist points outside its slab");
			set_fp(s, it, nullptr);
			next = nullptr;
		}
		freelist_tail = it;
		free_delta++;
		if (free_delta > cnt_of(slab).objects()) {
			/* A cycle (a double free missed earlier): cut it and count what is left. */
			report(s, ReportKind::CorruptFreelist, it,
			       "CPU freelist longer than its slab");
			set_fp(s, it, nullptr);
			free_delta = 0;
			for (void *p = freelist; p; p = get_fp(s, p)) {
				freelist_tail = p;
				free_delta++;
			}
			break;
		}
		it = next;
	}
	/* Stage two: unfreeze while splicing, the list move atomic with the CAS. */
	for (;;) {
		void *old_fl = pal_.load(&slab->freelist);
		SlabCounters old{pal_.load(&slab->counters)};
		KSLUB_ASSERT(pal_, old.frozen());
		SlabCounters nw = old;
		void *new_fl = old_fl;
		if (freelist_tail) {
			nw.set_inuse(old.inuse() - free_delta);
			set_fp(s, freelist_tail, old_fl);
			new_fl = freelist;
		}
		nw.set_frozen(false);
		if (!nw.inuse() && pal_.load(&n->nr_partial) >= s->min_partial) {
			mode = M_FREE;
		} else if (new_fl) {
			mode = M_PARTIAL;
			flags = pal_.spin_lock_irqsave(n->list_lock);
		} else {
			mode = M_FULL_NOLIST;
		}
		if (cas_slab(s, slab, old_fl, old.v, new_fl, nw.v))
			break;
		if (mode == M_PARTIAL)
			pal_.spin_unlock_irqrestore(n->list_lock, flags);
	}
	if (mode == M_PARTIAL) {
		add_partial(n, slab, tail);
		pal_.spin_unlock_irqrestore(n->list_lock, flags);
		stat(s, tail ? DEACTIVATE_TO_TAIL : DEACTIVATE_TO_HEAD);
	} else if (mode == M_FREE) {
		stat(s, DEACTIVATE_EMPTY);
		discard_slab(s, slab);
		stat(s, FREE_SLAB);
	} else {
		stat(s, DEACTIVATE_FULL);
	}
}

/* Flush one CPU's slab and partial list (flush_slab + unfreeze_partials, __flush_cpu_slab). */
template <class P> void Slub<P>::flush_cpu(Cache *s, unsigned cpu)
{
	if (s->debug())
		return;
	Cpu *c = pal_.per_cpu_ptr(s->cpu_slab, cpu);
	unsigned long flags = pal_.slot_lock(c->lock);
	Page *slab = pal_.load(&c->slab);
	void *freelist = slot_empty(c);
	Page *partial = pal_.load(&c->partial);
	pal_.store(&c->partial, static_cast<Page *>(nullptr));
	pal_.slot_unlock(c->lock, flags);
	if (slab) {
		deactivate_slab(s, slab, freelist);
		stat(s, CPUSLAB_FLUSH);
	}
	if (partial)
		unfreeze_partials(s, partial);
}

/*
 * flush_all(): every CPU's sheaves (the main one stays, empty), then every
 * CPU's slab and partial list: under 6.18's rules a sheaf's objects go back
 * through the CPU slab of the CPU doing the flush.
 */
template <class P> void Slub<P>::flush_all(Cache *s)
{
	if (s->has_sheaves())
		for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++)
			pal_.run_on_cpu(cpu, [&] { pcs_flush_cpu(s, cpu, false); });
	for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++)
		pal_.run_on_cpu(cpu, [&] { flush_cpu(s, cpu); });
}

template <class P> void Slub<P>::cpu_dead(unsigned cpu)
{
	unsigned long flags = pal_.spin_lock_irqsave(caches_lock_);
	for (ListHead *e = caches_.next; e != &caches_; e = e->next) {
		Cache *s = KSLUB_CONTAINER_OF(e, Cache, list);
		if (s->has_sheaves())
			pcs_flush_cpu(s, cpu, false);
		flush_cpu(s, cpu);
	}
	pal_.spin_unlock_irqrestore(caches_lock_, flags);
}

} // namespace kslub

#endif
