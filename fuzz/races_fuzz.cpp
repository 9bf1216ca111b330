// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target `races`: tasks on 2-4 virtual CPUs racing through the
 * lockless fast paths and the slow paths of shared caches, interleaved by
 * the input's schedule (preemption, interrupts, migration, CPU hotplug).
 * See fuzz/races/harness.h for the input layout and the oracle.
 *
 * Set KSLUB_TIMELINE=1 to print the per-CPU timeline of a finding when
 * running the target on a crash file (or use fuzz-replay).
 */
#include <stdlib.h>
#include <string.h>

#include "races/harness.h"

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	races::Options o;
	const char *t = getenv("KSLUB_TIMELINE");
	o.timeline = t && strcmp(t, "0") != 0;
	o.verbose = o.timeline;
	races::set_options(o);
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return races::run(data, size);
}
