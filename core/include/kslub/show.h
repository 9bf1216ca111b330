// SPDX-License-Identifier: GPL-2.0-only
/*
 * Umbrella header of the text layer: /proc/slabinfo, /proc/buddyinfo and the
 * /sys/kernel/slab/<cache>/ files rendered from one instance, for the
 * module's debugfs files and for user-space tools and tests.
 */
#ifndef KSLUB_SHOW_H
#define KSLUB_SHOW_H

#include <kslub/slub.h>
#include "lib/format.h"
#include "show/slabinfo.h"
#include "show/sysfs.h"

#endif
