// SPDX-License-Identifier: GPL-2.0-only
/*
 * The C shim behind shim.h: kernel services for the C++ platform, each a
 * thin wrapper with explicit arguments that returns errors and never panics.
 */
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/spinlock.h>
#include <linux/topology.h>
#include <asm/cpufeature.h>

#include "shim.h"

static struct kslub_shim_cpu_self __percpu *shim_self;
static unsigned long *shim_offsets;

int kslub_shim_init(void)
{
	unsigned int cpu;

	BUILD_BUG_ON(sizeof(spinlock_t) > KSLUB_SHIM_SPINLOCK_BYTES);
	BUILD_BUG_ON(__alignof__(spinlock_t) > __alignof__(struct kslub_shim_spinlock));
	/* The per-CPU and slab CAS are cmpxchg16b; no emulation here. */
	if (!boot_cpu_has(X86_FEATURE_CX16)) {
		pr_warn("kslub: the CPU lacks cmpxchg16b\n");
		return -ENODEV;
	}
	/* The core walks CPUs 0..nr_cpu_ids-1: each must have per-CPU memory. */
	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		if (!cpu_possible(cpu)) {
			pr_warn("kslub: CPU %u is below nr_cpu_ids but not possible\n", cpu);
			return -ENODEV;
		}
	}
	shim_offsets = kcalloc(nr_cpu_ids, sizeof(*shim_offsets), GFP_KERNEL);
	if (!shim_offsets)
		return -ENOMEM;
	shim_self = alloc_percpu(struct kslub_shim_cpu_self);
	if (!shim_self) {
		kfree(shim_offsets);
		shim_offsets = NULL;
		return -ENOMEM;
	}
	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		struct kslub_shim_cpu_self *s = per_cpu_ptr(shim_self, cpu);

		s->offset = (unsigned long)s - (unsigned long)shim_self;
		s->cpu = cpu;
		shim_offsets[cpu] = s->offset;
	}
	return 0;
}

void kslub_shim_exit(void)
{
	free_percpu(shim_self);
	shim_self = NULL;
	kfree(shim_offsets);
	shim_offsets = NULL;
}

unsigned int kslub_shim_nr_cpu_ids(void)
{
	return nr_cpu_ids;
}

unsigned int kslub_shim_nr_present_cpus(void)
{
	return num_present_cpus();
}

int kslub_shim_cpu_online(unsigned int cpu)
{
	return cpu < nr_cpu_ids && cpu_online(cpu);
}

int kslub_shim_cpu_to_node(unsigned int cpu)
{
	return cpu < nr_cpu_ids ? cpu_to_node(cpu) : 0;
}

/*
 * Keep the task on its CPU around the core's slow paths (SLUB's
 * slub_get_cpu_ptr() and slub_put_cpu_ptr()). Without PREEMPT_RT:
 * preempt_disable(). On PREEMPT_RT the slow paths take spinlock_t locks,
 * which sleep there, so the task is only kept from migrating, as SLUB and
 * local_lock do on RT: another task may run on this CPU meanwhile, fast
 * paths included, and the core's CAS protocol (core/base/platform.h) makes
 * that safe.
 */
void kslub_shim_cpu_pin(void)
{
#ifdef CONFIG_PREEMPT_RT
	migrate_disable();
#else
	preempt_disable();
#endif
}

void kslub_shim_cpu_unpin(void)
{
#ifdef CONFIG_PREEMPT_RT
	migrate_enable();
#else
	preempt_enable();
#endif
}

void *kslub_shim_percpu_alloc(unsigned long size, unsigned long align)
{
	/*
	 * Through an integer: where __percpu is a named address space (gcc 14,
	 * Linux 6.13+: __seg_gs), a direct cast warns, and __force only
	 * silences sparse. The kernel's own percpu accessors do the same.
	 */
	return (void *)(__force unsigned long)__alloc_percpu(size, align);
}

void kslub_shim_percpu_free(void *pcp)
{
	free_percpu((void __percpu *)(__force unsigned long)pcp);
}

const unsigned long *kslub_shim_percpu_offsets(void)
{
	return shim_offsets;
}

void *kslub_shim_cpu_self_cookie(void)
{
	return (void *)(__force unsigned long)shim_self;
}

static struct lock_class_key shim_lock_keys[KSLUB_SHIM_NR_LOCK_CLASSES];
static const char *const shim_lock_names[KSLUB_SHIM_NR_LOCK_CLASSES] = {
	[KSLUB_SHIM_LOCK_CACHES] = "kslub_caches_lock",
	[KSLUB_SHIM_LOCK_NODE_LIST] = "kslub_node_list_lock",
	[KSLUB_SHIM_LOCK_SLOT] = "kslub_cpu_slot_lock",
	[KSLUB_SHIM_LOCK_BUDDY_ZONE] = "kslub_zone_lock",
	[KSLUB_SHIM_LOCK_SHEAVES] = "kslub_cpu_sheaves_lock",
	[KSLUB_SHIM_LOCK_BARN] = "kslub_barn_lock",
};

void kslub_shim_spin_lock_init(struct kslub_shim_spinlock *l, int lock_class)
{
	spin_lock_init((spinlock_t *)l);
	if (lock_class >= 0 && lock_class < KSLUB_SHIM_NR_LOCK_CLASSES)
		lockdep_set_class_and_name((spinlock_t *)l, &shim_lock_keys[lock_class],
					   shim_lock_names[lock_class]);
}

unsigned long kslub_shim_spin_lock_irqsave(struct kslub_shim_spinlock *l)
{
	unsigned long flags;

#ifdef CONFIG_PREEMPT_RT
	/*
	 * spinlock_t sleeps on PREEMPT_RT: taking one with preemption or
	 * interrupts disabled is a bug even when the lock is free (the kernel
	 * reports it only with DEBUG_ATOMIC_SLEEP, which Debian's RT kernels
	 * lack, and otherwise only when the lock is contended).
	 */
	WARN_ONCE(!preemptible(),
		  "kslub: a sleeping lock taken in atomic context (preempt_count %#x%s)\n",
		  preempt_count(), irqs_disabled() ? ", interrupts off" : "");
#endif
	spin_lock_irqsave((spinlock_t *)l, flags);
	return flags;
}

void kslub_shim_spin_unlock_irqrestore(struct kslub_shim_spinlock *l, unsigned long flags)
{
	spin_unlock_irqrestore((spinlock_t *)l, flags);
}

int kslub_shim_spin_is_locked(struct kslub_shim_spinlock *l)
{
	return spin_is_locked((spinlock_t *)l);
}

int kslub_shim_spin_trylock_irqsave(struct kslub_shim_spinlock *l, unsigned long *flags)
{
	unsigned long f;

	if (!spin_trylock_irqsave((spinlock_t *)l, f))
		return 0;
	*flags = f;
	return 1;
}

static void shim_rcu_cb(struct rcu_head *rh)
{
	struct kslub_shim_rcu_head *head = (struct kslub_shim_rcu_head *)rh;

	head->fn(head);
}

void kslub_shim_call_rcu(struct kslub_shim_rcu_head *head,
			 void (*fn)(struct kslub_shim_rcu_head *head))
{
	BUILD_BUG_ON(sizeof(struct rcu_head) > sizeof(head->raw));
	BUILD_BUG_ON(offsetof(struct kslub_shim_rcu_head, raw) != 0);
	head->fn = fn;
	call_rcu((struct rcu_head *)head->raw, shim_rcu_cb);
}

void kslub_shim_rcu_barrier(void)
{
	rcu_barrier();
}

void kslub_shim_synchronize_rcu(void)
{
	synchronize_rcu();
}

#ifdef CONFIG_PREEMPT_RT
struct shim_call {
	void (*fn)(void *arg);
	void *arg;
};

static int shim_call_fn(void *p)
{
	struct shim_call *call = p;

	call->fn(call->arg);
	return 0;
}
#endif

/*
 * Without PREEMPT_RT: by IPI, fn in hard-interrupt context on that CPU (or
 * directly with interrupts off when it is this CPU). On PREEMPT_RT, fn
 * takes spinlock_t locks, which sleep there and so are invalid in an IPI:
 * it runs in process context instead, as a work item on that CPU's bound
 * worker pool (smp_call_on_cpu, which waits for it); SLUB's flush_all()
 * also runs its flush as work on each CPU. cpus_read_lock keeps the CPU
 * online, and so the worker on it, until fn returns.
 */
void kslub_shim_run_on_cpu(unsigned int cpu, void (*fn)(void *arg), void *arg)
{
	cpus_read_lock();
	if (cpu < nr_cpu_ids && cpu_online(cpu)) {
#ifdef CONFIG_PREEMPT_RT
		struct shim_call call = {.fn = fn, .arg = arg};

		if (!smp_call_on_cpu(cpu, shim_call_fn, &call, false)) {
			cpus_read_unlock();
			return;
		}
#else
		if (!smp_call_function_single(cpu, fn, arg, 1)) {
			cpus_read_unlock();
			return;
		}
#endif
	}
	/*
	 * Offline: its slots are used by nobody; run here. Without PREEMPT_RT
	 * with interrupts off, as in the IPI; on PREEMPT_RT in the caller's
	 * process context, as the work item would run it.
	 */
#ifdef CONFIG_PREEMPT_RT
	fn(arg);
#else
	{
		unsigned long flags;

		local_irq_save(flags);
		fn(arg);
		local_irq_restore(flags);
	}
#endif
	cpus_read_unlock();
}

void *kslub_shim_zalloc(unsigned long size)
{
	return kvzalloc(size, GFP_KERNEL);
}

void kslub_shim_free(void *p)
{
	kvfree(p);
}

unsigned long long kslub_shim_random(void)
{
	return get_random_u64();
}

void kslub_shim_report(const char *kind, const char *what, const char *cache, const void *ptr,
		       unsigned long long value)
{
	pr_warn_ratelimited("kslub: %s: %s%s%s%s at %p [%llu]\n", kind, what ? what : "",
			    cache ? " (cache " : "", cache ? cache : "", cache ? ")" : "", ptr,
			    value);
}

void kslub_shim_assert_fail(const char *cond, const char *file, int line)
{
	pr_err_ratelimited("kslub: assertion failed: %s at %s:%d\n", cond, file, line);
	WARN_ONCE(1, "kslub: assertion failed: %s at %s:%d\n", cond, file, line);
}

int kslub_shim_other_online_cpu(unsigned int cpu)
{
	unsigned int other = cpumask_any_but(cpu_online_mask, cpu);

	return other < nr_cpu_ids ? (int)other : -1;
}
