// SPDX-License-Identifier: GPL-2.0-only
/*
 * kslub-bench: kslub against glibc malloc, measured side by side in one run.
 *
 * Each pattern runs for kslub and for malloc in alternation, REPS times, and
 * the median ns/op of each and their ratio are printed; a shared machine's
 * noise hits both alike. Patterns:
 *   pair    alloc then free one object (the fast paths)
 *   batch   alloc BATCH objects, then free them in the same order (slow paths: new slabs,
 *           refills, partial lists)
 *   kmalloc pair through kmalloc/kfree with a size that changes every call (size classes)
 *   remote  batch allocated on CPU 0, freed on CPU 1 (deterministic CPUs; remote frees)
 *   bulk    kmem_cache_alloc_bulk / free_bulk of 64 objects (malloc: 64 mallocs, 64 frees)
 * Then the two per-CPU designs of kslub side by side, the same way: the TID
 * design (CPU slab, lockless freelist) and sheaves, both under the 7.3 rules
 * (the same cache geometry; KSLUB_TID_ONLY for the first).
 * --pattern NAME --impl kslub|malloc|tid|sheaves --ops N runs one side only,
 * for `valgrind --tool=callgrind`, which counts instructions reproducibly
 * (kslub: the 6.1 rules, the TID design).
 */
#include "kslub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <vector>

namespace {

constexpr size_t BATCH = 4096;
constexpr size_t OBJ = 192;
constexpr size_t BULK = 64;

struct Ctx {
	kslub_t *k;
	kslub_cache_t *s;
	std::vector<void *> v;
};

double now_ns()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

void run(const char *pattern, bool kslub, Ctx &c, size_t ops)
{
	if (!strcmp(pattern, "pair")) {
		for (size_t i = 0; i < ops; i++) {
			if (kslub) {
				void *p = kslub_cache_alloc(c.s, 0);
				*static_cast<volatile char *>(p) = 1;
				kslub_cache_free(c.s, p);
			} else {
				void *p = malloc(OBJ);
				*static_cast<volatile char *>(p) = 1;
				free(p);
			}
		}
	} else if (!strcmp(pattern, "batch") || !strcmp(pattern, "remote")) {
		bool remote = !strcmp(pattern, "remote");
		for (size_t done = 0; done < ops; done += BATCH) {
			if (kslub && remote)
				kslub_set_cpu(c.k, 0);
			for (size_t i = 0; i < BATCH; i++)
				c.v[i] = kslub ? kslub_cache_alloc(c.s, 0) : malloc(OBJ);
			if (kslub && remote)
				kslub_set_cpu(c.k, 1);
			for (size_t i = 0; i < BATCH; i++)
				kslub ? (void)kslub_cache_free(c.s, c.v[i]) : free(c.v[i]);
		}
	} else if (!strcmp(pattern, "bulk")) {
		for (size_t done = 0; done < ops; done += BULK) {
			if (kslub) {
				if (kslub_cache_alloc_bulk(c.s, 0, BULK, c.v.data()) != int(BULK) ||
				    kslub_cache_free_bulk(c.s, BULK, c.v.data())) {
					fprintf(stderr, "kslub-bench: bulk failed\n");
					exit(1);
				}
			} else {
				for (size_t i = 0; i < BULK; i++)
					c.v[i] = malloc(OBJ);
				for (size_t i = 0; i < BULK; i++)
					free(c.v[i]);
			}
		}
	} else if (!strcmp(pattern, "kmalloc")) {
		for (size_t i = 0; i < ops; i++) {
			size_t size = 8 + (i * 37) % 4000;
			void *p = kslub ? kslub_kmalloc(c.k, size, 0) : malloc(size);
			*static_cast<volatile char *>(p) = 1;
			kslub ? (void)kslub_kfree(c.k, p) : free(p);
		}
	}
}

size_t ops_per_call(const char *pattern)
{
	return strcmp(pattern, "pair") && strcmp(pattern, "kmalloc") ? BATCH * 16 : 200000;
}

bool make(Ctx *c, unsigned flags, const char *name)
{
	int err;
	c->k = kslub_create(256u << 20, 2, 1, KSLUB_DETERMINISTIC | flags, &err);
	if (!c->k) {
		fprintf(stderr, "kslub-bench: kslub_create: %d\n", err);
		return false;
	}
	c->s = kslub_cache_create(c->k, name, OBJ, 0, 0, nullptr, &err);
	if (!c->s) {
		fprintf(stderr, "kslub-bench: kslub_cache_create: %d\n", err);
		return false;
	}
	c->v.resize(BATCH);
	return true;
}

/* Median ns/op of two sides run in alternation: x(), then y(), reps times. */
template <class X, class Y> void side_by_side(size_t n, int reps, X x, Y y, double *mx, double *my)
{
	std::vector<double> a, b;
	x(n / 4); /* warm up both */
	y(n / 4);
	for (int r = 0; r < reps; r++) {
		double t0 = now_ns();
		x(n);
		double t1 = now_ns();
		y(n);
		double t2 = now_ns();
		a.push_back((t1 - t0) / double(n));
		b.push_back((t2 - t1) / double(n));
	}
	std::sort(a.begin(), a.end());
	std::sort(b.begin(), b.end());
	*mx = a[a.size() / 2];
	*my = b[b.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
	const char *only_pattern = nullptr, *impl = nullptr;
	size_t ops = 0;
	int reps = 11;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pattern") && i + 1 < argc)
			only_pattern = argv[++i];
		else if (!strcmp(argv[i], "--impl") && i + 1 < argc)
			impl = argv[++i];
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			ops = strtoull(argv[++i], nullptr, 10);
		else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else {
			fprintf(stderr,
				"usage: kslub-bench [--reps N] | --pattern pair|batch|kmalloc|remote "
				"--impl kslub|malloc --ops N\n");
			return 2;
		}
	}
	Ctx c, tid, sh;
	if (!make(&c, 0, "bench-192") ||
	    !make(&tid, KSLUB_KERNEL_7_3 | KSLUB_TID_ONLY, "bench-192") ||
	    !make(&sh, KSLUB_KERNEL_7_3, "bench-192"))
		return 1;
	if (impl) {
		bool known = !strcmp(impl, "kslub") || !strcmp(impl, "malloc") ||
			     !strcmp(impl, "tid") || !strcmp(impl, "sheaves");
		if (!only_pattern || !ops || !known) {
			fprintf(stderr, "kslub-bench: --impl needs --pattern and --ops\n");
			return 2;
		}
		Ctx &ctx = !strcmp(impl, "tid") ? tid : !strcmp(impl, "sheaves") ? sh : c;
		run(only_pattern, strcmp(impl, "malloc") != 0, ctx, ops);
		return 0;
	}
	const char *patterns[] = {"pair", "batch", "kmalloc", "remote", "bulk"};
	/* Side A against side B, pattern by pattern, and the ratio A / B. */
	auto table = [&](const char *na, Ctx &ca, bool a_kslub, const char *nb, Ctx &cb,
			 bool b_kslub, const char *what) {
		printf("%-8s %13s %13s %8s   (%s; median of %d alternating runs, single thread)\n",
		       "pattern", na, nb, "ratio", what, reps);
		for (const char *p : patterns) {
			if (only_pattern && strcmp(p, only_pattern))
				continue;
			double a, b;
			side_by_side(
				ops_per_call(p), reps, [&](size_t n) { run(p, a_kslub, ca, n); },
				[&](size_t n) { run(p, b_kslub, cb, n); }, &a, &b);
			printf("%-8s %13.1f %13.1f %8.2f\n", p, a, b, a / b);
		}
	};
	table("kslub ns/op", c, true, "malloc ns/op", c, false,
	      "kslub: 6.1's rules, the TID design");
	printf("\n");
	table("sheaves ns/op", sh, true, "TID ns/op", tid, true,
	      "kslub under 7.3's rules, a 192-byte cache, sheaves of 60");
	long errors = 0;
	for (Ctx *x : {&c, &tid, &sh}) {
		errors += kslub_cache_validate(x->s);
		if (kslub_cache_destroy(x->s) || kslub_destroy(x->k))
			errors++;
	}
	return errors ? 1 : 0;
}
