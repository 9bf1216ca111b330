// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `races` harness: tasks on virtual CPUs doing alloc, free, bulk,
 * kmalloc and shrink on shared caches, interleaved by the fuzzer's schedule
 * (fuzz/sim/sim.h), with an oracle that knows no particular bug.
 *
 * Input layout: byte 0 configures (CPUs 2..4, nodes 1..2, extra tasks,
 * cache sizes); operations are read from the front, one per task per round;
 * the schedule is read from the back (a byte per decision, action and delay,
 * plus a parameter byte for actions; see Sim::point). Once the operations run
 * out no round starts; once the schedule runs out tasks run to completion.
 */
#ifndef KSLUB_FUZZ_RACES_HARNESS_H
#define KSLUB_FUZZ_RACES_HARNESS_H

#include <stddef.h>
#include <stdint.h>

namespace races {

struct Options {
	bool timeline = false;	      /* record and print the per-CPU timeline on a finding */
	bool exit_on_finding = false; /* exit(1) instead of abort() (the replay tool) */
	bool verbose = false;	      /* print a summary of the run */
};

void set_options(const Options &o);

/* One run over one input. Returns 0; a finding prints its report and never returns. */
int run(const uint8_t *data, size_t size);

} // namespace races

#endif
