// SPDX-License-Identifier: GPL-2.0-only
/*
 * kslub-demo: a short tour. Creates an instance with 4 CPUs in deterministic
 * mode, runs an allocation pattern with remote frees, then prints what the
 * kernel would show: /proc/slabinfo lines, the SLUB_STATS counters of one
 * cache per CPU, and the buddy allocator's free blocks per order.
 */
#include "kslub.h"

#include <stdio.h>
#include <stdlib.h>

static void slabinfo_line(kslub_cache_t *s, void *)
{
	struct kslub_cache_usage u;
	struct kslub_geometry g;
	kslub_cache_usage(s, &u);
	kslub_cache_geometry(s, &g);
	/* slabinfo 2.1: name active_objs num_objs objsize objperslab pagesperslab : tunables : slabdata */
	struct kslub_census c;
	kslub_cache_check(s, &c);
	printf("%-17s %6llu %6llu %6u %4u %4d : tunables %4u %4u %4u : slabdata %6llu %6llu %6lu\n",
	       kslub_cache_name(s), (unsigned long long)c.live_objects,
	       (unsigned long long)u.total_objects, g.slab_size, g.objs_per_slab, 1 << g.order, 0u,
	       0u, 0u, (unsigned long long)u.slabs, (unsigned long long)u.slabs, 0ul);
}

int main()
{
	const unsigned cpus = 4;
	int err;
	kslub_t *k = kslub_create(32u << 20, cpus, 1, KSLUB_DETERMINISTIC, &err);
	if (!k) {
		fprintf(stderr, "kslub-demo: kslub_create failed: %d\n", err);
		return 1;
	}
	kslub_cache_t *s = kslub_cache_create(k, "demo-200", 200, 0, 0, nullptr, &err);
	if (!s) {
		fprintf(stderr, "kslub-demo: cache create failed: %d\n", err);
		return 1;
	}
	enum { N = 3000 };
	static void *objs[N];
	/* Allocate on CPU c, free on CPU (c + 1) % cpus: remote frees go to the slow path. */
	for (unsigned i = 0; i < N; i++) {
		kslub_set_cpu(k, i % cpus);
		objs[i] = kslub_cache_alloc(s, 0);
		if (!objs[i]) {
			fprintf(stderr, "kslub-demo: allocation %u failed\n", i);
			return 1;
		}
	}
	for (unsigned i = 0; i < N; i += 2) {
		kslub_set_cpu(k, (i + 1) % cpus);
		kslub_cache_free(s, objs[i]);
		objs[i] = nullptr;
	}
	for (unsigned i = 0; i < 64; i++) {
		kslub_set_cpu(k, 0);
		void *p = kslub_kmalloc(k, 8 + i * 100, KSLUB_GFP_ZERO);
		kslub_kfree(k, p);
	}
	printf("== slabinfo - version: 2.1\n");
	printf("# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables "
	       "<limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n");
	kslub_for_each_cache(k, slabinfo_line, nullptr);

	printf("\n== demo-200 SLUB_STATS (sum C0=.. C1=..)\n");
	for (unsigned i = 0; i < KSLUB_NR_STATS; i++) {
		printf("%-24s %llu", kslub_stat_name(i),
		       (unsigned long long)kslub_cache_stat(s, i, -1));
		for (unsigned c = 0; c < cpus; c++) {
			unsigned long long v = kslub_cache_stat(s, i, int(c));
			if (v)
				printf(" C%u=%llu", c, v);
		}
		printf("\n");
	}
	printf("\n== validate demo-200: %ld errors\n", kslub_cache_validate(s));
	printf("== buddyinfo Node 0, free blocks per order 0..10:");
	for (unsigned o = 0; o < KSLUB_MAX_ORDER; o++)
		printf(" %llu", (unsigned long long)kslub_buddy_nr_free(k, 0, o));
	printf("\n");
	for (unsigned i = 0; i < N; i++)
		if (objs[i])
			kslub_cache_free(s, objs[i]);
	int rc = kslub_cache_destroy(s);
	rc |= kslub_destroy(k);
	printf("== teardown: %s\n", rc ? "FAILED" : "ok");
	return rc ? 1 : 0;
}
