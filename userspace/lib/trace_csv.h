/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Trace files of the kernel's slab and page allocator (written by
 * kslub-record) and their replay through a kslub instance. The format is
 * kslub_trace_csv.h's (DESIGN.md, "Observability").
 *
 * The reader never stops at a bad line: each one is reported with its line
 * number (1-based, counting every line of the file) and skipped.
 *
 * Limits (a trace is input from outside; they bound what the reader keeps
 * and what a replay makes kslub allocate):
 *
 *   CPUs    TRACE_MAX_CPUS (256), the most kslub_create() takes. A '# cpus='
 *           line outside 1..256 (or not a number) is reported and makes the
 *           trace unusable (Trace::fatal): Replayer::start() refuses it. A
 *           record whose cpu column is 256 or more is reported and skipped.
 *   caches  TraceLimits::max_caches (TRACE_MAX_CACHES, 1024) distinct caches:
 *           cache names, and for cache_alloc events without a name their
 *           bytes_alloc (each becomes a cache anon-<size>). A record that
 *           would add one more is reported and skipped; records of the
 *           caches already seen are not affected.
 *   lines   TraceLimits::max_line (TRACE_MAX_LINE, 4096) bytes, the '\n' and
 *           a '\r' before it not counted. A longer line is reported with its
 *           length and skipped; read_trace_stream() never holds more than
 *           max_line + 1 bytes of it (it reads read_block bytes at a time).
 *
 * Memory: each cache costs kslub a kmem_cache (424 bytes, in its pool) and
 * 256 bytes per CPU of per-CPU state outside the pool (kmem_cache_cpu with
 * its 26 counters): at the limits, 1024 caches on 256 CPUs, 64 MiB; and at
 * least one slab in the pool per CPU it allocates on. The replay's own
 * bookkeeping is a few hundred bytes per cache and one map entry (about 50
 * bytes) per CPU and cache with a free.
 */
#ifndef KSLUB_TRACE_CSV_H
#define KSLUB_TRACE_CSV_H

#include "kslub.h"
#include "kslub_trace_csv.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <memory>
#include <string>
#include <vector>

namespace kslub_trace {

constexpr unsigned TRACE_MAX_CPUS = 256; /* kslub_create()'s most CPUs */
constexpr uint32_t TRACE_MAX_CACHES = 1024;
constexpr size_t TRACE_MAX_LINE = 4096;

struct TraceLimits {
	size_t max_line = TRACE_MAX_LINE;	/* bytes of a line, without "\n" or "\r\n" */
	uint32_t max_caches = TRACE_MAX_CACHES; /* distinct caches of a trace */
	size_t read_block = size_t(64) << 10;	/* read_trace_stream()'s reads, in bytes */
};

enum class Event : uint8_t { Kmalloc, Kfree, CacheAlloc, CacheFree, PageAlloc, PageFree };
constexpr unsigned NR_EVENTS = KSLUB_TRACE_NR_EVENTS;
static_assert(unsigned(Event::PageFree) + 1 == NR_EVENTS, "Event follows KSLUB_TRACE_EVENT_NAMES");
/* The event column's value: one of KSLUB_TRACE_EVENT_NAMES. */
const char *event_name(Event e);

extern const char *const CSV_HEADER; /* KSLUB_TRACE_CSV_HEADER */

struct Record {
	uint64_t ts_ns = 0;
	uint64_t ptr = 0; /* object address; the pfn for page events */
	uint64_t call_site = 0;
	uint64_t bytes_req = 0;
	uint64_t bytes_alloc = 0;
	uint64_t gfp_flags = 0;
	uint32_t cpu = 0;
	uint32_t cache_id = 0; /* index into Trace::cache_names; 0 is "" */
	uint64_t line = 0;
	Event event = Event::Kmalloc;
};

struct LineError {
	uint64_t line;
	std::string what;
};

struct Trace {
	/* Metadata; empty / -1 when the file does not say. */
	std::string kernel;
	long long cpus = -1;
	long long lost = -1;

	bool header_seen = false;
	uint64_t lines = 0;		    /* lines in the file */
	uint64_t per_event[NR_EVENTS] = {}; /* accepted records per event */
	std::vector<Record> records;
	std::vector<std::string> cache_names{""}; /* interned cache column values */
	uint64_t nr_errors = 0;			  /* malformed lines, all counted ... */
	std::vector<LineError> errors;		  /* ... the first max_kept_errors kept */
	uint32_t max_cpu = 0;			  /* highest CPU of an accepted record */
	/*
	 * Distinct caches of the accepted records (at most max_caches): the
	 * names in cache_names but "", and the bytes_alloc of cache_alloc
	 * events without a name.
	 */
	uint32_t caches = 0;
	/*
	 * A line that makes the whole trace unusable (a '# cpus=' kslub cannot
	 * honour), also counted among the errors; line 0: none. The replay
	 * refuses such a trace.
	 */
	LineError fatal{0, std::string()};
	/* The most bytes read_trace_stream() held for reading lines at once (its buffers). */
	size_t read_buffer_bytes = 0;

	const std::string &cache_of(const Record &r) const { return cache_names[r.cache_id]; }
};

/*
 * Incremental reader: feed it lines (without the '\n'; a trailing '\r' is
 * ignored), then call finish(). Lines may contain any bytes, NULs included.
 * A line longer than lim.max_line is reported and skipped; a caller that
 * did not keep such a line passes its length to long_line() instead.
 */
class Reader {
public:
	explicit Reader(Trace *t, size_t max_kept_errors = 64,
			const TraceLimits &lim = TraceLimits());
	~Reader();
	Reader(const Reader &) = delete;
	Reader &operator=(const Reader &) = delete;
	void line(const char *s, size_t n);
	void long_line(uint64_t n); /* a line of n bytes (without "\n" or "\r\n") not kept */
	void finish();

private:
	void error(const std::string &what);
	struct Impl;
	Trace *t_;
	size_t max_kept_;
	TraceLimits lim_;
	std::unique_ptr<Impl> impl_;
};

/* A whole buffer; the last line need not end in '\n'. */
void parse_trace(const char *data, size_t len, Trace *t, size_t max_kept_errors = 64,
		 const TraceLimits &lim = TraceLimits());
/*
 * A stream (name is for messages), read lim.read_block bytes at a time;
 * a line is held whole only up to lim.max_line + 1 bytes. False (and
 * *err) only when it cannot be read at all.
 */
bool read_trace_stream(FILE *f, const char *name, Trace *t, std::string *err,
		       size_t max_kept_errors = 64, const TraceLimits &lim = TraceLimits());
/* A file ("-": standard input), as read_trace_stream(). */
bool read_trace_file(const char *path, Trace *t, std::string *err, size_t max_kept_errors = 64,
		     const TraceLimits &lim = TraceLimits());

/* One record as a CSV line (with its '\n'), the way kslub-record writes it. */
std::string format_record(const Trace &t, const Record &r);

/* ------------------------------------------------------------------------ */
/* Replay                                                                   */
/* ------------------------------------------------------------------------ */

struct ReplayOptions {
	unsigned cpus = 0; /* 0: the trace's "# cpus=", else its highest CPU + 1 (max 256) */
	size_t pool_bytes = size_t(1) << 30; /* kslub's page pool */
	unsigned create_flags = KSLUB_KERNEL_6_12;
	/*
	 * Take the rules from the trace's "# kernel=" line instead (6.1 before
	 * 6.12, 6.12 to 6.17, 6.18 to 6.x, 7.3 from 7.0; create_flags when the
	 * line is missing or unreadable). The per-CPU design follows: sheaves for
	 * every cache under 7.3, for the caches 6.18 creates with a
	 * sheaf_capacity (replay_sheaf_capacity) under 6.18.
	 */
	bool kernel_from_trace = false;
	bool tid_only = false; /* KSLUB_TID_ONLY: the TID design whatever the rules */
	/*
	 * Caches the replay creates in kslub, at most (the reader has already
	 * bounded a trace it read); a cache_alloc of one more is refused
	 * (cache_create_failures, alloc_failures).
	 */
	uint32_t max_caches = TRACE_MAX_CACHES;
};

constexpr unsigned REPLAY_MAX_ORDER = 11; /* page events of order >= this share the last bucket */

struct CacheReport {
	std::string name;	/* the kernel's name (kmalloc caches: kslub's) */
	std::string kslub_name; /* the kslub cache it was replayed on */
	bool kmalloc = false;	/* a kmalloc size class, or the large-kmalloc bucket */
	bool large = false;	/* the kmalloc_large bucket (pages, not a cache) */
	uint32_t object_size = 0;
	uint64_t allocs = 0, frees = 0, live = 0, peak_live = 0, alloc_failures = 0;
	uint64_t unseen_frees = 0;    /* its objects handed out again with no free traced between */
	uint64_t slabs_allocated = 0; /* ALLOC_SLAB */
	uint64_t slabs = 0;	      /* at the end */
	uint64_t memory_bytes = 0;    /* slabs * slab bytes at the end (large: live bytes) */
	uint64_t peak_memory_bytes = 0; /* large bucket only */
	uint64_t stats[KSLUB_NR_STATS] = {};
	uint32_t sheaf_capacity = 0; /* of the kslub cache it was replayed on; 0: TID design */
	/* LIFO reuse in this cache (see ReplayReport) */
	uint64_t reuse_eligible = 0, reuse_kernel = 0, reuse_kslub = 0, reuse_agree = 0;
};

/*
 * The caches Linux 6.18 creates with a sheaf_capacity (kmem_cache_args), and
 * that capacity (what a 6.18 guest's sysfs reads); 0 for any other name.
 */
uint32_t replay_sheaf_capacity(const std::string &cache_name);

/* The kslub_create() flag of a kernel release ("6.18.15+deb13-amd64"); false if unreadable. */
bool kernel_flag_of_release(const std::string &release, unsigned *flag);

struct ReplayReport {
	std::string rules; /* "6.1", "6.12", "6.18" or "7.3", and " (TID design)" when tid_only */
	bool rules_from_trace = false;
	unsigned cpus = 0;
	uint64_t events = 0;
	uint64_t per_event[NR_EVENTS] = {};
	/* Size classes: every kmalloc event, small and large. */
	uint64_t kmalloc_events = 0, kmalloc_agree = 0;
	uint64_t kmalloc_large_events = 0, kmalloc_large_agree = 0;
	/* Requests above 4 MiB that failed in the kernel and in kslub: counted as agreeing. */
	uint64_t kmalloc_both_failed = 0;
	struct Mismatch {
		uint64_t line, bytes_req, kernel_bytes_alloc, kslub_bytes_alloc;
	};
	std::vector<Mismatch> mismatches; /* the first few */
	/* Pointers. */
	uint64_t frees_unknown =
		0;		 /* kfree / cache_free of a pointer never allocated in the trace */
	uint64_t frees_null = 0; /* kfree(NULL) or of ZERO_SIZE_PTR */
	uint64_t alloc_over_live = 0; /* the kernel handed out a pointer the trace never freed */
	/*
	 * A kmalloc event repeating the one just before it on that CPU (same
	 * pointer and size, no free between): one allocation traced twice, as
	 * 6.18 does for large kvmalloc() requests (once inside
	 * __kvmalloc_node, once for its caller). Counted among the kmalloc
	 * events and size-checked against the object already replayed.
	 */
	uint64_t kmalloc_duplicates = 0;
	uint64_t kernel_failed_allocs = 0; /* ptr 0 in the trace */
	uint64_t alloc_failures = 0;	   /* kslub returned NULL */
	uint64_t free_errors = 0;	   /* kslub refused a free */
	uint64_t caches_created = 0, cache_create_failures = 0;
	uint64_t reports = 0; /* kslub misuse reports */
	uint64_t live_at_end = 0;
	/* Pages per order, from the trace (kslub's page allocator is not driven by them). */
	uint64_t page_alloc[REPLAY_MAX_ORDER] = {}, page_free[REPLAY_MAX_ORDER] = {};
	/* LIFO reuse: an allocation on (CPU, cache) right after a free there returns the freed object. */
	uint64_t reuse_eligible = 0, reuse_kernel = 0, reuse_kslub = 0, reuse_both = 0,
		 reuse_agree = 0;
	/* The same, for the caches replayed with sheaves only. */
	uint64_t reuse_eligible_sheaves = 0, reuse_agree_sheaves = 0;
	std::vector<CacheReport> caches;
	uint64_t stats[KSLUB_NR_STATS] = {}; /* summed over the caches above */
};

class Replayer {
public:
	explicit Replayer(const ReplayOptions &o);
	~Replayer(); /* frees every object still live and destroys the instance */
	Replayer(const Replayer &) = delete;
	Replayer &operator=(const Replayer &) = delete;

	/* Creates the instance for a trace (the CPU count may come from it). */
	bool start(const Trace &t, std::string *err);
	void apply(const Trace &t, const Record &r);
	/* Fills the report (can be called more than once). */
	void report(ReplayReport *out);
	kslub_t *instance() const;

private:
	struct Impl;
	std::unique_ptr<Impl> impl_;
};

/* Convenience: start, apply every record, report. */
bool replay_trace(const Trace &t, const ReplayOptions &o, ReplayReport *out, std::string *err);

} // namespace kslub_trace

#endif
