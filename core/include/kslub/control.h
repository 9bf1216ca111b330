// SPDX-License-Identifier: GPL-2.0-only
/*
 * Umbrella header of the control layer: the command language of debugfs
 * `control` (control_parse) and its executor (Control<P>) over one Slub<P>.
 * The grammar, limits and errno table open control/control.h.
 */
#ifndef KSLUB_CONTROL_H
#define KSLUB_CONTROL_H

#include <kslub/slub.h>
#include "lib/format.h"
#include "control/control.h"

#endif
