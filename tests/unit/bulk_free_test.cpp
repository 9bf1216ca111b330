// SPDX-License-Identifier: GPL-2.0-only
/*
 * kslub_cache_free_bulk() is all or nothing: every entry is checked before
 * anything is freed, and a refused call leaves the caches, the counters, the
 * page allocator and the array exactly as they were.
 *
 * The cache: 64-byte objects, no flags, 2 CPUs (deterministic mode):
 *   min_objects 12 -> 768 bytes -> order 0, 4096 / 64 = 64 objects per slab,
 *   so an object's slab is its 4 KiB page; cpu_partial 30 (size < 256),
 *   cpu_partial_slabs ceil(30 * 2 / 64) = 1.
 */
#include "test_util.h"

#include <stdio.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace {

using kslub_test::Census;
using kslub_test::census_equal;
using kslub_test::census_is;
using kslub_test::census_of;
using kslub_test::census_str;
using kslub_test::kEFAULT;
using kslub_test::kEINVAL;
using kslub_test::live_is;
using kslub_test::pool_free_pages;

constexpr size_t kPool = size_t(64) << 20;
constexpr unsigned kObjs = 64;

uintptr_t page_of(const void *p)
{
	return uintptr_t(p) & ~uintptr_t(4095);
}

/* Everything a refused bulk free must leave alone. */
struct Snapshot {
	kslub_census census[2];
	long errors[2];
	std::vector<uint64_t> stats, nr_free;
	uint64_t pool_free;
};

class BulkFree : public ::testing::Test {
protected:
	void SetUp() override
	{
		int err = 1;
		k_ = kslub_create(kPool, 2, 1, KSLUB_DETERMINISTIC, &err);
		ASSERT_NE(k_, nullptr) << err;
		log_.attach(k_);
		cpu(0);
		s_ = kslub_cache_create(k_, "bulk-64", 64, 0, 0, nullptr, &err);
		ASSERT_NE(s_, nullptr) << err;
		other_ = kslub_cache_create(k_, "bulk-other", 64, 0, 0, nullptr, &err);
		ASSERT_NE(other_, nullptr) << err;
		kslub_geometry g{};
		ASSERT_EQ(kslub_cache_geometry(s_, &g), 0);
		ASSERT_EQ(g.objs_per_slab, kObjs);
		ASSERT_EQ(g.order, 0u);
	}

	void TearDown() override
	{
		if (!k_)
			return;
		for (kslub_cache_t *s : {s_, other_}) {
			EXPECT_EQ(kslub_cache_validate(s), 0);
			EXPECT_TRUE(live_is(s, 0));
			EXPECT_EQ(kslub_cache_destroy(s), 0);
		}
		EXPECT_EQ(kslub_buddy_check(k_), 0);
		EXPECT_EQ(kslub_destroy(k_), 0);
		EXPECT_TRUE(log_.seen.empty()) << "unexpected reports:\n" << log_.dump();
	}

	void cpu(unsigned c) { ASSERT_EQ(kslub_set_cpu(k_, c), 0); }

	void *alloc(kslub_cache_t *s)
	{
		void *p = kslub_cache_alloc(s, 0);
		EXPECT_NE(p, nullptr);
		return p;
	}

	Snapshot snap()
	{
		Snapshot n;
		kslub_cache_t *c[2] = {s_, other_};
		for (int i = 0; i < 2; i++)
			n.errors[i] = kslub_cache_check(c[i], &n.census[i]);
		for (unsigned i = 0; i < KSLUB_NR_STATS; i++)
			n.stats.push_back(kslub_cache_stat(s_, i, -1));
		for (unsigned o = 0; o < KSLUB_MAX_ORDER; o++)
			n.nr_free.push_back(kslub_buddy_nr_free(k_, 0, o));
		n.pool_free = pool_free_pages(k_);
		return n;
	}

	static ::testing::AssertionResult same(const Snapshot &a, const Snapshot &b)
	{
		for (int i = 0; i < 2; i++) {
			if (a.errors[i] || b.errors[i])
				return ::testing::AssertionFailure() << "check found errors";
			if (!census_equal(a.census[i], b.census[i]))
				return ::testing::AssertionFailure()
				       << "census " << census_str(b.census[i]) << ", was "
				       << census_str(a.census[i]);
		}
		if (a.stats != b.stats)
			return ::testing::AssertionFailure() << "counters moved";
		if (a.nr_free != b.nr_free || a.pool_free != b.pool_free)
			return ::testing::AssertionFailure() << "page allocator changed";
		return ::testing::AssertionSuccess();
	}

	/* Exactly one new report, of this kind and explanation; then forget it. */
	void expect_one_report(const char *kind, const char *what, const void *ptr)
	{
		ASSERT_EQ(log_.size(), 1u) << log_.dump();
		EXPECT_EQ(log_[0].kind, kind);
		EXPECT_EQ(log_[0].what, what);
		EXPECT_EQ(log_[0].ptr, ptr);
		log_.clear();
	}

	/* A refused call: the error, one report, nothing changed, the array as it was. */
	void expect_refused(std::vector<void *> v, int rc, const char *kind, const char *what,
			    const void *ptr)
	{
		Snapshot before = snap();
		std::vector<void *> copy = v;
		EXPECT_EQ(kslub_cache_free_bulk(s_, v.size(), v.data()), rc);
		expect_one_report(kind, what, ptr);
		EXPECT_TRUE(same(before, snap()));
		EXPECT_TRUE(v == copy) << "the array of a refused call was changed";
	}

	kslub_t *k_ = nullptr;
	kslub_cache_t *s_ = nullptr, *other_ = nullptr;
	kslub_test::ReportLog log_;
};

/*
 * a, b, c from one slab, b freed: b heads the CPU freelist. Bulk {a, b, c}:
 * b is neither the first nor the last entry, so the chain built from the end
 * (c, b, a) has neither end at the freelist head; linking it in front of b
 * would make a cycle. The whole call is refused.
 */
TEST_F(BulkFree, MiddleObjectAtTheHeadOfTheCpuFreelistIsRefused)
{
	if (!CONFIG_KSLUB_FREELIST_HARDENED)
		GTEST_SKIP() << "the naive check comes with CONFIG_KSLUB_FREELIST_HARDENED";
	void *a = alloc(s_), *b = alloc(s_), *c = alloc(s_);
	ASSERT_EQ(page_of(a), page_of(c));
	ASSERT_EQ(kslub_cache_free(s_, b), 0);
	/* One CPU slab, 64 objects: a and c live; b and the 61 never used are free. */
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 64, 2, 62}));
	expect_refused({a, b, c}, kEINVAL, "double free", "object is already the first free object",
		       b);
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 64, 2, 62}));

	/* The slab hands out its 62 free objects, b among them exactly once, and never a or c. */
	std::vector<void *> got;
	for (unsigned i = 0; i < kObjs - 2; i++)
		got.push_back(alloc(s_));
	EXPECT_EQ(std::count(got.begin(), got.end(), b), 1);
	EXPECT_EQ(std::count(got.begin(), got.end(), a), 0);
	EXPECT_EQ(std::count(got.begin(), got.end(), c), 0);
	std::sort(got.begin(), got.end());
	EXPECT_EQ(std::adjacent_find(got.begin(), got.end()), got.end())
		<< "an object was handed out twice";
	got.push_back(a);
	got.push_back(c);
	EXPECT_EQ(kslub_cache_free_bulk(s_, got.size(), got.data()), 0);
}

/*
 * {c, a, b}: c is the only object of CPU 1's slab; a and b are of slab A,
 * where b heads the slab's freelist (freed from CPU 1 while A was CPU 0's
 * slab). Freeing from the end would free c first and then refuse the chain
 * a -> b. Refused as a whole: c stays allocated.
 */
TEST_F(BulkFree, NothingIsFreedWhenALaterEntryIsBad)
{
	if (!CONFIG_KSLUB_FREELIST_HARDENED)
		GTEST_SKIP() << "the naive check comes with CONFIG_KSLUB_FREELIST_HARDENED";
	void *a = alloc(s_), *b = alloc(s_);
	cpu(1);
	void *c = alloc(s_);
	ASSERT_NE(page_of(c), page_of(a));
	ASSERT_EQ(kslub_cache_free(s_, b), 0); /* remote free: onto A's own freelist */
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 0, 128, 2, 126}));
	expect_refused({c, a, b}, kEINVAL, "double free",
		       "object is already the first free object of its slab", b);
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 0, 128, 2, 126}));
	/* c and a are still allocated: each frees once, without a report. */
	EXPECT_EQ(kslub_cache_free(s_, c), 0);
	EXPECT_EQ(kslub_cache_free(s_, a), 0);
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 0, 128, 0, 128}));
}

/*
 * Objects of seven slabs allocated on both CPUs, with one bad entry at the
 * start, in the middle or at the end of arrays of 24 (checked on the stack)
 * and 300 (checked in scratch pages) entries. Every kind is refused with its
 * error and leaves everything as it was. Then the good entries all free.
 */
TEST_F(BulkFree, EveryKindOfBadEntryLeavesEverythingAsItWas)
{
	std::vector<void *> mine;
	for (int i = 0; i < 100; i++) /* CPU 0: slab A full, slab B with 36 */
		mine.push_back(alloc(s_));
	cpu(1);
	for (int i = 0; i < 300; i++) /* CPU 1: slabs C..F full, G with 44 */
		mine.push_back(alloc(s_));
	std::vector<uintptr_t> slabs;
	for (void *p : mine)
		slabs.push_back(page_of(p));
	std::sort(slabs.begin(), slabs.end());
	slabs.erase(std::unique(slabs.begin(), slabs.end()), slabs.end());
	ASSERT_EQ(slabs.size(), 7u);
	EXPECT_TRUE(census_is(s_, Census{7, 2, 0, 0, 448, 400, 48}));

	/* Misuse material: an object heading CPU 0's freelist (x, of B), one heading C's own freelist (y). */
	cpu(0);
	void *x = alloc(s_);
	ASSERT_EQ(page_of(x), page_of(mine[64]));
	ASSERT_EQ(kslub_cache_free(s_, x), 0);
	void *y = mine[150];
	mine.erase(mine.begin() + 150);
	/* C is full and unfrozen: y goes onto its own freelist, C onto CPU 0's partial list. */
	ASSERT_EQ(kslub_cache_free(s_, y), 0);
	cpu(1);
	void *theirs = alloc(other_);
	int on_stack = 0;

	struct Bad {
		const char *name;
		void *entry;
		int rc;
		const char *kind, *what;
	};
	std::vector<Bad> bad = {
		{"foreign", &on_stack, kEFAULT, "invalid free",
		 "pointer is not in a slab of this allocator"},
		{"interior", static_cast<char *>(mine[7]) + 8, kEINVAL, "invalid free",
		 "pointer is not the start of an object"},
		{"wrong cache", theirs, kEINVAL, "wrong cache", "bulk-other"},
		{"duplicate", mine[5], kEINVAL, "double free",
		 "object appears twice in a bulk free"},
	};
	if (CONFIG_KSLUB_FREELIST_HARDENED) {
		bad.push_back({"CPU freelist head", x, kEINVAL, "double free",
			       "object is already the first free object"});
		bad.push_back({"slab freelist head", y, kEINVAL, "double free",
			       "object is already the first free object of its slab"});
	}
	for (size_t n : {size_t(24), size_t(300)}) {
		/* Every slab represented: entries taken with a stride through both CPUs' objects. */
		std::vector<void *> good;
		for (size_t i = 0; i < n; i++)
			good.push_back(mine[(i * 17) % mine.size()]);
		std::sort(good.begin(), good.end());
		ASSERT_EQ(std::adjacent_find(good.begin(), good.end()), good.end());
		std::rotate(good.begin(), good.begin() + long(n / 3),
			    good.end()); /* not in address order */
		for (const Bad &b : bad) {
			for (size_t at : {size_t(0), n / 2, n}) {
				SCOPED_TRACE(std::string(b.name) + " at " + std::to_string(at) +
					     " of " + std::to_string(n));
				std::vector<void *> v = good;
				v.insert(v.begin() + long(at), b.entry);
				if (b.entry == mine[5] &&
				    std::find(good.begin(), good.end(), mine[5]) == good.end())
					v.insert(v.begin(), mine[5]);
				expect_refused(v, b.rc, b.kind, b.what, b.entry);
			}
		}
	}
	EXPECT_TRUE(census_is(s_, Census{7, 3, 0, 1, 448, 399, 49}));

	/* The good entries free in one call; the array is cleared. */
	EXPECT_EQ(kslub_cache_free_bulk(s_, mine.size(), mine.data()), 0);
	for (void *p : mine)
		ASSERT_EQ(p, nullptr);
	EXPECT_TRUE(live_is(s_, 0));
	EXPECT_EQ(kslub_cache_free(other_, theirs), 0);
}

/*
 * Slab A full (64 objects) and still CPU 0's slab; CPU 1 frees x and then y
 * of it: A's freelist is y -> x, inuse 62. A bulk free of the 62 objects
 * still in use plus x (not a head: y is) names 63 objects of a slab with 62
 * in use. z, of CPU 1's slab, comes last and would be freed first.
 */
TEST_F(BulkFree, MoreObjectsOfASlabThanItHasInUseIsRefused)
{
	std::vector<void *> a;
	for (unsigned i = 0; i < kObjs; i++)
		a.push_back(alloc(s_));
	cpu(1);
	void *z = alloc(s_);
	void *x = a[10], *y = a[20];
	ASSERT_EQ(kslub_cache_free(s_, x), 0);
	ASSERT_EQ(kslub_cache_free(s_, y), 0);
	EXPECT_TRUE(census_is(s_, Census{2, 2, 0, 0, 128, 63, 65}));
	std::vector<void *> v;
	for (void *p : a)
		if (p != y)
			v.push_back(p);
	v.push_back(z);
	expect_refused(v, kEINVAL, "double free",
		       "slab has fewer objects in use than are being freed",
		       reinterpret_cast<void *>(page_of(x)));
	EXPECT_EQ(log_.size(), 0u);
	/* z still allocated, x already free: free the rest properly. */
	v.erase(std::find(v.begin(), v.end(), x));
	EXPECT_EQ(kslub_cache_free_bulk(s_, v.size(), v.data()), 0);
}

/* A debug cache walks the slab's freelist: an object already free anywhere in it is refused, and nothing else freed. */
TEST_F(BulkFree, DebugCacheRefusesAnObjectAlreadyFreeAndFreesNothing)
{
	int err = 1;
	kslub_cache_t *d = kslub_cache_create(k_, "bulk-dbg", 64, 0, KSLUB_SLAB_CONSISTENCY_CHECKS,
					      nullptr, &err);
	ASSERT_NE(d, nullptr) << err;
	std::vector<void *> o;
	for (int i = 0; i < 10; i++)
		o.push_back(alloc(d));
	ASSERT_EQ(kslub_cache_free(d, o[3]), 0);
	ASSERT_EQ(kslub_cache_free(d, o[4]), 0); /* freelist o[4] -> o[3] -> ... */
	EXPECT_TRUE(census_is(d, Census{1, 0, 1, 0, 64, 8, 56}));
	kslub_census before = census_of(d);
	std::vector<void *> v = {o[0], o[1], o[3], o[2]}, copy = v;
	EXPECT_EQ(kslub_cache_free_bulk(d, v.size(), v.data()), kEINVAL);
	expect_one_report("double free", "object already free", o[3]);
	EXPECT_TRUE(census_equal(census_of(d), before)) << census_str(census_of(d));
	EXPECT_TRUE(v == copy);
	for (int i : {0, 1, 2, 5, 6, 7, 8, 9})
		EXPECT_EQ(kslub_cache_free(d, o[size_t(i)]), 0) << i;
	EXPECT_TRUE(live_is(d, 0));
	EXPECT_EQ(kslub_cache_destroy(d), 0);
}

/*
 * 100 000 objects (1563 slabs: 1562 full and 1 with 32) and one of them
 * again at the end. The duplicate is found and nothing is freed; without it
 * everything frees. The check sorts a copy of the array in scratch pages
 * (800 KB: an order-8 block), so this takes milliseconds, not seconds.
 */
TEST_F(BulkFree, DuplicateAmongAHundredThousandObjectsIsFound)
{
	constexpr size_t n = 100000;
	std::vector<void *> v(n);
	ASSERT_EQ(kslub_cache_alloc_bulk(s_, 0, n, v.data()), int(n));
	EXPECT_TRUE(census_is(s_, Census{1563, 1, 0, 0, 100032, n, 32}));
	void *dup = v[54321];
	v.push_back(dup);
	std::vector<void *> copy = v;
	Snapshot before = snap();
	auto t0 = std::chrono::steady_clock::now();
	EXPECT_EQ(kslub_cache_free_bulk(s_, v.size(), v.data()), kEINVAL);
	auto t1 = std::chrono::steady_clock::now();
	expect_one_report("double free", "object appears twice in a bulk free", dup);
	EXPECT_TRUE(same(before, snap()));
	EXPECT_TRUE(v == copy);

	v.pop_back();
	auto t2 = std::chrono::steady_clock::now();
	EXPECT_EQ(kslub_cache_free_bulk(s_, v.size(), v.data()), 0);
	auto t3 = std::chrono::steady_clock::now();
	EXPECT_EQ(std::count(v.begin(), v.end(), nullptr), long(n));
	EXPECT_TRUE(live_is(s_, 0));
	using ms = std::chrono::duration<double, std::milli>;
	printf("bulk free of %zu + 1 duplicate: refused in %.1f ms; %zu freed in %.1f ms\n", n,
	       ms(t1 - t0).count(), n, ms(t3 - t2).count());
}

/*
 * With no page to be had for the scratch copy (failure injection), the
 * check reads the array itself: slower, the same verdicts, and the array is
 * still neither reordered nor written on refusal.
 */
TEST_F(BulkFree, WithoutScratchPagesTheSameVerdicts)
{
	std::vector<void *> v(200);
	ASSERT_EQ(kslub_cache_alloc_bulk(s_, 0, v.size(), v.data()), 200);
	std::reverse(v.begin() + 50, v.end());
	std::vector<void *> bad = v;
	bad.insert(bad.begin() + 100, v[3]);
	kslub_fail_next(k_, 100);
	expect_refused(bad, kEINVAL, "double free", "object appears twice in a bulk free", v[3]);
	if (CONFIG_KSLUB_FREELIST_HARDENED) {
		void *h = alloc(s_);
		ASSERT_EQ(kslub_cache_free(s_, h), 0);
		bad = v;
		bad.insert(bad.begin() + 100, h);
		expect_refused(bad, kEINVAL, "double free",
			       "object is already the first free object", h);
	}
	EXPECT_EQ(kslub_cache_free_bulk(s_, v.size(), v.data()), 0);
	kslub_fail_next(k_, 0);
	for (void *p : v)
		ASSERT_EQ(p, nullptr);
	EXPECT_TRUE(live_is(s_, 0));
}

/*
 * 2000 entries need 2000 * 8 + 40 = 16 040 bytes of scratch: an order-2
 * block. With two allocations failing, order 2 and order 1 are refused and
 * the copy goes into order-0 blocks of (4096 - 40) / 8 = 507 entries: four
 * sorted runs (507, 507, 507, 479), read together in address order. The
 * duplicate's two copies are in the first and the last run.
 */
TEST_F(BulkFree, ScratchInSeveralBlocksGivesTheSameVerdicts)
{
	std::vector<void *> v(2000);
	ASSERT_EQ(kslub_cache_alloc_bulk(s_, 0, v.size(), v.data()), 2000);
	std::reverse(v.begin(), v.begin() + 1000);
	std::vector<void *> bad = v;
	bad[1990] = v[10];
	kslub_fail_next(k_, 2);
	expect_refused(bad, kEINVAL, "double free", "object appears twice in a bulk free", v[10]);
	if (CONFIG_KSLUB_FREELIST_HARDENED) {
		void *h = alloc(s_);
		ASSERT_EQ(kslub_cache_free(s_, h), 0);
		bad = v;
		bad.push_back(h);
		kslub_fail_next(k_, 2);
		expect_refused(bad, kEINVAL, "double free",
			       "object is already the first free object", h);
	}
	kslub_fail_next(k_, 2);
	EXPECT_EQ(kslub_cache_free_bulk(s_, v.size(), v.data()), 0);
	kslub_fail_next(k_, 0);
	for (void *p : v)
		ASSERT_EQ(p, nullptr);
	EXPECT_TRUE(live_is(s_, 0));
}

} // namespace
