// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trace CSV reader and the replay (userspace/lib/trace_csv.cpp) on small
 * hand-written traces. Every expected count below is worked out by hand from
 * the lines of the trace and the kernel's rules (REFERENCE.md: kmalloc size
 * classes, LIFO fast paths), in the comment beside it.
 */
#include "kslub.h"
#include "trace_csv.h"

#include "base/base.h"

#include <gtest/gtest.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

using namespace kslub_trace;

namespace {

const std::string H = "ts_ns,cpu,event,ptr,call_site,bytes_req,bytes_alloc,gfp_flags,cache\n";

Trace parse(const std::string &s)
{
	Trace t;
	parse_trace(s.data(), s.size(), &t);
	return t;
}

ReplayReport replay(const Trace &t, unsigned cpus = 0)
{
	ReplayOptions o;
	o.cpus = cpus;
	o.pool_bytes = 16u << 20;
	ReplayReport r;
	std::string err;
	EXPECT_TRUE(replay_trace(t, o, &r, &err)) << err;
	return r;
}

const CacheReport *find(const ReplayReport &r, const std::string &name)
{
	for (const CacheReport &c : r.caches)
		if (c.name == name)
			return &c;
	return nullptr;
}

/*
 * A stream made up as it is read (fopencookie): each part is a text repeated
 * a number of times, so a line of many megabytes exists in no buffer.
 */
struct Generated {
	struct Part {
		std::string text;
		uint64_t times;
	};
	std::vector<Part> parts;
	size_t part = 0;
	uint64_t done = 0; /* repetitions of parts[part] written */
	size_t off = 0;	   /* into the one being written */

	static ssize_t read(void *cookie, char *buf, size_t size)
	{
		Generated *g = static_cast<Generated *>(cookie);
		size_t n = 0;
		while (n < size && g->part < g->parts.size()) {
			const Part &p = g->parts[g->part];
			if (g->done == p.times || p.text.empty()) {
				g->part++;
				g->done = 0;
				continue;
			}
			size_t k = p.text.size() - g->off;
			if (k > size - n)
				k = size - n;
			memcpy(buf + n, p.text.data() + g->off, k);
			n += k;
			g->off += k;
			if (g->off == p.text.size()) {
				g->off = 0;
				g->done++;
			}
		}
		return ssize_t(n);
	}

	FILE *open()
	{
		cookie_io_functions_t io = {};
		io.read = read;
		return fopencookie(this, "r", io);
	}
};

/* The lines the kept errors name, in order. */
std::vector<uint64_t> error_lines(const Trace &t)
{
	std::vector<uint64_t> v;
	for (const LineError &e : t.errors)
		v.push_back(e.line);
	return v;
}

std::vector<uint64_t> record_lines(const Trace &t)
{
	std::vector<uint64_t> v;
	for (const Record &r : t.records)
		v.push_back(r.line);
	return v;
}

int stat(const char *name)
{
	for (unsigned i = 0; i < KSLUB_NR_STATS; i++)
		if (std::string(kslub_stat_name(i)) == name)
			return int(i);
	ADD_FAILURE() << "no counter " << name;
	return 0;
}

} // namespace

TEST(TraceReader, MetadataHeaderAndRecords)
{
	Trace t = parse(
		"# kernel=6.18.44\n# cpus=2\n# lost=7\n# a comment\n" + H +
		"100,0,kmalloc,0xffff888100000000,0xffffffff81000000,50,64,0xdc0,\n"
		"101,1,cache_alloc,0xffff888100001000,0xffffffff81000010,192,192,0xcc0,dentry\n"
		"102,1,cache_free,0xffff888100001000,0xffffffff81000020,0,0,0x0,dentry\n"
		"103,0,page_alloc,0x1234,0x0,0,16384,0xcc0,\n"
		"104,0,kfree,0xffff888100000000,0xffffffff81000030,0,0,0x0,\n"
		"105,1,page_free,0x1234,0x0,0,16384,0x0,\n");
	EXPECT_EQ(t.kernel, "6.18.44");
	EXPECT_EQ(t.cpus, 2);
	EXPECT_EQ(t.lost, 7);
	EXPECT_TRUE(t.header_seen);
	EXPECT_EQ(t.lines, 11u);
	EXPECT_EQ(t.nr_errors, 0u);
	ASSERT_EQ(t.records.size(), 6u);
	const uint64_t per_event[NR_EVENTS] = {1, 1, 1, 1, 1, 1};
	for (unsigned e = 0; e < NR_EVENTS; e++)
		EXPECT_EQ(t.per_event[e], per_event[e]) << event_name(Event(e));
	const Record &r = t.records[1];
	EXPECT_EQ(r.line, 7u);
	EXPECT_EQ(r.ts_ns, 101u);
	EXPECT_EQ(r.cpu, 1u);
	EXPECT_EQ(r.event, Event::CacheAlloc);
	EXPECT_EQ(r.ptr, 0xffff888100001000u);
	EXPECT_EQ(r.call_site, 0xffffffff81000010u);
	EXPECT_EQ(r.bytes_req, 192u);
	EXPECT_EQ(r.bytes_alloc, 192u);
	EXPECT_EQ(r.gfp_flags, 0xcc0u);
	EXPECT_EQ(t.cache_of(r), "dentry");
	/* "" and "dentry", interned once each. */
	EXPECT_EQ(t.cache_names.size(), 2u);
	EXPECT_EQ(t.records[2].cache_id, r.cache_id);
	EXPECT_EQ(t.max_cpu, 1u);
	/* Written back, each record is its input line. */
	EXPECT_EQ(format_record(t, r),
		  "101,1,cache_alloc,0xffff888100001000,0xffffffff81000010,192,192,0xcc0,dentry\n");
}

TEST(TraceReader, MalformedLinesAreReportedWithTheirNumbersAndSkipped)
{
	const std::string s =
		"# cpus=2\n"							/* 1 */
		+ H +								/* 2 */
		"garbage\n"							/* 3 */
		"1,2,3\n"							/* 4 */
		"5,0,kmalloc,0xzz,0x1,8,8,0x0,\n"				/* 5 */
		"\n"								/* 6 */
		"7,4096,kmalloc,0x1,0x1,8,8,0x0,\n"				/* 7 */
		"8,0,page_alloc,0x1,0x0,0,4095,0x0,\n"				/* 8 */
		"9,0,kmalloc,0x1,0x0,99999999999999999999999,0,0x0,\n"		/* 9 */
		"10,0,kmalloc,0x1,0x0,8,8,0x0,x,y\n"				/* 10 */
		"11,0,kmalloc,0x1,0x0,8,8,0x0,a b\n"				/* 11 */
		"12,0,kmallocx,0x1,0x0,8,8,0x0,\n"				/* 12 */
		"13,0,kmalloc,1,0x0,8,8,0x0,\n"					/* 13 */
		"-14,0,kmalloc,0x1,0x0,8,8,0x0,\n"				/* 14 */
		"15,0,kmalloc,0x11112222333344445,0x0,8,8,0x0,\n"		/* 15 */
		"16,0,kmalloc,0xffff888100000000,0xffffffff81000000,8,8,0x0,\n" /* 16: fine */
		"# late=1\n"							/* 17 */
		+ H;								/* 18 */
	Trace t = parse(s);
	EXPECT_EQ(t.lines, 18u);
	ASSERT_EQ(t.records.size(), 1u);
	EXPECT_EQ(t.records[0].line, 16u);
	const uint64_t lines[] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18};
	ASSERT_EQ(t.errors.size(), sizeof(lines) / sizeof(lines[0]));
	EXPECT_EQ(t.nr_errors, t.errors.size());
	for (size_t i = 0; i < t.errors.size(); i++)
		EXPECT_EQ(t.errors[i].line, lines[i]) << t.errors[i].what;
	EXPECT_EQ(t.errors[0].what, "1 fields, expected 9: 'garbage'");
	EXPECT_EQ(t.errors[1].what, "3 fields, expected 9: '1,2,3'");
	EXPECT_EQ(t.errors[2].what, "field 4 (ptr): expected 0x-hex, got '0xzz'");
	EXPECT_EQ(t.errors[3].what, "empty line");
	EXPECT_EQ(
		t.errors[4].what,
		"field 2 (cpu): expected a CPU number from 0 to 255 (kslub has at most 256 CPUs), "
		"got '4096'");
	EXPECT_EQ(
		t.errors[5].what,
		"field 7 (bytes_alloc): expected PAGE_SIZE << order for a page event, got '4095'");
	EXPECT_EQ(t.errors[6].what,
		  "field 6 (bytes_req): expected a decimal number, got '99999999999999999999999'");
	EXPECT_EQ(t.errors[7].what.substr(0, 18), "more than 9 fields");
	EXPECT_EQ(
		t.errors[8].what,
		"field 9 (cache): expected a cache name without spaces or control bytes, got 'a b'");
	EXPECT_EQ(t.errors[13].what, "metadata line after the header: '# late=1'");
	EXPECT_EQ(t.errors[14].what, "header repeated");

	/* The replay of such a file replays the one good line. */
	ReplayReport r = replay(t);
	EXPECT_EQ(r.events, 1u);
	EXPECT_EQ(r.kmalloc_events, 1u);
	EXPECT_EQ(r.kmalloc_agree, 1u);
}

TEST(TraceReader, KeepsOnlyTheFirstErrorsButCountsAll)
{
	std::string s = H;
	for (int i = 0; i < 200; i++)
		s += "bad\n";
	Trace t;
	parse_trace(s.data(), s.size(), &t, 10);
	EXPECT_EQ(t.nr_errors, 200u);
	ASSERT_EQ(t.errors.size(), 10u);
	EXPECT_EQ(t.errors[9].line, 11u);
}

TEST(TraceReader, NoHeaderCrLfAndNoFinalNewline)
{
	Trace t = parse("1,0,kmalloc,0xffff888100000000,0xffffffff81000000,8,8,0x0,\r\n"
			"2,0,kfree,0xffff888100000000,0xffffffff81000000,0,0,0x0,");
	EXPECT_EQ(t.lines, 2u);
	EXPECT_EQ(t.records.size(), 2u);
	ASSERT_EQ(t.nr_errors, 1u); /* the missing header, at the first record */
	EXPECT_EQ(t.errors[0].line, 1u);
	EXPECT_NE(t.errors[0].what.find("before the header"), std::string::npos);

	Trace e = parse("");
	EXPECT_EQ(e.lines, 0u);
	ASSERT_EQ(e.nr_errors, 1u);
	EXPECT_EQ(e.errors[0].what.substr(0, 14), "no header line");

	Trace m = parse("# cpus=0\n# lost=x\n" + H);
	ASSERT_EQ(m.nr_errors, 2u);
	EXPECT_EQ(m.errors[0].line, 1u);
	EXPECT_EQ(m.errors[1].line, 2u);
	EXPECT_EQ(m.cpus, -1);
}

TEST(TraceReader, FileErrors)
{
	Trace t;
	std::string err;
	EXPECT_FALSE(read_trace_file("/nonexistent/trace.csv", &t, &err));
	EXPECT_NE(err.find("cannot open /nonexistent/trace.csv"), std::string::npos) << err;

	char path[] = "/tmp/kslub-trace-test-XXXXXX";
	int fd = mkstemp(path);
	ASSERT_GE(fd, 0);
	std::string s = "# cpus=1\n" + H + "1,0,kmalloc,0xffff888100000000,0x0,8,8,0x0,\n";
	ASSERT_EQ(write(fd, s.data(), s.size()), ssize_t(s.size()));
	close(fd);
	ASSERT_TRUE(read_trace_file(path, &t, &err)) << err;
	unlink(path);
	EXPECT_EQ(t.lines, 3u);
	EXPECT_EQ(t.records.size(), 1u);
	EXPECT_EQ(t.nr_errors, 0u);
}

/*
 * kmalloc(50) on CPU 0 (kmalloc-64: a new slab, the allocation slow path),
 * kfree on CPU 0 (the CPU slab's: fast path), kmalloc(60) on CPU 0 gets the
 * object just freed in both allocators (fast path), kfree on CPU 1 (not
 * CPU 1's slab: slow path).
 */
TEST(TraceReplay, KmallocReuseOnOneCpu)
{
	Trace t = parse("# cpus=2\n" + H +
			"100,0,kmalloc,0xffff888100000000,0xffffffff81000000,50,64,0xdc0,\n"
			"101,0,kfree,0xffff888100000000,0xffffffff81000010,0,0,0x0,\n"
			"102,0,kmalloc,0xffff888100000000,0xffffffff81000000,60,64,0xdc0,\n"
			"103,1,kfree,0xffff888100000000,0xffffffff81000010,0,0,0x0,\n");
	ReplayReport r = replay(t);
	EXPECT_EQ(r.cpus, 2u);
	EXPECT_EQ(r.events, 4u);
	EXPECT_EQ(r.kmalloc_events, 2u);
	EXPECT_EQ(r.kmalloc_agree, 2u);
	EXPECT_EQ(r.reuse_eligible, 1u);
	EXPECT_EQ(r.reuse_kernel, 1u);
	EXPECT_EQ(r.reuse_kslub, 1u);
	EXPECT_EQ(r.reuse_both, 1u);
	EXPECT_EQ(r.reuse_agree, 1u);
	EXPECT_EQ(r.frees_unknown, 0u);
	EXPECT_EQ(r.live_at_end, 0u);
	EXPECT_EQ(r.reports, 0u);
	const CacheReport *c = find(r, "kmalloc-64");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->allocs, 2u);
	EXPECT_EQ(c->frees, 2u);
	EXPECT_EQ(c->peak_live, 1u);
	EXPECT_EQ(c->live, 0u);
	EXPECT_EQ(c->object_size, 64u);
	if (!CONFIG_KSLUB_STATS)
		return;
	EXPECT_EQ(c->slabs_allocated, 1u);
	EXPECT_EQ(c->stats[stat("alloc_fastpath")], 1u);
	EXPECT_EQ(c->stats[stat("alloc_slowpath")], 1u);
	EXPECT_EQ(c->stats[stat("free_fastpath")], 1u);
	EXPECT_EQ(c->stats[stat("free_slowpath")], 1u);
	EXPECT_EQ(r.stats[stat("alloc_slab")], 1u);
}

/*
 * dentry (created on first sight, 192 bytes): P1 on CPU 0, P2 on CPU 1, P1
 * freed on CPU 0 and allocated again there (LIFO in both), P2 freed by kfree
 * on CPU 1. A nameless 40-byte cache_alloc (a kernel without the name field)
 * becomes cache "anon-40".
 */
TEST(TraceReplay, CachesCreatedOnFirstSight)
{
	Trace t =
		parse("# cpus=2\n" + H +
		      "1,0,cache_alloc,0xffff888100001000,0xffffffff81000000,192,192,0xcc0,dentry\n"
		      "2,1,cache_alloc,0xffff888100001100,0xffffffff81000000,192,192,0xcc0,dentry\n"
		      "3,0,cache_free,0xffff888100001000,0xffffffff81000020,0,0,0x0,dentry\n"
		      "4,0,cache_alloc,0xffff888100001000,0xffffffff81000000,192,192,0xcc0,dentry\n"
		      "5,1,kfree,0xffff888100001100,0xffffffff81000030,0,0,0x0,\n"
		      "6,0,cache_alloc,0xffff888100002000,0xffffffff81000000,40,40,0xcc0,\n");
	ReplayReport r = replay(t);
	EXPECT_EQ(r.caches_created, 2u);
	EXPECT_EQ(r.cache_create_failures, 0u);
	EXPECT_EQ(r.kmalloc_events, 0u);
	const CacheReport *d = find(r, "dentry");
	ASSERT_NE(d, nullptr);
	EXPECT_EQ(d->kslub_name, "dentry");
	EXPECT_EQ(d->object_size, 192u);
	EXPECT_EQ(d->allocs, 3u);
	EXPECT_EQ(d->frees, 2u);
	EXPECT_EQ(d->peak_live, 2u);
	EXPECT_EQ(d->live, 1u);
	const CacheReport *a = find(r, "anon-40");
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(a->object_size, 40u);
	EXPECT_EQ(a->allocs, 1u);
	EXPECT_EQ(r.live_at_end, 2u);
	EXPECT_EQ(r.reuse_eligible, 1u);
	EXPECT_EQ(r.reuse_both, 1u);
	EXPECT_EQ(r.free_errors, 0u);
	EXPECT_EQ(r.reports, 0u);
	if (CONFIG_KSLUB_STATS)
		EXPECT_EQ(d->slabs_allocated, 2u); /* one CPU slab each for CPU 0 and CPU 1 */
}

/*
 * kmalloc(20000): kmalloc_large, order 3 = 32768 bytes; its page events;
 * kmalloc(0) = ZERO_SIZE_PTR with 0 bytes and its kfree; a kmalloc the kernel
 * failed (ptr 0) still has a size class; a kfree of a pointer never seen.
 */
TEST(TraceReplay, LargeKmallocZeroSizeFailuresAndUnknownFrees)
{
	Trace t = parse("# cpus=4\n" + H +
			"1,3,kmalloc,0xffff888102000000,0xffffffff81000000,20000,32768,0xdc0,\n"
			"2,3,page_alloc,0x102000,0x0,0,32768,0xdc0,\n"
			"3,2,kfree,0xffff888102000000,0xffffffff81000000,0,0,0x0,\n"
			"4,2,page_free,0x102000,0x0,0,32768,0x0,\n"
			"5,0,kmalloc,0x10,0xffffffff81000000,0,0,0xdc0,\n"
			"6,0,kfree,0x10,0xffffffff81000000,0,0,0x0,\n"
			"7,1,kmalloc,0x0,0xffffffff81000000,8192,8192,0xdc0,\n"
			"8,1,kfree,0xffff888199999999,0xffffffff81000000,0,0,0x0,\n"
			"9,1,kfree,0x0,0xffffffff81000000,0,0,0x0,\n");
	ReplayReport r = replay(t);
	EXPECT_EQ(r.cpus, 4u);
	EXPECT_EQ(r.kmalloc_events, 3u);
	EXPECT_EQ(r.kmalloc_agree, 3u);
	EXPECT_EQ(r.kmalloc_large_events, 1u);
	EXPECT_EQ(r.kmalloc_large_agree, 1u);
	EXPECT_EQ(r.page_alloc[3], 1u);
	EXPECT_EQ(r.page_free[3], 1u);
	EXPECT_EQ(r.frees_null, 2u);
	EXPECT_EQ(r.frees_unknown, 1u);
	EXPECT_EQ(r.kernel_failed_allocs, 1u);
	EXPECT_EQ(r.alloc_failures, 0u);
	EXPECT_EQ(r.live_at_end, 0u);
	const CacheReport *l = find(r, "kmalloc-large");
	ASSERT_NE(l, nullptr);
	EXPECT_EQ(l->allocs, 1u);
	EXPECT_EQ(l->frees, 1u);
	EXPECT_EQ(l->peak_memory_bytes, 32768u);
}

/*
 * The kmalloc size classes (REFERENCE.md "kmalloc"), written as the kernel
 * traces them, and one line claiming a wrong class (65 bytes in 128): every
 * kmalloc event counts, only that one disagrees, named by its line.
 */
TEST(TraceReplay, SizeClassAgreementOverEveryKmalloc)
{
	struct {
		uint64_t req, alloc;
	} cls[] = {{1, 8},	    {8, 8},
		   {9, 16},	    {24, 32},
		   {33, 64},	    {64, 64},
		   {65, 96},	    {96, 96},
		   {97, 128},	    {129, 192},
		   {192, 192},	    {193, 256},
		   {257, 512},	    {1000, 1024},
		   {2048, 2048},    {4097, 8192},
		   {8192, 8192},    {8193, 16384},
		   {16385, 32768},  {65536, 65536},
		   {65537, 131072}, {4194304, 4194304}};
	std::string s = "# cpus=1\n" + H;
	uint64_t ptr = 0xffff888100000000;
	for (auto &c : cls) {
		char b[160];
		snprintf(b, sizeof(b), "1,0,kmalloc,0x%llx,0x0,%llu,%llu,0xdc0,\n",
			 (unsigned long long)ptr, (unsigned long long)c.req,
			 (unsigned long long)c.alloc);
		s += b;
		ptr += 0x1000000;
	}
	s += "2,0,kmalloc,0xffff8881ff000000,0x0,65,128,0xdc0,\n"; /* line 2 + 22 + 1 = 25 */
	Trace t = parse(s);
	ASSERT_EQ(t.nr_errors, 0u);
	ReplayOptions o;
	o.pool_bytes = 64u << 20;
	ReplayReport r;
	std::string err;
	ASSERT_TRUE(replay_trace(t, o, &r, &err)) << err;
	EXPECT_EQ(r.kmalloc_events, 23u);
	EXPECT_EQ(r.kmalloc_agree, 22u);
	EXPECT_EQ(r.kmalloc_large_events, 5u); /* 8193, 16385, 65536, 65537, 4194304 */
	EXPECT_EQ(r.kmalloc_large_agree, 5u);
	ASSERT_EQ(r.mismatches.size(), 1u);
	EXPECT_EQ(r.mismatches[0].line, 25u);
	EXPECT_EQ(r.mismatches[0].bytes_req, 65u);
	EXPECT_EQ(r.mismatches[0].kernel_bytes_alloc, 128u);
	EXPECT_EQ(r.mismatches[0].kslub_bytes_alloc, 96u);
	EXPECT_EQ(r.alloc_failures, 0u);
}

/* A pointer allocated twice with no free between (a lost event): the first object is let go. */
TEST(TraceReplay, AllocationOverALivePointerAndCpuFolding)
{
	Trace t = parse(H + "1,5,kmalloc,0xffff888100000000,0x0,8,8,0x0,\n"
			    "2,7,kmalloc,0xffff888100000000,0x0,8,8,0x0,\n"
			    "3,6,kfree,0xffff888100000000,0x0,0,0,0x0,\n");
	EXPECT_EQ(t.nr_errors, 0u);
	ReplayReport folded = replay(t, 2);
	EXPECT_EQ(folded.cpus, 2u);
	EXPECT_EQ(folded.alloc_over_live, 1u);
	EXPECT_EQ(folded.live_at_end, 0u);
	EXPECT_EQ(folded.free_errors, 0u);
	const CacheReport *c = find(folded, "kmalloc-8");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->allocs, 2u);
	EXPECT_EQ(c->frees, 1u);
	EXPECT_EQ(c->unseen_frees, 1u);
	EXPECT_EQ(c->peak_live, 1u);
	/* Without "# cpus=" and --cpus: the highest CPU + 1. */
	EXPECT_EQ(replay(t).cpus, 8u);
}

/*
 * A cache_alloc whose bytes_alloc kslub cannot serve (above 2 MiB) is
 * counted as a refused cache and a failed allocation, without asking kslub
 * (which would report a bad argument); a 2-byte cache is fine.
 */
TEST(TraceReplay, CacheSizeKslubCannotCreate)
{
	Trace t = parse("# cpus=2\n" + H +
			"1,0,cache_alloc,0xffff888100001000,0x0,192,19444442,0xcc0,dentry\n"
			"2,0,cache_alloc,0xffff888100001100,0x0,192,19444442,0xcc0,dentry\n"
			"3,0,cache_alloc,0xffff888100002000,0x0,2,2,0xcc0,tiny\n"
			"4,0,cache_free,0xffff888100002000,0x0,0,0,0x0,tiny\n");
	ReplayReport r = replay(t);
	EXPECT_EQ(r.cache_create_failures, 1u);
	EXPECT_EQ(r.alloc_failures, 2u);
	EXPECT_EQ(r.caches_created, 1u);
	EXPECT_EQ(r.reports, 0u);
	const CacheReport *c = find(r, "tiny");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->allocs, 1u);
	EXPECT_EQ(c->frees, 1u);
}

/*
 * Linux 6.18 traces a large kvmalloc() twice: inside __kvmalloc_node and for
 * its caller, same pointer and size, back to back on one CPU (seen in a
 * recorded trace). Both are kmalloc events with a size class; one object is
 * replayed. The same pointer again after other events on that CPU is a new
 * allocation over a live pointer (a lost free), not a duplicate.
 */
TEST(TraceReplay, KmallocTracedTwice)
{
	Trace t = parse("# cpus=2\n" + H +
			"1,1,kmalloc,0xffff88811e2f0000,0xffffffff81635a8a,11008,16384,0x29c0,\n"
			"2,0,kfree,0x0,0xffffffff81000000,0,0,0x0,\n"
			"3,1,kmalloc,0xffff88811e2f0000,0xffffffff8139aa7e,11008,16384,0x29c0,\n"
			"4,1,kfree,0xffff88811e2f0000,0xffffffff8139aae6,0,0,0x0,\n"
			"5,1,kmalloc,0xffff888100000000,0x0,64,64,0x0,\n"
			"6,1,cache_free,0xffff888100009000,0x0,0,0,0x0,x\n"
			"7,1,kmalloc,0xffff888100000000,0x0,64,64,0x0,\n");
	ReplayReport r = replay(t);
	EXPECT_EQ(r.kmalloc_events, 4u);
	EXPECT_EQ(r.kmalloc_agree, 4u);
	EXPECT_EQ(r.kmalloc_large_events, 2u);
	EXPECT_EQ(r.kmalloc_large_agree, 2u);
	EXPECT_EQ(r.kmalloc_duplicates, 1u);
	EXPECT_EQ(r.alloc_over_live, 1u);
	EXPECT_EQ(r.frees_unknown, 1u);
	EXPECT_EQ(r.live_at_end, 1u);
	const CacheReport *l = find(r, "kmalloc-large");
	ASSERT_NE(l, nullptr);
	EXPECT_EQ(l->allocs, 1u);
	EXPECT_EQ(l->frees, 1u);
	EXPECT_EQ(r.free_errors, 0u);
}

/*
 * kvmalloc(8 MiB) tries kmalloc first: order 11 is above the largest block
 * (order 10), the kernel fails it (ptr 0) and traces PAGE_SIZE << 11;
 * kslub fails it too: agreement, counted apart. A request the kernel served
 * while kslub could not (its pool too small) is a disagreement.
 */
TEST(TraceReplay, RequestsAboveTheLargestBlock)
{
	Trace t = parse("# cpus=1\n" + H + "1,0,kmalloc,0x0,0x0,8388608,8388608,0x2dc0,\n" +
			"2,0,kmalloc,0xffff888100000000,0x0,4194304,4194304,0xdc0,\n" +
			"3,0,kmalloc,0xffff888100400000,0x0,4194304,4194304,0xdc0,\n" +
			"4,0,kmalloc,0xffff888100800000,0x0,4194304,4194304,0xdc0,\n" +
			"5,0,kmalloc,0xffff888100c00000,0x0,4194304,4194304,0xdc0,\n");
	ReplayOptions o;
	o.pool_bytes = 8u << 20;
	ReplayReport r;
	std::string err;
	ASSERT_TRUE(replay_trace(t, o, &r, &err)) << err;
	EXPECT_EQ(r.kmalloc_events, 5u);
	EXPECT_EQ(r.kmalloc_both_failed, 1u);
	/*
	 * The 8 MiB pool is two 4 MiB top blocks; the first holds the page
	 * descriptors (and the first slabs), so one 4 MiB kmalloc fits: kslub
	 * fails the 8 MiB one and three of the 4 MiB ones.
	 */
	EXPECT_EQ(r.alloc_failures, 4u);
	EXPECT_EQ(r.kmalloc_agree, 2u); /* the 8 MiB (both failed) and the first 4 MiB */
	EXPECT_EQ(r.kmalloc_large_agree, 2u);
	EXPECT_EQ(r.reports, 0u);
}

/*
 * Hostile traces: the reader's limits (trace_csv.h). Each limit holds, the
 * line beyond it is reported by its number and skipped, and the lines
 * around it still replay, with their size classes agreeing.
 */

/*
 * '# cpus=' above the 256 CPUs kslub has (a 512-CPU machine, or a made-up
 * header) is an error that names its line, and the trace is not replayed at
 * all, whatever --cpus says: its CPUs cannot be honoured. 256 is fine.
 */
TEST(TraceLimits, CpusLineAboveKslubsStopsTheReplay)
{
	const std::string rec = "1,0,kmalloc,0xffff888100000000,0x0,50,64,0xdc0,\n";
	const std::string why =
		"'# cpus=' needs a number from 1 to 256 (the most CPUs kslub has), not '257'";
	Trace t = parse("# kernel=6.18.44\n# cpus=257\n" + H + rec);
	EXPECT_EQ(t.nr_errors, 1u);
	EXPECT_EQ(error_lines(t), (std::vector<uint64_t>{2}));
	EXPECT_EQ(t.errors.empty() ? std::string() : t.errors[0].what, why);
	EXPECT_EQ(t.fatal.line, 2u);
	EXPECT_EQ(t.cpus, -1);
	EXPECT_EQ(t.records.size(), 1u); /* read, but not replayed */
	ReplayOptions o;
	o.pool_bytes = 16u << 20;
	for (unsigned cpus : {0u, 4u}) {
		o.cpus = cpus;
		ReplayReport r;
		std::string err;
		EXPECT_FALSE(replay_trace(t, o, &r, &err)) << cpus;
		EXPECT_EQ(err, "line 2: " + why);
		EXPECT_EQ(r.events, 0u);
	}

	Trace big = parse("# cpus=4096\n" + H + rec);
	EXPECT_EQ(big.fatal.line, 1u);
	Trace most = parse("# cpus=256\n" + H + rec);
	EXPECT_EQ(most.nr_errors, 0u);
	EXPECT_EQ(most.fatal.line, 0u);
	ReplayReport r = replay(most);
	EXPECT_EQ(r.cpus, 256u);
	EXPECT_EQ(r.kmalloc_agree, 1u);
}

/*
 * A record on CPU 256 or above is reported and skipped like any malformed
 * line; the records on CPU 255 around it replay on a 256-CPU instance.
 */
TEST(TraceLimits, CpuColumnAboveKslubsIsReportedAndSkipped)
{
	Trace t = parse("# cpus=256\n" + H +					 /* 1, 2 */
			"1,255,kmalloc,0xffff888100000000,0x0,50,64,0xdc0,\n"	 /* 3 */
			"2,256,kmalloc,0xffff888100000040,0x0,50,64,0xdc0,\n"	 /* 4 */
			"3,4095,kmalloc,0xffff888100000080,0x0,50,64,0xdc0,\n"	 /* 5 */
			"4,255,kfree,0xffff888100000000,0x0,0,0,0x0,\n"		 /* 6 */
			"5,255,kmalloc,0xffff888100000000,0x0,100,128,0xdc0,\n"	 /* 7 */
			"6,4294967296,kfree,0xffff888100000000,0x0,0,0,0x0,\n"); /* 8 */
	EXPECT_EQ(error_lines(t), (std::vector<uint64_t>{4, 5, 8}));
	EXPECT_EQ(t.nr_errors, 3u);
	EXPECT_EQ(
		t.errors.empty() ? std::string() : t.errors[0].what,
		"field 2 (cpu): expected a CPU number from 0 to 255 (kslub has at most 256 CPUs), "
		"got '256'");
	EXPECT_EQ(record_lines(t), (std::vector<uint64_t>{3, 6, 7}));
	EXPECT_EQ(t.max_cpu, 255u);
	EXPECT_EQ(t.fatal.line, 0u);
	ReplayReport r = replay(t);
	EXPECT_EQ(r.cpus, 256u);
	EXPECT_EQ(r.events, 3u);
	EXPECT_EQ(r.kmalloc_events, 2u);
	EXPECT_EQ(r.kmalloc_agree, 2u);
	EXPECT_EQ(r.frees_unknown, 0u);
	EXPECT_EQ(r.live_at_end, 1u);
	EXPECT_EQ(r.reports, 0u);
}

/*
 * 1030 named caches, one object each: the first 1024 are read and created,
 * the cache_alloc lines of the other six are reported by their numbers and
 * skipped, and so is a cache_free naming one of them; the kmalloc events
 * between and records of caches already seen after the limit still count.
 */
TEST(TraceLimits, NamedCachesBeyondTheLimitAreReportedAndSkipped)
{
	const unsigned n = TRACE_MAX_CACHES + 6;
	std::string s = "# cpus=2\n" + H;
	uint64_t line = 2;
	std::vector<uint64_t> want_errors, want_records;
	char b[160];
	for (unsigned i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "%u,%u,cache_alloc,0x%llx,0x0,64,64,0xcc0,cache_%05u\n", i,
			 i % 2, 0xffff888100000000ull + i * 0x1000ull, i);
		s += b;
		(i < TRACE_MAX_CACHES ? want_records : want_errors).push_back(++line);
		if (i % 256 == 0) {
			snprintf(b, sizeof(b), "%u,0,kmalloc,0xffff888200%06x,0x0,100,128,0xdc0,\n",
				 i, i * 0x100);
			s += b;
			want_records.push_back(++line);
		}
	}
	snprintf(b, sizeof(b), "9000,1,cache_free,0x%llx,0x0,0,0,0x0,cache_%05u\n",
		 0xffff888100000000ull + (n - 1) * 0x1000ull, n - 1);
	s += b; /* of a cache beyond the limit */
	want_errors.push_back(++line);
	s += "9001,1,cache_free,0xffff888100000000,0x0,0,0,0x0,cache_00000\n";
	want_records.push_back(++line);
	s += "9002,0,cache_alloc,0xffff888100000000,0x0,64,64,0xcc0,cache_00000\n";
	want_records.push_back(++line);

	Trace t = parse(s);
	EXPECT_EQ(t.lines, line);
	EXPECT_EQ(t.caches, TRACE_MAX_CACHES);
	EXPECT_EQ(t.cache_names.size(), TRACE_MAX_CACHES + 1u); /* and "" */
	EXPECT_EQ(t.nr_errors, want_errors.size());
	EXPECT_EQ(error_lines(t), want_errors);
	EXPECT_EQ(record_lines(t), want_records);
	EXPECT_EQ(t.errors.empty() ? std::string() : t.errors[0].what,
		  "field 9 (cache): expected one of the 1024 caches already seen (a trace may have "
		  "at most 1024), got 'cache_01024'");

	ReplayReport r = replay(t);
	EXPECT_EQ(r.caches_created, TRACE_MAX_CACHES);
	EXPECT_EQ(r.cache_create_failures, 0u);
	EXPECT_EQ(r.events, want_records.size());
	EXPECT_EQ(r.kmalloc_events, 5u);
	EXPECT_EQ(r.kmalloc_agree, 5u);
	EXPECT_EQ(r.alloc_failures, 0u);
	EXPECT_EQ(r.frees_unknown, 0u);
	EXPECT_EQ(r.reports, 0u);
	const CacheReport *c = find(r, "cache_00000");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->allocs, 2u);
	EXPECT_EQ(c->frees, 1u);
	EXPECT_EQ(find(r, "cache_01023") != nullptr, true);
	EXPECT_EQ(find(r, "cache_01024"), nullptr);
}

/*
 * A hostile trace, scaled down: a kernel without cache names (one cache
 * anon-<size> per object size) with 1030 sizes on 256 CPUs. kslub keeps
 * 256 bytes of per-CPU state per cache and CPU outside its pool, so the
 * limit on caches is what bounds it: 1024 caches made, the six lines of
 * further sizes reported and skipped, sizes already seen still replayed.
 */
TEST(TraceLimits, AnonymousSizesBeyondTheLimitOn256Cpus)
{
	const unsigned n = TRACE_MAX_CACHES + 6;
	std::string s = "# cpus=256\n" + H;
	uint64_t line = 2;
	std::vector<uint64_t> want_errors;
	char b[160];
	for (unsigned i = 0; i < n; i++) {
		snprintf(b, sizeof(b), "%u,%u,cache_alloc,0x%llx,0x0,%u,%u,0xcc0,\n", i, i % 256,
			 0xffff888100000000ull + i * 0x10000ull, i + 1, i + 1);
		s += b;
		line++;
		if (i >= TRACE_MAX_CACHES)
			want_errors.push_back(line);
		if (i % 100 == 0) { /* kmalloc(8), kmalloc(16), ... kmalloc(88) */
			unsigned req = 8 * (i / 100 + 1);
			unsigned cls = 8; /* 8, 16, 32, 64, 96 */
			while (cls < req)
				cls = cls == 64 ? 96 : 2 * cls;
			snprintf(b, sizeof(b), "%u,%u,kmalloc,0xffff888200%06x,0x0,%u,%u,0xdc0,\n",
				 i, (i + 7) % 256, i * 0x100, req, cls);
			s += b;
			line++;
		}
	}
	s += "9000,3,cache_alloc,0xffff888300000000,0x0,40,40,0xcc0,\n"; /* anon-40 again */
	line++;
	Trace t = parse(s);
	EXPECT_EQ(t.lines, line);
	EXPECT_EQ(t.caches, TRACE_MAX_CACHES);
	EXPECT_EQ(error_lines(t), want_errors);
	EXPECT_EQ(t.errors.empty() ? std::string() : t.errors[0].what,
		  "field 7 (bytes_alloc): expected the size of a cache already seen (a cache_alloc "
		  "without a name is on cache anon-<bytes_alloc>; a trace may have at most 1024 "
		  "caches), got '1025'");
	EXPECT_EQ(t.records.size() + t.nr_errors, line - 2);

	ReplayOptions o;
	o.pool_bytes = 64u << 20;
	ReplayReport r;
	std::string err;
	ASSERT_TRUE(replay_trace(t, o, &r, &err)) << err;
	EXPECT_EQ(r.cpus, 256u);
	EXPECT_EQ(r.caches_created, TRACE_MAX_CACHES);
	/* kslub's per-CPU state of the caches the trace made: 1024 * 256 * 256 bytes = 64 MiB. */
	EXPECT_LE(r.caches_created * r.cpus, uint64_t(TRACE_MAX_CACHES) * TRACE_MAX_CPUS);
	EXPECT_EQ(r.events, t.records.size());
	EXPECT_EQ(r.kmalloc_events, 11u);
	EXPECT_EQ(r.kmalloc_agree, r.kmalloc_events);
	EXPECT_EQ(r.alloc_failures, 0u);
	EXPECT_EQ(r.reports, 0u);
	const CacheReport *a = find(r, "anon-40");
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(a->allocs, 2u);
	EXPECT_EQ(find(r, "anon-1025"), nullptr);
}

/*
 * A line of 32 MiB read from a stream made up as it is read: reported with
 * its number and length and skipped, the records before and after it
 * replayed, and the reader never held more than its buffers (a block and
 * max_line + 1 bytes), not the line. In a buffer (parse_trace) the same
 * limit applies: 4096 bytes pass the length check, 4097 do not, a '\r'
 * before the '\n' is not counted.
 */
TEST(TraceLimits, OverlongLineIsSkippedWithoutBeingHeld)
{
	const uint64_t big = uint64_t(32) << 20;
	Generated g;
	g.parts = {{"# kernel=6.18.44\n# cpus=2\n" + H, 1},		     /* 1-3 */
		   {"1,0,kmalloc,0xffff888100000000,0x0,50,64,0xdc0,\n", 1}, /* 4 */
		   {"2,0,kmalloc,0xffff888100000040,0x0,50,64,0xdc0,", 1},   /* 5 ... */
		   {std::string(4096, 'x'), big / 4096},
		   {"\r\n", 1},						      /* ... 5 */
		   {"3,1,kfree,0xffff888100000000,0x0,0,0,0x0,\n", 1},	      /* 6 */
		   {"4,1,kmalloc,0xffff888100000000,0x0,100,128,0xdc0,", 1}}; /* 7, no '\n' */
	const uint64_t len5 = strlen("2,0,kmalloc,0xffff888100000040,0x0,50,64,0xdc0,") + big;
	FILE *f = g.open();
	ASSERT_NE(f, nullptr);
	Trace t;
	std::string err;
	ASSERT_TRUE(read_trace_stream(f, "generated", &t, &err)) << err;
	fclose(f);
	EXPECT_EQ(t.lines, 7u);
	ASSERT_EQ(t.nr_errors, 1u);
	EXPECT_EQ(t.errors[0].line, 5u);
	EXPECT_EQ(t.errors[0].what,
		  "line too long: " + std::to_string(len5) + " bytes, at most 4096");
	EXPECT_EQ(record_lines(t), (std::vector<uint64_t>{4, 6, 7}));
	EXPECT_GT(t.read_buffer_bytes, 0u);
	EXPECT_LE(t.read_buffer_bytes, TraceLimits().read_block + 2 * (TRACE_MAX_LINE + 1));
	ReplayReport r = replay(t);
	EXPECT_EQ(r.events, 3u);
	EXPECT_EQ(r.kmalloc_events, 2u);
	EXPECT_EQ(r.kmalloc_agree, 2u);
	EXPECT_EQ(r.frees_unknown, 0u);

	std::string s = H +				  /* 1 */
			std::string(4096, 'y') + "\n" +	  /* 2: as long as a line may be */
			std::string(4097, 'y') + "\n" +	  /* 3: one byte more */
			std::string(4096, 'y') + "\r\n" + /* 4 */
			"1,0,kmalloc,0xffff888100000000,0x0,50,64,0xdc0,\n"; /* 5 */
	Trace b = parse(s);
	EXPECT_EQ(b.lines, 5u);
	EXPECT_EQ(error_lines(b), (std::vector<uint64_t>{2, 3, 4}));
	ASSERT_EQ(b.errors.size(), 3u);
	EXPECT_EQ(b.errors[0].what.substr(0, 20), "1 fields, expected 9");
	EXPECT_EQ(b.errors[1].what, "line too long: 4097 bytes, at most 4096");
	EXPECT_EQ(b.errors[2].what.substr(0, 20), "1 fields, expected 9");
	EXPECT_EQ(record_lines(b), (std::vector<uint64_t>{5}));
}

/*
 * read_trace_stream() reads what parse_trace() reads from the same bytes,
 * whatever the block size: lines across blocks, long lines (limit 70 here)
 * ending in a block or across several, "\r\n" split between blocks, NULs,
 * empty lines, no final '\n'.
 */
TEST(TraceLimits, StreamReadsAsTheBufferAtAnyBlockSize)
{
	std::string s = "# cpus=2\r\n" + H + "1,0,kmalloc,0x100,0x0,8,8,0x0,\r\n" + "\n" +
			std::string(70, 'a') + "\n" + std::string(70, 'a') + "\r\n" +
			std::string(71, 'b') + "\n" + std::string(71, 'b') + "\r\n" +
			std::string(200, 'c') + "\r\n" + std::string("x\0y", 3) + "\n" +
			"2,1,kfree,0x100,0x0,0,0,0x0,\n" + std::string(300, 'd');
	TraceLimits lim;
	lim.max_line = 70;
	Trace want;
	parse_trace(s.data(), s.size(), &want, 64, lim);
	EXPECT_EQ(want.lines, 12u);
	EXPECT_EQ(record_lines(want), (std::vector<uint64_t>{3, 11}));
	EXPECT_EQ(error_lines(want), (std::vector<uint64_t>{4, 5, 6, 7, 8, 9, 10, 12}));
	for (size_t block = 1; block <= 100; block++) {
		lim.read_block = block;
		FILE *f = fmemopen(const_cast<char *>(s.data()), s.size(), "r");
		ASSERT_NE(f, nullptr);
		Trace t;
		std::string err;
		ASSERT_TRUE(read_trace_stream(f, "mem", &t, &err, 64, lim)) << err;
		fclose(f);
		ASSERT_EQ(t.lines, want.lines) << block;
		ASSERT_EQ(t.errors.size(), want.errors.size()) << block;
		for (size_t i = 0; i < t.errors.size(); i++) {
			EXPECT_EQ(t.errors[i].line, want.errors[i].line) << block;
			EXPECT_EQ(t.errors[i].what, want.errors[i].what) << block;
		}
		ASSERT_EQ(t.records.size(), want.records.size()) << block;
		for (size_t i = 0; i < t.records.size(); i++)
			EXPECT_EQ(format_record(t, t.records[i]),
				  format_record(want, want.records[i]));
		EXPECT_EQ(t.cpus, 2);
		EXPECT_LE(t.read_buffer_bytes, block + 2 * (lim.max_line + 1)) << block;
	}
}

namespace {

/*
 * The design follows the trace's kernel line. An object of vm_area_struct
 * (a cache 6.18 creates with sheaves of 32) allocated on CPU 0, freed on
 * CPU 1 and allocated again on CPU 1: the kernel handed it out again (the
 * free went to CPU 1's sheaf). Worked by hand: kslub with sheaves does the
 * same; the TID design frees it into the slab of CPU 0's CPU slab (a remote
 * free) and CPU 1 gets an object of a new slab, so reuse disagrees.
 */
ReplayReport replay_618(bool tid_only, const std::string &kernel)
{
	std::string s = "# kernel=" + kernel + "\n# cpus=2\n" + H +
			"1,0,cache_alloc,0xffff888100001000,0x0,192,192,0xdc0,vm_area_struct\n"
			"2,1,cache_free,0xffff888100001000,0x0,0,0,0x0,vm_area_struct\n"
			"3,1,cache_alloc,0xffff888100001000,0x0,192,192,0xdc0,vm_area_struct\n";
	Trace t = parse(s);
	EXPECT_EQ(t.nr_errors, 0u);
	ReplayOptions o;
	o.pool_bytes = 16u << 20;
	o.kernel_from_trace = true;
	o.tid_only = tid_only;
	ReplayReport r;
	std::string err;
	EXPECT_TRUE(replay_trace(t, o, &r, &err)) << err;
	return r;
}

TEST(ReplayDesign, RulesAndSheavesFromTheKernelLine)
{
	ReplayReport r = replay_618(false, "6.18.15+deb13-amd64");
	EXPECT_EQ(r.rules, "6.18");
	EXPECT_TRUE(r.rules_from_trace);
	const CacheReport *c = find(r, "vm_area_struct");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->sheaf_capacity, 32u);
	EXPECT_EQ(r.reuse_eligible, 1u);
	EXPECT_EQ(r.reuse_kernel, 1u);
	EXPECT_EQ(r.reuse_kslub, 1u);
	EXPECT_EQ(r.reuse_eligible_sheaves, 1u);
	EXPECT_EQ(r.reuse_agree_sheaves, 1u);
	EXPECT_EQ(c->reuse_agree, 1u);

	ReplayReport tid = replay_618(true, "6.18.15+deb13-amd64");
	EXPECT_EQ(tid.rules, "6.18 (TID design)");
	c = find(tid, "vm_area_struct");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->sheaf_capacity, 0u);
	EXPECT_EQ(tid.reuse_eligible, 1u);
	EXPECT_EQ(tid.reuse_kslub, 0u);
	EXPECT_EQ(tid.reuse_agree, 0u);
	EXPECT_EQ(tid.reuse_eligible_sheaves, 0u);

	/* 7.x: every cache has sheaves, 60 for 192-byte objects (a 7.3 guest's vm_area_struct). */
	ReplayReport r73 = replay_618(false, "7.3.4+deb13-amd64");
	EXPECT_EQ(r73.rules, "7.3");
	c = find(r73, "vm_area_struct");
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(c->sheaf_capacity, 60u);
	/* 6.12 and a kernel line that says nothing: the TID design. */
	EXPECT_EQ(replay_618(false, "6.12.57+deb13-amd64").rules, "6.12");
	ReplayReport none = replay_618(false, "unknown");
	EXPECT_EQ(none.rules, "6.12");
	EXPECT_FALSE(none.rules_from_trace);
}

TEST(ReplayDesign, KernelFlagOfRelease)
{
	unsigned f = 99;
	EXPECT_TRUE(kernel_flag_of_release("6.1.0-57-amd64", &f));
	EXPECT_EQ(f, 0u);
	EXPECT_TRUE(kernel_flag_of_release("6.17.1", &f));
	EXPECT_EQ(f, unsigned(KSLUB_KERNEL_6_12));
	EXPECT_TRUE(kernel_flag_of_release("6.18.44-fc-v669", &f));
	EXPECT_EQ(f, unsigned(KSLUB_KERNEL_6_18));
	EXPECT_TRUE(kernel_flag_of_release("7.0.0", &f));
	EXPECT_EQ(f, unsigned(KSLUB_KERNEL_7_3));
	EXPECT_FALSE(kernel_flag_of_release("", &f));
	EXPECT_FALSE(kernel_flag_of_release("linux", &f));
	EXPECT_EQ(replay_sheaf_capacity("maple_node"), 32u);
	EXPECT_EQ(replay_sheaf_capacity("dentry"), 0u);
}

} // namespace
