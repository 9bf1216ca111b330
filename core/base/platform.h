// SPDX-License-Identifier: GPL-2.0-only
/*
 * The platform contract: what a build (kernel module, user space, simulation)
 * must provide to the core. The core is a set of class templates taking the
 * platform type P as a parameter, holding a reference to one P instance
 * ("pal") for its state-carrying calls; every call below is an inline member
 * of P, so the hot primitives inline into the fast paths with no call across
 * the boundary. Exactly one place per build chooses the platform:
 * module/, userspace/platform/, fuzz/.
 *
 * Memory
 *   The core never asks anybody for memory after init(): the caller hands it
 *   reserved regions (TOP_BLOCK_SIZE aligned, a whole number of top blocks,
 *   each tagged with its node) and the buddy allocator carves its page
 *   descriptors from the first of them. The compiler may emit calls to
 *   memset, memcpy, memmove and memcmp; the platform links them.
 *
 * CPUs
 *   unsigned nr_cpu_ids()            possible CPUs; per-CPU data exists for each.
 *   unsigned nr_present_cpus()       what cache geometry is computed for.
 *   unsigned raw_cpu()               the CPU the caller runs on now; may be stale
 *                                    by the time it is used (raw_smp_processor_id).
 *   int cpu_to_node(unsigned cpu)    memory node of a CPU.
 *   bool cpu_online(unsigned cpu)
 *   void preempt_disable(), preempt_enable()
 *                                    the slow paths keep the task on its CPU
 *                                    (SLUB's slub_get_cpu_ptr/slub_put_cpu_ptr).
 *                                    Kernel: preempt_disable(); on PREEMPT_RT:
 *                                    migrate_disable(), so the task stays
 *                                    preemptible and other tasks, fast paths
 *                                    included, may run on the CPU meanwhile.
 *                                    User space: no-ops; simulation: a
 *                                    preemption count, as in the kernel
 *                                    without PREEMPT_RT.
 *
 * Per-CPU storage (one object of type T per possible CPU)
 *   T *percpu_alloc<T>()             zeroed; nullptr on failure.
 *   void percpu_free<T>(T *pcp)
 *   T *per_cpu_ptr<T>(T *pcp, unsigned cpu)
 *   T *raw_cpu_ptr<T>(T *pcp)        the current CPU's object (raw_cpu_ptr).
 *   bool this_cpu_cas2<T>(T *pcp, T *seen, Pair old, Pair nw)
 *                                    compare-and-exchange of the 16 bytes at the
 *                                    start of the object of the CPU the caller is
 *                                    on AT THE MOMENT OF THE CAS: atomic with
 *                                    respect to that CPU (kernel:
 *                                    this_cpu_cmpxchg_double / this_cpu_try_cmpxchg128;
 *                                    simulation: the virtual CPU the task is on at
 *                                    that step). seen is the object the caller read
 *                                    the tid from; user space CASes it with a locked
 *                                    cmpxchg16b, valid from any CPU because the
 *                                    tid, which names the CPU, must still match.
 *
 * The CPU-slab exclusion rule
 *   Fast paths take no lock: they read tid, then freelist and slab, and commit
 *   with this_cpu_cas2 on {freelist, tid}. Slow paths run under the slot lock
 *   (P::SlotLock, a member of every kmem_cache_cpu):
 *     unsigned long slot_lock(P::SlotLock &), void slot_unlock(P::SlotLock &, unsigned long)
 *   Kernel: a spinlock_t in the slot taken with spin_lock_irqsave, which
 *   gives what local_lock_irqsave gives SLUB (nothing else runs on that CPU
 *   meanwhile) and also covers the slow-path steps that pick the slot
 *   before locking it (see module/kernel_platform.h); on PREEMPT_RT: the
 *   same call, but spinlock_t is then a sleeping lock that leaves interrupts
 *   and preemption on, so it excludes only the other slow paths on the
 *   slot, and fast paths of other tasks on that CPU may run in between.
 *   User space: a spinlock, because a thread that read the CPU and was then
 *   migrated may still run a fast path against the slot. The core therefore
 *   follows one protocol that is safe under all of these:
 *     1. c->slab and c->partial are written only under the slot lock;
 *     2. {freelist, tid} is changed only by a 16-byte CAS, by fast and slow
 *        paths alike, and every change advances tid;
 *     3. a slow path empties the slot by clearing c->slab BEFORE the CAS that
 *        takes the freelist, and installs a slab by the CAS that loads the
 *        freelist BEFORE storing c->slab.
 *   A fast path that read the tid before a slow-path CAS fails its own CAS; one
 *   that read it after sees c->slab cleared (and takes the slow path) or sees
 *   the slab that matches the freelist. Step 3's clearing goes through
 *     void slot_unpublish(Page **slab_field, unsigned cpu)
 *   which stores nullptr there and returns only when no fast path on `cpu`
 *   that read the old value can still commit. Kernel and simulation: a plain
 *   store, since the tid does the rest; user space with restartable sequences
 *   (below): a fence, because those commit with plain stores. Work on another CPU's slot (flush,
 *   shrink, validate) goes through run_on_cpu(cpu, fn), which runs fn with the
 *   same guarantees as a slow path on that CPU (kernel: on that CPU, by IPI
 *   with interrupts off; on PREEMPT_RT: in process context, a work item on
 *   that CPU; an offline CPU's fn runs in the caller, nothing else using
 *   its slots; user space and simulation: directly, the slot lock does the
 *   rest). fn may take the slot, node list and buddy zone locks.
 *
 * Restartable per-CPU sequences (user space; rseq(2))
 *   static constexpr bool PERCPU_SEQUENCES: the platform may run the TID
 *   design's fast paths as restartable sequences. Where it does
 *   (bool sequences(), fixed for the instance's life), the whole fast path,
 *   from reading the CPU to the commit, is one sequence on the current CPU's
 *   slot that the kernel aborts and restarts on preemption, migration and
 *   signal delivery; the commit checks the same tid as the kernel's CAS and
 *   writes the same {freelist, tid}, but with no atomic instruction (a
 *   compare and plain stores, the last of them the commit), since nothing else
 *   on that CPU can run in between and other CPUs wait for slot_unpublish:
 *     void *seq_alloc<Cpu, HARDENED>(Cpu *pcp, u32 fp_offset, u64 key, u64 tid_step,
 *                                    Cpu **slot)
 *       pops the slot's first object, or returns nullptr for the slow path
 *       (empty freelist, no CPU slab, or a CPU the instance cannot run them on);
 *     int seq_free<Cpu, HARDENED>(Cpu *pcp, const Page *slab, void *head, void *tail,
 *                                 u32 fp_offset, u64 key, u64 tid_step, Cpu **slot,
 *                                 void **first)
 *       links head..tail in front of the slot's freelist if c->slab is slab:
 *       SEQ_DONE, SEQ_SLOW (another slab), or SEQ_DOUBLE_FREE (*first, the
 *       freelist's first object, is head or tail: refused, nothing changed).
 *   *slot is the slot the sequence committed to. HARDENED: free pointers are
 *   stored as ptr ^ key ^ bswap(address of the pointer). What a sequence
 *   leaves goes to the slow path, never to the locked fast path, which could
 *   race with a sequence's commit. Slow paths keep the slot lock and the locked
 *   CASes; what makes them safe against a sequence's commit in flight on
 *   another CPU is slot_unpublish's fence.
 *
 * Shared allocator state
 *   Every read, write and CAS of per-CPU structures, slab freelists and
 *   counters and node lists goes through these (READ_ONCE, WRITE_ONCE and
 *   cmpxchg analogues). They are free in the kernel and user space; in the
 *   simulation each is a point where other virtual CPUs may run and the task
 *   may be preempted, interrupted or migrated where the kernel allows it.
 *     T load<T>(const T *p), void store<T>(T *p, T v)
 *     T peek<T>(const T *p)                   an atomic read for the assertion walkers
 *                                             (tier 3) only: never a scheduling point in
 *                                             the simulation, so that checking does not
 *                                             change the interleavings explored
 *     bool cas2(Pair *p, Pair old, Pair nw)   locked 16-byte CAS (cmpxchg_double)
 *     u64 atomic_add(u64 *p, s64 delta)       returns the new value
 *     bool cas_u64(u64 *p, u64 old, u64 nw)
 *     void barrier()                          compiler barrier between the tid read and the rest
 *     void stat_inc(u64 *counter)             per-CPU event counter, may be racy
 *     void stat_add(u64 *counter, u64 n)      the same, n at once (sheaf refills and flushes)
 *     void *read_fp(void *const *slot)        a free pointer inside a free object
 *     void *read_fp_racy(void *const *slot)   the fast path's speculative read of
 *                                             an object that may already be in use
 *                                             by someone else (the kernel's
 *                                             get_freepointer_safe); the CAS validates it
 *     void write_fp(void **slot, void *v)
 *
 * Locks
 *   P::Spinlock: spin_lock_init(&, LockClass), unsigned long spin_lock_irqsave(&),
 *   spin_unlock_irqrestore(&, unsigned long), bool spin_is_locked(&) (for asserts).
 *   The class says which of the core's locks it is, so that a lock validator
 *   (the kernel's lockdep) tells their nesting from a recursion.
 *   P::SlotLock: slot_lock_init(&), slot_lock, slot_unlock, slot_is_locked.
 *   Lock order: cache list lock -> node list_lock -> slot lock -> buddy zone lock
 *   (the kernel's slab_mutex -> list_lock -> cpu_slab->lock).
 *
 * The sheaves' lock (slub/sheaf.h)
 *   P::LocalLock, one in every CPU's sheaves: local_lock_init(&),
 *   bool local_trylock(&, unsigned long *flags), unsigned long local_lock(&),
 *   local_unlock(&, unsigned long). It excludes every other holder. The
 *   allocation and free paths only try it and go to the slab layer when it
 *   is held; flushes, prefill and the walkers wait for it. Kernel: a
 *   spinlock_t with interrupts off (on PREEMPT_RT a sleeping lock), so a
 *   trylock fails only against another CPU; user space: a spinlock;
 *   simulation: the kernel's local_trylock without PREEMPT_RT (preemption
 *   off, interrupts on), so an interrupt on the holder's CPU finds it held.
 *   Lock order: it comes before a node's barn lock (LockClass::Barn) and is
 *   never held across the slab layer.
 *
 * Grace periods (kfree_rcu's rcu_free sheaves)
 *   P::RcuHead, call_rcu(RcuHead *, void (*)(RcuHead *)), rcu_barrier()
 *   (every callback queued before it has run), synchronize_rcu() (a grace
 *   period has passed; may sleep). Kernel: the kernel's RCU; user space and
 *   simulation: a queue run in order at rcu_barrier/synchronize_rcu (user
 *   space also when 64 callbacks wait), nobody reading under RCU there.
 *
 * Object memory
 *   void poison_free(void *p, usize n), void unpoison(void *p, usize n):
 *   mark memory the user must not touch (AddressSanitizer in user space).
 *
 * Tracing (the kmem:* tracepoints' events, each with its cache's name)
 *   bool tracing()                    true while anybody listens; the entry points
 *                                     (cache_alloc, cache_free, kmalloc, kfree) test
 *                                     it and build an event only then. A platform
 *                                     without tracepoints returns a constant false,
 *                                     and the code compiles away.
 *   void trace(const TraceEvent &)    one event.
 *
 * Misc
 *   u64 random()                      freelist hardening and shuffling.
 *   void report(const Report &)       a misuse or corruption found (never a bug).
 *   void assert_fail(const char *cond, const char *file, int line)   a kslub bug.
 *   void cpu_relax()                  inside spin and retry loops.
 *   template <class F> void run_on_cpu(unsigned cpu, F &&fn)
 */
#ifndef KSLUB_BASE_PLATFORM_H
#define KSLUB_BASE_PLATFORM_H

#include "base/types.h"

namespace kslub {

/* The double word every 16-byte CAS works on: {freelist, tid} or {freelist, counters}. */
struct alignas(16) Pair {
	void *ptr;
	u64 word;
};

/* What a restartable free sequence did (PERCPU_SEQUENCES). */
enum SeqResult : int { SEQ_DONE = 0, SEQ_SLOW = 1, SEQ_DOUBLE_FREE = 2 };

enum class ReportKind : u8 {
	InvalidFree,	 /* pointer not from this allocator, or not an object start */
	DoubleFree,	 /* object already free */
	WrongCache,	 /* object freed to a cache that does not own it */
	CorruptFreelist, /* a free pointer points outside its slab */
	WrongCount,	 /* a slab's inuse disagrees with its freelist */
	ListCorrupt,	 /* a node or CPU list disagrees with the slabs on it */
	BuddyCorrupt,	 /* page allocator bookkeeping disagrees with the pages */
	LiveObjects,	 /* destroy of a cache with objects still allocated */
	OutOfMemory,	 /* the reserved pool cannot satisfy a request */
	BadArgument,	 /* malformed request (size, name, node, flags) */
};

inline const char *report_kind_name(ReportKind k)
{
	switch (k) {
	case ReportKind::InvalidFree: return "invalid free";
	case ReportKind::DoubleFree: return "double free";
	case ReportKind::WrongCache: return "wrong cache";
	case ReportKind::CorruptFreelist: return "freelist corrupt";
	case ReportKind::WrongCount: return "wrong object count";
	case ReportKind::ListCorrupt: return "list corrupt";
	case ReportKind::BuddyCorrupt: return "page allocator corrupt";
	case ReportKind::LiveObjects: return "objects remaining";
	case ReportKind::OutOfMemory: return "out of memory";
	case ReportKind::BadArgument: return "bad argument";
	}
	return "?";
}

/* The core's spinlocks, by what they protect (the slot lock is its own kind). */
enum class LockClass : u8 {
	CacheList, /* the list of caches (slab_mutex) */
	NodeList,  /* a kmem_cache_node's partial lists (list_lock) */
	BuddyZone, /* a buddy zone's free areas (zone->lock) */
	Barn,	   /* a node's barn of sheaves (node_barn->lock) */
};

enum class TraceKind : u8 { CacheAlloc, CacheFree, Kmalloc, Kfree };

/* One allocator event, with the fields of the kernel's kmem:* tracepoints and the cache name. */
struct TraceEvent {
	TraceKind kind;
	const char *cache; /* cache name; "" for kmalloc_large pages */
	const void *ptr;
	uptr call_site;	   /* the caller of the entry point */
	usize bytes_req;   /* allocations: asked for */
	usize bytes_alloc; /* allocations: given (the object stride, or the pages) */
	unsigned gfp;	   /* the core's Gfp flags */
	int node;	   /* asked for, NUMA_NO_NODE for any */
};

struct Report {
	ReportKind kind;
	const char *cache; /* cache name, or nullptr */
	const void *ptr;   /* object, slab or page concerned, or nullptr */
	const char *what;  /* one-line explanation */
	u64 value;	   /* a number that explains it (order, count), or 0 */
};

} // namespace kslub

#endif
