// SPDX-License-Identifier: GPL-2.0-only
/*
 * Umbrella header of the control layer: the command language of debugfs
 * `control` (command.h: grammar, limits, errno table; parse.h: control_parse)
 * and its executor (executor.h: Control<P>) over one Slub<P>. It sits on the
 * SLUB layer.
 */
#ifndef KSLUB_CONTROL_CONTROL_H
#define KSLUB_CONTROL_CONTROL_H

#include "base/base.h"
#include "slub/slub.h"
#include "control/command.h"
#include "control/parse.h"
#include "control/executor.h"

#endif
