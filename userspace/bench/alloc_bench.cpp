// SPDX-License-Identifier: GPL-2.0-only
/*
 * kslub-gbench: one allocator per process, timed by Google Benchmark.
 *
 *   kslub-gbench --alloc kslub|kslub-sheaves|system [Google Benchmark flags]
 *   kslub-gbench --alloc NAME --count PATTERN --ops N   (the loop alone, for callgrind;
 *                                                         kslub in its deterministic mode)
 *   kslub-gbench --alloc NAME --memory N                (RSS for N live 64-byte objects)
 *
 * "system" is whatever malloc the process has: glibc's, or jemalloc,
 * tcmalloc or mimalloc through LD_PRELOAD (userspace/bench/run.sh runs each
 * in a process of its own, so that they never mix). "kslub" is an instance on
 * the machine's CPUs under 6.1's rules (the TID design, restartable per-CPU
 * sequences where the process has rseq); "kslub-sheaves" the same under 7.3's
 * rules (sheaves for every cache). kslub objects come from a 64-byte cache
 * (kmem_cache_alloc) except in `kmalloc`, which goes through kslub_kmalloc.
 *
 * Patterns (an "item" is one object allocated and freed):
 *   pair       allocate one 64-byte object, write it, free it; 1..N threads
 *   batch1000  1000 allocations, then 1000 frees in the same order
 *   kmalloc    pair with a size that changes every call (8..4096 bytes)
 *   bulk64     64 objects by one bulk allocation, then one bulk free (system: 64 mallocs, 64 frees)
 *   remote1000 each of T threads allocates 1000 objects and hands them to the next thread,
 *              which frees them (frees by another thread, T >= 2)
 */
#include "kslub.h"

#include <benchmark/benchmark.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>

namespace {

constexpr size_t OBJ = 64;
constexpr size_t BATCH = 1000;
constexpr size_t BULK = 64;
constexpr size_t NR_SIZES = 1024;
constexpr unsigned MAX_THREADS = 256;

size_t g_sizes[NR_SIZES];

void init_sizes()
{
	/* 8..4096 bytes, every size class visited, in a fixed pseudo-random order. */
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < NR_SIZES; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		g_sizes[i] = 8 + x % 4089;
	}
}

void die(const char *what)
{
	fprintf(stderr, "kslub-gbench: %s\n", what);
	exit(1);
}

/* The process's malloc (glibc, or the preloaded one). */
struct System {
	static void *alloc() { return malloc(OBJ); }
	static void free(void *p) { ::free(p); }
	static void *kmalloc(size_t n) { return malloc(n); }
	static void kfree(void *p) { ::free(p); }
	static void bulk_alloc(size_t n, void **p)
	{
		for (size_t i = 0; i < n; i++)
			p[i] = malloc(OBJ);
	}
	static void bulk_free(size_t n, void **p)
	{
		for (size_t i = 0; i < n; i++)
			::free(p[i]);
	}
};

/* A kslub instance; one per process, created by setup(). */
struct Kslub {
	static kslub_t *k;
	static kslub_cache_t *s;
	static bool setup(unsigned flags, size_t pool_bytes, unsigned nr_cpus = KSLUB_CPUS_MACHINE)
	{
		int err = 0;
		k = kslub_create(pool_bytes, nr_cpus, 1, flags, &err);
		if (!k) {
			fprintf(stderr, "kslub-gbench: kslub_create: %d\n", err);
			return false;
		}
		s = kslub_cache_create(k, "bench-64", OBJ, 0, 0, nullptr, &err);
		if (!s) {
			fprintf(stderr, "kslub-gbench: kslub_cache_create: %d\n", err);
			return false;
		}
		return true;
	}
	static void *alloc() { return kslub_cache_alloc(s, 0); }
	static void free(void *p) { kslub_cache_free(s, p); }
	static void *kmalloc(size_t n) { return kslub_kmalloc(k, n, 0); }
	static void kfree(void *p) { kslub_kfree(k, p); }
	static void bulk_alloc(size_t n, void **p)
	{
		if (kslub_cache_alloc_bulk(s, 0, n, p) != int(n))
			die("bulk allocation failed");
	}
	static void bulk_free(size_t n, void **p)
	{
		if (kslub_cache_free_bulk(s, n, p))
			die("bulk free failed");
	}
};
kslub_t *Kslub::k;
kslub_cache_t *Kslub::s;

inline void *checked(void *p)
{
	if (__builtin_expect(!p, 0))
		die("out of memory");
	return p;
}

/* The loops, shared by the timed benchmarks and the callgrind counts. */
template <class A> void pair_loop(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		void *p = checked(A::alloc());
		*static_cast<volatile char *>(p) = 1;
		A::free(p);
	}
}

template <class A> void batch_round(void **v)
{
	for (size_t i = 0; i < BATCH; i++)
		v[i] = checked(A::alloc());
	for (size_t i = 0; i < BATCH; i++)
		A::free(v[i]);
}

template <class A> void kmalloc_loop(size_t n, size_t *cursor)
{
	size_t c = *cursor;
	for (size_t i = 0; i < n; i++) {
		void *p = checked(A::kmalloc(g_sizes[c]));
		*static_cast<volatile char *>(p) = 1;
		A::kfree(p);
		c = (c + 1) % NR_SIZES;
	}
	*cursor = c;
}

template <class A> void bulk_round(void **v)
{
	A::bulk_alloc(BULK, v);
	A::bulk_free(BULK, v);
}

template <class A> void bm_pair(benchmark::State &state)
{
	for (auto _ : state)
		pair_loop<A>(1);
	state.SetItemsProcessed(state.iterations());
}

/* N objects per iteration, by ROUND (batch_round, bulk_round). */
template <size_t N, void (*ROUND)(void **)> void bm_rounds(benchmark::State &state)
{
	void *v[N];
	for (auto _ : state)
		ROUND(v);
	state.SetItemsProcessed(state.iterations() * N);
}

template <class A> void bm_kmalloc(benchmark::State &state)
{
	size_t cursor = 0;
	for (auto _ : state)
		kmalloc_loop<A>(1, &cursor);
	state.SetItemsProcessed(state.iterations());
}

/*
 * Frees by another thread: thread i fills a batch and puts it in thread
 * i+1's mailbox, then frees the batch in its own. Every thread runs the same
 * number of iterations, so each batch handed over is freed; two buffers per
 * thread, as the one handed over last may still be being freed.
 */
struct alignas(64) Mailbox {
	std::atomic<void **> batch{nullptr};
};
Mailbox g_mail[MAX_THREADS];
void *g_remote_buf[MAX_THREADS][2][BATCH];

inline void wait_until(const std::atomic<void **> &a, bool want_empty)
{
	for (unsigned spins = 0; (a.load(std::memory_order_acquire) == nullptr) != want_empty;) {
		if (++spins < 1024)
			__builtin_ia32_pause();
		else
			sched_yield();
	}
}

template <class A> void bm_remote(benchmark::State &state)
{
	unsigned me = unsigned(state.thread_index()), nr = unsigned(state.threads());
	unsigned next = (me + 1) % nr;
	unsigned round = 0;
	for (auto _ : state) {
		void **mine = g_remote_buf[me][round++ & 1];
		for (size_t i = 0; i < BATCH; i++)
			mine[i] = checked(A::alloc());
		wait_until(g_mail[next].batch, true);
		g_mail[next].batch.store(mine, std::memory_order_release);
		wait_until(g_mail[me].batch, false);
		void **theirs = g_mail[me].batch.load(std::memory_order_acquire);
		for (size_t i = 0; i < BATCH; i++)
			A::free(theirs[i]);
		g_mail[me].batch.store(nullptr, std::memory_order_release);
	}
	state.SetItemsProcessed(state.iterations() * BATCH);
}

template <class A> void register_all(unsigned cpus)
{
	benchmark::RegisterBenchmark("pair", bm_pair<A>)
		->DenseThreadRange(1, int(cpus))
		->UseRealTime();
	benchmark::RegisterBenchmark("batch1000", bm_rounds<BATCH, batch_round<A>>)->UseRealTime();
	benchmark::RegisterBenchmark("kmalloc", bm_kmalloc<A>)->UseRealTime();
	benchmark::RegisterBenchmark("bulk64", bm_rounds<BULK, bulk_round<A>>)->UseRealTime();
	if (cpus >= 2)
		benchmark::RegisterBenchmark("remote1000", bm_remote<A>)
			->DenseThreadRange(2, int(cpus))
			->UseRealTime();
}

template <class A> int count(const char *pattern, size_t ops)
{
	static void *v[BATCH];
	size_t cursor = 0;
	if (!strcmp(pattern, "pair"))
		pair_loop<A>(ops);
	else if (!strcmp(pattern, "kmalloc"))
		kmalloc_loop<A>(ops, &cursor);
	else if (!strcmp(pattern, "batch1000"))
		for (size_t i = 0; i < ops; i += BATCH)
			batch_round<A>(v);
	else if (!strcmp(pattern, "bulk64"))
		for (size_t i = 0; i < ops; i += BULK)
			bulk_round<A>(v);
	else {
		fprintf(stderr,
			"kslub-gbench: --count: no pattern '%s' (pair, batch1000, kmalloc, bulk64)\n",
			pattern);
		return 2;
	}
	return 0;
}

long rss_bytes()
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, resident = 0;
	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2)
		die("cannot read /proc/self/statm");
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

unsigned machine_cpus()
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > long(MAX_THREADS) ? MAX_THREADS : unsigned(n);
}

/* Whose malloc this process runs: a preloaded library's, else glibc's. */
const char *mapped_malloc()
{
	static const char *const libs[] = {"jemalloc", "tcmalloc", "mimalloc"};
	const char *found = "glibc";
	char line[512], lib[32];
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f)
		die("cannot read /proc/self/maps");
	while (fgets(line, sizeof(line), f))
		for (const char *l : libs) {
			snprintf(lib, sizeof(lib), "/lib%s", l);
			if (strstr(line, lib))
				found = l;
		}
	fclose(f);
	return found;
}

int usage()
{
	fprintf(stderr,
		"usage: kslub-gbench --alloc kslub|kslub-sheaves|system [--count PATTERN --ops N | "
		"--memory N] [Google Benchmark flags]\n");
	return 2;
}

} // namespace

int main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	const char *alloc = nullptr, *pattern = nullptr;
	size_t ops = 0, memory = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--alloc") && i + 1 < argc)
			alloc = argv[++i];
		else if (!strcmp(argv[i], "--count") && i + 1 < argc)
			pattern = argv[++i];
		else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
			ops = strtoull(argv[++i], nullptr, 10);
		else if (!strcmp(argv[i], "--memory") && i + 1 < argc)
			memory = strtoull(argv[++i], nullptr, 10);
		else
			return usage();
	}
	if (!alloc || (pattern && !ops) || (pattern && memory))
		return usage();
	bool kslub = !strcmp(alloc, "kslub"), sheaves = !strcmp(alloc, "kslub-sheaves");
	if (!kslub && !sheaves && strcmp(alloc, "system"))
		return usage();
	init_sizes();
	unsigned flags = sheaves ? KSLUB_KERNEL_7_3 : 0;

	if (memory) {
		/* The pointer array is mapped and touched before the first reading. */
		void **v = static_cast<void **>(
			mmap(nullptr, memory * sizeof(void *), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
		if (v == MAP_FAILED)
			die("mmap of the pointer array failed");
		long before = rss_bytes();
		if ((kslub || sheaves) &&
		    !Kslub::setup(flags, (memory * OBJ * 3) / 2 + (64u << 20)))
			return 1;
		for (size_t i = 0; i < memory; i++) {
			v[i] = checked(kslub || sheaves ? Kslub::alloc() : System::alloc());
			memset(v[i], 1, OBJ);
		}
		long after = rss_bytes();
		printf("{\"objects\": %zu, \"object_bytes\": %zu, \"rss_before\": %ld, \"rss_after\": %ld, "
		       "\"malloc\": \"%s\"}\n",
		       memory, OBJ, before, after, mapped_malloc());
		return 0;
	}
	if (pattern) {
		/*
		 * Counted under callgrind, which has no rseq: kslub in its
		 * deterministic mode (one thread, CPU 0), the fast paths' own
		 * instructions without a host CPU read, which valgrind would
		 * turn into a system call.
		 */
		if ((kslub || sheaves) && !Kslub::setup(flags | KSLUB_DETERMINISTIC, 256u << 20, 1))
			return 1;
		return kslub || sheaves ? count<Kslub>(pattern, ops) : count<System>(pattern, ops);
	}
	if ((kslub || sheaves) && !Kslub::setup(flags, 256u << 20))
		return 1;

	unsigned cpus = machine_cpus();
	benchmark::AddCustomContext("allocator", alloc);
	benchmark::AddCustomContext("malloc", mapped_malloc());
	benchmark::AddCustomContext("kslub_commit_mode",
				    Kslub::k ? kslub_commit_mode(Kslub::k) : "-");
	if (kslub || sheaves)
		register_all<Kslub>(cpus);
	else
		register_all<System>(cpus);
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	if (Kslub::s && kslub_cache_validate(Kslub::s)) {
		fprintf(stderr, "kslub-gbench: validate found errors after the run\n");
		return 1;
	}
	return 0;
}
