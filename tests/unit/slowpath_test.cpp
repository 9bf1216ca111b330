// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every branch of the SLUB slow paths and free paths, one at a time, in
 * deterministic mode: the test picks the CPU of each call, builds the state
 * a branch needs, and asserts the exact change of all 26 counters across the
 * operation (counters not named must not move), then the census.
 *
 * The expected changes are worked out by hand from Linux 6.1 mm/slub.c:
 * ___slab_alloc (CPU slab freelist -> get_freelist -> CPU partial -> node
 * partial -> new slab), __slab_free, put_cpu_partial, __unfreeze_partials,
 * deactivate_slab, flush_slab, get_partial_node, allocate_slab and the
 * bulk functions.
 *
 * The cache used by most tests: 1024-byte objects, no flags, 2 CPUs.
 *   min_objects = 4 * (fls(2) + 1) = 12; 12 * 1024 = 12 KiB -> order 2
 *   (16 KiB), 16 objects, nothing left over: order 2, 16 objects.
 *   Minimum order get_order(1024) = 0: 4 objects.
 *   cpu_partial = 24 (size >= 1024), cpu_partial_slabs = ceil(2 * 24 / 16) = 3.
 *   min_partial = ilog2(1024) / 2 = 5.
 *   Free pointer in the middle of the object: 1024 / 2 = 512.
 * So a CPU partial list drains when it already holds 3 slabs, a refill from
 * the node moves up to 2 more slabs (while moved <= 3 / 2) to the CPU
 * partial list, and empty slabs are given back once a node has 5 partial
 * slabs.
 */
#include "test_util.h"

#include <algorithm>
#include <vector>

namespace {

using kslub_test::Census;
using kslub_test::census_is;
using kslub_test::live_is;
using kslub_test::pool_free_pages;
using kslub_test::StatWatch;

constexpr size_t kPool = size_t(16) << 20;
constexpr unsigned kObjs = 16;		/* objects per slab of the 1024-byte cache */
constexpr uintptr_t kSlabBytes = 16384; /* order 2 */

/* Slabs are blocks of the buddy allocator, aligned to their size: the slab of an object. */
uintptr_t slab_of(const void *p)
{
	return uintptr_t(p) & ~(kSlabBytes - 1);
}

class SlowPath : public ::testing::Test {
protected:
	virtual unsigned nodes() const { return 1; }

	void SetUp() override
	{
		if (!CONFIG_KSLUB_STATS)
			GTEST_SKIP()
				<< "built without CONFIG_KSLUB_STATS: the counters do not move";
		int err = 1;
		k_ = kslub_create(kPool, 2, nodes(), KSLUB_DETERMINISTIC, &err);
		ASSERT_NE(k_, nullptr) << err;
		log_.attach(k_);
		ASSERT_EQ(kslub_set_cpu(k_, 0), 0);
		s_ = kslub_cache_create(k_, "sp-1k", 1024, 0, 0, nullptr, &err);
		ASSERT_NE(s_, nullptr) << err;
		w_.reset(new StatWatch(s_));
	}

	void TearDown() override
	{
		if (!k_)
			return;
		for (void *p : held_)
			EXPECT_EQ(kslub_cache_free(s_, p), 0);
		held_.clear();
		EXPECT_EQ(kslub_cache_validate(s_), 0);
		EXPECT_TRUE(live_is(s_, 0));
		EXPECT_EQ(kslub_buddy_check(k_), 0);
		EXPECT_EQ(kslub_cache_destroy(s_), 0);
		EXPECT_EQ(kslub_destroy(k_), 0);
		EXPECT_TRUE(log_.seen.empty()) << log_.dump();
	}

	void cpu(unsigned c) { ASSERT_EQ(kslub_set_cpu(k_, c), 0); }

	void *alloc()
	{
		void *p = kslub_cache_alloc(s_, 0);
		EXPECT_NE(p, nullptr);
		if (p)
			held_.push_back(p);
		return p;
	}
	void *alloc_node(int node)
	{
		void *p = kslub_cache_alloc_node(s_, 0, node);
		EXPECT_NE(p, nullptr);
		if (p)
			held_.push_back(p);
		return p;
	}
	std::vector<void *> alloc_n(unsigned n)
	{
		std::vector<void *> v;
		for (unsigned i = 0; i < n; i++)
			v.push_back(alloc());
		return v;
	}
	void release(void *p)
	{
		auto it = std::find(held_.begin(), held_.end(), p);
		ASSERT_NE(it, held_.end());
		held_.erase(it);
		EXPECT_EQ(kslub_cache_free(s_, p), 0);
	}
	/* CPU hotplug flushes one CPU (slub_cpu_dead); the CPU comes straight back. */
	void flush_by_hotplug(unsigned c)
	{
		ASSERT_EQ(kslub_cpu_offline(k_, c), 0);
		ASSERT_EQ(kslub_cpu_online(k_, c), 0);
	}

	/*
	 * On CPU 1, leave five slabs on node 0's partial list, in this order:
	 * E (15 in use), C (15), B (15), A (1), D (15). Returns the 80 objects
	 * allocated (A = [0..15], B = [16..31], ... E = [64..79]); the ones
	 * freed here are no longer held.
	 *   80 allocs: a new slab every 16, the full one bypassed.
	 *   Free A's [1..15]: the first freezes A onto CPU 1's partial list,
	 *   the other 14 find it frozen.
	 *   Free one of B and of C: partial list A, B, C (3 slabs).
	 *   Free one of D: the list holds cpu_partial_slabs = 3 slabs, so it is
	 *   drained first: C, B, A go to the node's tail in chain order (C was
	 *   pushed last, so it is the chain's head); D starts a new list.
	 *   Free one of E, the CPU slab: fast path.
	 *   Hotplug CPU 1: E, with a free object, goes to the head of the node
	 *   list; D is unfrozen to the tail.
	 */
	std::vector<void *> five_partial_slabs_from_cpu1()
	{
		cpu(1);
		std::vector<void *> o = alloc_n(80);
		EXPECT_TRUE(w_->moved({{"alloc_slowpath", 5},
				       {"alloc_slab", 5},
				       {"deactivate_bypass", 4},
				       {"alloc_fastpath", 75}}));
		for (unsigned i = 1; i < 16; i++)
			release(o[i]);
		EXPECT_TRUE(w_->moved(
			{{"free_slowpath", 15}, {"cpu_partial_free", 1}, {"free_frozen", 14}}));
		release(o[16]);
		release(o[32]);
		EXPECT_TRUE(w_->moved({{"free_slowpath", 2}, {"cpu_partial_free", 2}}));
		release(o[48]);
		EXPECT_TRUE(w_->moved({{"free_slowpath", 1},
				       {"cpu_partial_free", 1},
				       {"free_add_partial", 3},
				       {"cpu_partial_drain", 1}}));
		release(o[64]);
		EXPECT_TRUE(w_->moved({{"free_fastpath", 1}}));
		flush_by_hotplug(1);
		EXPECT_TRUE(w_->moved({{"deactivate_to_head", 1},
				       {"cpuslab_flush", 1},
				       {"free_add_partial", 1}}));
		return o;
	}

	kslub_t *k_ = nullptr;
	kslub_cache_t *s_ = nullptr;
	kslub_test::ReportLog log_;
	std::unique_ptr<StatWatch> w_;
	std::vector<void *> held_;
};

TEST_F(SlowPath, CacheGeometryIsTheHandWorkedOne)
{
	kslub_geometry g{};
	ASSERT_EQ(kslub_cache_geometry(s_, &g), 0);
	EXPECT_EQ(g.object_size, 1024u);
	EXPECT_EQ(g.slab_size, 1024u);
	EXPECT_EQ(g.align, 8u);
	EXPECT_EQ(g.offset, 512u);
	EXPECT_EQ(g.order, 2u);
	EXPECT_EQ(g.objs_per_slab, kObjs);
	EXPECT_EQ(g.min_order, 0u);
	EXPECT_EQ(g.min_objects, 4u);
	EXPECT_EQ(g.cpu_partial, 24u);
	EXPECT_EQ(g.cpu_partial_slabs, 3u);
	EXPECT_EQ(g.min_partial, 5u);
	EXPECT_TRUE(census_is(s_, Census{0, 0, 0, 0, 0, 0, 0}));
}

/* ___slab_alloc with no CPU slab, no partial slab anywhere: new_slab. */
TEST_F(SlowPath, FirstAllocOfANewCacheTakesANewSlab)
{
	uint64_t pool_before = pool_free_pages(k_);
	void *a = alloc();
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1}, {"alloc_slab", 1}}));
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 16, 1, 15}));
	EXPECT_EQ(pool_before - pool_free_pages(k_), 4u); /* one order-2 block */

	/* The rest come from the CPU freelist: the lockless fast path. */
	void *b = alloc();
	EXPECT_TRUE(w_->moved({{"alloc_fastpath", 1}}));
	if (!CONFIG_KSLUB_FREELIST_RANDOM)
		EXPECT_EQ(uintptr_t(b),
			  uintptr_t(a) + 1024); /* a new slab's freelist runs in address order */
	EXPECT_EQ(slab_of(b), slab_of(a));
	release(b);
	EXPECT_TRUE(w_->moved({{"free_fastpath", 1}}));
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 16, 1, 15}));
	/* LIFO: the object just freed is the next one handed out. */
	EXPECT_EQ(alloc(), b);
	EXPECT_TRUE(w_->moved({{"alloc_fastpath", 1}}));
	/* The counters land on the CPU that saw the event. */
	EXPECT_EQ(kslub_cache_stat(s_, unsigned(kslub_test::stat_index("alloc_fastpath")), 0), 2u);
	EXPECT_EQ(kslub_cache_stat(s_, unsigned(kslub_test::stat_index("alloc_fastpath")), 1), 0u);
}

/*
 * ALLOC_REFILL: CPU 0 takes all 16 objects of its slab; CPU 1 frees one.
 * That slab is not CPU 1's, so __slab_free: the slab is frozen (CPU 0's),
 * the object goes on the slab's own freelist (FREE_FROZEN). CPU 0's next
 * alloc finds its CPU freelist empty, and get_freelist() takes the slab's.
 */
TEST_F(SlowPath, RemoteFreeToACpuSlabIsTakenByTheNextAllocAsARefill)
{
	std::vector<void *> o = alloc_n(kObjs);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1}, {"alloc_slab", 1}, {"alloc_fastpath", 15}}));
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 16, 16, 0}));

	cpu(1);
	release(o[3]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}, {"free_frozen", 1}}));
	EXPECT_EQ(kslub_cache_stat(s_, unsigned(kslub_test::stat_index("free_frozen")), 1), 1u);
	EXPECT_EQ(kslub_cache_stat(s_, unsigned(kslub_test::stat_index("free_frozen")), 0), 0u);
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 16, 15, 1}));

	cpu(0);
	EXPECT_EQ(alloc(), o[3]);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1}, {"alloc_refill", 1}}));
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 16, 16, 0}));
}

/*
 * DEACTIVATE_BYPASS: the CPU slab is exhausted and nobody freed to it:
 * get_freelist() returns NULL and unfreezes it (full, on no list); the
 * slow path goes on to a new slab.
 */
TEST_F(SlowPath, ExhaustedCpuSlabWithoutRemoteFreesIsBypassed)
{
	alloc_n(kObjs);
	w_->arm();
	void *p = alloc();
	EXPECT_TRUE(
		w_->moved({{"alloc_slowpath", 1}, {"deactivate_bypass", 1}, {"alloc_slab", 1}}));
	/* Two slabs: the full one frozen by nobody and on no list, the new CPU slab. */
	EXPECT_TRUE(census_is(s_, Census{2, 1, 0, 0, 32, 17, 15}));
	EXPECT_NE(slab_of(p), slab_of(held_[0]));
}

/*
 * CPU_PARTIAL_FREE: freeing to a full unfrozen slab (the bypassed one)
 * freezes it onto this CPU's partial list (__slab_free, !prior). A second
 * free finds it frozen. CPU_PARTIAL_ALLOC: once the CPU slab runs out, the
 * slow path bypasses it, takes the partial slab as CPU slab and refills
 * from its freelist (the freed objects, last freed first).
 */
TEST_F(SlowPath, FreeToAFullSlabFreezesItOntoTheCpuPartialListAndAllocTakesItBack)
{
	std::vector<void *> o =
		alloc_n(kObjs + 1); /* slab A full and unfrozen, slab B with one object */
	w_->arm();
	release(o[0]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}, {"cpu_partial_free", 1}}));
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 1, 32, 16, 16}));
	release(o[1]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}, {"free_frozen", 1}}));
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 1, 32, 15, 17}));

	alloc_n(kObjs - 1); /* the rest of B */
	EXPECT_TRUE(w_->moved({{"alloc_fastpath", 15}}));
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 1, 32, 30, 2}));

	EXPECT_EQ(alloc(), o[1]);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1},
			       {"deactivate_bypass", 1},
			       {"cpu_partial_alloc", 1},
			       {"alloc_refill", 1}}));
	EXPECT_TRUE(census_is(s_, Census{2, 1, 0, 0, 32, 31, 1}));
	EXPECT_EQ(alloc(), o[0]);
	EXPECT_TRUE(w_->moved({{"alloc_fastpath", 1}}));
}

/*
 * CPU_PARTIAL_DRAIN, then the node refill. Five full slabs A..E (E the CPU
 * slab); one object freed from each of A, B, C puts them on the CPU partial
 * list (3 = cpu_partial_slabs); the free to D finds the list full, unfreezes
 * C, B, A to the node (FREE_ADD_PARTIAL each, tail) and starts a new list
 * with D.
 * validate flushes: E (full, nothing on its CPU freelist) is deactivated
 * full, D unfrozen to the node tail: node list C, B, A, D.
 * ALLOC_FROM_PARTIAL + CPU_PARTIAL_NODE: get_partial_node takes C as the
 * CPU slab, then B and A to the CPU partial list, and stops because
 * 2 > cpu_partial_slabs / 2 = 1; D stays on the node.
 */
TEST_F(SlowPath, CpuPartialListDrainsAndTheNodeListRefillsTheCpu)
{
	std::vector<void *> o = alloc_n(5 * kObjs);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 5},
			       {"alloc_slab", 5},
			       {"deactivate_bypass", 4},
			       {"alloc_fastpath", 75}}));
	EXPECT_TRUE(census_is(s_, Census{5, 1, 0, 0, 80, 80, 0}));

	release(o[0]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}, {"cpu_partial_free", 1}}));
	release(o[16]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}, {"cpu_partial_free", 1}}));
	release(o[32]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}, {"cpu_partial_free", 1}}));
	EXPECT_TRUE(census_is(s_, Census{5, 4, 0, 3, 80, 77, 3}));

	release(o[48]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1},
			       {"cpu_partial_free", 1},
			       {"free_add_partial", 3},
			       {"cpu_partial_drain", 1}}));
	EXPECT_TRUE(census_is(s_, Census{5, 2, 3, 1, 80, 76, 4}));

	EXPECT_EQ(kslub_cache_validate(s_), 0);
	EXPECT_TRUE(
		w_->moved({{"deactivate_full", 1}, {"cpuslab_flush", 1}, {"free_add_partial", 1}}));
	EXPECT_TRUE(census_is(s_, Census{5, 0, 4, 0, 80, 76, 4}));

	/* C's only free object. */
	EXPECT_EQ(alloc(), o[32]);
	EXPECT_TRUE(w_->moved(
		{{"alloc_slowpath", 1}, {"alloc_from_partial", 1}, {"cpu_partial_node", 2}}));
	EXPECT_TRUE(census_is(s_, Census{5, 3, 1, 2, 80, 77, 3}));

	/* C is exhausted: bypass it, take A (pushed last, the head of the CPU partial chain). */
	EXPECT_EQ(alloc(), o[0]);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1},
			       {"deactivate_bypass", 1},
			       {"cpu_partial_alloc", 1},
			       {"alloc_refill", 1}}));
	EXPECT_TRUE(census_is(s_, Census{5, 2, 1, 1, 80, 78, 2}));
	/* Then B. */
	EXPECT_EQ(alloc(), o[16]);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1},
			       {"deactivate_bypass", 1},
			       {"cpu_partial_alloc", 1},
			       {"alloc_refill", 1}}));
	/* Then D from the node, alone there. */
	EXPECT_EQ(alloc(), o[48]);
	EXPECT_TRUE(w_->moved(
		{{"alloc_slowpath", 1}, {"deactivate_bypass", 1}, {"alloc_from_partial", 1}}));
	EXPECT_TRUE(census_is(s_, Census{5, 1, 0, 0, 80, 80, 0}));
}

/*
 * Flushes (flush_slab / __flush_cpu_slab via CPU hotplug): deactivate_slab
 * with objects left on the CPU freelist and no remote frees puts the slab at
 * the head of the node list.
 */
TEST_F(SlowPath, FlushOfACpuSlabWithFreeObjectsGoesToTheListHead)
{
	void *a = alloc();
	w_->arm();
	flush_by_hotplug(0);
	EXPECT_TRUE(w_->moved({{"deactivate_to_head", 1}, {"cpuslab_flush", 1}}));
	EXPECT_TRUE(census_is(s_, Census{1, 0, 1, 0, 16, 1, 15}));

	/* The lone partial slab becomes CPU 0's again; nothing else to move. */
	cpu(0);
	void *b = alloc();
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1}, {"alloc_from_partial", 1}}));
	EXPECT_EQ(slab_of(b), slab_of(a));
	if (!CONFIG_KSLUB_FREELIST_RANDOM)
		EXPECT_EQ(uintptr_t(b), uintptr_t(a) + 1024);
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 16, 2, 14}));
}

/* An empty CPU slab is kept (at the head) while the node has fewer than min_partial = 5 partial slabs. */
TEST_F(SlowPath, FlushOfAnEmptyCpuSlabKeepsItBelowMinPartial)
{
	void *a = alloc();
	release(a);
	w_->arm();
	uint64_t pool_before = pool_free_pages(k_);
	flush_by_hotplug(0);
	EXPECT_TRUE(w_->moved({{"deactivate_to_head", 1}, {"cpuslab_flush", 1}}));
	EXPECT_TRUE(census_is(s_, Census{1, 0, 1, 0, 16, 0, 16}));
	EXPECT_EQ(pool_free_pages(k_), pool_before);
}

TEST_F(SlowPath, FlushOfAFullCpuSlabLeavesItOnNoList)
{
	std::vector<void *> o = alloc_n(kObjs);
	w_->arm();
	flush_by_hotplug(0);
	EXPECT_TRUE(w_->moved({{"deactivate_full", 1}, {"cpuslab_flush", 1}}));
	EXPECT_TRUE(census_is(s_, Census{1, 0, 0, 0, 16, 16, 0}));
	/* A free to it later is a free to a full unfrozen slab: it goes to the CPU partial list. */
	cpu(0);
	release(o[5]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}, {"cpu_partial_free", 1}}));
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 1, 16, 15, 1}));
}

/*
 * DEACTIVATE_REMOTE_FREES / DEACTIVATE_TO_TAIL: a CPU slab that other CPUs
 * freed to goes to the tail. Made observable with two slabs:
 *   CPU 0 takes y1, y2 from slab Y. CPU 1 takes x from a new slab X and
 *   frees y1 (Y is frozen on CPU 0: FREE_FROZEN).
 *   Hotplug CPU 1: X, no remote frees, to the head.
 *   Hotplug CPU 0: Y has a remote free, to the tail. Node list: X, Y.
 *   CPU 0 allocates: X becomes its slab, Y goes to its partial list.
 */
TEST_F(SlowPath, FlushOfACpuSlabWithRemoteFreesGoesToTheListTail)
{
	void *y1 = alloc();
	void *y2 = alloc();
	cpu(1);
	void *x = alloc();
	EXPECT_NE(slab_of(x), slab_of(y1));
	w_->arm();
	release(y1);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}, {"free_frozen", 1}}));

	flush_by_hotplug(1);
	EXPECT_TRUE(w_->moved({{"deactivate_to_head", 1}, {"cpuslab_flush", 1}}));
	flush_by_hotplug(0);
	EXPECT_TRUE(w_->moved(
		{{"deactivate_remote_frees", 1}, {"deactivate_to_tail", 1}, {"cpuslab_flush", 1}}));
	EXPECT_TRUE(census_is(s_, Census{2, 0, 2, 0, 32, 2, 30}));

	cpu(0);
	void *p = alloc();
	EXPECT_TRUE(w_->moved(
		{{"alloc_slowpath", 1}, {"alloc_from_partial", 1}, {"cpu_partial_node", 1}}));
	EXPECT_EQ(slab_of(p), slab_of(x));
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 1, 32, 3, 29}));
	(void)y2;
}

/*
 * DEACTIVATE_EMPTY: CPU 0's slab S is empty when it is flushed and the node
 * already has min_partial = 5 partial slabs: it is given back to the page
 * allocator (FREE_SLAB) instead of being listed.
 */
TEST_F(SlowPath, FlushOfAnEmptyCpuSlabDiscardsItAtMinPartial)
{
	void *x = alloc(); /* S, before the node list fills up */
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1}, {"alloc_slab", 1}}));
	five_partial_slabs_from_cpu1();
	if (HasFailure())
		return;
	EXPECT_TRUE(census_is(s_, Census{6, 1, 5, 0, 96, 62, 34}));

	cpu(0);
	release(x);
	EXPECT_TRUE(w_->moved({{"free_fastpath", 1}}));
	uint64_t pool_before = pool_free_pages(k_);
	flush_by_hotplug(0);
	EXPECT_TRUE(w_->moved({{"deactivate_empty", 1}, {"free_slab", 1}, {"cpuslab_flush", 1}}));
	EXPECT_TRUE(census_is(s_, Census{5, 0, 5, 0, 80, 61, 19}));
	EXPECT_EQ(pool_free_pages(k_) - pool_before, 4u);
}

/*
 * __unfreeze_partials discards too: slab S, emptied while frozen on CPU 0's
 * partial list, is unfrozen at the flush after CPU 0's slab T went to the
 * node, which then has 6 >= min_partial partial slabs: S is given back
 * (DEACTIVATE_EMPTY + FREE_SLAB), T is listed at the head.
 */
TEST_F(SlowPath, FlushDiscardsAnEmptySlabOfTheCpuPartialListAtMinPartial)
{
	std::vector<void *> s = alloc_n(kObjs + 1); /* S full and bypassed, T with one object */
	w_->arm();
	for (unsigned i = 0; i < kObjs; i++)
		release(s[i]);
	EXPECT_TRUE(
		w_->moved({{"free_slowpath", 16}, {"cpu_partial_free", 1}, {"free_frozen", 15}}));
	five_partial_slabs_from_cpu1();
	if (HasFailure())
		return;
	EXPECT_TRUE(census_is(s_, Census{7, 2, 5, 1, 112, 62, 50}));

	uint64_t pool_before = pool_free_pages(k_);
	flush_by_hotplug(0);
	EXPECT_TRUE(w_->moved({{"deactivate_to_head", 1},
			       {"cpuslab_flush", 1},
			       {"deactivate_empty", 1},
			       {"free_slab", 1}}));
	EXPECT_TRUE(census_is(s_, Census{6, 0, 6, 0, 96, 62, 34}));
	EXPECT_EQ(pool_free_pages(k_) - pool_before, 4u);
}

/*
 * FREE_REMOVE_PARTIAL + FREE_SLAB: the last object of A (a node partial
 * slab) is freed on CPU 0 while the node has 5 >= min_partial partial
 * slabs: A leaves the list and goes back to the page allocator.
 */
TEST_F(SlowPath, FreeEmptyingAPartialSlabDiscardsItAtMinPartial)
{
	std::vector<void *> o = five_partial_slabs_from_cpu1();
	if (HasFailure())
		return;
	EXPECT_TRUE(census_is(s_, Census{5, 0, 5, 0, 80, 61, 19}));
	cpu(0);
	uint64_t pool_before = pool_free_pages(k_);
	release(o[0]);
	EXPECT_TRUE(
		w_->moved({{"free_slowpath", 1}, {"free_remove_partial", 1}, {"free_slab", 1}}));
	EXPECT_TRUE(census_is(s_, Census{4, 0, 4, 0, 64, 60, 4}));
	EXPECT_EQ(pool_free_pages(k_) - pool_before, 4u);
}

/*
 * Below min_partial an emptied partial slab stays: the free of a's slab
 * mate only lowers inuse (no list change, no lock needed); the free of the
 * last one takes the list lock, finds 1 < 5 partial slabs and keeps it.
 */
TEST_F(SlowPath, FreeEmptyingAPartialSlabKeepsItBelowMinPartial)
{
	void *a = alloc();
	void *b = alloc();
	EXPECT_EQ(kslub_cache_validate(s_), 0);
	w_->arm();
	EXPECT_TRUE(census_is(s_, Census{1, 0, 1, 0, 16, 2, 14}));
	uint64_t pool_before = pool_free_pages(k_);
	release(a);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}}));
	release(b);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 1}}));
	EXPECT_TRUE(census_is(s_, Census{1, 0, 1, 0, 16, 0, 16}));
	EXPECT_EQ(pool_free_pages(k_), pool_before);
}

/*
 * kmem_cache_shrink: flush every CPU, give back the empty partial slabs
 * (no counter: __kmem_cache_shrink frees them directly), then sort the rest
 * fullest first (fewest free objects at the head).
 *   48 objects: A, B bypassed full, C the CPU slab. Free all of A and 4 of
 *   B (both frozen onto the CPU partial list, B pushed last) and 10 of C
 *   (fast path).
 *   The flush: C (6 in use) to the head; the chain B, A unfrozen to the
 *   tail: node list C, B, A.
 *   The shrink: A (16 free) is discarded; B has 4 free, C 10: list B, C.
 *   The next alloc takes B, and C goes to the CPU partial list.
 */
TEST_F(SlowPath, ShrinkDiscardsEmptySlabsAndPutsTheFullestFirst)
{
	std::vector<void *> o = alloc_n(3 * kObjs);
	w_->arm();
	for (unsigned i = 0; i < 16; i++)
		release(o[i]);
	for (unsigned i = 16; i < 20; i++)
		release(o[i]);
	for (unsigned i = 32; i < 42; i++)
		release(o[i]);
	EXPECT_TRUE(w_->moved({{"free_slowpath", 20},
			       {"cpu_partial_free", 2},
			       {"free_frozen", 18},
			       {"free_fastpath", 10}}));
	EXPECT_TRUE(census_is(s_, Census{3, 3, 0, 2, 48, 18, 30}));

	uint64_t pool_before = pool_free_pages(k_);
	EXPECT_EQ(kslub_cache_shrink(s_), 1);
	EXPECT_TRUE(w_->moved(
		{{"deactivate_to_head", 1}, {"cpuslab_flush", 1}, {"free_add_partial", 2}}));
	EXPECT_TRUE(census_is(s_, Census{2, 0, 2, 0, 32, 18, 14}));
	EXPECT_EQ(pool_free_pages(k_) - pool_before, 4u);

	void *p = alloc();
	EXPECT_TRUE(w_->moved(
		{{"alloc_slowpath", 1}, {"alloc_from_partial", 1}, {"cpu_partial_node", 1}}));
	EXPECT_EQ(slab_of(p), slab_of(o[16]));
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 1, 32, 19, 13}));
}

/*
 * kmem_cache_alloc_bulk takes objects straight off the CPU freelist (no
 * fast-path counter) and calls ___slab_alloc when it runs dry:
 *   20 objects: slow path with a new slab (1), 15 popped, slow path again:
 *   bypass and a new slab (1), 3 popped.
 * kmem_cache_free_bulk groups objects of one slab from the end of the
 * array, looking past at most 3 objects of other slabs:
 *   p[19..16] are the CPU slab's: one fast-path free of 4.
 *   p[15..0] are the first slab's, full and unfrozen: one __slab_free of 16
 *   that freezes it onto the CPU partial list.
 */
TEST_F(SlowPath, BulkAllocAndFree)
{
	void *p[20] = {};
	ASSERT_EQ(kslub_cache_alloc_bulk(s_, 0, 20, p), 20);
	EXPECT_TRUE(
		w_->moved({{"alloc_slowpath", 2}, {"alloc_slab", 2}, {"deactivate_bypass", 1}}));
	EXPECT_TRUE(census_is(s_, Census{2, 1, 0, 0, 32, 20, 12}));
	for (int i = 0; i < 20; i++) {
		ASSERT_NE(p[i], nullptr);
		EXPECT_EQ(slab_of(p[i]), slab_of(p[i < 16 ? 0 : 16])) << i;
	}
	EXPECT_NE(slab_of(p[0]), slab_of(p[16]));
	void *first[20];
	std::copy(p, p + 20, first);

	ASSERT_EQ(kslub_cache_free_bulk(s_, 20, p), 0);
	EXPECT_TRUE(
		w_->moved({{"free_fastpath", 1}, {"free_slowpath", 1}, {"cpu_partial_free", 1}}));
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 1, 32, 0, 32}));
	for (void *q : p)
		EXPECT_EQ(q, nullptr);

	/*
	 * Again: the CPU slab has 12 + 4 = 16 free objects, popped; then the
	 * slow path bypasses it and takes the (empty) CPU partial slab.
	 */
	ASSERT_EQ(kslub_cache_alloc_bulk(s_, 0, 20, p), 20);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1},
			       {"deactivate_bypass", 1},
			       {"cpu_partial_alloc", 1},
			       {"alloc_refill", 1}}));
	EXPECT_TRUE(census_is(s_, Census{2, 1, 0, 0, 32, 20, 12}));
	for (void *q : p)
		held_.push_back(q);
	EXPECT_EQ(slab_of(p[0]), slab_of(first[16]));
	EXPECT_EQ(slab_of(p[16]), slab_of(first[0]));
}

/* ------------------------------------------------------------------------- */

/* ORDER_FALLBACK on kmalloc-1k (order 2, minimum order 0) and failures with nothing to fall back on. */
TEST_F(SlowPath, OrderFallbackWhenThePreferredOrderFails)
{
	kslub_cache_t *km = kslub_kmalloc_cache(k_, 1000);
	ASSERT_NE(km, nullptr);
	EXPECT_STREQ(kslub_cache_name(km), "kmalloc-1k");
	kslub_geometry g{};
	ASSERT_EQ(kslub_cache_geometry(km, &g), 0);
	EXPECT_EQ(g.order, 2u);
	EXPECT_EQ(g.min_order, 0u);
	EXPECT_EQ(g.min_objects, 4u);
	StatWatch w(km);
	std::vector<void *> mine;

	uint64_t pool_before = pool_free_pages(k_);
	kslub_fail_next(k_, 1);
	mine.push_back(kslub_kmalloc(k_, 1000, 0));
	ASSERT_NE(mine.back(), nullptr);
	EXPECT_TRUE(w.moved({{"alloc_slowpath", 1}, {"order_fallback", 1}, {"alloc_slab", 1}}));
	EXPECT_TRUE(census_is(km, Census{1, 1, 0, 0, 4, 1, 3}));
	EXPECT_EQ(pool_before - pool_free_pages(k_), 1u); /* one order-0 page */

	for (int i = 0; i < 3; i++)
		mine.push_back(kslub_kmalloc(k_, 1000, 0));
	EXPECT_TRUE(w.moved({{"alloc_fastpath", 3}}));
	/* The fifth needs a new slab, at the preferred order again. */
	mine.push_back(kslub_kmalloc(k_, 1000, 0));
	EXPECT_TRUE(w.moved({{"alloc_slowpath", 1}, {"deactivate_bypass", 1}, {"alloc_slab", 1}}));
	EXPECT_TRUE(census_is(km, Census{2, 1, 0, 0, 20, 5, 15}));
	EXPECT_EQ(pool_before - pool_free_pages(k_), 5u);

	for (int i = 0; i < 15; i++)
		mine.push_back(kslub_kmalloc(k_, 1000, 0));
	EXPECT_TRUE(w.moved({{"alloc_fastpath", 15}}));
	/* Both orders fail: the exhausted CPU slab is bypassed, then no slab: NULL. */
	kslub_fail_next(k_, 2);
	EXPECT_EQ(kslub_kmalloc(k_, 1000, 0), nullptr);
	EXPECT_TRUE(w.moved({{"alloc_slowpath", 1}, {"deactivate_bypass", 1}}));
	EXPECT_TRUE(census_is(km, Census{2, 0, 0, 0, 20, 20, 0}));
	/* Nothing pending any more: straight to a new slab (there is no CPU slab to bypass). */
	mine.push_back(kslub_kmalloc(k_, 1000, 0));
	ASSERT_NE(mine.back(), nullptr);
	EXPECT_TRUE(w.moved({{"alloc_slowpath", 1}, {"alloc_slab", 1}}));
	EXPECT_TRUE(census_is(km, Census{3, 1, 0, 0, 36, 21, 15}));

	for (void *q : mine)
		EXPECT_EQ(kslub_kfree(k_, q), 0);
	EXPECT_EQ(kslub_cache_validate(km), 0);
	EXPECT_TRUE(live_is(km, 0));
}

/* ------------------------------------------------------------------------- */

/* Two nodes, 8 MiB each; CPU c is on node c * 2 / 2 = c. Node 1 starts with 2 free top blocks and nothing else. */
class SlowPathTwoNodes : public SlowPath {
protected:
	unsigned nodes() const override { return 2; }
};

TEST_F(SlowPathTwoNodes, AllocOnAnotherNodeDeactivatesTheCpuSlab)
{
	ASSERT_EQ(kslub_buddy_nr_free(k_, 1, 10), 2u);
	for (unsigned o = 0; o < 10; o++)
		ASSERT_EQ(kslub_buddy_nr_free(k_, 1, o), 0u) << o;

	void *a = alloc();
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1}, {"alloc_slab", 1}}));
	EXPECT_EQ(kslub_buddy_nr_free(k_, 1, 10), 2u); /* CPU 0's slab came from node 0 */

	/*
	 * ALLOC_NODE_MISMATCH: the CPU slab is on node 0; it is deactivated
	 * (15 free objects: head of node 0's list) and, node 1 having no partial
	 * slab, a new slab comes from node 1: one top block split down to order
	 * 2, leaving one free block at each of orders 2..9 there.
	 */
	void *b = alloc_node(1);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1},
			       {"alloc_node_mismatch", 1},
			       {"deactivate_to_head", 1},
			       {"alloc_slab", 1}}));
	EXPECT_EQ(kslub_buddy_nr_free(k_, 1, 10), 1u);
	for (unsigned o = 0; o < 10; o++)
		EXPECT_EQ(kslub_buddy_nr_free(k_, 1, o), o >= 2 ? 1u : 0u) << o;
	EXPECT_NE(slab_of(b), slab_of(a));
	EXPECT_TRUE(census_is(s_, Census{2, 1, 1, 0, 32, 2, 30}));

	/* The CPU slab is on node 1 now: node 1 and "any node" are both fast. */
	alloc_node(1);
	EXPECT_TRUE(w_->moved({{"alloc_fastpath", 1}}));
	alloc();
	EXPECT_TRUE(w_->moved({{"alloc_fastpath", 1}}));
	/* A node that does not exist: the slow path drops the node and uses the CPU slab. */
	void *c = alloc_node(3);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1}}));
	EXPECT_EQ(slab_of(c), slab_of(b));

	/*
	 * Back to node 0: mismatch again, the node-1 slab (4 in use) goes to the
	 * head of node 1's list, and node 0's partial slab (a's) is taken.
	 */
	void *d = alloc_node(0);
	EXPECT_TRUE(w_->moved({{"alloc_slowpath", 1},
			       {"alloc_node_mismatch", 1},
			       {"deactivate_to_head", 1},
			       {"alloc_from_partial", 1}}));
	EXPECT_EQ(slab_of(d), slab_of(a));
	EXPECT_TRUE(census_is(s_, Census{2, 1, 1, 0, 32, 6, 26}));
}

} // namespace
