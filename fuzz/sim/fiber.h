// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fibers for the simulation: each task of a virtual CPU runs core code on its
 * own stack, and the scheduler switches between them at the core's accessor
 * calls. One host thread runs everything, so a run is a pure function of the
 * fuzzer's input.
 *
 * The switch saves the callee-saved registers and the stack pointer (x86-64
 * System V) and tells AddressSanitizer about every stack change, so that its
 * stack bookkeeping and reports stay right across fibers.
 */
#ifndef KSLUB_FUZZ_SIM_FIBER_H
#define KSLUB_FUZZ_SIM_FIBER_H

#include <stddef.h>

namespace sim {

class Fiber {
public:
	using Entry = void (*)(void *arg);

	/* The fiber of the calling thread's own stack (the scheduler). */
	Fiber() = default;
	Fiber(const Fiber &) = delete;
	Fiber &operator=(const Fiber &) = delete;
	~Fiber();

	/* Give this fiber a stack of its own that starts in entry(arg) at the first switch to it. */
	void start(Entry entry, void *arg, size_t stack_bytes);

	/* Suspend `from` (the fiber running now) and resume `to`. */
	static void switch_to(Fiber &from, Fiber &to);

private:
	static void trampoline();
	static void learn_previous(const void *bottom, size_t size);

	void *sp_ = nullptr;
	void *stack_ = nullptr;
	size_t stack_bytes_ = 0;
	Entry entry_ = nullptr;
	void *arg_ = nullptr;
	void *fake_stack_ = nullptr; /* ASan's fake stack of a suspended fiber */
	const void *bottom_ =
		nullptr; /* stack bounds as ASan wants them; learned for the thread's own */
	size_t size_ = 0;
	bool fresh_ = false; /* started, never entered */
};

} // namespace sim

#endif
