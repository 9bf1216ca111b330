// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target `api`: operation sequences over the C API on one
 * deterministic instance (4 CPUs, 2 nodes; one CPU at a time, chosen by the
 * input): several caches, kmalloc sizes, `_node` variants, bulk calls,
 * shrink, validate, CPU offline and online.
 *
 * Oracle (it knows no particular bug): a shadow record of every live object
 * with a fill pattern checked on free (no object handed out twice, none
 * lost); after every operation the non-flushing check of every cache the
 * input uses reports no error and its live count equals the shadow's; the
 * harness never misuses the API, so any report is a finding; at the end
 * validate finds nothing, everything frees, and the instance tears down.
 */
#include "kslub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vector>

#include "fuzz_input.h"

namespace {

constexpr unsigned CPUS = 4, NODES = 2;
constexpr size_t POOL = 8u << 20;
constexpr unsigned MAX_CACHES = 4;

struct Obj {
	void *p;
	size_t size;
	int cache; /* index into caches, or -1 for kmalloc */
	uint8_t fill;
};

[[noreturn]] void finding(const char *what, long a = 0, long b = 0)
{
	fprintf(stderr, "kslub-fuzz(api): %s (%ld, %ld)\n", what, a, b);
	abort();
}

void on_report(void *, const struct kslub_report *r)
{
	fprintf(stderr, "kslub-fuzz(api): allocator reported %s: %s (cache %s)\n", r->kind, r->what,
		r->cache ? r->cache : "-");
	abort();
}

void fill(Obj &o)
{
	memset(o.p, o.fill, o.size);
}

void verify(const Obj &o)
{
	const uint8_t *b = static_cast<const uint8_t *>(o.p);
	for (size_t i = 0; i < o.size; i++)
		if (b[i] != o.fill)
			finding("fill pattern overwritten: an object had two owners", long(i), long(o.size));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FuzzInput in(data, size);
	int err;
	kslub_t *k = kslub_create(POOL, CPUS, NODES, KSLUB_DETERMINISTIC, &err);
	if (!k)
		finding("kslub_create failed", err);
	kslub_set_reporter(k, on_report, nullptr);

	kslub_cache_t *caches[MAX_CACHES] = {};
	size_t cache_size[MAX_CACHES] = {};
	std::vector<Obj> live;
	uint8_t next_fill = 1;
	bool online[CPUS] = {true, true, true, true};
	unsigned ops = 0;

	auto count_live = [&](int cache) {
		uint64_t n = 0;
		for (const Obj &o : live)
			n += o.cache == cache;
		return n;
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
				finding("live objects differ from the shadow record", long(c.live_objects),
					long(count_live(int(i))));
		}
		if (kslub_buddy_check(k))
			finding("page allocator check found errors");
	};
	auto add = [&](void *p, size_t sz, int cache) {
		if (!p)
			return;
		for (const Obj &o : live)
			if (o.p == p)
				finding("object handed out twice", long(ops));
		Obj o{p, sz, cache, next_fill++};
		if (!next_fill)
			next_fill = 1;
		fill(o);
		live.push_back(o);
	};

	while (!in.empty() && ops < 2000) {
		ops++;
		uint8_t op = in.u8() % 14;
		switch (op) {
		case 0: { /* create a cache */
			unsigned i = in.below(MAX_CACHES);
			if (caches[i])
				break;
			size_t sz = 1 + in.below(9000);
			size_t align = in.u8() & 1 ? size_t(8) << in.below(5) : 0;
			unsigned flags = in.u8() & 0x7;
			char name[16];
			snprintf(name, sizeof(name), "fuzz-%u", i);
			caches[i] = kslub_cache_create(k, name, sz, align, flags, nullptr, &err);
			if (!caches[i])
				finding("cache create failed", err, long(sz));
			cache_size[i] = sz;
			break;
		}
		case 1: { /* destroy a cache whose objects are all freed */
			unsigned i = in.below(MAX_CACHES);
			if (!caches[i])
				break;
			for (size_t j = live.size(); j-- > 0;)
				if (live[j].cache == int(i)) {
					verify(live[j]);
					if (kslub_cache_free(caches[i], live[j].p))
						finding("free failed");
					live.erase(live.begin() + long(j));
				}
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
			void *p = op == 2 ? kslub_cache_alloc(caches[i], 0)
					  : kslub_cache_alloc_node(caches[i], in.u8() & 1 ? KSLUB_GFP_THISNODE : 0,
								   int(in.below(NODES + 1)) - 1);
			add(p, cache_size[i], int(i));
			break;
		}
		case 4:
		case 5: { /* free */
			if (live.empty())
				break;
			size_t j = in.below(uint32_t(live.size()));
			Obj o = live[j];
			verify(o);
			live.erase(live.begin() + long(j));
			int rc = o.cache < 0 ? kslub_kfree(k, o.p) : kslub_cache_free(caches[o.cache], o.p);
			if (rc)
				finding("free of a live object failed", rc);
			break;
		}
		case 6: { /* kmalloc */
			size_t sz = in.u8() & 1 ? 1 + in.below(8192) : 1 + in.below(64 << 10);
			void *p = in.u8() & 1 ? kslub_kmalloc(k, sz, KSLUB_GFP_ZERO)
					      : kslub_kmalloc_node(k, sz, 0, int(in.below(NODES + 1)) - 1);
			if (p && kslub_ksize(k, p) < sz)
				finding("ksize below the request", long(kslub_ksize(k, p)), long(sz));
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
		case 8: { /* bulk free of up to 64 objects of one cache */
			unsigned i = in.below(MAX_CACHES);
			if (!caches[i])
				break;
			std::vector<void *> v;
			size_t want = 1 + in.below(64);
			for (size_t j = live.size(); j-- > 0 && v.size() < want;)
				if (live[j].cache == int(i) && (in.u8() & 1)) {
					verify(live[j]);
					v.push_back(live[j].p);
					live.erase(live.begin() + long(j));
				}
			if (kslub_cache_free_bulk(caches[i], v.size(), v.data()))
				finding("bulk free failed");
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
		}
		check_all();
	}

	for (const Obj &o : live) {
		verify(o);
		if (o.cache < 0 ? kslub_kfree(k, o.p) : kslub_cache_free(caches[o.cache], o.p))
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
	if (kslub_destroy(k))
		finding("instance destroy failed with everything freed");
	return 0;
}
