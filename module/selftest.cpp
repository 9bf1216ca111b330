// SPDX-License-Identifier: GPL-2.0-only
/*
 * The module's self-test, run at load (module parameter selftest) and on
 * every write to debugfs selftest; the report is KTAP. It checks the
 * instance made at load (kmalloc caches, validate, the fast path, a free on
 * another CPU, kmalloc_large) and, on a private one-block instance, what
 * must not disturb the main one: exhaustion and recovery, refused frees, a
 * refused destroy.
 */
#include "instance.h"

using namespace kslub;

namespace {

class Ktap {
public:
	Ktap(char *buf, usize cap) : t_(buf, cap) {}
	TextBuf &text() { return t_; }
	void result(bool ok, const char *name, const char *detail = nullptr, bool skip = false)
	{
		n_++;
		if (!ok)
			failed_++;
		t_.str(ok ? "ok " : "not ok ").dec(n_).str(" - ").str(name);
		if (skip)
			t_.str(" # SKIP");
		if (detail)
			t_.str(skip ? " " : " # ").str(detail);
		t_.chr('\n');
	}
	unsigned count() const { return n_; }
	int failed() const { return int(failed_); }

private:
	TextBuf t_;
	unsigned n_ = 0;
	unsigned failed_ = 0;
};

constexpr unsigned NR_TESTS = KMALLOC_NR_CACHES - 1 + 8;

u64 pattern(const void *p, usize i)
{
	return (uptr(p) ^ KSLUB_MOD_FILL_KEY) + i;
}

/* 2 slabs and one more object of the kmalloc cache of `size`, filled, checked and freed. */
bool kmalloc_round(Slub<ModPlatform> &sl, usize size, const char **why)
{
	ModCache *s = sl.kmalloc_slab(size);
	if (!s) {
		*why = "no cache";
		return false;
	}
	constexpr unsigned MAX = 2 * 512 + 1;
	static void *objs[MAX]; /* the self-test runs under the control mutex */
	unsigned n = min<unsigned>(2 * s->oo_objects + 1, MAX);
	bool ok = true;
	unsigned got = 0;
	for (; got < n; got++) {
		objs[got] = sl.kmalloc(size, GFP_KERNEL);
		if (!objs[got]) {
			*why = "allocation failed";
			ok = false;
			break;
		}
		if (sl.ksize(objs[got]) != s->object_size) {
			*why = "ksize is not the cache's object size";
			ok = false;
		}
		u64 *w = static_cast<u64 *>(objs[got]);
		for (usize i = 0; i < size / 8; i++)
			w[i] = pattern(w, i);
	}
	for (unsigned i = 0; i < got; i++) {
		const u64 *w = static_cast<const u64 *>(objs[i]);
		for (usize j = 0; j < size / 8; j++)
			if (w[j] != pattern(w, j)) {
				*why = "fill pattern changed";
				ok = false;
				break;
			}
	}
	for (unsigned i = 0; i < got; i++)
		if (sl.kfree(objs[i])) {
			*why = "kfree refused an object";
			ok = false;
		}
	return ok;
}

/* A one-block instance of its own, for the tests that exhaust or misuse it. */
struct Private {
	kslub_mod *k = nullptr;
	void *block = nullptr;
	void (*free_block)(void *) = nullptr;

	bool make(void *(*alloc_block)(int *), void (*fb)(void *))
	{
		int node = 0;
		free_block = fb;
		block = alloc_block(&node);
		if (!block)
			return false;
		k = mod_instance_new();
		if (!k)
			return false;
		k->pal.set_quiet(true);
		RegionDesc r{block, TOP_BLOCK_SIZE, node};
		if (k->alloc.buddy().init(&r, 1) || k->alloc.slub().init(KernelRules::Linux61)) {
			/* shutdown() cannot run on a half-made SLUB: leave the block, report the failure. */
			block = nullptr;
			k = nullptr;
			return false;
		}
		return true;
	}
	/* true when everything was given back. */
	bool drop()
	{
		bool ok = true;
		if (k) {
			ok = k->alloc.shutdown() == 0;
			if (ok)
				mod_instance_delete(k);
		}
		if (block && ok)
			free_block(block);
		k = nullptr;
		block = nullptr;
		return ok;
	}
};

struct CrossFree {
	Slub<ModPlatform> *sl;
	ModCache *s;
	void **objs;
	unsigned n;
	int errors;
	unsigned ran_on;
};

} // namespace

extern "C" int kslub_mod_selftest(struct kslub_mod *k, char *buf, unsigned long cap,
				  void *(*alloc_block)(int *node), void (*free_block)(void *base))
{
	Ktap kt(buf, cap);
	Slub<ModPlatform> &sl = k->alloc.slub();
	ModPlatform &pal = k->pal;

	kt.text()
		.str("KTAP version 1\n# kslub self-test: per-CPU CAS ")
		.str(ModPlatform::cpu_cas_name())
		.chr('\n');
	kt.text().str("1..").dec(NR_TESTS).chr('\n');

	/* 1..13: every kmalloc cache. */
	for (unsigned idx = 1; idx < KMALLOC_NR_CACHES; idx++) {
		const char *why = nullptr;
		char name[48];
		TextBuf nm(name, sizeof(name));
		nm.str("alloc_free_").str(kmalloc_cache_name(idx));
		bool ok = kmalloc_round(sl, kmalloc_index_size(idx), &why);
		kt.result(ok, name, why);
	}

	/* validate finds nothing wrong in any cache. */
	{
		long errors = 0;
		sl.for_each_cache([&](ModCache *s) { errors += sl.validate(s); });
		char d[40];
		TextBuf t(d, sizeof(d));
		t.str("errors ").sdec(errors);
		kt.result(errors == 0, "validate_clean", errors ? d : nullptr);
	}

	/* The lockless fast path is taken (its counter moves). */
	{
		ModCache *s = sl.kmalloc_slab(64);
		u64 before = sl.stat_sum(s, ALLOC_FASTPATH);
		bool ok = true;
		for (unsigned i = 0; i < 100 && ok; i++) {
			void *p = sl.cache_alloc(s, GFP_KERNEL);
			ok = p && sl.cache_free(s, p) == 0;
		}
		u64 moved = sl.stat_sum(s, ALLOC_FASTPATH) - before;
		kt.result(ok && moved > 0, "fast_path_taken",
			  ok ? (moved ? nullptr : "alloc_fastpath did not move") :
			       "alloc or free failed");
	}

	/* Objects allocated here are freed on another CPU (by IPI; on PREEMPT_RT, a work item there). */
	{
		int other = kslub_shim_other_online_cpu(pal.raw_cpu());
		if (other < 0) {
			kt.result(true, "cross_cpu_free", "only one CPU online", true);
		} else {
			static void *objs[16];
			ModCache *s = sl.kmalloc_slab(256);
			unsigned n = 0;
			for (; n < 16; n++)
				if (!(objs[n] = sl.cache_alloc(s, GFP_KERNEL)))
					break;
			CrossFree cf{&sl, s, objs, n, 0, ~0u};
			pal.run_on_cpu(unsigned(other), [&cf, &pal] {
				cf.ran_on = pal.raw_cpu();
				for (unsigned i = 0; i < cf.n; i++)
					cf.errors += cf.sl->cache_free(cf.s, cf.objs[i]) != 0;
			});
			bool ok = n == 16 && cf.errors == 0 && cf.ran_on == unsigned(other) &&
				  sl.validate(s) == 0;
			kt.result(ok, "cross_cpu_free",
				  ok ? nullptr :
				       "a free failed, ran elsewhere, or validate found errors");
		}
	}

	/* kmalloc above the largest cache takes whole pages. */
	{
		void *p = sl.kmalloc(16384, GFP_KERNEL);
		bool ok = p && sl.ksize(p) == 16384 && sl.kfree(p) == 0;
		kt.result(ok, "kmalloc_large",
			  ok ? nullptr : "16 KiB allocation, size or free wrong");
	}

	/* A one-block pool runs out, says so with NULL, and recovers. */
	{
		Private pv;
		bool ok = pv.make(alloc_block, free_block);
		const char *why = ok ? nullptr : "no private instance";
		if (ok) {
			Slub<ModPlatform> &ps = pv.k->alloc.slub();
			ModCache *s = ps.kmalloc_slab(4096);
			void *head = nullptr;
			unsigned n = 0;
			for (; n < 4096; n++) {
				void *p = ps.cache_alloc(s, GFP_KERNEL);
				if (!p)
					break;
				*static_cast<void **>(p) = head;
				head = p;
			}
			if (n == 4096 || n == 0) {
				ok = false;
				why = n ? "the pool never ran out" : "nothing could be allocated";
			}
			/* One object back, one allocation succeeds again. */
			if (ok && head) {
				void *next = *static_cast<void **>(head);
				ps.cache_free(s, head);
				head = ps.cache_alloc(s, GFP_KERNEL);
				if (!head) {
					ok = false;
					why = "no recovery after a free";
					head = next;
				} else {
					*static_cast<void **>(head) = next;
				}
			}
			while (head) {
				void *next = *static_cast<void **>(head);
				if (ps.cache_free(s, head))
					ok = false, why = "free refused";
				head = next;
			}
			if (ok && ps.validate(s) != 0)
				ok = false, why = "validate found errors";
		}
		if (!pv.drop() && ok)
			ok = false, why = "the private instance did not shut down";
		kt.result(ok, "pool_exhaustion_recovers", why);
	}

	/* Bogus frees are refused and change nothing. */
	{
		Private pv;
		bool ok = pv.make(alloc_block, free_block);
		const char *why = ok ? nullptr : "no private instance";
		if (ok) {
			Slub<ModPlatform> &ps = pv.k->alloc.slub();
			u64 local = 0;
			void *p = ps.kmalloc(64, GFP_KERNEL);
			void *q = ps.kmalloc(128, GFP_KERNEL);
			if (!p || !q) {
				ok = false, why = "allocation failed";
			} else if (ps.kfree(&local) != -KSLUB_EFAULT) {
				ok = false, why = "free of a stack address accepted";
			} else if (ps.kfree(static_cast<u8 *>(p) + 8) != -KSLUB_EINVAL) {
				ok = false, why = "free inside an object accepted";
			} else if (ps.cache_free(ps.kmalloc_slab(128), p) != -KSLUB_EINVAL) {
				ok = false, why = "free to the wrong cache accepted";
			} else if (ps.kfree(p) != 0) {
				ok = false, why = "a good free refused";
			} else if (CONFIG_KSLUB_FREELIST_HARDENED && ps.kfree(p) != -KSLUB_EINVAL) {
				ok = false, why = "double free accepted";
			}
			if (ok && pv.k->pal.reports() < (CONFIG_KSLUB_FREELIST_HARDENED ? 4u : 3u))
				ok = false, why = "a refused free was not reported";
			if (q)
				ps.kfree(q);
			if (ok && ps.validate(ps.kmalloc_slab(64)) != 0)
				ok = false, why = "validate found errors after the refused frees";
		}
		if (!pv.drop() && ok)
			ok = false, why = "the private instance did not shut down";
		kt.result(ok, "bogus_free_refused", why);
	}

	/* Destroying a cache with a live object is refused, then allowed. */
	{
		Private pv;
		bool ok = pv.make(alloc_block, free_block);
		const char *why = ok ? nullptr : "no private instance";
		if (ok) {
			Slub<ModPlatform> &ps = pv.k->alloc.slub();
			int err;
			ModCache *s = ps.cache_create("selftest", 200, 0, 0, nullptr, &err);
			void *p = s ? ps.cache_alloc(s, GFP_KERNEL) : nullptr;
			if (!p)
				ok = false, why = "create or alloc failed";
			else if (ps.cache_destroy(s) != -KSLUB_EBUSY)
				ok = false, why = "destroy with a live object not refused";
			else if (ps.cache_free(s, p) || ps.cache_destroy(s))
				ok = false, why = "destroy after the free failed";
		}
		if (!pv.drop() && ok)
			ok = false, why = "the private instance did not shut down";
		kt.result(ok, "destroy_busy_then_ok", why);
	}

	/*
	 * The per-CPU CAS fails on a tid that moved (the ABA guard). On
	 * PREEMPT_RT the task is only kept on its CPU, so another task's fast
	 * path may move the slot between the reads and the checks: a try where
	 * the slot changed under us proves nothing and is repeated; a CAS that
	 * succeeds fails the test at once.
	 */
	{
		ModCache *s = sl.kmalloc_slab(32);
		bool failed = true, same = false;
		for (unsigned attempt = 0; attempt < 8 && failed && !same; attempt++) {
			pal.preempt_disable();
			KmemCacheCpu<ModPlatform> *c = pal.raw_cpu_ptr(s->cpu_slab);
			u64 tid = pal.load(&c->tid);
			void *fl = pal.load(&c->freelist);
			/* Expecting tid + 1 (never a tid of this CPU): must fail and change nothing. */
			failed = !pal.this_cpu_cas2(s->cpu_slab, c, Pair{fl, tid + 1},
						    Pair{nullptr, tid + 2});
			same = pal.load(&c->tid) == tid && pal.load(&c->freelist) == fl;
			pal.preempt_enable();
		}
		kt.result(failed && same, "cpu_cas_checks_tid",
			  !failed ? "a stale tid was accepted" :
			  !same	  ? "the slot kept changing under the check" :
				    nullptr);
	}

	/* Leave the instance as the tests found it: no CPU slabs, no empty slabs kept. */
	sl.for_each_cache([&](ModCache *s) { sl.shrink(s); });

	if (kt.count() != NR_TESTS)
		kt.text()
			.str("# planned ")
			.dec(NR_TESTS)
			.str(" tests, ran ")
			.dec(kt.count())
			.chr('\n');
	kt.text()
		.str("# ")
		.dec(kt.count() - unsigned(kt.failed()))
		.str(" passed, ")
		.dec(unsigned(kt.failed()))
		.str(" failed\n");
	return kt.failed();
}
