// SPDX-License-Identifier: GPL-2.0-only
/*
 * The C++ side of one module instance: the platform of the kernel build
 * (chosen here, once) and the core instantiated on it.
 */
#ifndef KSLUB_MODULE_INSTANCE_H
#define KSLUB_MODULE_INSTANCE_H

#include "slub/slub.h"
#include "control/control.h"
#include "show/show.h"

#include "kernel_platform.h"
#include "kslub_mod.h"

using ModPlatform = kslub::KernelPlatform;
using ModCache = kslub::KmemCache<ModPlatform>;

struct kslub_mod {
	ModPlatform pal;
	kslub::Allocator<ModPlatform> alloc;
	kslub::Control<ModPlatform> control; /* the debugfs control file's executor */

	kslub_mod() : alloc(pal), control(alloc.slub()) {}
};

/* A zeroed, constructed instance with its platform initialised (not yet init()); nullptr on failure. */
kslub_mod *mod_instance_new();
void mod_instance_delete(kslub_mod *k);

#endif
