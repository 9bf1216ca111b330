// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target `trace`: the trace CSV reader (userspace/lib/trace_csv.cpp)
 * on arbitrary bytes, from a buffer and from a stream read in small blocks,
 * then the replay of what it accepted into a small deterministic instance
 * (16 MiB, the trace's CPUs: up to 256).
 *
 * The reader runs with small limits so that an input of a few KiB reaches
 * them: 8 caches, lines of 512 bytes (the shipped ones are 1024 and 4096);
 * the CPU limit is the real one (256), reached by '# cpus=' and the cpu
 * column alone.
 *
 * Oracle: the reader accounts for every line (accepted records plus
 * malformed lines never exceed the lines read; every record and error names
 * a line of the input, in increasing order); the limits hold (caches, CPUs,
 * the stream reader's buffers); the stream reader reads what the buffer
 * reader reads; an accepted record written back as CSV reads back to the
 * same record; a trace with an unusable '# cpus=' is refused by the replay
 * and any other is replayed; the replay gets no report from the allocator,
 * no refused free and no inconsistency in any cache or the page allocator
 * (it never misuses the API, whatever the trace says); counts add up; the
 * instance tears down with nothing left (LeakSanitizer).
 */
#include "kslub.h"
#include "trace_csv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>

using namespace kslub_trace;

namespace {

[[noreturn]] void finding(const char *what, unsigned long long a = 0, unsigned long long b = 0)
{
	fprintf(stderr, "kslub-fuzz(trace): %s (%llu, %llu)\n", what, a, b);
	abort();
}

bool same(const Record &a, const Record &b, const Trace &ta, const Trace &tb)
{
	return a.ts_ns == b.ts_ns && a.ptr == b.ptr && a.call_site == b.call_site &&
	       a.bytes_req == b.bytes_req && a.bytes_alloc == b.bytes_alloc &&
	       a.gfp_flags == b.gfp_flags && a.cpu == b.cpu && a.event == b.event &&
	       ta.cache_of(a) == tb.cache_of(b);
}

TraceLimits fuzz_limits()
{
	TraceLimits lim;
	lim.max_line = 512;
	lim.max_caches = 8;
	return lim;
}

/* The stream reader on the same bytes, BLOCK at a time, reads the same trace. */
void check_stream(const uint8_t *data, size_t size, const Trace &t, size_t block)
{
	if (!size)
		return; /* fmemopen() wants a buffer */
	FILE *f = fmemopen(const_cast<uint8_t *>(data), size, "r");
	if (!f)
		finding("fmemopen failed");
	TraceLimits lim = fuzz_limits();
	lim.read_block = block;
	Trace s;
	std::string err;
	bool ok = read_trace_stream(f, "input", &s, &err, 8, lim);
	fclose(f);
	if (!ok)
		finding("the stream reader failed on a memory stream");
	if (s.read_buffer_bytes > block + 2 * (lim.max_line + 1))
		finding("the stream reader held more than its buffers", s.read_buffer_bytes, block);
	if (s.lines != t.lines || s.nr_errors != t.nr_errors ||
	    s.errors.size() != t.errors.size() || s.records.size() != t.records.size() ||
	    s.cpus != t.cpus || s.lost != t.lost || s.kernel != t.kernel ||
	    s.header_seen != t.header_seen || s.caches != t.caches ||
	    s.cache_names != t.cache_names || s.fatal.line != t.fatal.line ||
	    s.fatal.what != t.fatal.what || s.max_cpu != t.max_cpu)
		finding("the stream reader read another trace than the buffer reader", s.lines,
			t.lines);
	for (size_t i = 0; i < t.errors.size(); i++)
		if (s.errors[i].line != t.errors[i].line || s.errors[i].what != t.errors[i].what)
			finding("the stream reader reported another error", i, s.errors[i].line);
	for (size_t i = 0; i < t.records.size(); i++)
		if (!same(t.records[i], s.records[i], t, s) ||
		    t.records[i].line != s.records[i].line)
			finding("the stream reader read another record", i);
}

void check_cache(kslub_cache_t *s, void *)
{
	if (long e = kslub_cache_check(s, nullptr))
		finding("cache check found errors after the replay", (unsigned long long)e);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const TraceLimits lim = fuzz_limits();
	Trace t;
	parse_trace(reinterpret_cast<const char *>(data), size, &t, 8, lim);

	if (t.records.size() + t.nr_errors > t.lines + 1) /* + 1: "no header" at the end */
		finding("more records and errors than lines", t.records.size() + t.nr_errors,
			t.lines);
	uint64_t sum = 0, prev = 0;
	for (unsigned e = 0; e < NR_EVENTS; e++)
		sum += t.per_event[e];
	if (sum != t.records.size())
		finding("per-event counts do not add up", sum, t.records.size());
	for (const Record &r : t.records) {
		if (!r.line || r.line > t.lines || r.line <= prev)
			finding("record line numbers out of order", r.line, prev);
		prev = r.line;
		if (r.cache_id >= t.cache_names.size())
			finding("cache id out of range", r.cache_id);
	}
	for (const LineError &e : t.errors)
		if (e.line > t.lines || e.what.empty())
			finding("error without a line of the input", e.line, t.lines);

	/* The limits. */
	if (t.caches > lim.max_caches || t.cache_names.size() > size_t(lim.max_caches) + 1)
		finding("more caches than the limit", t.caches, t.cache_names.size());
	for (const Record &r : t.records)
		if (r.cpu >= TRACE_MAX_CPUS)
			finding("a record of a CPU kslub does not have", r.cpu);
	if (t.max_cpu >= TRACE_MAX_CPUS || t.cpus == 0 || t.cpus > TRACE_MAX_CPUS || t.cpus < -1)
		finding("CPUs out of range", t.max_cpu, (unsigned long long)t.cpus);
	if (t.fatal.line > t.lines || (t.fatal.line && t.fatal.what.empty()))
		finding("an unusable trace without its line", t.fatal.line, t.lines);
	check_stream(data, size, t, 1 + size % 61);

	/* Round trip: the header and every accepted record, written back, read back the same. */
	std::string again = std::string(CSV_HEADER) + "\n";
	for (const Record &r : t.records)
		again += format_record(t, r);
	Trace t2;
	parse_trace(again.data(), again.size(), &t2, 8, lim);
	if (t2.nr_errors || t2.records.size() != t.records.size())
		finding("a written record does not read back", t2.nr_errors, t2.records.size());
	for (size_t i = 0; i < t.records.size(); i++)
		if (!same(t.records[i], t2.records[i], t, t2))
			finding("a record changed on the way through CSV", i);

	ReplayOptions o;
	o.cpus = 0; /* the trace's: '# cpus=', else its highest CPU + 1 */
	o.pool_bytes = 16u << 20;
	Replayer rp(o);
	std::string err;
	bool started = rp.start(t, &err);
	if (t.fatal.line) {
		if (started || err.find("line " + std::to_string(t.fatal.line) + ": ") != 0)
			finding("a trace with an unusable '# cpus=' was not refused", t.fatal.line);
		return 0;
	}
	if (!started)
		finding("kslub_create failed");
	for (const Record &r : t.records)
		rp.apply(t, r);
	ReplayReport rep;
	rp.report(&rep);
	if (rep.reports || rep.free_errors)
		finding("the allocator reported misuse during a replay", rep.reports,
			rep.free_errors);
	if (rep.events != t.records.size() ||
	    rep.kmalloc_events != t.per_event[unsigned(Event::Kmalloc)])
		finding("replayed events differ from the records", rep.events, t.records.size());
	if (rep.kmalloc_agree > rep.kmalloc_events || rep.reuse_agree > rep.reuse_eligible)
		finding("agreement above its denominator");
	if (rep.cpus > TRACE_MAX_CPUS || rep.caches_created > t.caches)
		finding("the replay went past the trace's CPUs or caches", rep.cpus,
			rep.caches_created);
	uint64_t allocs = 0, frees = 0, live = 0;
	for (const CacheReport &c : rep.caches) {
		allocs += c.allocs;
		frees += c.frees;
		live += c.live;
		if (c.allocs - c.frees < c.live || c.peak_live < c.live)
			finding("per-cache counts inconsistent", c.allocs, c.frees);
	}
	if (frees > allocs)
		finding("more frees than allocations replayed", frees, allocs);
	if (live != rep.live_at_end)
		finding("live objects differ from the pointer map", live, rep.live_at_end);
	kslub_for_each_cache(rp.instance(), check_cache, nullptr);
	if (kslub_buddy_check(rp.instance()))
		finding("page allocator check found errors after the replay");
	return 0;
}
