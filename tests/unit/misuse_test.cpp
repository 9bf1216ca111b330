// SPDX-License-Identifier: GPL-2.0-only
/*
 * Misuse through the C API: double frees, foreign pointers, frees to the
 * wrong cache, destroying what is still in use, corrupted free pointers and
 * use after free. Each one is reported (the kind strings of kslub.h),
 * refused with the documented error, and leaves the allocator as it was:
 * the census before equals the census after and the allocator keeps
 * working.
 *
 * The cache used by most tests: 64-byte objects, no flags, 2 CPUs:
 *   min_objects 12 -> 768 bytes -> order 0, 4096 / 64 = 64 objects per slab,
 *   free pointer at ALIGN_DOWN(64 / 2, 8) = 32 inside the object.
 */
#include "test_util.h"

#include <stdlib.h>

#include <algorithm>
#include <memory>
#include <vector>

namespace {

using kslub_test::Census;
using kslub_test::census_equal;
using kslub_test::census_is;
using kslub_test::census_of;
using kslub_test::census_str;
using kslub_test::kEBUSY;
using kslub_test::kEFAULT;
using kslub_test::kEINVAL;
using kslub_test::live_is;
using kslub_test::pool_free_pages;

constexpr size_t kPool = size_t(16) << 20;
constexpr unsigned kFpOffset = 32;
constexpr unsigned kObjs = 64;
constexpr uint64_t kGarbage = 0x4141414141414141ull;

/* A store the sanitizer does not check: for writing inside free (poisoned) objects on purpose. */
__attribute__((no_sanitize("address"))) void poke_u64(void *p, uint64_t v)
{
	*static_cast<volatile uint64_t *>(p) = v;
}

uintptr_t page_of(const void *p)
{
	return uintptr_t(p) & ~uintptr_t(4095);
}

class Misuse : public ::testing::Test {
protected:
	void SetUp() override
	{
		int err = 1;
		k_ = kslub_create(kPool, 2, 1, KSLUB_DETERMINISTIC, &err);
		ASSERT_NE(k_, nullptr) << err;
		log_.attach(k_);
		ASSERT_EQ(kslub_set_cpu(k_, 0), 0);
		s_ = kslub_cache_create(k_, "mis-64", 64, 0, 0, nullptr, &err);
		ASSERT_NE(s_, nullptr) << err;
		kslub_geometry g{};
		ASSERT_EQ(kslub_cache_geometry(s_, &g), 0);
		ASSERT_EQ(g.offset, kFpOffset);
		ASSERT_EQ(g.objs_per_slab, kObjs);
		ASSERT_EQ(g.order, 0u);
	}

	void TearDown() override
	{
		if (!k_)
			return;
		EXPECT_EQ(kslub_cache_validate(s_), 0);
		EXPECT_TRUE(live_is(s_, 0));
		EXPECT_EQ(kslub_buddy_check(k_), 0);
		EXPECT_EQ(kslub_cache_destroy(s_), 0);
		EXPECT_EQ(kslub_destroy(k_), 0);
		EXPECT_TRUE(log_.seen.empty()) << "unexpected reports:\n" << log_.dump();
	}

	/* Exactly one new report, of this kind and explanation; then forget it. */
	void expect_one_report(const char *kind, const char *what, const char *cache,
			       const void *ptr)
	{
		ASSERT_EQ(log_.size(), 1u) << log_.dump();
		EXPECT_EQ(log_[0].kind, kind);
		EXPECT_EQ(log_[0].what, what);
		EXPECT_EQ(log_[0].cache, cache);
		EXPECT_EQ(log_[0].ptr, ptr);
		log_.clear();
	}

	kslub_t *k_ = nullptr;
	kslub_cache_t *s_ = nullptr;
	kslub_test::ReportLog log_;
};

/* ------------------------------------------------------------------------- */
/* Double frees */

/*
 * Freeing the object that is already the head of the CPU freelist: the
 * hardened free path's naive check (the kernel's BUG_ON(object == fp) in
 * set_freepointer) catches it before anything is linked.
 */
TEST_F(Misuse, ImmediateDoubleFreeIsCaughtByTheNaiveCheck)
{
	if (!CONFIG_KSLUB_FREELIST_HARDENED)
		GTEST_SKIP() << "the naive check comes with CONFIG_KSLUB_FREELIST_HARDENED";
	void *a = kslub_cache_alloc(s_, 0);
	ASSERT_NE(a, nullptr);
	ASSERT_EQ(kslub_cache_free(s_, a), 0);
	kslub_census before = census_of(s_);
	EXPECT_EQ(kslub_cache_free(s_, a), kEINVAL);
	expect_one_report("double free", "object is already the first free object", "mis-64", a);
	EXPECT_TRUE(census_equal(census_of(s_), before)) << census_str(census_of(s_));
	EXPECT_EQ(kslub_report_count(k_), 1u);

	/* Still works: the object comes back once, and goes back once. */
	void *b = kslub_cache_alloc(s_, 0);
	EXPECT_EQ(b, a);
	void *c = kslub_cache_alloc(s_, 0);
	EXPECT_NE(c, a);
	EXPECT_EQ(kslub_cache_free(s_, b), 0);
	EXPECT_EQ(kslub_cache_free(s_, c), 0);
	EXPECT_EQ(kslub_cache_validate(s_), 0);
	EXPECT_EQ(kslub_cache_check(s_, nullptr), 0);
}

/* The same on another CPU: the object is the head of its slab's freelist (__slab_free's set_freepointer). */
TEST_F(Misuse, ImmediateDoubleFreeFromAnotherCpuIsCaughtInTheSlowPath)
{
	if (!CONFIG_KSLUB_FREELIST_HARDENED)
		GTEST_SKIP() << "the naive check comes with CONFIG_KSLUB_FREELIST_HARDENED";
	void *a = kslub_cache_alloc(s_, 0);
	ASSERT_NE(a, nullptr);
	ASSERT_EQ(kslub_set_cpu(k_, 1), 0);
	ASSERT_EQ(kslub_cache_free(s_, a), 0);
	kslub_census before = census_of(s_);
	kslub_test::StatWatch w(s_);
	EXPECT_EQ(kslub_cache_free(s_, a), kEINVAL);
	expect_one_report("double free", "object is already the first free object of its slab",
			  "mis-64", a);
	EXPECT_TRUE(census_equal(census_of(s_), before)) << census_str(census_of(s_));
	EXPECT_TRUE(w.moved({})) << "a refused free counts nothing";
	ASSERT_EQ(kslub_set_cpu(k_, 0), 0);
	/* CPU 0 refills from the slab's freelist and gets it back, once. */
	void *objs[kObjs];
	for (unsigned i = 0; i < kObjs; i++) {
		objs[i] = kslub_cache_alloc(s_, 0);
		ASSERT_NE(objs[i], nullptr);
	}
	EXPECT_EQ(std::count(objs, objs + kObjs, a), 1);
	for (void *p : objs)
		EXPECT_EQ(kslub_cache_free(s_, p), 0);
}

/*
 * A debug cache (SLAB_CONSISTENCY_CHECKS) walks the slab's freelist under
 * the list lock on every free, so an object that is free but not the head
 * is caught too.
 */
TEST_F(Misuse, DebugCacheCatchesADoubleFreeOfANonHeadObject)
{
	int err = 1;
	kslub_cache_t *d = kslub_cache_create(k_, "mis-dbg", 64, 0, KSLUB_SLAB_CONSISTENCY_CHECKS,
					      nullptr, &err);
	ASSERT_NE(d, nullptr) << err;
	void *a = kslub_cache_alloc(d, 0), *b = kslub_cache_alloc(d, 0),
	     *c = kslub_cache_alloc(d, 0);
	ASSERT_TRUE(a && b && c);
	ASSERT_EQ(kslub_cache_free(d, a), 0);
	ASSERT_EQ(kslub_cache_free(d, b), 0); /* slab freelist: b, a, ... */
	kslub_census before = census_of(d);
	EXPECT_TRUE(census_is(d, Census{1, 0, 1, 0, 64, 1, 63}));
	kslub_test::StatWatch w(d);

	EXPECT_EQ(kslub_cache_free(d, a), kEINVAL);
	expect_one_report("double free", "object already free", "mis-dbg", a);
	EXPECT_EQ(kslub_cache_free(d, b), kEINVAL);
	expect_one_report("double free", "object already free", "mis-dbg", b);
	EXPECT_TRUE(census_equal(census_of(d), before)) << census_str(census_of(d));
	EXPECT_TRUE(w.moved({})) << "a refused free counts nothing";

	EXPECT_EQ(kslub_cache_free(d, c), 0);
	EXPECT_EQ(kslub_cache_validate(d), 0);
	EXPECT_TRUE(live_is(d, 0));
	EXPECT_EQ(kslub_cache_destroy(d), 0);
}

/* KSLUB_DEBUG_CACHES turns the kmalloc caches into debug caches: the same catch for kfree. */
TEST(MisuseDebugInstance, KmallocDoubleFreeOfANonHeadObjectIsCaught)
{
	int err = 1;
	kslub_t *k = kslub_create(kPool, 2, 1, KSLUB_DETERMINISTIC | KSLUB_DEBUG_CACHES, &err);
	ASSERT_NE(k, nullptr) << err;
	kslub_test::ReportLog log;
	log.attach(k);
	kslub_cache_t *km = kslub_kmalloc_cache(k, 64);
	ASSERT_NE(km, nullptr);
	kslub_geometry g{};
	ASSERT_EQ(kslub_cache_geometry(km, &g), 0);
	EXPECT_EQ(g.cpu_partial, 0u); /* debug caches keep no CPU partial slabs */

	void *a = kslub_kmalloc(k, 64, 0), *b = kslub_kmalloc(k, 60, 0),
	     *c = kslub_kmalloc(k, 50, 0);
	ASSERT_TRUE(a && b && c);
	ASSERT_EQ(kslub_kfree(k, a), 0);
	ASSERT_EQ(kslub_kfree(k, b), 0);
	kslub_census before = census_of(km);
	EXPECT_EQ(kslub_kfree(k, a), kEINVAL);
	EXPECT_EQ(kslub_kfree(k, b), kEINVAL);
	ASSERT_EQ(log.size(), 2u) << log.dump();
	for (size_t i = 0; i < 2; i++) {
		EXPECT_EQ(log[i].kind, "double free");
		EXPECT_EQ(log[i].what, "object already free");
		EXPECT_EQ(log[i].cache, "kmalloc-64");
	}
	EXPECT_EQ(log[0].ptr, a);
	EXPECT_EQ(log[1].ptr, b);
	EXPECT_TRUE(census_equal(census_of(km), before)) << census_str(census_of(km));

	EXPECT_EQ(kslub_kfree(k, c), 0);
	EXPECT_EQ(kslub_cache_validate(km), 0);
	EXPECT_TRUE(live_is(km, 0));
	EXPECT_EQ(kslub_buddy_check(k), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
	EXPECT_EQ(log.size(), 2u) << log.dump();
}

/*
 * KSLUB_DEBUG_CACHES means every cache, so also a cache created afterwards:
 * no CPU partial lists, and a, b, a (a not at the head: b is) is caught.
 */
TEST(MisuseDebugInstance, CacheCreatedLaterIsADebugCacheToo)
{
	int err = 1;
	kslub_t *k = kslub_create(kPool, 2, 1, KSLUB_DETERMINISTIC | KSLUB_DEBUG_CACHES, &err);
	ASSERT_NE(k, nullptr) << err;
	kslub_test::ReportLog log;
	log.attach(k);
	kslub_cache_t *s = kslub_cache_create(k, "mis-later", 64, 0, 0, nullptr, &err);
	ASSERT_NE(s, nullptr) << err;
	kslub_geometry g{};
	ASSERT_EQ(kslub_cache_geometry(s, &g), 0);
	EXPECT_EQ(g.cpu_partial, 0u);
	void *a = kslub_cache_alloc(s, 0), *b = kslub_cache_alloc(s, 0);
	ASSERT_TRUE(a && b);
	ASSERT_EQ(kslub_cache_free(s, a), 0);
	ASSERT_EQ(kslub_cache_free(s, b), 0);
	kslub_census before = census_of(s);
	ASSERT_EQ(kslub_cache_free(s, a), kEINVAL);
	ASSERT_EQ(log.size(), 1u) << log.dump();
	EXPECT_EQ(log[0].kind, "double free");
	EXPECT_EQ(log[0].what, "object already free");
	EXPECT_EQ(log[0].ptr, a);
	EXPECT_TRUE(census_equal(census_of(s), before)) << census_str(census_of(s));
	EXPECT_EQ(kslub_cache_validate(s), 0);
	EXPECT_TRUE(live_is(s, 0));
	EXPECT_EQ(kslub_cache_destroy(s), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
	EXPECT_EQ(log.size(), 1u) << log.dump();
}

/*
 * Bulk free of [a, b] where b was just freed and heads the CPU freelist:
 * the group a -> b would be linked in front of b itself, a cycle. The
 * kernel's set_freepointer(tail, freelist) stops at BUG_ON(tail == fp);
 * here the group is refused and the CPU freelist is left alone.
 */
TEST_F(Misuse, BulkFreeEndingInTheFreelistHeadIsRefused)
{
	if (!CONFIG_KSLUB_FREELIST_HARDENED)
		GTEST_SKIP() << "the naive check comes with CONFIG_KSLUB_FREELIST_HARDENED";
	void *a = kslub_cache_alloc(s_, 0), *b = kslub_cache_alloc(s_, 0);
	ASSERT_TRUE(a && b);
	ASSERT_EQ(kslub_cache_free(s_, b), 0);
	kslub_census before = census_of(s_);
	void *p[2] = {a, b};
	EXPECT_EQ(kslub_cache_free_bulk(s_, 2, p), kEINVAL);
	expect_one_report("double free", "object is already the first free object", "mis-64", b);
	EXPECT_TRUE(census_is(s_, Census{1, 1, 0, 0, 64, 1, 63}));
	EXPECT_TRUE(census_equal(census_of(s_), before)) << census_str(census_of(s_));
	/* a is still allocated and frees normally; b comes back exactly once. */
	EXPECT_EQ(kslub_cache_free(s_, a), 0);
	void *objs[kObjs];
	for (unsigned i = 0; i < kObjs; i++)
		objs[i] = kslub_cache_alloc(s_, 0);
	EXPECT_EQ(std::count(objs, objs + kObjs, b), 1);
	EXPECT_EQ(std::count(objs, objs + kObjs, a), 1);
	for (void *q : objs)
		EXPECT_EQ(kslub_cache_free(s_, q), 0);
}

/* ------------------------------------------------------------------------- */
/* Pointers that are not objects of the cache */

TEST_F(Misuse, ForeignPointersAreRefusedAndChangeNothing)
{
	void *obj = kslub_cache_alloc(s_, 0);
	ASSERT_NE(obj, nullptr);
	/* A page block freed back: its pages are free buddy pages (4 MiB: a whole top block, no merging). */
	char *freed = static_cast<char *>(kslub_kmalloc(k_, size_t(4) << 20, 0));
	ASSERT_NE(freed, nullptr);
	ASSERT_EQ(kslub_kfree(k_, freed), 0);
	/* A live 16 KiB page block (order 2). */
	char *large = static_cast<char *>(kslub_kmalloc(k_, 16384, 0));
	ASSERT_NE(large, nullptr);

	kslub_census before = census_of(s_);
	uint64_t pool_before = pool_free_pages(k_);
	int on_stack = 0;
	std::unique_ptr<char, void (*)(void *)> heap(static_cast<char *>(malloc(64)), free);
	ASSERT_NE(heap.get(), nullptr);

	EXPECT_EQ(kslub_cache_free(s_, &on_stack), kEFAULT);
	expect_one_report("invalid free", "pointer is not in a slab of this allocator", "mis-64",
			  &on_stack);
	EXPECT_EQ(kslub_kfree(k_, &on_stack), kEFAULT);
	expect_one_report("invalid free", "pointer is not from this allocator", "", &on_stack);
	EXPECT_EQ(kslub_cache_free(s_, heap.get()), kEFAULT);
	expect_one_report("invalid free", "pointer is not in a slab of this allocator", "mis-64",
			  heap.get());
	EXPECT_EQ(kslub_kfree(k_, heap.get()), kEFAULT);
	expect_one_report("invalid free", "pointer is not from this allocator", "", heap.get());

	char *mid = static_cast<char *>(obj) + 8;
	EXPECT_EQ(kslub_cache_free(s_, mid), kEINVAL);
	expect_one_report("invalid free", "pointer is not the start of an object", "mis-64", mid);
	EXPECT_EQ(kslub_kfree(k_, mid), kEINVAL);
	expect_one_report("invalid free", "pointer is not the start of an object", "mis-64", mid);

	EXPECT_EQ(kslub_cache_free(s_, freed + 8192), kEFAULT);
	expect_one_report("invalid free", "pointer is not in a slab of this allocator", "mis-64",
			  freed + 8192);
	EXPECT_EQ(kslub_kfree(k_, freed + 8192), kEINVAL);
	expect_one_report("invalid free", "pointer is not the start of an allocation", "",
			  freed + 8192);
	EXPECT_EQ(kslub_kfree(k_, freed), kEINVAL);
	expect_one_report("double free", "pointer is in free pages", "", freed);

	EXPECT_EQ(kslub_kfree(k_, large + 4096), kEINVAL);
	expect_one_report("invalid free", "pointer is not the start of an allocation", "",
			  large + 4096);
	EXPECT_EQ(kslub_cache_free(s_, large), kEFAULT);
	expect_one_report("invalid free", "pointer is not in a slab of this allocator", "mis-64",
			  large);

	/* NULL and kmalloc(0)'s ZERO_SIZE_PTR are not misuse. */
	EXPECT_EQ(kslub_kfree(k_, nullptr), 0);
	EXPECT_EQ(kslub_kfree(k_, reinterpret_cast<void *>(16)), 0);
	EXPECT_EQ(kslub_cache_free(s_, nullptr), 0);
	EXPECT_EQ(log_.size(), 0u);

	EXPECT_TRUE(census_equal(census_of(s_), before)) << census_str(census_of(s_));
	EXPECT_EQ(pool_free_pages(k_), pool_before);
	EXPECT_EQ(kslub_buddy_check(k_), 0);
	EXPECT_EQ(kslub_report_count(k_), 11u);

	EXPECT_EQ(kslub_kfree(k_, large), 0);
	EXPECT_EQ(kslub_cache_free(s_, obj), 0);
}

TEST_F(Misuse, FreeToTheWrongCacheIsRefused)
{
	int err = 1;
	kslub_cache_t *other = kslub_cache_create(k_, "mis-64b", 64, 0, 0, nullptr, &err);
	ASSERT_NE(other, nullptr) << err;
	void *a = kslub_cache_alloc(s_, 0);
	void *km = kslub_kmalloc(k_, 64, 0);
	void *o = kslub_cache_alloc(other, 0);
	ASSERT_TRUE(a && km && o);
	kslub_census mine = census_of(s_), theirs = census_of(other);

	EXPECT_EQ(kslub_cache_free(other, a), kEINVAL);
	expect_one_report("wrong cache", "mis-64", "mis-64b",
			  a); /* the explanation names the owner */
	EXPECT_EQ(kslub_cache_free(s_, km), kEINVAL);
	expect_one_report("wrong cache", "kmalloc-64", "mis-64", km);
	EXPECT_TRUE(census_equal(census_of(s_), mine));
	EXPECT_TRUE(census_equal(census_of(other), theirs));

	EXPECT_EQ(kslub_cache_free(s_, a), 0);
	EXPECT_EQ(kslub_cache_free(other, o), 0);
	EXPECT_EQ(kslub_kfree(k_, km), 0);
	EXPECT_EQ(kslub_cache_destroy(other), 0);
}

/* ------------------------------------------------------------------------- */
/* Destroying what is still in use */

TEST_F(Misuse, DestroyingACacheWithALiveObjectIsRefused)
{
	int err = 1;
	kslub_cache_t *d = kslub_cache_create(k_, "mis-busy", 100, 0, 0, nullptr, &err);
	ASSERT_NE(d, nullptr) << err;
	void *a = kslub_cache_alloc(d, 0);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(kslub_cache_destroy(d), kEBUSY);
	ASSERT_EQ(log_.size(), 1u) << log_.dump();
	EXPECT_EQ(log_[0].kind, "objects remaining");
	EXPECT_EQ(log_[0].cache, "mis-busy");
	EXPECT_EQ(log_[0].value, 1u); /* one slab left */
	log_.clear();

	/*
	 * Still there and usable: destroy flushed the CPU slab to the node, the
	 * next alloc takes it back. 100-byte objects: stride 104, order 0,
	 * 4096 / 104 = 39 objects (40 bytes left over, under 4096 / 16).
	 */
	EXPECT_EQ(kslub_cache_find(k_, "mis-busy"), d);
	EXPECT_TRUE(census_is(d, Census{1, 0, 1, 0, 39, 1, 38}));
	void *b = kslub_cache_alloc(d, 0);
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(kslub_cache_free(d, b), 0);
	EXPECT_EQ(kslub_cache_free(d, a), 0);
	EXPECT_EQ(kslub_cache_destroy(d), 0);
	EXPECT_EQ(kslub_cache_find(k_, "mis-busy"), nullptr);
}

TEST(MisuseInstance, DestroyingAnInstanceWithALiveObjectIsRefused)
{
	int err = 1;
	kslub_t *k = kslub_create(kPool, 2, 1, KSLUB_DETERMINISTIC, &err);
	ASSERT_NE(k, nullptr) << err;
	kslub_test::ReportLog log;
	log.attach(k);
	void *p = kslub_kmalloc(k, 100, 0); /* kmalloc-128 */
	ASSERT_NE(p, nullptr);
	uint64_t pool_before = pool_free_pages(k);
	EXPECT_EQ(kslub_destroy(k), kEBUSY);
	ASSERT_EQ(log.size(), 1u) << log.dump();
	EXPECT_EQ(log[0].kind, "objects remaining");
	EXPECT_EQ(log[0].cache, "kmalloc-128");
	EXPECT_EQ(log[0].value, 1u);
	/* Nothing was given back. */
	EXPECT_EQ(pool_free_pages(k), pool_before);
	EXPECT_EQ(kslub_buddy_check(k), 0);

	/* The instance still works. */
	void *q = kslub_kmalloc(k, 100, 0);
	ASSERT_NE(q, nullptr);
	EXPECT_EQ(kslub_kfree(k, q), 0);
	EXPECT_EQ(kslub_kfree(k, p), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
	EXPECT_EQ(log.size(), 1u);
}

/* A kmalloc_large block is a live object too, though no cache holds it. */
TEST(MisuseInstance, DestroyingAnInstanceWithALiveLargeBlockIsRefused)
{
	int err = 1;
	kslub_t *k = kslub_create(kPool, 2, 1, KSLUB_DETERMINISTIC, &err);
	ASSERT_NE(k, nullptr) << err;
	kslub_test::ReportLog log;
	log.attach(k);
	void *p = kslub_kmalloc(k, 100000, 0); /* 25 pages: an order-5 block */
	ASSERT_NE(p, nullptr);
	uint64_t pool_before = pool_free_pages(k);
	ASSERT_EQ(kslub_destroy(k), kEBUSY);
	ASSERT_EQ(log.size(), 1u) << log.dump();
	EXPECT_EQ(log[0].kind, "objects remaining");
	EXPECT_EQ(log[0].what, "kmalloc_large blocks remaining");
	EXPECT_EQ(log[0].ptr, p);
	EXPECT_EQ(log[0].value, 1u);
	EXPECT_EQ(pool_free_pages(k), pool_before);
	EXPECT_EQ(kslub_ksize(k, p), size_t(128) << 10);
	EXPECT_EQ(kslub_kfree(k, p), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
	EXPECT_EQ(log.size(), 1u);
}

/* ------------------------------------------------------------------------- */
/* Corrupted free pointers */

/*
 * Ten objects allocated, #2 then #5 freed (fast path: CPU freelist 5, 2,
 * then the 54 never used), validate flushes: the slab goes to the node list
 * with freelist 5 -> 2 -> ... and inuse 64 - 56 = 8. Then the free pointer
 * stored in #5 (at offset 32) is overwritten with garbage.
 *
 * Expected from validate_slab / on_freelist_count: the walk takes #5 (a
 * valid object), reads its free pointer, finds it outside the slab:
 * "Freechain corrupt" (1), chain cut after #5 when repairing. It counted 1
 * free object, but inuse 8 says 56: "Wrong object count" (2), inuse set to
 * 63. So the first validate returns exactly 2 and the second 0.
 */
TEST_F(Misuse, CorruptedFreePointerCostsValidateExactlyTwoErrors)
{
	std::vector<void *> o;
	for (int i = 0; i < 10; i++) {
		o.push_back(kslub_cache_alloc(s_, 0));
		ASSERT_NE(o.back(), nullptr);
	}
	const uintptr_t slab = page_of(o[0]);
	for (void *p : o)
		ASSERT_EQ(page_of(p), slab);
	ASSERT_EQ(kslub_cache_free(s_, o[2]), 0);
	ASSERT_EQ(kslub_cache_free(s_, o[5]), 0);
	ASSERT_EQ(kslub_cache_validate(s_), 0);
	EXPECT_TRUE(census_is(s_, Census{1, 0, 1, 0, 64, 8, 56}));
	ASSERT_EQ(log_.size(), 0u);

	poke_u64(static_cast<char *>(o[5]) + kFpOffset, kGarbage);

	EXPECT_EQ(kslub_cache_validate(s_), 2);
	ASSERT_EQ(log_.size(), 2u) << log_.dump();
	EXPECT_EQ(log_[0].kind, "freelist corrupt");
	EXPECT_EQ(log_[0].what, "Freechain corrupt");
	EXPECT_EQ(log_[0].ptr, o[5]);
	EXPECT_EQ(log_[1].kind, "wrong object count");
	EXPECT_EQ(log_[1].what, "Wrong object count");
	EXPECT_EQ(uintptr_t(log_[1].ptr), slab);
	EXPECT_EQ(log_[1].value, 8u); /* the inuse it found */
	log_.clear();
	struct kslub_cache_usage u {};
	ASSERT_EQ(kslub_cache_usage(s_, &u), 0);
	EXPECT_EQ(u.errors, 2u);

	/* Repaired: nothing left to find; the slab holds one free object (#5) and 63 "in use". */
	EXPECT_EQ(kslub_cache_validate(s_), 0);
	EXPECT_EQ(log_.size(), 0u);
	EXPECT_TRUE(census_is(s_, Census{1, 0, 1, 0, 64, 63, 1}));

	/* The cache keeps working: #5 comes back, then a new slab. */
	EXPECT_EQ(kslub_cache_alloc(s_, 0), o[5]);
	void *n = kslub_cache_alloc(s_, 0);
	ASSERT_NE(n, nullptr);
	EXPECT_NE(page_of(n), slab);
	EXPECT_EQ(kslub_cache_free(s_, n), 0);
	/* The repair leaked the objects cut off the chain: to the allocator they are in use, so free every slot. */
	for (unsigned i = 0; i < kObjs; i++)
		EXPECT_EQ(kslub_cache_free(s_, reinterpret_cast<void *>(slab + 64 * i)), 0) << i;
	EXPECT_EQ(log_.size(), 0u) << log_.dump();
}

/*
 * The free pointer of the object at the head of the CPU freelist is
 * overwritten while the slab is still the CPU slab. The flush in validate
 * (deactivate_slab) counts the CPU freelist first, sees the pointer leave
 * the slab, reports it once and keeps only the object before it: 1 error.
 * The slab it files is then consistent, so the walk itself finds 0 more.
 */
TEST_F(Misuse, CorruptedCpuFreelistIsCutAtTheFlush)
{
	std::vector<void *> o;
	for (int i = 0; i < 11; i++) {
		o.push_back(kslub_cache_alloc(s_, 0));
		ASSERT_NE(o.back(), nullptr);
	}
	void *head = o.back();
	o.pop_back();
	ASSERT_EQ(kslub_cache_free(s_, head), 0); /* now the head of the CPU freelist */
	const uintptr_t slab = page_of(head);
	poke_u64(static_cast<char *>(head) + kFpOffset, kGarbage);

	EXPECT_EQ(kslub_cache_validate(s_), 1);
	expect_one_report("freelist corrupt", "CPU freelist points outside its slab", "mis-64",
			  head);
	/* One free object kept (the head); the 53 behind it are lost to the allocator, counted in use. */
	EXPECT_TRUE(census_is(s_, Census{1, 0, 1, 0, 64, 63, 1}));
	EXPECT_EQ(kslub_cache_validate(s_), 0);
	EXPECT_EQ(log_.size(), 0u);

	for (unsigned i = 0; i < kObjs; i++) {
		void *p = reinterpret_cast<void *>(slab + 64 * i);
		if (p != head)
			EXPECT_EQ(kslub_cache_free(s_, p), 0) << i;
	}
	EXPECT_EQ(log_.size(), 0u) << log_.dump();
}

/*
 * A double free that is not at the head goes unnoticed in a non-debug cache
 * (documented): a, b, c allocated from a fresh CPU slab, then a, b, a freed.
 * The third free links a in front of b, whose free pointer leads back to a:
 * the CPU freelist is the cycle a -> b -> a, and the 61 never-used objects
 * are cut off it. The flush in validate walks the cycle until it has counted
 * 65 > 64 objects, stopping on a (the 65th step, an odd one): one error,
 * "CPU freelist longer than its slab"; a's free pointer is cleared, so the
 * freelist is a alone and the slab is filed with inuse 64 - 1 = 63. The walk
 * then finds the slab consistent (1 free, 63 in use): validate returns 1.
 */
TEST_F(Misuse, CpuFreelistCycleCostsValidateExactlyOneError)
{
	void *a = kslub_cache_alloc(s_, 0), *b = kslub_cache_alloc(s_, 0),
	     *c = kslub_cache_alloc(s_, 0);
	ASSERT_TRUE(a && b && c);
	const uintptr_t slab = page_of(a);
	ASSERT_EQ(page_of(c), slab);
	ASSERT_EQ(kslub_cache_free(s_, a), 0);
	ASSERT_EQ(kslub_cache_free(s_, b), 0);
	ASSERT_EQ(kslub_cache_free(s_, a), 0); /* not the head (b is): undetected */
	ASSERT_EQ(log_.size(), 0u);

	EXPECT_EQ(kslub_cache_validate(s_), 1);
	expect_one_report("freelist corrupt", "CPU freelist longer than its slab", "mis-64", a);
	struct kslub_cache_usage u {};
	ASSERT_EQ(kslub_cache_usage(s_, &u), 0);
	EXPECT_EQ(u.errors, 1u);
	EXPECT_TRUE(census_is(s_, Census{1, 0, 1, 0, 64, 63, 1}));
	EXPECT_EQ(kslub_cache_validate(s_), 0);
	EXPECT_EQ(log_.size(), 0u);

	/* To the allocator everything but a is in use (b and the 61 cut off too): free those slots. */
	for (unsigned i = 0; i < kObjs; i++) {
		void *p = reinterpret_cast<void *>(slab + 64 * i);
		if (p != a)
			EXPECT_EQ(kslub_cache_free(s_, p), 0) << i;
	}
	EXPECT_EQ(log_.size(), 0u) << log_.dump();
}

/*
 * Errors found while flushing and errors found by the walk add up. Slab A:
 * CPU 0 allocates o[0..9], frees o[2] and o[5]; CPU 0 goes offline, which
 * flushes A to the node partial list (freelist o[5] -> o[2] -> 54 never
 * used, inuse 8). Slab B: CPU 1 allocates a, b, c and frees a, b, a (the
 * cycle of the test above). Then o[5]'s free pointer is overwritten.
 *   flush of CPU 1: "CPU freelist longer than its slab" (1); B filed at the
 *     head of the partial list with freelist a, inuse 63;
 *   walk of B: consistent; walk of A: "Freechain corrupt" at o[5] (2), one
 *     free object counted against inuse 8: "Wrong object count" (3).
 * validate returns 3, then 0.
 */
TEST_F(Misuse, ValidateCountsFlushAndWalkErrorsTogether)
{
	std::vector<void *> o;
	for (int i = 0; i < 10; i++) {
		o.push_back(kslub_cache_alloc(s_, 0));
		ASSERT_NE(o.back(), nullptr);
	}
	ASSERT_EQ(kslub_cache_free(s_, o[2]), 0);
	ASSERT_EQ(kslub_cache_free(s_, o[5]), 0);
	ASSERT_EQ(kslub_set_cpu(k_, 1), 0);
	void *a = kslub_cache_alloc(s_, 0), *b = kslub_cache_alloc(s_, 0),
	     *c = kslub_cache_alloc(s_, 0);
	ASSERT_TRUE(a && b && c);
	const uintptr_t slab_a = page_of(o[0]), slab_b = page_of(a);
	ASSERT_NE(slab_a, slab_b);
	ASSERT_EQ(kslub_cpu_offline(k_, 0), 0);
	ASSERT_EQ(kslub_cpu_online(k_, 0), 0);
	EXPECT_TRUE(census_is(s_, Census{2, 1, 1, 0, 128, 11, 117}));
	ASSERT_EQ(kslub_cache_free(s_, a), 0);
	ASSERT_EQ(kslub_cache_free(s_, b), 0);
	ASSERT_EQ(kslub_cache_free(s_, a), 0);
	poke_u64(static_cast<char *>(o[5]) + kFpOffset, kGarbage);
	ASSERT_EQ(log_.size(), 0u);

	EXPECT_EQ(kslub_cache_validate(s_), 3);
	ASSERT_EQ(log_.size(), 3u) << log_.dump();
	EXPECT_EQ(log_[0].what, "CPU freelist longer than its slab");
	EXPECT_EQ(log_[0].ptr, a);
	EXPECT_EQ(log_[1].what, "Freechain corrupt");
	EXPECT_EQ(log_[1].ptr, o[5]);
	EXPECT_EQ(log_[2].what, "Wrong object count");
	EXPECT_EQ(uintptr_t(log_[2].ptr), slab_a);
	EXPECT_EQ(log_[2].value, 8u);
	log_.clear();
	EXPECT_TRUE(census_is(s_, Census{2, 0, 2, 0, 128, 126, 2}));
	EXPECT_EQ(kslub_cache_validate(s_), 0);
	EXPECT_EQ(log_.size(), 0u);

	for (unsigned i = 0; i < kObjs; i++) {
		void *p = reinterpret_cast<void *>(slab_a + 64 * i),
		     *q = reinterpret_cast<void *>(slab_b + 64 * i);
		if (p != o[5])
			EXPECT_EQ(kslub_cache_free(s_, p), 0) << i;
		if (q != a)
			EXPECT_EQ(kslub_cache_free(s_, q), 0) << i;
	}
	EXPECT_EQ(log_.size(), 0u) << log_.dump();
}

/* ------------------------------------------------------------------------- */
/* Cache descriptors */

size_t count_caches(kslub_t *k)
{
	size_t n = 0;
	kslub_for_each_cache(
		k, [](kslub_cache_t *, void *arg) { ++*static_cast<size_t *>(arg); }, &n);
	return n;
}

/*
 * A kslub_cache_t is an object of the kmem_cache cache. Freed, its memory
 * would go to the next cache created while it is still on the list of
 * caches, and the list would become a cycle. kfree, cache_free on
 * kmem_cache and a bulk free all refuse it; a plain object of kmem_cache
 * that is no cache still frees.
 */
TEST_F(Misuse, FreeingACacheDescriptorIsRefusedAtEveryEntryPoint)
{
	const char *what = "pointer is a live cache descriptor; destroy the cache instead";
	kslub_cache_t *kmem = kslub_cache_find(k_, "kmem_cache");
	kslub_cache_t *km64 = kslub_kmalloc_cache(k_, 64);
	ASSERT_TRUE(kmem && km64);
	const size_t caches = count_caches(k_);
	EXPECT_EQ(caches, 15u); /* kmem_cache, 13 kmalloc caches, mis-64 */
	void *plain = kslub_cache_alloc(kmem, 0);
	ASSERT_NE(plain, nullptr);
	kslub_census before = census_of(kmem);

	ASSERT_EQ(kslub_kfree(k_, s_), kEINVAL);
	expect_one_report("invalid free", what, "kmem_cache", s_);
	ASSERT_EQ(kslub_kfree(k_, km64), kEINVAL);
	expect_one_report("invalid free", what, "kmem_cache", km64);
	ASSERT_EQ(kslub_cache_free(kmem, s_), kEINVAL);
	expect_one_report("invalid free", what, "kmem_cache", s_);
	void *v[3] = {plain, km64, s_};
	ASSERT_EQ(kslub_cache_free_bulk(kmem, 3, v), kEINVAL);
	expect_one_report("invalid free", what, "kmem_cache", km64);
	EXPECT_TRUE(v[0] == plain && v[1] == km64 && v[2] == s_);
	/* Through any other cache it is a free to the wrong cache. */
	ASSERT_EQ(kslub_cache_free(s_, km64), kEINVAL);
	expect_one_report("wrong cache", "kmem_cache", "mis-64", km64);
	EXPECT_TRUE(census_equal(census_of(kmem), before)) << census_str(census_of(kmem));
	EXPECT_EQ(kslub_report_count(k_), 5u);

	/* Nothing was freed: a new cache gets new memory, the list grows by one, the caches work. */
	int err = 1;
	kslub_cache_t *n = kslub_cache_create(k_, "mis-new", 32, 0, 0, nullptr, &err);
	ASSERT_NE(n, nullptr) << err;
	EXPECT_TRUE(n != s_ && n != km64 && n != plain);
	EXPECT_EQ(count_caches(k_), caches + 1);
	void *x = kslub_cache_alloc(s_, 0), *y = kslub_kmalloc(k_, 64, 0),
	     *z = kslub_cache_alloc(n, 0);
	ASSERT_TRUE(x && y && z);
	EXPECT_EQ(kslub_cache_free(s_, x), 0);
	EXPECT_EQ(kslub_kfree(k_, y), 0);
	EXPECT_EQ(kslub_cache_free(n, z), 0);
	EXPECT_EQ(kslub_cache_destroy(n), 0);
	EXPECT_EQ(count_caches(k_), caches);
	EXPECT_EQ(kslub_cache_free(kmem, plain), 0);
	EXPECT_EQ(log_.size(), 0u) << log_.dump();
}

/* ------------------------------------------------------------------------- */
/* Reports */

/* Every kind a C API user can provoke, with the string kslub.h documents for it. */
TEST_F(Misuse, ReporterReceivesTheDocumentedKindStrings)
{
	int on_stack = 0;
	int err = 0;
	void *a = kslub_cache_alloc(s_, 0);
	ASSERT_NE(a, nullptr);

	EXPECT_EQ(kslub_kfree(k_, &on_stack), kEFAULT);
	ASSERT_EQ(log_.size(), 1u);
	EXPECT_EQ(log_[0].kind, "invalid free");
	log_.clear();

	if (CONFIG_KSLUB_FREELIST_HARDENED) {
		void *b = kslub_cache_alloc(s_, 0);
		ASSERT_EQ(kslub_cache_free(s_, b), 0);
		EXPECT_EQ(kslub_cache_free(s_, b), kEINVAL);
		ASSERT_EQ(log_.size(), 1u);
		EXPECT_EQ(log_[0].kind, "double free");
		log_.clear();
	}

	kslub_cache_t *other = kslub_cache_create(k_, "mis-other", 64, 0, 0, nullptr, &err);
	ASSERT_NE(other, nullptr);
	EXPECT_EQ(kslub_cache_free(other, a), kEINVAL);
	ASSERT_EQ(log_.size(), 1u);
	EXPECT_EQ(log_[0].kind, "wrong cache");
	log_.clear();

	void *c = kslub_cache_alloc(other, 0);
	EXPECT_EQ(kslub_cache_destroy(other), kEBUSY);
	ASSERT_EQ(log_.size(), 1u);
	EXPECT_EQ(log_[0].kind, "objects remaining");
	log_.clear();
	EXPECT_EQ(kslub_cache_free(other, c), 0);
	EXPECT_EQ(kslub_cache_destroy(other), 0);

	EXPECT_EQ(kslub_cache_create(k_, "has space", 64, 0, 0, nullptr, &err), nullptr);
	EXPECT_EQ(err, kEINVAL);
	ASSERT_EQ(log_.size(), 1u);
	EXPECT_EQ(log_[0].kind, "bad argument");
	EXPECT_EQ(log_[0].cache, "");
	log_.clear();

	EXPECT_EQ(kslub_cache_free(s_, a), 0);
	EXPECT_EQ(log_.size(), 0u);
	EXPECT_EQ(kslub_report_count(k_), CONFIG_KSLUB_FREELIST_HARDENED ? 5u : 4u);
}

/* Without a reporter, a report is one line on stderr: "kslub: <kind>: <what> ...". */
TEST(MisuseReporter, DefaultReporterPrintsOneLineToStderr)
{
	int err = 1;
	kslub_t *k = kslub_create(kPool, 1, 1, KSLUB_DETERMINISTIC, &err);
	ASSERT_NE(k, nullptr) << err;
	int on_stack = 0;
	::testing::internal::CaptureStderr();
	EXPECT_EQ(kslub_kfree(k, &on_stack), kEFAULT);
	std::string out = ::testing::internal::GetCapturedStderr();
	EXPECT_EQ(out.rfind("kslub: invalid free: pointer is not from this allocator at 0x", 0), 0u)
		<< out;
	EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
	EXPECT_EQ(kslub_report_count(k), 1u);

	/* A reporter set and cleared again: back to stderr. */
	kslub_test::ReportLog log;
	log.attach(k);
	EXPECT_EQ(kslub_kfree(k, &on_stack), kEFAULT);
	EXPECT_EQ(log.size(), 1u);
	kslub_set_reporter(k, nullptr, nullptr);
	::testing::internal::CaptureStderr();
	EXPECT_EQ(kslub_kfree(k, &on_stack), kEFAULT);
	out = ::testing::internal::GetCapturedStderr();
	EXPECT_EQ(out.rfind("kslub: invalid free: ", 0), 0u) << out;
	EXPECT_EQ(log.size(), 1u);
	EXPECT_EQ(kslub_report_count(k), 3u);
	EXPECT_EQ(kslub_destroy(k), 0);
}

/* ------------------------------------------------------------------------- */
/* Use after free, caught by AddressSanitizer (freed objects and pages are poisoned) */

#if KSLUB_TEST_ASAN

using MisuseAsanDeathTest = Misuse;

TEST_F(MisuseAsanDeathTest, WriteToAFreedObject)
{
	EXPECT_DEATH(
		{
			volatile char *p = static_cast<char *>(kslub_cache_alloc(s_, 0));
			kslub_cache_free(s_, const_cast<char *>(p));
			p[0] = 'x';
		},
		"use-after-poison|use-after-free");
}

TEST_F(MisuseAsanDeathTest, ReadOfAFreedKmallocObject)
{
	EXPECT_DEATH(
		{
			volatile char *p = static_cast<char *>(kslub_kmalloc(k_, 100, 0));
			kslub_kfree(k_, const_cast<char *>(p));
			char c = p[99];
			(void)c;
		},
		"use-after-poison|use-after-free");
}

TEST_F(MisuseAsanDeathTest, WriteToFreedPages)
{
	EXPECT_DEATH(
		{
			volatile char *p = static_cast<char *>(kslub_kmalloc(k_, 16384, 0));
			kslub_kfree(k_, const_cast<char *>(p));
			p[5000] = 'x';
		},
		"use-after-poison|use-after-free");
}

/* Running off the end of an object into a neighbour that was never handed out. */
TEST_F(MisuseAsanDeathTest, OverflowIntoAFreeNeighbour)
{
	if (CONFIG_KSLUB_FREELIST_RANDOM)
		GTEST_SKIP()
			<< "the first object of a slab is only its first slot without freelist randomisation";
	EXPECT_DEATH(
		{
			volatile char *p = static_cast<char *>(kslub_cache_alloc(s_, 0));
			p[63] = 'x';
			p[64] = 'x';
		},
		"use-after-poison|use-after-free");
}

/* The live object itself is fine, before and after a neighbour's free. */
TEST_F(MisuseAsanDeathTest, LiveObjectsStayAccessible)
{
	char *a = static_cast<char *>(kslub_cache_alloc(s_, 0));
	char *b = static_cast<char *>(kslub_cache_alloc(s_, 0));
	ASSERT_TRUE(a && b);
	memset(a, 1, 64);
	ASSERT_EQ(kslub_cache_free(s_, b), 0);
	memset(a, 2, 64);
	EXPECT_EQ(a[63], 2);
	ASSERT_EQ(kslub_cache_free(s_, a), 0);
}

#endif

} // namespace
