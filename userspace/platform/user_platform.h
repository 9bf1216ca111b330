// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user-space platform: real threads on a process's CPUs.
 *
 * CPUs: an instance declares nr_cpus virtual CPUs; a thread's CPU is the
 * host CPU from rseq (glibc registers it; the cpu_id field is read at the
 * thread pointer + __rseq_offset) or sched_getcpu(), folded onto the declared
 * CPUs. In deterministic mode the caller names the current CPU instead.
 *
 * The per-CPU CAS is a locked cmpxchg16b (__atomic builtins with -mcx16) on
 * the slot of the CPU read just before it: a thread migrated between its tid
 * read and the CAS hits another CPU's slot, whose tid carries another CPU
 * number, and fails, as in the kernel. Threads folded onto one slot, or a
 * thread migrated in the middle of a slow path, can reach a slot at the same
 * time, which is why slow paths take the slot's spinlock and follow the slot
 * protocol of base/platform.h.
 */
#ifndef KSLUB_USERSPACE_PLATFORM_H
#define KSLUB_USERSPACE_PLATFORM_H

#include "base/base.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SANITIZE_ADDRESS__)
#define KSLUB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSLUB_ASAN 1
#endif
#endif
#ifdef KSLUB_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace kslub {

using ReportFn = void (*)(void *arg, const Report &r);

class UserPlatform {
public:
	struct Spinlock {
		int v;
	};
	using SlotLock = Spinlock;
	using LocalLock = Spinlock;
	struct RcuHead {
		RcuHead *next;
		void (*fn)(RcuHead *);
	};

	static constexpr unsigned MAX_CPUS = 256;

	UserPlatform(unsigned nr_cpus, unsigned nr_nodes, bool deterministic) :
		nr_cpus_(nr_cpus),
		nr_nodes_(nr_nodes ? nr_nodes : 1),
		deterministic_(deterministic)
	{
		for (unsigned i = 0; i < MAX_CPUS; i++)
			online_[i] = i < nr_cpus;
	}

	/* CPUs */
	unsigned nr_cpu_ids() const { return nr_cpus_; }
	unsigned nr_present_cpus() const { return nr_cpus_; }
	unsigned raw_cpu() const
	{
		if (deterministic_)
			return __atomic_load_n(&current_cpu_, __ATOMIC_RELAXED);
		unsigned cpu = host_cpu() % nr_cpus_;
		for (unsigned i = 0; i < nr_cpus_; i++, cpu = (cpu + 1) % nr_cpus_)
			if (__atomic_load_n(&online_[cpu], __ATOMIC_RELAXED))
				return cpu;
		return 0;
	}
	int cpu_to_node(unsigned cpu) const { return int(u64(cpu) * nr_nodes_ / nr_cpus_); }
	bool cpu_online(unsigned cpu) const
	{
		return cpu < nr_cpus_ && __atomic_load_n(&online_[cpu], __ATOMIC_RELAXED);
	}
	void set_online(unsigned cpu, bool on)
	{
		__atomic_store_n(&online_[cpu], on, __ATOMIC_RELAXED);
	}
	void set_current_cpu(unsigned cpu)
	{
		__atomic_store_n(&current_cpu_, cpu, __ATOMIC_RELAXED);
	}
	bool deterministic() const { return deterministic_; }
	void preempt_disable() {}
	void preempt_enable() {}

	/* Per-CPU storage: an array of one T per CPU. */
	template <class T> T *percpu_alloc()
	{
		usize bytes = (sizeof(T) * nr_cpus_ + 63) & ~usize(63);
		void *p = aligned_alloc(64, bytes);
		if (p)
			memset(p, 0, bytes);
		return static_cast<T *>(p);
	}
	template <class T> void percpu_free(T *pcp) { free(pcp); }
	template <class T> T *per_cpu_ptr(T *pcp, unsigned cpu) const { return pcp + cpu; }
	template <class T> T *raw_cpu_ptr(T *pcp) const { return pcp + raw_cpu(); }
	template <class T> bool this_cpu_cas2(T *pcp, Pair old, Pair nw)
	{
		return cas2(reinterpret_cast<Pair *>(pcp + raw_cpu()), old, nw);
	}

	/* Shared state accessors */
	template <class T> static T load(const T *p)
	{
		return __atomic_load_n(p, __ATOMIC_ACQUIRE);
	}
	template <class T> static T peek(const T *p)
	{
		return __atomic_load_n(p, __ATOMIC_RELAXED);
	}
	template <class T> static void store(T *p, T v)
	{
		__atomic_store_n(p, v, __ATOMIC_RELEASE);
	}
	static bool cas2(Pair *p, Pair old, Pair nw)
	{
		unsigned __int128 o, n;
		memcpy(&o, &old, 16);
		memcpy(&n, &nw, 16);
		return __atomic_compare_exchange_n(reinterpret_cast<unsigned __int128 *>(p), &o, n,
						   false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
	}
	static bool cas_u64(u64 *p, u64 old, u64 nw)
	{
		return __atomic_compare_exchange_n(p, &old, nw, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_RELAXED);
	}
	static u64 atomic_add(u64 *p, s64 d)
	{
		return __atomic_add_fetch(p, u64(d), __ATOMIC_RELAXED);
	}
	static void stat_inc(u64 *p) { __atomic_fetch_add(p, 1, __ATOMIC_RELAXED); }
	static void stat_add(u64 *p, u64 n) { __atomic_fetch_add(p, n, __ATOMIC_RELAXED); }
	static void barrier() { __asm__ __volatile__("" ::: "memory"); }
	static void cpu_relax() { __builtin_ia32_pause(); }

	/*
	 * Free pointers live inside free objects, which are poisoned for
	 * AddressSanitizer: the allocator's own accesses are not instrumented.
	 * The fast path's speculative read races by design with a new owner's
	 * writes (the CAS that follows throws the value away); like the
	 * kernel's data_race() it is hidden from ThreadSanitizer, and only it.
	 */
	__attribute__((no_sanitize("address"))) static void *read_fp(void *const *slot)
	{
		return __atomic_load_n(slot, __ATOMIC_RELAXED);
	}
	__attribute__((no_sanitize("address", "thread"))) static void *
	read_fp_racy(void *const *slot)
	{
		return *const_cast<void *const volatile *>(slot);
	}
	__attribute__((no_sanitize("address"))) static void write_fp(void **slot, void *v)
	{
		__atomic_store_n(slot, v, __ATOMIC_RELAXED);
	}

	/* Locks */
	static void spin_lock_init(Spinlock &l, LockClass = LockClass::NodeList) { l.v = 0; }
	static unsigned long spin_lock_irqsave(Spinlock &l)
	{
		while (__atomic_exchange_n(&l.v, 1, __ATOMIC_ACQUIRE))
			while (__atomic_load_n(&l.v, __ATOMIC_RELAXED))
				cpu_relax();
		return 0;
	}
	static void spin_unlock_irqrestore(Spinlock &l, unsigned long)
	{
		__atomic_store_n(&l.v, 0, __ATOMIC_RELEASE);
	}
	static bool spin_is_locked(Spinlock &l)
	{
		return __atomic_load_n(&l.v, __ATOMIC_RELAXED) != 0;
	}
	static void slot_lock_init(SlotLock &l) { spin_lock_init(l); }
	static unsigned long slot_lock(SlotLock &l) { return spin_lock_irqsave(l); }
	static void slot_unlock(SlotLock &l, unsigned long f) { spin_unlock_irqrestore(l, f); }
	static bool slot_is_locked(SlotLock &l) { return spin_is_locked(l); }
	/* The sheaves' lock: a spinlock too, since threads share the virtual CPUs. */
	static void local_lock_init(LocalLock &l) { spin_lock_init(l); }
	static bool local_trylock(LocalLock &l, unsigned long *flags)
	{
		*flags = 0;
		return !__atomic_exchange_n(&l.v, 1, __ATOMIC_ACQUIRE);
	}
	static unsigned long local_lock(LocalLock &l) { return spin_lock_irqsave(l); }
	static void local_unlock(LocalLock &l, unsigned long f) { spin_unlock_irqrestore(l, f); }

	/*
	 * RCU, deterministic: callbacks queue in order; a grace period ends, and
	 * every callback queued before it runs, at rcu_barrier() and
	 * synchronize_rcu(), and whenever RCU_BATCH callbacks wait (then the
	 * ones queued before the newest run). Nobody in user space reads under
	 * RCU, so any of these points is a valid end of a grace period.
	 */
	static constexpr unsigned RCU_BATCH = 64;
	void call_rcu(RcuHead *head, void (*fn)(RcuHead *))
	{
		head->fn = fn;
		head->next = nullptr;
		spin_lock_irqsave(rcu_lock_);
		*rcu_tail_ = head;
		rcu_tail_ = &head->next;
		bool run = ++rcu_pending_ > RCU_BATCH;
		spin_unlock_irqrestore(rcu_lock_, 0);
		if (run)
			rcu_run(head);
	}
	void rcu_barrier() { rcu_run(nullptr); }
	void synchronize_rcu() { rcu_run(nullptr); }
	u64 rcu_grace_periods() const { return __atomic_load_n(&rcu_gps_, __ATOMIC_RELAXED); }

	/* Object memory */
	static void poison_free(void *p, usize n)
	{
#ifdef KSLUB_ASAN
		ASAN_POISON_MEMORY_REGION(p, n);
#else
		(void)p, (void)n;
#endif
	}
	static void unpoison(void *p, usize n)
	{
#ifdef KSLUB_ASAN
		ASAN_UNPOISON_MEMORY_REGION(p, n);
#else
		(void)p, (void)n;
#endif
	}

	/* No tracepoints in user space: the tracing code compiles away. */
	static constexpr bool tracing()
	{
		return false;
	}
	static void trace(const TraceEvent &) {}

	/* Misc */
	u64 random()
	{
		return mix64(__atomic_add_fetch(&rng_, 0x9e3779b97f4a7c15ull, __ATOMIC_RELAXED));
	}
	/* splitmix64's output function: a counter in, well-spread bits out. */
	static u64 mix64(u64 z)
	{
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		return z ^ (z >> 31);
	}
	void seed(u64 s)
	{
		rng_ = s;
	}
	void set_reporter(ReportFn fn, void *arg)
	{
		report_fn_ = fn;
		report_arg_ = arg;
	}
	void report(const Report &r)
	{
		__atomic_add_fetch(&reports_, 1, __ATOMIC_RELAXED);
		if (report_fn_)
			report_fn_(report_arg_, r);
		else
			print_report(stderr, r);
	}
	static void print_report(FILE *f, const Report &r)
	{
		fprintf(f, "kslub: %s: %s", report_kind_name(r.kind), r.what ? r.what : "");
		if (r.cache)
			fprintf(f, " (cache %s)", r.cache);
		if (r.ptr)
			fprintf(f, " at %p", r.ptr);
		if (r.value)
			fprintf(f, " [%llu]", (unsigned long long)r.value);
		fputc('\n', f);
	}
	u64 reports() const
	{
		return __atomic_load_n(&reports_, __ATOMIC_RELAXED);
	}
	[[noreturn]] static void assert_fail(const char *cond, const char *file, int line)
	{
		fprintf(stderr, "kslub: assertion failed: %s at %s:%d\n", cond, file, line);
		abort();
	}
	/*
	 * Threads cannot be sent to a CPU: fn runs here, and the slot lock gives
	 * it the guarantees of a slow path on that CPU. In deterministic mode the
	 * current CPU becomes `cpu` meanwhile, so that what fn counts lands in that
	 * CPU's statistics, as the kernel's flush_all work does.
	 */
	template <class F> void run_on_cpu(unsigned cpu, F &&fn)
	{
		if (!deterministic_)
			return fn();
		unsigned saved = current_cpu_;
		set_current_cpu(cpu);
		fn();
		set_current_cpu(saved);
	}

	static unsigned host_cpu();

private:
	/* End a grace period: run every queued callback, up to `stop` (exclusive) if given. */
	void rcu_run(RcuHead *stop)
	{
		for (;;) {
			spin_lock_irqsave(rcu_lock_);
			RcuHead *head = rcu_head_;
			if (!head || head == stop) {
				spin_unlock_irqrestore(rcu_lock_, 0);
				return;
			}
			rcu_head_ = head->next;
			if (!rcu_head_)
				rcu_tail_ = &rcu_head_;
			rcu_pending_--;
			__atomic_add_fetch(&rcu_gps_, 1, __ATOMIC_RELAXED);
			spin_unlock_irqrestore(rcu_lock_, 0);
			head->fn(head);
		}
	}

	Spinlock rcu_lock_ = {0};
	RcuHead *rcu_head_ = nullptr;
	RcuHead **rcu_tail_ = &rcu_head_;
	unsigned rcu_pending_ = 0;
	u64 rcu_gps_ = 0;
	unsigned nr_cpus_;
	unsigned nr_nodes_;
	bool deterministic_;
	unsigned current_cpu_ = 0;
	bool online_[MAX_CPUS];
	u64 rng_ = 0x6b736c7562ull;
	u64 reports_ = 0;
	ReportFn report_fn_ = nullptr;
	void *report_arg_ = nullptr;
};

} // namespace kslub

#endif
