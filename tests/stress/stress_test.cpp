// SPDX-License-Identifier: GPL-2.0-only
/*
 * Multithreaded stress tests of the C API on real threads.
 *
 * Several threads allocate and free at random from a few shared caches
 * (24, 192 and 1000 bytes, and kmalloc sizes from 8 bytes to 8 KiB plus an
 * occasional kmalloc_large), with the _node variants, GFP_ZERO and bulk
 * calls mixed in. Objects are handed between threads through a shared pool
 * (a mailbox per thread under one mutex), so that about half of the frees
 * are made by another thread than the allocating one: __slab_free, frozen
 * slabs of other CPUs, CPU partial lists and their drains. Other tests take
 * CPUs offline and online under load, and exhaust a small pool.
 *
 * Every object carries a pattern derived from its address and a
 * per-allocation generation over its whole size, written when it is
 * allocated and checked when it is freed: an object handed out twice, or two
 * overlapping objects, break one of the patterns. A shadow set of live
 * addresses catches an object handed out again while still live.
 *
 * Between phases all threads are joined and the caches checked at a
 * quiescent point: kslub_cache_check() finds no error and counts exactly the
 * objects the test holds, kslub_cache_validate() and kslub_buddy_check() find
 * nothing, no report was made, and the event counters match the calls made
 * (see check_counters() for what is exact and what is a bound).
 *
 * The instance is not deterministic. With at least as many declared CPUs as
 * the host has (2 and more here) a thread runs on its host CPU's slot, the
 * fast paths as restartable sequences (the ASan and TSan builds too); with
 * fewer (1) threads share the slot, with locked CASes. So both commit modes
 * run, with many threads per slot and with idle slots.
 *
 * The harness (the instance, the workers and every check named above) is
 * stress_harness.h and stress_harness.cpp; this file holds the test cases.
 */
#include "kslub.h"

#include "stress_harness.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace kslub_stress;

std::string param_name(const Config &c)
{
	char b[64];
	snprintf(b, sizeof(b), "t%u_cpu%u_node%u_seed%" PRIx64 "%s", c.threads, c.cpus, c.nodes,
		 c.seed, c.kernel == KSLUB_KERNEL_7_3 ? "_sheaves" : "");
	return b;
}

/* ------------------------------------------------------------------------ */
/* Mixed workload in phases                                                 */
/* ------------------------------------------------------------------------ */

/* A phase of the mixed workload, then every check; false after a failure. */
bool checked_phase(Harness &h, const char *what, int phase)
{
	h.run_phase(kOpsPerPhase);
	std::string where = std::string(what) + " " + std::to_string(phase);
	h.check_quiescent(where.c_str());
	return !::testing::Test::HasFailure();
}

/*
 * The end of a run where no allocation may fail: drain, check, then (no
 * failure so far) the summary and the teardown's checks.
 */
void drain_and_finish(Harness &h, const char *test, uint64_t t0, const char *extra = "")
{
	h.drain();
	h.check_quiescent("drained");
	if (::testing::Test::HasFailure())
		return;
	EXPECT_EQ(h.totals().failed, 0u);
	h.summary(test, now_ms() - t0, extra);
	h.teardown("teardown");
}

class StressTest : public ::testing::TestWithParam<Config> {};

TEST_P(StressTest, MixedWorkload)
{
	const Config cfg = GetParam();
	uint64_t t0 = now_ms();
	Harness h(cfg, size_t(64) << 20);
	ASSERT_TRUE(h.ok());
	for (int phase = 0; phase < kPhases; phase++)
		if (!checked_phase(h, "phase", phase))
			return;
	drain_and_finish(h, "stress", t0);
}

std::vector<Config> stress_configs()
{
	/* threads {2, 4, 8} x (CPUs, nodes) {(4, 1), (4, 2), (1, 1), (8, 2)}, one fixed seed each. */
	std::vector<Config> v;
	const unsigned cpus_nodes[][2] = {{4, 1}, {4, 2}, {1, 1}, {8, 2}};
	uint64_t seed = 0x5eed;
	for (unsigned threads : {2u, 4u, 8u})
		for (auto &cn : cpus_nodes)
			v.push_back(Config{threads, cn[0], cn[1], seed++});
	/* The sheaves design (7.3's rules): 4 and 8 threads on one and two nodes. */
	for (unsigned threads : {4u, 8u})
		for (unsigned nodes : {1u, 2u})
			v.push_back(Config{threads, 4, nodes, seed++, KSLUB_KERNEL_7_3});
	return v;
}

INSTANTIATE_TEST_SUITE_P(Threads, StressTest, ::testing::ValuesIn(stress_configs()),
			 [](const ::testing::TestParamInfo<Config> &i) {
				 return param_name(i.param);
			 });

/* ------------------------------------------------------------------------ */
/* A migration storm on the machine's CPUs                                  */
/* ------------------------------------------------------------------------ */

/*
 * The machine's CPUs declared (nr_cpus 0), so that the TID fast paths run
 * as restartable sequences where the process has rseq; a mover re-pins a
 * random thread to a random CPU without pausing, so that threads are
 * migrated again and again inside sequences (each migration restarts the
 * one in flight) and between a sequence and the slow path it hands over to.
 * Everything must stay exact: check and validate after every phase, every
 * object filled and verified, the shadow set.
 */
constexpr uint64_t kStormMigrations = 5000;
constexpr uint64_t kStormTimeCapMs = 60000;

TEST(MigrationStorm, FastPathsOnTheMachinesCpus)
{
	for (unsigned kernel : {0u, unsigned(KSLUB_KERNEL_7_3)}) {
		Config cfg{4, KSLUB_CPUS_MACHINE, 1, 0x5707 + kernel, kernel, 0};
		uint64_t t0 = now_ms();
		Harness h(cfg, size_t(64) << 20);
		ASSERT_TRUE(h.ok());
		printf("  %s: commit mode %s\n", kernel ? "sheaves" : "TID",
		       kslub_commit_mode(h.k()));
		/*
		 * Phases until the mover has made kStormMigrations moves: the
		 * mover yields, so on a loaded machine it moves slower; the
		 * phases stop after kStormTimeCap all the same.
		 */
		bool many = kslub_nr_cpus(h.k()) >= 2;
		for (int phase = 0;; phase++) {
			bool moved = !many || h.migrations() >= kStormMigrations;
			if (phase >= kPhases && (moved || now_ms() - t0 > kStormTimeCapMs))
				break;
			if (!checked_phase(h, "storm phase", phase))
				return;
		}
		drain_and_finish(h, "storm", t0);
		if (many)
			EXPECT_GE(h.migrations(), kStormMigrations)
				<< "the mover hardly moved anything";
		if (HasFailure())
			return;
	}
}

/* ------------------------------------------------------------------------ */
/* CPUs going offline and online under load                                 */
/* ------------------------------------------------------------------------ */

class CpuHotplugTest : public ::testing::TestWithParam<Config> {};

TEST_P(CpuHotplugTest, OfflineOnlineUnderLoad)
{
	const Config cfg = GetParam();
	uint64_t t0 = now_ms();
	Harness h(cfg, size_t(64) << 20);
	ASSERT_TRUE(h.ok());
	std::atomic<bool> stop{false};
	std::vector<bool> online(cfg.cpus, true);
	uint64_t offlines = 0, onlines = 0, shrinks = 0;
	std::thread workers([&] { h.run_phase(0, &stop); });
	std::mt19937_64 rng(cfg.seed);
	const int toggles = STRESS_TSAN ? 400 : 800;
	for (int i = 0; i < toggles; i++) {
		/* CPU 0 stays online. */
		unsigned cpu = 1 + unsigned(rng() % (cfg.cpus - 1));
		if (online[cpu]) {
			EXPECT_EQ(kslub_cpu_offline(h.k(), cpu), 0) << "offline " << cpu;
			online[cpu] = false;
			offlines++;
		} else {
			EXPECT_EQ(kslub_cpu_online(h.k(), cpu), 0) << "online " << cpu;
			online[cpu] = true;
			onlines++;
		}
		/* kmem_cache_shrink may run at any time. */
		if (rng() % 8 == 0) {
			EXPECT_GE(kslub_cache_shrink(h.cache(size_t(rng() % h.tracked_count()))),
				  0);
			shrinks++;
		}
		std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 1500));
	}
	/* Leave a CPU offline for the checks, the rest online. */
	for (unsigned cpu = 1; cpu < cfg.cpus; cpu++) {
		bool want = cpu != cfg.cpus - 1;
		if (online[cpu] != want) {
			if (want)
				EXPECT_EQ(kslub_cpu_online(h.k(), cpu), 0);
			else
				EXPECT_EQ(kslub_cpu_offline(h.k(), cpu), 0);
			online[cpu] = want;
		}
	}
	stop.store(true);
	workers.join();
	h.check_quiescent("after hotplug");
	if (HasFailure())
		return;
	/* More work with one CPU offline, then all back. */
	h.run_phase(kOpsPerPhase / 2);
	h.check_quiescent("one CPU offline");
	if (HasFailure())
		return;
	EXPECT_EQ(kslub_cpu_online(h.k(), cfg.cpus - 1), 0);
	char extra[96];
	snprintf(extra, sizeof(extra),
		 "; offline %" PRIu64 ", online %" PRIu64 ", concurrent shrinks %" PRIu64, offlines,
		 onlines, shrinks);
	drain_and_finish(h, "hotplug", t0, extra);
}

INSTANTIATE_TEST_SUITE_P(Cpus, CpuHotplugTest,
			 ::testing::Values(Config{2, 2, 1, 0x401}, Config{4, 4, 2, 0x402},
					   Config{8, 8, 2, 0x403},
					   Config{4, 4, 2, 0x404, KSLUB_KERNEL_7_3}),
			 [](const ::testing::TestParamInfo<Config> &i) {
				 return param_name(i.param);
			 });

/* ------------------------------------------------------------------------ */
/* Pool exhaustion                                                          */
/* ------------------------------------------------------------------------ */

class ExhaustionDriver {
public:
	explicit ExhaustionDriver(Harness &h) : h_(h) {}

	/*
	 * Allocate until NULL from every kind: the three caches, bulk from
	 * stress-192, each kmalloc size. Large kinds first get most of the
	 * picks, so that the small caches fill the last partial slabs.
	 */
	void fill(ThreadState &t)
	{
		const size_t nkm = h_.kmalloc_sizes();
		const size_t kinds = 4 + nkm; /* 0..2 caches, 3 bulk, 4.. kmalloc sizes */
		std::vector<bool> done(kinds, false);
		size_t left = kinds;
		uint64_t deadline = now_ms() + (STRESS_TSAN ? 20000 : 10000);
		while (left) {
			t.nops++;
			size_t kind = size_t(t.rng() % kinds);
			if (done[kind])
				continue;
			/* Small objects less often: they need many allocations per page. */
			if ((kind == 0 || kind == 4 || kind == 5) && t.rng() % 4)
				continue;
			bool ok;
			if (kind < 3)
				ok = h_.alloc_cache(t, int(kind), true);
			else if (kind == 3)
				ok = h_.bulk_alloc(t, 1 + t.rng() % kMaxBulk, true);
			else
				ok = h_.alloc_kmalloc(t, kind - 4, true);
			if (!ok) {
				done[kind] = true;
				left--;
			}
			if ((t.nops & 1023) == 0 && now_ms() > deadline) {
				h_.errors().add(
					"thread %u: pool not exhausted in time (%zu kinds left)",
					t.id, left);
				break;
			}
		}
	}

	Harness &h_;
};

class ExhaustionTest : public ::testing::TestWithParam<Config> {};

TEST_P(ExhaustionTest, AllocateUntilNullThenRecover)
{
	const Config cfg = GetParam();
	uint64_t t0 = now_ms();
	Harness h(cfg, size_t(8) << 20);
	ASSERT_TRUE(h.ok());
	ExhaustionDriver d(h);
	uint64_t held = 0, free_pages = 0;
	/* Twice: the second time from the state the first exhaustion left. */
	for (int round = 0; round < 2; round++) {
		uint64_t failed_before = h.totals().failed;
		h.run_threads([&](ThreadState &t) { d.fill(t); });
		kslub_pool p;
		kslub_pool_info(h.k(), &p);
		held = h.collect().size();
		free_pages = p.free_pages;
		EXPECT_GT(h.totals().failed, failed_before);
		/* Whatever pages are left are too few for the largest slab orders. */
		EXPECT_LT(p.free_pages, 64u) << "pool not exhausted, round " << round;
		std::string where = "exhausted, round " + std::to_string(round);
		h.check_quiescent(where.c_str());
		if (HasFailure())
			return;

		/* Free everything, spread over the threads: mostly cross-thread. */
		h.drain();
		where = "freed, round " + std::to_string(round);
		h.check_quiescent(where.c_str());
		if (HasFailure())
			return;
	}

	/* It works again: every kind allocates (each thread holding a bounded amount). */
	h.run_threads([&](ThreadState &t) {
		for (int i = 0; i < 20; i++) {
			for (int tc = 0; tc < 3; tc++)
				h.alloc_cache(t, tc, false);
			h.bulk_alloc(t, 1 + t.rng() % kMaxBulk, false);
			for (size_t j = 0; j < 8; j++)
				h.alloc_kmalloc(t, j, false);
			for (int n = 0; n < 4; n++)
				h.give(t);
			for (int n = 0; n < 4; n++)
				h.take(t);
			while (t.held.size() > 24)
				h.free_obj(t, h.take_held(t));
		}
	});
	h.check_quiescent("recovered");
	if (HasFailure())
		return;
	h.drain();
	h.check_quiescent("drained");
	if (HasFailure())
		return;
	char extra[128];
	snprintf(extra, sizeof(extra),
		 "; at exhaustion %" PRIu64 " objects held, %" PRIu64 " pages free", held,
		 free_pages);
	h.summary("exhaustion", now_ms() - t0, extra);
	h.teardown("teardown");
}

INSTANTIATE_TEST_SUITE_P(Pool8M, ExhaustionTest,
			 ::testing::Values(Config{2, 1, 1, 0x801}, Config{4, 4, 1, 0x802},
					   Config{8, 8, 2, 0x803}),
			 [](const ::testing::TestParamInfo<Config> &i) {
				 return param_name(i.param);
			 });

/* ------------------------------------------------------------------------ */
/* Page allocator under two threads                                         */
/* ------------------------------------------------------------------------ */

/*
 * Two threads taking and giving back order-2 blocks through kmalloc_large:
 * the buddy merge reads the flags and order of neighbouring blocks that
 * another thread owns and writes. Those accesses go through the platform's
 * load/store; under ThreadSanitizer this test is the regression check.
 */
TEST(BuddyPages, ConcurrentLargeKmallocFree)
{
	constexpr int kIterations = 50000;
	uint64_t t0 = now_ms();
	kslub_t *k = kslub_create(size_t(8) << 20, 2, 1, 0, nullptr);
	ASSERT_NE(k, nullptr);
	std::atomic<uint64_t> failures{0};
	auto work = [&] {
		for (int i = 0; i < kIterations; i++) {
			void *p = kslub_kmalloc(k, 8193, 0); /* above the kmalloc caches: pages */
			if (!p || kslub_kfree(k, p))
				failures.fetch_add(1);
		}
	};
	std::thread a(work), b(work);
	a.join();
	b.join();
	EXPECT_EQ(failures.load(), 0u);
	EXPECT_EQ(kslub_buddy_check(k), 0);
	EXPECT_EQ(kslub_report_count(k), 0u);
	EXPECT_EQ(kslub_destroy(k), 0);
	printf("[buddy] 2 threads: %" PRIu64 " ms, %d order-2 kmalloc_large/kfree pairs each, "
	       "%" PRIu64 " failures\n",
	       now_ms() - t0, kIterations, failures.load());
}

} // namespace
