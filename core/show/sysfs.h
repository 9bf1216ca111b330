// SPDX-License-Identifier: GPL-2.0-only
/*
 * The files of /sys/kernel/slab/<cache>/ (Linux 6.1: 29 attributes) and the
 * 26 CONFIG_SLUB_STATS files, rendered as the kernel's *_show functions in
 * mm/slub.c render them, for debugfs's caches/<name>/ directory.
 *
 * Counts with a per-node breakdown (show_slab_objects) print the total, then
 * " N<node>=<n>" for every node with a non-zero share, then a newline:
 *   slabs            slabs of every node                  "3 N0=3"
 *   total_objects    objects of those slabs               "48 N0=48"
 *   objects          total_objects less the free objects of node partial
 *                    slabs (CPU freelists count as in use)
 *   partial          slabs on node partial lists
 *   objects_partial  objects in use on those slabs
 *   cpu_slabs        per possible CPU that has a CPU slab: 1 for the slab
 *                    plus the length of its CPU partial list (a CPU without a
 *                    CPU slab adds nothing, as 6.1 skips it), on the node of
 *                    each slab
 * A total of zero prints "0" alone.
 * slabs_cpu_partial: "<objects>(<slabs>)" summed over online CPUs, then
 * " C<cpu>=<objects>(<slabs>)" per online CPU with a CPU partial list, where
 * objects = slabs * objs_per_slab / 2 (the kernel's half-full estimate).
 * Worked example, objs_per_slab 16, CPU 1 holding 3 partial slabs:
 *   "24(3) C1=24(3)"
 * Plain values: align, object_size, slab_size (the stride), order,
 * objs_per_slab, cpu_partial (objects), min_partial, usersize (the object
 * size for kmalloc caches, 0 for others, as kmem_cache_create passes none),
 * aliases (0: kslub never merges caches), remote_node_defrag_ratio (the
 * stored ratio / 10: 100). Flags as 0/1: hwcache_align, destroy_by_rcu,
 * poison, sanity_checks (debug caches); reclaim_account, cache_dma, trace,
 * red_zone and store_user are always 0 (kslub has no such caches).
 * ctor: empty without one; with one, the address in hex, which is what %pS
 * prints for an address it cannot name. validate and shrink read empty (they
 * are written to act).
 *
 * Stats (show_stat): "<sum> C<cpu>=<n> ..." over online CPUs, listing only
 * CPUs with a non-zero count, then a newline: "5 C0=2 C1=3", "0".
 *
 * Every renderer writes at most cap - 1 characters and a NUL and returns the
 * length the whole text needs, or a negative errno: -KSLUB_ENOENT for a name
 * that is no such file. Locking: see show/slabinfo.h.
 */
#ifndef KSLUB_SHOW_SYSFS_H
#define KSLUB_SHOW_SYSFS_H

#include "base/base.h"
#include "slub/slub.h"

namespace kslub {

enum CacheAttr : unsigned {
	ATTR_ALIASES,
	ATTR_ALIGN,
	ATTR_CACHE_DMA,
	ATTR_CPU_PARTIAL,
	ATTR_CPU_SLABS,
	ATTR_CTOR,
	ATTR_DESTROY_BY_RCU,
	ATTR_HWCACHE_ALIGN,
	ATTR_MIN_PARTIAL,
	ATTR_OBJECT_SIZE,
	ATTR_OBJECTS,
	ATTR_OBJECTS_PARTIAL,
	ATTR_OBJS_PER_SLAB,
	ATTR_ORDER,
	ATTR_PARTIAL,
	ATTR_POISON,
	ATTR_RECLAIM_ACCOUNT,
	ATTR_RED_ZONE,
	ATTR_REMOTE_NODE_DEFRAG_RATIO,
	ATTR_SANITY_CHECKS,
	ATTR_SHRINK,
	ATTR_SLAB_SIZE,
	ATTR_SLABS,
	ATTR_SLABS_CPU_PARTIAL,
	ATTR_STORE_USER,
	ATTR_TOTAL_OBJECTS,
	ATTR_TRACE,
	ATTR_USERSIZE,
	ATTR_VALIDATE,
	NR_CACHE_ATTRS
};

/* The 29 file names of 6.1's /sys/kernel/slab/<cache>/, in alphabetical order. */
inline const char *cache_attr_name(unsigned i)
{
	static constexpr const char *names[NR_CACHE_ATTRS] = {
		"aliases",
		"align",
		"cache_dma",
		"cpu_partial",
		"cpu_slabs",
		"ctor",
		"destroy_by_rcu",
		"hwcache_align",
		"min_partial",
		"object_size",
		"objects",
		"objects_partial",
		"objs_per_slab",
		"order",
		"partial",
		"poison",
		"reclaim_account",
		"red_zone",
		"remote_node_defrag_ratio",
		"sanity_checks",
		"shrink",
		"slab_size",
		"slabs",
		"slabs_cpu_partial",
		"store_user",
		"total_objects",
		"trace",
		"usersize",
		"validate",
	};
	return i < NR_CACHE_ATTRS ? names[i] : nullptr;
}

/* Index of an attribute file, or -1. */
inline int cache_attr_index(const char *name)
{
	for (unsigned i = 0; i < NR_CACHE_ATTRS; i++)
		if (name && str_eq(cache_attr_name(i), name))
			return int(i);
	return -1;
}

/* Index of a stat file (alloc_fastpath ...), or -1. */
inline int stat_index(const char *name)
{
	for (unsigned i = 0; i < NR_SLUB_STAT_ITEMS; i++)
		if (name && str_eq(stat_name(i), name))
			return int(i);
	return -1;
}

namespace show_detail {

enum class Objects { Slabs, Total, InUse, Partial, PartialInUse, CpuSlabs };

/* show_slab_objects(): the total, then " N<node>=<n>" for non-zero nodes. */
template <class P> void slab_objects(TextBuf &t, Slub<P> &slub, KmemCache<P> *s, Objects what)
{
	u64 nodes[MAX_NODES] = {};
	u64 total = 0;
	if (what == Objects::CpuSlabs) {
		for (unsigned cpu = 0; cpu < slub.nr_cpu_ids(); cpu++) {
			CpuSlabInfo c;
			slub.cpu_info(s, cpu, &c);
			if (!c.has_slab)
				continue;
			nodes[c.slab_node % MAX_NODES] += 1;
			if (c.has_partial)
				nodes[c.partial_node % MAX_NODES] += c.partial_slabs;
		}
	} else {
		for (unsigned nid = 0; nid < MAX_NODES; nid++) {
			NodeSlabInfo n;
			slub.node_info(s, nid, &n);
			switch (what) {
			case Objects::Slabs: nodes[nid] = n.nr_slabs; break;
			case Objects::Total: nodes[nid] = n.total_objects; break;
			case Objects::InUse: nodes[nid] = n.total_objects - n.partial_free; break;
			case Objects::Partial: nodes[nid] = n.nr_partial; break;
			case Objects::PartialInUse: nodes[nid] = n.partial_inuse; break;
			case Objects::CpuSlabs: break;
			}
		}
	}
	for (unsigned nid = 0; nid < MAX_NODES; nid++)
		total += nodes[nid];
	t.dec(total);
	for (unsigned nid = 0; nid < MAX_NODES; nid++)
		if (nodes[nid])
			t.str(" N").dec(nid).chr('=').dec(nodes[nid]);
	t.chr('\n');
}

template <class P>
void slabs_cpu_partial(TextBuf &t, Slub<P> &slub, KmemCache<P> *s, u32 objs_per_slab)
{
	s64 slabs = 0;
	for (unsigned cpu = 0; cpu < slub.nr_cpu_ids(); cpu++) {
		CpuSlabInfo c;
		slub.cpu_info(s, cpu, &c);
		if (c.online && c.has_partial)
			slabs += c.partial_slabs;
	}
	t.sdec(slabs * objs_per_slab / 2).chr('(').sdec(slabs).chr(')');
	for (unsigned cpu = 0; cpu < slub.nr_cpu_ids(); cpu++) {
		CpuSlabInfo c;
		slub.cpu_info(s, cpu, &c);
		if (c.online && c.has_partial) {
			s64 n = c.partial_slabs;
			t.str(" C")
				.dec(cpu)
				.chr('=')
				.sdec(n * objs_per_slab / 2)
				.chr('(')
				.sdec(n)
				.chr(')');
		}
	}
	t.chr('\n');
}

inline void flag(TextBuf &t, bool on)
{
	t.dec(on ? 1 : 0).chr('\n');
}

} // namespace show_detail

/* One attribute file by index (CacheAttr); the length needed, or -KSLUB_ENOENT. */
template <class P>
long render_cache_attr(Slub<P> &slub, KmemCache<P> *s, unsigned attr, char *buf, usize cap)
{
	using namespace show_detail;
	if (!s || attr >= NR_CACHE_ATTRS)
		return -KSLUB_ENOENT;
	TextBuf t(buf, cap);
	Geometry g = slub.geometry(s);
	unsigned f = s->flags;
	switch (CacheAttr(attr)) {
	case ATTR_ALIASES: t.dec(0).chr('\n'); break;
	case ATTR_ALIGN: t.dec(g.align).chr('\n'); break;
	case ATTR_CACHE_DMA: flag(t, false); break;
	case ATTR_CPU_PARTIAL: t.dec(g.cpu_partial).chr('\n'); break;
	case ATTR_CPU_SLABS: slab_objects(t, slub, s, Objects::CpuSlabs); break;
	case ATTR_CTOR:
		/* s->ctor is set at creation and never changes. */
		if (s->ctor)
			t.str("0x").hex(u64(uptr(s->ctor))).chr('\n');
		break;
	case ATTR_DESTROY_BY_RCU: flag(t, f & SLAB_TYPESAFE_BY_RCU); break;
	case ATTR_HWCACHE_ALIGN: flag(t, f & SLAB_HWCACHE_ALIGN); break;
	case ATTR_MIN_PARTIAL: t.dec(g.min_partial).chr('\n'); break;
	case ATTR_OBJECT_SIZE: t.dec(g.object_size).chr('\n'); break;
	case ATTR_OBJECTS: slab_objects(t, slub, s, Objects::InUse); break;
	case ATTR_OBJECTS_PARTIAL: slab_objects(t, slub, s, Objects::PartialInUse); break;
	case ATTR_OBJS_PER_SLAB: t.dec(g.objects).chr('\n'); break;
	case ATTR_ORDER: t.dec(g.order).chr('\n'); break;
	case ATTR_PARTIAL: slab_objects(t, slub, s, Objects::Partial); break;
	case ATTR_POISON: flag(t, f & SLAB_POISON); break;
	case ATTR_RECLAIM_ACCOUNT: flag(t, false); break;
	case ATTR_RED_ZONE: flag(t, false); break;
	/* Set at creation (1000, the kernel's default) and never changed. */
	case ATTR_REMOTE_NODE_DEFRAG_RATIO:
		t.dec(s->remote_node_defrag_ratio / 10).chr('\n');
		break;
	case ATTR_SANITY_CHECKS: flag(t, f & SLAB_CONSISTENCY_CHECKS); break;
	case ATTR_SHRINK: break;
	case ATTR_SLAB_SIZE: t.dec(g.size).chr('\n'); break;
	case ATTR_SLABS: slab_objects(t, slub, s, Objects::Slabs); break;
	case ATTR_SLABS_CPU_PARTIAL: slabs_cpu_partial(t, slub, s, g.objects); break;
	case ATTR_STORE_USER: flag(t, false); break;
	case ATTR_TOTAL_OBJECTS: slab_objects(t, slub, s, Objects::Total); break;
	case ATTR_TRACE: flag(t, false); break;
	case ATTR_USERSIZE: t.dec((f & SLAB_KMALLOC) ? g.object_size : 0).chr('\n'); break;
	case ATTR_VALIDATE: break;
	case NR_CACHE_ATTRS: break;
	}
	return long(t.needed());
}

template <class P>
long render_cache_attr(Slub<P> &slub, KmemCache<P> *s, const char *attr, char *buf, usize cap)
{
	int i = cache_attr_index(attr);
	return i < 0 ? -KSLUB_ENOENT : render_cache_attr(slub, s, unsigned(i), buf, cap);
}

/* One stat file (StatItem); the length needed, or -KSLUB_ENOENT. */
template <class P>
long render_stat(Slub<P> &slub, KmemCache<P> *s, unsigned item, char *buf, usize cap)
{
	if (!s || item >= NR_SLUB_STAT_ITEMS)
		return -KSLUB_ENOENT;
	TextBuf t(buf, cap);
	u64 sum = 0;
	for (unsigned cpu = 0; cpu < slub.nr_cpu_ids(); cpu++) {
		CpuSlabInfo c;
		slub.cpu_info(s, cpu, &c);
		if (c.online)
			sum += slub.stat_cpu(s, item, cpu);
	}
	t.dec(sum);
	for (unsigned cpu = 0; cpu < slub.nr_cpu_ids(); cpu++) {
		CpuSlabInfo c;
		slub.cpu_info(s, cpu, &c);
		u64 n = slub.stat_cpu(s, item, cpu);
		if (c.online && n)
			t.str(" C").dec(cpu).chr('=').dec(n);
	}
	t.chr('\n');
	return long(t.needed());
}

/* Number of files of a cache's directory: the attributes, then the stats. */
constexpr unsigned NR_CACHE_FILES = NR_CACHE_ATTRS + NR_SLUB_STAT_ITEMS;

/* File name by index 0..NR_CACHE_FILES-1, or nullptr. */
inline const char *cache_file_name(unsigned i)
{
	return i < NR_CACHE_ATTRS ? cache_attr_name(i) :
	       i < NR_CACHE_FILES ? stat_name(i - NR_CACHE_ATTRS) :
				    nullptr;
}

/* Any file of a cache's directory by name; the length needed, or -KSLUB_ENOENT. */
template <class P>
long render_cache_file(Slub<P> &slub, KmemCache<P> *s, const char *name, char *buf, usize cap)
{
	int i = cache_attr_index(name);
	if (i >= 0)
		return render_cache_attr(slub, s, unsigned(i), buf, cap);
	i = stat_index(name);
	if (i >= 0)
		return render_stat(slub, s, unsigned(i), buf, cap);
	if (cap && buf)
		buf[0] = 0;
	return -KSLUB_ENOENT;
}

/*
 * kslub's own `sheaves` file (no sysfs file has this): the cache's per-CPU
 * design, then each CPU's sheaves and each node's barn, e.g.
 *   design sheaves capacity 4
 *   cpu0 main 3 spare 4 rcu_free -
 *   cpu1 main 0 spare - rcu_free -
 *   node0 barn full 1 (4 objects) empty 0
 * ("-": no such sheaf), or the one line "design tid" without sheaves.
 */
template <class P> long render_sheaves(Slub<P> &slub, KmemCache<P> *s, char *buf, usize cap)
{
	if (!s)
		return -KSLUB_ENOENT;
	TextBuf t(buf, cap);
	if (!s->has_sheaves()) {
		t.str("design tid\n");
		return long(t.needed());
	}
	t.str("design sheaves capacity ").dec(s->sheaf_capacity).chr('\n');
	auto one = [&](const char *what, bool has, u32 size) {
		t.chr(' ').str(what).chr(' ');
		if (has)
			t.dec(size);
		else
			t.chr('-');
	};
	for (unsigned cpu = 0; cpu < slub.nr_cpu_ids(); cpu++) {
		SheafCpuInfo c;
		slub.sheaf_cpu_info(s, cpu, &c);
		t.str("cpu").dec(cpu);
		one("main", c.has_main, c.main_size);
		one("spare", c.has_spare, c.spare_size);
		one("rcu_free", c.has_rcu_free, c.rcu_free_size);
		t.chr('\n');
	}
	for (unsigned nid = 0; nid < MAX_NODES; nid++) {
		if (!slub.node_present(int(nid)))
			continue;
		BarnInfo b;
		slub.barn_info(s, nid, &b);
		t.str("node").dec(nid).str(" barn full ").dec(b.nr_full).str(" (");
		t.dec(b.objects).str(" objects) empty ").dec(b.nr_empty).chr('\n');
	}
	return long(t.needed());
}

} // namespace kslub

#endif
