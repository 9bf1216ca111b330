/* SPDX-License-Identifier: GPL-2.0-only */
/* The delegated control commands: stress (kthreads on every CPU) and compare (kslub against the kernel's SLUB). */
#ifndef KSLUB_MODULE_STRESS_H
#define KSLUB_MODULE_STRESS_H

/* Both run in the writing task with control_mutex held and kslub_module.lock not held; 0 or -errno. */
int kslub_stress_run(const char *name, unsigned long long ops);
int kslub_compare_run(unsigned long long size, unsigned long long ops);
/* The texts of debugfs stress and compare (scnprintf's contract, never more than cap - 1). */
long kslub_stress_render(char *buf, unsigned long cap);
long kslub_compare_render(char *buf, unsigned long cap);

#endif
