/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The C shim: every kernel service the C++ side uses, as plain C functions
 * with explicit arguments. shim.c is the only file of the C++ side's world
 * that includes kernel headers; this header includes nothing, so that the C++
 * platform (kernel_platform.h) can include it without seeing the kernel's
 * headers. No function here panics: failures come back as NULL or -errno.
 */
#ifndef KSLUB_MODULE_SHIM_H
#define KSLUB_MODULE_SHIM_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Storage the C++ side reserves for one spinlock_t; shim.c checks at build
 * time that spinlock_t fits. It is 4 bytes on a stock kernel; lock debugging
 * (lockdep's map) and PREEMPT_RT make it larger, and Kbuild then defines a
 * larger KSLUB_SHIM_SPINLOCK_BYTES from the kernel's configuration.
 */
#ifndef KSLUB_SHIM_SPINLOCK_BYTES
#define KSLUB_SHIM_SPINLOCK_BYTES 8
#endif
struct kslub_shim_spinlock {
	unsigned long long raw[KSLUB_SHIM_SPINLOCK_BYTES / 8];
};

/* Lock classes, one lockdep class each, in the core's lock order. */
enum kslub_shim_lock_class {
	KSLUB_SHIM_LOCK_CACHES,	    /* the cache list */
	KSLUB_SHIM_LOCK_NODE_LIST,  /* a node's partial lists */
	KSLUB_SHIM_LOCK_SLOT,	    /* a kmem_cache_cpu slot */
	KSLUB_SHIM_LOCK_BUDDY_ZONE, /* a buddy zone */
	KSLUB_SHIM_LOCK_SHEAVES,    /* a CPU's sheaves */
	KSLUB_SHIM_LOCK_BARN,	    /* a node's barn */
	KSLUB_SHIM_NR_LOCK_CLASSES
};

/* Per-CPU facts the C++ platform reads through %gs without a call. */
struct kslub_shim_cpu_self {
	unsigned long offset; /* this CPU's per-CPU offset (per_cpu_ptr(p, cpu) - p) */
	unsigned int cpu;     /* this CPU's number */
};

/* CPUs */
unsigned int kslub_shim_nr_cpu_ids(void);
unsigned int kslub_shim_nr_present_cpus(void);
int kslub_shim_cpu_online(unsigned int cpu);
int kslub_shim_cpu_to_node(unsigned int cpu);
/*
 * Keep the calling task on its CPU until the matching unpin (they nest):
 * preempt_disable() without PREEMPT_RT, migrate_disable() on PREEMPT_RT,
 * where the core's slow paths take locks that sleep.
 */
void kslub_shim_cpu_pin(void);
void kslub_shim_cpu_unpin(void);

/* Per-CPU memory: __alloc_percpu cookies, zeroed; NULL on failure. */
void *kslub_shim_percpu_alloc(unsigned long size, unsigned long align);
void kslub_shim_percpu_free(void *pcp);
/* Array of nr_cpu_ids per-CPU offsets, valid between init and exit. */
const unsigned long *kslub_shim_percpu_offsets(void);
/* Cookie of a per-CPU struct kslub_shim_cpu_self. */
void *kslub_shim_cpu_self_cookie(void);
int kslub_shim_init(void);
void kslub_shim_exit(void);

/*
 * Locks: spin_lock_irqsave on a spinlock_t kept in the caller's storage.
 * Without PREEMPT_RT it spins with interrupts off; on PREEMPT_RT it is a
 * sleeping lock (an rt_mutex) that leaves interrupts on, keeps its holder
 * from migrating, and returns flags of 0.
 */
void kslub_shim_spin_lock_init(struct kslub_shim_spinlock *l, int lock_class);
unsigned long kslub_shim_spin_lock_irqsave(struct kslub_shim_spinlock *l);
void kslub_shim_spin_unlock_irqrestore(struct kslub_shim_spinlock *l, unsigned long flags);
int kslub_shim_spin_is_locked(struct kslub_shim_spinlock *l);
/* spin_trylock_irqsave: non-zero with the lock held and *flags set. */
int kslub_shim_spin_trylock_irqsave(struct kslub_shim_spinlock *l, unsigned long *flags);

/*
 * RCU: storage for one struct rcu_head (shim.c checks it fits) and the
 * callback; kslub_shim_call_rcu runs fn(head) after a grace period.
 */
struct kslub_shim_rcu_head {
	void *raw[2];
	void (*fn)(struct kslub_shim_rcu_head *head);
};
void kslub_shim_call_rcu(struct kslub_shim_rcu_head *head,
			 void (*fn)(struct kslub_shim_rcu_head *head));
void kslub_shim_rcu_barrier(void);
void kslub_shim_synchronize_rcu(void);

/*
 * Run fn(arg) on `cpu`, waiting for it; CPU hotplug is held off meanwhile.
 * Without PREEMPT_RT with interrupts disabled (an IPI, or directly when cpu
 * is this CPU); on PREEMPT_RT in process context, a work item on that CPU,
 * so that fn may take the (sleeping) spinlock_t locks. When the CPU is
 * offline fn runs here instead (interrupts off without PREEMPT_RT): nothing
 * can run on a dead CPU's slot. Process context only; may sleep.
 */
void kslub_shim_run_on_cpu(unsigned int cpu, void (*fn)(void *arg), void *arg);

/* Memory for the module's own bookkeeping (not the pool). */
void *kslub_shim_zalloc(unsigned long size);
void kslub_shim_free(void *p);

/* Misc */
unsigned long long kslub_shim_random(void);
/* A misuse or corruption found by the allocator: one rate-limited line. */
void kslub_shim_report(const char *kind, const char *what, const char *cache, const void *ptr,
		       unsigned long long value);
/* A kslub bug: WARN_ONCE, and carry on. */
void kslub_shim_assert_fail(const char *cond, const char *file, int line);
/* An online CPU other than `cpu`, or -1. */
int kslub_shim_other_online_cpu(unsigned int cpu);

/*
 * Tracepoints (trace.c). kslub_shim_tracing_on is non-zero while any kslub:*
 * tracepoint is registered; kslub_shim_trace() emits one event of the kind
 * given (the core's TraceKind values) with the core's gfp flags.
 */
#define KSLUB_SHIM_TRACE_CACHE_ALLOC 0
#define KSLUB_SHIM_TRACE_CACHE_FREE 1
#define KSLUB_SHIM_TRACE_KMALLOC 2
#define KSLUB_SHIM_TRACE_KFREE 3
#define KSLUB_SHIM_GFP_ZERO 1u
#define KSLUB_SHIM_GFP_THISNODE 2u
extern int kslub_shim_tracing_on;
void kslub_shim_trace(unsigned int kind, const char *cache, const void *ptr,
		      unsigned long call_site, unsigned long bytes_req, unsigned long bytes_alloc,
		      unsigned int gfp, int node);

#ifdef __cplusplus
}
#endif

#endif
