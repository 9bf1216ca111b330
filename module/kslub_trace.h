/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Tracepoints kslub:kslub_cache_alloc, kslub_cache_free, kslub_kmalloc and
 * kslub_kfree: the fields of kmem:kmem_cache_alloc, kmem_cache_free, kmalloc
 * and kfree, and always the cache's name (as kmem_cache_alloc has from 6.18
 * on), so that one bpftrace script reads both allocators. Registering any of
 * them raises kslub_shim_tracing_on, which the core's entry points test
 * before they build an event: untraced, the fast path never calls out.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM kslub

#if !defined(KSLUB_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define KSLUB_TRACE_H

#include <linux/tracepoint.h>
#include <linux/version.h>

/* __assign_str() lost its source argument in 6.10. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define kslub_assign_str(dst, src) __assign_str(dst)
#else
#define kslub_assign_str(dst, src) __assign_str(dst, src)
#endif

int kslub_trace_reg(void);
void kslub_trace_unreg(void);

/* The tracepoint macros read as the kernel lays them out, not as clang-format would. */
/* clang-format off */
TRACE_EVENT_FN(kslub_cache_alloc,
	TP_PROTO(unsigned long call_site, const void *ptr, size_t bytes_req, size_t bytes_alloc,
		 unsigned long gfp_flags, int node, const char *name),
	TP_ARGS(call_site, ptr, bytes_req, bytes_alloc, gfp_flags, node, name),
	TP_STRUCT__entry(
		__field(unsigned long, call_site)
		__field(const void *, ptr)
		__field(size_t, bytes_req)
		__field(size_t, bytes_alloc)
		__field(unsigned long, gfp_flags)
		__field(int, node)
		__field(bool, accounted)
		__string(name, name)
	),
	TP_fast_assign(
		__entry->call_site = call_site;
		__entry->ptr = ptr;
		__entry->bytes_req = bytes_req;
		__entry->bytes_alloc = bytes_alloc;
		__entry->gfp_flags = gfp_flags;
		__entry->node = node;
		__entry->accounted = false;
		kslub_assign_str(name, name);
	),
	TP_printk("call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%#lx node=%d accounted=%s name=%s",
		  (void *)__entry->call_site, __entry->ptr, __entry->bytes_req, __entry->bytes_alloc,
		  __entry->gfp_flags, __entry->node, __entry->accounted ? "true" : "false", __get_str(name)),
	kslub_trace_reg, kslub_trace_unreg);

TRACE_EVENT_FN(kslub_kmalloc,
	TP_PROTO(unsigned long call_site, const void *ptr, size_t bytes_req, size_t bytes_alloc,
		 unsigned long gfp_flags, int node, const char *name),
	TP_ARGS(call_site, ptr, bytes_req, bytes_alloc, gfp_flags, node, name),
	TP_STRUCT__entry(
		__field(unsigned long, call_site)
		__field(const void *, ptr)
		__field(size_t, bytes_req)
		__field(size_t, bytes_alloc)
		__field(unsigned long, gfp_flags)
		__field(int, node)
		__string(name, name)
	),
	TP_fast_assign(
		__entry->call_site = call_site;
		__entry->ptr = ptr;
		__entry->bytes_req = bytes_req;
		__entry->bytes_alloc = bytes_alloc;
		__entry->gfp_flags = gfp_flags;
		__entry->node = node;
		kslub_assign_str(name, name);
	),
	TP_printk("call_site=%pS ptr=%p bytes_req=%zu bytes_alloc=%zu gfp_flags=%#lx node=%d name=%s",
		  (void *)__entry->call_site, __entry->ptr, __entry->bytes_req, __entry->bytes_alloc,
		  __entry->gfp_flags, __entry->node, __get_str(name)),
	kslub_trace_reg, kslub_trace_unreg);

/* Frees: the fields of kmem:kmem_cache_free (kmem:kfree has no name). */
DECLARE_EVENT_CLASS(kslub_free,
	TP_PROTO(unsigned long call_site, const void *ptr, const char *name),
	TP_ARGS(call_site, ptr, name),
	TP_STRUCT__entry(
		__field(unsigned long, call_site)
		__field(const void *, ptr)
		__string(name, name)
	),
	TP_fast_assign(
		__entry->call_site = call_site;
		__entry->ptr = ptr;
		kslub_assign_str(name, name);
	),
	TP_printk("call_site=%pS ptr=%p name=%s", (void *)__entry->call_site, __entry->ptr, __get_str(name))
);

DEFINE_EVENT_FN(kslub_free, kslub_cache_free,
	TP_PROTO(unsigned long call_site, const void *ptr, const char *name),
	TP_ARGS(call_site, ptr, name),
	kslub_trace_reg, kslub_trace_unreg);

DEFINE_EVENT_FN(kslub_free, kslub_kfree,
	TP_PROTO(unsigned long call_site, const void *ptr, const char *name),
	TP_ARGS(call_site, ptr, name),
	kslub_trace_reg, kslub_trace_unreg);
/* clang-format on */

#endif /* KSLUB_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE kslub_trace
#include <trace/define_trace.h>
