// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmalloc size classes: which cache serves each request size, the kernel's
 * cache names, ksize(), and the page-allocator path above 8 KiB. The
 * expected classes are Linux's (mm/slab_common.c size_index[] for requests
 * up to 192 bytes, the next power of two above), written out as ranges.
 */
#include "kslub.h"

#include <gtest/gtest.h>

#include <errno.h>
#include <stdint.h>

#include <string>
#include <vector>

namespace {

struct ClassRange {
	size_t lo, hi;	  /* requests lo..hi bytes */
	size_t cls;	  /* are served by kmalloc-cls */
	const char *name; /* the kernel's name for it */
	size_t align_612; /* object alignment with the 6.12 rules */
};

/*
 * 65..96 goes to kmalloc-96 and 129..192 to kmalloc-192 (size_index[] maps
 * (size - 1) / 8 = 8..11 and 16..23 to them); all else to the next power of
 * two. With the 6.12 rules kmalloc-96 is 32-aligned and kmalloc-192
 * 64-aligned (largest power of two dividing 96 = 3 * 32 and 192 = 3 * 64);
 * powers of two are naturally aligned.
 */
const ClassRange kClasses[] = {
	{1, 8, 8, "kmalloc-8", 8},
	{9, 16, 16, "kmalloc-16", 16},
	{17, 32, 32, "kmalloc-32", 32},
	{33, 64, 64, "kmalloc-64", 64},
	{65, 96, 96, "kmalloc-96", 32},
	{97, 128, 128, "kmalloc-128", 128},
	{129, 192, 192, "kmalloc-192", 64},
	{193, 256, 256, "kmalloc-256", 256},
	{257, 512, 512, "kmalloc-512", 512},
	{513, 1024, 1024, "kmalloc-1k", 1024},
	{1025, 2048, 2048, "kmalloc-2k", 2048},
	{2049, 4096, 4096, "kmalloc-4k", 4096},
	{4097, 8192, 8192, "kmalloc-8k", 8192},
};

/*
 * Above 8 KiB kmalloc takes 2^get_order(size) pages from the page allocator
 * and ksize() is the whole block, 4096 << order.
 */
struct LargeRange {
	size_t lo, hi, ksize;
};
const LargeRange kLarge[] = {
	{8193, 16384, 16384},	     /* order 2 */
	{16385, 32768, 32768},	     /* order 3 */
	{32769, 65536, 65536},	     /* order 4 */
	{65537, 131072, 131072},     /* order 5 */
	{131073, 262144, 262144},    /* order 6 */
	{262145, 524288, 524288},    /* order 7 */
	{524289, 1048576, 1048576},  /* order 8 */
	{1048577, 2097152, 2097152}, /* order 9 */
	{2097153, 4194304, 4194304}, /* order 10, the largest block (MAX_ORDER 11) */
};

const ClassRange *class_of(size_t size)
{
	for (const ClassRange &c : kClasses)
		if (size >= c.lo && size <= c.hi)
			return &c;
	return nullptr;
}

size_t large_ksize_of(size_t size)
{
	for (const LargeRange &r : kLarge)
		if (size >= r.lo && size <= r.hi)
			return r.ksize;
	return 0;
}

class KmallocSizeClass : public ::testing::TestWithParam<unsigned> {
protected:
	kslub_t *k = nullptr;
	uint64_t expected_reports = 0;

	void SetUp() override
	{
		int err = 1;
		k = kslub_create(16u << 20, 2, 1, KSLUB_DETERMINISTIC | GetParam(), &err);
		ASSERT_NE(k, nullptr) << "err " << err;
	}
	void TearDown() override
	{
		if (!k)
			return;
		EXPECT_LE(kslub_report_count(k), expected_reports);
		EXPECT_EQ(kslub_destroy(k), 0);
	}
};

TEST(KmallocSizeClassTable, RangesAreContiguous)
{
	size_t next = 1;
	for (const ClassRange &c : kClasses) {
		EXPECT_EQ(c.lo, next);
		EXPECT_EQ(c.hi, c.cls);
		next = c.hi + 1;
	}
	EXPECT_EQ(next, 8193u);
	for (const LargeRange &r : kLarge) {
		EXPECT_EQ(r.lo, next);
		EXPECT_EQ(r.hi, r.ksize);
		next = r.hi + 1;
	}
	EXPECT_EQ(next, (size_t(4) << 20) + 1);
}

TEST_P(KmallocSizeClass, EverySizeUpTo8KiB)
{
	/* Every rule set after 6.1 has the 6.12 alignment. */
	const bool rules_612 = GetParam() != 0;
	for (size_t size = 1; size <= 8192; size++) {
		const ClassRange *c = class_of(size);
		ASSERT_NE(c, nullptr) << size;

		kslub_cache_t *s = kslub_kmalloc_cache(k, size);
		ASSERT_NE(s, nullptr) << "size " << size;
		ASSERT_STREQ(kslub_cache_name(s), c->name) << "size " << size;

		void *p = kslub_kmalloc(k, size, KSLUB_GFP_KERNEL);
		ASSERT_NE(p, nullptr) << "size " << size;
		ASSERT_EQ(kslub_ksize(k, p), c->cls) << "size " << size;
		/* 6.1 guarantees natural alignment for powers of two, 8 otherwise; 6.12 on more. */
		size_t align = rules_612 ? c->align_612 :
					   (c->cls == 96 || c->cls == 192 ? 8 : c->cls);
		ASSERT_EQ(uintptr_t(p) % align, 0u) << "size " << size;
		ASSERT_EQ(kslub_kfree(k, p), 0) << "size " << size;
	}
}

/* Objects of the same class held together: ksize stays the class size, pointers distinct. */
TEST_P(KmallocSizeClass, HeldObjectsKeepTheirClass)
{
	std::vector<std::pair<void *, size_t>> held;
	for (const ClassRange &c : kClasses) {
		for (size_t size : {c.lo, (c.lo + c.hi) / 2, c.hi}) {
			void *p = kslub_kmalloc(k, size, KSLUB_GFP_ZERO);
			ASSERT_NE(p, nullptr) << size;
			const unsigned char *b = static_cast<const unsigned char *>(p);
			for (size_t i = 0; i < size; i++)
				ASSERT_EQ(b[i], 0) << "size " << size << " byte " << i;
			held.emplace_back(p, c.cls);
		}
	}
	for (size_t i = 0; i < held.size(); i++)
		for (size_t j = i + 1; j < held.size(); j++)
			ASSERT_NE(held[i].first, held[j].first);
	for (auto &h : held)
		EXPECT_EQ(kslub_ksize(k, h.first), h.second);
	for (auto &h : held)
		EXPECT_EQ(kslub_kfree(k, h.first), 0);
}

TEST_P(KmallocSizeClass, NoKmallocCacheAbove8KiB)
{
	EXPECT_EQ(kslub_kmalloc_cache(k, 8193), nullptr);
	EXPECT_EQ(kslub_kmalloc_cache(k, 1u << 20), nullptr);
}

std::vector<size_t> large_samples()
{
	std::vector<size_t> v;
	for (size_t p = 16384; p <= (size_t(4) << 20); p <<= 1) {
		v.push_back(p - 1);
		v.push_back(p);
		if (p < (size_t(4) << 20))
			v.push_back(p + 1);
	}
	v.push_back(8193);
	for (size_t odd :
	     {10000u, 12345u, 20000u, 40000u, 99999u, 100000u, 300001u, 1000000u, 3000000u})
		v.push_back(odd);
	return v;
}

TEST_P(KmallocSizeClass, LargeKmallocTakesWholePagesAndGivesThemBack)
{
	for (size_t size : large_samples()) {
		SCOPED_TRACE("size " + std::to_string(size));
		size_t expect = large_ksize_of(size);
		ASSERT_NE(expect, 0u);
		struct kslub_pool before, during, after;
		kslub_pool_info(k, &before);
		void *p = kslub_kmalloc(k, size, KSLUB_GFP_KERNEL);
		ASSERT_NE(p, nullptr);
		EXPECT_EQ(kslub_ksize(k, p), expect);
		/* A block from the page allocator is aligned to its own size. */
		EXPECT_EQ(uintptr_t(p) % 4096, 0u);
		EXPECT_EQ(uintptr_t(p) % expect, 0u);
		kslub_pool_info(k, &during);
		EXPECT_EQ(before.free_pages - during.free_pages, expect / 4096);
		EXPECT_EQ(kslub_kfree(k, p), 0);
		kslub_pool_info(k, &after);
		EXPECT_EQ(after.free_pages, before.free_pages);
	}
}

TEST_P(KmallocSizeClass, LargeKmallocGfpZero)
{
	/* 20000 bytes come from a 32 KiB block; the requested bytes read as zero. */
	unsigned char *p = static_cast<unsigned char *>(kslub_kmalloc(k, 20000, KSLUB_GFP_ZERO));
	ASSERT_NE(p, nullptr);
	for (size_t i = 0; i < 20000; i++)
		ASSERT_EQ(p[i], 0) << i;
	EXPECT_EQ(kslub_kfree(k, p), 0);
}

TEST_P(KmallocSizeClass, ZeroSizeAndNull)
{
	/* kmalloc(0) is ZERO_SIZE_PTR, ((void *)16); kfree ignores it and NULL. */
	void *z = kslub_kmalloc(k, 0, KSLUB_GFP_KERNEL);
	EXPECT_EQ(z, reinterpret_cast<void *>(16));
	EXPECT_EQ(kslub_kfree(k, z), 0);
	EXPECT_EQ(kslub_kfree(k, nullptr), 0);
	/* __ksize(): 0 for ZERO_OR_NULL_PTR. */
	EXPECT_EQ(kslub_ksize(k, z), 0u);
	EXPECT_EQ(kslub_ksize(k, nullptr), 0u);
}

TEST_P(KmallocSizeClass, AboveTheLargestBlockFails)
{
	struct kslub_pool before, after;
	kslub_pool_info(k, &before);
	/* 4 MiB is an order-10 block, the largest; one byte more cannot be served. */
	EXPECT_EQ(kslub_kmalloc(k, (size_t(4) << 20) + 1, KSLUB_GFP_KERNEL), nullptr);
	EXPECT_EQ(kslub_kmalloc(k, size_t(8) << 20, KSLUB_GFP_KERNEL), nullptr);
	EXPECT_EQ(kslub_kmalloc(k, SIZE_MAX / 2, KSLUB_GFP_KERNEL), nullptr);
	EXPECT_EQ(kslub_kmalloc(k, SIZE_MAX, KSLUB_GFP_KERNEL), nullptr);
	kslub_pool_info(k, &after);
	EXPECT_EQ(after.free_pages, before.free_pages);
}

/* Everything freed: the instance goes away (TearDown checks kslub_destroy() == 0). */
TEST_P(KmallocSizeClass, DestroyAfterMixedUse)
{
	std::vector<void *> held;
	for (size_t size : {1u, 100u, 4000u, 8192u, 8193u, 70000u, 4194304u}) {
		void *p = kslub_kmalloc(k, size, KSLUB_GFP_KERNEL);
		ASSERT_NE(p, nullptr) << size;
		held.push_back(p);
	}
	/* Still live: destroy refuses and keeps the instance (it may report the live objects). */
	unsigned seen = 0;
	kslub_set_reporter(
		k, [](void *arg, const struct kslub_report *) { ++*static_cast<unsigned *>(arg); },
		&seen);
	uint64_t reports = kslub_report_count(k);
	EXPECT_EQ(kslub_destroy(k), -EBUSY);
	expected_reports = reports + seen;
	kslub_set_reporter(k, nullptr, nullptr);
	for (void *p : held)
		EXPECT_EQ(kslub_kfree(k, p), 0);
}

INSTANTIATE_TEST_SUITE_P(Rules, KmallocSizeClass,
			 ::testing::Values(0u, unsigned(KSLUB_KERNEL_6_12),
					   unsigned(KSLUB_KERNEL_6_18), unsigned(KSLUB_KERNEL_7_3)),
			 [](const ::testing::TestParamInfo<unsigned> &info) {
				 return std::string(info.param == KSLUB_KERNEL_6_12 ? "Linux612" :
						    info.param == KSLUB_KERNEL_6_18 ? "Linux618" :
						    info.param == KSLUB_KERNEL_7_3  ? "Linux73" :
										      "Linux61");
			 });

} // namespace
