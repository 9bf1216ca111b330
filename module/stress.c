// SPDX-License-Identifier: GPL-2.0-only
/*
 * stress NAME OPS: one kthread per online CPU, each doing OPS randomised
 * allocations and frees on cache NAME. Every object is filled with a pattern
 * derived from its address when allocated and checked before it is freed;
 * threads also trade objects through a shared exchange array, so objects are
 * freed on other CPUs than the one that allocated them. A CPU may go offline
 * meanwhile: its thread is moved to another CPU by the scheduler and goes on,
 * and the dead-CPU callback flushes the CPU's slots. Afterwards the cache is
 * validated.
 *
 * compare SIZE OPS: the same allocation pattern (rounds of 1, 8 and 32
 * allocations, freed in reverse) on a kslub cache and on a kernel
 * kmem_cache_create() cache of SIZE bytes, in the writing task, each run
 * twice alternately; the best time of each gives ns/op.
 *
 * The run slot. One stress or compare runs at a time, in the task that wrote
 * the command, without control_mutex: claimed under it (a second run is
 * refused with -EBUSY at once), released at the end. A run ends early when
 * asked to stop (the stop command from another task: -ECANCELED; unload) or
 * when its writer gets a fatal signal (-EINTR); either way it reports the
 * work done so far. The slot's state is under run_lock, a spinlock, so that
 * stop needs no lock a run or a waiting writer could hold.
 */
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <asm/cpufeature.h>

#include "module.h"
#include "stress.h"

#define STRESS_HELD 32	   /* objects a thread keeps at most */
#define STRESS_EXCHANGE 64 /* slots of the shared exchange array */

#define RUN_RESULT_MAX 192

static DEFINE_SPINLOCK(run_lock);
static DECLARE_WAIT_QUEUE_HEAD(run_wq); /* woken when a run ends */
static struct {
	bool active;		     /* a run holds the slot */
	bool stop;		     /* it was asked to stop */
	bool closed;		     /* unloading: no new run */
	unsigned long gen;	     /* runs ended so far */
	char what[48];		     /* "stress NAME", "compare SIZE" */
	char result[RUN_RESULT_MAX]; /* the result line of the last run */
} run;

static bool run_stopping(void)
{
	return READ_ONCE(run.stop);
}

/* The outcome of a run: its result line in control, kept for stop too. */
static void run_set_result(const char *line)
{
	spin_lock(&run_lock);
	strscpy(run.result, line, sizeof(run.result));
	spin_unlock(&run_lock);
	mutex_lock(&kslub_module.lock);
	kslub_mod_control_set_result(kslub_module.k, line);
	mutex_unlock(&kslub_module.lock);
}

int kslub_run_claim(const char *what)
{
	char busy[48], line[RUN_RESULT_MAX];
	int err = 0;

	spin_lock(&run_lock);
	if (run.closed) {
		err = -ENODEV;
	} else if (run.active) {
		strscpy(busy, run.what, sizeof(busy));
		err = -EBUSY;
	} else {
		run.active = true;
		WRITE_ONCE(run.stop, false);
		strscpy(run.what, what, sizeof(run.what));
	}
	spin_unlock(&run_lock);
	if (!err)
		return 0;
	if (err == -EBUSY)
		scnprintf(line, sizeof(line),
			  "error %d (EBUSY): %s: %s is running (write stop to end it)", err, what,
			  busy);
	else
		scnprintf(line, sizeof(line), "error %d (ENODEV): %s: the module is unloading", err,
			  what);
	mutex_lock(&kslub_module.lock);
	kslub_mod_control_set_result(kslub_module.k, line);
	mutex_unlock(&kslub_module.lock);
	return err;
}

bool kslub_run_active(void)
{
	bool active;

	spin_lock(&run_lock);
	active = run.active;
	spin_unlock(&run_lock);
	return active;
}

void kslub_run_release(void)
{
	spin_lock(&run_lock);
	run.active = false;
	WRITE_ONCE(run.stop, false);
	run.gen++;
	spin_unlock(&run_lock);
	wake_up_all(&run_wq);
}

static bool run_ended(unsigned long gen)
{
	bool ended;

	spin_lock(&run_lock);
	ended = run.gen != gen;
	spin_unlock(&run_lock);
	return ended;
}

int kslub_run_stop(void)
{
	char line[RUN_RESULT_MAX];
	unsigned long gen;
	bool active;

	spin_lock(&run_lock);
	active = run.active;
	gen = run.gen;
	if (active)
		WRITE_ONCE(run.stop, true);
	spin_unlock(&run_lock);
	if (!active) {
		mutex_lock(&kslub_module.lock);
		kslub_mod_control_set_result(kslub_module.k,
					     "stop: no stress or compare run in progress");
		mutex_unlock(&kslub_module.lock);
		return 0;
	}
	/*
	 * The threads of a stress and the loops of a compare look at the flag
	 * between operations; the run then validates and reports, and ends.
	 * Wait for that interruptibly; a signal leaves the stop requested.
	 */
	if (wait_event_interruptible(run_wq, run_ended(gen)))
		return 0;
	/* The stopped run's own line, not "stop: requested" written after it. */
	spin_lock(&run_lock);
	strscpy(line, run.result, sizeof(line));
	spin_unlock(&run_lock);
	mutex_lock(&kslub_module.lock);
	kslub_mod_control_set_result(kslub_module.k, line);
	mutex_unlock(&kslub_module.lock);
	return 0;
}

void kslub_run_shutdown(void)
{
	spin_lock(&run_lock);
	run.closed = true;
	if (run.active)
		WRITE_ONCE(run.stop, true);
	spin_unlock(&run_lock);
	wait_event(run_wq, !READ_ONCE(run.active));
}

struct stress_cpu {
	u64 ops, allocs, frees, cross_frees, fill_errors, free_errors, alloc_failures;
	int cpu;
	struct task_struct *task;
};

static struct {
	char name[32];
	u64 ops;
	unsigned int size;
	struct kslub_mod_cache *s;
	bool running, ran;
	int threads;
	long validate_errors;
	u64 elapsed_ns;
	void *exchange[STRESS_EXCHANGE];
	struct stress_cpu *per; /* nr_cpu_ids entries, kept until unload */
	atomic_t remaining;
	struct completion done;
} st;

static u64 pattern(const void *obj)
{
	return (unsigned long)obj ^ KSLUB_MOD_FILL_KEY;
}

static void fill(void *obj, unsigned int size)
{
	u64 p = pattern(obj), *w = obj;
	unsigned int i;

	for (i = 0; i + 8 <= size; i += 8)
		*w++ = p;
	for (; i < size; i++)
		((u8 *)obj)[i] = (u8)p;
}

static bool check(const void *obj, unsigned int size)
{
	u64 p = pattern(obj);
	const u64 *w = obj;
	unsigned int i;

	for (i = 0; i + 8 <= size; i += 8)
		if (*w++ != p)
			return false;
	for (; i < size; i++)
		if (((const u8 *)obj)[i] != (u8)p)
			return false;
	return true;
}

static void stress_free(struct stress_cpu *pc, void *obj, bool cross)
{
	if (!check(obj, st.size))
		WRITE_ONCE(pc->fill_errors, pc->fill_errors + 1);
	if (kslub_mod_cache_free(st.s, obj))
		WRITE_ONCE(pc->free_errors, pc->free_errors + 1);
	else if (cross)
		WRITE_ONCE(pc->cross_frees, pc->cross_frees + 1);
	WRITE_ONCE(pc->frees, pc->frees + 1);
}

static int stress_thread(void *arg)
{
	struct stress_cpu *pc = arg;
	void *held[STRESS_HELD];
	unsigned int nheld = 0;
	u64 i;

	for (i = 0; i < st.ops && !kthread_should_stop() && !run_stopping(); i++) {
		u32 r = get_random_u32();
		unsigned int what = r & 3;

		if (what <= 1 && nheld < STRESS_HELD) {
			void *obj = kslub_mod_cache_alloc(st.s);

			if (obj) {
				fill(obj, st.size);
				held[nheld++] = obj;
				WRITE_ONCE(pc->allocs, pc->allocs + 1);
			} else {
				WRITE_ONCE(pc->alloc_failures, pc->alloc_failures + 1);
			}
		} else if (nheld && what == 3) {
			/* Trade: leave one object for any thread, take whatever was there. */
			unsigned int k = (r >> 8) % nheld;
			void *got = xchg(&st.exchange[(r >> 16) % STRESS_EXCHANGE], held[k]);

			held[k] = held[--nheld];
			if (got)
				stress_free(pc, got, true);
		} else if (nheld) {
			unsigned int k = (r >> 8) % nheld;
			void *obj = held[k];

			held[k] = held[--nheld];
			stress_free(pc, obj, false);
		}
		WRITE_ONCE(pc->ops, pc->ops + 1);
		if (!(i & 63))
			cond_resched();
	}
	while (nheld)
		stress_free(pc, held[--nheld], false);
	if (atomic_dec_and_test(&st.remaining))
		complete(&st.done);
	return 0;
}

int kslub_stress_run(const char *name, unsigned long long ops)
{
	struct stress_cpu *per = st.per;
	unsigned int cpu, i;
	u64 start, total = 0, bad = 0;
	int err = 0;
	char line[RUN_RESULT_MAX];

	if (!per) {
		per = kcalloc(nr_cpu_ids, sizeof(*per), GFP_KERNEL);
		if (!per) {
			scnprintf(line, sizeof(line), "error %d (ENOMEM): stress %s: out of memory",
				  -ENOMEM, name);
			run_set_result(line);
			return -ENOMEM;
		}
		smp_store_release(&st.per, per);
	}
	/* The cache was checked by the executor; a destroy may have come in between. */
	mutex_lock(&kslub_module.lock);
	st.s = kslub_mod_control_pin(kslub_module.k, name, &err);
	mutex_unlock(&kslub_module.lock);
	if (!st.s) {
		scnprintf(line, sizeof(line), "error %d (%s): stress %s: cannot pin the cache", err,
			  err == -ENOENT ? "ENOENT" :
			  err == -EBUSY	 ? "EBUSY" :
					   "ENOMEM",
			  name);
		run_set_result(line);
		return err;
	}
	strscpy(st.name, name, sizeof(st.name));
	st.ops = ops;
	st.size = kslub_mod_cache_object_size(st.s);
	st.validate_errors = 0;
	st.threads = 0;
	memset(st.exchange, 0, sizeof(st.exchange));
	memset(per, 0, nr_cpu_ids * sizeof(*per));
	for (i = 0; i < nr_cpu_ids; i++)
		per[i].cpu = -1;
	init_completion(&st.done);
	atomic_set(&st.remaining, 1);
	WRITE_ONCE(st.running, true);
	WRITE_ONCE(st.ran, true);
	start = ktime_get_ns();

	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct stress_cpu *pc = &per[cpu];
		struct task_struct *t =
			kthread_create_on_cpu(stress_thread, pc, cpu, "kslub-stress/%u");

		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			break;
		}
		get_task_struct(t);
		pc->cpu = cpu;
		pc->task = t;
		st.threads++;
		atomic_inc(&st.remaining);
	}
	cpus_read_unlock();
	for (i = 0; i < nr_cpu_ids; i++)
		if (per[i].task)
			wake_up_process(per[i].task);
	if (atomic_dec_and_test(&st.remaining))
		complete(&st.done);
	/*
	 * The writer sleeps killable (the hung-task detector passes over such
	 * sleeps) and wakes every second anyway. A fatal signal ends the run:
	 * kthread_stop() below stops the threads. stop ends it through the
	 * threads, which look at the flag between operations and return.
	 */
	for (;;) {
		long w = wait_for_completion_killable_timeout(&st.done, HZ);

		if (w > 0)
			break;
		if (w < 0) {
			err = -EINTR;
			break;
		}
	}
	for (i = 0; i < nr_cpu_ids; i++) {
		if (per[i].task) {
			kthread_stop(per[i].task);
			put_task_struct(per[i].task);
			per[i].task = NULL;
		}
	}
	/* What is left in the exchange array was allocated and filled by some thread. */
	for (i = 0; i < STRESS_EXCHANGE; i++) {
		void *obj = xchg(&st.exchange[i], NULL);

		if (obj) {
			struct stress_cpu *pc = &per[raw_smp_processor_id()];

			stress_free(pc, obj, false);
		}
	}
	st.elapsed_ns = ktime_get_ns() - start;
	for (i = 0; i < nr_cpu_ids; i++) {
		total += per[i].ops;
		bad += per[i].fill_errors + per[i].free_errors;
	}
	/* Stopped: asked to, and not every thread did all its operations. */
	if (!err && run_stopping() && total < ops * st.threads)
		err = -ECANCELED;
	mutex_lock(&kslub_module.lock);
	st.validate_errors = kslub_mod_cache_validate(kslub_module.k, st.s);
	kslub_mod_control_unpin(kslub_module.k, st.s);
	mutex_unlock(&kslub_module.lock);
	scnprintf(line, sizeof(line), "stress %s: %llu ops on %d CPUs, %llu errors, validate %ld%s",
		  st.name, total, st.threads, bad, st.validate_errors,
		  err == -EINTR	    ? " (interrupted)" :
		  err == -ECANCELED ? " (stopped)" :
		  err		    ? " (not every thread started)" :
				      "");
	run_set_result(line);
	WRITE_ONCE(st.running, false);
	return err;
}

long kslub_stress_render(char *buf, unsigned long cap)
{
	struct stress_cpu *per = smp_load_acquire(&st.per);
	u64 t[7] = {};
	long n = 0;
	unsigned int i;

	if (!READ_ONCE(st.ran) || !per)
		return scnprintf(buf, cap,
				 "no stress run yet (write \"stress NAME OPS\" to control)\n");
	n += scnprintf(buf + n, cap - n,
		       "cache %s ops_per_cpu %llu threads %d %s elapsed_ms %llu validate %ld\n",
		       st.name, st.ops, st.threads, READ_ONCE(st.running) ? "running" : "done",
		       READ_ONCE(st.running) ? 0ull : st.elapsed_ns / 1000000, st.validate_errors);
	n += scnprintf(buf + n, cap - n, "%-5s %12s %12s %12s %12s %12s %12s %12s\n", "cpu", "ops",
		       "allocs", "frees", "cross_frees", "fill_errors", "free_errors",
		       "alloc_fail");
	for (i = 0; i < nr_cpu_ids; i++) {
		struct stress_cpu *pc = &per[i];
		u64 v[7] = {READ_ONCE(pc->ops),		  READ_ONCE(pc->allocs),
			    READ_ONCE(pc->frees),	  READ_ONCE(pc->cross_frees),
			    READ_ONCE(pc->fill_errors),	  READ_ONCE(pc->free_errors),
			    READ_ONCE(pc->alloc_failures)};
		unsigned int j;

		if (pc->cpu < 0 && !v[0] && !v[2])
			continue;
		for (j = 0; j < 7; j++)
			t[j] += v[j];
		n += scnprintf(buf + n, cap - n,
			       "%-5u %12llu %12llu %12llu %12llu %12llu %12llu %12llu\n", i, v[0],
			       v[1], v[2], v[3], v[4], v[5], v[6]);
	}
	n += scnprintf(buf + n, cap - n, "%-5s %12llu %12llu %12llu %12llu %12llu %12llu %12llu\n",
		       "all", t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
	/* scnprintf stops at cap - 1: ask for more room when it filled up. */
	return n + 1 >= (long)cap ? (long)cap * 2 : n;
}

/* compare */
static struct {
	bool ran;
	u64 size, ops, kslub_ns, kernel_ns;
	bool emulated;
} cmp;

/* One pass of the pattern; the elapsed nanoseconds, or 0 when an allocation failed. */
static u64 compare_pass(void *(*alloc)(void *c), void (*free)(void *c, void *obj), void *c,
			void **objs, u64 ops)
{
	static const unsigned int rounds[] = {1, 8, 32};
	u64 done = 0, start = ktime_get_ns();
	unsigned int r = 0, i;

	while (done < ops) {
		unsigned int n = rounds[r++ % ARRAY_SIZE(rounds)];

		if (2 * n > ops - done)
			n = max_t(u64, (ops - done) / 2, 1);
		for (i = 0; i < n; i++) {
			objs[i] = alloc(c);
			if (!objs[i]) {
				while (i--)
					free(c, objs[i]);
				return 0;
			}
		}
		while (i--)
			free(c, objs[i]);
		done += 2 * n;
		if (!(r & 255)) {
			if (fatal_signal_pending(current) || run_stopping())
				return 0;
			cond_resched();
		}
	}
	return max_t(u64, ktime_get_ns() - start, 1);
}

static void *kslub_alloc_fn(void *c)
{
	return kslub_mod_cache_alloc(c);
}

static void kslub_free_fn(void *c, void *obj)
{
	kslub_mod_cache_free(c, obj);
}

static void *kernel_alloc_fn(void *c)
{
	return kmem_cache_alloc(c, GFP_KERNEL);
}

static void kernel_free_fn(void *c, void *obj)
{
	kmem_cache_free(c, obj);
}

int kslub_compare_run(unsigned long long size, unsigned long long ops)
{
	struct kslub_mod_cache *ks;
	struct kmem_cache *kc;
	u64 best_k = U64_MAX, best_l = U64_MAX;
	void **objs;
	char line[RUN_RESULT_MAX];
	int err = 0, pass;

	if (size > 2097152) {
		scnprintf(line, sizeof(line), "error %d (EINVAL): compare %llu: SIZE above 2097152",
			  -EINVAL, size);
		run_set_result(line);
		return -EINVAL;
	}
	objs = kcalloc(32, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		err = -ENOMEM;
		goto out_result;
	}
	mutex_lock(&kslub_module.lock);
	ks = kslub_mod_cache_create(kslub_module.k, "kslub-compare", size, &err);
	mutex_unlock(&kslub_module.lock);
	if (!ks) {
		if (err != -EEXIST && err != -EINVAL)
			err = -ENOMEM;
		goto out_objs;
	}
	kc = kmem_cache_create("kslub_compare", size, 0, 0, NULL);
	if (!kc) {
		err = -ENOMEM;
		goto out_kslub;
	}
	for (pass = 0; pass < 2 && !err; pass++) {
		u64 a = compare_pass(kslub_alloc_fn, kslub_free_fn, ks, objs, ops);
		u64 b = a ? compare_pass(kernel_alloc_fn, kernel_free_fn, kc, objs, ops) : 0;

		if (!a || !b)
			err = fatal_signal_pending(current) ? -EINTR :
			      run_stopping()		    ? -ECANCELED :
							      -ENOMEM;
		best_k = min(best_k, a);
		best_l = min(best_l, b);
	}
	kmem_cache_destroy(kc);
	if (!err) {
		u64 done = max_t(u64, ops & ~1ull, 2);

		cmp.size = size;
		cmp.ops = done;
		cmp.kslub_ns = best_k;
		cmp.kernel_ns = best_l;
		cmp.emulated = boot_cpu_has(X86_FEATURE_HYPERVISOR);
		WRITE_ONCE(cmp.ran, true);
		scnprintf(line, sizeof(line),
			  "compare %llu: kslub %llu.%02llu ns/op, kernel %llu.%02llu ns/op", size,
			  best_k / done, best_k * 100 / done % 100, best_l / done,
			  best_l * 100 / done % 100);
	}
out_kslub:
	mutex_lock(&kslub_module.lock);
	if (kslub_mod_cache_destroy(kslub_module.k, ks))
		pr_warn("kslub: compare: the kslub cache stays (objects remain)\n");
	mutex_unlock(&kslub_module.lock);
out_objs:
	kfree(objs);
out_result:
	if (err == -EINTR)
		scnprintf(line, sizeof(line), "error %d (EINTR): compare %llu: interrupted", err,
			  size);
	else if (err == -ECANCELED)
		scnprintf(line, sizeof(line), "error %d (ECANCELED): compare %llu: stopped", err,
			  size);
	else if (err == -EEXIST)
		scnprintf(line, sizeof(line),
			  "error %d (EEXIST): compare %llu: a cache named kslub-compare exists",
			  err, size);
	else if (err == -EINVAL)
		scnprintf(line, sizeof(line),
			  "error %d (EINVAL): compare %llu: the allocator refused this size", err,
			  size);
	else if (err)
		scnprintf(line, sizeof(line), "error %d (ENOMEM): compare %llu: out of memory", err,
			  size);
	run_set_result(line);
	return err;
}

long kslub_compare_render(char *buf, unsigned long cap)
{
	u64 ratio;

	if (!READ_ONCE(cmp.ran))
		return scnprintf(buf, cap,
				 "no comparison yet (write \"compare SIZE OPS\" to control)\n");
	ratio = cmp.kslub_ns * 1000 / cmp.kernel_ns;
	return scnprintf(
		buf, cap,
		"size %llu ops %llu (alloc+free, rounds of 1, 8, 32; best of 2 passes)%s\n"
		"kslub  %llu.%02llu ns/op\n"
		"kernel %llu.%02llu ns/op\n"
		"ratio kslub/kernel %llu.%03llu\n",
		cmp.size, cmp.ops,
		cmp.emulated ?
			"\nmeasured under emulation (hypervisor present): only the ratio means something" :
			"",
		cmp.kslub_ns / cmp.ops, cmp.kslub_ns * 100 / cmp.ops % 100, cmp.kernel_ns / cmp.ops,
		cmp.kernel_ns * 100 / cmp.ops % 100, ratio / 1000, ratio % 1000);
}

void kslub_stress_exit(void)
{
	/* After kslub_run_shutdown(): no run is in progress or can start. */
	kfree(st.per);
	st.per = NULL;
}
