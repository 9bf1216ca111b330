// SPDX-License-Identifier: GPL-2.0-only
#include "sim/fiber.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SIM_ASAN 1
#endif
#ifdef SIM_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#if !defined(__x86_64__)
#error "the simulation's fibers switch stacks with x86-64 code"
#endif

/*
 * sim_fiber_switch(void **save_sp, void *new_sp): push the callee-saved
 * registers, store the stack pointer in *save_sp, load new_sp, pop the other
 * fiber's registers and return into it.
 */
__asm__(".text\n"
	".globl sim_fiber_switch\n"
	".type sim_fiber_switch,@function\n"
	"sim_fiber_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size sim_fiber_switch, .-sim_fiber_switch\n");

extern "C" void sim_fiber_switch(void **save_sp, void *new_sp);

namespace sim {

namespace {
Fiber *starting = nullptr; /* the fiber the trampoline is entering */
Fiber *previous = nullptr; /* the fiber that switched away last */
} // namespace

void Fiber::learn_previous(const void *bottom, size_t size)
{
	if (previous && !previous->bottom_) {
		previous->bottom_ = bottom;
		previous->size_ = size;
	}
}

Fiber::~Fiber()
{
	if (stack_)
		munmap(stack_, stack_bytes_);
}

void Fiber::start(Entry entry, void *arg, size_t stack_bytes)
{
	stack_bytes_ = (stack_bytes + 4095) & ~size_t(4095);
	stack_ = mmap(nullptr, stack_bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (stack_ == MAP_FAILED) {
		perror("sim: fiber stack");
		abort();
	}
	bottom_ = stack_;
	size_ = stack_bytes_;
	entry_ = entry;
	arg_ = arg;
	/*
	 * The first switch pops six registers and returns into the trampoline
	 * with the stack as a call would leave it (rsp % 16 == 8 at entry).
	 */
	uintptr_t top = (uintptr_t(stack_) + stack_bytes_) & ~uintptr_t(15);
	void **sp = reinterpret_cast<void **>(top - 16);
	sp[1] = nullptr; /* the trampoline's return address: none */
	sp[0] = reinterpret_cast<void *>(&Fiber::trampoline); /* where ret goes */
	sp -= 6;
	for (int i = 0; i < 6; i++)
		sp[i] = nullptr;
	sp_ = sp;
	fresh_ = true;
}

void Fiber::trampoline()
{
	Fiber *self = starting;
#ifdef SIM_ASAN
	const void *bottom;
	size_t size;
	__sanitizer_finish_switch_fiber(nullptr, &bottom, &size);
	learn_previous(bottom, size);
#endif
	self->entry_(self->arg_);
	fprintf(stderr, "sim: a fiber returned from its entry\n");
	abort();
}

void Fiber::switch_to(Fiber &from, Fiber &to)
{
	if (!to.sp_) {
		fprintf(stderr, "sim: switch to a fiber that is running or was never started\n");
		abort();
	}
	if (to.fresh_) {
		to.fresh_ = false;
		starting = &to;
	}
	previous = &from;
#ifdef SIM_ASAN
	__sanitizer_start_switch_fiber(&from.fake_stack_, to.bottom_, to.size_);
#endif
	void *target = to.sp_;
	to.sp_ = nullptr;
	sim_fiber_switch(&from.sp_, target);
#ifdef SIM_ASAN
	const void *bottom;
	size_t size;
	__sanitizer_finish_switch_fiber(from.fake_stack_, &bottom, &size);
	learn_previous(bottom, size);
#endif
}

} // namespace sim
