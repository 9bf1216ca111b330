// SPDX-License-Identifier: GPL-2.0-only
/*
 * The stress tests' harness (stress_harness.h): the fill patterns, the
 * printing of a configuration, and the Harness's operations and checks.
 */
#include "stress_harness.h"

#include <gtest/gtest.h>

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>

namespace kslub_stress {

namespace {

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

} // namespace

uint64_t now_ms()
{
	return uint64_t(std::chrono::duration_cast<std::chrono::milliseconds>(
				std::chrono::steady_clock::now().time_since_epoch())
				.count());
}

std::string config_str(const Config &c)
{
	char b[96];
	snprintf(b, sizeof(b), "threads=%u cpus=%u nodes=%u seed=%#" PRIx64 "%s", c.threads, c.cpus,
		 c.nodes, c.seed, c.kernel == KSLUB_KERNEL_7_3 ? " rules=7.3 (sheaves)" : "");
	return b;
}

/* How GoogleTest prints a parameter. */
void PrintTo(const Config &c, std::ostream *os)
{
	*os << config_str(c);
}
Harness::Harness(const Config &cfg, size_t pool_bytes) : cfg_(cfg)
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
	k_ = kslub_create(pool_bytes, cfg.cpus, cfg.nodes, cfg.kernel, &err);
	if (!k_) {
		ADD_FAILURE() << "kslub_create: " << err;
		return;
	}
	kslub_set_reporter(k_, &Harness::on_report, this);
	static const struct {
		const char *name;
		size_t size;
	} user[] = {{"stress-24", 24}, {"stress-192", 192}, {"stress-1000", 1000}};
	for (auto &u : user) {
		kslub_cache_t *s = kslub_cache_create(k_, u.name, u.size, 0, 0, nullptr, &err);
		if (!s) {
			ADD_FAILURE() << "kslub_cache_create " << u.name << ": " << err;
			kslub_destroy(k_);
			k_ = nullptr;
			return;
		}
		add_tracked(s, u.name, true);
	}
	static const size_t km[] = {8, 56, 100, 200, 700, 3000, 8192, 12000};
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
		kmsizes_.push_back({req, tc});
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
		ts_[i].rng.seed(cfg.seed * 0x100000001b3ull + i * 0x9e3779b97f4a7c15ull + 1);
	}
}

Harness::~Harness()
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

int Harness::pick_node(ThreadState &t)
{
	return int(t.rng() % (cfg_.nodes + 1)) - 1; /* NUMA_NO_NODE, 0 .. nodes-1 */
}

void Harness::adopt(ThreadState &t, void *p, uint32_t size, int tc, bool kmalloc, unsigned gfp)
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
	t.held.push_back(Obj{p, gen, size, int16_t(tc), uint16_t(t.id), kmalloc});
}

bool Harness::release_check(ThreadState &t, const Obj &o)
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
		errors_.add("object %p of %s freed but not in the shadow set", o.p, label(o.tc));
		return false;
	}
	t.frees++;
	if (o.owner != t.id)
		t.cross++;
	return true;
}

void Harness::free_obj(ThreadState &t, const Obj &o)
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

bool Harness::alloc_cache(ThreadState &t, int tc, bool allow_fail)
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

bool Harness::alloc_kmalloc(ThreadState &t, size_t which, bool allow_fail)
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

bool Harness::bulk_alloc(ThreadState &t, size_t n, bool allow_fail)
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

void Harness::bulk_free(ThreadState &t, size_t n)
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

Obj Harness::take_held(ThreadState &t)
{
	size_t i = t.rng() % t.held.size();
	Obj o = t.held[i];
	t.held[i] = t.held.back();
	t.held.pop_back();
	return o;
}

void Harness::give(ThreadState &t)
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

void Harness::take(ThreadState &t)
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

void Harness::alloc_random(ThreadState &t, bool allow_fail)
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

size_t Harness::pick_kmalloc(ThreadState &t)
{
	/* kmalloc_large rarely: it takes whole pages and a long fill. */
	size_t n = kmsizes_.size();
	if (kmsizes_.back().tc < 0 && t.rng() % 16)
		n--;
	return size_t(t.rng() % n);
}

void Harness::step(ThreadState &t)
{
	t.nops++;
	/*
	 * Back-pressure: a thread whose gives bounce (the mailboxes of threads
	 * that do not run for a while are full) frees instead of growing its
	 * set without bound until the pool runs out.
	 */
	if (t.held.size() >= kHeldMax) {
		free_obj(t, take_held(t));
		return;
	}
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

void Harness::migrate(std::vector<std::thread> &th, const std::atomic<size_t> &running)
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
			pthread_setaffinity_np(th[rng() % th.size()].native_handle(), sizeof(one),
					       &one);
			migrations_++;
		}
		if (move && cfg_.migrate_us == 0)
			std::this_thread::yield();
		else
			std::this_thread::sleep_for(
				std::chrono::microseconds(move ? cfg_.migrate_us : 1000));
	}
}

void Harness::run_phase(uint64_t ops, const std::atomic<bool> *stop)
{
	uint64_t per = ops / ts_.size() + 1;
	uint64_t deadline = now_ms() + uint64_t(kPhaseTimeCap.count());
	std::atomic<uint64_t> capped{0};
	run_threads([&](ThreadState &t) {
		for (uint64_t i = 0; stop ? !stop->load(std::memory_order_relaxed) : i < per; i++) {
			step(t);
			if ((i & 255) == 255 && now_ms() > deadline) {
				capped.fetch_add(1);
				break;
			}
		}
	});
	if (capped.load())
		printf("  (phase stopped by its time cap in %" PRIu64 " threads)\n", capped.load());
}

void Harness::drain()
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

std::vector<Obj> Harness::collect() const
{
	std::vector<Obj> all;
	for (auto &box : pool_)
		all.insert(all.end(), box.begin(), box.end());
	for (auto &t : ts_)
		all.insert(all.end(), t.held.begin(), t.held.end());
	return all;
}

uint64_t Harness::stat_delta(size_t tc, int item) const
{
	return item < 0 ? 0 :
			  kslub_cache_stat(tracked_[tc].s, unsigned(item), -1) -
				  tracked_[tc].base[item];
}

/*
 * The counters are unlocked adds (userspace/platform/user_platform.h): with
 * threads on different CPUs adding to one slot's counter at once, a few
 * increments can be lost. What the test knows is then a range: at most what
 * happened, and short of it by no more than a hundredth (plus 8).
 */
static uint64_t lost_slack(uint64_t n)
{
	return n / 100 + 8;
}

void Harness::check_counters(const char *where)
{
	StatIdx si;
	ASSERT_TRUE(si.af >= 0 && si.as >= 0 && si.ff >= 0 && si.fs >= 0) << "counter names";
	for (size_t i = 0; i < tracked_.size(); i++) {
		CacheOps o;
		for (auto &t : ts_)
			o.add(t.ops[i]);
		uint64_t a = stat_delta(i, si.af) + stat_delta(i, si.as);
		uint64_t f = stat_delta(i, si.ff) + stat_delta(i, si.fs);
		const char *name = tracked_[i].label.c_str();
		if (cfg_.kernel == KSLUB_KERNEL_7_3) {
			/*
			 * Sheaves: a hit counts as a fast path, a bypass as a slow path;
			 * the flush of a sheaf frees its objects by slow paths too, and
			 * the sheaves themselves are kmalloc blocks (at most every
			 * sheaf allocated and freed so far, of any cache).
			 */
			uint64_t flushed = stat_delta(i, kslub_stat_index("sheaf_flush"));
			uint64_t sheaf_allocs = 0, sheaf_frees = 0;
			struct Sum {
				uint64_t *a, *f;
			} sum{&sheaf_allocs, &sheaf_frees};
			kslub_for_each_cache(
				k_,
				[](kslub_cache_t *c, void *arg) {
					Sum *s = static_cast<Sum *>(arg);
					*s->a += kslub_cache_stat(
						c, kslub_stat_index("sheaf_alloc"), -1);
					*s->f += kslub_cache_stat(c, kslub_stat_index("sheaf_free"),
								  -1);
				},
				&sum);
			EXPECT_GE(a + lost_slack(o.single_alloc), o.single_alloc)
				<< where << ": " << name;
			EXPECT_LE(a, o.single_alloc + o.bulk_alloc_objs + sheaf_allocs)
				<< where << ": " << name;
			EXPECT_GE(f + lost_slack(o.single_free), o.single_free)
				<< where << ": " << name;
			EXPECT_LE(f, o.single_free + o.bulk_free_objs + o.bulk_alloc_failed_objs +
					     flushed + sheaf_frees)
				<< where << ": " << name;
		} else if (!o.bulk_alloc_calls && !o.bulk_free_calls) {
			EXPECT_LE(a, o.single_alloc)
				<< where << ": " << name << " alloc_fastpath + alloc_slowpath";
			EXPECT_GE(a + lost_slack(o.single_alloc), o.single_alloc)
				<< where << ": " << name << " alloc_fastpath + alloc_slowpath";
			EXPECT_LE(f, o.single_free)
				<< where << ": " << name << " free_fastpath + free_slowpath";
			EXPECT_GE(f + lost_slack(o.single_free), o.single_free)
				<< where << ": " << name << " free_fastpath + free_slowpath";
		} else {
			EXPECT_GE(a + lost_slack(o.single_alloc), o.single_alloc)
				<< where << ": " << name;
			EXPECT_LE(a, o.single_alloc + o.bulk_alloc_objs) << where << ": " << name;
			EXPECT_GE(f + lost_slack(o.single_free), o.single_free + o.bulk_free_calls)
				<< where << ": " << name;
			EXPECT_LE(f, o.single_free + o.bulk_free_objs + o.bulk_alloc_failed_objs)
				<< where << ": " << name;
		}
	}
}

void Harness::check_quiescent(const char *where)
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
		/* Sheaves of other caches carved from a kmalloc cache are neither live nor free. */
		EXPECT_EQ(c.live_objects + c.free_objects + c.internal_objects, c.objects)
			<< where << ": " << name;
		EXPECT_EQ(kslub_cache_validate(tracked_[i].s), 0) << where << ": " << name;
		EXPECT_EQ(kslub_cache_check(tracked_[i].s, &c), 0)
			<< where << ": " << name << " after validate";
		EXPECT_EQ(c.live_objects, live[i]) << where << ": " << name << " after validate";
		EXPECT_EQ(c.frozen_slabs, 0u)
			<< where << ": " << name << " after validate (flushed)";
	}
	EXPECT_EQ(kslub_buddy_check(k_), 0) << where;
	check_counters(where);
	EXPECT_EQ(errors_.count(), 0u) << where << ":\n" << errors_.text();
	EXPECT_EQ(reports_.load(), 0u) << where << ": allocator reports";
	EXPECT_EQ(kslub_report_count(k_), 0u) << where;
}

void Harness::teardown(const char *where)
{
	EXPECT_EQ(collect().size(), 0u);
	for (size_t i = 0; i < tracked_.size(); i++) {
		EXPECT_GE(kslub_cache_shrink(tracked_[i].s), 0) << where;
		kslub_census c{};
		EXPECT_EQ(kslub_cache_check(tracked_[i].s, &c), 0)
			<< where << ": " << tracked_[i].label;
		EXPECT_EQ(c.live_objects, 0u) << where << ": " << tracked_[i].label;
		/* A kmalloc cache keeps the slabs holding the CPUs' main sheaves of every cache. */
		if (!c.internal_objects)
			EXPECT_EQ(c.slabs, 0u)
				<< where << ": " << tracked_[i].label << " slabs left after shrink";
	}
	kslub_pool p;
	kslub_pool_info(k_, &p);
	/*
	 * With sheaves the main sheaves trade places with the barn's, so the
	 * slabs holding them need not be those of the start; every page comes
	 * back when the instance shuts down (fuzz/races checks that after each run).
	 */
	if (cfg_.kernel != KSLUB_KERNEL_7_3)
		EXPECT_EQ(p.free_pages, initial_free_pages_) << where << ": pages not given back";
	EXPECT_EQ(kslub_buddy_check(k_), 0) << where;
	for (auto &t : tracked_)
		if (t.created)
			EXPECT_EQ(kslub_cache_destroy(t.s), 0) << where << ": destroy " << t.label;
	EXPECT_EQ(kslub_buddy_check(k_), 0) << where;
	EXPECT_EQ(reports_.load(), 0u) << where << ": allocator reports";
	EXPECT_EQ(kslub_destroy(k_), 0) << where;
	k_ = nullptr;
}

Harness::Totals Harness::totals() const
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

uint64_t Harness::stat_total(int item) const
{
	uint64_t s = 0;
	for (size_t i = 0; i < tracked_.size(); i++)
		s += stat_delta(i, item);
	return s;
}

void Harness::summary(const char *test, uint64_t ms, const char *extra)
{
	Totals s = totals();
	StatIdx si;
	printf("[%s] %s: %" PRIu64 " ms, ops %" PRIu64 ", allocations %" PRIu64 ", frees %" PRIu64
	       ", cross-thread frees %" PRIu64 " (%.0f%%), bulk calls %" PRIu64 ", large %" PRIu64
	       ", failed allocations %" PRIu64 "; free_slowpath %" PRIu64 ", free_frozen %" PRIu64
	       ", cpu_partial_free %" PRIu64 ", cpu_partial_drain %" PRIu64
	       ", node_mismatch %" PRIu64 ", cas fails %" PRIu64 "/%" PRIu64
	       ", forced migrations %" PRIu64 "%s\n",
	       test, config_str(cfg_).c_str(), ms, s.ops, s.allocs, s.frees, s.cross,
	       s.frees ? 100.0 * double(s.cross) / double(s.frees) : 0.0, s.bulk_calls, s.large,
	       s.failed, stat_total(si.fs), stat_total(si.frozen), stat_total(si.cpf),
	       stat_total(si.drain), stat_total(si.mismatch), stat_total(si.cpu_fail),
	       stat_total(si.slab_fail), migrations_, extra);
	fflush(stdout);
}

void Harness::on_report(void *arg, const kslub_report *r)
{
	auto *h = static_cast<Harness *>(arg);
	h->reports_.fetch_add(1);
	fprintf(stderr, "kslub report: %s: %s (cache %s) at %p [%" PRIu64 "]\n", r->kind, r->what,
		r->cache ? r->cache : "-", r->ptr, r->value);
}

void Harness::add_tracked(kslub_cache_t *s, const char *name, bool created)
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

const char *Harness::label(int tc) const
{
	return tc < 0 ? "kmalloc_large" : tracked_[size_t(tc)].label.c_str();
}

void Harness::release_raw(const Obj &o)
{
	if (o.kmalloc || o.tc < 0)
		kslub_kfree(k_, o.p);
	else
		kslub_cache_free(tracked_[size_t(o.tc)].s, o.p);
}
} // namespace kslub_stress
