/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The trace CSV: what kslub-record (bpf/kslub_record.c, C) writes and the
 * library's reader (userspace/lib/trace_csv.h, C++) reads. Plain C, for both.
 *
 *   # kernel=6.18.44          metadata lines, before the header
 *   # cpus=2
 *   # lost=0
 *   KSLUB_TRACE_CSV_HEADER    the header line
 *   3039044080598,1,kmalloc,0xffff888137450080,0xffffffff8179abd4,50,64,0xdc0,
 *
 * `event` is one of KSLUB_TRACE_EVENT_NAMES; ts_ns, cpu, bytes_req,
 * bytes_alloc are decimal; ptr, call_site, gfp_flags are 0x-hex; cache is
 * empty when unknown. Page events carry the pfn in ptr and
 * PAGE_SIZE << order in bytes_alloc.
 */
#ifndef KSLUB_TRACE_CSV_FORMAT_H
#define KSLUB_TRACE_CSV_FORMAT_H

#define KSLUB_TRACE_CSV_HEADER "ts_ns,cpu,event,ptr,call_site,bytes_req,bytes_alloc,gfp_flags,cache"
#define KSLUB_TRACE_CSV_FIELDS 9

/*
 * A record up to its last field, the cache name, for printf: ts_ns, cpu,
 * event, ptr, call_site, bytes_req, bytes_alloc, gfp_flags as unsigned long
 * long, unsigned, const char *, then unsigned long long for the rest.
 */
#define KSLUB_TRACE_CSV_RECORD_PREFIX "%llu,%u,%s,0x%llx,0x%llx,%llu,%llu,0x%llx,"

/*
 * The values of the event column, for an array initialiser, in the order of
 * the recorder's enum kslub_rec_type (bpf/kslub_record.h) and the reader's
 * kslub_trace::Event (both check it).
 */
#define KSLUB_TRACE_EVENT_NAMES \
	"kmalloc", "kfree", "cache_alloc", "cache_free", "page_alloc", "page_free"
#define KSLUB_TRACE_NR_EVENTS 6

#endif
