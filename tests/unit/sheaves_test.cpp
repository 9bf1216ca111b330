// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sheaves and the barn (core/slub/sheaf.h), through the C API. Capacities
 * are the ones a Linux 7.3 guest shows (tests/data/caches-linux-7.3.txt);
 * the sequences below are worked by hand from mm/slub.c's rules: which
 * sheaf an allocation or free uses, when the barn trades, what is counted.
 * A 4096-byte cache on 7.3 has sheaves of 4 and slabs of 8 objects.
 */
#include "test_util.h"

#include "slub/slub.h"
#include "user_platform.h"

#include <atomic>
#include <random>
#include <set>
#include <thread>

using kslub_test::Census;
using kslub_test::ReportLog;
using kslub_test::StatWatch;

namespace {

constexpr unsigned kCap = 4; /* sheaf_capacity of a 4096-byte cache on 7.3 */

class Sheaves : public ::testing::Test {
protected:
	void make(unsigned flags, unsigned cpus = 2, unsigned nodes = 1)
	{
		int err = 1;
		k_ = kslub_create(size_t(32) << 20, cpus, nodes, KSLUB_DETERMINISTIC | flags, &err);
		ASSERT_NE(k_, nullptr) << err;
		log_.attach(k_);
	}
	void SetUp() override
	{
		make(KSLUB_KERNEL_7_3);
		int err = 1;
		s_ = kslub_cache_create(k_, "sheaved-4k", 4096, 0, 0, nullptr, &err);
		ASSERT_NE(s_, nullptr) << err;
	}
	void TearDown() override
	{
		if (s_)
			EXPECT_EQ(kslub_cache_destroy(s_), 0);
		if (k_)
			EXPECT_EQ(kslub_destroy(k_), 0);
	}
	void *alloc_on(unsigned cpu)
	{
		kslub_set_cpu(k_, cpu);
		void *p = kslub_cache_alloc(s_, KSLUB_GFP_KERNEL);
		EXPECT_NE(p, nullptr);
		return p;
	}
	int free_on(unsigned cpu, void *p)
	{
		kslub_set_cpu(k_, cpu);
		return kslub_cache_free(s_, p);
	}
	kslub_sheaf_cpu pcs(unsigned cpu)
	{
		kslub_sheaf_cpu c{};
		EXPECT_EQ(kslub_cache_sheaf_cpu(s_, cpu, &c), 0);
		return c;
	}
	kslub_barn barn(unsigned node = 0)
	{
		kslub_barn b{};
		EXPECT_EQ(kslub_cache_barn(s_, node, &b), 0);
		return b;
	}

	kslub_t *k_ = nullptr;
	kslub_cache_t *s_ = nullptr;
	ReportLog log_;
};

/* What a 7.3 guest's sheaf_capacity files read, on 2 CPUs. */
TEST(SheafCapacity, KmallocCachesAsLinux73)
{
	int err = 1;
	kslub_t *k = kslub_create(size_t(32) << 20, 2, 1, KSLUB_KERNEL_7_3, &err);
	ASSERT_NE(k, nullptr) << err;
	const std::pair<size_t, unsigned> want[] = {{8, 60},	{64, 60},   {128, 60}, {256, 28},
						    {1024, 12}, {2048, 12}, {4096, 4}, {8192, 4}};
	for (const auto &w : want)
		EXPECT_EQ(kslub_cache_sheaf_capacity(kslub_kmalloc_cache(k, w.first)), w.second)
			<< "kmalloc-" << w.first;
	kslub_cache_t *s = kslub_cache_create(k, "asks-100", 64, 0, 0, nullptr, &err);
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(kslub_cache_sheaf_capacity(s), 60u);
	kslub_cache_t *big =
		kslub_cache_create_sheaves(k, "asks-100b", 64, 0, 0, nullptr, 100, &err);
	ASSERT_NE(big, nullptr);
	EXPECT_EQ(kslub_cache_sheaf_capacity(big), 100u); /* more than the rule, as asked */
	kslub_cache_t *dbg = kslub_cache_create(k, "debug-64", 64, 0, KSLUB_SLAB_CONSISTENCY_CHECKS,
						nullptr, &err);
	ASSERT_NE(dbg, nullptr);
	EXPECT_EQ(kslub_cache_sheaf_capacity(dbg), 0u); /* debug caches have none, as on 7.3 */
	EXPECT_EQ(kslub_cache_destroy(s), 0);
	EXPECT_EQ(kslub_cache_destroy(big), 0);
	EXPECT_EQ(kslub_cache_destroy(dbg), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
}

/* 6.18: only caches that ask; 6.1 and 6.12 refuse; the TID design alone under 7.3 on request. */
TEST(SheafCapacity, WhoGetsSheaves)
{
	ReportLog log;
	for (unsigned flags : {0u, unsigned(KSLUB_KERNEL_6_12), unsigned(KSLUB_KERNEL_6_18),
			       unsigned(KSLUB_KERNEL_7_3 | KSLUB_TID_ONLY)}) {
		SCOPED_TRACE("flags " + std::to_string(flags));
		int err = 1;
		kslub_t *k = kslub_create(size_t(32) << 20, 2, 1, flags, &err);
		ASSERT_NE(k, nullptr) << err;
		log.attach(k);
		EXPECT_EQ(kslub_cache_sheaf_capacity(kslub_kmalloc_cache(k, 64)), 0u);
		kslub_cache_t *s =
			kslub_cache_create_sheaves(k, "asks-32", 64, 0, 0, nullptr, 32, &err);
		if (flags == KSLUB_KERNEL_6_18) {
			ASSERT_NE(s, nullptr) << err;
			EXPECT_EQ(kslub_cache_sheaf_capacity(s), 32u);
			EXPECT_EQ(kslub_cache_destroy(s), 0);
		} else {
			EXPECT_EQ(s, nullptr);
			EXPECT_EQ(err, kslub_test::kEINVAL);
			ASSERT_EQ(log.size(), 1u);
			EXPECT_EQ(log[0].kind, "bad argument");
		}
		log.clear();
		EXPECT_EQ(kslub_cache_create_sheaves(k, "too-big", 64, 0, 0, nullptr, 1025, &err),
			  nullptr);
		EXPECT_EQ(err, kslub_test::kEINVAL);
		EXPECT_EQ(log.size(), 1u);
		log.clear();
		EXPECT_EQ(kslub_destroy(k), 0);
	}
}

/* KSLUB_SHEAVES: 7.x's design under 6.1's geometry (what kslub.ko's sheaves=1 does on 6.1). */
TEST(SheafCapacity, SheavesEverywhereUnder61)
{
	int err = 1;
	EXPECT_EQ(kslub_create(size_t(32) << 20, 2, 1, KSLUB_SHEAVES | KSLUB_TID_ONLY, &err),
		  nullptr);
	EXPECT_EQ(err, kslub_test::kEINVAL);
	kslub_t *k =
		kslub_create(size_t(32) << 20, 2, 1, KSLUB_DETERMINISTIC | KSLUB_SHEAVES, &err);
	ASSERT_NE(k, nullptr) << err;
	kslub_cache_t *km = kslub_kmalloc_cache(k, 64);
	EXPECT_EQ(kslub_cache_sheaf_capacity(km), 60u);
	kslub_geometry g{};
	ASSERT_EQ(kslub_cache_geometry(km, &g), 0);
	EXPECT_EQ(g.cpu_partial, 0u); /* no CPU slab, no CPU partial list */
	ASSERT_EQ(kslub_cache_geometry(kslub_kmalloc_cache(k, 96), &g), 0);
	EXPECT_EQ(g.align, 8u); /* 6.1 (6.12 on: 32) */
	StatWatch w(km);
	void *p = kslub_kmalloc(k, 64, 0);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(kslub_kfree(k, p), 0);
	if (CONFIG_KSLUB_STATS) {
		EXPECT_EQ(kslub_cache_stat(km, kslub_stat_index("alloc_fastpath"), -1), 1u);
		EXPECT_EQ(kslub_cache_stat(km, kslub_stat_index("free_fastpath"), -1), 1u);
		EXPECT_EQ(kslub_cache_stat(km, kslub_stat_index("sheaf_refill"), -1), 60u);
	}
	kslub_census c = kslub_test::census_of(km);
	EXPECT_EQ(c.frozen_slabs, 0u);
	EXPECT_EQ(c.live_objects, 0u);
	kslub_cache_t *s = kslub_cache_create_sheaves(k, "asks", 64, 0, 0, nullptr, 100, &err);
	ASSERT_NE(s, nullptr) << err;
	EXPECT_EQ(kslub_cache_sheaf_capacity(s), 100u);
	EXPECT_EQ(kslub_cache_destroy(s), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
}

/*
 * A cache's own design beside the instance's: under 6.1's rules (TID) a cache
 * created with KSLUB_SLAB_DESIGN_SHEAVES runs 7.x's design (the 7.3 guest's
 * kmalloc-64 has sheaf_capacity 60 and cpu_partial 0), and under 7.3's rules
 * one created with KSLUB_SLAB_DESIGN_TID keeps a frozen CPU slab and no sheaves.
 */
TEST(SheafCapacity, PerCacheDesign)
{
	ReportLog log;
	for (unsigned kflags : {0u, unsigned(KSLUB_KERNEL_7_3)}) {
		SCOPED_TRACE("kernel flags " + std::to_string(kflags));
		int err = 1;
		kslub_t *k =
			kslub_create(size_t(32) << 20, 2, 1, KSLUB_DETERMINISTIC | kflags, &err);
		ASSERT_NE(k, nullptr) << err;
		log.attach(k);
		kslub_cache_t *tid =
			kslub_cache_create(k, "d-tid", 64, 0, KSLUB_SLAB_DESIGN_TID, nullptr, &err);
		ASSERT_NE(tid, nullptr) << err;
		kslub_cache_t *sh = kslub_cache_create(k, "d-sheaves", 64, 0,
						       KSLUB_SLAB_DESIGN_SHEAVES, nullptr, &err);
		ASSERT_NE(sh, nullptr) << err;
		EXPECT_EQ(kslub_cache_sheaf_capacity(tid), 0u);
		EXPECT_EQ(kslub_cache_sheaf_capacity(sh), 60u);
		kslub_geometry g{};
		ASSERT_EQ(kslub_cache_geometry(sh, &g), 0);
		EXPECT_EQ(g.cpu_partial, 0u);
		StatWatch wt(tid), ws(sh);
		void *a = kslub_cache_alloc(tid, 0);
		void *b = kslub_cache_alloc(sh, 0);
		ASSERT_NE(a, nullptr);
		ASSERT_NE(b, nullptr);
		/* The TID design holds its slab as the CPU slab (frozen); 7.x's has none. */
		EXPECT_EQ(kslub_test::census_of(tid).frozen_slabs, 1u);
		EXPECT_EQ(kslub_test::census_of(sh).frozen_slabs, 0u);
		EXPECT_EQ(kslub_cache_free(tid, a), 0);
		EXPECT_EQ(kslub_cache_free(sh, b), 0);
		if (CONFIG_KSLUB_STATS) {
			EXPECT_EQ(kslub_cache_stat(tid, kslub_stat_index("sheaf_refill"), -1), 0u);
			EXPECT_EQ(kslub_cache_stat(tid, kslub_stat_index("alloc_slab"), -1), 1u);
			EXPECT_EQ(kslub_cache_stat(sh, kslub_stat_index("sheaf_refill"), -1), 60u);
			EXPECT_EQ(kslub_cache_stat(sh, kslub_stat_index("alloc_fastpath"), -1), 1u);
			EXPECT_EQ(kslub_cache_stat(sh, kslub_stat_index("free_fastpath"), -1), 1u);
		}
		EXPECT_EQ(log.size(), 0u);
		/* One design per cache, and no sheaf capacity for a TID cache. */
		EXPECT_EQ(kslub_cache_create(k, "d-both", 64, 0,
					     KSLUB_SLAB_DESIGN_TID | KSLUB_SLAB_DESIGN_SHEAVES,
					     nullptr, &err),
			  nullptr);
		EXPECT_EQ(err, kslub_test::kEINVAL);
		EXPECT_EQ(kslub_cache_create_sheaves(k, "d-tid-cap", 64, 0, KSLUB_SLAB_DESIGN_TID,
						     nullptr, 32, &err),
			  nullptr);
		EXPECT_EQ(err, kslub_test::kEINVAL);
		EXPECT_EQ(log.size(), 2u);
		log.clear();
		EXPECT_EQ(kslub_cache_destroy(tid), 0);
		EXPECT_EQ(kslub_cache_destroy(sh), 0);
		EXPECT_EQ(kslub_destroy(k), 0);
	}
}

/*
 * The main sheaf, its refills from the slab layer and the trades with the
 * barn, step by step on two CPUs (the sequence of the file comment's
 * worked example in README's sheaves section).
 */
TEST_F(Sheaves, RefillSwapAndBarnTrades)
{
	StatWatch w(s_);
	/* 1st allocation: empty main, no spare, empty barn: a new sheaf refilled from a new slab. */
	std::vector<void *> a{alloc_on(0)};
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"alloc_fastpath", 1},
				     {"barn_get_fail", 1},
				     {"sheaf_alloc", 1},
				     {"alloc_slab", 1},
				     {"sheaf_refill", kCap}}));
	EXPECT_EQ(pcs(0).main_size, kCap - 1);
	EXPECT_FALSE(pcs(0).has_spare);
	EXPECT_EQ(barn().nr_empty, 1u); /* the old, empty main */
	/* One slab of 8: 4 in the sheaf (3 left), 4 on its freelist, on the partial list. */
	EXPECT_TRUE(kslub_test::census_is(s_, Census{1, 0, 1, 0, 8, 1, 7, kCap - 1,
						     3 /* 2 mains, 1 in the barn */, 0}));
	for (int i = 0; i < 3; i++)
		a.push_back(alloc_on(0));
	/* 5th: the barn's empty sheaf is refilled, this time from the partial slab. */
	a.push_back(alloc_on(0));
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"alloc_fastpath", 4},
				     {"barn_get_fail", 1},
				     {"alloc_from_partial", 1},
				     {"sheaf_refill", kCap}}));
	EXPECT_EQ(pcs(0).main_size, kCap - 1);
	EXPECT_EQ(barn().nr_empty, 1u);
	EXPECT_TRUE(kslub_test::census_is(s_, Census{1, 0, 0, 0, 8, 5, 3, 3, 3, 0}));

	/* Frees fill the main, then the barn's empty sheaf becomes main and the full one spare. */
	for (size_t i = a.size(); i-- > 0;)
		EXPECT_EQ(free_on(0, a[i]), 0);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"free_fastpath", 5}}));
	EXPECT_EQ(pcs(0).main_size, kCap);
	EXPECT_EQ(pcs(0).spare_size, kCap);
	EXPECT_EQ(barn().nr_empty, 0u);
	EXPECT_TRUE(kslub_test::census_is(s_, Census{1, 0, 0, 0, 8, 0, 8, 8, 3, 0}));
	/* LIFO: the object freed last comes back first. */
	EXPECT_EQ(alloc_on(0), a[0]);
	EXPECT_EQ(free_on(0, a[0]), 0);

	/* CPU 1 refills from a second slab; its empty main goes to the barn. */
	void *y = alloc_on(1);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"alloc_fastpath", 2},
				     {"free_fastpath", 1},
				     {"barn_get_fail", 1},
				     {"sheaf_alloc", 1},
				     {"alloc_slab", 1},
				     {"sheaf_refill", kCap}}));
	EXPECT_EQ(barn().nr_empty, 1u);
	/* CPU 0's main and spare are full: its full main is traded for that empty sheaf. */
	EXPECT_EQ(free_on(0, y), 0);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"free_fastpath", 1}, {"barn_put", 1}}));
	EXPECT_EQ(pcs(0).main_size, 1u);
	EXPECT_EQ(pcs(0).spare_size, kCap);
	kslub_barn b = barn();
	EXPECT_EQ(b.nr_full, 1u);
	EXPECT_EQ(b.nr_empty, 0u);
	EXPECT_EQ(b.objects, kCap);
	/* CPU 1 empties its main, then takes the barn's full sheaf: CPU 0's, a[0] on top. */
	std::vector<void *> c;
	for (int i = 0; i < 3; i++)
		c.push_back(alloc_on(1));
	void *z = alloc_on(1);
	EXPECT_EQ(z, a[0]);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"alloc_fastpath", 4}, {"barn_get", 1}}));
	EXPECT_EQ(barn().nr_full, 0u);
	EXPECT_EQ(barn().nr_empty, 1u);
	c.push_back(z);
	for (void *p : c)
		EXPECT_EQ(free_on(1, p), 0);

	/* Shrink: every sheaf back to the slabs, the barn emptied, the slabs freed. */
	EXPECT_EQ(kslub_cache_shrink(s_), 2);
	EXPECT_EQ(pcs(0).main_size, 0u);
	EXPECT_FALSE(pcs(0).has_spare);
	EXPECT_EQ(barn().nr_full + barn().nr_empty, 0u);
	EXPECT_TRUE(kslub_test::census_is(s_, Census{0, 0, 0, 0, 0, 0, 0, 0, 2, 0}));
	EXPECT_EQ(log_.size(), 0u) << log_.dump();
}

/* kfree_rcu: objects wait in the rcu_free sheaf, then a grace period, then the barn. */
TEST_F(Sheaves, KfreeRcuWaitsForTheGracePeriod)
{
	std::set<void *> gone;
	for (unsigned i = 0; i < kCap; i++)
		gone.insert(alloc_on(0));
	StatWatch w(s_);
	for (void *p : gone)
		EXPECT_EQ(kslub_cache_free_rcu(s_, p), 0);
	/* The first took the barn's empty sheaf; the 4th filled it and sent it to call_rcu. */
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"free_rcu_sheaf", kCap}}));
	EXPECT_FALSE(pcs(0).has_rcu_free);
	kslub_census c = kslub_test::census_of(s_);
	EXPECT_EQ(c.live_objects, 0u);
	/* None of them comes back before the grace period ends. */
	std::vector<void *> more;
	for (unsigned i = 0; i < 2 * kCap; i++) {
		more.push_back(alloc_on(0));
		EXPECT_EQ(gone.count(more.back()), 0u);
	}
	w.arm();
	kslub_rcu_barrier(k_);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"barn_put", 1}}));
	kslub_barn b = barn();
	EXPECT_EQ(b.nr_full, 1u);
	EXPECT_EQ(b.objects, kCap);
	for (void *p : more)
		EXPECT_EQ(free_on(0, p), 0);
	EXPECT_TRUE(kslub_test::live_is(s_, 0));
	/* kfree_rcu of a cache without sheaves waits here, then frees. */
	void *q = kslub_kmalloc(k_, 20000, 0);
	ASSERT_NE(q, nullptr);
	EXPECT_EQ(kslub_kfree_rcu(k_, q), 0);
	EXPECT_EQ(log_.size(), 0u) << log_.dump();
}

TEST_F(Sheaves, PrefillAllocReturn)
{
	StatWatch w(s_);
	kslub_set_cpu(k_, 0);
	kslub_sheaf_t *sh = kslub_prefill_sheaf(s_, 0, 3);
	ASSERT_NE(sh, nullptr);
	EXPECT_EQ(kslub_sheaf_size(sh), kCap); /* refilled whole */
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"sheaf_prefill_slow", 1},
				     {"barn_get_fail", 1},
				     {"sheaf_alloc", 1},
				     {"alloc_slab", 1},
				     {"sheaf_refill", kCap}}));
	EXPECT_TRUE(kslub_test::live_is(s_, 0));
	std::vector<void *> got;
	for (unsigned i = 0; i < kCap; i++) {
		got.push_back(kslub_alloc_from_sheaf(s_, 0, sh));
		EXPECT_NE(got.back(), nullptr);
	}
	EXPECT_EQ(kslub_alloc_from_sheaf(s_, 0, sh), nullptr);
	EXPECT_TRUE(kslub_test::live_is(s_, kCap));
	kslub_return_sheaf(s_, 0, sh);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"sheaf_return_fast", 1}}));
	EXPECT_TRUE(pcs(0).has_spare);
	for (void *p : got)
		EXPECT_EQ(free_on(0, p), 0);
	/* Larger than the capacity: a sheaf of its own, flushed when returned. */
	w.arm();
	sh = kslub_prefill_sheaf(s_, 0, 10);
	ASSERT_NE(sh, nullptr);
	EXPECT_EQ(kslub_sheaf_size(sh), 10u);
	EXPECT_TRUE(kslub_test::live_is(s_, 0));
	void *one = kslub_alloc_from_sheaf(s_, 0, sh);
	EXPECT_TRUE(kslub_test::live_is(s_, 1));
	kslub_return_sheaf(s_, 0, sh);
	EXPECT_EQ(free_on(0, one), 0);
	EXPECT_TRUE(kslub_test::live_is(s_, 0));
	if (CONFIG_KSLUB_STATS) {
		EXPECT_EQ(kslub_cache_stat(s_, kslub_stat_index("sheaf_prefill_oversize"), -1), 1u);
		EXPECT_EQ(kslub_cache_stat(s_, kslub_stat_index("sheaf_flush"), -1), 9u);
	}
	EXPECT_EQ(log_.size(), 0u) << log_.dump();
}

/* Offline: the dead CPU's sheaves go back to the slabs (main emptied, spare freed). */
TEST_F(Sheaves, CpuOfflineFlushesMainAndSpare)
{
	std::vector<void *> a;
	for (unsigned i = 0; i < 2 * kCap; i++)
		a.push_back(alloc_on(1));
	for (void *p : a)
		EXPECT_EQ(free_on(1, p), 0);
	EXPECT_EQ(pcs(1).main_size + pcs(1).spare_size, 2 * kCap);
	StatWatch w(s_);
	kslub_set_cpu(k_, 0);
	ASSERT_EQ(kslub_cpu_offline(k_, 1), 0);
	EXPECT_EQ(pcs(1).main_size, 0u);
	EXPECT_FALSE(pcs(1).has_spare);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"sheaf_flush", 2 * kCap},
				     {"sheaf_free", 1},
				     {"free_slowpath", 2},
				     {"free_add_partial", 1},
				     {"free_remove_partial", 0}}));
	kslub_census c = kslub_test::census_of(s_);
	EXPECT_EQ(c.sheaf_objects, 0u);
	EXPECT_EQ(c.live_objects, 0u);
	ASSERT_EQ(kslub_cpu_online(k_, 1), 0);
}

/*
 * 6.18: sheaves in front of the CPU slab. The refill is a bulk allocation
 * from the CPU slab (one slow path: a new slab), hits count as
 * alloc_cpu_sheaf / free_cpu_sheaf, and a cache that did not ask has none.
 */
TEST(Sheaves618, SheavesOverTheTidDesign)
{
	int err = 1;
	kslub_t *k =
		kslub_create(size_t(32) << 20, 2, 1, KSLUB_DETERMINISTIC | KSLUB_KERNEL_6_18, &err);
	ASSERT_NE(k, nullptr);
	kslub_cache_t *s = kslub_cache_create_sheaves(k, "vma-like", 176, 0, 0, nullptr, 4, &err);
	ASSERT_NE(s, nullptr);
	StatWatch w(s);
	void *p = kslub_cache_alloc(s, 0);
	ASSERT_NE(p, nullptr);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"alloc_cpu_sheaf", 1},
				     {"barn_get_fail", 1},
				     {"sheaf_alloc", 1},
				     {"sheaf_refill", 4},
				     {"alloc_slowpath", 1},
				     {"alloc_slab", 1}}));
	EXPECT_EQ(kslub_cache_free(s, p), 0);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"free_cpu_sheaf", 1}}));
	/* The CPU slab holds the rest of the slab; the sheaf 4; nothing live. */
	kslub_census c = kslub_test::census_of(s);
	EXPECT_EQ(c.frozen_slabs, 1u);
	EXPECT_EQ(c.sheaf_objects, 4u);
	EXPECT_EQ(c.live_objects, 0u);
	EXPECT_EQ(kslub_cache_destroy(s), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
}

/* Another node's objects bypass the sheaves both ways. */
TEST(SheavesNuma, RemoteNodeBypassesSheaves)
{
	int err = 1;
	kslub_t *k =
		kslub_create(size_t(32) << 20, 2, 2, KSLUB_DETERMINISTIC | KSLUB_KERNEL_7_3, &err);
	ASSERT_NE(k, nullptr);
	kslub_cache_t *s = kslub_cache_create(k, "numa-4k", 4096, 0, 0, nullptr, &err);
	ASSERT_NE(s, nullptr);
	kslub_set_cpu(k, 0); /* node 0 */
	StatWatch w(s);
	void *p = kslub_cache_alloc_node(s, 0, 1);
	ASSERT_NE(p, nullptr);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"alloc_slowpath", 1}, {"alloc_slab", 1}}));
	EXPECT_EQ(kslub_cache_free(s, p), 0);
	if (CONFIG_KSLUB_STATS)
		EXPECT_TRUE(w.moved({{"free_slowpath", 1}}));
	kslub_sheaf_cpu c{};
	ASSERT_EQ(kslub_cache_sheaf_cpu(s, 0, &c), 0);
	EXPECT_EQ(c.main_size, 0u);
	EXPECT_EQ(kslub_cache_destroy(s), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
}

TEST_F(Sheaves, DoubleFreeOnTopOfTheSheafIsRefused)
{
	if (!CONFIG_KSLUB_FREELIST_HARDENED)
		GTEST_SKIP() << "naive double-free detection is CONFIG_KSLUB_FREELIST_HARDENED's";
	void *p = alloc_on(0);
	EXPECT_EQ(free_on(0, p), 0);
	EXPECT_EQ(free_on(0, p), kslub_test::kEINVAL);
	ASSERT_EQ(log_.size(), 1u);
	EXPECT_EQ(log_[0].kind, "double free");
	log_.clear();
	EXPECT_TRUE(kslub_test::live_is(s_, 0));
}

/* The walker counts each wrong thing once. */
TEST_F(Sheaves, CheckCountsASheafCorruption)
{
	void *p = alloc_on(0);
	auto *cache = reinterpret_cast<kslub::KmemCache<kslub::UserPlatform> *>(s_);
	kslub::SlabSheaf<kslub::UserPlatform> *main = cache->cpu_sheaves->main; /* CPU 0 */
	ASSERT_EQ(main->size, kCap - 1);
	/* A pointer that is no object of this cache in place of one that is. */
	static long bogus;
	void *saved = main->objects()[0];
	main->objects()[0] = &bogus;
	EXPECT_EQ(kslub_cache_check(s_, nullptr), 1);
	ASSERT_EQ(log_.size(), 1u);
	EXPECT_EQ(log_[0].what, "sheaf holds no object of this cache");
	main->objects()[0] = saved;
	/* A size beyond the capacity. */
	main->size = kCap + 1;
	EXPECT_EQ(kslub_cache_check(s_, nullptr), 1);
	EXPECT_EQ(log_.size(), 2u) << log_.dump();
	main->size = kCap - 1;
	log_.clear();
	EXPECT_EQ(kslub_cache_check(s_, nullptr), 0);
	EXPECT_EQ(free_on(0, p), 0);
}

/* Threads on 4 virtual CPUs: sheaves, barn and kfree_rcu under contention, then a clean census. */
TEST(SheavesThreads, ContendedAllocFreeRcu)
{
	int err = 1;
	kslub_t *k = kslub_create(size_t(64) << 20, 4, 2, KSLUB_KERNEL_7_3, &err);
	ASSERT_NE(k, nullptr);
	ReportLog log;
	log.attach(k);
	kslub_cache_t *s = kslub_cache_create_sheaves(k, "mt-128", 128, 0, 0, nullptr, 8, &err);
	ASSERT_NE(s, nullptr);
	std::atomic<unsigned> failures{0};
	auto work = [&](unsigned seed) {
		std::mt19937 rng(seed);
		std::vector<void *> held;
		for (int i = 0; i < 40000; i++) {
			unsigned r = rng() % 8;
			if (held.size() < 64 && r < 4) {
				void *p = (r & 1) ? kslub_kmalloc(k, 100, 0) :
						    kslub_cache_alloc(s, 0);
				if (!p)
					failures++;
				else
					held.push_back(p);
			} else if (!held.empty()) {
				size_t j = rng() % held.size();
				void *p = held[j];
				held[j] = held.back();
				held.pop_back();
				int rc = (r == 7) ? kslub_kfree_rcu(k, p) : kslub_kfree(k, p);
				if (rc)
					failures++;
			}
		}
		for (void *p : held)
			if (kslub_kfree(k, p))
				failures++;
	};
	std::vector<std::thread> t;
	for (unsigned i = 0; i < 4; i++)
		t.emplace_back(work, 1234 + i);
	for (auto &th : t)
		th.join();
	EXPECT_EQ(failures.load(), 0u);
	kslub_rcu_barrier(k);
	EXPECT_TRUE(kslub_test::live_is(s, 0));
	EXPECT_TRUE(kslub_test::live_is(kslub_kmalloc_cache(k, 100), 0));
	EXPECT_EQ(kslub_cache_destroy(s), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
	EXPECT_EQ(log.size(), 0u) << log.dump();
}

} // namespace
