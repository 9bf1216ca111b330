// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel platform: the core's contract (base/platform.h) on Linux 6.1,
 * 6.12 and 7.3, x86-64, with or without PREEMPT_RT. Kernel services come
 * from the C shim (shim.h); the hot primitives are inline assembly here so
 * that they inline into the fast paths:
 *
 *   raw_cpu, raw_cpu_ptr  %gs-relative reads of a per-CPU struct the shim
 *                         fills with each CPU's number and per-CPU offset;
 *   this_cpu_cas2         an unlocked cmpxchg16b on the %gs-relative address
 *                         of the per-CPU cookie: the instruction behind
 *                         this_cpu_cmpxchg_double (6.1) and
 *                         this_cpu_try_cmpxchg128 (6.5 and later). One
 *                         instruction, so atomic with respect to everything
 *                         else on this CPU, interrupts and preemption
 *                         included, and aimed at the CPU the task is on when
 *                         it executes;
 *   cas2                  lock cmpxchg16b (cmpxchg_double / try_cmpxchg128).
 *
 * The CPU-slab exclusion rule. The slot lock is spin_lock_irqsave on a
 * spinlock_t in the slot; the spinlock covers the core's steps that pick a
 * slot before locking it (put_cpu_partial, reading a slot from another CPU
 * in info()), where the task may have moved to another CPU in between.
 * The unlocked per-CPU cmpxchg16b of a fast path is atomic only with
 * respect to its own CPU, so every change of a slot's {freelist, tid} by a
 * slow path is made by a task on that CPU: slow paths keep the task on its
 * CPU (preempt_disable() here), flushes run on that CPU (run_on_cpu), and
 * a dead CPU's slots are touched only after it died.
 *
 *   Without PREEMPT_RT, slow paths run with preemption disabled and the
 *   slot lock disables interrupts, which gives what local_lock_irqsave
 *   gives the kernel's SLUB: no fast path or slow path runs on that CPU
 *   while a slow path holds its slot. Flushes run on the CPU by IPI.
 *
 *   On PREEMPT_RT, spinlock_t is a sleeping lock (an rt_mutex) that leaves
 *   interrupts and preemption on, so the slow paths, which take it, keep
 *   the task on its CPU with migrate_disable() instead (local_lock on RT
 *   does the same), and flushes run on the CPU in process context, a work
 *   item there (SLUB's flush_all() also uses per-CPU work). The slot lock
 *   then excludes only the other slow paths on that slot: another task on
 *   the CPU may run a fast path between two steps of a slow path. The
 *   core's protocol (base/platform.h) is built for that case, which user
 *   space has too (threads share a CPU's slot): c->slab and c->partial
 *   change only under the slot lock, {freelist, tid} only by CAS, each CAS
 *   advancing the tid, and a slow path clears c->slab before taking the
 *   freelist and loads the freelist before setting c->slab. A fast path
 *   that read the tid before a slow path's CAS fails its own CAS; one that
 *   read it after finds the slot empty or consistent. (The kernel's SLUB
 *   of 6.1 and 6.12 turns its lockless fast paths off on RT and takes the
 *   local lock for every operation instead, because its slow paths write
 *   c->freelist and c->tid with plain stores under that lock.)
 */
#ifndef KSLUB_MODULE_KERNEL_PLATFORM_H
#define KSLUB_MODULE_KERNEL_PLATFORM_H

#include "base/base.h"

#include "shim.h"

#ifndef KSLUB_LINUX_VERSION
#error "the module build passes KSLUB_LINUX_VERSION (major * 65536 + minor * 256)"
#endif
#define KSLUB_LINUX(maj, min) ((maj)*65536 + (min)*256)

namespace kslub {

static_assert(unsigned(TraceKind::CacheAlloc) == KSLUB_SHIM_TRACE_CACHE_ALLOC &&
		      unsigned(TraceKind::CacheFree) == KSLUB_SHIM_TRACE_CACHE_FREE &&
		      unsigned(TraceKind::Kmalloc) == KSLUB_SHIM_TRACE_KMALLOC &&
		      unsigned(TraceKind::Kfree) == KSLUB_SHIM_TRACE_KFREE,
	      "the shim's trace kinds are the core's");
static_assert(GFP_ZERO == KSLUB_SHIM_GFP_ZERO && GFP_THISNODE == KSLUB_SHIM_GFP_THISNODE,
	      "the shim's gfp bits are the core's");

class KernelPlatform {
public:
	using Spinlock = kslub_shim_spinlock;
	using SlotLock = kslub_shim_spinlock;
	/*
	 * The sheaves' lock: a spinlock_t taken with interrupts off (stronger than
	 * the kernel's local_trylock, which leaves them on), so here only another
	 * CPU working on this CPU's sheaves, or a task that moved after choosing
	 * them, makes a trylock fail. On PREEMPT_RT a sleeping lock, as SLUB's.
	 */
	using LocalLock = kslub_shim_spinlock;
	using RcuHead = kslub_shim_rcu_head;

	/* Called once the shim is up, before any instance uses the platform. */
	void init()
	{
		self_ = static_cast<const u8 *>(kslub_shim_cpu_self_cookie());
		offsets_ = kslub_shim_percpu_offsets();
		nr_cpu_ids_ = kslub_shim_nr_cpu_ids();
		nr_present_ = kslub_shim_nr_present_cpus();
	}

	static const char *cpu_cas_name()
	{
#if KSLUB_LINUX_VERSION >= KSLUB_LINUX(6, 5)
		return "this_cpu_try_cmpxchg128 (cmpxchg16b %gs:)";
#else
		return "this_cpu_cmpxchg_double (cmpxchg16b %gs:)";
#endif
	}

	/* CPUs */
	unsigned nr_cpu_ids() const
	{
		return nr_cpu_ids_;
	}
	unsigned nr_present_cpus() const
	{
		return nr_present_;
	}
	unsigned raw_cpu() const
	{
		unsigned cpu;
		asm volatile("movl %%gs:%c[off](%[self]), %[cpu]"
			     : [cpu] "=r"(cpu)
			     : [self] "r"(self_), [off] "i"(__builtin_offsetof(kslub_shim_cpu_self,
									       cpu)));
		return cpu;
	}
	static int cpu_to_node(unsigned cpu)
	{
		int n = kslub_shim_cpu_to_node(cpu);
		return n >= 0 && unsigned(n) < MAX_NODES ? n : 0;
	}
	static bool cpu_online(unsigned cpu)
	{
		return kslub_shim_cpu_online(cpu);
	}
	/* Keep the task on its CPU: preempt_disable(), or migrate_disable() on PREEMPT_RT. */
	static void preempt_disable()
	{
		kslub_shim_cpu_pin();
	}
	static void preempt_enable()
	{
		kslub_shim_cpu_unpin();
	}

	/* Per-CPU storage: __alloc_percpu cookies. */
	template <class T> T *percpu_alloc()
	{
		return static_cast<T *>(kslub_shim_percpu_alloc(sizeof(T), alignof(T)));
	}
	template <class T> void percpu_free(T *pcp)
	{
		kslub_shim_percpu_free(pcp);
	}
	template <class T> T *per_cpu_ptr(T *pcp, unsigned cpu) const
	{
		return reinterpret_cast<T *>(reinterpret_cast<uptr>(pcp) + offsets_[cpu]);
	}
	template <class T> T *raw_cpu_ptr(T *pcp) const
	{
		uptr off;
		asm volatile("movq %%gs:%c[off](%[self]), %[v]"
			     : [v] "=r"(off)
			     : [self] "r"(self_), [off] "i"(__builtin_offsetof(kslub_shim_cpu_self,
									       offset)));
		return reinterpret_cast<T *>(reinterpret_cast<uptr>(pcp) + off);
	}
	static constexpr bool PERCPU_SEQUENCES = false;
	template <class T> static bool this_cpu_cas2(T *pcp, T *, Pair old, Pair nw)
	{
		static_assert(alignof(T) >= 16, "the per-CPU double word must be 16-byte aligned");
		bool ok;
		u64 lo = reinterpret_cast<u64>(old.ptr), hi = old.word;
#if KSLUB_LINUX_VERSION >= KSLUB_LINUX(6, 5)
		/* this_cpu_try_cmpxchg128(): rdx:rax receive the current value on failure. */
#else
		/* this_cpu_cmpxchg_double(): the same instruction, success in ZF. */
#endif
		asm volatile("cmpxchg16b %%gs:%[mem]"
			     : [mem] "+m"(*reinterpret_cast<unsigned __int128 *>(pcp)), "+a"(lo),
			       "+d"(hi), "=@ccz"(ok)
			     : "b"(reinterpret_cast<u64>(nw.ptr)), "c"(nw.word)
			     : "memory");
		return ok;
	}

	/* Shared state accessors: READ_ONCE / WRITE_ONCE with compiler ordering. */
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
	/* The fast path's CAS runs on its own CPU and the tid rejects it: a plain store. */
	template <class T> static void slot_unpublish(T **p, unsigned)
	{
		store(p, static_cast<T *>(nullptr));
	}
	static bool cas2(Pair *p, Pair old, Pair nw)
	{
		bool ok;
		u64 lo = reinterpret_cast<u64>(old.ptr), hi = old.word;
		asm volatile("lock cmpxchg16b %[mem]"
			     : [mem] "+m"(*reinterpret_cast<unsigned __int128 *>(p)), "+a"(lo),
			       "+d"(hi), "=@ccz"(ok)
			     : "b"(reinterpret_cast<u64>(nw.ptr)), "c"(nw.word)
			     : "memory");
		return ok;
	}
	static bool cas_u64(u64 *p, u64 old, u64 nw)
	{
		return __atomic_compare_exchange_n(p, &old, nw, false, __ATOMIC_SEQ_CST,
						   __ATOMIC_RELAXED);
	}
	static u64 atomic_add(u64 *p, s64 d)
	{
		return __atomic_add_fetch(p, u64(d), __ATOMIC_SEQ_CST);
	}
	/* raw_cpu_inc(): one instruction, exact on its CPU, racy only after a migration. */
	static void stat_inc(u64 *p)
	{
		asm volatile("incq %0" : "+m"(*p));
	}
	/* raw_cpu_add(), as stat_inc. */
	static void stat_add(u64 *p, u64 n)
	{
		asm volatile("addq %1, %0" : "+m"(*p) : "er"(n));
	}
	static void barrier()
	{
		asm volatile("" ::: "memory");
	}
	static void cpu_relax()
	{
		asm volatile("pause" ::: "memory");
	}
	static void *read_fp(void *const *slot)
	{
		return *const_cast<void *const volatile *>(slot);
	}
	static void *read_fp_racy(void *const *slot)
	{
		return *const_cast<void *const volatile *>(slot);
	}
	static void write_fp(void **slot, void *v)
	{
		*const_cast<void *volatile *>(slot) = v;
	}

	/* Locks */
	static void spin_lock_init(Spinlock &l, LockClass c)
	{
		kslub_shim_spin_lock_init(&l, c == LockClass::CacheList ? KSLUB_SHIM_LOCK_CACHES :
					      c == LockClass::NodeList ? KSLUB_SHIM_LOCK_NODE_LIST :
					      c == LockClass::Barn     ? KSLUB_SHIM_LOCK_BARN :
									 KSLUB_SHIM_LOCK_BUDDY_ZONE);
	}
	static unsigned long spin_lock_irqsave(Spinlock &l)
	{
		return kslub_shim_spin_lock_irqsave(&l);
	}
	static void spin_unlock_irqrestore(Spinlock &l, unsigned long f)
	{
		kslub_shim_spin_unlock_irqrestore(&l, f);
	}
	static bool spin_is_locked(Spinlock &l)
	{
		return kslub_shim_spin_is_locked(&l);
	}
	static void slot_lock_init(SlotLock &l)
	{
		kslub_shim_spin_lock_init(&l, KSLUB_SHIM_LOCK_SLOT);
	}
	static unsigned long slot_lock(SlotLock &l)
	{
		return kslub_shim_spin_lock_irqsave(&l);
	}
	static void slot_unlock(SlotLock &l, unsigned long f)
	{
		kslub_shim_spin_unlock_irqrestore(&l, f);
	}
	static bool slot_is_locked(SlotLock &l)
	{
		return kslub_shim_spin_is_locked(&l);
	}
	static void local_lock_init(LocalLock &l)
	{
		kslub_shim_spin_lock_init(&l, KSLUB_SHIM_LOCK_SHEAVES);
	}
	static bool local_trylock(LocalLock &l, unsigned long *flags)
	{
		return kslub_shim_spin_trylock_irqsave(&l, flags) != 0;
	}
	static unsigned long local_lock(LocalLock &l)
	{
		return kslub_shim_spin_lock_irqsave(&l);
	}
	static void local_unlock(LocalLock &l, unsigned long f)
	{
		kslub_shim_spin_unlock_irqrestore(&l, f);
	}

	/* RCU: the kernel's (call_rcu, rcu_barrier, synchronize_rcu; the last two sleep). */
	static void call_rcu(RcuHead *head, void (*fn)(RcuHead *))
	{
		kslub_shim_call_rcu(head, fn);
	}
	static void rcu_barrier()
	{
		kslub_shim_rcu_barrier();
	}
	static void synchronize_rcu()
	{
		kslub_shim_synchronize_rcu();
	}

	/* Object memory: no shadow memory to keep here. */
	static void poison_free(void *, usize) {}
	static void unpoison(void *, usize) {}

	/* Misc */
	static u64 random()
	{
		return kslub_shim_random();
	}

	/* Tracepoints: one load and a branch while nobody listens. */
	static bool tracing()
	{
		return __atomic_load_n(&kslub_shim_tracing_on, __ATOMIC_RELAXED) != 0;
	}
	static void trace(const TraceEvent &e)
	{
		kslub_shim_trace(unsigned(e.kind), e.cache, e.ptr, e.call_site, e.bytes_req,
				 e.bytes_alloc, e.gfp, e.node);
	}
	void report(const Report &r)
	{
		__atomic_add_fetch(&reports_, 1, __ATOMIC_RELAXED);
		if (!quiet_)
			kslub_shim_report(report_kind_name(r.kind), r.what, r.cache, r.ptr,
					  r.value);
	}
	u64 reports() const
	{
		return __atomic_load_n(&reports_, __ATOMIC_RELAXED);
	}
	/* Count reports without logging them (the self-test's private instances misuse on purpose). */
	void set_quiet(bool q)
	{
		quiet_ = q;
	}
	/* Not [[noreturn]]: the kernel warns and carries on (and objtool wants no dead ends). */
	static void assert_fail(const char *cond, const char *file, int line)
	{
		kslub_shim_assert_fail(cond, file, line);
	}
	template <class F> void run_on_cpu(unsigned cpu, F &&fn)
	{
		auto *f = &fn;
		kslub_shim_run_on_cpu(
			cpu, [](void *arg) { (*static_cast<decltype(f)>(arg))(); }, f);
	}

private:
	const u8 *self_ = nullptr;
	const unsigned long *offsets_ = nullptr;
	unsigned nr_cpu_ids_ = 1;
	unsigned nr_present_ = 1;
	u64 reports_ = 0;
	bool quiet_ = false;
};

} // namespace kslub

#endif
