// SPDX-License-Identifier: GPL-2.0-only
/*
 * Walkers that return exact error counts: validate() (the kernel's
 * validate_slab_cache: flush, then check and repair every listed slab) and
 * check() (no flush, no change: every slab of the cache, the CPU structures
 * and the node lists against the invariants of slub/cache.h). Both expect a
 * quiescent cache: nobody allocating or freeing from it meanwhile.
 */
#ifndef KSLUB_SLUB_VALIDATE_H
#define KSLUB_SLUB_VALIDATE_H

#include "slub/object.h"

namespace kslub {

/*
 * on_freelist(): count the free objects of a slab. A free pointer that leaves
 * the slab is one error ("Freechain corrupt"); the chain is cut there when
 * repairing. An inuse that disagrees with the count is another ("Wrong
 * object count"), fixed when repairing.
 *
 * Called with the node's list_lock held, which keeps allocations away from an
 * unfrozen slab, but frees of a non-debug cache still push onto its freelist
 * and lower inuse by CAS meanwhile. So the walk starts from a snapshot of
 * {freelist, counters}, is trusted only if the snapshot still holds after it
 * (objects are only ever pushed in front, so the chain walked stays put),
 * and the repairs of the double word are CASes against the snapshot.
 */
template <class P> long Slub<P>::on_freelist_count(Cache *s, Page *slab, long *errors, bool repair)
{
	for (unsigned attempt = 0;; attempt++) {
		void *head = pal_.load(&slab->freelist);
		SlabCounters cnt{pal_.load(&slab->counters)};
		u32 objects = cnt.objects();
		long nr = 0;
		void *object = nullptr, *bad = nullptr;
		for (void *fp = head; fp && nr <= long(objects); fp = get_fp(s, object)) {
			if (!check_valid_pointer(s, slab, fp)) {
				bad = fp;
				break;
			}
			object = fp;
			nr++;
		}
		bool stable = pal_.load(&slab->freelist) == head &&
			      pal_.load(&slab->counters) == cnt.v;
		if (!stable && attempt < 64) {
			pal_.cpu_relax();
			continue;
		}
		if (bad && !object) {
			(*errors)++;
			report(s, ReportKind::CorruptFreelist, slab_address(slab),
			       "Freepointer corrupt");
			if (repair) {
				SlabCounters nw = cnt;
				nw.set_inuse(objects);
				cas_slab(s, slab, head, cnt.v, nullptr, nw.v);
			}
			return 0;
		}
		if (bad) {
			(*errors)++;
			report(s, ReportKind::CorruptFreelist, object, "Freechain corrupt");
			if (repair)
				set_fp(s, object, nullptr);
		}
		if (nr > long(objects)) {
			(*errors)++;
			report(s, ReportKind::CorruptFreelist, slab_address(slab),
			       "Freelist cycle or overflow", u64(nr));
			if (repair && object)
				set_fp(s, object, nullptr);
			nr = objects;
		}
		if (cnt.inuse() != objects - u32(nr)) {
			(*errors)++;
			report(s, ReportKind::WrongCount, slab_address(slab), "Wrong object count",
			       cnt.inuse());
			if (repair) {
				SlabCounters nw = cnt;
				nw.set_inuse(objects - u32(nr));
				cas_slab(s, slab, head, cnt.v, head, nw.v);
			}
		}
		return nr;
	}
}

/* check_slab() + on_freelist(): the errors of one slab. */
template <class P> long Slub<P>::validate_slab(Cache *s, Page *slab)
{
	long errors = 0;
	SlabCounters cnt{pal_.load(&slab->counters)};
	if (!(slab->flags & PG_slab) || slab->slab_cache != s) {
		report(s, ReportKind::ListCorrupt, slab_address(slab), "Not a slab of this cache");
		return 1;
	}
	u32 max_objects = order_objects(slab->order, s->size);
	if (cnt.objects() > max_objects || cnt.inuse() > cnt.objects()) {
		report(s, ReportKind::WrongCount, slab_address(slab),
		       "objects or inuse out of range", cnt.objects());
		return 1;
	}
	on_freelist_count(s, slab, &errors, true);
	return errors;
}

/*
 * The flush reports what deactivate_slab finds on the CPU freelists (a
 * pointer out of the slab, a cycle) and repairs it before the slab is
 * filed; those reports count too. Every report against a cache is counted
 * in s->errors, so the flush's share is the rise of s->errors across it
 * (exact on a quiescent cache, which validate expects).
 */
template <class P> long Slub<P>::validate(Cache *s)
{
	u64 reported = pal_.load(&s->errors);
	flush_all(s);
	long errors = long(pal_.load(&s->errors) - reported);
	for (unsigned nid = 0; nid < MAX_NODES; nid++) {
		Node *n = get_node(s, nid);
		unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
		u64 count = 0;
		for (ListHead *e = n->partial.next; e != &n->partial; e = e->next) {
			errors += validate_slab(s, KSLUB_CONTAINER_OF(e, Page, lru));
			count++;
		}
		if (count != n->nr_partial) {
			report(s, ReportKind::ListCorrupt, nullptr,
			       "partial slabs counted differ from nr_partial", count);
			errors++;
		}
		for (ListHead *e = n->full.next; e != &n->full; e = e->next)
			errors += validate_slab(s, KSLUB_CONTAINER_OF(e, Page, lru));
		pal_.spin_unlock_irqrestore(n->list_lock, flags);
	}
	return errors;
}

/* check(): see the file comment. Errors are reported and counted, nothing is repaired. */
template <class P> long Slub<P>::check(Cache *s, CacheCensus *out)
{
	long errors = 0;
	CacheCensus census{};
	u64 node_slabs[MAX_NODES] = {}, node_partial[MAX_NODES] = {};
	auto err = [&](ReportKind k, const void *p, const char *what, u64 v = 0) {
		report(s, k, p, what, v);
		errors++;
	};

	/* CPU structures: freelist objects belong to the CPU slab; held slabs are frozen. */
	u64 held = 0, cpu_free = 0;
	for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++) {
		Cpu *c = cpu_ptr(s, cpu);
		Page *slab = pal_.load(&c->slab);
		void *fl = pal_.load(&c->freelist);
		if ((pal_.load(&c->tid) & (tid_step_ - 1)) != cpu)
			err(ReportKind::ListCorrupt, c, "tid does not carry its CPU", cpu);
		if (slab) {
			held++;
			if (!(slab->flags & PG_slab) || slab->slab_cache != s ||
			    !cnt_of(slab).frozen())
				err(ReportKind::ListCorrupt, slab_address(slab),
				    "CPU slab not a frozen slab of this cache");
		} else if (fl) {
			err(ReportKind::ListCorrupt, fl, "CPU freelist without a CPU slab", cpu);
			fl = nullptr;
		}
		u64 n = 0;
		for (void *p = fl; p; p = get_fp(s, p)) {
			if (!check_valid_pointer(s, slab, p)) {
				err(ReportKind::CorruptFreelist, p,
				    "CPU freelist object outside the CPU slab", cpu);
				break;
			}
			if (++n > cnt_of(slab).objects()) {
				err(ReportKind::CorruptFreelist, p, "CPU freelist cycle", cpu);
				break;
			}
		}
		cpu_free += n;
		u64 chain = 0;
		for (Page *p = pal_.load(&c->partial); p; p = p->next) {
			held++;
			census.cpu_partial_slabs++;
			if (!(p->flags & PG_slab) || p->slab_cache != s || !cnt_of(p).frozen())
				err(ReportKind::ListCorrupt, slab_address(p),
				    "CPU partial slab not a frozen slab of this cache");
			if (++chain > census.slabs + buddy_.pool_pages()) {
				err(ReportKind::ListCorrupt, p, "CPU partial chain cycle", cpu);
				break;
			}
		}
	}

	/* Every slab of the cache, wherever it is. */
	for (unsigned r = 0; r < buddy_.nr_regions(); r++) {
		const auto &reg = buddy_.region(r);
		for (usize i = 0; i < reg.nr_pages; i++) {
			Page *slab = &reg.map[i];
			if (!(slab->flags & PG_slab) || slab->slab_cache != s)
				continue;
			SlabCounters cnt{pal_.load(&slab->counters)};
			census.slabs++;
			census.objects += cnt.objects();
			node_slabs[slab->node]++;
			if (cnt.frozen())
				census.frozen_slabs++;
			long nr = on_freelist_count(s, slab, &errors, false);
			census.free_objects += u64(nr);
			census.live_objects += cnt.inuse();
			void *fl = pal_.load(&slab->freelist);
			if (!cnt.frozen() && (fl || (!cnt.inuse() && !s->debug())))
				node_partial[slab->node]++;
		}
	}
	if (census.frozen_slabs != held)
		err(ReportKind::ListCorrupt, nullptr, "frozen slabs differ from slabs held by CPUs",
		    census.frozen_slabs);

	for (unsigned nid = 0; nid < MAX_NODES; nid++) {
		Node *n = get_node(s, nid);
		u64 listed = 0;
		for (ListHead *e = n->partial.next;
		     e != &n->partial && listed <= buddy_.pool_pages(); e = e->next) {
			Page *slab = KSLUB_CONTAINER_OF(e, Page, lru);
			listed++;
			if (!(slab->flags & PG_slab) || slab->slab_cache != s ||
			    cnt_of(slab).frozen() || slab->node != nid)
				err(ReportKind::ListCorrupt, slab_address(slab),
				    "node partial list holds a wrong slab");
		}
		if (listed != pal_.load(&n->nr_partial))
			err(ReportKind::ListCorrupt, nullptr,
			    "node partial list length differs from nr_partial", listed);
		if (listed != node_partial[nid])
			err(ReportKind::ListCorrupt, nullptr,
			    "unfrozen slabs with free objects differ from the partial list",
			    node_partial[nid]);
		if (pal_.load(&n->nr_slabs) != node_slabs[nid])
			err(ReportKind::ListCorrupt, nullptr,
			    "nr_slabs differs from the slabs of the node", node_slabs[nid]);
		census.partial_slabs += listed;
	}
	census.free_objects += cpu_free;
	census.live_objects -= cpu_free;

	/*
	 * Sheaves: their objects are in use as far as the slabs know. What the
	 * user holds is the rest, less the objects waiting for a grace period,
	 * those in prefilled sheaves callers hold, and (kmalloc caches) the
	 * sheaves carved from this cache.
	 */
	errors += check_sheaves(s, &census);
	census.internal_objects = pal_.peek(&s->internal);
	u64 away = census.sheaf_objects + pal_.peek(&s->rcu_pending) + pal_.peek(&s->prefilled) +
		   census.internal_objects;
	if (away > census.live_objects) {
		err(ReportKind::WrongCount, nullptr,
		    "objects in sheaves exceed the objects the slabs count in use", away);
	} else {
		census.live_objects -= away;
		census.free_objects += census.sheaf_objects + pal_.peek(&s->rcu_pending) +
				       pal_.peek(&s->prefilled);
	}
	if (out)
		*out = census;
	return errors;
}

} // namespace kslub

#endif
