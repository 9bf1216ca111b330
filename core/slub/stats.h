// SPDX-License-Identifier: GPL-2.0-only
/*
 * The SLUB_STATS event counters, kept per CPU in every kmem_cache_cpu: the
 * 26 of 6.1 (the TID design), then the 17 sheaf counters of 6.18, with 6.18's
 * names. Under the 6.18 rules a sheaf hit counts as alloc_cpu_sheaf /
 * free_cpu_sheaf; under 7.3's, as on 7.x (which has no other fast path and
 * drops those two), as alloc_fastpath / free_fastpath.
 */
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
	ALLOC_PCS,	     /* allocation from the CPU's main sheaf (6.18; 7.3: alloc_fastpath) */
	FREE_PCS,	     /* free to the CPU's main sheaf (6.18; 7.3: free_fastpath) */
	FREE_RCU_SHEAF,	     /* free_rcu put the object in the CPU's rcu_free sheaf */
	FREE_RCU_SHEAF_FAIL, /* free_rcu found no rcu_free sheaf and waited a grace period */
	SHEAF_FLUSH,	     /* objects flushed from sheaves back to slabs */
	SHEAF_REFILL,	     /* objects refilled into sheaves from slabs */
	SHEAF_ALLOC,	     /* empty sheaf allocated */
	SHEAF_FREE,	     /* empty sheaf freed */
	BARN_GET,	     /* full sheaf taken from the barn */
	BARN_GET_FAIL,	     /* no full sheaf in the barn */
	BARN_PUT,	     /* full sheaf put in the barn */
	BARN_PUT_FAIL,	     /* barn had no room (or no empty sheaf) for a full sheaf */
	SHEAF_PREFILL_FAST,  /* prefill took the CPU's spare sheaf */
	SHEAF_PREFILL_SLOW,  /* prefill found no spare sheaf */
	SHEAF_PREFILL_OVERSIZE, /* prefill larger than the capacity: a sheaf of its own size */
	SHEAF_RETURN_FAST,	/* returned sheaf became the CPU's spare */
	SHEAF_RETURN_SLOW,	/* returned sheaf went to the barn or was flushed */
	NR_SLUB_STAT_ITEMS
};

/* The first sheaf counter: the TID design's counters come before it (6.1 has only those). */
constexpr unsigned NR_TID_STAT_ITEMS = ALLOC_PCS;
static_assert(NR_TID_STAT_ITEMS == 26, "the 26 counters of 6.1 come first");

inline const char *stat_name(unsigned i)
{
	static constexpr const char *names[NR_SLUB_STAT_ITEMS] = {
		"alloc_fastpath",
		"alloc_slowpath",
		"free_fastpath",
		"free_slowpath",
		"free_frozen",
		"free_add_partial",
		"free_remove_partial",
		"alloc_from_partial",
		"alloc_slab",
		"alloc_refill",
		"alloc_node_mismatch",
		"free_slab",
		"cpuslab_flush",
		"deactivate_full",
		"deactivate_empty",
		"deactivate_to_head",
		"deactivate_to_tail",
		"deactivate_remote_frees",
		"deactivate_bypass",
		"order_fallback",
		"cmpxchg_double_cpu_fail",
		"cmpxchg_double_fail",
		"cpu_partial_alloc",
		"cpu_partial_free",
		"cpu_partial_node",
		"cpu_partial_drain",
		"alloc_cpu_sheaf",
		"free_cpu_sheaf",
		"free_rcu_sheaf",
		"free_rcu_sheaf_fail",
		"sheaf_flush",
		"sheaf_refill",
		"sheaf_alloc",
		"sheaf_free",
		"barn_get",
		"barn_get_fail",
		"barn_put",
		"barn_put_fail",
		"sheaf_prefill_fast",
		"sheaf_prefill_slow",
		"sheaf_prefill_oversize",
		"sheaf_return_fast",
		"sheaf_return_slow",
	};
	return i < NR_SLUB_STAT_ITEMS ? names[i] : "?";
}

} // namespace kslub

#endif
