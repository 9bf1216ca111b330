// SPDX-License-Identifier: GPL-2.0-only
/* The C API over one core instance on the user-space platform. */
#include "kslub.h"

#include "slub/slub.h"

#include <errno.h>
#include <new>
#include <sys/mman.h>

#include "user_platform.h"

using namespace kslub;

/* kslub.h spells these for C callers; they are the core's, passed through as they are. */
static_assert(KSLUB_MAX_ORDER == MAX_ORDER && KSLUB_NR_STATS == NR_SLUB_STAT_ITEMS &&
		      KSLUB_NUMA_NO_NODE == NUMA_NO_NODE,
	      "kslub.h: the core's MAX_ORDER, NR_SLUB_STAT_ITEMS, NUMA_NO_NODE");
static_assert(KSLUB_GFP_KERNEL == GFP_KERNEL && KSLUB_GFP_ZERO == GFP_ZERO &&
		      KSLUB_GFP_THISNODE == GFP_THISNODE,
	      "kslub.h: the core's GFP flags");

using UserSlub = Slub<UserPlatform>;
using UserCache = KmemCache<UserPlatform>;

struct kslub_instance {
	UserPlatform pal;
	Allocator<UserPlatform> alloc;
	void *map = nullptr;
	size_t map_bytes = 0;
	kslub_report_fn report_fn = nullptr;
	void *report_arg = nullptr;
	bool debug_caches =
		false; /* KSLUB_DEBUG_CACHES: caches created later are debug caches too */

	kslub_instance(unsigned cpus, unsigned nodes, bool det, bool seq) :
		pal(cpus, nodes, det, seq),
		alloc(pal)
	{
	}
};

/* A kslub_cache_t is the core's cache; its instance is found through the boot cache's owner. */
static UserCache *C(kslub_cache_t *s)
{
	return reinterpret_cast<UserCache *>(s);
}
static const UserCache *C(const kslub_cache_t *s)
{
	return reinterpret_cast<const UserCache *>(s);
}
static kslub_cache_t *H(UserCache *s)
{
	return reinterpret_cast<kslub_cache_t *>(s);
}

static kslub_t *owner(const kslub_cache_t *s)
{
	return static_cast<kslub_t *>(C(s)->owner);
}

/* The kernel rules a KSLUB_KERNEL_* flag names (none: 6.1); false for more than one. */
static bool rules_from_flags(unsigned flags, KernelRules *rules)
{
	KernelRules r = KernelRules::Linux61;
	switch (flags & KSLUB_KERNEL_MASK) {
	case 0: break;
	case KSLUB_KERNEL_6_12: r = KernelRules::Linux612; break;
	case KSLUB_KERNEL_6_18: r = KernelRules::Linux618; break;
	case KSLUB_KERNEL_7_3: r = KernelRules::Linux73; break;
	default: return false;
	}
	if (rules)
		*rules = r;
	return true;
}

static void forward_report(void *arg, const Report &r)
{
	kslub_t *k = static_cast<kslub_t *>(arg);
	if (!k->report_fn) {
		UserPlatform::print_report(stderr, r);
		return;
	}
	struct kslub_report out = {report_kind_name(r.kind), r.what, r.cache, r.ptr, r.value};
	k->report_fn(k->report_arg, &out);
}

extern "C" kslub_t *kslub_create(size_t pool_bytes, unsigned nr_cpus, unsigned nr_nodes,
				 unsigned flags, int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	if (nr_cpus == KSLUB_CPUS_MACHINE)
		nr_cpus = min(UserPlatform::host_possible_cpus(), UserPlatform::MAX_CPUS);
	if (!nr_cpus || nr_cpus > UserPlatform::MAX_CPUS || !nr_nodes || nr_nodes > MAX_NODES ||
	    !pool_bytes || pool_bytes > (size_t(1) << 40) ||
	    (flags & ~(KSLUB_DETERMINISTIC | KSLUB_KERNEL_MASK | KSLUB_DEBUG_CACHES |
		       KSLUB_TID_ONLY | KSLUB_SHEAVES | KSLUB_NO_RSEQ)) ||
	    ((flags & KSLUB_TID_ONLY) && (flags & KSLUB_SHEAVES)) ||
	    !rules_from_flags(flags, nullptr)) {
		*err = -EINVAL;
		return nullptr;
	}
	/* At least one top block per node, plus room for the page descriptors in the first. */
	size_t per_node = align_up(align_up(pool_bytes, TOP_BLOCK_SIZE) / nr_nodes, TOP_BLOCK_SIZE);
	size_t bytes = per_node * nr_nodes;
	if (bytes / PAGE_SIZE * sizeof(Page) + TOP_BLOCK_SIZE / 2 > per_node)
		bytes += TOP_BLOCK_SIZE, per_node += TOP_BLOCK_SIZE / nr_nodes;
	size_t map_bytes = bytes + TOP_BLOCK_SIZE;
	void *map = mmap(nullptr, map_bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (map == MAP_FAILED) {
		*err = -ENOMEM;
		return nullptr;
	}
	kslub_t *k = new (std::nothrow) kslub_instance(
		nr_cpus, nr_nodes, flags & KSLUB_DETERMINISTIC, !(flags & KSLUB_NO_RSEQ));
	if (!k) {
		munmap(map, map_bytes);
		*err = -ENOMEM;
		return nullptr;
	}
	k->map = map;
	k->map_bytes = map_bytes;
	k->debug_caches = flags & KSLUB_DEBUG_CACHES;
	k->pal.set_reporter(forward_report, k);
	k->alloc.slub().set_owner(k);
	k->alloc.slub().set_tid_only(flags & KSLUB_TID_ONLY);
	k->alloc.slub().set_sheaves_everywhere(flags & KSLUB_SHEAVES);
	k->alloc.slub().set_debug_caches(flags & KSLUB_DEBUG_CACHES);
	uptr base = align_up(uptr(map), TOP_BLOCK_SIZE);
	RegionDesc regions[MAX_NODES];
	size_t node_bytes = bytes / nr_nodes / TOP_BLOCK_SIZE * TOP_BLOCK_SIZE;
	uptr at = base;
	for (unsigned n = 0; n < nr_nodes; n++) {
		size_t b = n + 1 == nr_nodes ? base + bytes - at : node_bytes;
		regions[n] = RegionDesc{reinterpret_cast<void *>(at), b, int(n)};
		at += b;
	}
	KernelRules rules = KernelRules::Linux61;
	rules_from_flags(flags, &rules);
	int rc = k->alloc.init(regions, nr_nodes, rules);
	if (rc) {
		delete k;
		munmap(map, map_bytes);
		*err = rc;
		return nullptr;
	}
	*err = 0;
	return k;
}

extern "C" const char *kslub_commit_mode(const kslub_t *k)
{
	if (k->pal.deterministic())
		return "deterministic";
	return k->pal.sequences() ? "rseq" : "locked";
}
extern "C" unsigned kslub_nr_cpus(const kslub_t *k)
{
	return k->pal.nr_cpu_ids();
}

extern "C" int kslub_destroy(kslub_t *k)
{
	if (!k)
		return -EINVAL;
	/* kmalloc_large blocks are live objects too, and no cache would notice them. */
	auto &b = k->alloc.buddy();
	const void *first = nullptr;
	u64 large = 0;
	for (unsigned r = 0; r < b.nr_regions(); r++)
		for (usize i = 0; i < b.region(r).nr_pages; i++)
			if (b.region(r).map[i].flags & PG_large) {
				if (!large++)
					first = b.page_address(&b.region(r).map[i]);
			}
	if (large) {
		k->pal.report(Report{ReportKind::LiveObjects, nullptr, first,
				     "kmalloc_large blocks remaining", large});
		return -EBUSY;
	}
	int rc = k->alloc.shutdown();
	if (rc)
		return rc;
	UserPlatform::unpoison(k->map, k->map_bytes);
	munmap(k->map, k->map_bytes);
	delete k;
	return 0;
}

extern "C" int kslub_set_cpu(kslub_t *k, unsigned cpu)
{
	if (!k || !k->pal.deterministic() || !k->pal.cpu_online(cpu))
		return -EINVAL;
	k->pal.set_current_cpu(cpu);
	return 0;
}

extern "C" int kslub_cpu_offline(kslub_t *k, unsigned cpu)
{
	if (!k || !k->pal.cpu_online(cpu))
		return -EINVAL;
	unsigned online = 0;
	for (unsigned c = 0; c < k->pal.nr_cpu_ids(); c++)
		online += k->pal.cpu_online(c);
	if (online == 1)
		return -EBUSY;
	k->pal.set_online(cpu, false);
	if (k->pal.deterministic() && k->pal.raw_cpu() == cpu) {
		for (unsigned c = 0; c < k->pal.nr_cpu_ids(); c++)
			if (k->pal.cpu_online(c)) {
				k->pal.set_current_cpu(c);
				break;
			}
	}
	k->alloc.slub().cpu_dead(cpu);
	return 0;
}

extern "C" int kslub_cpu_online(kslub_t *k, unsigned cpu)
{
	if (!k || cpu >= k->pal.nr_cpu_ids() || k->pal.cpu_online(cpu))
		return -EINVAL;
	k->pal.set_online(cpu, true);
	return 0;
}

extern "C" void kslub_set_reporter(kslub_t *k, kslub_report_fn fn, void *arg)
{
	k->report_fn = fn;
	k->report_arg = arg;
}

extern "C" uint64_t kslub_report_count(const kslub_t *k)
{
	return k->pal.reports();
}

static unsigned core_cache_flags(unsigned f)
{
	unsigned out = 0;
	if (f & KSLUB_SLAB_HWCACHE_ALIGN)
		out |= SLAB_HWCACHE_ALIGN;
	if (f & KSLUB_SLAB_TYPESAFE_BY_RCU)
		out |= SLAB_TYPESAFE_BY_RCU;
	if (f & KSLUB_SLAB_POISON)
		out |= SLAB_POISON;
	if (f & KSLUB_SLAB_CONSISTENCY_CHECKS)
		out |= SLAB_CONSISTENCY_CHECKS;
	if (f & KSLUB_SLAB_DESIGN_TID)
		out |= SLAB_KSLUB_TID;
	if (f & KSLUB_SLAB_DESIGN_SHEAVES)
		out |= SLAB_KSLUB_SHEAVES;
	return out;
}

extern "C" kslub_cache_t *kslub_cache_create(kslub_t *k, const char *name, size_t size,
					     size_t align, unsigned flags, void (*ctor)(void *),
					     int *err)
{
	return kslub_cache_create_sheaves(k, name, size, align, flags, ctor, 0, err);
}

extern "C" kslub_cache_t *kslub_cache_create_sheaves(kslub_t *k, const char *name, size_t size,
						     size_t align, unsigned flags,
						     void (*ctor)(void *), unsigned sheaf_capacity,
						     int *err)
{
	int dummy;
	if (!err)
		err = &dummy;
	if (!k || size > 0xffffffffu || align > 0xffffffffu ||
	    (flags & ~(KSLUB_SLAB_HWCACHE_ALIGN | KSLUB_SLAB_TYPESAFE_BY_RCU | KSLUB_SLAB_POISON |
		       KSLUB_SLAB_CONSISTENCY_CHECKS | KSLUB_SLAB_DESIGN_TID |
		       KSLUB_SLAB_DESIGN_SHEAVES))) {
		*err = -EINVAL;
		return nullptr;
	}
	unsigned core_flags = core_cache_flags(flags) |
			      (k->debug_caches ? SLAB_CONSISTENCY_CHECKS : 0u);
	return H(k->alloc.slub().cache_create(name, u32(size), u32(align), core_flags, ctor,
					      sheaf_capacity, err));
}

extern "C" unsigned kslub_cache_sheaf_capacity(const kslub_cache_t *s)
{
	return s ? C(s)->sheaf_capacity : 0;
}

extern "C" int kslub_cache_free_rcu(kslub_cache_t *s, void *obj)
{
	return s ? owner(s)->alloc.slub().cache_free_rcu(C(s), obj) : -EINVAL;
}

extern "C" int kslub_kfree_rcu(kslub_t *k, const void *p)
{
	return k ? k->alloc.slub().kfree_rcu(p) : -EINVAL;
}

extern "C" void kslub_rcu_barrier(kslub_t *k)
{
	if (k)
		k->alloc.slub().rcu_barrier();
}

using CoreSheaf = Slub<UserPlatform>::Sheaf;

extern "C" kslub_sheaf_t *kslub_prefill_sheaf(kslub_cache_t *s, unsigned gfp, unsigned size)
{
	if (!s)
		return nullptr;
	return reinterpret_cast<kslub_sheaf_t *>(
		owner(s)->alloc.slub().prefill_sheaf(C(s), gfp, size));
}

extern "C" void *kslub_alloc_from_sheaf(kslub_cache_t *s, unsigned gfp, kslub_sheaf_t *sheaf)
{
	if (!s || !sheaf)
		return nullptr;
	return owner(s)->alloc.slub().alloc_from_sheaf(C(s), gfp,
						       reinterpret_cast<CoreSheaf *>(sheaf));
}

extern "C" unsigned kslub_sheaf_size(const kslub_sheaf_t *sheaf)
{
	return sheaf ? Slub<UserPlatform>::sheaf_size(reinterpret_cast<const CoreSheaf *>(sheaf)) :
		       0;
}

extern "C" void kslub_return_sheaf(kslub_cache_t *s, unsigned gfp, kslub_sheaf_t *sheaf)
{
	if (s && sheaf)
		owner(s)->alloc.slub().return_sheaf(C(s), gfp,
						    reinterpret_cast<CoreSheaf *>(sheaf));
}

extern "C" int kslub_cache_sheaf_cpu(kslub_cache_t *s, unsigned cpu, struct kslub_sheaf_cpu *out)
{
	if (!s || !out || cpu >= owner(s)->alloc.slub().nr_cpu_ids())
		return -EINVAL;
	SheafCpuInfo i;
	owner(s)->alloc.slub().sheaf_cpu_info(C(s), cpu, &i);
	*out = kslub_sheaf_cpu{i.has_main,  i.has_spare,  i.has_rcu_free,
			       i.main_size, i.spare_size, i.rcu_free_size};
	return 0;
}

extern "C" int kslub_cache_barn(kslub_cache_t *s, unsigned node, struct kslub_barn *out)
{
	if (!s || !out || node >= MAX_NODES)
		return -EINVAL;
	BarnInfo b;
	owner(s)->alloc.slub().barn_info(C(s), node, &b);
	*out = kslub_barn{b.nr_full, b.nr_empty, b.objects};
	return 0;
}

extern "C" int kslub_cache_destroy(kslub_cache_t *s)
{
	kslub_t *k = s ? owner(s) : nullptr;
	return k ? k->alloc.slub().cache_destroy(C(s)) : -EINVAL;
}

extern "C" kslub_cache_t *kslub_cache_find(kslub_t *k, const char *name)
{
	return name ? H(k->alloc.slub().find_cache(name)) : nullptr;
}

extern "C" kslub_cache_t *kslub_kmalloc_cache(kslub_t *k, size_t size)
{
	return H(k->alloc.slub().kmalloc_slab(size));
}
extern "C" const char *kslub_cache_name(const kslub_cache_t *s)
{
	return C(s)->name;
}

extern "C" void *kslub_cache_alloc(kslub_cache_t *s, unsigned gfp)
{
	return owner(s)->alloc.slub().cache_alloc(C(s), gfp);
}
extern "C" void *kslub_cache_alloc_node(kslub_cache_t *s, unsigned gfp, int node)
{
	return owner(s)->alloc.slub().cache_alloc_node(C(s), gfp, node);
}
extern "C" int kslub_cache_free(kslub_cache_t *s, void *obj)
{
	return owner(s)->alloc.slub().cache_free(C(s), obj);
}
extern "C" int kslub_cache_alloc_bulk(kslub_cache_t *s, unsigned gfp, size_t n, void **p)
{
	if (n > 0x7fffffff || (n && !p))
		return 0;
	return owner(s)->alloc.slub().alloc_bulk(C(s), gfp, n, p);
}
extern "C" int kslub_cache_free_bulk(kslub_cache_t *s, size_t n, void **p)
{
	if (n && !p)
		return -EINVAL;
	return owner(s)->alloc.slub().free_bulk(C(s), n, p);
}

extern "C" void *kslub_kmalloc(kslub_t *k, size_t size, unsigned gfp)
{
	return k->alloc.slub().kmalloc(size, gfp);
}
extern "C" void *kslub_kmalloc_node(kslub_t *k, size_t size, unsigned gfp, int node)
{
	return k->alloc.slub().kmalloc_node(size, gfp, node);
}
extern "C" int kslub_kfree(kslub_t *k, const void *p)
{
	return k->alloc.slub().kfree(p);
}
extern "C" size_t kslub_ksize(kslub_t *k, const void *p)
{
	return k->alloc.slub().ksize(p);
}

extern "C" long kslub_cache_shrink(kslub_cache_t *s)
{
	return owner(s)->alloc.slub().shrink(C(s));
}
extern "C" long kslub_cache_validate(kslub_cache_t *s)
{
	return owner(s)->alloc.slub().validate(C(s));
}
extern "C" long kslub_cache_check(kslub_cache_t *s, struct kslub_census *census)
{
	CacheCensus c{};
	long errors = owner(s)->alloc.slub().check(C(s), &c);
	if (census)
		*census = kslub_census{c.slabs,		c.frozen_slabs,
				       c.partial_slabs, c.cpu_partial_slabs,
				       c.objects,	c.live_objects,
				       c.free_objects,	c.sheaf_objects,
				       c.sheaves,	c.internal_objects};
	return errors;
}
extern "C" long kslub_buddy_check(kslub_t *k)
{
	return k->alloc.buddy().check();
}

static void fill_geometry(const Geometry &g, u32 sheaf_capacity, struct kslub_geometry *out)
{
	*out = kslub_geometry{g.object_size,
			      g.size,
			      g.align,
			      g.inuse,
			      g.offset,
			      g.order,
			      g.objects,
			      g.min_order,
			      g.min_objects,
			      g.cpu_partial,
			      g.cpu_partial_slabs,
			      g.min_partial,
			      sheaf_capacity};
}

extern "C" int kslub_cache_geometry(const kslub_cache_t *s, struct kslub_geometry *g)
{
	if (!s || !g)
		return -EINVAL;
	UserCache *c = C(const_cast<kslub_cache_t *>(s));
	fill_geometry(owner(s)->alloc.slub().geometry(c), c->sheaf_capacity, g);
	return 0;
}

extern "C" int kslub_kmalloc_geometry(size_t size, unsigned nr_cpus, unsigned flags,
				      struct kslub_geometry *g)
{
	if (!g || !size || size > KMALLOC_MAX_CACHE_SIZE || !nr_cpus)
		return -EINVAL;
	KernelRules rules = KernelRules::Linux61;
	if (!rules_from_flags(flags, &rules))
		return -EINVAL;
	u32 csize = kmalloc_index_size(kmalloc_index(size));
	Geometry geo = compute_geometry(csize, kmalloc_cache_align(csize, rules), SLAB_KMALLOC,
					false, nr_cpus, rules);
	if (!geo.ok)
		return -EINVAL;
	fill_geometry(geo, linux_sheaf_capacity(geo.size, false, rules), g);
	return 0;
}

extern "C" const char *kslub_stat_name(unsigned item)
{
	return item < NR_SLUB_STAT_ITEMS ? stat_name(item) : nullptr;
}

extern "C" int kslub_stat_index(const char *name)
{
	for (unsigned i = 0; name && i < NR_SLUB_STAT_ITEMS; i++)
		if (str_eq(stat_name(i), name))
			return int(i);
	return -1;
}

extern "C" uint64_t kslub_cache_stat(const kslub_cache_t *s, unsigned item, int cpu)
{
	if (item >= NR_SLUB_STAT_ITEMS)
		return 0;
	kslub_t *k = owner(s);
	UserCache *c = C(const_cast<kslub_cache_t *>(s));
	if (cpu < 0)
		return k->alloc.slub().stat_sum(c, item);
	if (unsigned(cpu) >= k->pal.nr_cpu_ids())
		return 0;
	return k->alloc.slub().stat_cpu(c, item, unsigned(cpu));
}

extern "C" int kslub_cache_usage(kslub_cache_t *s, struct kslub_cache_usage *u)
{
	if (!s || !u)
		return -EINVAL;
	CacheInfo ci;
	owner(s)->alloc.slub().info(C(s), &ci);
	*u = {ci.slabs,	    ci.total_objects,	  ci.partial, ci.objects_partial,
	      ci.cpu_slabs, ci.slabs_cpu_partial, ci.errors};
	return 0;
}

extern "C" uint64_t kslub_buddy_nr_free(const kslub_t *k, int node, unsigned order)
{
	kslub_t *kk = const_cast<kslub_t *>(k);
	if (order >= MAX_ORDER || !kk->alloc.buddy().node_present(node))
		return 0;
	return kk->alloc.buddy().nr_free(node, order);
}

extern "C" void kslub_pool_info(const kslub_t *k, struct kslub_pool *p)
{
	kslub_t *kk = const_cast<kslub_t *>(k);
	auto &b = kk->alloc.buddy();
	*p = kslub_pool{b.pool_pages(), b.free_page_count(), b.reserved_pages(), b.nr_nodes()};
}

extern "C" void kslub_fail_next(kslub_t *k, unsigned n)
{
	k->alloc.buddy().fail_next(n);
}

extern "C" void kslub_for_each_cache(kslub_t *k, void (*fn)(kslub_cache_t *s, void *arg), void *arg)
{
	k->alloc.slub().for_each_cache([&](UserCache *s) { fn(H(s), arg); });
}
