// SPDX-License-Identifier: GPL-2.0-only
/*
 * Instantiates the whole core on a platform whose every operation is an
 * extern "C" kslub_pal_* function, so that tests/freestanding/check.sh can
 * compile it with -ffreestanding -nostdinc and list, with nm -u, everything
 * the core needs from outside: only the platform contract (and the memory
 * functions a compiler may emit).
 */
#include "slub/slub.h"
#include "control/control.h"
#include "show/show.h"

using namespace kslub;

extern "C" {
unsigned kslub_pal_nr_cpu_ids(void);
unsigned kslub_pal_nr_present_cpus(void);
unsigned kslub_pal_raw_cpu(void);
int kslub_pal_cpu_to_node(unsigned cpu);
int kslub_pal_cpu_online(unsigned cpu);
void kslub_pal_preempt_disable(void);
void kslub_pal_preempt_enable(void);
void *kslub_pal_percpu_alloc(usize size, usize align);
void kslub_pal_percpu_free(void *pcp);
void *kslub_pal_per_cpu_ptr(void *pcp, unsigned cpu);
void *kslub_pal_raw_cpu_ptr(void *pcp);
int kslub_pal_this_cpu_cas2(void *pcp, Pair *old, Pair *nw);
int kslub_pal_cas2(Pair *p, Pair *old, Pair *nw);
int kslub_pal_cas_u64(u64 *p, u64 old, u64 nw);
void kslub_pal_load(const void *p, usize size, void *out);
void kslub_pal_store(void *p, usize size, const void *in);
u64 kslub_pal_atomic_add(u64 *p, s64 d);
void kslub_pal_stat_inc(u64 *p);
void kslub_pal_barrier(void);
void kslub_pal_cpu_relax(void);
void *kslub_pal_read_fp(void *const *slot);
void *kslub_pal_read_fp_racy(void *const *slot);
void kslub_pal_write_fp(void **slot, void *v);
unsigned long kslub_pal_lock(int *l);
void kslub_pal_unlock(int *l, unsigned long flags);
int kslub_pal_is_locked(int *l);
void kslub_pal_poison(void *p, usize n);
void kslub_pal_unpoison(void *p, usize n);
u64 kslub_pal_random(void);
bool kslub_pal_tracing(void);
void kslub_pal_trace(const TraceEvent *e);
void kslub_pal_report(const Report *r);
void kslub_pal_assert_fail(const char *cond, const char *file, int line);
void kslub_pal_run_on_cpu(unsigned cpu, void (*fn)(void *), void *arg);
int kslub_pal_trylock(int *l, unsigned long *flags);
void kslub_pal_call_rcu(void *head, void (*fn)(void *));
void kslub_pal_rcu_barrier(void);
void kslub_pal_synchronize_rcu(void);
}

struct ExternPlatform {
	struct Spinlock {
		int v;
	};
	using SlotLock = Spinlock;
	using LocalLock = Spinlock;
	struct RcuHead {
		void *opaque[2];
		void (*fn)(RcuHead *);
	};
	unsigned nr_cpu_ids() const { return kslub_pal_nr_cpu_ids(); }
	unsigned nr_present_cpus() const { return kslub_pal_nr_present_cpus(); }
	unsigned raw_cpu() const { return kslub_pal_raw_cpu(); }
	int cpu_to_node(unsigned cpu) const { return kslub_pal_cpu_to_node(cpu); }
	bool cpu_online(unsigned cpu) const { return kslub_pal_cpu_online(cpu); }
	void preempt_disable() { kslub_pal_preempt_disable(); }
	void preempt_enable() { kslub_pal_preempt_enable(); }
	template <class T> T *percpu_alloc()
	{
		return static_cast<T *>(kslub_pal_percpu_alloc(sizeof(T), alignof(T)));
	}
	template <class T> void percpu_free(T *pcp) { kslub_pal_percpu_free(pcp); }
	template <class T> T *per_cpu_ptr(T *pcp, unsigned cpu) const
	{
		return static_cast<T *>(kslub_pal_per_cpu_ptr(pcp, cpu));
	}
	template <class T> T *raw_cpu_ptr(T *pcp) const
	{
		return static_cast<T *>(kslub_pal_raw_cpu_ptr(pcp));
	}
	static constexpr bool PERCPU_SEQUENCES = false;
	template <class T> bool this_cpu_cas2(T *pcp, T *, Pair old, Pair nw)
	{
		return kslub_pal_this_cpu_cas2(pcp, &old, &nw);
	}
	template <class T> static T load(const T *p)
	{
		T out;
		kslub_pal_load(p, sizeof(T), &out);
		return out;
	}
	template <class T> static void store(T *p, T v) { kslub_pal_store(p, sizeof(T), &v); }
	template <class T> static void slot_unpublish(T **p, unsigned) { store(p, (T *)nullptr); }
	template <class T> static T peek(const T *p) { return load(p); }
	static bool cas2(Pair *p, Pair old, Pair nw) { return kslub_pal_cas2(p, &old, &nw); }
	static bool cas_u64(u64 *p, u64 old, u64 nw) { return kslub_pal_cas_u64(p, old, nw); }
	static u64 atomic_add(u64 *p, s64 d) { return kslub_pal_atomic_add(p, d); }
	static void stat_inc(u64 *p) { kslub_pal_stat_inc(p); }
	static void stat_add(u64 *p, u64 n) { *p += n; }
	static void barrier() { kslub_pal_barrier(); }
	static void cpu_relax() { kslub_pal_cpu_relax(); }
	static void *read_fp(void *const *slot) { return kslub_pal_read_fp(slot); }
	static void *read_fp_racy(void *const *slot) { return kslub_pal_read_fp_racy(slot); }
	static void write_fp(void **slot, void *v) { kslub_pal_write_fp(slot, v); }
	static void spin_lock_init(Spinlock &l, LockClass) { l.v = 0; }
	static unsigned long spin_lock_irqsave(Spinlock &l) { return kslub_pal_lock(&l.v); }
	static void spin_unlock_irqrestore(Spinlock &l, unsigned long f)
	{
		kslub_pal_unlock(&l.v, f);
	}
	static bool spin_is_locked(Spinlock &l) { return kslub_pal_is_locked(&l.v); }
	static void slot_lock_init(SlotLock &l) { l.v = 0; }
	static unsigned long slot_lock(SlotLock &l) { return kslub_pal_lock(&l.v); }
	static void slot_unlock(SlotLock &l, unsigned long f) { kslub_pal_unlock(&l.v, f); }
	static bool slot_is_locked(SlotLock &l) { return kslub_pal_is_locked(&l.v); }
	static void local_lock_init(LocalLock &l) { l.v = 0; }
	static bool local_trylock(LocalLock &l, unsigned long *f)
	{
		return kslub_pal_trylock(&l.v, f);
	}
	static unsigned long local_lock(LocalLock &l) { return kslub_pal_lock(&l.v); }
	static void local_unlock(LocalLock &l, unsigned long f) { kslub_pal_unlock(&l.v, f); }
	static void call_rcu(RcuHead *h, void (*fn)(RcuHead *))
	{
		h->fn = fn;
		kslub_pal_call_rcu(h, [](void *p) {
			RcuHead *head = static_cast<RcuHead *>(p);
			head->fn(head);
		});
	}
	static void rcu_barrier() { kslub_pal_rcu_barrier(); }
	static void synchronize_rcu() { kslub_pal_synchronize_rcu(); }
	static void poison_free(void *p, usize n) { kslub_pal_poison(p, n); }
	static void unpoison(void *p, usize n) { kslub_pal_unpoison(p, n); }
	static u64 random() { return kslub_pal_random(); }
	static bool tracing() { return kslub_pal_tracing(); }
	static void trace(const TraceEvent &e) { kslub_pal_trace(&e); }
	static void report(const Report &r) { kslub_pal_report(&r); }
	static void assert_fail(const char *c, const char *f, int l)
	{
		kslub_pal_assert_fail(c, f, l);
	}
	template <class F> void run_on_cpu(unsigned cpu, F &&fn)
	{
		kslub_pal_run_on_cpu(
			cpu, [](void *a) { (*static_cast<F *>(a))(); }, &fn);
	}
};

template class kslub::BuddyAllocator<ExternPlatform>;
template class kslub::Slub<ExternPlatform>;
template class kslub::Allocator<ExternPlatform>;
template class kslub::Control<ExternPlatform>;

/* Entry points that reach every path, so nothing is left uninstantiated. */
extern "C" int kslub_freestanding_exercise(void *mem, usize bytes)
{
	static ExternPlatform pal;
	alignas(64) static u8 storage[sizeof(Allocator<ExternPlatform>)];
	auto *a = new (storage, PlacementTag{}) Allocator<ExternPlatform>(pal);
	RegionDesc r{mem, bytes, 0};
	if (a->init(&r, 1, KernelRules::Linux61))
		return -1;
	auto &sl = a->slub();
	int err;
	auto *s = sl.cache_create("x", 100, 0, 0, nullptr, &err);
	void *p = sl.cache_alloc(s, 0);
	void *q = sl.cache_alloc_node(s, 0, 0);
	void *v[4];
	sl.alloc_bulk(s, 0, 4, v);
	sl.free_bulk(s, 4, v);
	sl.cache_free(s, p);
	sl.cache_free(s, q);
	void *k = sl.kmalloc(50000, 0);
	sl.kfree(k);
	CacheCensus c;
	CacheInfo ci;
	long n = sl.validate(s) + sl.check(s, &c) + sl.shrink(s) + long(sl.ksize(k)) +
		 a->buddy().check();
	sl.info(s, &ci);
	sl.cpu_dead(1);
	sl.cache_destroy(s);
	/* Sheaves: a cache that asks for them, kfree_rcu and the prefill API. */
	auto *t = sl.cache_create("y", 64, 0, 0, nullptr, 8, &err);
	sl.cache_free_rcu(t, sl.cache_alloc(t, 0));
	sl.kfree_rcu(sl.kmalloc(64, 0));
	auto *sheaf = sl.prefill_sheaf(t, 0, 4);
	sl.cache_free(t, sl.alloc_from_sheaf(t, 0, sheaf));
	sl.return_sheaf(t, 0, sheaf);
	SheafCpuInfo si;
	BarnInfo bi;
	sl.sheaf_cpu_info(t, 0, &si);
	sl.barn_info(t, 0, &bi);
	sl.rcu_barrier();
	sl.cache_destroy(t);
	return int(n) + a->shutdown();
}

/* The text and control layers: every renderer and the executor on one instance. */
extern "C" long kslub_freestanding_show_control(void *mem, usize bytes, char *buf, usize cap,
						const char *cmd, usize len)
{
	static ExternPlatform pal;
	alignas(64) static u8 storage[sizeof(Allocator<ExternPlatform>)];
	alignas(64) static u8 ctl_storage[sizeof(Control<ExternPlatform>)];
	auto *a = new (storage, PlacementTag{}) Allocator<ExternPlatform>(pal);
	RegionDesc r{mem, bytes, 0};
	if (a->init(&r, 1, KernelRules::Linux61))
		return -1;
	auto &sl = a->slub();
	auto *ctl = new (ctl_storage, PlacementTag{}) Control<ExternPlatform>(sl);
	long n = ctl->run(cmd, len);
	ControlCommand c;
	ControlError why;
	n += control_parse(cmd, len, &c, &why) + ctl->execute(c);
	n += long(render_slabinfo(sl, buf, cap)) + long(render_buddyinfo(a->buddy(), buf, cap));
	auto *s = sl.find_cache("kmalloc-64");
	for (unsigned i = 0; i < NR_CACHE_FILES; i++)
		n += render_cache_file(sl, s, cache_file_name(i), buf, cap);
	int err;
	if (auto *p = ctl->pin("kmalloc-64", &err))
		ctl->unpin(p);
	n += long(ctl->held_total() + ctl->held("kmalloc-64")) + ctl->held_check() +
	     ctl->release_all();
	return n + a->shutdown();
}
