// SPDX-License-Identifier: GPL-2.0-only
/*
 * The simulation platform: the core's platform contract (base/platform.h)
 * on the virtual CPUs of sim::Sim. Every accessor of shared state is a
 * scheduling point (Sim::point) before it acts; with the timeline on, each
 * also records what it read or wrote, named by the harness's labeller.
 *
 * Locks are real (a holder, spinning yields to the holder's CPU) and carry
 * the kernel's side effects: spin_lock_irqsave and the slot lock disable
 * interrupts and preemption for the holder, so no preemption, migration or
 * interrupt hits it while it holds one.
 */
#ifndef KSLUB_FUZZ_SIM_PLATFORM_H
#define KSLUB_FUZZ_SIM_PLATFORM_H

#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Poisoning for AddressSanitizer and the random mix are the user-space
 * platform's (UserPlatform::poison_free, unpoison, mix64): kslub_sim links
 * kslub_user_platform for this include (fuzz/CMakeLists.txt).
 */
#include "user_platform.h"
#include "sim/sim.h"

namespace kslub {

class SimPlatform {
public:
	struct Spinlock {
		sim::Lock l;
	};
	using SlotLock = Spinlock;
	using LocalLock = Spinlock;
	using RcuHead = UserPlatform::RcuHead;
	using ReportFn = void (*)(void *arg, const Report &r);
	/* For the timeline: the object a stored (possibly hardened) free pointer stands for. */
	using FpDecodeFn = void *(*)(const void *slot, void *stored);
	/* For the timeline: a short name for a value that may point into allocator memory, or false. */
	using ValueNameFn = bool (*)(u64 v, char *buf, usize cap);

	/* Per-CPU areas handed out, so that an address can be told to belong to a CPU's slot. */
	struct PercpuArea {
		uptr base;
		usize stride;
	};
	static constexpr unsigned MAX_PERCPU = 64;

	SimPlatform(sim::Sim &s, unsigned nr_nodes) : sim_(s), nr_nodes_(nr_nodes ? nr_nodes : 1) {}

	sim::Sim &sim() { return sim_; }

	/* CPUs */
	unsigned nr_cpu_ids() const { return sim_.nr_cpus(); }
	unsigned nr_present_cpus() const { return sim_.nr_cpus(); }
	unsigned raw_cpu() const { return sim_.raw_cpu(); }
	int cpu_to_node(unsigned cpu) const { return int(u64(cpu) * nr_nodes_ / sim_.nr_cpus()); }
	bool cpu_online(unsigned cpu) const { return sim_.cpu_online(cpu); }
	void preempt_disable() { sim_.preempt_disable(); }
	void preempt_enable() { sim_.preempt_enable(); }

	/* Per-CPU storage */
	template <class T> T *percpu_alloc()
	{
		usize bytes = (sizeof(T) * sim_.nr_cpus() + 63) & ~usize(63);
		void *p = aligned_alloc(64, bytes);
		if (!p)
			return nullptr;
		memset(p, 0, bytes);
		for (unsigned i = 0; i < MAX_PERCPU; i++) {
			if (!areas_[i].base) {
				areas_[i] = PercpuArea{uptr(p), sizeof(T)};
				break;
			}
		}
		return static_cast<T *>(p);
	}
	template <class T> void percpu_free(T *pcp)
	{
		for (unsigned i = 0; i < MAX_PERCPU; i++)
			if (areas_[i].base == uptr(pcp))
				areas_[i] = PercpuArea{0, 0};
		free(pcp);
	}
	template <class T> T *per_cpu_ptr(T *pcp, unsigned cpu) const { return pcp + cpu; }
	template <class T> T *raw_cpu_ptr(T *pcp) const { return pcp + raw_cpu(); }

	/* The CPU whose per-CPU object holds addr, or -1. */
	int percpu_owner(const void *addr, uptr *area_base = nullptr, usize *stride = nullptr) const
	{
		for (unsigned i = 0; i < MAX_PERCPU; i++) {
			const PercpuArea &a = areas_[i];
			if (a.base && uptr(addr) >= a.base &&
			    uptr(addr) < a.base + a.stride * sim_.nr_cpus()) {
				if (area_base)
					*area_base = a.base;
				if (stride)
					*stride = a.stride;
				return int((uptr(addr) - a.base) / a.stride);
			}
		}
		return -1;
	}

	static constexpr bool PERCPU_SEQUENCES = false;
	template <class T> bool this_cpu_cas2(T *pcp, T *, Pair old, Pair nw)
	{
		sim_.point();
		/* The CPU as it is now, after the point: the task may have migrated. */
		Pair *p = reinterpret_cast<Pair *>(pcp + raw_cpu());
		bool ok = p->ptr == old.ptr && p->word == old.word;
		if (ok)
			*p = nw;
		trace_cas("this_cpu_cas2", p, old, nw, ok);
		return ok;
	}
	/*
	 * Not part of the platform contract: an unlocked cmpxchg16b on an
	 * absolute address, atomic only with respect to the CPU executing it.
	 * Only the seeded bug fuzz/mutants/cas-on-start-cpu.patch calls it.
	 */
	bool cpu_local_cas2(Pair *p, Pair old, Pair nw)
	{
		int owner = percpu_owner(p);
		if (owner < 0 || unsigned(owner) == raw_cpu())
			return cas2(p, old, nw);
		/* An unlocked cmpxchg16b on another CPU's slot: not atomic with respect to that CPU. */
		sim_.point();
		Pair seen = *p;
		note("unlocked cas2 on cpu%d's slot reads {%s}", owner, fmt_pair(seen).s);
		sim_.point();
		bool ok = seen.ptr == old.ptr && seen.word == old.word;
		if (ok)
			*p = nw;
		trace_cas("unlocked cas2 (other CPU)", p, old, nw, ok);
		return ok;
	}

	/* Shared state accessors */
	/* The assertion walkers' read: no scheduling point, not in the timeline. */
	template <class T> T peek(const T *p) const { return *p; }
	template <class T> T load(const T *p)
	{
		sim_.point();
		T v = *p;
		if (sim_.tracing())
			trace_rw("load ", p, u64(v));
		return v;
	}
	template <class T> void store(T *p, T v)
	{
		sim_.point();
		*p = v;
		if (sim_.tracing())
			trace_rw("store", p, u64(v));
	}
	/* The tid protects an in-flight fast path here, as in the kernel: a plain store. */
	template <class T> void slot_unpublish(T **p, unsigned)
	{
		store(p, static_cast<T *>(nullptr));
	}
	bool cas2(Pair *p, Pair old, Pair nw)
	{
		sim_.point();
		bool ok = p->ptr == old.ptr && p->word == old.word;
		if (ok)
			*p = nw;
		trace_cas("cas2", p, old, nw, ok);
		return ok;
	}
	bool cas_u64(u64 *p, u64 old, u64 nw)
	{
		sim_.point();
		if (*p != old)
			return false;
		*p = nw;
		return true;
	}
	u64 atomic_add(u64 *p, s64 d)
	{
		sim_.point();
		*p += u64(d);
		return *p;
	}
	static void stat_inc(u64 *p) { ++*p; }
	static void stat_add(u64 *p, u64 n) { *p += n; }
	static void barrier() {}
	static void cpu_relax() {}

	__attribute__((no_sanitize("address"))) void *read_fp(void *const *slot)
	{
		sim_.point();
		void *v = *slot;
		if (sim_.tracing())
			trace_fp("read fp", slot, v);
		return v;
	}
	__attribute__((no_sanitize("address"))) void *read_fp_racy(void *const *slot)
	{
		sim_.point();
		void *v = *slot;
		if (sim_.tracing())
			trace_fp("read fp (racy)", slot, v);
		return v;
	}
	__attribute__((no_sanitize("address"))) void write_fp(void **slot, void *v)
	{
		sim_.point();
		*slot = v;
		if (sim_.tracing())
			trace_fp("write fp", slot, v);
	}

	/* Locks */
	static void spin_lock_init(Spinlock &l, LockClass = LockClass::NodeList)
	{
		l.l.owner = nullptr;
	}
	unsigned long spin_lock_irqsave(Spinlock &l)
	{
		bool was = sim_.irqs_save_disable();
		sim_.lock(l.l);
		return was;
	}
	void spin_unlock_irqrestore(Spinlock &l, unsigned long flags)
	{
		if (l.l.owner != sim_.current() && sim_.current())
			sim_.finding("lock", "unlock of a lock held by %s",
				     l.l.owner ? l.l.owner->name : "nobody");
		sim_.unlock(l.l);
		sim_.irqs_restore(flags != 0);
	}
	static bool spin_is_locked(Spinlock &l) { return l.l.owner != nullptr; }
	static void slot_lock_init(SlotLock &l) { spin_lock_init(l); }
	unsigned long slot_lock(SlotLock &l) { return spin_lock_irqsave(l); }
	void slot_unlock(SlotLock &l, unsigned long f) { spin_unlock_irqrestore(l, f); }
	static bool slot_is_locked(SlotLock &l) { return spin_is_locked(l); }
	/*
	 * The sheaves' lock as the kernel's local_trylock() without PREEMPT_RT:
	 * preemption off, interrupts on, so an interrupt on the CPU of the holder
	 * finds it held and its trylock fails.
	 */
	static void local_lock_init(LocalLock &l) { spin_lock_init(l); }
	bool local_trylock(LocalLock &l, unsigned long *flags)
	{
		*flags = 0;
		sim_.preempt_disable();
		if (sim_.try_lock(l.l))
			return true;
		sim_.preempt_enable();
		return false;
	}
	unsigned long local_lock(LocalLock &l)
	{
		sim_.preempt_disable();
		sim_.lock(l.l);
		return 0;
	}
	void local_unlock(LocalLock &l, unsigned long)
	{
		if (l.l.owner != sim_.current() && sim_.current())
			sim_.finding("lock", "unlock of a local lock held by %s",
				     l.l.owner ? l.l.owner->name : "nobody");
		sim_.unlock(l.l);
		sim_.preempt_enable();
	}

	/*
	 * RCU: callbacks queue in order and run when a grace period ends, at
	 * rcu_barrier() and synchronize_rcu() (the harness calls rcu_barrier
	 * between rounds, when no operation is in flight).
	 */
	void call_rcu(RcuHead *head, void (*fn)(RcuHead *))
	{
		head->fn = fn;
		head->next = nullptr;
		*rcu_tail_ = head;
		rcu_tail_ = &head->next;
	}
	void rcu_barrier()
	{
		grace_periods_++;
		while (RcuHead *head = rcu_head_) {
			rcu_head_ = head->next;
			if (!rcu_head_)
				rcu_tail_ = &rcu_head_;
			head->fn(head);
		}
	}
	void synchronize_rcu() { rcu_barrier(); }
	/* Grace periods ended so far (the harness's check that kfree_rcu waited for one). */
	u64 grace_periods() const { return grace_periods_; }

	/* Object memory: poisoned for AddressSanitizer, as in user space. */
	static void poison_free(void *p, usize n) { UserPlatform::poison_free(p, n); }
	static void unpoison(void *p, usize n) { UserPlatform::unpoison(p, n); }

	static constexpr bool tracing() { return false; }
	static void trace(const TraceEvent &) {}

	/* Misc */
	u64 random() { return UserPlatform::mix64(rng_ += 0x9e3779b97f4a7c15ull); }
	void seed(u64 s) { rng_ = s; }
	void set_reporter(ReportFn fn, void *arg)
	{
		report_fn_ = fn;
		report_arg_ = arg;
	}
	void report(const Report &r)
	{
		if (report_fn_)
			report_fn_(report_arg_, r);
	}
	[[noreturn]] void assert_fail(const char *cond, const char *file, int line)
	{
		sim_.finding("core assertion", "%s at %s:%d", cond, file, line);
	}
	template <class F> void run_on_cpu(unsigned, F &&fn) { fn(); }

	/* Timeline helpers */
	struct Text {
		char s[48];
	};
	Text fmt_value(u64 v) const
	{
		Text t;
		if (v && value_name_ && value_name_(v, t.s, sizeof(t.s)))
			return t;
		if (v && v >= pool_lo_ && v < pool_hi_)
			snprintf(t.s, sizeof(t.s), "obj+%#llx", (unsigned long long)(v - pool_lo_));
		else
			snprintf(t.s, sizeof(t.s), "%#llx", (unsigned long long)v);
		return t;
	}
	Text fmt_pair(Pair p) const
	{
		Text t;
		snprintf(t.s, sizeof(t.s), "%s, %#llx", fmt_value(u64(uptr(p.ptr))).s,
			 (unsigned long long)p.word);
		return t;
	}
	void set_fp_decoder(FpDecodeFn fn) { fp_decode_ = fn; }
	void set_value_namer(ValueNameFn fn) { value_name_ = fn; }
	void set_pool(uptr lo, uptr hi)
	{
		pool_lo_ = lo;
		pool_hi_ = hi;
	}
	template <class... A> void note(const char *fmt, A... a)
	{
		if (sim_.tracing())
			sim_.note(fmt, a...);
	}

private:
	void trace_rw(const char *what, const void *p, u64 v)
	{
		char where[64];
		sim_.label(p, where, sizeof(where));
		sim_.note("%s %s = %s", what, where, fmt_value(v).s);
	}
	void trace_fp(const char *what, const void *slot, void *stored)
	{
		void *ptr = fp_decode_ ? fp_decode_(slot, stored) : stored;
		char where[64];
		sim_.label(slot, where, sizeof(where));
		sim_.note("%s %s = %s", what, where, ptr ? fmt_value(u64(uptr(ptr))).s : "NULL");
	}
	void trace_cas(const char *what, const Pair *p, Pair old, Pair nw, bool ok)
	{
		if (!sim_.tracing())
			return;
		char where[64];
		sim_.label(p, where, sizeof(where));
		sim_.note("%s %s {%s} -> {%s}: %s", what, where, fmt_pair(old).s, fmt_pair(nw).s,
			  ok ? "ok" : "FAILED");
	}

	sim::Sim &sim_;
	RcuHead *rcu_head_ = nullptr;
	RcuHead **rcu_tail_ = &rcu_head_;
	u64 grace_periods_ = 0;
	unsigned nr_nodes_;
	PercpuArea areas_[MAX_PERCPU] = {};
	u64 rng_ = 1;
	uptr pool_lo_ = 0, pool_hi_ = 0;
	ReportFn report_fn_ = nullptr;
	void *report_arg_ = nullptr;
	FpDecodeFn fp_decode_ = nullptr;
	ValueNameFn value_name_ = nullptr;
};

} // namespace kslub

#endif
