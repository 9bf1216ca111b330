// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `races` harness (see harness.h for the input layout).
 *
 * The per-CPU design comes from the input: the TID design of 6.1 (CPU slab,
 * CPU partial lists); 6.18's, where cache 0 asks for sheaves of 2..5 objects
 * in front of its CPU slab and cache 1 has none; or 7.3's, sheaves for every
 * cache over a slab layer without CPU slabs.
 *
 * Oracle, which knows no particular bug:
 *   - shadow record of every live object: an object handed out while the
 *     record says it is live is a finding ("handed out twice"); every object
 *     is filled with its own byte pattern when handed out and checked when
 *     freed (an overlap, or the allocator writing into a live object);
 *   - after every round (all operations complete, nothing running) the core's
 *     non-flushing check() of every cache finds no error and counts exactly
 *     the live objects of the shadow record (none lost, none invented), and
 *     the page allocator's check() finds nothing;
 *   - statistics agree with what was done: every single allocation took the
 *     fast path, the slow path or a sheaf once, every single free likewise
 *     (or went to an rcu_free sheaf); refills and flushes may add more;
 *   - an object given to kfree_rcu is not handed out again before a grace
 *     period has ended (the simulation's grace periods end at rcu_barrier and
 *     synchronize_rcu: the harness ends one after every round);
 *   - the core reports nothing (the harness never misuses the API) and no
 *     core assertion fires;
 *   - at the end everything is freed, validate() finds nothing in any cache,
 *     the caches are destroyed, and after shrinking the page allocator has
 *     every page back that it had after boot;
 *   - the simulation adds livelock (an operation that never finishes),
 *     deadlock and unbalanced preemption or interrupt state.
 */
#include "races/harness.h"

#include "slub/slub.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vector>

#include "fill.h"
#include "fuzz_input.h"
#include "sim/sim.h"
#include "sim/sim_platform.h"

using namespace kslub;

namespace races {

namespace {

using SP = SimPlatform;
using Alloc = Allocator<SP>;
using SCache = KmemCache<SP>;
using SCpu = KmemCacheCpu<SP>;
using SNode = KmemCacheNode<SP>;

constexpr unsigned NR_CACHES = 2;
constexpr unsigned MAX_ROUNDS = 48;
constexpr usize NODE_BYTES = TOP_BLOCK_SIZE; /* small, so that exhaustion is reachable too */
constexpr uint32_t OBJECT_SIZES[8] = {8, 16, 64, 192, 512, 1024, 2048, 4096};
constexpr uint32_t KMALLOC_SIZES[8] = {8, 24, 96, 100, 192, 700, 8192, 9000};
constexpr uint8_t IRQ_OWNER = 0xff;
constexpr uptr POOL_ADDRESS =
	0x7e0000000000ull; /* TOP_BLOCK_SIZE aligned, in the application range of ASan's map */

struct Obj {
	void *p;
	uint32_t size;
	int8_t cache; /* index into caches, -1 for kmalloc */
	uint8_t fill;
	uint8_t owner; /* task, or IRQ_OWNER */
};

struct TaskOp {
	uint8_t kind, a, b;
	unsigned task;
};

struct Counts {
	uint64_t singles_alloc, bulk_alloc, singles_free, bulk_free;
};

/* An object given to kfree_rcu, and the grace-period count when it was. */
struct RcuFreed {
	void *p;
	u64 gp;
};

Options opts;
sim::Sim *the_sim;
unsigned long long executions; /* inputs run by this process, for the time-to-detection figures */
void *pool_map;
uptr pool_base;

struct Run {
	SP *pal;
	Alloc *alloc;
	Slub<SP> *slub;
	unsigned nodes;
	SCache *caches[NR_CACHES];
	uint32_t cache_size[NR_CACHES];
	Counts counts[NR_CACHES];
	std::vector<Obj> live;
	std::vector<RcuFreed> rcu_freed;
	uint8_t next_fill;
	uint64_t ops_done;
	TaskOp ops[sim::MAX_TASKS];
	u64 boot_free_pages;
	bool ready; /* the cache list may be walked (after init, before shutdown) */
	bool kmalloc_used[KMALLOC_NR_CACHES];
};
Run *run_state;

[[noreturn]] void finding(const char *check, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void finding(const char *check, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	the_sim->finding(check, "%s", detail);
}

void on_finding(const char *check, const char *detail)
{
	fprintf(stderr, "kslub-races: FINDING [%s]: %s (execution %llu)\n", check, detail,
		executions);
	if (opts.exit_on_finding) {
		fflush(stderr);
		_exit(1);
	}
}

void on_report(void *, const Report &r)
{
	finding("allocator report", "%s: %s (cache %s, value %llu)", report_kind_name(r.kind),
		r.what ? r.what : "", r.cache ? r.cache : "-", (unsigned long long)r.value);
}

/* Timeline names for addresses: per-CPU fields, node fields, slab descriptors, objects. */
void label(void *, const void *addr, char *buf, size_t cap)
{
	Run *r = run_state;
	uptr a = uptr(addr);
	uptr base;
	usize stride;
	int cpu = r->pal->percpu_owner(addr, &base, &stride);
	if (cpu >= 0 && r->ready) {
		const char *name = "?";
		bool sheaves = false;
		r->slub->for_each_cache([&](SCache *s) {
			if (uptr(s->cpu_slab) == base)
				name = s->name;
			if (uptr(s->cpu_sheaves) == base) {
				name = s->name;
				sheaves = true;
			}
		});
		usize off = (a - base) % stride;
		if (sheaves) {
			using SPcs = SheafCpu<SP>;
			snprintf(buf, cap, "cpu%d.%s.sheaves.%s", cpu, name,
				 off == __builtin_offsetof(SPcs, main)	   ? "main" :
				 off == __builtin_offsetof(SPcs, spare)	   ? "spare" :
				 off == __builtin_offsetof(SPcs, rcu_free) ? "rcu_free" :
									     "lock");
			return;
		}
		const char *field = off == __builtin_offsetof(SCpu, freelist) ? "freelist" :
				    off == __builtin_offsetof(SCpu, tid)      ? "tid" :
				    off == __builtin_offsetof(SCpu, slab)     ? "slab" :
				    off == __builtin_offsetof(SCpu, partial)  ? "partial" :
										"lock";
		snprintf(buf, cap, "cpu%d.%s.%s", cpu, name, field);
		return;
	}
	BuddyAllocator<SP> &b = r->alloc->buddy();
	for (unsigned i = 0; i < b.nr_regions(); i++) {
		const auto &reg = b.region(i);
		uptr lo = uptr(reg.map), hi = lo + reg.nr_pages * sizeof(Page);
		if (a >= lo && a < hi) {
			const Page *pg = reg.map + (a - lo) / sizeof(Page);
			usize off = (a - lo) % sizeof(Page);
			const char *field = off == 0				   ? "freelist" :
					    off == 8				   ? "counters" :
					    off == __builtin_offsetof(Page, flags) ? "flags" :
					    off == __builtin_offsetof(Page, order) ? "order" :
										     "desc";
			snprintf(buf, cap, "slab@obj+%#llx.%s",
				 (unsigned long long)(uptr(b.page_address(pg)) - pool_base), field);
			return;
		}
	}
	if (a >= uptr(&b) && a < uptr(&b) + sizeof(b)) {
		snprintf(buf, cap, "buddy+%zu", usize(a - uptr(&b)));
		return;
	}
	bool named = false;
	if (r->ready)
		r->slub->for_each_cache([&](SCache *s) {
			if (named || a < uptr(s) || a >= uptr(s) + sizeof(SCache))
				return;
			usize off = a - uptr(s);
			usize n0 = __builtin_offsetof(SCache, node);
			if (off >= n0 && off < n0 + sizeof(s->node)) {
				unsigned nid = unsigned((off - n0) / sizeof(SNode));
				usize noff = (off - n0) % sizeof(SNode);
				snprintf(buf, cap, "%s.node%u.%s", s->name, nid,
					 noff == __builtin_offsetof(SNode, nr_partial) ?
						 "nr_partial" :
					 noff == __builtin_offsetof(SNode, nr_slabs) ?
						 "nr_slabs" :
					 noff == __builtin_offsetof(SNode, total_objects) ?
						 "total_objects" :
					 noff == __builtin_offsetof(SNode, nr_full) ?
						 "barn.nr_full" :
					 noff == __builtin_offsetof(SNode, nr_empty) ?
						 "barn.nr_empty" :
					 noff >= __builtin_offsetof(SNode, barn_lock) ? "barn" :
											"list");
			} else {
				snprintf(buf, cap, "%s+%zu", s->name, off);
			}
			named = true;
		});
	if (named)
		return;
	if (a >= pool_base && a < pool_base + 2 * NODE_BYTES) {
		Page *slab = r->ready ? r->slub->virt_to_slab(addr) : nullptr;
		if (slab && slab->slab_cache) {
			const SCache *s = static_cast<const SCache *>(slab->slab_cache);
			uptr base = uptr(b.page_address(slab));
			uptr obj = base + (a - base) / s->size * s->size;
			if (a == obj + s->offset) {
				snprintf(buf, cap, "next(obj+%#llx)",
					 (unsigned long long)(obj - pool_base));
				return;
			}
		}
		snprintf(buf, cap, "obj+%#llx", (unsigned long long)(a - pool_base));
		return;
	}
	snprintf(buf, cap, "%p", addr);
}

/* Values in the timeline: a pointer to a slab's descriptor is named after the slab's memory. */
bool name_value(u64 v, char *buf, usize cap)
{
	Run *r = run_state;
	if (!r)
		return false;
	BuddyAllocator<SP> &b = r->alloc->buddy();
	for (unsigned i = 0; i < b.nr_regions(); i++) {
		const auto &reg = b.region(i);
		uptr lo = uptr(reg.map), hi = lo + reg.nr_pages * sizeof(Page);
		if (v >= lo && v < hi && (v - lo) % sizeof(Page) == 0) {
			const Page *pg = reinterpret_cast<const Page *>(v);
			snprintf(buf, cap, "slab@obj+%#llx",
				 (unsigned long long)(uptr(b.page_address(pg)) - pool_base));
			return true;
		}
	}
	return false;
}

/* A free pointer as the core stores it (hardened: ptr ^ cache key ^ swab(slot)), decoded for the timeline. */
void *decode_fp(const void *slot, void *stored)
{
	Run *r = run_state;
	if (!r || !r->ready || !CONFIG_KSLUB_FREELIST_HARDENED)
		return stored;
	Page *slab = r->slub->virt_to_slab(slot);
	if (!slab || !slab->slab_cache)
		return stored;
	const SCache *s = static_cast<const SCache *>(slab->slab_cache);
	return reinterpret_cast<void *>(uptr(stored) ^ s->random ^ swab64(uptr(slot)));
}

/* ---- the shadow record (harness code: runs between scheduling points, atomically) ---- */

void verify(const Obj &o)
{
	long i = fill_changed_at(o.p, o.size, o.fill);
	if (i >= 0)
		finding("fill pattern",
			"object %p (%u bytes) changed at byte %ld while it was live: it had two owners",
			o.p, o.size, i);
}

void record(void *p, uint32_t size, int cache, uint8_t owner)
{
	Run *r = run_state;
	if (!p)
		return;
	if (uptr(p) < pool_base || uptr(p) >= pool_base + r->nodes * NODE_BYTES)
		finding("pointer", "allocation returned %p, outside the pool", p);
	for (const Obj &o : r->live)
		if (o.p == p)
			finding("handed out twice",
				"object obj+%#llx handed out while it is live (owner %u)",
				(unsigned long long)(uptr(p) - pool_base), o.owner);
	for (size_t i = 0; i < r->rcu_freed.size(); i++) {
		if (r->rcu_freed[i].p != p)
			continue;
		if (r->rcu_freed[i].gp == r->pal->grace_periods())
			finding("rcu",
				"object obj+%#llx handed out again before the grace period of its kfree_rcu ended",
				(unsigned long long)(uptr(p) - pool_base));
		r->rcu_freed[i] = r->rcu_freed.back();
		r->rcu_freed.pop_back();
		break;
	}
	Obj o{p, size, int8_t(cache), take_fill_byte(&r->next_fill), owner};
	fill_object(o.p, o.size, o.fill);
	r->live.push_back(o);
	if (the_sim->timeline())
		the_sim->note("=> got obj+%#llx", (unsigned long long)(uptr(p) - pool_base));
}

/* Take an object out of the record for freeing: own objects first (matching `cache` when >= -1). */
bool take(unsigned owner, int cache, bool any_owner, uint8_t pick, Obj *out)
{
	Run *r = run_state;
	std::vector<size_t> cand;
	for (size_t i = 0; i < r->live.size(); i++) {
		const Obj &o = r->live[i];
		if ((any_owner || o.owner == owner) && (cache == -2 || o.cache == cache))
			cand.push_back(i);
	}
	if (cand.empty())
		return false;
	size_t i = cand[pick % cand.size()];
	*out = r->live[i];
	verify(*out);
	r->live[i] = r->live.back();
	r->live.pop_back();
	if (the_sim->timeline())
		the_sim->note("=> freeing obj+%#llx",
			      (unsigned long long)(uptr(out->p) - pool_base));
	return true;
}

void do_free(const Obj &o, bool rcu = false)
{
	Run *r = run_state;
	int rc;
	if (rcu) {
		/* Recorded before the call: the grace period it waits for starts here. */
		r->rcu_freed.push_back(RcuFreed{o.p, r->pal->grace_periods()});
		if (o.cache >= 0)
			r->counts[o.cache].singles_free++;
		rc = o.cache < 0 ? r->slub->kfree_rcu(o.p) :
				   r->slub->cache_free_rcu(r->caches[o.cache], o.p);
	} else if (o.cache < 0) {
		rc = r->slub->kfree(o.p);
	} else {
		r->counts[o.cache].singles_free++;
		rc = r->slub->cache_free(r->caches[o.cache], o.p);
	}
	if (rc)
		finding("free", "free of live object %p failed: %d", o.p, rc);
}

void *alloc_one(unsigned cache, uint8_t owner, unsigned gfp, int node)
{
	Run *r = run_state;
	r->counts[cache].singles_alloc++;
	void *p = node == NUMA_NO_NODE ? r->slub->cache_alloc(r->caches[cache], gfp) :
					 r->slub->cache_alloc_node(r->caches[cache], gfp, node);
	record(p, r->cache_size[cache], int(cache), owner);
	return p;
}

void kmalloc_one(uint8_t which, uint8_t owner)
{
	Run *r = run_state;
	uint32_t size = KMALLOC_SIZES[which % 8];
	if (size <= KMALLOC_MAX_CACHE_SIZE)
		r->kmalloc_used[kmalloc_index(size)] = true;
	void *p = r->slub->kmalloc(size, 0);
	if (p && r->slub->ksize(p) < size)
		finding("ksize", "ksize %zu below the %u bytes asked", r->slub->ksize(p), size);
	record(p, size, -1, owner);
}

/* ---- operations, run inside fibers ---- */

void task_op(void *arg, sim::Context *self)
{
	Run *r = run_state;
	const TaskOp &op = *static_cast<TaskOp *>(arg);
	unsigned cache = op.a % NR_CACHES;
	uint8_t me = uint8_t(op.task);
	Obj o;
	if (the_sim->timeline()) {
		static const char *names[] = {"alloc",	    "alloc",	     "alloc_node",
					      "free own",   "kfree_rcu own", "free remote",
					      "alloc_bulk", "free_bulk",     "kmalloc",
					      "kfree",	    "shrink",	     "alloc+free"};
		the_sim->note("begins %s (%s)", names[op.kind % 12],
			      op.kind % 12 == 8 || op.kind % 12 == 9 ? "kmalloc" :
								       r->caches[cache]->name);
	}
	(void)self;
	switch (op.kind % 12) {
	case 0:
	case 1: alloc_one(cache, me, 0, NUMA_NO_NODE); break;
	case 2: {
		int node = int(op.b % (r->nodes + 1)) - 1;
		alloc_one(cache, me, (op.b & 4) ? GFP_THISNODE : 0, node);
		break;
	}
	case 3:
	case 4:
		if (take(me, -2, false, op.b, &o) || take(me, -2, true, op.b, &o))
			do_free(o, op.kind % 12 == 4);
		break;
	case 5:
		if (take(me, -2, true, op.b, &o))
			do_free(o);
		break;
	case 6: {
		void *v[16];
		usize n = 1 + op.b % 16;
		int got = r->slub->alloc_bulk(r->caches[cache], 0, n, v);
		if (got != 0 && usize(got) != n)
			finding("bulk", "alloc_bulk returned %d for %zu", got, n);
		r->counts[cache].bulk_alloc += n;
		/*
		 * A bulk allocation that fails gives back what it already took
		 * through the bulk free (as kmem_cache_alloc_bulk does): up to
		 * n - 1 frees, which move the free counters.
		 */
		if (got == 0)
			r->counts[cache].bulk_free += n - 1;
		for (int i = 0; i < got; i++)
			record(v[i], r->cache_size[cache], int(cache), me);
		break;
	}
	case 7: {
		void *v[16];
		usize n = 0, want = 1 + op.b % 16;
		while (n < want && take(me, int(cache), n & 1, uint8_t(op.b + n), &o))
			v[n++] = o.p;
		r->counts[cache].bulk_free += n;
		if (n && r->slub->free_bulk(r->caches[cache], n, v))
			finding("bulk", "free_bulk of %zu live objects failed", n);
		break;
	}
	case 8: kmalloc_one(op.b, me); break;
	case 9:
		if (take(me, -1, false, op.b, &o) || take(me, -1, true, op.b, &o))
			do_free(o);
		break;
	case 10:
		if (r->slub->shrink(r->caches[cache]) < 0)
			finding("shrink", "shrink failed");
		break;
	case 11: {
		/* A short-lived buffer: the pattern that recycles an object on one CPU. */
		alloc_one(cache, me, 0, NUMA_NO_NODE);
		if (take(me, int(cache), false, 0xff, &o))
			do_free(o);
		break;
	}
	}
	r->ops_done++;
}

void irq_op(void *, sim::Context *self, unsigned param)
{
	Run *r = run_state;
	unsigned cache = (param >> 2) & 1;
	Obj o;
	if (the_sim->timeline())
		the_sim->note("interrupt handler: %s",
			      (const char *[]){"alloc", "free", "alloc, alloc, free first",
					       "kmalloc+kfree"}[param % 4]);
	(void)self;
	switch (param % 4) {
	case 0: alloc_one(cache, IRQ_OWNER, 0, NUMA_NO_NODE); break;
	case 1:
		if (take(IRQ_OWNER, -2, true, uint8_t(param), &o))
			do_free(o);
		break;
	case 2: {
		/* Two objects, the first given back at once: what turns a stale freelist head into ABA. */
		/* Other CPUs run (and change the record) while this handler allocates: keep the pointer. */
		void *first = alloc_one(cache, IRQ_OWNER, 0, NUMA_NO_NODE);
		if (!first)
			break;
		alloc_one(cache, IRQ_OWNER, 0, NUMA_NO_NODE);
		for (size_t i = 0; i < r->live.size(); i++) {
			if (r->live[i].p != first)
				continue;
			o = r->live[i];
			verify(o);
			r->live[i] = r->live.back();
			r->live.pop_back();
			do_free(o);
			break;
		}
		break;
	}
	case 3:
		kmalloc_one(uint8_t(param), IRQ_OWNER);
		if (take(IRQ_OWNER, -1, true, uint8_t(param), &o))
			do_free(o);
		break;
	}
}

void hotplug_op(void *, sim::Context *, unsigned dead_cpu)
{
	if (the_sim->timeline())
		the_sim->note("hotplug thread: cpu_dead(cpu%u) flushes its slabs", dead_cpu);
	run_state->slub->cpu_dead(dead_cpu);
}

/* ---- checks at quiescent points ---- */

uint64_t shadow_count(SCache *s)
{
	Run *r = run_state;
	uint64_t n = 0;
	for (const Obj &o : r->live) {
		SCache *owner = o.cache >= 0 ? r->caches[o.cache] : r->slub->kmalloc_slab(o.size);
		n += owner == s;
	}
	return n;
}

void check_cache(SCache *s, const char *when)
{
	CacheCensus c{};
	long e = run_state->slub->check(s, &c);
	if (e)
		finding("consistency", "%s: check() of %s found %ld errors", when, s->name, e);
	uint64_t want = shadow_count(s);
	if (c.live_objects != want)
		finding("census",
			"%s: %s holds %llu live objects, the shadow record %llu (lost or invented objects)",
			when, s->name, (unsigned long long)c.live_objects,
			(unsigned long long)want);
}

void check_stats(unsigned i)
{
	Run *r = run_state;
	SCache *s = r->caches[i];
	const Counts &k = r->counts[i];
	auto sum = [&](unsigned item) {
		return r->slub->stat_sum(s, item);
	};
	/* A refill of a sheaf from the CPU slab (6.18) may take slow paths; a flush frees. */
	u64 a = sum(ALLOC_FASTPATH) + sum(ALLOC_SLOWPATH) + sum(ALLOC_PCS);
	u64 f = sum(FREE_FASTPATH) + sum(FREE_SLOWPATH) + sum(FREE_PCS);
	u64 a_max = k.singles_alloc + k.bulk_alloc + sum(SHEAF_REFILL);
	u64 f_max = k.singles_free + k.bulk_free + sum(SHEAF_FLUSH);
	if (a < k.singles_alloc || a > a_max)
		finding("stats",
			"%s: alloc_fastpath + alloc_slowpath + alloc_cpu_sheaf = %llu for %llu allocations (+%llu in bulk, %llu refilled)",
			s->name, (unsigned long long)a, (unsigned long long)k.singles_alloc,
			(unsigned long long)k.bulk_alloc, (unsigned long long)sum(SHEAF_REFILL));
	if (f + sum(FREE_RCU_SHEAF) < k.singles_free || f > f_max)
		finding("stats",
			"%s: free_fastpath + free_slowpath + free_cpu_sheaf = %llu (+%llu to rcu_free sheaves) for %llu frees (+%llu in bulk, %llu flushed)",
			s->name, (unsigned long long)f, (unsigned long long)sum(FREE_RCU_SHEAF),
			(unsigned long long)k.singles_free, (unsigned long long)k.bulk_free,
			(unsigned long long)sum(SHEAF_FLUSH));
}

void check_round(const char *when)
{
	Run *r = run_state;
	for (unsigned i = 0; i < NR_CACHES; i++) {
		check_cache(r->caches[i], when);
		check_stats(i);
	}
	for (unsigned i = 0; i < KMALLOC_NR_CACHES; i++)
		if (SCache *s = r->slub->kmalloc_cache(i); s && r->kmalloc_used[i])
			check_cache(s, when);
	long e = r->alloc->buddy().check();
	if (e)
		finding("page allocator", "%s: check() found %ld errors", when, e);
}

} // namespace

void set_options(const Options &o)
{
	opts = o;
}

int run(const uint8_t *data, size_t size)
{
	if (!the_sim) {
		the_sim = new sim::Sim();
		/*
		 * At a fixed address where it can be had: the page allocator finds a block's
		 * region through a hash of its address, so a pool that moved with ASLR would
		 * give each process other probe sequences, other coverage, and another course
		 * of a fixed-seed fuzzing run.
		 */
		pool_map = mmap(reinterpret_cast<void *>(POOL_ADDRESS), 2 * NODE_BYTES,
				PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE,
				-1, 0);
		if (pool_map != MAP_FAILED && pool_map != reinterpret_cast<void *>(POOL_ADDRESS)) {
			munmap(pool_map,
			       2 * NODE_BYTES); /* a kernel that took the address as a hint */
			pool_map = MAP_FAILED;
		}
		if (pool_map == MAP_FAILED)
			pool_map = mmap(nullptr, 2 * NODE_BYTES + TOP_BLOCK_SIZE,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (pool_map == MAP_FAILED) {
			perror("kslub-races: pool");
			abort();
		}
		pool_base = align_up(uptr(pool_map), TOP_BLOCK_SIZE);
	}
	executions++;
	FuzzInput in(data, size);
	uint8_t c0 = in.u8(), c1 = in.u8();
	KernelRules rules = (c1 & 0x80) ? KernelRules::Linux73 :
			    (c0 & 0x80) ? KernelRules::Linux618 :
					  KernelRules::Linux61;
	u32 ask = rules == KernelRules::Linux618 ? 2 + ((c0 >> 5) & 3) : 0;
	unsigned cpus = 2 + c0 % 3;
	unsigned nodes = 1 + ((c0 >> 2) & 1);
	unsigned tasks = cpus + (c0 >> 3) % 3;

	sim::Sim &sm = *the_sim;
	sm.reset(cpus, tasks, data, size);
	sm.set_timeline(opts.timeline);

	Run r{};
	SP pal(sm, nodes);
	pal.seed(0x6b736c7562ull ^ c0 ^ (u64(c1) << 8));
	pal.set_pool(pool_base, pool_base + nodes * NODE_BYTES);
	Alloc alloc(pal);
	r.pal = &pal;
	r.alloc = &alloc;
	r.slub = &alloc.slub();
	r.nodes = nodes;
	r.next_fill = 1;
	run_state = &r;
	sm.set_handlers(on_finding, irq_op, hotplug_op, label, nullptr);
	pal.set_reporter(on_report, nullptr);
	pal.set_fp_decoder(decode_fp);
	pal.set_value_namer(name_value);

	RegionDesc regions[2];
	for (unsigned n = 0; n < nodes; n++)
		regions[n] = RegionDesc{reinterpret_cast<void *>(pool_base + n * NODE_BYTES),
					NODE_BYTES, int(n)};
	SP::unpoison(reinterpret_cast<void *>(pool_base), 2 * NODE_BYTES);
	if (int rc = alloc.init(regions, nodes, rules))
		finding("setup", "init failed: %d", rc);
	r.boot_free_pages = alloc.buddy().free_page_count();
	r.ready = true;
	for (unsigned i = 0; i < NR_CACHES; i++) {
		char name[16];
		uint32_t sz = OBJECT_SIZES[(i ? c1 >> 3 : c1) % 8];
		unsigned flags = (i == 1 && (c1 & 0x40)) ? SLAB_NO_CPU_PARTIAL : 0;
		snprintf(name, sizeof(name), "race%u-%u", i, sz);
		int err;
		r.caches[i] = r.slub->cache_create(name, sz, 0, flags, nullptr, i ? 0 : ask, &err);
		if (!r.caches[i])
			finding("setup", "cache_create(%s) failed: %d", name, err);
		r.cache_size[i] = sz;
	}
	if (opts.verbose)
		fprintf(stderr,
			"races: %s rules, %u CPUs, %u nodes, %u tasks, caches %s (sheaves of %u) and %s (sheaves of %u)\n",
			kernel_rules_name(rules), cpus, nodes, tasks, r.caches[0]->name,
			r.caches[0]->sheaf_capacity, r.caches[1]->name,
			r.caches[1]->sheaf_capacity);

	/* Rounds: every task gets one operation, the schedule interleaves them, then the checks. */
	for (unsigned round = 0; round < MAX_ROUNDS && !in.empty(); round++) {
		for (unsigned t = 0; t < tasks; t++) {
			r.ops[t] = TaskOp{in.u8(), in.u8(), in.u8(), t};
			sm.assign(t, task_op, &r.ops[t]);
		}
		sm.run_round();
		char when[32];
		snprintf(when, sizeof(when), "after round %u", round);
		check_round(when);
		/* A grace period ends: the rcu_free sheaves sent so far go to the barns. */
		pal.rcu_barrier();
	}

	/* The end: everything back. */
	for (const Obj &o : r.live) {
		verify(o);
		int rc = o.cache < 0 ? r.slub->kfree(o.p) :
				       r.slub->cache_free(r.caches[o.cache], o.p);
		if (rc)
			finding("final free", "free of %p failed: %d", o.p, rc);
	}
	r.live.clear();
	for (unsigned i = 0; i < NR_CACHES; i++) {
		long e = r.slub->validate(r.caches[i]);
		if (e)
			finding("validate", "%s: %ld errors", r.caches[i]->name, e);
	}
	for (unsigned i = 0; i < KMALLOC_NR_CACHES; i++)
		if (SCache *s = r.slub->kmalloc_cache(i))
			if (long e = r.slub->validate(s))
				finding("validate", "%s: %ld errors", s->name, e);
	for (unsigned i = 0; i < NR_CACHES; i++)
		if (int rc = r.slub->cache_destroy(r.caches[i]))
			finding("destroy",
				"destroy of %s with nothing live failed: %d (objects lost)",
				r.caches[i]->name, rc);
	/*
	 * Twice: shrinking a cache frees its spare and barn sheaves into the
	 * kmalloc caches they were carved from, which may have been shrunk already.
	 */
	for (int pass = 0; pass < 2; pass++)
		r.slub->for_each_cache([&](SCache *s) { r.slub->shrink(s); });
	/*
	 * The TID design gives back every page it took after boot. With sheaves
	 * the kmalloc caches keep the CPUs' main sheaves, which trade places with
	 * the barn's, so their slabs may end up spread over more pages than at
	 * boot: there every page must be back once the instance is shut down.
	 */
	u64 free_pages = alloc.buddy().free_page_count();
	if (rules == KernelRules::Linux61 && free_pages != r.boot_free_pages)
		finding("pages", "%llu pages free after everything was given back, %llu after boot",
			(unsigned long long)free_pages, (unsigned long long)r.boot_free_pages);
	r.ready = false;
	if (int rc = alloc.shutdown())
		finding("shutdown", "instance shutdown failed: %d", rc);
	free_pages = alloc.buddy().free_page_count();
	u64 all = alloc.buddy().pool_pages() - alloc.buddy().reserved_pages();
	if (free_pages != all)
		finding("pages", "%llu pages free after shutdown, of %llu",
			(unsigned long long)free_pages, (unsigned long long)all);
	if (opts.verbose)
		fprintf(stderr,
			"races: no finding; %llu operations, %llu steps, %u preemptions, %u interrupts, %u migrations, %u "
			"hotplug events\n",
			(unsigned long long)r.ops_done, (unsigned long long)sm.steps(),
			sm.preemptions(), sm.interrupts(), sm.migrations(), sm.hotplugs());
	run_state = nullptr;
	return 0;
}

} // namespace races
