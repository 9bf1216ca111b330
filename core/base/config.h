// SPDX-License-Identifier: GPL-2.0-only
/*
 * Build options of the core. One definition serves every build: the
 * top-level Kconfig. In a kernel tree the CONFIG_KSLUB_* symbols come from
 * Kconfig itself; elsewhere scripts/genconfig.sh turns Kconfig (plus .config
 * and environment overrides) into kslub_autoconf.h.
 */
#ifndef KSLUB_BASE_CONFIG_H
#define KSLUB_BASE_CONFIG_H

#if !defined(CONFIG_KSLUB_DEBUG)
#include <kslub_autoconf.h>
#endif

#ifndef CONFIG_KSLUB_STATS
#define CONFIG_KSLUB_STATS 0
#endif
#ifndef CONFIG_KSLUB_FREELIST_HARDENED
#define CONFIG_KSLUB_FREELIST_HARDENED 0
#endif
#ifndef CONFIG_KSLUB_FREELIST_RANDOM
#define CONFIG_KSLUB_FREELIST_RANDOM 0
#endif

#endif
