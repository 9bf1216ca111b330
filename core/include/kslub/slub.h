// SPDX-License-Identifier: GPL-2.0-only
/* Umbrella header of the SLUB layer; includes the buddy layer below it. */
#ifndef KSLUB_SLUB_H
#define KSLUB_SLUB_H

#include <kslub/buddy.h>
#include "slub/geometry.h"
#include "slub/kmalloc.h"
#include "slub/stats.h"
#include "slub/cache.h"
#include "slub/object.h"
#include "slub/alloc.h"
#include "slub/free.h"
#include "slub/lists.h"
#include "slub/lifecycle.h"
#include "slub/validate.h"

#endif
