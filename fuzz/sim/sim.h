// SPDX-License-Identifier: GPL-2.0-only
/*
 * The simulation: N virtual CPUs with tasks on them, scheduled by the
 * fuzzer's bytes at every point where the core touches shared state.
 *
 * Model. Each task (and each interrupt handler, and the CPU-hotplug thread)
 * is a fiber. One fiber runs at a time, so the model is sequentially
 * consistent: it finds interleaving bugs, not memory-ordering bugs. Every
 * accessor of the platform contract (load, store, cas2, this_cpu_cas2,
 * free-pointer reads and writes, lock operations) is a scheduling point.
 * At a point the schedule may:
 *   - continue;
 *   - switch to another virtual CPU: CPUs run in parallel, so this is always
 *     allowed, also while the task holds a lock or has interrupts off;
 *   - preempt: run another task of the same CPU, only where the kernel could
 *     (preempt count 0, interrupts on);
 *   - interrupt: run a handler that allocates or frees to completion on this
 *     CPU or another one (busy or idle), then resume what it interrupted,
 *     only while that CPU's interrupts are on;
 *   - migrate: move the task to another CPU, only where it is preemptible;
 *   - take a CPU offline (its tasks move away, a hotplug thread then runs the
 *     core's cpu_dead for it, as slub_cpu_dead) or bring it back.
 * A task spinning on a lock yields to the CPU of the holder. When the
 * schedule's bytes run out, every fiber runs to completion.
 *
 * Per-CPU operations act on the CPU the fiber is on at that step, and are
 * atomic with respect to that CPU (this_cpu_cas2). An unlocked CAS aimed at
 * another CPU's slot (cpu_local_cas2: not in the platform contract, used
 * only by the seeded bug fuzz/mutants/cas-on-start-cpu.patch)
 * is a read, a scheduling point and a write.
 *
 * Oracle hooks: the harness installs a finding handler; the simulation itself
 * reports a livelock (an operation that takes more than STEP_LIMIT steps), a
 * deadlock (a lock whose holder cannot run), and unbalanced preemption or
 * interrupt state at the end of an operation.
 */
#ifndef KSLUB_FUZZ_SIM_SIM_H
#define KSLUB_FUZZ_SIM_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "sim/fiber.h"

namespace sim {

constexpr unsigned MAX_CPUS = 4;
constexpr unsigned MAX_TASKS = 8;
constexpr unsigned MAX_CONTEXTS = MAX_TASKS + MAX_CPUS + 2;
constexpr uint64_t STEP_LIMIT =
	20000; /* steps one operation may take before it is called a livelock */

enum class Kind : uint8_t { Task, Irq, Hotplug };

struct Context;
using Work = void (*)(void *arg, Context *self);

struct Lock {
	Context *owner;
};

struct Context {
	Fiber fiber;
	char name[8];
	Kind kind;
	bool in_use;
	unsigned cpu;
	int preempt_count;
	bool irqs_off;
	bool has_work;
	Work work;
	void *work_arg;
	uint64_t steps; /* in the current operation */
	int yield;	/* why it last gave control back (Sim::Yield) */
	unsigned action;
	Lock *waiting;
};

struct VCpu {
	bool online;
	Context *curr;
	Context *irq;
	Context *runq[MAX_CONTEXTS];
	unsigned nr;
};

/* The schedule: bytes read from the end of the input towards the front (decisions: Sim::point). */
class Schedule {
public:
	void reset(const uint8_t *data, size_t n)
	{
		data_ = data;
		left_ = n;
	}
	bool next(uint8_t *b)
	{
		if (!left_)
			return false;
		*b = data_[--left_];
		return true;
	}

private:
	const uint8_t *data_ = nullptr;
	size_t left_ = 0;
};

class Sim {
public:
	enum Yield { Y_DONE, Y_ACTION, Y_SPIN };
	enum Action : unsigned {
		A_SWITCH_CPU = 2,
		A_PREEMPT = 3,
		A_INTERRUPT = 4,
		A_MIGRATE = 5,
		A_HOTPLUG = 6,
		A_SWITCH_CPU2 = 7,
	};
	using FindingFn = void (*)(const char *check, const char *detail);
	/* The harness's interrupt handler: runs on `cpu` in interrupt context; param chooses what it does. */
	using IrqFn = void (*)(void *arg, Context *self, unsigned param);
	using HotplugFn = void (*)(void *arg, Context *self, unsigned dead_cpu);
	using LabelFn = void (*)(void *arg, const void *addr, char *buf, size_t cap);

	Sim();

	/* A fresh run: CPUs all online, tasks 0..nr_tasks-1 placed round robin. */
	void reset(unsigned nr_cpus, unsigned nr_tasks, const uint8_t *sched, size_t sched_len);
	void set_handlers(FindingFn finding, IrqFn irq, HotplugFn hotplug, LabelFn label,
			  void *arg);
	void set_timeline(bool on) { timeline_ = on; }
	bool timeline() const { return timeline_; }
	/* Record accessor events: timeline on and a fiber running (not setup or the checks between rounds). */
	bool tracing() const { return timeline_ && current_; }

	/* Give task t its next operation; run_round() then runs every pending operation to completion. */
	void assign(unsigned task, Work work, void *arg);
	void run_round();

	/* Called by the platform from inside fibers. */
	void point();
	Context *current() const { return current_; }
	unsigned raw_cpu() const { return current_ ? current_->cpu : 0; }
	unsigned nr_cpus() const { return nr_cpus_; }
	bool cpu_online(unsigned cpu) const { return cpu < nr_cpus_ && cpus_[cpu].online; }
	void lock(Lock &l);
	bool try_lock(Lock &l); /* a scheduling point, then the lock if it is free */
	void unlock(Lock &l);
	void preempt_disable();
	void preempt_enable();
	bool irqs_save_disable();
	void irqs_restore(bool was_off);

	/* Timeline: what the fiber running now did, recorded when the timeline is on. */
	void note(const char *fmt, ...) __attribute__((format(printf, 2, 3)));
	void label(const void *addr, char *buf, size_t cap) const;
	void print_timeline() const;
	[[noreturn]] void finding(const char *check, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));

	uint64_t steps() const { return step_; }
	unsigned interrupts() const { return interrupts_; }
	unsigned preemptions() const { return preemptions_; }
	unsigned migrations() const { return migrations_; }
	unsigned hotplugs() const { return hotplugs_; }

private:
	static void fiber_main(void *arg);
	Context *running(unsigned cpu);
	Context *alloc_context(Kind kind, unsigned cpu);
	void resume(Context *c);
	void apply(Context *c, unsigned action, unsigned param);
	bool preemptible(const Context *c) const;
	void enqueue(unsigned cpu, Context *c);
	void dequeue(unsigned cpu, Context *c);
	int other_cpu_with_work(unsigned from, unsigned param);
	void check_op_end(Context *c);

	Fiber main_;
	Context ctx_[MAX_CONTEXTS];
	VCpu cpus_[MAX_CPUS];
	unsigned nr_cpus_ = 0;
	unsigned nr_tasks_ = 0;
	unsigned active_ = 0;
	Context *current_ = nullptr;
	Schedule sched_;
	uint64_t countdown_ = 0;
	uint64_t step_ = 0;
	bool hotplug_busy_ = false;
	unsigned interrupts_ = 0, preemptions_ = 0, migrations_ = 0, hotplugs_ = 0;

	FindingFn finding_fn_ = nullptr;
	IrqFn irq_fn_ = nullptr;
	HotplugFn hotplug_fn_ = nullptr;
	LabelFn label_fn_ = nullptr;
	void *handler_arg_ = nullptr;
	bool timeline_ = false;
};

} // namespace sim

#endif
