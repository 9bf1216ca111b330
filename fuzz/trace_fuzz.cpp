// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target `trace`: the trace CSV reader (userspace/lib/trace_csv.cpp)
 * on arbitrary bytes, then the replay of what it accepted into a small
 * deterministic instance (4 CPUs, 16 MiB).
 *
 * Oracle: the reader accounts for every line (accepted records plus
 * malformed lines never exceed the lines read; every record and error names
 * a line of the input, in increasing order); an accepted record written back
 * as CSV reads back to the same record; the replay gets no report from the
 * allocator, no refused free and no inconsistency in any cache or the page
 * allocator (it never misuses the API, whatever the trace says); counts add
 * up; the instance tears down with nothing left (LeakSanitizer).
 */
#include "kslub.h"
#include "lib/trace_csv.h"

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

void check_cache(kslub_cache_t *s, void *)
{
	if (long e = kslub_cache_check(s, nullptr))
		finding("cache check found errors after the replay", (unsigned long long)e);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Trace t;
	parse_trace(reinterpret_cast<const char *>(data), size, &t, 8);

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

	/* Round trip: the header and every accepted record, written back, read back the same. */
	std::string again = std::string(CSV_HEADER) + "\n";
	for (const Record &r : t.records)
		again += format_record(t, r);
	Trace t2;
	parse_trace(again.data(), again.size(), &t2, 8);
	if (t2.nr_errors || t2.records.size() != t.records.size())
		finding("a written record does not read back", t2.nr_errors, t2.records.size());
	for (size_t i = 0; i < t.records.size(); i++)
		if (!same(t.records[i], t2.records[i], t, t2))
			finding("a record changed on the way through CSV", i);

	ReplayOptions o;
	o.cpus = 4;
	o.pool_bytes = 16u << 20;
	Replayer rp(o);
	std::string err;
	if (!rp.start(t, &err))
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
