// SPDX-License-Identifier: GPL-2.0-only
/*
 * kslub_record.bpf.c: the kernel half of kslub-record. Six kmem tracepoints
 * (kmalloc, kfree, kmem_cache_alloc, kmem_cache_free, mm_page_alloc,
 * mm_page_free) each send one struct kslub_rec through a ring buffer.
 *
 * The tracepoint records differ between kernels (kmem_cache_alloc has a
 * __data_loc `name` only from 6.x-late kernels on, e.g. 6.18; 6.1 has none).
 * The structures below are local flavours (the ___kslub suffix is ignored by
 * CO-RE matching) naming only the fields read here; libbpf relocates every
 * offset against the running kernel's BTF, and bpf_core_field_exists()
 * decides at load time whether a field is there at all.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "kslub_record.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * Set by the loader before load. Process ids are those of the recorder's
 * PID namespace (pidns_dev, pidns_ino: its /proc/self/ns/pid), which need
 * not be the kernel's global ones (containers).
 */
const volatile __u32 target_tgid = 0; /* 0: every process */
const volatile __u32 self_tgid = 0;   /* when set, that process (the recorder) is left out */
const volatile __u64 pidns_dev = 0;
const volatile __u64 pidns_ino = 0;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} events SEC(".maps");

/* Records the ring buffer had no room for, per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

struct trace_event_raw_kmalloc___kslub {
	unsigned long call_site;
	const void *ptr;
	size_t bytes_req;
	size_t bytes_alloc;
	unsigned long gfp_flags;
} __attribute__((preserve_access_index));

struct trace_event_raw_kmem_cache_alloc___kslub {
	unsigned long call_site;
	const void *ptr;
	__u32 __data_loc_name;
	size_t bytes_req;
	size_t bytes_alloc;
	unsigned long gfp_flags;
} __attribute__((preserve_access_index));

struct trace_event_raw_kfree___kslub {
	unsigned long call_site;
	const void *ptr;
} __attribute__((preserve_access_index));

struct trace_event_raw_kmem_cache_free___kslub {
	unsigned long call_site;
	const void *ptr;
	__u32 __data_loc_name;
} __attribute__((preserve_access_index));

struct trace_event_raw_mm_page_alloc___kslub {
	unsigned long pfn;
	unsigned int order;
	unsigned long gfp_flags;
} __attribute__((preserve_access_index));

struct trace_event_raw_mm_page_free___kslub {
	unsigned long pfn;
	unsigned int order;
} __attribute__((preserve_access_index));

static __always_inline int wanted(void)
{
	struct bpf_pidns_info ns;
	__u32 tgid;

	if (!target_tgid && !self_tgid)
		return 1;
	if (pidns_ino) {
		/* Fails for tasks outside the recorder's namespace: not the process asked for. */
		if (bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)))
			return !target_tgid;
		tgid = ns.tgid;
	} else {
		tgid = bpf_get_current_pid_tgid() >> 32;
	}
	if (self_tgid && tgid == self_tgid)
		return 0;
	return !target_tgid || tgid == target_tgid;
}

static __always_inline struct kslub_rec *start(__u16 type)
{
	struct kslub_rec *r;
	__u32 zero = 0;
	__u64 *n;

	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		n = bpf_map_lookup_elem(&lost, &zero);
		if (n)
			*n += 1;
		return 0;
	}
	r->ts_ns = bpf_ktime_get_ns();
	r->cpu = bpf_get_smp_processor_id();
	r->type = type;
	r->order = 0;
	r->ptr = 0;
	r->call_site = 0;
	r->bytes_req = 0;
	r->bytes_alloc = 0;
	r->gfp_flags = 0;
	r->cache[0] = 0;
	return r;
}

/* A __data_loc field: offset from the start of the record in the low 16 bits. */
static __always_inline void copy_name(struct kslub_rec *r, const void *ctx, __u32 loc)
{
	bpf_probe_read_kernel_str(r->cache, sizeof(r->cache), (const char *)ctx + (loc & 0xffff));
}

SEC("tracepoint/kmem/kmalloc")
int on_kmalloc(struct trace_event_raw_kmalloc___kslub *ctx)
{
	struct kslub_rec *r;

	if (!wanted() || !(r = start(KSLUB_REC_KMALLOC)))
		return 0;
	r->ptr = (__u64)BPF_CORE_READ(ctx, ptr);
	r->call_site = BPF_CORE_READ(ctx, call_site);
	r->bytes_req = BPF_CORE_READ(ctx, bytes_req);
	r->bytes_alloc = BPF_CORE_READ(ctx, bytes_alloc);
	r->gfp_flags = BPF_CORE_READ(ctx, gfp_flags);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/kmem/kfree")
int on_kfree(struct trace_event_raw_kfree___kslub *ctx)
{
	struct kslub_rec *r;

	if (!wanted() || !(r = start(KSLUB_REC_KFREE)))
		return 0;
	r->ptr = (__u64)BPF_CORE_READ(ctx, ptr);
	r->call_site = BPF_CORE_READ(ctx, call_site);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/kmem/kmem_cache_alloc")
int on_kmem_cache_alloc(struct trace_event_raw_kmem_cache_alloc___kslub *ctx)
{
	struct kslub_rec *r;

	if (!wanted() || !(r = start(KSLUB_REC_CACHE_ALLOC)))
		return 0;
	r->ptr = (__u64)BPF_CORE_READ(ctx, ptr);
	r->call_site = BPF_CORE_READ(ctx, call_site);
	r->bytes_req = BPF_CORE_READ(ctx, bytes_req);
	r->bytes_alloc = BPF_CORE_READ(ctx, bytes_alloc);
	r->gfp_flags = BPF_CORE_READ(ctx, gfp_flags);
	if (bpf_core_field_exists(ctx->__data_loc_name))
		copy_name(r, ctx, BPF_CORE_READ(ctx, __data_loc_name));
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/kmem/kmem_cache_free")
int on_kmem_cache_free(struct trace_event_raw_kmem_cache_free___kslub *ctx)
{
	struct kslub_rec *r;

	if (!wanted() || !(r = start(KSLUB_REC_CACHE_FREE)))
		return 0;
	r->ptr = (__u64)BPF_CORE_READ(ctx, ptr);
	r->call_site = BPF_CORE_READ(ctx, call_site);
	if (bpf_core_field_exists(ctx->__data_loc_name))
		copy_name(r, ctx, BPF_CORE_READ(ctx, __data_loc_name));
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/kmem/mm_page_alloc")
int on_mm_page_alloc(struct trace_event_raw_mm_page_alloc___kslub *ctx)
{
	struct kslub_rec *r;

	if (!wanted() || !(r = start(KSLUB_REC_PAGE_ALLOC)))
		return 0;
	r->ptr = BPF_CORE_READ(ctx, pfn);
	r->order = BPF_CORE_READ(ctx, order);
	r->gfp_flags = BPF_CORE_READ(ctx, gfp_flags);
	bpf_ringbuf_submit(r, 0);
	return 0;
}

SEC("tracepoint/kmem/mm_page_free")
int on_mm_page_free(struct trace_event_raw_mm_page_free___kslub *ctx)
{
	struct kslub_rec *r;

	if (!wanted() || !(r = start(KSLUB_REC_PAGE_FREE)))
		return 0;
	r->ptr = BPF_CORE_READ(ctx, pfn);
	r->order = BPF_CORE_READ(ctx, order);
	bpf_ringbuf_submit(r, 0);
	return 0;
}
