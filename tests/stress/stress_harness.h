// SPDX-License-Identifier: GPL-2.0-only
/*
 * The harness of the multithreaded stress tests (stress_test.cpp): one
 * kslub instance with three caches of its own (24, 192 and 1000 bytes) and
 * the kmalloc caches of a few sizes, worker threads that allocate and free
 * at random through the C API and hand objects to each other through a
 * shared pool, and the bookkeeping that checks them: a fill pattern over
 * every object, a shadow set of live addresses, and the caches, the buddy
 * allocator and the event counters against what the test holds at every
 * quiescent point.
 */
#ifndef KSLUB_TESTS_STRESS_HARNESS_H
#define KSLUB_TESTS_STRESS_HARNESS_H

#include "kslub.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define STRESS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define STRESS_TSAN 1
#endif
#endif
#ifndef STRESS_TSAN
#define STRESS_TSAN 0
#endif

namespace kslub_stress {

/* ThreadSanitizer is several times slower: fewer operations there. */
constexpr uint64_t kOpsPerPhase = STRESS_TSAN ? 120000 : 300000; /* over all threads */
constexpr int kPhases = 3;
/* A phase stops early past this, whatever the machine. */
constexpr std::chrono::milliseconds kPhaseTimeCap(STRESS_TSAN ? 2000 : 1500);
/* A test still running after this is stuck (a livelock in the allocator): abort with a message. */
constexpr std::chrono::seconds kWatchdog(STRESS_TSAN ? 150 : 90);

constexpr size_t kHeldTarget = 160;	     /* objects a thread likes to hold */
constexpr size_t kHeldMax = 4 * kHeldTarget; /* beyond it a thread only frees */
constexpr size_t kMailboxCap = 256;	     /* objects waiting for one thread in the shared pool */
constexpr size_t kMaxBulk = 24;
constexpr int kMaxTracked = 16;
constexpr size_t kPageSize = 4096;

uint64_t now_ms();

/* An object the test holds. */
struct Obj {
	void *p;
	uint64_t gen;
	uint32_t size;	/* bytes covered by the pattern */
	int16_t tc;	/* tracked cache, -1 for kmalloc_large */
	uint16_t owner; /* thread that allocated it */
	bool kmalloc;	/* from kslub_kmalloc*: freed with kslub_kfree */
};

/* What the threads did to one cache (summed over threads after a join). */
struct CacheOps {
	uint64_t single_alloc = 0; /* cache_alloc[_node], kmalloc[_node] calls, failed ones too */
	uint64_t failed = 0;	   /* of which returned NULL */
	uint64_t single_free = 0;  /* cache_free and kfree calls */
	uint64_t bulk_alloc_calls = 0;
	uint64_t bulk_alloc_objs = 0; /* requested, by all calls */
	uint64_t bulk_alloc_failed = 0;
	uint64_t bulk_alloc_failed_objs = 0;
	uint64_t bulk_free_calls = 0; /* with at least one object */
	uint64_t bulk_free_objs = 0;

	void add(const CacheOps &o)
	{
		single_alloc += o.single_alloc;
		failed += o.failed;
		single_free += o.single_free;
		bulk_alloc_calls += o.bulk_alloc_calls;
		bulk_alloc_objs += o.bulk_alloc_objs;
		bulk_alloc_failed += o.bulk_alloc_failed;
		bulk_alloc_failed_objs += o.bulk_alloc_failed_objs;
		bulk_free_calls += o.bulk_free_calls;
		bulk_free_objs += o.bulk_free_objs;
	}
};

struct ThreadState {
	unsigned id = 0;
	std::mt19937_64 rng;
	std::vector<Obj> held;
	CacheOps ops[kMaxTracked];
	uint64_t nops = 0, allocs = 0, frees = 0, cross = 0, large_alloc = 0, large_free = 0;
	uint64_t failed_allocs = 0;
	uint64_t gen_counter = 0;
};

struct Tracked {
	kslub_cache_t *s;
	std::string label;
	uint32_t object_size;
	bool created; /* by the test (destroyed at the end), else a kmalloc cache */
	uint64_t base[KSLUB_NR_STATS];
};

struct KmallocSize {
	size_t req;
	int tc; /* -1: above the kmalloc caches, kmalloc_large */
};

/* A std::unordered_set of live addresses under a mutex, split by address to keep waits short. */
class Shadow {
public:
	bool insert(const void *p)
	{
		Shard &s = shard(p);
		std::lock_guard<std::mutex> g(s.mu);
		return s.set.insert(uintptr_t(p)).second;
	}
	bool erase(const void *p)
	{
		Shard &s = shard(p);
		std::lock_guard<std::mutex> g(s.mu);
		return s.set.erase(uintptr_t(p)) == 1;
	}
	size_t size()
	{
		size_t n = 0;
		for (Shard &s : shards_) {
			std::lock_guard<std::mutex> g(s.mu);
			n += s.set.size();
		}
		return n;
	}

private:
	struct Shard {
		std::mutex mu;
		std::unordered_set<uintptr_t> set;
	};
	Shard &shard(const void *p)
	{
		return shards_[(uintptr_t(p) >> 3) * 0x9e3779b97f4a7c15ull >> 60];
	}
	Shard shards_[16];
};

/* Failures seen by the threads; reported by the main thread after the join. */
class ErrorLog {
public:
	void add(const char *fmt, ...) __attribute__((format(printf, 2, 3)))
	{
		uint64_t n = count_.fetch_add(1) + 1;
		if (n > 20)
			return;
		char buf[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(buf, sizeof(buf), fmt, ap);
		va_end(ap);
		std::lock_guard<std::mutex> g(mu_);
		msgs_.push_back(buf);
	}
	uint64_t count() const { return count_.load(); }
	std::string text()
	{
		std::lock_guard<std::mutex> g(mu_);
		std::string s;
		for (auto &m : msgs_)
			s += "  " + m + "\n";
		return s;
	}

private:
	std::atomic<uint64_t> count_{0};
	std::mutex mu_;
	std::vector<std::string> msgs_;
};

struct Config {
	unsigned threads;
	unsigned cpus;
	unsigned nodes;
	uint64_t seed;
	unsigned kernel =
		0; /* kslub_create's KSLUB_KERNEL_* flag: 0 (6.1, TID) or KSLUB_KERNEL_7_3 (sheaves) */
	unsigned migrate_us =
		200; /* the mover's pause between affinity changes; 0: none (a storm) */
};

std::string config_str(const Config &c);

/* How GoogleTest prints a parameter. */
void PrintTo(const Config &c, std::ostream *os);

/*
 * One instance, its caches, the objects the test holds and the bookkeeping
 * to check them. Workers touch only their ThreadState, the shared pool
 * (under pool_mu), the shadow set and the error log.
 */
class Harness {
public:
	Harness(const Config &cfg, size_t pool_bytes);

	~Harness();

	bool ok() const { return k_ != nullptr; }
	kslub_t *k() const { return k_; }
	uint64_t migrations() const { return migrations_; } /* affinity changes so far */
	const Config &cfg() const { return cfg_; }
	ErrorLog &errors() { return errors_; }
	std::vector<ThreadState> &threads() { return ts_; }
	size_t tracked_count() const { return tracked_.size(); }
	kslub_cache_t *cache(size_t i) const { return tracked_[i].s; }
	/* How many kmalloc sizes there are: alloc_kmalloc() takes 0 .. kmalloc_sizes() - 1. */
	size_t kmalloc_sizes() const { return kmsizes_.size(); }

	/* ---- operations of one thread ---- */

	int pick_node(ThreadState &t);

	/* Take a new object: shadow set, GFP_ZERO check, pattern, held list. */
	void adopt(ThreadState &t, void *p, uint32_t size, int tc, bool kmalloc, unsigned gfp);

	/* Check an object before it is freed; false (and the object is dropped) on a mismatch. */
	bool release_check(ThreadState &t, const Obj &o);

	void free_obj(ThreadState &t, const Obj &o);

	/* One object from one of the three user caches; NULL allowed only if allow_fail. */
	bool alloc_cache(ThreadState &t, int tc, bool allow_fail);

	bool alloc_kmalloc(ThreadState &t, size_t which, bool allow_fail);

	/* A bulk allocation from stress-192; returns false if it failed. */
	bool bulk_alloc(ThreadState &t, size_t n, bool allow_fail);

	/* Up to n stress-192 objects of the held list in one bulk free (sometimes with a NULL among them). */
	void bulk_free(ThreadState &t, size_t n);

	Obj take_held(ThreadState &t);

	/*
	 * Hand an object to another thread through the shared pool (a mailbox
	 * per thread, under one mutex), so that it is freed by a thread other
	 * than the one that allocated it whatever the scheduling; kept if the
	 * mailbox is full (its owner is not running).
	 */
	void give(ThreadState &t);

	/* Take up to four objects from this thread's mailbox: mostly freed at once, some kept. */
	void take(ThreadState &t);

	void alloc_random(ThreadState &t, bool allow_fail);

	size_t pick_kmalloc(ThreadState &t);

	/* One random operation of the mixed workload. */
	void step(ThreadState &t);

	/*
	 * Run fn(thread state) on every thread, then join. Meanwhile the
	 * threads are moved between host CPUs at random points by changing
	 * their affinity, so that some are migrated inside a fast path,
	 * between reading the CPU's tid and the CAS on that CPU's slot.
	 */
	template <class F> void run_threads(F fn)
	{
		std::atomic<size_t> running{ts_.size()};
		std::vector<std::thread> th;
		for (auto &t : ts_)
			th.emplace_back([&fn, &t, &running] {
				fn(t);
				running.fetch_sub(1);
			});
		std::thread mover([&] { migrate(th, running); });
		mover.join();
		for (auto &x : th)
			x.join();
	}

	/* Until every worker is done (their pthread handles stay valid until joined). */
	void migrate(std::vector<std::thread> &th, const std::atomic<size_t> &running);

	/* Mixed workload: ops operations over all threads, or until stop is set. */
	void run_phase(uint64_t ops, const std::atomic<bool> *stop = nullptr);

	/* Every held object (threads and pool) freed, spread over the threads in random order. */
	void drain();

	std::vector<Obj> collect() const;

	uint64_t stat_delta(size_t tc, int item) const;

	/*
	 * The counters against the calls. Every single-object allocation
	 * (cache_alloc[_node], kmalloc[_node]) counts exactly one of
	 * alloc_fastpath and alloc_slowpath, a failed one alloc_slowpath; every
	 * single free (cache_free, kfree) exactly one of free_fastpath and
	 * free_slowpath. So for the caches without bulk calls both sums would be
	 * exact, but for the increments threads on two CPUs can lose by adding
	 * to one counter at once (a hundredth is allowed). Bulk calls are not: alloc_bulk takes objects off the CPU
	 * freelist under the slot lock without counting them and counts
	 * alloc_slowpath once per object it gets from the slow path (0..n per
	 * call); free_bulk counts once per chain of objects of one slab (1..m
	 * per call with m objects), and a failed alloc_bulk gives back what it
	 * got with free_bulk. For stress-192 the sums are therefore bounded.
	 */
	void check_counters(const char *where);

	/* All threads joined: the caches against what the test holds. */
	void check_quiescent(const char *where);

	/* Everything freed: shrink, every slab and page back, destroy. */
	void teardown(const char *where);

	struct Totals {
		uint64_t ops = 0, allocs = 0, frees = 0, cross = 0, bulk_calls = 0, failed = 0,
			 large = 0;
	};
	Totals totals() const;

	/* Counters summed over the tracked caches, for the summary line. */
	uint64_t stat_total(int item) const;

	void summary(const char *test, uint64_t ms, const char *extra = "");

private:
	static void on_report(void *arg, const kslub_report *r);

	void add_tracked(kslub_cache_t *s, const char *name, bool created);

	const char *label(int tc) const;

	/* Free without checks (cleanup after a failed test). */
	void release_raw(const Obj &o);

	Config cfg_;
	kslub_t *k_ = nullptr;
	std::vector<Tracked> tracked_;
	std::vector<KmallocSize> kmsizes_;
	uint64_t initial_free_pages_ = 0;
	std::vector<ThreadState> ts_;
	std::mutex pool_mu_;
	std::vector<std::vector<Obj>> pool_; /* mailbox of each thread */
	Shadow shadow_;
	ErrorLog errors_;
	std::atomic<uint64_t> reports_{0};
	uint64_t migrations_ = 0; /* affinity changes made by run_threads() */
	std::mutex watchdog_mu_;
	std::condition_variable watchdog_cv_;
	bool done_ = false;
	std::thread watchdog_;
};

} // namespace kslub_stress

#endif // KSLUB_TESTS_STRESS_HARNESS_H
