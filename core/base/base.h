// SPDX-License-Identifier: GPL-2.0-only
/*
 * Umbrella header of the ground floor: the build options (config.h), types,
 * bit helpers and assertion tiers (types.h), the platform contract
 * (platform.h), the intrusive list (list.h) and the freestanding text
 * formatter (format.h). Every layer above includes this file and no other
 * file of this folder; code outside core/ that needs only the contract
 * (a platform) includes it too.
 */
#ifndef KSLUB_BASE_BASE_H
#define KSLUB_BASE_BASE_H

#include "base/config.h"
#include "base/types.h"
#include "base/platform.h"
#include "base/list.h"
#include "base/format.h"

#endif
