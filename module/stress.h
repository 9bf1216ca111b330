/* SPDX-License-Identifier: GPL-2.0-only */
/* The delegated control commands: stress (kthreads on every CPU) and compare (kslub against the kernel's SLUB). */
#ifndef KSLUB_MODULE_STRESS_H
#define KSLUB_MODULE_STRESS_H

/*
 * The run slot: one stress or compare at a time. kslub_run_claim() (under
 * control_mutex; what: "stress NAME" or "compare SIZE", for the refusal's
 * text) gives 0, or -EBUSY with the result line written when a run is in
 * progress (-ENODEV while unloading); every 0 needs one kslub_run_release()
 * after the run.
 */
int kslub_run_claim(const char *what);
void kslub_run_release(void);
/* Whether a run holds the slot (stable while control_mutex is held: no claim). */
bool kslub_run_active(void);
/*
 * stop: end the run in progress, if any, and wait (interruptibly) until it
 * has ended; its result line is then the control result. Takes no mutex
 * that a run or a writer holds for long. Always 0.
 */
int kslub_run_stop(void);

/*
 * Both run in the writing task holding the run slot, with control_mutex and
 * kslub_module.lock not held; 0 or -errno (-ECANCELED: stopped, -EINTR: a
 * fatal signal), the result line written either way.
 */
int kslub_stress_run(const char *name, unsigned long long ops);
int kslub_compare_run(unsigned long long size, unsigned long long ops);
/* The texts of debugfs stress and compare (scnprintf's contract, never more than cap - 1). */
long kslub_stress_render(char *buf, unsigned long cap);
long kslub_compare_render(char *buf, unsigned long cap);

#endif
