/* SPDX-License-Identifier: GPL-2.0-only */
/* What the C files of the module share: the instance, debugfs, stress, self-test. */
#ifndef KSLUB_MODULE_MODULE_H
#define KSLUB_MODULE_MODULE_H

#include <linux/dcache.h>
#include <linux/mutex.h>

#include "kslub_mod.h"

struct kslub_module {
	struct kslub_mod *k;   /* the instance made at load */
	struct dentry *dir;    /* /sys/kernel/debug/kslub */
	struct dentry *caches; /* .../caches */
	struct mutex lock;     /* the executor and every rendering (debugfs.c: the locking rules) */
};
extern struct kslub_module kslub_module;

void *kslub_block_alloc(int *node);
void kslub_block_free(void *base);

void kslub_debugfs_init(void);
void kslub_debugfs_exit(void);
void kslub_control_exit(void);

/* Unload: refuse new stress and compare runs, stop one in progress and wait for its end. */
void kslub_run_shutdown(void);
void kslub_stress_exit(void);

void kslub_selftest_run(void);
void kslub_selftest_exit(void);

#endif
