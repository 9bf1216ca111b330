// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kslub:* tracepoints (kslub_trace.h) and the shim call through which
 * the core emits them while anybody listens.
 */
#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/numa.h>

#define CREATE_TRACE_POINTS
#include "kslub_trace.h"

#include "shim.h"

int kslub_shim_tracing_on;
static atomic_t kslub_trace_users = ATOMIC_INIT(0);

/* Registration of any kslub tracepoint (tracefs, perf, BPF). */
int kslub_trace_reg(void)
{
	if (atomic_inc_return(&kslub_trace_users) == 1)
		WRITE_ONCE(kslub_shim_tracing_on, 1);
	return 0;
}

void kslub_trace_unreg(void)
{
	if (atomic_dec_and_test(&kslub_trace_users))
		WRITE_ONCE(kslub_shim_tracing_on, 0);
}

/* The core's allocation flags as the gfp_t a kernel caller would have passed. */
static unsigned long kslub_trace_gfp(unsigned int core_gfp)
{
	gfp_t gfp = GFP_KERNEL;

	if (core_gfp & KSLUB_SHIM_GFP_ZERO)
		gfp |= __GFP_ZERO;
	if (core_gfp & KSLUB_SHIM_GFP_THISNODE)
		gfp |= __GFP_THISNODE;
	return (__force unsigned long)gfp;
}

void kslub_shim_trace(unsigned int kind, const char *cache, const void *ptr,
		      unsigned long call_site, unsigned long bytes_req, unsigned long bytes_alloc,
		      unsigned int gfp, int node)
{
	if (!cache)
		cache = "";
	switch (kind) {
	case KSLUB_SHIM_TRACE_CACHE_ALLOC:
		trace_kslub_cache_alloc(call_site, ptr, bytes_req, bytes_alloc,
					kslub_trace_gfp(gfp), node, cache);
		break;
	case KSLUB_SHIM_TRACE_CACHE_FREE: trace_kslub_cache_free(call_site, ptr, cache); break;
	case KSLUB_SHIM_TRACE_KMALLOC:
		trace_kslub_kmalloc(call_site, ptr, bytes_req, bytes_alloc, kslub_trace_gfp(gfp),
				    node, cache);
		break;
	case KSLUB_SHIM_TRACE_KFREE: trace_kslub_kfree(call_site, ptr, cache); break;
	}
}
