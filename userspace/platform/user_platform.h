// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user-space platform: real threads on a process's CPUs.
 *
 * CPUs: an instance declares nr_cpus virtual CPUs. Three ways to map a
 * thread onto them (CpuMode):
 *   Deterministic  the caller names the current CPU (kslub_set_cpu).
 *   Host           at least as many declared CPUs as the machine's possible
 *                  CPUs: a thread's CPU is its host CPU, from rseq's cpu_id
 *                  (glibc registers rseq; the field lies at the thread pointer
 *                  + __rseq_offset) or sched_getcpu(). Threads on different
 *                  CPUs never share a slot.
 *   Threads        fewer declared CPUs than the machine has: each thread gets
 *                  a slot of its own, round robin in the order threads first
 *                  allocate, so T threads on T declared CPUs never share one
 *                  and more threads share evenly, wherever they run.
 * A CPU taken offline (set_online) sends its threads to the next online one.
 *
 * Commits. In Host mode with rseq (and membarrier's expedited rseq fence)
 * available the TID fast paths are restartable sequences (seq_alloc,
 * seq_free below): read the CPU, the slot's tid, freelist and slab, check
 * that the tid is still the one read and commit with plain stores of the new
 * tid and then the new freelist (userspace/lib/cpu.cpp); the kernel restarts
 * the sequence if the thread is preempted, migrated or signalled before the
 * last store. Otherwise
 * (KSLUB_NO_RSEQ, KSLUB_RSEQ=0 in the environment, valgrind, deterministic
 * or Threads mode) the per-CPU CAS is a locked cmpxchg16b on the slot the
 * tid was read from: valid from any CPU, since the tid names the CPU and
 * must still match. Either way slow paths take the slot's spinlock and follow
 * the slot protocol of base/platform.h; slot_unpublish() is what makes their
 * locked CASes safe against a sequence's commit in flight: it clears c->slab
 * in a sequence on the slot's CPU, or, from another CPU, clears it and then
 * fences that CPU with membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ),
 * which restarts any sequence running there; sequences that start later see
 * no slab and take the slow path.
 *
 * Counters: stat_inc is one unlocked add instruction, as the kernel's
 * this_cpu_inc. Exact single-threaded and in deterministic mode; with threads
 * an increment can be lost when two threads on different CPUs add to one
 * slot's counter at the same moment (threads sharing a slot in Threads mode,
 * or a thread migrated between its commit and the count): counts are then a
 * lower bound, short by a few in ten thousand in the stress tests.
 */
#ifndef KSLUB_USERSPACE_PLATFORM_H
#define KSLUB_USERSPACE_PLATFORM_H

#include "base/base.h"

#include <sched.h>
#include <stddef.h>
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
#if defined(__SANITIZE_THREAD__)
#define KSLUB_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define KSLUB_TSAN 1
#endif
#endif
#ifdef KSLUB_TSAN
#include <sanitizer/tsan_interface.h>
#endif

#if defined(__x86_64__) && __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#ifdef RSEQ_SIG
#define KSLUB_HAVE_RSEQ 1
#endif
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
	static constexpr usize PERCPU_ALIGN = 128;
	enum class CpuMode : u8 { Deterministic, Host, Threads };

	/* sequences: run the fast paths as restartable sequences where the machine can. */
	UserPlatform(unsigned nr_cpus, unsigned nr_nodes, bool deterministic,
		     bool sequences = false) :
		nr_cpus_(nr_cpus),
		nr_nodes_(nr_nodes ? nr_nodes : 1),
		mode_(deterministic		      ? CpuMode::Deterministic :
		      nr_cpus >= host_possible_cpus() ? CpuMode::Host :
							CpuMode::Threads)
	{
		for (unsigned i = 0; i < MAX_CPUS; i++)
			online_[i] = i < nr_cpus;
		seq_ = sequences && mode_ == CpuMode::Host && seq_setup();
	}

	/* CPUs */
	unsigned nr_cpu_ids() const { return nr_cpus_; }
	unsigned nr_present_cpus() const { return nr_cpus_; }
	unsigned raw_cpu() const
	{
		unsigned cpu;
		if (mode_ == CpuMode::Deterministic)
			return __atomic_load_n(&current_cpu_, __ATOMIC_RELAXED);
		if (__builtin_expect(mode_ == CpuMode::Host, 1))
			cpu = host_cpu();
		else
			cpu = thread_slot();
		if (__builtin_expect(
			    cpu < nr_cpus_ && __atomic_load_n(&online_[cpu], __ATOMIC_RELAXED), 1))
			return cpu;
		return next_online(cpu % nr_cpus_);
	}
	/* The fast paths run as restartable sequences (fixed at construction). */
	bool sequences() const { return seq_; }
	/* The machine's possible CPUs (/sys/devices/system/cpu/possible), at least 1. */
	static unsigned host_possible_cpus();
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
	bool deterministic() const { return mode_ == CpuMode::Deterministic; }
	void preempt_disable() {}
	void preempt_enable() {}

	/*
	 * Per-CPU storage: one T per CPU, each in cache lines of its own (a
	 * stride of whole 128-byte pairs of lines, as the adjacent-line
	 * prefetcher fetches them), as the kernel's per-CPU areas are apart:
	 * two CPUs' slots never share a line.
	 */
	template <class T> static constexpr usize percpu_stride()
	{
		return (sizeof(T) + PERCPU_ALIGN - 1) & ~(PERCPU_ALIGN - 1);
	}
	template <class T> T *percpu_alloc()
	{
		usize bytes = percpu_stride<T>() * nr_cpus_;
		void *p = aligned_alloc(PERCPU_ALIGN, bytes);
		if (p)
			memset(p, 0, bytes);
		return static_cast<T *>(p);
	}
	template <class T> void percpu_free(T *pcp) { free(pcp); }
	template <class T> T *per_cpu_ptr(T *pcp, unsigned cpu) const
	{
		return reinterpret_cast<T *>(reinterpret_cast<char *>(pcp) +
					     cpu * percpu_stride<T>());
	}
	template <class T> T *raw_cpu_ptr(T *pcp) const { return per_cpu_ptr(pcp, raw_cpu()); }
	template <class T> bool this_cpu_cas2(T *, T *seen, Pair old, Pair nw)
	{
		return cas2(reinterpret_cast<Pair *>(seen), old, nw);
	}
	template <class T> void slot_unpublish(T **slab_field, unsigned cpu)
	{
		if (!seq_)
			return store(slab_field, static_cast<T *>(nullptr));
		if (seq_store_null_on(reinterpret_cast<void **>(slab_field), cpu))
			return;
		store(slab_field, static_cast<T *>(nullptr));
		fence_cpu(cpu);
	}

#ifdef KSLUB_HAVE_RSEQ
	static constexpr bool PERCPU_SEQUENCES = true;
	/* The fast paths as restartable sequences: base/platform.h, and the top of this file. */
	template <class Cpu, bool HARDENED>
	void *seq_alloc(Cpu *pcp, u32 fp_offset, u64 key, u64 step, Cpu **slot)
	{
		static_assert(offsetof(Cpu, freelist) == 0 && offsetof(Cpu, tid) == 8 &&
				      offsetof(Cpu, slab) == 16,
			      "the sequences' view of kmem_cache_cpu");
		void *c;
		void *obj = HARDENED ? seq_pop_hardened(pcp, percpu_stride<Cpu>(), fp_offset, key,
							step, &c) :
				       seq_pop(pcp, percpu_stride<Cpu>(), fp_offset, step, &c);
		if (obj) {
			*slot = static_cast<Cpu *>(c);
			tsan_acquire(c);
		}
		return obj;
	}
	template <class Cpu, bool HARDENED>
	int seq_free(Cpu *pcp, const void *slab, void *head, void *tail, u32 fp_offset, u64 key,
		     u64 step, Cpu **slot, void **first)
	{
		void *c;
#ifdef KSLUB_TSAN
		tsan_release(per_cpu_ptr(pcp, host_cpu() < nr_cpus_ ? host_cpu() : 0));
#endif
		int r = HARDENED ? seq_push_hardened(pcp, percpu_stride<Cpu>(), slab, head, tail,
						     fp_offset, key, step, &c) :
				   seq_push(pcp, percpu_stride<Cpu>(), slab, head, tail, fp_offset,
					    step, &c);
		if (r == SEQ_DONE) {
			*slot = static_cast<Cpu *>(c);
			tsan_release(c);
		} else if (r == SEQ_DOUBLE_FREE) {
			/* Which end of the chain it was, as far as a second look can tell. */
			*first = load(&raw_cpu_ptr(pcp)->freelist) == tail ? tail : head;
		}
		return r;
	}
	/* The sequences themselves (userspace/lib/cpu.cpp): *slot is where they committed. */
	void *seq_pop(void *pcp, usize stride, uptr off, u64 step, void **slot) const;
	void *seq_pop_hardened(void *pcp, usize stride, uptr off, u64 key, u64 step,
			       void **slot) const;
	int seq_push(void *pcp, usize stride, const void *slab, void *head, void *tail, uptr off,
		     u64 step, void **slot) const;
	int seq_push_hardened(void *pcp, usize stride, const void *slab, void *head, void *tail,
			      uptr off, u64 key, u64 step, void **slot) const;
	/* Store nullptr at f in a sequence on `cpu`; false when not running there. */
	static bool seq_store_null_on(void **f, unsigned cpu);
#else
	static constexpr bool PERCPU_SEQUENCES = false;
	bool seq_store_null_on(void **, unsigned)
	{
		return false;
	}
#endif

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
	/*
	 * this_cpu_inc / this_cpu_add: one unlocked instruction, so a thread
	 * preempted around it loses nothing (see the top of this file).
	 */
	static void stat_inc(u64 *p)
	{
		stat_add(p, 1);
	}
	static void stat_add(u64 *p, u64 n)
	{
#ifdef __x86_64__
		asm volatile("addq %1, %0" : "+m"(*p) : "er"(n));
#else
		__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
#endif
	}
	static void barrier()
	{
		__asm__ __volatile__("" ::: "memory");
	}
	static void cpu_relax()
	{
		__builtin_ia32_pause();
	}

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
	static void spin_lock_init(Spinlock &l, LockClass = LockClass::NodeList)
	{
		l.v = 0;
	}
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
	static void slot_lock_init(SlotLock &l)
	{
		spin_lock_init(l);
	}
	static unsigned long slot_lock(SlotLock &l)
	{
		return spin_lock_irqsave(l);
	}
	static void slot_unlock(SlotLock &l, unsigned long f)
	{
		spin_unlock_irqrestore(l, f);
	}
	static bool slot_is_locked(SlotLock &l)
	{
		return spin_is_locked(l);
	}
	/* The sheaves' lock: a spinlock too, since threads share the virtual CPUs. */
	static void local_lock_init(LocalLock &l)
	{
		spin_lock_init(l);
	}
	static bool local_trylock(LocalLock &l, unsigned long *flags)
	{
		*flags = 0;
		return !__atomic_exchange_n(&l.v, 1, __ATOMIC_ACQUIRE);
	}
	static unsigned long local_lock(LocalLock &l)
	{
		return spin_lock_irqsave(l);
	}
	static void local_unlock(LocalLock &l, unsigned long f)
	{
		spin_unlock_irqrestore(l, f);
	}

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
	void rcu_barrier()
	{
		rcu_run(nullptr);
	}
	void synchronize_rcu()
	{
		rcu_run(nullptr);
	}
	u64 rcu_grace_periods() const
	{
		return __atomic_load_n(&rcu_gps_, __ATOMIC_RELAXED);
	}

	/* ThreadSanitizer cannot see the sequences' commits: say what they synchronise. */
	static void tsan_acquire(void *addr)
	{
#ifdef KSLUB_TSAN
		__tsan_acquire(addr);
#else
		(void)addr;
#endif
	}
	static void tsan_release(void *addr)
	{
#ifdef KSLUB_TSAN
		__tsan_release(addr);
#else
		(void)addr;
#endif
	}

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
		if (!deterministic())
			return fn();
		unsigned saved = current_cpu_;
		set_current_cpu(cpu);
		fn();
		set_current_cpu(saved);
	}

	/* The host CPU: rseq's cpu_id where glibc registered rseq, else sched_getcpu(). */
	static unsigned host_cpu()
	{
#ifdef KSLUB_HAVE_RSEQ
		if (__builtin_expect(__rseq_size > 0, 1)) {
			unsigned cpu;
			asm volatile("movl %%fs:4(%1), %0" : "=r"(cpu) : "r"(__rseq_offset));
			return cpu;
		}
#endif
		return host_cpu_slow();
	}
	static unsigned host_cpu_slow();

private:
	static unsigned thread_slot();
	unsigned next_online(unsigned cpu) const
	{
		for (unsigned i = 0; i < nr_cpus_; i++, cpu = (cpu + 1) % nr_cpus_)
			if (__atomic_load_n(&online_[cpu], __ATOMIC_RELAXED))
				return cpu;
		return 0;
	}
	bool seq_setup();
	void fence_cpu(unsigned cpu);

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
	CpuMode mode_;
	bool seq_ = false;
	unsigned current_cpu_ = 0;
	bool online_[MAX_CPUS];
	u64 rng_ = 0x6b736c7562ull;
	u64 reports_ = 0;
	ReportFn report_fn_ = nullptr;
	void *report_arg_ = nullptr;
};

} // namespace kslub

#endif
