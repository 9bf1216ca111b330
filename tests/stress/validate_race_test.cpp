// SPDX-License-Identifier: GPL-2.0-only
/*
 * validate() on a live cache: while three threads free objects of partially
 * used slabs (the lockless __slab_free path, which changes a slab on the
 * node partial list without the list lock), a fourth validates in a loop.
 * Every validation must find nothing: a free racing with the walk is not an
 * error, and the repair of a miscount must never overwrite a concurrent free.
 * Afterwards the cache is consistent and destroys cleanly.
 */
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "kslub.h"

namespace {

std::atomic<long> g_reports;

void count_report(void *, const struct kslub_report *)
{
	g_reports++;
}

TEST(ValidateRace, ValidateWhileFreeingFindsNothing)
{
	g_reports = 0;
	int err;
	kslub_t *k = kslub_create(64u << 20, 2, 1, 0, &err);
	ASSERT_NE(k, nullptr);
	kslub_set_reporter(k, count_report, nullptr);
	kslub_cache_t *s = kslub_cache_create(k, "validate-race", 8, 8, 0, nullptr, &err);
	ASSERT_NE(s, nullptr);
	std::atomic<long> validate_errors{0};
	for (int round = 0; round < 40; round++) {
		/* Eight slabs of 512 objects; one object in eight freed up front, so every slab is partial. */
		const int n = 512 * 8;
		std::vector<void *> objs(n), rest;
		for (int i = 0; i < n; i++)
			ASSERT_NE(objs[size_t(i)] = kslub_cache_alloc(s, 0), nullptr);
		for (int i = 0; i < n; i++) {
			if (i % 8 == 0)
				ASSERT_EQ(kslub_cache_free(s, objs[size_t(i)]), 0);
			else
				rest.push_back(objs[size_t(i)]);
		}
		kslub_cache_shrink(s); /* flush: the slabs are now on the node partial list */
		std::atomic<bool> stop{false};
		std::thread validator([&] {
			while (!stop)
				validate_errors += kslub_cache_validate(s);
		});
		std::vector<std::thread> freers;
		for (size_t t = 0; t < 3; t++)
			freers.emplace_back([&, t] {
				for (size_t i = t; i < rest.size(); i += 3)
					kslub_cache_free(s, rest[i]);
			});
		for (auto &f : freers)
			f.join();
		stop = true;
		validator.join();
	}
	EXPECT_EQ(validate_errors.load(), 0);
	EXPECT_EQ(g_reports.load(), 0);
	struct kslub_census c;
	EXPECT_EQ(kslub_cache_check(s, &c), 0);
	EXPECT_EQ(c.live_objects, 0u);
	EXPECT_EQ(kslub_cache_destroy(s), 0);
	EXPECT_EQ(kslub_destroy(k), 0);
	printf("validate race: 40 rounds of 3584 concurrent frees against a validation loop, 0 errors\n");
}

} // namespace
