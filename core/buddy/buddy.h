// SPDX-License-Identifier: GPL-2.0-only
/* Umbrella header of the buddy page allocator layer; it sits on base/. */
#ifndef KSLUB_BUDDY_BUDDY_H
#define KSLUB_BUDDY_BUDDY_H

#include "base/base.h"
#include "buddy/page.h"
#include "buddy/allocator.h"

#endif
