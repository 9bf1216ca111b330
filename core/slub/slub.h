// SPDX-License-Identifier: GPL-2.0-only
/*
 * Umbrella header of the SLUB layer; it sits on the buddy layer. Ends with
 * instance.h, the one class every build creates (buddy allocator + SLUB).
 */
#ifndef KSLUB_SLUB_SLUB_H
#define KSLUB_SLUB_SLUB_H

#include "base/base.h"
#include "buddy/buddy.h"
#include "slub/geometry.h"
#include "slub/size_classes.h"
#include "slub/stats.h"
#include "slub/cache.h"
#include "slub/object.h"
#include "slub/alloc.h"
#include "slub/free.h"
#include "slub/bulk.h"
#include "slub/refill.h"
#include "slub/sheaf.h"
#include "slub/lists.h"
#include "slub/lifecycle.h"
#include "slub/kmalloc.h"
#include "slub/info.h"
#include "slub/validate.h"
#include "slub/instance.h"

#endif
