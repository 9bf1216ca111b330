// SPDX-License-Identifier: GPL-2.0-only
/* Umbrella header of the buddy page allocator layer. */
#ifndef KSLUB_BUDDY_H
#define KSLUB_BUDDY_H

#include <kslub/base.h>
#include <kslub/platform.h>
#include "buddy/page.h"
#include "buddy/buddy.h"

#endif
