// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target `api`: operation sequences over the C API on one
 * deterministic instance (4 CPUs, 2 nodes; one CPU at a time, chosen by the
 * input; the first byte makes it a KSLUB_DEBUG_CACHES instance, and one of
 * the 7.3 rules, whose caches have sheaves over a slab layer without CPU
 * slabs): several
 * caches (debug caches among them), kmalloc sizes, `_node` variants, bulk
 * calls, shrink, validate, CPU offline and online, and misuse: double
 * frees, foreign and interior pointers, frees to the wrong cache, bulk
 * frees with one bad entry, frees of cache descriptors, destroying a cache
 * or the instance while objects are live.
 *
 * Oracle (it knows no particular bug): a shadow record of every live object
 * with a fill pattern checked on free (no object handed out twice, none
 * lost); after every operation the non-flushing check of every cache the
 * input uses reports no error and its live count equals the shadow's.
 * Correct calls must succeed without a report. Misuse is generated only
 * where README.md promises to catch it (a double free of an object at the
 * head of a freelist with the hardened freelist, any double free in a
 * debug cache or of pages), and the oracle knows its answer: the error
 * code, one report of the right kind, and an allocator exactly as before
 * (the census and the 43 counters of every cache, the free blocks of every
 * order and node, and, for a refused bulk free, the array). Destroying with
 * live objects is refused with -EBUSY and keeps every live object. At the
 * end validate finds nothing, everything frees, and the instance tears down.
 */
#include "kslub.h"

#include "slub/slub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <vector>

#include "fill.h"
#include "fuzz_input.h"

namespace {

constexpr unsigned CPUS = 4, NODES = 2;
constexpr size_t POOL = 8u << 20;
constexpr unsigned MAX_CACHES = 4;
constexpr size_t KMALLOC_MAX = kslub::KMALLOC_MAX_CACHE_SIZE; /* above it kmalloc takes pages */
constexpr int EFAULT_ = -14, EINVAL_ = -22, EBUSY_ = -16, ENOMEM_ = -12;

struct Obj {
	void *p;
	size_t size;
	int cache; /* index into caches, or -1 for kmalloc */
	uint8_t fill;
};

struct Seen {
	std::string kind, what;
};
std::vector<Seen> g_reports;

[[noreturn]] void finding(const char *what, long a = 0, long b = 0)
{
	fprintf(stderr, "kslub-fuzz(api): %s (%ld, %ld)\n", what, a, b);
	for (const Seen &r : g_reports)
		fprintf(stderr, "  report: %s: %s\n", r.kind.c_str(), r.what.c_str());
	abort();
}

void on_report(void *, const struct kslub_report *r)
{
	g_reports.push_back(Seen{r->kind ? r->kind : "", r->what ? r->what : ""});
}

void quiet(const char *where)
{
	if (!g_reports.empty())
		finding(where, long(g_reports.size()));
}

void verify(const Obj &o)
{
	long i = fill_changed_at(o.p, o.size, o.fill);
	if (i >= 0)
		finding("fill pattern overwritten: an object had two owners", i, long(o.size));
}

/* What a refused call must leave alone. */
struct CacheSnap {
	kslub_cache_t *s;
	struct kslub_cache_usage usage;
	kslub_census census; /* walked only for a cache with slabs: the walk reads every page */
	long errors;
	uint64_t stat[KSLUB_NR_STATS];
};
struct Snap {
	std::vector<CacheSnap> caches;
	uint64_t nr_free[NODES][KSLUB_MAX_ORDER];
};

Snap snap(kslub_t *k)
{
	Snap n;
	kslub_for_each_cache(
		k,
		[](kslub_cache_t *s, void *arg) {
			CacheSnap c{};
			c.s = s;
			kslub_cache_usage(s, &c.usage);
			if (c.usage.slabs)
				c.errors = kslub_cache_check(s, &c.census);
			for (unsigned i = 0; i < KSLUB_NR_STATS; i++)
				c.stat[i] = kslub_cache_stat(s, i, -1);
			static_cast<Snap *>(arg)->caches.push_back(c);
		},
		&n);
	for (unsigned nid = 0; nid < NODES; nid++)
		for (unsigned o = 0; o < KSLUB_MAX_ORDER; o++)
			n.nr_free[nid][o] = kslub_buddy_nr_free(k, int(nid), o);
	quiet("consistency check reported during a snapshot");
	return n;
}

/*
 * Every cache exactly as before, but `except` (every cache with `all`) only
 * keeps its live objects; the free blocks of the page allocator unless !pages.
 */
void same(const Snap &a, const Snap &b, const char *what, kslub_cache_t *except = nullptr,
	  bool pages = true, bool all = false)
{
	if (a.caches.size() != b.caches.size())
		finding("the list of caches changed", long(a.caches.size()), long(b.caches.size()));
	for (size_t i = 0; i < a.caches.size(); i++) {
		const CacheSnap &x = a.caches[i], &y = b.caches[i];
		if (x.s != y.s)
			finding("the list of caches changed");
		if (x.errors || y.errors)
			finding("consistency check found errors", x.errors, y.errors);
		if (x.census.live_objects != y.census.live_objects)
			finding(what, long(x.census.live_objects), long(y.census.live_objects));
		if (all || x.s == except)
			continue;
		if (memcmp(&x.census, &y.census, sizeof(x.census)) ||
		    x.usage.slabs != y.usage.slabs || x.usage.cpu_slabs != y.usage.cpu_slabs ||
		    x.usage.partial_slabs != y.usage.partial_slabs)
			finding(what, long(i), 1);
		if (memcmp(x.stat, y.stat, sizeof(x.stat)))
			finding(what, long(i), 2);
	}
	if (pages && memcmp(a.nr_free, b.nr_free, sizeof(a.nr_free)))
		finding(what, 0, 3);
}

/* KSLUB_API_FUZZ_VERBOSE=1: one line per refused call, to see what an input exercises. */
bool verbose()
{
	static const bool v = getenv("KSLUB_API_FUZZ_VERBOSE") != nullptr;
	return v;
}

/* The reports of one refused call: n of them, each of kind k1 (or k2). */
void expect_reports(const char *what, size_t n, const char *k1, const char *k2 = nullptr)
{
	if (verbose())
		fprintf(stderr, "kslub-fuzz(api): refused %s: %s\n", what,
			g_reports.empty() ? "-" : g_reports[0].what.c_str());
	if (g_reports.size() != n)
		finding(what, long(g_reports.size()), long(n));
	for (const Seen &r : g_reports)
		if (r.kind != k1 && (!k2 || r.kind != k2))
			finding(what, 0, 4);
	g_reports.clear();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput in(data, size);
	const uint8_t c0 = in.u8();
	const bool debug_instance = c0 & 1;
	const bool sheaves_instance = c0 & 2; /* the 7.3 rules: sheaves for every cache */
	int err;
	kslub_t *k = kslub_create(POOL, CPUS, NODES,
				  KSLUB_DETERMINISTIC | (debug_instance ? KSLUB_DEBUG_CACHES : 0) |
					  (sheaves_instance ? KSLUB_KERNEL_7_3 : 0),
				  &err);
	if (!k)
		finding("kslub_create failed", err);
	g_reports.clear();
	kslub_set_reporter(k, on_report, nullptr);
	kslub_cache_t *const kmem = kslub_cache_find(k, "kmem_cache");
	if (!kmem)
		finding("no kmem_cache");

	kslub_cache_t *caches[MAX_CACHES] = {};
	size_t cache_size[MAX_CACHES] = {};
	bool cache_debug[MAX_CACHES] = {};
	std::vector<Obj> live;
	uint8_t next_fill = 1;
	bool online[CPUS] = {true, true, true, true};
	unsigned ops = 0;
	static char static_buf[64];

	auto count_live = [&](int cache) {
		uint64_t n = 0;
		for (const Obj &o : live)
			n += o.cache == cache;
		return n;
	};
	auto is_live = [&](const void *p) {
		for (const Obj &o : live)
			if (o.p == p)
				return true;
		return false;
	};
	auto check_all = [&]() {
		for (unsigned i = 0; i < MAX_CACHES; i++) {
			if (!caches[i])
				continue;
			struct kslub_census c;
			long e = kslub_cache_check(caches[i], &c);
			if (e)
				finding("consistency check found errors", e, i);
			if (c.live_objects != count_live(int(i)))
				finding("live objects differ from the shadow record",
					long(c.live_objects), long(count_live(int(i))));
		}
		if (kslub_buddy_check(k))
			finding("page allocator check found errors");
		quiet("a report after a correct call");
	};
	auto add = [&](void *p, size_t sz, int cache) {
		if (!p)
			return;
		if (is_live(p))
			finding("object handed out twice", long(ops));
		Obj o{p, sz, cache, take_fill_byte(&next_fill)};
		fill_object(o.p, o.size, o.fill);
		live.push_back(o);
	};
	auto is_large = [](const Obj &o) {
		return o.cache < 0 && o.size > KMALLOC_MAX;
	};
	/* Every double free of it is caught: a debug cache's object, or pages. */
	auto always_caught = [&](const Obj &o) {
		return is_large(o) || (o.cache >= 0 ? cache_debug[o.cache] : debug_instance);
	};
	auto free_obj = [&](const Obj &o) {
		return o.cache < 0 ? kslub_kfree(k, o.p) : kslub_cache_free(caches[o.cache], o.p);
	};
	/* Take a live object out of the record and free it, correctly. */
	auto free_live = [&](size_t j) {
		Obj o = live[j];
		verify(o);
		live.erase(live.begin() + long(j));
		if (free_obj(o))
			finding("free of a live object failed", long(ops));
		quiet("a report after a correct free");
		return o;
	};
	/*
	 * Free a live object, then (debug caches only) a few others, so that it
	 * is free but maybe not at a freelist head. Returns whether a second free
	 * of it is promised to be caught; *gone: its slab was given back.
	 */
	auto free_for_misuse = [&](size_t j, Obj *out, bool *gone) {
		Obj o = free_live(j);
		*out = o;
		bool caught = always_caught(o) || CONFIG_KSLUB_FREELIST_HARDENED;
		if (always_caught(o) && !is_large(o)) {
			for (unsigned n = in.below(4); n && !live.empty(); n--)
				free_live(in.below(uint32_t(live.size())));
		}
		*gone = !is_large(o) && kslub_ksize(k, o.p) == 0;
		return caught;
	};
	auto other_cache = [&](int not_this) -> int {
		unsigned start = in.below(MAX_CACHES);
		for (unsigned d = 0; d < MAX_CACHES; d++) {
			unsigned i = (start + d) % MAX_CACHES;
			if (caches[i] && int(i) != not_this)
				return int(i);
		}
		return -1;
	};

	while (!in.empty() && ops < 2000) {
		ops++;
		uint8_t op = in.u8() % 23;
		switch (op) {
		case 0: { /* create a cache */
			unsigned i = in.below(MAX_CACHES);
			if (caches[i])
				break;
			size_t sz = 1 + in.below(9000);
			size_t align = in.u8() & 1 ? size_t(8) << in.below(5) : 0;
			unsigned flags = in.u8() & 0xf;
			char name[16];
			snprintf(name, sizeof(name), "fuzz-%u", i);
			Snap before = snap(k);
			caches[i] = kslub_cache_create(k, name, sz, align, flags, nullptr, &err);
			if (!caches[i]) {
				/*
				 * Out of memory is no misuse: a new cache takes its descriptor,
				 * its random sequence and (with sheaves) a main sheaf per CPU
				 * from the pool. It must give back whatever it took, silently.
				 */
				if (err != ENOMEM_)
					finding("cache create failed", err, long(sz));
				quiet("a report after a cache create out of memory");
				/* kmem_cache gave its object and took it back: counters and slabs may move. */
				same(before, snap(k), "a failed cache create changed the allocator",
				     kmem, false);
				break;
			}
			cache_size[i] = sz;
			cache_debug[i] = debug_instance || (flags & KSLUB_SLAB_CONSISTENCY_CHECKS);
			break;
		}
		case 1: { /* destroy a cache whose objects are all freed */
			unsigned i = in.below(MAX_CACHES);
			if (!caches[i])
				break;
			for (size_t j = live.size(); j-- > 0;)
				if (live[j].cache == int(i))
					free_live(j);
			if (kslub_cache_destroy(caches[i]))
				finding("destroy of an empty cache failed");
			caches[i] = nullptr;
			break;
		}
		case 2:
		case 3: { /* alloc, maybe on a node */
			unsigned i = in.below(MAX_CACHES);
			if (!caches[i])
				break;
			void *p = op == 2 ? kslub_cache_alloc(caches[i], 0) :
					    kslub_cache_alloc_node(
						    caches[i], in.u8() & 1 ? KSLUB_GFP_THISNODE : 0,
						    int(in.below(NODES + 1)) - 1);
			add(p, cache_size[i], int(i));
			break;
		}
		case 4:
		case 5: /* free */
			if (!live.empty())
				free_live(in.below(uint32_t(live.size())));
			break;
		case 6: { /* kmalloc */
			size_t sz = in.u8() & 1 ? 1 + in.below(8192) : 1 + in.below(64 << 10);
			void *p = in.u8() & 1 ? kslub_kmalloc(k, sz, KSLUB_GFP_ZERO) :
						kslub_kmalloc_node(k, sz, 0,
								   int(in.below(NODES + 1)) - 1);
			if (p && kslub_ksize(k, p) < sz)
				finding("ksize below the request", long(kslub_ksize(k, p)),
					long(sz));
			add(p, sz, -1);
			break;
		}
		case 7: { /* bulk alloc */
			unsigned i = in.below(MAX_CACHES);
			if (!caches[i])
				break;
			size_t n = 1 + in.below(64);
			std::vector<void *> v(n);
			int got = kslub_cache_alloc_bulk(caches[i], 0, n, v.data());
			if (got != 0 && size_t(got) != n)
				finding("bulk alloc returned neither 0 nor n", got, long(n));
			for (int j = 0; j < got; j++)
				add(v[size_t(j)], cache_size[i], int(i));
			break;
		}
		case 8: { /* bulk free of up to 100 objects of one cache */
			unsigned i = in.below(MAX_CACHES);
			if (!caches[i])
				break;
			std::vector<void *> v;
			size_t want = 1 + in.below(100);
			for (size_t j = live.size(); j-- > 0 && v.size() < want;)
				if (live[j].cache == int(i) && (in.u8() & 1)) {
					verify(live[j]);
					v.push_back(live[j].p);
					live.erase(live.begin() + long(j));
				}
			if (kslub_cache_free_bulk(caches[i], v.size(), v.data()))
				finding("bulk free failed");
			for (void *p : v)
				if (p)
					finding("bulk free left an entry");
			break;
		}
		case 9: { /* shrink */
			unsigned i = in.below(MAX_CACHES);
			if (caches[i] && kslub_cache_shrink(caches[i]) < 0)
				finding("shrink failed");
			break;
		}
		case 10: { /* validate */
			unsigned i = in.below(MAX_CACHES);
			if (caches[i] && kslub_cache_validate(caches[i]))
				finding("validate found errors");
			break;
		}
		case 11: { /* switch CPU */
			unsigned c = in.below(CPUS);
			if (online[c] && kslub_set_cpu(k, c))
				finding("set_cpu failed");
			break;
		}
		case 12: { /* CPU offline */
			unsigned c = in.below(CPUS);
			unsigned n = 0;
			for (bool b : online)
				n += b;
			if (online[c] && n > 1) {
				if (kslub_cpu_offline(k, c))
					finding("cpu offline failed");
				online[c] = false;
			}
			break;
		}
		case 13: { /* CPU online */
			unsigned c = in.below(CPUS);
			if (!online[c]) {
				if (kslub_cpu_online(k, c))
					finding("cpu online failed");
				online[c] = true;
			}
			break;
		}

		/* Misuse: each call refused with the promised error, one report, nothing changed. */
		case 14: { /* double free, single */
			if (live.empty())
				break;
			Obj o;
			bool gone;
			if (!free_for_misuse(in.below(uint32_t(live.size())), &o, &gone))
				break;
			bool by_cache = o.cache >= 0 || (!is_large(o) && (in.u8() & 1));
			kslub_cache_t *s = o.cache >= 0 ? caches[o.cache] :
							  kslub_kmalloc_cache(k, o.size);
			Snap before = snap(k);
			int rc = by_cache ? kslub_cache_free(s, o.p) : kslub_kfree(k, o.p);
			if (by_cache && gone) {
				if (rc != EFAULT_)
					finding("double free (slab gone): wrong error", rc);
				expect_reports("double free (slab gone)", 1, "invalid free");
			} else if (gone || is_large(o)) {
				if (rc != EINVAL_)
					finding("double kfree (pages): wrong error", rc);
				expect_reports("double kfree (pages)", 1, "double free",
					       "invalid free");
			} else {
				if (rc != EINVAL_)
					finding("double free not refused", rc);
				expect_reports("double free", 1, "double free");
			}
			same(before, snap(k), "double free changed the allocator");
			break;
		}
		case 15: { /* a pointer not in the pool */
			int local = 0;
			void *heap = malloc(32);
			void *const ptrs[3] = {&local, heap, static_buf + 8 * in.below(8)};
			void *p = ptrs[in.below(3)];
			int c = other_cache(-1);
			Snap before = snap(k);
			int rc = c >= 0 && (in.u8() & 1) ? kslub_cache_free(caches[c], p) :
							   kslub_kfree(k, p);
			free(heap);
			if (rc != EFAULT_)
				finding("foreign free: wrong error", rc);
			expect_reports("foreign free", 1, "invalid free");
			same(before, snap(k), "foreign free changed the allocator");
			break;
		}
		case 16: { /* a pointer inside a live object */
			if (live.empty())
				break;
			const Obj &o = live[in.below(uint32_t(live.size()))];
			if (o.size < 2)
				break;
			char *p = static_cast<char *>(o.p) + 1 + in.below(uint32_t(o.size - 1));
			Snap before = snap(k);
			bool by_cache = o.cache >= 0 && (in.u8() & 1);
			int rc = by_cache ? kslub_cache_free(caches[o.cache], p) :
					    kslub_kfree(k, p);
			if (rc != EINVAL_)
				finding("interior free: wrong error", rc);
			expect_reports("interior free", 1, "invalid free");
			same(before, snap(k), "interior free changed the allocator");
			verify(o);
			break;
		}
		case 17: { /* a live object freed to another cache */
			if (live.empty())
				break;
			const Obj &o = live[in.below(uint32_t(live.size()))];
			int c = other_cache(o.cache);
			if (c < 0)
				break;
			Snap before = snap(k);
			int rc = kslub_cache_free(caches[c], o.p);
			if (rc != (is_large(o) ? EFAULT_ : EINVAL_))
				finding("free to the wrong cache: wrong error", rc);
			expect_reports("free to the wrong cache", 1,
				       is_large(o) ? "invalid free" : "wrong cache");
			same(before, snap(k), "free to the wrong cache changed the allocator");
			verify(o);
			break;
		}
		case 18: { /* bulk free of live objects of one cache and one bad entry */
			int i = other_cache(-1);
			if (i < 0)
				break;
			std::vector<void *> v;
			size_t want = in.below(100);
			for (size_t j = 0; j < live.size() && v.size() < want; j++)
				if (live[j].cache == i && (in.u8() & 1))
					v.push_back(live[j].p);
			int local = 0;
			void *bad = nullptr;
			int rc_want = EINVAL_;
			const char *kind = "double free";
			switch (in.below(6)) {
			case 0: /* named twice */
				if (v.empty())
					for (const Obj &o : live)
						if (o.cache == i)
							v.push_back(o.p);
				if (v.empty())
					break;
				bad = v[in.below(uint32_t(v.size()))];
				break;
			case 1: /* foreign */
				bad = &local;
				rc_want = EFAULT_;
				kind = "invalid free";
				break;
			case 2: { /* interior */
				if (v.empty() || cache_size[i] < 2)
					break;
				bad = static_cast<char *>(v[in.below(uint32_t(v.size()))]) + 1 +
				      in.below(uint32_t(cache_size[i] - 1));
				kind = "invalid free";
				break;
			}
			case 3: { /* another cache's object, or pages */
				if (live.empty())
					break;
				const Obj &o = live[in.below(uint32_t(live.size()))];
				if (o.cache == i)
					break;
				bad = o.p;
				rc_want = is_large(o) ? EFAULT_ : EINVAL_;
				kind = is_large(o) ? "invalid free" : "wrong cache";
				break;
			}
			case 4: { /* just freed: a freelist head, or (debug) free anywhere */
				std::vector<size_t> mine;
				for (size_t j = 0; j < live.size(); j++)
					if (live[j].cache == i &&
					    std::find(v.begin(), v.end(), live[j].p) == v.end())
						mine.push_back(j);
				if (mine.empty())
					break;
				Obj o;
				bool gone;
				if (!free_for_misuse(mine[in.below(uint32_t(mine.size()))], &o,
						     &gone))
					break;
				/* The others freed meanwhile are no longer live: drop them from the array. */
				v.erase(std::remove_if(v.begin(), v.end(),
						       [&](void *p) { return !is_live(p); }),
					v.end());
				bad = o.p;
				if (gone) {
					rc_want = EFAULT_;
					kind = "invalid free";
				}
				break;
			}
			case 5: /* a cache descriptor */
				bad = caches[in.below(MAX_CACHES)];
				kind = "wrong cache";
				break;
			}
			if (!bad)
				break;
			v.insert(v.begin() + long(in.below(uint32_t(v.size() + 1))), bad);
			std::vector<void *> copy = v;
			Snap before = snap(k);
			int rc = kslub_cache_free_bulk(caches[i], v.size(), v.data());
			if (rc != rc_want)
				finding("bulk free with a bad entry: wrong error", rc, rc_want);
			expect_reports("bulk free with a bad entry", 1, kind);
			if (v != copy)
				finding("a refused bulk free changed its array");
			same(before, snap(k), "a refused bulk free changed the allocator");
			for (void *p : v)
				for (const Obj &o : live)
					if (o.p == p)
						verify(o);
			break;
		}
		case 19: { /* free of a cache descriptor */
			kslub_cache_t *h = caches[in.below(MAX_CACHES)];
			if (!h || (in.u8() & 3) == 0)
				h = kslub_kmalloc_cache(k, 1 + in.below(KMALLOC_MAX));
			int c = other_cache(-1);
			unsigned how = in.below(4);
			if (how == 3 && c < 0)
				how = 0;
			void *v[1] = {h};
			Snap before = snap(k);
			int rc = how == 0 ? kslub_kfree(k, h) :
				 how == 1 ? kslub_cache_free(kmem, h) :
				 how == 2 ? kslub_cache_free_bulk(kmem, 1, v) :
					    kslub_cache_free(caches[c], h);
			if (rc != EINVAL_)
				finding("free of a cache descriptor: wrong error", rc, how);
			expect_reports("free of a cache descriptor", 1,
				       how == 3 ? "wrong cache" : "invalid free");
			if (v[0] != h)
				finding("a refused bulk free changed its array");
			same(before, snap(k), "free of a cache descriptor changed the allocator");
			break;
		}
		case 20: { /* destroy a cache with live objects */
			unsigned i = in.below(MAX_CACHES);
			if (!caches[i] || !count_live(int(i)))
				break;
			Snap before = snap(k);
			int rc = kslub_cache_destroy(caches[i]);
			if (rc != EBUSY_)
				finding("destroy of a cache with live objects: wrong error", rc);
			expect_reports("destroy of a cache with live objects", 1,
				       "objects remaining");
			/*
			 * The refused destroy flushed the cache. With sheaves that also
			 * frees its spare and barn sheaves into the kmalloc caches they
			 * came from: there only the live counts must stay as they were.
			 */
			same(before, snap(k), "destroy of a busy cache", caches[i], false,
			     sheaves_instance);
			break;
		}
		case 21: { /* destroy the instance with live objects */
			/* One report for the kmalloc_large blocks, else one per cache with live objects. */
			std::vector<kslub_cache_t *> busy;
			bool large = false;
			for (const Obj &o : live) {
				large |= is_large(o);
				kslub_cache_t *s = o.cache >= 0 ? caches[o.cache] :
								  kslub_kmalloc_cache(k, o.size);
				if (s && std::find(busy.begin(), busy.end(), s) == busy.end())
					busy.push_back(s);
			}
			if (live.empty())
				break;
			Snap before = snap(k);
			int rc = kslub_destroy(k);
			if (rc != EBUSY_)
				finding("destroy of a busy instance: wrong error", rc);
			expect_reports("destroy of a busy instance", large ? 1 : busy.size(),
				       "objects remaining");
			same(before, snap(k), "destroy of a busy instance", nullptr, false, true);
			break;
		}
		case 22: { /* double free through a bulk free of that object alone */
			if (live.empty())
				break;
			Obj o;
			bool gone;
			if (!free_for_misuse(in.below(uint32_t(live.size())), &o, &gone) ||
			    o.cache < 0)
				break;
			void *v[1] = {o.p};
			Snap before = snap(k);
			int rc = kslub_cache_free_bulk(caches[o.cache], 1, v);
			if (rc != (gone ? EFAULT_ : EINVAL_))
				finding("bulk double free: wrong error", rc);
			expect_reports("bulk double free", 1,
				       gone ? "invalid free" : "double free");
			if (v[0] != o.p)
				finding("a refused bulk free changed its array");
			same(before, snap(k), "a refused bulk double free changed the allocator");
			break;
		}
		}
		check_all();
	}

	for (const Obj &o : live) {
		verify(o);
		if (free_obj(o))
			finding("final free failed");
	}
	for (unsigned i = 0; i < MAX_CACHES; i++) {
		if (!caches[i])
			continue;
		if (kslub_cache_validate(caches[i]))
			finding("final validate found errors");
		if (kslub_cache_destroy(caches[i]))
			finding("final destroy failed");
	}
	quiet("a report at the end");
	if (kslub_destroy(k))
		finding("instance destroy failed with everything freed");
	return 0;
}
