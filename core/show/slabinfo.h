// SPDX-License-Identifier: GPL-2.0-only
/*
 * /proc/slabinfo and /proc/buddyinfo in the kernel's formats, for the debugfs
 * files `slabinfo` and `buddyinfo`.
 *
 * slabinfo (version 2.1, mm/slab_common.c cache_show with SLUB's
 * get_slabinfo): two header lines, then one line per cache, newest cache
 * first as the kernel's list is (caches are added at its head):
 *   "%-17s %6lu %6lu %6u %4u %4d" name, active_objs, num_objs, size (the
 *   stride), objects per slab, pages per slab;
 *   " : tunables %4u %4u %4u" always 0 0 0 for SLUB;
 *   " : slabdata %6lu %6lu %6lu" active_slabs == num_slabs, sharedavail 0.
 * num_objs is every object of every slab; active_objs is num_objs less the
 * free objects of node partial slabs, so objects on CPU freelists count as
 * active, as in the kernel. Worked example: kmalloc-64 with one slab of 64
 * objects, 3 allocated, the slab being a CPU slab:
 *   "kmalloc-64            64     64     64   64    1 : tunables    0    0    0 : slabdata      1      1      0"
 *
 * buddyinfo (mm/vmstat.c frag_show_print): per node with memory
 *   "Node %d, zone %8s " then "%6lu " per order 0..10, then a newline;
 * the one zone is named "kslub".
 *
 * Every renderer writes at most cap - 1 characters and a NUL, and returns the
 * length the whole text needs (snprintf's contract: a result >= cap means the
 * text was cut).
 *
 * Locking: the renderers take only the core's own locks through Slub's
 * accessors (caches_lock is not held across the walk), so the embedding must
 * keep caches from being destroyed meanwhile: it serialises cache destruction
 * (Control::execute) and rendering with one mutex, as the kernel's slab_mutex
 * does for /proc/slabinfo.
 */
#ifndef KSLUB_SHOW_SLABINFO_H
#define KSLUB_SHOW_SLABINFO_H

#include "base/base.h"
#include "slub/slub.h"

namespace kslub {

/* Totals of a cache over its nodes, as get_slabinfo() computes them. */
struct SlabinfoLine {
	u64 active_objs, num_objs, num_slabs;
};

template <class P> SlabinfoLine slabinfo_counts(Slub<P> &slub, KmemCache<P> *s)
{
	SlabinfoLine l{};
	u64 nr_free = 0;
	for (unsigned nid = 0; nid < MAX_NODES; nid++) {
		NodeSlabInfo n;
		slub.node_info(s, nid, &n);
		l.num_slabs += n.nr_slabs;
		l.num_objs += n.total_objects;
		nr_free += n.partial_free;
	}
	l.active_objs = l.num_objs - nr_free;
	return l;
}

inline void slabinfo_header(TextBuf &t)
{
	t.str("slabinfo - version: 2.1\n");
	t.str("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab>");
	t.str(" : tunables <limit> <batchcount> <sharedfactor>");
	t.str(" : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
}

template <class P> void slabinfo_line(TextBuf &t, Slub<P> &slub, KmemCache<P> *s)
{
	SlabinfoLine l = slabinfo_counts(slub, s);
	Geometry g = slub.geometry(s);
	t.str(s->name, -17).chr(' ').dec(l.active_objs, 6).chr(' ').dec(l.num_objs, 6).chr(' ');
	t.dec(g.size, 6).chr(' ').dec(g.objects, 4).chr(' ').sdec(s64(1) << g.order, 4);
	t.str(" : tunables ").dec(0, 4).chr(' ').dec(0, 4).chr(' ').dec(0, 4);
	t.str(" : slabdata ").dec(l.num_slabs, 6).chr(' ').dec(l.num_slabs, 6).chr(' ').dec(0, 6);
	t.chr('\n');
}

/* The whole /proc/slabinfo text; returns the length it needs. */
template <class P> usize render_slabinfo(Slub<P> &slub, char *buf, usize cap)
{
	TextBuf t(buf, cap);
	slabinfo_header(t);
	/* Newest first: the core keeps creation order, so walk it backwards by index. */
	unsigned n = 0;
	slub.for_each_cache([&](KmemCache<P> *) { n++; });
	for (unsigned want = n; want-- > 0;) {
		unsigned i = 0;
		slub.for_each_cache([&](KmemCache<P> *s) {
			if (i++ == want)
				slabinfo_line(t, slub, s);
		});
	}
	return t.needed();
}

/* The zone name buddyinfo shows for kslub's one zone per node. */
constexpr const char *BUDDYINFO_ZONE = "kslub";

/* /proc/buddyinfo for the kslub pool; returns the length it needs. */
template <class P> usize render_buddyinfo(BuddyAllocator<P> &buddy, char *buf, usize cap)
{
	TextBuf t(buf, cap);
	for (unsigned nid = 0; nid < MAX_NODES; nid++) {
		if (!buddy.node_present(int(nid)))
			continue;
		t.str("Node ").dec(nid).str(", zone ").str(BUDDYINFO_ZONE, 8).chr(' ');
		for (unsigned o = 0; o < MAX_ORDER; o++)
			t.dec(buddy.nr_free(int(nid), o), 6).chr(' ');
		t.chr('\n');
	}
	return t.needed();
}

} // namespace kslub

#endif
