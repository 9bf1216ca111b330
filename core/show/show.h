// SPDX-License-Identifier: GPL-2.0-only
/*
 * Umbrella header of the text layer: /proc/slabinfo, /proc/buddyinfo and the
 * /sys/kernel/slab/<cache>/ files rendered from one instance, for the
 * module's debugfs files and for user-space tools and tests. It sits on the
 * SLUB layer.
 */
#ifndef KSLUB_SHOW_SHOW_H
#define KSLUB_SHOW_SHOW_H

#include "base/base.h"
#include "slub/slub.h"
#include "show/slabinfo.h"
#include "show/sysfs.h"

#endif
