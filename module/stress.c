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
 * compare SIZE OPS: three caches of SIZE bytes, timed in the writing task:
 * kslub's TID design, kslub's sheaves design (7.x's) and a kernel
 * kmem_cache_create() cache that is not merged (the kernel's own design),
 * under three patterns (pair, batch of 32, bulk of 32), OPS operations each,
 * every cache in turn, twice; the best pass gives ns/op and cycles/op (the TSC: under
 * emulation only their ratios mean something), and the ratios.
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
#include <linux/timex.h>
#include <linux/version.h>
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
enum { CMP_PAIR, CMP_BATCH, CMP_BULK, CMP_PATTERNS };
enum { CMP_TID, CMP_SHEAVES, CMP_KERNEL, CMP_SUBJECTS };
#define CMP_BATCH_N 32
static const char *const cmp_pattern[CMP_PATTERNS] = {"pair", "batch", "bulk"};

/* The kernel's own per-CPU design for a cache made without kmem_cache_args. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 0, 0)
#define CMP_KERNEL_DESIGN "sheaves"
#else
#define CMP_KERNEL_DESIGN "TID"
#endif

static struct {
	bool ran;
	u64 size, ops;
	u64 ns[CMP_PATTERNS][CMP_SUBJECTS];	/* best pass, nanoseconds */
	u64 cycles[CMP_PATTERNS][CMP_SUBJECTS]; /* the same pass, TSC cycles */
	bool emulated;
	bool kernel_zeroes; /* init_on_alloc: the kernel zeroes every object it allocates */
} cmp;

struct cmp_alloc {
	void *(*alloc)(void *c);
	void (*free)(void *c, void *obj);
	bool (*alloc_bulk)(void *c, unsigned int n, void **p); /* all n, or none kept */
	bool (*free_bulk)(void *c, unsigned int n, void **p);
};

/*
 * One pass of a pattern: OPS operations (an allocation and its free are
 * two) in rounds of 1 (pair) or 32 (batch: allocated one by one, freed in
 * reverse; bulk: one bulk allocation, one bulk free). The elapsed
 * nanoseconds and (*cycles) TSC cycles, or 0 with *err set.
 */
static u64 compare_pass(const struct cmp_alloc *a, void *c, int pattern, void **objs, u64 ops,
			u64 *cycles, int *err)
{
	u64 done = 0, start = ktime_get_ns();
	cycles_t c0 = get_cycles();
	unsigned long rounds = 0;
	unsigned int i;

	while (done < ops) {
		unsigned int n = pattern == CMP_PAIR ? 1 : CMP_BATCH_N;

		if (2 * n > ops - done)
			n = max_t(u64, (ops - done) / 2, 1);
		if (pattern == CMP_BULK) {
			if (!a->alloc_bulk(c, n, objs)) {
				*err = -ENOMEM;
				return 0;
			}
			if (!a->free_bulk(c, n, objs)) {
				*err = -EIO;
				return 0;
			}
		} else {
			for (i = 0; i < n; i++) {
				objs[i] = a->alloc(c);
				if (!objs[i]) {
					while (i--)
						a->free(c, objs[i]);
					*err = -ENOMEM;
					return 0;
				}
			}
			while (i--)
				a->free(c, objs[i]);
		}
		done += 2 * n;
		if (!(++rounds & 255)) {
			if (fatal_signal_pending(current) || run_stopping()) {
				*err = fatal_signal_pending(current) ? -EINTR : -ECANCELED;
				return 0;
			}
			cond_resched();
		}
	}
	*cycles = max_t(u64, get_cycles() - c0, 1);
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

static bool kslub_alloc_bulk_fn(void *c, unsigned int n, void **p)
{
	return kslub_mod_cache_alloc_bulk(c, n, p) == (int)n;
}

static bool kslub_free_bulk_fn(void *c, unsigned int n, void **p)
{
	return kslub_mod_cache_free_bulk(c, n, p) == 0;
}

static void *kernel_alloc_fn(void *c)
{
	return kmem_cache_alloc(c, GFP_KERNEL);
}

static void kernel_free_fn(void *c, void *obj)
{
	kmem_cache_free(c, obj);
}

/*
 * kmem_cache_alloc_bulk gives all or nothing: it returns the number of
 * objects (size or 0) up to 6.x and true or false in 7.x's mm/slub.c.
 */
static bool kernel_alloc_bulk_fn(void *c, unsigned int n, void **p)
{
	__auto_type r = kmem_cache_alloc_bulk(c, GFP_KERNEL, n, p);

	return _Generic(r, bool : r, default : r == (int)n);
}

static bool kernel_free_bulk_fn(void *c, unsigned int n, void **p)
{
	kmem_cache_free_bulk(c, n, p);
	return true;
}

static const struct cmp_alloc cmp_kslub = {kslub_alloc_fn, kslub_free_fn, kslub_alloc_bulk_fn,
					   kslub_free_bulk_fn};
static const struct cmp_alloc cmp_kernel = {kernel_alloc_fn, kernel_free_fn, kernel_alloc_bulk_fn,
					    kernel_free_bulk_fn};

/*
 * A kernel cache of SIZE that is not merged into an existing one, so that it
 * is timed alone. Before SLAB_NO_MERGE (6.5), SLAB_NOLEAKTRACE is one of the
 * flags that forbid merging without touching the layout (a constructor
 * would move the free pointer out of the object and make it 8 bytes larger);
 * all it turns off is kmemleak, which the Debian kernels do not build.
 */
static struct kmem_cache *compare_kernel_cache(unsigned int size)
{
#ifdef SLAB_NO_MERGE
	return kmem_cache_create("kslub_compare", size, 0, SLAB_NO_MERGE, NULL);
#else
	return kmem_cache_create("kslub_compare", size, 0, SLAB_NOLEAKTRACE, NULL);
#endif
}

/* "12.34": nanoseconds (or cycles) per operation with two decimals. */
#define CMP_PER_OP(x) (x) / cmp.ops, (x)*100 / cmp.ops % 100

int kslub_compare_run(unsigned long long size, unsigned long long ops)
{
	struct kslub_mod_cache *ks[2] = {NULL, NULL};
	static const char *const ks_name[2] = {"kslub-compare-tid", "kslub-compare-sheaves"};
	u64 best[CMP_PATTERNS][CMP_SUBJECTS], best_cycles[CMP_PATTERNS][CMP_SUBJECTS];
	struct kmem_cache *kc = NULL;
	void **objs;
	char line[RUN_RESULT_MAX];
	int err = 0, pass, pat, who;

	if (size > 2097152) {
		scnprintf(line, sizeof(line), "error %d (EINVAL): compare %llu: SIZE above 2097152",
			  -EINVAL, size);
		run_set_result(line);
		return -EINVAL;
	}
	objs = kcalloc(CMP_BATCH_N, sizeof(*objs), GFP_KERNEL);
	if (!objs) {
		err = -ENOMEM;
		goto out_result;
	}
	mutex_lock(&kslub_module.lock);
	for (who = 0; who < 2 && !err; who++) {
		ks[who] = kslub_mod_cache_create_design(kslub_module.k, ks_name[who], size,
							who == CMP_SHEAVES, &err);
		if (!ks[who] && err != -EEXIST && err != -EINVAL)
			err = -ENOMEM;
	}
	mutex_unlock(&kslub_module.lock);
	if (err)
		goto out_kslub;
	kc = compare_kernel_cache(size);
	if (!kc) {
		err = -ENOMEM;
		goto out_kslub;
	}
	memset(best, 0xff, sizeof(best));
	/* Twice, the three caches in turn for every pattern; the best pass of each counts. */
	for (pass = 0; pass < 2 && !err; pass++) {
		for (pat = 0; pat < CMP_PATTERNS && !err; pat++) {
			for (who = 0; who < CMP_SUBJECTS && !err; who++) {
				bool kernel = who == CMP_KERNEL;
				u64 cy = 0;
				u64 t = compare_pass(kernel ? &cmp_kernel : &cmp_kslub,
						     kernel ? (void *)kc : ks[who], pat, objs, ops,
						     &cy, &err);

				if (t < best[pat][who]) {
					best[pat][who] = t;
					best_cycles[pat][who] = cy;
				}
			}
		}
	}
	kmem_cache_destroy(kc);
	if (!err) {
		cmp.size = size;
		cmp.ops = max_t(u64, ops & ~1ull, 2);
		memcpy(cmp.ns, best, sizeof(best));
		memcpy(cmp.cycles, best_cycles, sizeof(best_cycles));
		cmp.emulated = boot_cpu_has(X86_FEATURE_HYPERVISOR);
		cmp.kernel_zeroes = want_init_on_alloc(GFP_KERNEL);
		WRITE_ONCE(cmp.ran, true);
		scnprintf(
			line, sizeof(line),
			"compare %llu: pair: kslub-tid %llu.%02llu, kslub-sheaves %llu.%02llu, kernel (%s) %llu.%02llu ns/op",
			size, CMP_PER_OP(best[CMP_PAIR][CMP_TID]),
			CMP_PER_OP(best[CMP_PAIR][CMP_SHEAVES]), CMP_KERNEL_DESIGN,
			CMP_PER_OP(best[CMP_PAIR][CMP_KERNEL]));
	}
out_kslub:
	mutex_lock(&kslub_module.lock);
	for (who = 0; who < 2; who++)
		if (ks[who] && kslub_mod_cache_destroy(kslub_module.k, ks[who]))
			pr_warn("kslub: compare: cache %s stays (objects remain)\n", ks_name[who]);
	mutex_unlock(&kslub_module.lock);
	kfree(objs);
out_result:
	if (err == -EINTR)
		scnprintf(line, sizeof(line), "error %d (EINTR): compare %llu: interrupted", err,
			  size);
	else if (err == -ECANCELED)
		scnprintf(line, sizeof(line), "error %d (ECANCELED): compare %llu: stopped", err,
			  size);
	else if (err == -EEXIST)
		scnprintf(
			line, sizeof(line),
			"error %d (EEXIST): compare %llu: a cache named kslub-compare-tid or kslub-compare-sheaves exists",
			err, size);
	else if (err == -EINVAL)
		scnprintf(line, sizeof(line),
			  "error %d (EINVAL): compare %llu: the allocator refused this size", err,
			  size);
	else if (err == -EIO)
		scnprintf(
			line, sizeof(line),
			"error %d (EIO): compare %llu: kslub refused a bulk free of its own objects",
			err, size);
	else if (err)
		scnprintf(line, sizeof(line), "error %d (ENOMEM): compare %llu: out of memory", err,
			  size);
	run_set_result(line);
	return err;
}

/* "1.234": a over b, three decimals. */
#define CMP_RATIO(a, b) (a) * 1000 / (b) / 1000, (a)*1000 / (b) % 1000

/* One row per pattern: the three caches' v per operation, two decimals. */
static long compare_render_per_op(char *buf, unsigned long cap, long n,
				  const u64 v[CMP_PATTERNS][CMP_SUBJECTS])
{
	int p;

	for (p = 0; p < CMP_PATTERNS; p++)
		n += scnprintf(buf + n, cap - n, "%-7s %9llu.%02llu %11llu.%02llu %9llu.%02llu\n",
			       cmp_pattern[p], CMP_PER_OP(v[p][CMP_TID]),
			       CMP_PER_OP(v[p][CMP_SHEAVES]), CMP_PER_OP(v[p][CMP_KERNEL]));
	return n;
}

long kslub_compare_render(char *buf, unsigned long cap)
{
	long n;
	int p;

	if (!READ_ONCE(cmp.ran))
		return scnprintf(buf, cap,
				 "no comparison yet (write \"compare SIZE OPS\" to control)\n");
	n = scnprintf(
		buf, cap,
		"size %llu ops %llu per pattern and cache (an allocation and its free are 2; best of 2 passes)\n"
		"patterns: pair (alloc, free), batch (32 allocs, freed in reverse), bulk (alloc_bulk 32, free_bulk 32)\n"
		"kslub-tid: the TID design; kslub-sheaves: 7.x's sheaves; kernel: a kmem_cache_create cache that is not merged, in this kernel's own design (%s)%s%s\n"
		"ns/op   %12s %14s %12s\n",
		cmp.size, cmp.ops, CMP_KERNEL_DESIGN,
		cmp.emulated ?
			"\nmeasured under emulation (hypervisor present): only the ratios mean something" :
			"",
		cmp.kernel_zeroes ?
			"\ninit_on_alloc is on: the kernel zeroes every object it allocates, kslub does not (boot with init_on_alloc=0 to time the allocators alone)" :
			"",
		"kslub-tid", "kslub-sheaves", "kernel");
	n = compare_render_per_op(buf, cap, n, cmp.ns);
	n += scnprintf(buf + n, cap - n, "cycles/op %10s %14s %12s\n", "kslub-tid", "kslub-sheaves",
		       "kernel");
	n = compare_render_per_op(buf, cap, n, cmp.cycles);
	n += scnprintf(buf + n, cap - n, "ratio   %12s %14s %12s\n", "tid/kernel", "sheaves/kernel",
		       "sheaves/tid");
	for (p = 0; p < CMP_PATTERNS; p++)
		n += scnprintf(buf + n, cap - n, "%-7s %8llu.%03llu %10llu.%03llu %8llu.%03llu\n",
			       cmp_pattern[p], CMP_RATIO(cmp.ns[p][CMP_TID], cmp.ns[p][CMP_KERNEL]),
			       CMP_RATIO(cmp.ns[p][CMP_SHEAVES], cmp.ns[p][CMP_KERNEL]),
			       CMP_RATIO(cmp.ns[p][CMP_SHEAVES], cmp.ns[p][CMP_TID]));
	return n + 1 >= (long)cap ? (long)cap * 2 : n;
}

void kslub_stress_exit(void)
{
	/* After kslub_run_shutdown(): no run is in progress or can start. */
	kfree(st.per);
	st.per = NULL;
}
