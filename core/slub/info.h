// SPDX-License-Identifier: GPL-2.0-only
/*
 * The read-only views: a cache's geometry, its SLUB_STATS counters, and
 * the counters behind slabinfo and the sysfs files (info, node_info,
 * cpu_info).
 */
#ifndef KSLUB_SLUB_INFO_H
#define KSLUB_SLUB_INFO_H

#include "slub/object.h"

namespace kslub {

template <class P> Geometry Slub<P>::geometry(const Cache *s) const
{
	Geometry g{};
	g.object_size = s->object_size;
	g.size = s->size;
	g.align = s->align;
	g.inuse = s->inuse;
	g.offset = s->offset;
	g.order = s->oo_order;
	g.objects = s->oo_objects;
	g.min_order = s->min_order;
	g.min_objects = s->min_objects;
	g.cpu_partial = s->cpu_partial;
	g.cpu_partial_slabs = s->cpu_partial_slabs;
	g.min_partial = s->min_partial;
	g.ok = true;
	return g;
}

template <class P> u64 Slub<P>::stat_cpu(Cache *s, unsigned item, unsigned cpu) const
{
	return pal_.load(&pal_.per_cpu_ptr(s->cpu_slab, cpu)->stat[item]);
}

template <class P> u64 Slub<P>::stat_sum(Cache *s, unsigned item) const
{
	u64 sum = 0;
	for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++)
		sum += stat_cpu(s, item, cpu);
	return sum;
}

/* The counters behind slabinfo and the sysfs files; racy snapshots, as in the kernel. */
template <class P> void Slub<P>::info(Cache *s, CacheInfo *out)
{
	*out = CacheInfo{};
	out->name = s->name;
	out->geo = geometry(s);
	out->flags = s->flags;
	out->errors = pal_.load(&s->errors);
	for (unsigned nid = 0; nid < MAX_NODES; nid++) {
		NodeSlabInfo ni;
		node_info(s, nid, &ni);
		out->slabs += ni.nr_slabs;
		out->total_objects += ni.total_objects;
		out->partial += ni.nr_partial;
		out->objects_partial += ni.partial_inuse;
	}
	for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++) {
		Cpu *c = cpu_ptr(s, cpu);
		unsigned long flags = pal_.slot_lock(c->lock);
		if (pal_.load(&c->slab))
			out->cpu_slabs++;
		for (Page *p = pal_.load(&c->partial); p; p = p->next)
			out->slabs_cpu_partial++;
		pal_.slot_unlock(c->lock, flags);
	}
	/* objects: as the sysfs file counts them, CPU freelists included. */
	out->objects = out->total_objects;
}

/* One node's lists, under its list_lock (count_partial of show_slab_objects). */
template <class P> void Slub<P>::node_info(Cache *s, unsigned nid, NodeSlabInfo *out)
{
	*out = NodeSlabInfo{};
	if (nid >= MAX_NODES)
		return;
	Node *n = get_node(s, int(nid));
	out->nr_slabs = pal_.load(&n->nr_slabs);
	out->total_objects = pal_.load(&n->total_objects);
	unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
	for (ListHead *e = n->partial.next; e != &n->partial; e = e->next) {
		SlabCounters cnt = cnt_of(KSLUB_CONTAINER_OF(e, Page, lru));
		out->nr_partial++;
		out->partial_inuse += cnt.inuse();
		out->partial_free += cnt.objects() - cnt.inuse();
	}
	pal_.spin_unlock_irqrestore(n->list_lock, flags);
}

/* One CPU's slot, under its slot lock. */
template <class P> void Slub<P>::cpu_info(Cache *s, unsigned cpu, CpuSlabInfo *out)
{
	*out = CpuSlabInfo{};
	if (cpu >= pal_.nr_cpu_ids())
		return;
	out->online = pal_.cpu_online(cpu);
	Cpu *c = cpu_ptr(s, cpu);
	unsigned long flags = pal_.slot_lock(c->lock);
	if (Page *slab = pal_.load(&c->slab)) {
		out->has_slab = true;
		out->slab_node = slab->node;
	}
	if (Page *p = pal_.load(&c->partial)) {
		out->has_partial = true;
		out->partial_node = p->node;
		out->partial_slabs = p->slabs;
	}
	pal_.slot_unlock(c->lock, flags);
}

/* One CPU's sheaves, under the CPU's sheaves lock (all zero without sheaves). */
template <class P> void Slub<P>::sheaf_cpu_info(Cache *s, unsigned cpu, SheafCpuInfo *out)
{
	*out = SheafCpuInfo{};
	if (cpu >= pal_.nr_cpu_ids() || !s->has_sheaves())
		return;
	Pcs *pcs = pal_.per_cpu_ptr(s->cpu_sheaves, cpu);
	unsigned long flags = pal_.local_lock(pcs->lock);
	if (Sheaf *sh = pal_.load(&pcs->main)) {
		out->has_main = true;
		out->main_size = pal_.load(&sh->size);
	}
	if (Sheaf *sh = pal_.load(&pcs->spare)) {
		out->has_spare = true;
		out->spare_size = pal_.load(&sh->size);
	}
	if (Sheaf *sh = pal_.load(&pcs->rcu_free)) {
		out->has_rcu_free = true;
		out->rcu_free_size = pal_.load(&sh->size);
	}
	pal_.local_unlock(pcs->lock, flags);
}

/* One node's barn, under its lock. */
template <class P> void Slub<P>::barn_info(Cache *s, unsigned nid, BarnInfo *out)
{
	*out = BarnInfo{};
	if (nid >= MAX_NODES || !s->has_sheaves())
		return;
	Node *b = get_node(s, int(nid));
	unsigned long flags = pal_.spin_lock_irqsave(b->barn_lock);
	out->nr_full = pal_.load(&b->nr_full);
	out->nr_empty = pal_.load(&b->nr_empty);
	for (ListHead *e = b->sheaves_full.next; e != &b->sheaves_full; e = e->next)
		out->objects += KSLUB_CONTAINER_OF(e, Sheaf, barn_list)->size;
	pal_.spin_unlock_irqrestore(b->barn_lock, flags);
}

} // namespace kslub

#endif
