// SPDX-License-Identifier: GPL-2.0-only
/*
 * The trace CSV reader and the replay (userspace/lib/trace_csv.cpp) on small
 * hand-written traces. Every expected count below is worked out by hand from
 * the lines of the trace and the kernel's rules (REFERENCE.md: kmalloc size
 * classes, LIFO fast paths), in the comment beside it.
 */
#include "kslub.h"
#include "lib/trace_csv.h"

#include <kslub/config.h>

#include <gtest/gtest.h>

#include <stdio.h>
#include <unistd.h>

#include <string>

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
	const uint64_t per_event[NR_EVENTS] = { 1, 1, 1, 1, 1, 1 };
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
		"# cpus=2\n" /* 1 */
		+ H + /* 2 */
		"garbage\n" /* 3 */
		"1,2,3\n" /* 4 */
		"5,0,kmalloc,0xzz,0x1,8,8,0x0,\n" /* 5 */
		"\n" /* 6 */
		"7,4096,kmalloc,0x1,0x1,8,8,0x0,\n" /* 7 */
		"8,0,page_alloc,0x1,0x0,0,4095,0x0,\n" /* 8 */
		"9,0,kmalloc,0x1,0x0,99999999999999999999999,0,0x0,\n" /* 9 */
		"10,0,kmalloc,0x1,0x0,8,8,0x0,x,y\n" /* 10 */
		"11,0,kmalloc,0x1,0x0,8,8,0x0,a b\n" /* 11 */
		"12,0,kmallocx,0x1,0x0,8,8,0x0,\n" /* 12 */
		"13,0,kmalloc,1,0x0,8,8,0x0,\n" /* 13 */
		"-14,0,kmalloc,0x1,0x0,8,8,0x0,\n" /* 14 */
		"15,0,kmalloc,0x11112222333344445,0x0,8,8,0x0,\n" /* 15 */
		"16,0,kmalloc,0xffff888100000000,0xffffffff81000000,8,8,0x0,\n" /* 16: fine */
		"# late=1\n" /* 17 */
		+ H; /* 18 */
	Trace t = parse(s);
	EXPECT_EQ(t.lines, 18u);
	ASSERT_EQ(t.records.size(), 1u);
	EXPECT_EQ(t.records[0].line, 16u);
	const uint64_t lines[] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18 };
	ASSERT_EQ(t.errors.size(), sizeof(lines) / sizeof(lines[0]));
	EXPECT_EQ(t.nr_errors, t.errors.size());
	for (size_t i = 0; i < t.errors.size(); i++)
		EXPECT_EQ(t.errors[i].line, lines[i]) << t.errors[i].what;
	EXPECT_EQ(t.errors[0].what, "1 fields, expected 9: 'garbage'");
	EXPECT_EQ(t.errors[1].what, "3 fields, expected 9: '1,2,3'");
	EXPECT_EQ(t.errors[2].what, "field 4 (ptr): expected 0x-hex, got '0xzz'");
	EXPECT_EQ(t.errors[3].what, "empty line");
	EXPECT_EQ(t.errors[4].what,
		  "field 2 (cpu): expected a CPU number from 0 to 4095, got '4096'");
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
	} cls[] = { { 1, 8 },	       { 8, 8 },
		    { 9, 16 },	       { 24, 32 },
		    { 33, 64 },	       { 64, 64 },
		    { 65, 96 },	       { 96, 96 },
		    { 97, 128 },       { 129, 192 },
		    { 192, 192 },      { 193, 256 },
		    { 257, 512 },      { 1000, 1024 },
		    { 2048, 2048 },    { 4097, 8192 },
		    { 8192, 8192 },    { 8193, 16384 },
		    { 16385, 32768 },  { 65536, 65536 },
		    { 65537, 131072 }, { 4194304, 4194304 } };
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
