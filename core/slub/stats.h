// SPDX-License-Identifier: GPL-2.0-only
/* The SLUB_STATS event counters, kept per CPU in every kmem_cache_cpu. */
#ifndef KSLUB_SLUB_STATS_H
#define KSLUB_SLUB_STATS_H

#include "base/base.h"

namespace kslub {

enum StatItem : unsigned {
	ALLOC_FASTPATH,		 /* allocation from the CPU freelist by the lockless CAS */
	ALLOC_SLOWPATH,		 /* allocation that entered ___slab_alloc */
	FREE_FASTPATH,		 /* free to the CPU slab by the lockless CAS */
	FREE_SLOWPATH,		 /* free that entered __slab_free */
	FREE_FROZEN,		 /* free to a frozen slab (another CPU's slab or partial) */
	FREE_ADD_PARTIAL,	 /* free or unfreeze put a slab on the node partial list */
	FREE_REMOVE_PARTIAL,	 /* free emptied a slab and took it off the node partial list */
	ALLOC_FROM_PARTIAL,	 /* CPU slab taken from the node partial list */
	ALLOC_SLAB,		 /* CPU slab newly allocated from the page allocator */
	ALLOC_REFILL,		 /* CPU freelist refilled from the CPU slab's own freelist */
	ALLOC_NODE_MISMATCH,	 /* CPU slab dropped because it is on the wrong node */
	FREE_SLAB,		 /* slab returned to the page allocator */
	CPUSLAB_FLUSH,		 /* CPU slab deactivated by a flush or a racing refill */
	DEACTIVATE_FULL,	 /* deactivated slab was full */
	DEACTIVATE_EMPTY,	 /* deactivated slab was empty and discarded */
	DEACTIVATE_TO_HEAD,	 /* deactivated slab went to the head of the partial list */
	DEACTIVATE_TO_TAIL,	 /* deactivated slab went to the tail of the partial list */
	DEACTIVATE_REMOTE_FREES, /* deactivated slab had objects freed by other CPUs */
	DEACTIVATE_BYPASS,	 /* CPU slab found exhausted and dropped without deactivation */
	ORDER_FALLBACK,		 /* new slab allocated at the minimum order after a failure */
	CMPXCHG_DOUBLE_CPU_FAIL, /* fast-path CAS on {freelist, tid} failed */
	CMPXCHG_DOUBLE_FAIL,	 /* slab CAS on {freelist, counters} failed */
	CPU_PARTIAL_ALLOC,	 /* CPU slab taken from the CPU partial list */
	CPU_PARTIAL_FREE,	 /* free froze a full slab onto the CPU partial list */
	CPU_PARTIAL_NODE,	 /* slab moved from the node to the CPU partial list on refill */
	CPU_PARTIAL_DRAIN,	 /* CPU partial list drained to the node */
	NR_SLUB_STAT_ITEMS
};

inline const char *stat_name(unsigned i)
{
	static constexpr const char *names[NR_SLUB_STAT_ITEMS] = {
		"alloc_fastpath",      "alloc_slowpath",      "free_fastpath",
		"free_slowpath",       "free_frozen",	      "free_add_partial",
		"free_remove_partial", "alloc_from_partial",  "alloc_slab",
		"alloc_refill",	       "alloc_node_mismatch", "free_slab",
		"cpuslab_flush",       "deactivate_full",     "deactivate_empty",
		"deactivate_to_head",  "deactivate_to_tail",  "deactivate_remote_frees",
		"deactivate_bypass",   "order_fallback",      "cmpxchg_double_cpu_fail",
		"cmpxchg_double_fail", "cpu_partial_alloc",   "cpu_partial_free",
		"cpu_partial_node",    "cpu_partial_drain",
	};
	return i < NR_SLUB_STAT_ITEMS ? names[i] : "?";
}

} // namespace kslub

#endif
