// SPDX-License-Identifier: GPL-2.0-only
#include "sim/sim.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace sim {

namespace {

constexpr size_t STACK_BYTES = 256 << 10;
constexpr size_t TIMELINE_EVENTS = 16384;
constexpr unsigned MAX_INTERRUPTS = 64; /* per run: every handler allocates or frees */

struct Event {
	uint64_t step;
	uint8_t cpu;
	char who[8];
	char text[120];
};

Event timeline_ring[TIMELINE_EVENTS];
size_t timeline_count = 0;

} // namespace

Sim::Sim()
{
	for (unsigned i = 0; i < MAX_CONTEXTS; i++)
		ctx_[i].fiber.start(&Sim::fiber_main, &ctx_[i], STACK_BYTES);
}

static Sim *the_sim = nullptr;

void Sim::fiber_main(void *arg)
{
	Context *c = static_cast<Context *>(arg);
	for (;;) {
		c->work(c->work_arg, c);
		the_sim->check_op_end(c);
		c->has_work = false;
		c->yield = Y_DONE;
		Fiber::switch_to(c->fiber, the_sim->main_);
	}
}

void Sim::reset(unsigned nr_cpus, unsigned nr_tasks, const uint8_t *sched, size_t sched_len)
{
	the_sim = this;
	nr_cpus_ = nr_cpus;
	nr_tasks_ = nr_tasks;
	active_ = 0;
	current_ = nullptr;
	countdown_ = 0;
	step_ = 0;
	hotplug_busy_ = false;
	interrupts_ = preemptions_ = migrations_ = hotplugs_ = 0;
	sched_.reset(sched, sched_len);
	timeline_count = 0;
	for (unsigned i = 0; i < MAX_CPUS; i++)
		cpus_[i] = VCpu{i < nr_cpus, nullptr, nullptr, {}, 0};
	for (unsigned i = 0; i < MAX_CONTEXTS; i++) {
		Context &c = ctx_[i];
		c.in_use = i < nr_tasks;
		c.kind = Kind::Task;
		c.cpu = i % nr_cpus;
		c.preempt_count = 0;
		c.irqs_off = false;
		c.has_work = false;
		c.steps = 0;
		c.waiting = nullptr;
		snprintf(c.name, sizeof(c.name), "T%u", i);
		if (c.in_use)
			enqueue(c.cpu, &c);
	}
}

void Sim::set_handlers(FindingFn finding, IrqFn irq, HotplugFn hotplug, LabelFn label, void *arg)
{
	finding_fn_ = finding;
	irq_fn_ = irq;
	hotplug_fn_ = hotplug;
	label_fn_ = label;
	handler_arg_ = arg;
}

void Sim::enqueue(unsigned cpu, Context *c)
{
	VCpu &v = cpus_[cpu];
	v.runq[v.nr++] = c;
	c->cpu = cpu;
}

void Sim::dequeue(unsigned cpu, Context *c)
{
	VCpu &v = cpus_[cpu];
	for (unsigned i = 0; i < v.nr; i++) {
		if (v.runq[i] == c) {
			v.runq[i] = v.runq[--v.nr];
			break;
		}
	}
	if (v.curr == c)
		v.curr = nullptr;
}

void Sim::assign(unsigned task, Work work, void *arg)
{
	Context &c = ctx_[task];
	c.work = work;
	c.work_arg = arg;
	c.has_work = true;
	c.steps = 0;
}

/* What CPU `cpu` runs now: an interrupt handler, its current task, or the next task with work. */
Context *Sim::running(unsigned cpu)
{
	VCpu &v = cpus_[cpu];
	if (v.irq)
		return v.irq;
	if (v.curr && v.curr->has_work)
		return v.curr;
	v.curr = nullptr;
	for (unsigned i = 0; i < v.nr; i++) {
		if (v.runq[i]->has_work) {
			v.curr = v.runq[i];
			return v.curr;
		}
	}
	return nullptr;
}

int Sim::other_cpu_with_work(unsigned from, unsigned param)
{
	for (unsigned i = 1; i <= nr_cpus_; i++) {
		unsigned cpu = (from + (param % nr_cpus_) + i) % nr_cpus_;
		if (cpu != from && running(cpu))
			return int(cpu);
	}
	return -1;
}

bool Sim::preemptible(const Context *c) const
{
	return c->kind != Kind::Irq && c->preempt_count == 0 && !c->irqs_off;
}

Context *Sim::alloc_context(Kind kind, unsigned cpu)
{
	for (unsigned i = nr_tasks_; i < MAX_CONTEXTS; i++) {
		Context &c = ctx_[i];
		if (c.in_use)
			continue;
		c.in_use = true;
		c.kind = kind;
		c.cpu = cpu;
		c.preempt_count = kind == Kind::Irq ? 1 : 0;
		c.irqs_off = kind == Kind::Irq;
		c.has_work = false;
		c.steps = 0;
		c.waiting = nullptr;
		snprintf(c.name, sizeof(c.name), kind == Kind::Irq ? "irq%u" : "hp%u", i);
		return &c;
	}
	return nullptr;
}

void Sim::resume(Context *c)
{
	current_ = c;
	Fiber::switch_to(main_, c->fiber);
	current_ = nullptr;
}

void Sim::check_op_end(Context *c)
{
	int expect_preempt = c->kind == Kind::Irq ? 1 : 0;
	if (c->preempt_count != expect_preempt || c->irqs_off != (c->kind == Kind::Irq))
		finding("balance", "%s ended an operation with preempt count %d and interrupts %s",
			c->name, c->preempt_count, c->irqs_off ? "off" : "on");
}

void Sim::run_round()
{
	for (;;) {
		Context *c = running(active_);
		if (!c) {
			int cpu = other_cpu_with_work(active_, 0);
			if (cpu < 0) {
				/* Offline CPUs keep no tasks; anything left is a harness error. */
				for (unsigned i = 0; i < MAX_CONTEXTS; i++)
					if (ctx_[i].in_use && ctx_[i].has_work)
						finding("scheduler",
							"%s has work but no CPU runs it",
							ctx_[i].name);
				return;
			}
			active_ = unsigned(cpu);
			continue;
		}
		resume(c);
		switch (c->yield) {
		case Y_DONE:
			if (c->kind != Kind::Task) {
				if (c->kind == Kind::Irq)
					cpus_[c->cpu].irq = nullptr;
				else
					hotplug_busy_ = false;
				dequeue(c->cpu, c);
				c->in_use = false;
			}
			break;
		case Y_SPIN: {
			Context *owner = c->waiting->owner;
			if (!owner || owner == c || owner->cpu == c->cpu)
				finding("deadlock", "%s spins on a lock held by %s on its own CPU",
					c->name, owner ? owner->name : "nobody");
			active_ = owner->cpu;
			break;
		}
		case Y_ACTION: apply(c, c->action % 8, c->action / 8); break;
		}
	}
}

void Sim::apply(Context *c, unsigned action, unsigned param)
{
	unsigned cpu = c->cpu;
	VCpu &v = cpus_[cpu];
	switch (action) {
	case A_SWITCH_CPU:
	case A_SWITCH_CPU2: {
		int other = other_cpu_with_work(cpu, param);
		if (other >= 0)
			active_ = unsigned(other);
		break;
	}
	case A_PREEMPT: {
		if (v.irq || !preemptible(c))
			break;
		for (unsigned i = 0; i < v.nr; i++) {
			Context *t = v.runq[(i + param) % v.nr];
			if (t != c && t->has_work) {
				note("%s preempted by %s", c->name, t->name);
				v.curr = t;
				preemptions_++;
				break;
			}
		}
		break;
	}
	case A_INTERRUPT: {
		/*
		 * An interrupt on this CPU or, by param bits 3-4, on another one, idle or
		 * not (CPUs run in parallel), which then runs the handler at once. Its
		 * work is chosen by param bits 0-2.
		 */
		unsigned target = (cpu + (param >> 3)) % nr_cpus_;
		VCpu &tv = cpus_[target];
		Context *r = running(target);
		if (!tv.online || tv.irq || (r && r->irqs_off) || interrupts_ >= MAX_INTERRUPTS ||
		    !irq_fn_)
			break;
		Context *irq = alloc_context(Kind::Irq, target);
		if (!irq)
			break;
		interrupts_++;
		irq->has_work = true;
		irq->work = [](void *arg, Context *self) {
			Sim *s = static_cast<Sim *>(arg);
			s->irq_fn_(s->handler_arg_, self, self->action);
		};
		irq->work_arg = this;
		irq->action = param & 7;
		tv.irq = irq;
		tv.runq[tv.nr++] = irq;
		active_ = target;
		note("interrupt on cpu%u while %s runs there", target, r ? r->name : "nothing");
		break;
	}
	case A_MIGRATE: {
		if (v.irq || !preemptible(c) || c->kind != Kind::Task)
			break;
		for (unsigned i = 1; i < nr_cpus_; i++) {
			unsigned dest = (cpu + i + param) % nr_cpus_;
			if (dest != cpu && cpus_[dest].online) {
				dequeue(cpu, c);
				enqueue(dest, c);
				migrations_++;
				note("%s migrated cpu%u -> cpu%u", c->name, cpu, dest);
				break;
			}
		}
		break;
	}
	case A_HOTPLUG: {
		if (hotplug_busy_ || !hotplug_fn_)
			break;
		unsigned t = param % nr_cpus_;
		VCpu &tv = cpus_[t];
		if (!tv.online) {
			tv.online = true;
			hotplugs_++;
			note("cpu%u online", t);
			break;
		}
		unsigned online = 0;
		for (unsigned i = 0; i < nr_cpus_; i++)
			online += cpus_[i].online;
		/* stop_machine waits for the CPU to reach a preemptible point. */
		Context *r = running(t);
		if (online < 2 || tv.irq || (r && !preemptible(r)))
			break;
		tv.online = false;
		hotplugs_++;
		note("cpu%u offline; its tasks move away", t);
		unsigned dest = (t + 1) % nr_cpus_;
		while (tv.nr) {
			Context *m = tv.runq[0];
			dequeue(t, m);
			while (!cpus_[dest].online)
				dest = (dest + 1) % nr_cpus_;
			enqueue(dest, m);
			dest = (dest + 1) % nr_cpus_;
		}
		while (!cpus_[dest].online)
			dest = (dest + 1) % nr_cpus_;
		Context *hp = alloc_context(Kind::Hotplug, dest);
		if (!hp)
			finding("scheduler", "no context left for the hotplug thread");
		hotplug_busy_ = true;
		hp->has_work = true;
		hp->action = t;
		hp->work = [](void *arg, Context *self) {
			Sim *s = static_cast<Sim *>(arg);
			s->hotplug_fn_(s->handler_arg_, self, self->action);
		};
		hp->work_arg = this;
		enqueue(dest, hp);
		break;
	}
	default: break;
	}
}

void Sim::point()
{
	Context *c = current_;
	if (!c)
		return;
	step_++;
	if (++c->steps > STEP_LIMIT)
		finding("livelock", "%s made no progress in %llu steps of one operation", c->name,
			(unsigned long long)STEP_LIMIT);
	if (countdown_) {
		countdown_--;
		return;
	}
	/*
	 * A decision is one byte: the action in bits 0-2 (0 and 1: continue) and in
	 * bits 3-7 how many points to let pass before the next decision; an action
	 * other than continue takes one more byte, its parameter. Short delays keep
	 * a window of a few points reachable by changing one byte.
	 */
	uint8_t a, param = 0;
	if (!sched_.next(&a)) {
		countdown_ = ~uint64_t(0);
		return;
	}
	countdown_ = a >> 3;
	if (a % 8 < A_SWITCH_CPU)
		return;
	sched_.next(&param);
	c->yield = Y_ACTION;
	c->action = (unsigned(param) << 3) | (a % 8);
	Fiber::switch_to(c->fiber, main_);
}

void Sim::lock(Lock &l)
{
	Context *c = current_;
	if (!c) {
		if (l.owner)
			finding("deadlock", "setup code takes a lock held by %s", l.owner->name);
		l.owner = reinterpret_cast<Context *>(&main_);
		return;
	}
	point();
	while (l.owner) {
		c->waiting = &l;
		c->yield = Y_SPIN;
		Fiber::switch_to(c->fiber, main_);
		c->waiting = nullptr;
	}
	l.owner = c;
}

bool Sim::try_lock(Lock &l)
{
	Context *c = current_;
	if (!c) {
		if (l.owner)
			return false;
		l.owner = reinterpret_cast<Context *>(&main_);
		return true;
	}
	point();
	if (l.owner)
		return false;
	l.owner = c;
	return true;
}

void Sim::unlock(Lock &l)
{
	point();
	l.owner = nullptr;
}

void Sim::preempt_disable()
{
	if (current_)
		current_->preempt_count++;
}

void Sim::preempt_enable()
{
	if (current_ && --current_->preempt_count < 0)
		finding("balance", "%s: preempt_enable without preempt_disable", current_->name);
}

bool Sim::irqs_save_disable()
{
	if (!current_)
		return false;
	bool was = current_->irqs_off;
	current_->irqs_off = true;
	current_->preempt_count++;
	return was;
}

void Sim::irqs_restore(bool was_off)
{
	if (!current_)
		return;
	current_->irqs_off = was_off;
	current_->preempt_count--;
}

void Sim::note(const char *fmt, ...)
{
	if (!timeline_)
		return;
	Event &e = timeline_ring[timeline_count++ % TIMELINE_EVENTS];
	e.step = step_;
	e.cpu = uint8_t(current_ ? current_->cpu : 0xff);
	snprintf(e.who, sizeof(e.who), "%s", current_ ? current_->name : "sched");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e.text, sizeof(e.text), fmt, ap);
	va_end(ap);
}

void Sim::label(const void *addr, char *buf, size_t cap) const
{
	if (label_fn_)
		label_fn_(handler_arg_, addr, buf, cap);
	else
		snprintf(buf, cap, "%p", addr);
}

void Sim::print_timeline() const
{
	size_t n = timeline_count < TIMELINE_EVENTS ? timeline_count : TIMELINE_EVENTS;
	size_t first = timeline_count - n;
	constexpr int COL = 58;
	fprintf(stderr,
		"\n=== timeline (%zu events%s; one column per virtual CPU, scheduler events at the left) ===\n",
		n, timeline_count > n ? ", oldest dropped" : "");
	fprintf(stderr, "%7s  ", "step");
	for (unsigned cpu = 0; cpu < nr_cpus_; cpu++) {
		char h[16];
		snprintf(h, sizeof(h), "cpu%u", cpu);
		fprintf(stderr, "%-*s", COL, h);
	}
	fputc('\n', stderr);
	for (size_t i = first; i < timeline_count; i++) {
		const Event &e = timeline_ring[i % TIMELINE_EVENTS];
		char cell[160];
		snprintf(cell, sizeof(cell), "%s %s", e.who, e.text);
		if (e.cpu == 0xff) {
			fprintf(stderr, "%7llu  ** %s\n", (unsigned long long)e.step, cell);
			continue;
		}
		fprintf(stderr, "%7llu  %*s%s\n", (unsigned long long)e.step, int(e.cpu) * COL, "",
			cell);
	}
	fprintf(stderr, "=== end of timeline ===\n");
}

void Sim::finding(const char *check, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	if (timeline_)
		print_timeline();
	if (finding_fn_)
		finding_fn_(check, detail);
	else
		fprintf(stderr, "sim: FINDING [%s]: %s\n", check, detail);
	abort();
}

} // namespace sim
