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
 * The instance is not deterministic: the CPU of a call is the host CPU the
 * thread runs on, folded onto the declared CPUs, so 1, 4 and 8 declared CPUs
 * on a small host give both many threads per CPU slot and idle slots.
 */
#include "kslub.h"

#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cinttypes>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
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

namespace {

/* ThreadSanitizer is several times slower: fewer operations there. */
constexpr uint64_t kOpsPerPhase = STRESS_TSAN ? 120000 : 300000; /* over all threads */
constexpr int kPhases = 3;
/* A phase stops early past this, whatever the machine. */
constexpr std::chrono::milliseconds kPhaseTimeCap(STRESS_TSAN ? 2000 : 1500);
/* A test still running after this is stuck (a livelock in the allocator): abort with a message. */
constexpr std::chrono::seconds kWatchdog(STRESS_TSAN ? 150 : 90);

constexpr size_t kHeldTarget = 160; /* objects a thread likes to hold */
constexpr size_t kMailboxCap = 256; /* objects waiting for one thread in the shared pool */
constexpr size_t kMaxBulk = 24;
constexpr int kMaxTracked = 16;
constexpr size_t kPageSize = 4096;

uint64_t now_ms()
{
	return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
				std::chrono::steady_clock::now().time_since_epoch())
				.count());
}

struct StatIdx {
	int af = kslub_stat_index("alloc_fastpath"), as = kslub_stat_index("alloc_slowpath");
	int ff = kslub_stat_index("free_fastpath"), fs = kslub_stat_index("free_slowpath");
	int frozen = kslub_stat_index("free_frozen"), cpf = kslub_stat_index("cpu_partial_free");
	int drain = kslub_stat_index("cpu_partial_drain"),
	    cpu_fail = kslub_stat_index("cmpxchg_double_cpu_fail");
	int slab_fail = kslub_stat_index("cmpxchg_double_fail"),
	    mismatch = kslub_stat_index("alloc_node_mismatch");
};

/* The pattern of word i of an object at address a with generation gen. */
inline uint64_t pattern(uintptr_t a, uint64_t gen, size_t i)
{
	return (uint64_t(a) ^ gen) + (i + 1) * 0x9e3779b97f4a7c15ull;
}

void fill_pattern(void *p, size_t size, uint64_t gen)
{
	auto *w = static_cast<uint64_t *>(p);
	for (size_t i = 0; i < size / 8; i++)
		w[i] = pattern(uintptr_t(p), gen, i);
	auto *b = static_cast<unsigned char *>(p);
	for (size_t i = size / 8 * 8; i < size; i++)
		b[i] = static_cast<unsigned char>(gen + i);
}

/* Offset of the first byte that differs from the pattern, or -1. */
long check_pattern(const void *p, size_t size, uint64_t gen)
{
	auto *w = static_cast<const uint64_t *>(p);
	for (size_t i = 0; i < size / 8; i++)
		if (w[i] != pattern(uintptr_t(p), gen, i))
			return long(i * 8);
	auto *b = static_cast<const unsigned char *>(p);
	for (size_t i = size / 8 * 8; i < size; i++)
		if (b[i] != static_cast<unsigned char>(gen + i))
			return long(i);
	return -1;
}

long check_zero(const void *p, size_t size)
{
	auto *b = static_cast<const unsigned char *>(p);
	for (size_t i = 0; i < size; i++)
		if (b[i])
			return long(i);
	return -1;
}

/* An object the test holds. */
struct Obj {
	void *p;
	uint64_t gen;
	uint32_t size; /* bytes covered by the pattern */
	int16_t tc; /* tracked cache, -1 for kmalloc_large */
	uint16_t owner; /* thread that allocated it */
	bool kmalloc; /* from kslub_kmalloc*: freed with kslub_kfree */
};

/* What the threads did to one cache (summed over threads after a join). */
struct CacheOps {
	uint64_t single_alloc = 0; /* cache_alloc[_node], kmalloc[_node] calls, failed ones too */
	uint64_t failed = 0; /* of which returned NULL */
	uint64_t single_free = 0; /* cache_free and kfree calls */
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
	uint64_t count() const
	{
		return count_.load();
	}
	std::string text()
	{
		std::lock_guard<std::mutex> g(mu_);
		std::string s;
		for (auto &m : msgs_)
			s += "  " + m + "\n";
		return s;
	}

private:
	std::atomic<uint64_t> count_{ 0 };
	std::mutex mu_;
	std::vector<std::string> msgs_;
};

struct Config {
	unsigned threads;
	unsigned cpus;
	unsigned nodes;
	uint64_t seed;
};

std::string config_str(const Config &c)
{
	char b[96];
	snprintf(b, sizeof(b), "threads=%u cpus=%u nodes=%u seed=%#" PRIx64, c.threads, c.cpus,
		 c.nodes, c.seed);
	return b;
}

/* How GoogleTest prints a parameter. */
void PrintTo(const Config &c, std::ostream *os)
{
	*os << config_str(c);
}

/*
 * One instance, its caches, the objects the test holds and the bookkeeping
 * to check them. Workers touch only their ThreadState, the shared pool
 * (under pool_mu), the shadow set and the error log.
 */
class Harness {
public:
	Harness(const Config &cfg, size_t pool_bytes) : cfg_(cfg)
	{
		watchdog_ = std::thread([this] {
			std::unique_lock<std::mutex> l(watchdog_mu_);
			if (!watchdog_cv_.wait_for(l, kWatchdog, [this] { return done_; })) {
				fprintf(stderr,
					"stress: %s still running after %lld s: stuck in the allocator?\n",
					config_str(cfg_).c_str(), (long long)kWatchdog.count());
				abort();
			}
		});
		int err = 0;
		k_ = kslub_create(pool_bytes, cfg.cpus, cfg.nodes, 0, &err);
		if (!k_) {
			ADD_FAILURE() << "kslub_create: " << err;
			return;
		}
		kslub_set_reporter(k_, &Harness::on_report, this);
		static const struct {
			const char *name;
			size_t size;
		} user[] = { { "stress-24", 24 }, { "stress-192", 192 }, { "stress-1000", 1000 } };
		for (auto &u : user) {
			kslub_cache_t *s =
				kslub_cache_create(k_, u.name, u.size, 0, 0, nullptr, &err);
			if (!s) {
				ADD_FAILURE() << "kslub_cache_create " << u.name << ": " << err;
				kslub_destroy(k_);
				k_ = nullptr;
				return;
			}
			add_tracked(s, u.name, true);
		}
		static const size_t km[] = { 8, 56, 100, 200, 700, 3000, 8192, 12000 };
		for (size_t req : km) {
			kslub_cache_t *s = kslub_kmalloc_cache(k_, req);
			int tc = -1;
			if (s) {
				for (size_t i = 0; i < tracked_.size(); i++)
					if (tracked_[i].s == s)
						tc = int(i);
				if (tc < 0) {
					tc = int(tracked_.size());
					add_tracked(s, kslub_cache_name(s), false);
				}
				if (tracked_[size_t(tc)].object_size < req)
					ADD_FAILURE() << "kmalloc cache " << kslub_cache_name(s)
						      << " too small for " << req;
			}
			kmsizes_.push_back({ req, tc });
		}
		for (auto &t : tracked_)
			for (unsigned i = 0; i < KSLUB_NR_STATS; i++)
				t.base[i] = kslub_cache_stat(t.s, i, -1);
		kslub_pool p;
		kslub_pool_info(k_, &p);
		initial_free_pages_ = p.free_pages;
		ts_.resize(cfg.threads);
		pool_.resize(cfg.threads);
		for (unsigned i = 0; i < cfg.threads; i++) {
			ts_[i].id = i;
			ts_[i].rng.seed(cfg.seed * 0x100000001b3ull + i * 0x9e3779b97f4a7c15ull +
					1);
		}
	}

	~Harness()
	{
		{
			std::lock_guard<std::mutex> l(watchdog_mu_);
			done_ = true;
		}
		watchdog_cv_.notify_all();
		watchdog_.join();
		/* Only after a failure that skipped teardown(): give the memory back anyway. */
		if (k_) {
			for (auto &t : ts_)
				for (Obj &o : t.held)
					release_raw(o);
			for (auto &box : pool_)
				for (Obj &o : box)
					release_raw(o);
			for (auto &t : tracked_)
				if (t.created)
					kslub_cache_destroy(t.s);
			kslub_destroy(k_);
		}
	}

	bool ok() const
	{
		return k_ != nullptr;
	}
	kslub_t *k() const
	{
		return k_;
	}
	const Config &cfg() const
	{
		return cfg_;
	}
	ErrorLog &errors()
	{
		return errors_;
	}
	std::vector<ThreadState> &threads()
	{
		return ts_;
	}
	size_t tracked_count() const
	{
		return tracked_.size();
	}
	kslub_cache_t *cache(size_t i) const
	{
		return tracked_[i].s;
	}

	/* ---- operations of one thread ---- */

	int pick_node(ThreadState &t)
	{
		return int(t.rng() % (cfg_.nodes + 1)) - 1; /* NUMA_NO_NODE, 0 .. nodes-1 */
	}

	/* Take a new object: shadow set, GFP_ZERO check, pattern, held list. */
	void adopt(ThreadState &t, void *p, uint32_t size, int tc, bool kmalloc, unsigned gfp)
	{
		t.allocs++;
		if (uintptr_t(p) % 8)
			errors_.add("misaligned object %p from %s", p, label(tc));
		if (!shadow_.insert(p))
			errors_.add("%p from %s handed out while still live", p, label(tc));
		if (gfp & KSLUB_GFP_ZERO) {
			long off = check_zero(p, size);
			if (off >= 0)
				errors_.add("GFP_ZERO object %p from %s not zero at offset %ld", p,
					    label(tc), off);
		}
		uint64_t gen = (uint64_t(t.id) << 48) ^ ++t.gen_counter ^ (cfg_.seed << 20);
		fill_pattern(p, size, gen);
		t.held.push_back(Obj{ p, gen, size, int16_t(tc), uint16_t(t.id), kmalloc });
	}

	/* Check an object before it is freed; false (and the object is dropped) on a mismatch. */
	bool release_check(ThreadState &t, const Obj &o)
	{
		long off = check_pattern(o.p, o.size, o.gen);
		if (off >= 0) {
			errors_.add(
				"object %p of %s (size %u, allocated by thread %u) overwritten at offset %ld: "
				"two owners",
				o.p, label(o.tc), o.size, o.owner, off);
			return false;
		}
		if (!shadow_.erase(o.p)) {
			errors_.add("object %p of %s freed but not in the shadow set", o.p,
				    label(o.tc));
			return false;
		}
		t.frees++;
		if (o.owner != t.id)
			t.cross++;
		return true;
	}

	void free_obj(ThreadState &t, const Obj &o)
	{
		if (!release_check(t, o))
			return;
		int rc;
		if (o.kmalloc || o.tc < 0 || t.rng() % 8 == 0)
			rc = kslub_kfree(k_, o.p);
		else
			rc = kslub_cache_free(tracked_[size_t(o.tc)].s, o.p);
		if (rc)
			errors_.add("free of %p (%s) returned %d", o.p, label(o.tc), rc);
		if (o.tc >= 0)
			t.ops[o.tc].single_free++;
		else
			t.large_free++;
	}

	/* One object from one of the three user caches; NULL allowed only if allow_fail. */
	bool alloc_cache(ThreadState &t, int tc, bool allow_fail)
	{
		Tracked &tr = tracked_[size_t(tc)];
		unsigned gfp = t.rng() % 8 == 0 ? KSLUB_GFP_ZERO : 0;
		void *p;
		if (t.rng() % 4 == 0) {
			int node = pick_node(t);
			if (node >= 0 && t.rng() % 2)
				gfp |= KSLUB_GFP_THISNODE;
			p = kslub_cache_alloc_node(tr.s, gfp, node);
		} else {
			p = kslub_cache_alloc(tr.s, gfp);
		}
		t.ops[tc].single_alloc++;
		if (!p) {
			t.ops[tc].failed++;
			t.failed_allocs++;
			if (!allow_fail)
				errors_.add("%s: allocation failed", tr.label.c_str());
			return false;
		}
		adopt(t, p, tr.object_size, tc, false, gfp);
		return true;
	}

	bool alloc_kmalloc(ThreadState &t, size_t which, bool allow_fail)
	{
		const KmallocSize &km = kmsizes_[which];
		unsigned gfp = t.rng() % 8 == 0 ? KSLUB_GFP_ZERO : 0;
		void *p;
		if (t.rng() % 4 == 0)
			p = kslub_kmalloc_node(k_, km.req, gfp, pick_node(t));
		else
			p = kslub_kmalloc(k_, km.req, gfp);
		if (km.tc >= 0)
			t.ops[km.tc].single_alloc++;
		if (!p) {
			if (km.tc >= 0)
				t.ops[km.tc].failed++;
			t.failed_allocs++;
			if (!allow_fail)
				errors_.add("kmalloc(%zu) failed", km.req);
			return false;
		}
		size_t size = kslub_ksize(k_, p);
		if (km.tc >= 0) {
			if (size != tracked_[size_t(km.tc)].object_size)
				errors_.add("ksize(kmalloc(%zu)) = %zu, cache %s", km.req, size,
					    label(km.tc));
		} else {
			t.large_alloc++;
			if (size < km.req || size % kPageSize || uintptr_t(p) % kPageSize)
				errors_.add("kmalloc_large(%zu) = %p, ksize %zu", km.req, p, size);
		}
		if (size < km.req)
			size = km.req;
		adopt(t, p, uint32_t(size), km.tc, true, gfp);
		return true;
	}

	/* A bulk allocation from stress-192; returns false if it failed. */
	bool bulk_alloc(ThreadState &t, size_t n, bool allow_fail)
	{
		constexpr int tc = 1;
		void *arr[kMaxBulk];
		unsigned gfp = t.rng() % 8 == 0 ? KSLUB_GFP_ZERO : 0;
		int r = kslub_cache_alloc_bulk(tracked_[tc].s, gfp, n, arr);
		t.ops[tc].bulk_alloc_calls++;
		t.ops[tc].bulk_alloc_objs += n;
		if (r == 0) {
			t.ops[tc].bulk_alloc_failed++;
			t.ops[tc].bulk_alloc_failed_objs += n;
			t.failed_allocs++;
			if (!allow_fail)
				errors_.add("bulk allocation of %zu failed", n);
			return false;
		}
		if (size_t(r) != n) {
			errors_.add("bulk allocation of %zu returned %d", n, r);
			return false;
		}
		for (size_t i = 0; i < n; i++)
			adopt(t, arr[i], tracked_[tc].object_size, tc, false, gfp);
		return true;
	}

	/* Up to n stress-192 objects of the held list in one bulk free (sometimes with a NULL among them). */
	void bulk_free(ThreadState &t, size_t n)
	{
		constexpr int tc = 1;
		void *arr[kMaxBulk];
		size_t m = 0;
		for (size_t i = 0; i < t.held.size() && m < n;) {
			if (t.held[i].tc != tc) {
				i++;
				continue;
			}
			Obj o = t.held[i];
			t.held[i] = t.held.back();
			t.held.pop_back();
			if (release_check(t, o))
				arr[m++] = o.p;
		}
		if (!m)
			return;
		/* A NULL entry is allowed and skipped. */
		size_t total = m;
		if (m < kMaxBulk && t.rng() % 4 == 0) {
			size_t at = t.rng() % (m + 1);
			memmove(&arr[at + 1], &arr[at], (m - at) * sizeof(void *));
			arr[at] = nullptr;
			total++;
		}
		int rc = kslub_cache_free_bulk(tracked_[tc].s, total, arr);
		if (rc)
			errors_.add("bulk free of %zu returned %d", m, rc);
		for (size_t i = 0; i < total; i++)
			if (arr[i])
				errors_.add("bulk free left entry %zu set", i);
		t.ops[tc].bulk_free_calls++;
		t.ops[tc].bulk_free_objs += m;
	}

	Obj take_held(ThreadState &t)
	{
		size_t i = t.rng() % t.held.size();
		Obj o = t.held[i];
		t.held[i] = t.held.back();
		t.held.pop_back();
		return o;
	}

	/*
	 * Hand an object to another thread through the shared pool (a mailbox
	 * per thread, under one mutex), so that it is freed by a thread other
	 * than the one that allocated it whatever the scheduling; kept if the
	 * mailbox is full (its owner is not running).
	 */
	void give(ThreadState &t)
	{
		if (t.held.empty())
			return;
		Obj o = take_held(t);
		size_t to = t.id;
		if (ts_.size() > 1)
			to = (t.id + 1 + t.rng() % (ts_.size() - 1)) % ts_.size();
		{
			std::lock_guard<std::mutex> g(pool_mu_);
			if (pool_[to].size() < kMailboxCap) {
				pool_[to].push_back(o);
				return;
			}
		}
		t.held.push_back(o);
	}

	/* Take up to four objects from this thread's mailbox: mostly freed at once, some kept. */
	void take(ThreadState &t)
	{
		Obj got[4];
		size_t n = 0;
		{
			std::lock_guard<std::mutex> g(pool_mu_);
			std::vector<Obj> &box = pool_[t.id];
			while (n < 4 && !box.empty()) {
				size_t i = t.rng() % box.size();
				got[n++] = box[i];
				box[i] = box.back();
				box.pop_back();
			}
		}
		for (size_t i = 0; i < n; i++) {
			if (t.rng() % 4 == 0)
				t.held.push_back(got[i]);
			else
				free_obj(t, got[i]);
		}
	}

	void alloc_random(ThreadState &t, bool allow_fail)
	{
		unsigned r = unsigned(t.rng() % 100);
		if (r < 30)
			alloc_cache(t, 0, allow_fail);
		else if (r < 50)
			alloc_cache(t, 1, allow_fail);
		else if (r < 70)
			alloc_cache(t, 2, allow_fail);
		else
			alloc_kmalloc(t, pick_kmalloc(t), allow_fail);
	}

	size_t pick_kmalloc(ThreadState &t)
	{
		/* kmalloc_large rarely: it takes whole pages and a long fill. */
		size_t n = kmsizes_.size();
		if (kmsizes_.back().tc < 0 && t.rng() % 16)
			n--;
		return size_t(t.rng() % n);
	}

	/* One random operation of the mixed workload. */
	void step(ThreadState &t)
	{
		t.nops++;
		unsigned r = unsigned(t.rng() % 100);
		unsigned a = t.held.size() < kHeldTarget ? 45 : 20;
		if (r < a) {
			alloc_random(t, false);
		} else if (r < a + 5) {
			size_t n = 1 + t.rng() % kMaxBulk;
			if (t.held.size() < kHeldTarget && t.rng() % 2)
				bulk_alloc(t, n, false);
			else
				bulk_free(t, n);
		} else if (r < a + 10) {
			if (!t.held.empty())
				free_obj(t, take_held(t));
		} else if (r < a + 35) {
			give(t);
		} else {
			take(t);
		}
	}

	/*
	 * Run fn(thread state) on every thread, then join. Meanwhile the
	 * threads are moved between host CPUs at random points by changing
	 * their affinity, so that some are migrated inside a fast path,
	 * between reading the CPU's tid and the CAS on that CPU's slot.
	 */
	template <class F>
	void run_threads(F fn)
	{
		std::atomic<size_t> running{ ts_.size() };
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
	void migrate(std::vector<std::thread> &th, const std::atomic<size_t> &running)
	{
		cpu_set_t allowed;
		std::vector<int> cpus;
		if (!sched_getaffinity(0, sizeof(allowed), &allowed))
			for (int c = 0; c < CPU_SETSIZE; c++)
				if (CPU_ISSET(c, &allowed))
					cpus.push_back(c);
		std::mt19937_64 rng(cfg_.seed ^ 0x6d6967726174);
		bool move = cpus.size() >= 2;
		while (running.load() > 0) {
			if (move) {
				cpu_set_t one;
				CPU_ZERO(&one);
				CPU_SET(cpus[rng() % cpus.size()], &one);
				pthread_setaffinity_np(th[rng() % th.size()].native_handle(),
						       sizeof(one), &one);
				migrations_++;
			}
			std::this_thread::sleep_for(std::chrono::microseconds(move ? 200 : 1000));
		}
	}

	/* Mixed workload: ops operations over all threads, or until stop is set. */
	void run_phase(uint64_t ops, const std::atomic<bool> *stop = nullptr)
	{
		uint64_t per = ops / ts_.size() + 1;
		uint64_t deadline = now_ms() + uint64_t(kPhaseTimeCap.count());
		std::atomic<uint64_t> capped{ 0 };
		run_threads([&](ThreadState &t) {
			for (uint64_t i = 0;
			     stop ? !stop->load(std::memory_order_relaxed) : i < per; i++) {
				step(t);
				if ((i & 255) == 255 && now_ms() > deadline) {
					capped.fetch_add(1);
					break;
				}
			}
		});
		if (capped.load())
			printf("  (phase stopped by its time cap in %" PRIu64 " threads)\n",
			       capped.load());
	}

	/* Every held object (threads and pool) freed, spread over the threads in random order. */
	void drain()
	{
		std::vector<Obj> all = collect();
		for (auto &t : ts_)
			t.held.clear();
		for (auto &box : pool_)
			box.clear();
		std::mt19937_64 rng(cfg_.seed ^ 0xd1a1);
		std::shuffle(all.begin(), all.end(), rng);
		for (size_t i = 0; i < all.size(); i++)
			ts_[i % ts_.size()].held.push_back(all[i]);
		run_threads([&](ThreadState &t) {
			while (!t.held.empty()) {
				if (t.rng() % 8 == 0)
					bulk_free(t, 1 + t.rng() % kMaxBulk);
				else
					free_obj(t, take_held(t));
			}
		});
	}

	std::vector<Obj> collect() const
	{
		std::vector<Obj> all;
		for (auto &box : pool_)
			all.insert(all.end(), box.begin(), box.end());
		for (auto &t : ts_)
			all.insert(all.end(), t.held.begin(), t.held.end());
		return all;
	}

	uint64_t stat_delta(size_t tc, int item) const
	{
		return item < 0 ? 0 :
				  kslub_cache_stat(tracked_[tc].s, unsigned(item), -1) -
					  tracked_[tc].base[item];
	}

	/*
	 * The counters against the calls. Every single-object allocation
	 * (cache_alloc[_node], kmalloc[_node]) counts exactly one of
	 * alloc_fastpath and alloc_slowpath, a failed one alloc_slowpath; every
	 * single free (cache_free, kfree) exactly one of free_fastpath and
	 * free_slowpath. So for the caches without bulk calls both sums are
	 * exact. Bulk calls are not: alloc_bulk takes objects off the CPU
	 * freelist under the slot lock without counting them and counts
	 * alloc_slowpath once per object it gets from the slow path (0..n per
	 * call); free_bulk counts once per chain of objects of one slab (1..m
	 * per call with m objects), and a failed alloc_bulk gives back what it
	 * got with free_bulk. For stress-192 the sums are therefore bounded.
	 */
	void check_counters(const char *where)
	{
		StatIdx si;
		ASSERT_TRUE(si.af >= 0 && si.as >= 0 && si.ff >= 0 && si.fs >= 0)
			<< "counter names";
		for (size_t i = 0; i < tracked_.size(); i++) {
			CacheOps o;
			for (auto &t : ts_)
				o.add(t.ops[i]);
			uint64_t a = stat_delta(i, si.af) + stat_delta(i, si.as);
			uint64_t f = stat_delta(i, si.ff) + stat_delta(i, si.fs);
			const char *name = tracked_[i].label.c_str();
			if (!o.bulk_alloc_calls && !o.bulk_free_calls) {
				EXPECT_EQ(a, o.single_alloc) << where << ": " << name
							     << " alloc_fastpath + alloc_slowpath";
				EXPECT_EQ(f, o.single_free) << where << ": " << name
							    << " free_fastpath + free_slowpath";
			} else {
				EXPECT_GE(a, o.single_alloc) << where << ": " << name;
				EXPECT_LE(a, o.single_alloc + o.bulk_alloc_objs)
					<< where << ": " << name;
				EXPECT_GE(f, o.single_free + o.bulk_free_calls)
					<< where << ": " << name;
				EXPECT_LE(f, o.single_free + o.bulk_free_objs +
						     o.bulk_alloc_failed_objs)
					<< where << ": " << name;
			}
		}
	}

	/* All threads joined: the caches against what the test holds. */
	void check_quiescent(const char *where)
	{
		std::vector<Obj> all = collect();
		std::vector<uint64_t> live(tracked_.size(), 0);
		for (const Obj &o : all)
			if (o.tc >= 0)
				live[size_t(o.tc)]++;
		EXPECT_EQ(shadow_.size(), all.size()) << where;
		for (size_t i = 0; i < tracked_.size(); i++) {
			kslub_census c{};
			const char *name = tracked_[i].label.c_str();
			EXPECT_EQ(kslub_cache_check(tracked_[i].s, &c), 0) << where << ": " << name;
			EXPECT_EQ(c.live_objects, live[i]) << where << ": " << name;
			EXPECT_EQ(c.live_objects + c.free_objects, c.objects)
				<< where << ": " << name;
			EXPECT_EQ(kslub_cache_validate(tracked_[i].s), 0) << where << ": " << name;
			EXPECT_EQ(kslub_cache_check(tracked_[i].s, &c), 0)
				<< where << ": " << name << " after validate";
			EXPECT_EQ(c.live_objects, live[i])
				<< where << ": " << name << " after validate";
			EXPECT_EQ(c.frozen_slabs, 0u)
				<< where << ": " << name << " after validate (flushed)";
		}
		EXPECT_EQ(kslub_buddy_check(k_), 0) << where;
		check_counters(where);
		EXPECT_EQ(errors_.count(), 0u) << where << ":\n" << errors_.text();
		EXPECT_EQ(reports_.load(), 0u) << where << ": allocator reports";
		EXPECT_EQ(kslub_report_count(k_), 0u) << where;
	}

	/* Everything freed: shrink, every slab and page back, destroy. */
	void teardown(const char *where)
	{
		EXPECT_EQ(collect().size(), 0u);
		for (size_t i = 0; i < tracked_.size(); i++) {
			EXPECT_GE(kslub_cache_shrink(tracked_[i].s), 0) << where;
			kslub_census c{};
			EXPECT_EQ(kslub_cache_check(tracked_[i].s, &c), 0)
				<< where << ": " << tracked_[i].label;
			EXPECT_EQ(c.live_objects, 0u) << where << ": " << tracked_[i].label;
			EXPECT_EQ(c.slabs, 0u)
				<< where << ": " << tracked_[i].label << " slabs left after shrink";
		}
		kslub_pool p;
		kslub_pool_info(k_, &p);
		EXPECT_EQ(p.free_pages, initial_free_pages_) << where << ": pages not given back";
		EXPECT_EQ(kslub_buddy_check(k_), 0) << where;
		for (auto &t : tracked_)
			if (t.created)
				EXPECT_EQ(kslub_cache_destroy(t.s), 0)
					<< where << ": destroy " << t.label;
		EXPECT_EQ(kslub_buddy_check(k_), 0) << where;
		EXPECT_EQ(reports_.load(), 0u) << where << ": allocator reports";
		EXPECT_EQ(kslub_destroy(k_), 0) << where;
		k_ = nullptr;
	}

	struct Totals {
		uint64_t ops = 0, allocs = 0, frees = 0, cross = 0, bulk_calls = 0, failed = 0,
			 large = 0;
	};
	Totals totals() const
	{
		Totals s;
		for (auto &t : ts_) {
			s.ops += t.nops;
			s.allocs += t.allocs;
			s.frees += t.frees;
			s.cross += t.cross;
			s.failed += t.failed_allocs;
			s.large += t.large_alloc;
			for (auto &o : t.ops)
				s.bulk_calls += o.bulk_alloc_calls + o.bulk_free_calls;
		}
		return s;
	}

	/* Counters summed over the tracked caches, for the summary line. */
	uint64_t stat_total(int item) const
	{
		uint64_t s = 0;
		for (size_t i = 0; i < tracked_.size(); i++)
			s += stat_delta(i, item);
		return s;
	}

	void summary(const char *test, uint64_t ms, const char *extra = "")
	{
		Totals s = totals();
		StatIdx si;
		printf("[%s] %s: %" PRIu64 " ms, ops %" PRIu64 ", allocations %" PRIu64
		       ", frees %" PRIu64 ", cross-thread frees %" PRIu64
		       " (%.0f%%), bulk calls %" PRIu64 ", large %" PRIu64
		       ", failed allocations %" PRIu64 "; free_slowpath %" PRIu64
		       ", free_frozen %" PRIu64 ", cpu_partial_free %" PRIu64
		       ", cpu_partial_drain %" PRIu64 ", node_mismatch %" PRIu64
		       ", cas fails %" PRIu64 "/%" PRIu64 ", forced migrations %" PRIu64 "%s\n",
		       test, config_str(cfg_).c_str(), ms, s.ops, s.allocs, s.frees, s.cross,
		       s.frees ? 100.0 * double(s.cross) / double(s.frees) : 0.0, s.bulk_calls,
		       s.large, s.failed, stat_total(si.fs), stat_total(si.frozen),
		       stat_total(si.cpf), stat_total(si.drain), stat_total(si.mismatch),
		       stat_total(si.cpu_fail), stat_total(si.slab_fail), migrations_, extra);
		fflush(stdout);
	}

private:
	static void on_report(void *arg, const kslub_report *r)
	{
		auto *h = static_cast<Harness *>(arg);
		h->reports_.fetch_add(1);
		fprintf(stderr, "kslub report: %s: %s (cache %s) at %p [%" PRIu64 "]\n", r->kind,
			r->what, r->cache ? r->cache : "-", r->ptr, r->value);
	}

	void add_tracked(kslub_cache_t *s, const char *name, bool created)
	{
		kslub_geometry g{};
		kslub_cache_geometry(s, &g);
		Tracked t{};
		t.s = s;
		t.label = name;
		t.object_size = g.object_size;
		t.created = created;
		tracked_.push_back(t);
	}

	const char *label(int tc) const
	{
		return tc < 0 ? "kmalloc_large" : tracked_[size_t(tc)].label.c_str();
	}

	/* Free without checks (cleanup after a failed test). */
	void release_raw(const Obj &o)
	{
		if (o.kmalloc || o.tc < 0)
			kslub_kfree(k_, o.p);
		else
			kslub_cache_free(tracked_[size_t(o.tc)].s, o.p);
	}

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
	std::atomic<uint64_t> reports_{ 0 };
	uint64_t migrations_ = 0; /* affinity changes made by run_threads() */
	std::mutex watchdog_mu_;
	std::condition_variable watchdog_cv_;
	bool done_ = false;
	std::thread watchdog_;

	friend class ExhaustionDriver;
};

std::string param_name(const Config &c)
{
	char b[64];
	snprintf(b, sizeof(b), "t%u_cpu%u_node%u_seed%" PRIx64, c.threads, c.cpus, c.nodes, c.seed);
	return b;
}

/* ------------------------------------------------------------------------ */
/* Mixed workload in phases                                                 */
/* ------------------------------------------------------------------------ */

class StressTest : public ::testing::TestWithParam<Config> {};

TEST_P(StressTest, MixedWorkload)
{
	const Config cfg = GetParam();
	uint64_t t0 = now_ms();
	Harness h(cfg, size_t(64) << 20);
	ASSERT_TRUE(h.ok());
	for (int phase = 0; phase < kPhases; phase++) {
		h.run_phase(kOpsPerPhase);
		std::string where = "phase " + std::to_string(phase);
		h.check_quiescent(where.c_str());
		if (HasFailure())
			break;
	}
	if (HasFailure())
		return;
	h.drain();
	h.check_quiescent("drained");
	if (HasFailure())
		return;
	EXPECT_EQ(h.totals().failed, 0u);
	h.summary("stress", now_ms() - t0);
	h.teardown("teardown");
}

std::vector<Config> stress_configs()
{
	/* threads {2, 4, 8} x (CPUs, nodes) {(4, 1), (4, 2), (1, 1), (8, 2)}, one fixed seed each. */
	std::vector<Config> v;
	const unsigned cpus_nodes[][2] = { { 4, 1 }, { 4, 2 }, { 1, 1 }, { 8, 2 } };
	uint64_t seed = 0x5eed;
	for (unsigned threads : { 2u, 4u, 8u })
		for (auto &cn : cpus_nodes)
			v.push_back(Config{ threads, cn[0], cn[1], seed++ });
	return v;
}

INSTANTIATE_TEST_SUITE_P(Threads, StressTest, ::testing::ValuesIn(stress_configs()),
			 [](const ::testing::TestParamInfo<Config> &i) {
				 return param_name(i.param);
			 });

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
	std::atomic<bool> stop{ false };
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
	h.drain();
	h.check_quiescent("drained");
	if (HasFailure())
		return;
	EXPECT_EQ(h.totals().failed, 0u);
	char extra[96];
	snprintf(extra, sizeof(extra),
		 "; offline %" PRIu64 ", online %" PRIu64 ", concurrent shrinks %" PRIu64, offlines,
		 onlines, shrinks);
	h.summary("hotplug", now_ms() - t0, extra);
	h.teardown("teardown");
}

INSTANTIATE_TEST_SUITE_P(Cpus, CpuHotplugTest,
			 ::testing::Values(Config{ 2, 2, 1, 0x401 }, Config{ 4, 4, 2, 0x402 },
					   Config{ 8, 8, 2, 0x403 }),
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
		const size_t nkm = h_.kmsizes_.size();
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
				h_.errors_.add(
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
			 ::testing::Values(Config{ 2, 1, 1, 0x801 }, Config{ 4, 4, 1, 0x802 },
					   Config{ 8, 8, 2, 0x803 }),
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
	std::atomic<uint64_t> failures{ 0 };
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
