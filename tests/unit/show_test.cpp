// SPDX-License-Identifier: GPL-2.0-only
/*
 * The text layer (core/show/, core/base/format.h): the bounded formatter,
 * /proc/slabinfo, /proc/buddyinfo, the 29 files of /sys/kernel/slab/<cache>/
 * and the 26 stat files.
 *
 * Expected texts are written out literally, worked by hand from Linux 6.1
 * (mm/slab_common.c cache_show, mm/slub.c get_slabinfo, show_slab_objects,
 * slabs_cpu_partial_show, show_stat; mm/vmstat.c frag_show_print) and the
 * geometry worked in tests/unit/slowpath_test.cpp. Where this machine's
 * kernel files are readable, their structure (header lines, column
 * positions, the file names and each file's shape) is compared with ours.
 *
 * The cache most tests use: 1024-byte objects on 2 CPUs: order 2, 16
 * objects per slab, stride 1024, align 8, cpu_partial 24, min_partial 5.
 */
#include "slub/slub.h"
#include "show/show.h"

#include <gtest/gtest.h>

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "user_platform.h"

namespace {

using namespace kslub;
using UP = UserPlatform;
using Cache = KmemCache<UP>;

/* A deterministic core instance over an mmap'ed pool: `per_node` bytes per node. */
class Instance {
public:
	Instance(unsigned cpus, unsigned nodes, usize per_node = usize(8) << 20) :
		pal_(cpus, nodes, true),
		alloc_(pal_)
	{
		pal_.set_reporter(&Instance::on_report, this);
		bytes_ = per_node * nodes + TOP_BLOCK_SIZE;
		map_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		EXPECT_NE(map_, MAP_FAILED);
		uptr base = align_up(uptr(map_), TOP_BLOCK_SIZE);
		RegionDesc r[MAX_NODES];
		for (unsigned n = 0; n < nodes; n++)
			r[n] = RegionDesc{reinterpret_cast<void *>(base + n * per_node), per_node,
					  int(n)};
		nodes_ = nodes;
		regions_.assign(r, r + nodes);
	}
	~Instance()
	{
		if (inited_)
			EXPECT_EQ(alloc_.shutdown(), 0);
		UP::unpoison(map_, bytes_);
		munmap(map_, bytes_);
	}
	/* Buddy allocator only. */
	void init_buddy() { ASSERT_EQ(alloc_.buddy().init(regions_.data(), nodes_), 0); }
	/* Buddy and SLUB. */
	void init(KernelRules rules = KernelRules::Linux61)
	{
		ASSERT_EQ(alloc_.init(regions_.data(), nodes_, rules), 0);
		inited_ = true;
	}
	Slub<UP> &slub() { return alloc_.slub(); }
	BuddyAllocator<UP> &buddy() { return alloc_.buddy(); }
	UP &pal() { return pal_; }
	void cpu(unsigned c) { pal_.set_current_cpu(c); }
	std::vector<std::string> reports;

private:
	static void on_report(void *arg, const Report &r)
	{
		static_cast<Instance *>(arg)->reports.push_back(
			std::string(report_kind_name(r.kind)) + ": " + (r.what ? r.what : ""));
	}
	UP pal_;
	Allocator<UP> alloc_;
	void *map_ = nullptr;
	usize bytes_ = 0;
	unsigned nodes_ = 0;
	bool inited_ = false;
	std::vector<RegionDesc> regions_;
};

std::string text(usize (*fn)(Slub<UP> &, char *, usize), Slub<UP> &s)
{
	std::vector<char> buf(1 << 16);
	usize n = fn(s, buf.data(), buf.size());
	EXPECT_LT(n, buf.size());
	return std::string(buf.data());
}

std::string slabinfo(Slub<UP> &s)
{
	return text(&render_slabinfo<UP>, s);
}

std::string buddyinfo(BuddyAllocator<UP> &b)
{
	char buf[4096];
	usize n = render_buddyinfo(b, buf, sizeof(buf));
	EXPECT_LT(n, sizeof(buf));
	return buf;
}

std::string attr(Slub<UP> &s, Cache *c, const char *name)
{
	char buf[512];
	long n = render_cache_file(s, c, name, buf, sizeof(buf));
	EXPECT_GE(n, 0) << name;
	EXPECT_LT(n, long(sizeof(buf)));
	return n < 0 ? std::string("<") + std::to_string(n) + ">" : std::string(buf);
}

std::vector<std::string> lines(const std::string &t)
{
	std::vector<std::string> out;
	std::istringstream in(t);
	for (std::string l; std::getline(in, l);)
		out.push_back(l);
	return out;
}

std::string read_file(const std::string &path, bool *ok)
{
	std::ifstream f(path);
	*ok = bool(f);
	std::stringstream ss;
	ss << f.rdbuf();
	return ss.str();
}

/* ---------------------------------------------------------------- formatter */

TEST(Format, NumbersStringsAndWidthsAsPrintf)
{
	char buf[128];
	TextBuf t(buf, sizeof(buf));
	t.dec(0).chr('|')
		.dec(42, 6)
		.chr('|')
		.dec(42, -6)
		.chr('|')
		.sdec(-3, 4)
		.chr('|')
		.sdec(-3, -4)
		.chr('|');
	t.str("ab", -5).chr('|').str("ab", 5).chr('|').hex(255).chr('|').hex(0xdeadbeef, 10).chr('|');
	t.dec(18446744073709551615ull)
		.chr('|')
		.sdec(-9223372036854775807ll - 1)
		.chr('|')
		.str("toolong", 3);
	EXPECT_STREQ(buf,
		     "0|    42|42    |  -3|-3  |ab   |   ab|ff|  deadbeef|18446744073709551615|"
		     "-9223372036854775808|toolong");
	EXPECT_FALSE(t.truncated());
	EXPECT_EQ(t.len(), strlen(buf));
}

TEST(Format, TruncatesWithoutOverflowAndCountsWhatWasNeeded)
{
	char buf[8];
	memset(buf, 'X', sizeof(buf));
	{
		TextBuf t(buf, 5);
		t.str("hello world").dec(12345);
		EXPECT_STREQ(buf, "hell");
		EXPECT_EQ(t.len(), 4u);
		EXPECT_EQ(t.needed(), 16u);
		EXPECT_TRUE(t.truncated());
		EXPECT_EQ(buf[5], 'X'); /* nothing written past cap */
	}
	{
		/* Once cut, nothing later is appended, even a short piece that would fit. */
		TextBuf t(buf, 4);
		t.str("abcdef").chr('z');
		EXPECT_STREQ(buf, "abc");
		EXPECT_EQ(t.needed(), 7u);
	}
	{
		TextBuf t(buf, 1);
		t.dec(7);
		EXPECT_STREQ(buf, "");
		EXPECT_EQ(t.needed(), 1u);
	}
	{
		TextBuf t(nullptr, 100);
		t.str("abc");
		EXPECT_EQ(t.len(), 0u);
		EXPECT_EQ(t.needed(), 3u);
	}
	{
		/* Exactly fitting: cap - 1 characters. */
		TextBuf t(buf, 4);
		t.str("abc");
		EXPECT_STREQ(buf, "abc");
		EXPECT_FALSE(t.truncated());
	}
}

/* The slabinfo format string, "%-17s %6lu %6lu %6u %4u %4d", on hand-chosen values. */
TEST(Format, SlabinfoColumns)
{
	char buf[128];
	TextBuf t(buf, sizeof(buf));
	t.str("kmalloc-64", -17).chr(' ').dec(3, 6).chr(' ').dec(64, 6).chr(' ').dec(64, 6).chr(' ');
	t.dec(64, 4).chr(' ').sdec(1, 4);
	EXPECT_STREQ(buf, "kmalloc-64             3     64     64   64    1");
	TextBuf u(buf, sizeof(buf));
	u.str("a-name-longer-than-17", -17).chr(' ').dec(1234567, 6);
	EXPECT_STREQ(buf, "a-name-longer-than-17 1234567");
}

/* ---------------------------------------------------------------- slabinfo */

constexpr const char *kHeader1 = "slabinfo - version: 2.1";
constexpr const char *kHeader2 =
	"# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> "
	"<batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>";

TEST(Slabinfo, HeaderAndOneLinePerCacheNewestFirst)
{
	Instance k(2, 1);
	k.init();
	int err;
	Cache *a = k.slub().cache_create("show-a", 1024, 0, 0, nullptr, &err);
	Cache *b = k.slub().cache_create("show-b", 1024, 0, 0, nullptr, &err);
	ASSERT_TRUE(a && b);
	auto l = lines(slabinfo(k.slub()));
	/* Two header lines, 2 new caches, 14 boot caches (kmem_cache and 13 kmalloc). */
	ASSERT_EQ(l.size(), 2u + 2 + 14);
	EXPECT_EQ(l[0], kHeader1);
	EXPECT_EQ(l[1], kHeader2);
	EXPECT_EQ(l[2].substr(0, 7), "show-b ");
	EXPECT_EQ(l[3].substr(0, 7), "show-a ");
	EXPECT_EQ(l[4].substr(0, 11), "kmalloc-8k ");
	EXPECT_EQ(l.back().substr(0, 11), "kmem_cache ");
	/* An empty 1024-byte cache: order 2 (4 pages), 16 objects per slab. */
	EXPECT_EQ(
		l[3],
		"show-a                 0      0   1024   16    4 : tunables    0    0    0 : slabdata      0      "
		"0      0");
	EXPECT_EQ(k.slub().cache_destroy(a), 0);
	EXPECT_EQ(k.slub().cache_destroy(b), 0);
	EXPECT_TRUE(k.reports.empty());
}

TEST(Slabinfo, CountsCpuFreelistsAsActiveAndNodePartialFreeAsFree)
{
	Instance k(2, 1);
	k.init();
	int err;
	Cache *s = k.slub().cache_create("show-1k", 1024, 0, 0, nullptr, &err);
	ASSERT_NE(s, nullptr);
	k.cpu(0);
	std::vector<void *> held;
	for (int i = 0; i < 3; i++)
		held.push_back(k.slub().cache_alloc(s, 0));
	/* One CPU slab: its 13 free objects are on the CPU freelist, which counts as active. */
	auto l = lines(slabinfo(k.slub()));
	EXPECT_EQ(
		l[2],
		"show-1k               16     16   1024   16    4 : tunables    0    0    0 : slabdata      1      "
		"1      0");
	/* shrink flushes: the slab goes to the node partial list with 13 free objects. */
	k.slub().shrink(s);
	l = lines(slabinfo(k.slub()));
	EXPECT_EQ(
		l[2],
		"show-1k                3     16   1024   16    4 : tunables    0    0    0 : slabdata      1      "
		"1      0");
	for (void *p : held)
		EXPECT_EQ(k.slub().cache_free(s, p), 0);
	k.slub().shrink(s);
	l = lines(slabinfo(k.slub()));
	EXPECT_EQ(
		l[2],
		"show-1k                0      0   1024   16    4 : tunables    0    0    0 : slabdata      0      "
		"0      0");
	EXPECT_EQ(k.slub().cache_destroy(s), 0);
	EXPECT_TRUE(k.reports.empty());
}

TEST(Slabinfo, TruncatedOutputStaysBoundedAndReportsItsLength)
{
	Instance k(2, 1);
	k.init();
	std::string full = slabinfo(k.slub());
	for (usize cap :
	     {usize(0), usize(1), usize(10), usize(100), full.size(), full.size() + 1}) {
		std::vector<char> buf(cap + 16, 'Z');
		usize n = render_slabinfo(k.slub(), cap ? buf.data() : nullptr, cap);
		EXPECT_EQ(n, full.size()) << cap;
		for (usize i = cap; i < buf.size(); i++)
			ASSERT_EQ(buf[i], 'Z') << "written past cap " << cap;
		if (cap) {
			usize kept = std::min(cap - 1, full.size());
			EXPECT_EQ(std::string(buf.data()), full.substr(0, kept));
		}
	}
}

/* The running kernel's /proc/slabinfo (readable as root): same header, same columns. */
TEST(Slabinfo, SameStructureAsThisKernel)
{
	bool ok;
	std::string real = read_file("/proc/slabinfo", &ok);
	if (!ok || real.empty())
		GTEST_SKIP() << "/proc/slabinfo not readable";
	auto rl = lines(real);
	ASSERT_GE(rl.size(), 3u);
	EXPECT_EQ(rl[0], kHeader1);
	EXPECT_EQ(rl[1], kHeader2);

	Instance k(2, 1);
	k.init();
	auto ol = lines(slabinfo(k.slub()));
	/* Every line: 16 fields, ':' and the words at fields 6, 7, 11, 12. */
	auto fields = [](const std::string &l) {
		std::istringstream in(l);
		std::vector<std::string> f;
		for (std::string w; in >> w;)
			f.push_back(w);
		return f;
	};
	auto shape = [&](const std::string &l) {
		auto f = fields(l);
		return f.size() == 16 && f[6] == ":" && f[7] == "tunables" && f[11] == ":" &&
		       f[12] == "slabdata";
	};
	/* Column positions: in a line whose fields all fit their widths, " : tunables" starts at
	 * 17+1+6+1+6+1+6+1+4+1+4 = 48 and " : slabdata" at 48 + 11 + 15 = 74. Take them from the kernel. */
	size_t tun = std::string::npos, sd = std::string::npos;
	for (size_t i = 2; i < rl.size(); i++) {
		ASSERT_TRUE(shape(rl[i])) << rl[i];
		auto f = fields(rl[i]);
		if (f[0].size() <= 17 && f[1].size() <= 6 && f[2].size() <= 6 && f[3].size() <= 6 &&
		    f[4].size() <= 4 && f[8].size() <= 4) {
			tun = rl[i].find(" : tunables");
			sd = rl[i].find(" : slabdata");
		}
	}
	ASSERT_NE(tun, std::string::npos);
	for (size_t i = 2; i < ol.size(); i++) {
		EXPECT_TRUE(shape(ol[i])) << ol[i];
		EXPECT_EQ(ol[i].find(" : tunables"), tun) << ol[i];
		EXPECT_EQ(ol[i].find(" : slabdata"), sd) << ol[i];
	}
}

/* The geometry columns (objsize, objperslab, pagesperslab) of the kmalloc caches agree with this kernel's. */
TEST(Slabinfo, KmallocGeometryColumnsAsThisKernel)
{
	bool ok;
	std::string real = read_file("/proc/slabinfo", &ok);
	if (!ok || real.empty())
		GTEST_SKIP() << "/proc/slabinfo not readable";
	unsigned cpus = unsigned(sysconf(_SC_NPROCESSORS_CONF));
	if (cpus < 1 || cpus > 64)
		GTEST_SKIP() << "unusual CPU count " << cpus;
	Instance k(cpus, 1);
	k.init();
	auto columns = [](const std::string &text) {
		std::map<std::string, std::string> m;
		for (const std::string &l : lines(text)) {
			std::istringstream in(l);
			std::string name, active, num, size, per, pages;
			in >> name >> active >> num >> size >> per >> pages;
			m[name] = size + " " + per + " " + pages;
		}
		return m;
	};
	auto r = columns(real), o = columns(slabinfo(k.slub()));
	/* Powers of two only: kmalloc-96 and -192 are aligned differently from 6.12 on. */
	int compared = 0;
	for (const char *name :
	     {"kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-128", "kmalloc-256",
	      "kmalloc-512", "kmalloc-1k", "kmalloc-2k", "kmalloc-4k", "kmalloc-8k"}) {
		if (!r.count(name))
			continue;
		EXPECT_EQ(o[name], r[name]) << name;
		compared++;
	}
	EXPECT_GT(compared, 0);
}

/* ---------------------------------------------------------------- buddyinfo */

/*
 * One node of 8 MiB = 2048 pages: the page descriptors take 2048 * 64 bytes +
 * 4 map slots * 16 bytes = 131136 bytes = 33 pages. The rest of the first top
 * block goes out in maximal aligned blocks: page 33 (order 0), 34 (1), 36 (2),
 * 40 (3), 48 (4), 64 (6), 128 (7), 256 (8), 512 (9); the second top block is
 * one order-10 block.
 */
TEST(Buddyinfo, HandWorkedPoolAndSplits)
{
	Instance k(2, 1);
	k.init_buddy();
	EXPECT_EQ(
		buddyinfo(k.buddy()),
		"Node 0, zone    kslub      1      1      1      1      1      0      1      1      "
		"1      1      1 \n");
	/* An order-0 page takes page 33; the next splits the order-1 block at 34. */
	Page *p1 = k.buddy().alloc_pages(0, 0, 0);
	EXPECT_EQ(
		buddyinfo(k.buddy()),
		"Node 0, zone    kslub      0      1      1      1      1      0      1      1      "
		"1      1      1 \n");
	Page *p2 = k.buddy().alloc_pages(0, 0, 0);
	EXPECT_EQ(
		buddyinfo(k.buddy()),
		"Node 0, zone    kslub      1      0      1      1      1      0      1      1      "
		"1      1      1 \n");
	EXPECT_EQ(k.buddy().free_pages(p1, 0), 0);
	EXPECT_EQ(k.buddy().free_pages(p2, 0), 0);
	EXPECT_EQ(
		buddyinfo(k.buddy()),
		"Node 0, zone    kslub      1      1      1      1      1      0      1      1      "
		"1      1      1 \n");
}

TEST(Buddyinfo, OneLinePerNode)
{
	Instance k(2, 2);
	k.init_buddy();
	/*
	 * 2 x 8 MiB = 4096 pages: descriptors 4096 * 64 + 8 map slots * 16 = 262272
	 * bytes = 65 pages, all on node 0. Free blocks of node 0 start at page 65
	 * (order 0), 66 (1), 68 (2), 72 (3), 80 (4), 96 (5), 128 (7), 256 (8),
	 * 512 (9), 1024 (10); node 1 holds two whole order-10 blocks.
	 */
	EXPECT_EQ(
		buddyinfo(k.buddy()),
		"Node 0, zone    kslub      1      1      1      1      1      1      0      1      "
		"1      1      1 \n"
		"Node 1, zone    kslub      0      0      0      0      0      0      0      0      "
		"0      0      2 \n");
}

TEST(Buddyinfo, SameStructureAsThisKernel)
{
	bool ok;
	std::string real = read_file("/proc/buddyinfo", &ok);
	if (!ok || real.empty())
		GTEST_SKIP() << "/proc/buddyinfo not readable";
	Instance k(2, 1);
	k.init_buddy();
	std::string ours = buddyinfo(k.buddy());
	/* "Node N, zone" + zone name right-aligned in 8 + one column of 6 + space per order 0..10. */
	std::regex line(R"(Node \d+, zone [ A-Za-z0-9]{8} (( {0,5}\d{1,6}|\d{7,}) ){11})");
	for (const std::string &l : lines(real))
		EXPECT_TRUE(std::regex_match(l, line)) << "kernel: " << l;
	for (const std::string &l : lines(ours))
		EXPECT_TRUE(std::regex_match(l, line)) << "ours: " << l;
	EXPECT_EQ(real.back(), '\n');
	EXPECT_EQ(ours.back(), '\n');
}

/* ---------------------------------------------------------------- sysfs files */

TEST(CacheAttrs, The29NamesOf61)
{
	const char *want[] = {"aliases",
			      "align",
			      "cache_dma",
			      "cpu_partial",
			      "cpu_slabs",
			      "ctor",
			      "destroy_by_rcu",
			      "hwcache_align",
			      "min_partial",
			      "object_size",
			      "objects",
			      "objects_partial",
			      "objs_per_slab",
			      "order",
			      "partial",
			      "poison",
			      "reclaim_account",
			      "red_zone",
			      "remote_node_defrag_ratio",
			      "sanity_checks",
			      "shrink",
			      "slab_size",
			      "slabs",
			      "slabs_cpu_partial",
			      "store_user",
			      "total_objects",
			      "trace",
			      "usersize",
			      "validate"};
	ASSERT_EQ(NR_CACHE_ATTRS, 29u);
	for (unsigned i = 0; i < 29; i++) {
		EXPECT_STREQ(cache_attr_name(i), want[i]);
		EXPECT_EQ(cache_attr_index(want[i]), int(i));
	}
	EXPECT_EQ(cache_attr_name(29), nullptr);
	EXPECT_EQ(cache_attr_index("sheaf_capacity"), -1);
	/* The 26 counters of 6.1, then the 17 sheaf counters of 6.18 (mm/slub.c's SLAB_ATTR list). */
	EXPECT_EQ(NR_CACHE_FILES, 29u + 26u + 17u);
	EXPECT_STREQ(cache_file_name(29), "alloc_fastpath");
	EXPECT_STREQ(cache_file_name(54), "cpu_partial_drain");
	EXPECT_STREQ(cache_file_name(55), "alloc_cpu_sheaf");
	EXPECT_STREQ(cache_file_name(63), "barn_get");
	EXPECT_STREQ(cache_file_name(71), "sheaf_return_slow");
	EXPECT_EQ(cache_file_name(72), nullptr);
}

TEST(CacheAttrs, UnknownNamesAreENOENT)
{
	Instance k(2, 1);
	k.init();
	Cache *s = k.slub().find_cache("kmalloc-64");
	char buf[64] = "unchanged";
	for (const char *bad : {"", "slabs ", "SLABS", "sheaf_capacity", "skip_kfence", "../slabs",
				"alloc_fastpath2"})
		EXPECT_EQ(render_cache_file(k.slub(), s, bad, buf, sizeof(buf)), -KSLUB_ENOENT)
			<< bad;
	EXPECT_EQ(render_cache_file(k.slub(), s, nullptr, buf, sizeof(buf)), -KSLUB_ENOENT);
	EXPECT_EQ(render_cache_attr(k.slub(), s, 29u, buf, sizeof(buf)), -KSLUB_ENOENT);
	EXPECT_EQ(render_stat(k.slub(), s, 43u, buf, sizeof(buf)), -KSLUB_ENOENT);
}

/* Constant files of a fresh 1024-byte cache, worked by hand (see the file comment). */
TEST(CacheAttrs, GeometryAndFlagsOfAFreshCache)
{
	Instance k(2, 1);
	k.init();
	int err;
	Cache *s = k.slub().cache_create("show-1k", 1024, 0, 0, nullptr, &err);
	ASSERT_NE(s, nullptr);
	auto &sl = k.slub();
	const std::pair<const char *, const char *> want[] = {
		{"aliases", "0\n"},
		{"align", "8\n"},
		{"cache_dma", "0\n"},
		{"cpu_partial", "24\n"},
		{"cpu_slabs", "0\n"},
		{"ctor", ""},
		{"destroy_by_rcu", "0\n"},
		{"hwcache_align", "0\n"},
		{"min_partial", "5\n"},
		{"object_size", "1024\n"},
		{"objects", "0\n"},
		{"objects_partial", "0\n"},
		{"objs_per_slab", "16\n"},
		{"order", "2\n"},
		{"partial", "0\n"},
		{"poison", "0\n"},
		{"reclaim_account", "0\n"},
		{"red_zone", "0\n"},
		{"remote_node_defrag_ratio", "100\n"},
		{"sanity_checks", "0\n"},
		{"shrink", ""},
		{"slab_size", "1024\n"},
		{"slabs", "0\n"},
		{"slabs_cpu_partial", "0(0)\n"},
		{"store_user", "0\n"},
		{"total_objects", "0\n"},
		{"trace", "0\n"},
		{"usersize", "0\n"},
		{"validate", ""},
	};
	for (auto &w : want)
		EXPECT_EQ(attr(sl, s, w.first), w.second) << w.first;
	EXPECT_EQ(sl.cache_destroy(s), 0);
}

void ctor_fn(void *) {}

TEST(CacheAttrs, FlagsCtorAndKmallocUsersize)
{
	Instance k(2, 1);
	k.init();
	int err;
	auto &sl = k.slub();
	/* 100 bytes, hardware-aligned: 64-byte cache line, 100 > 32 so the alignment stays 64; stride 128. */
	Cache *s = sl.cache_create("show-flags", 100, 0,
				   SLAB_HWCACHE_ALIGN | SLAB_TYPESAFE_BY_RCU | SLAB_POISON |
					   SLAB_CONSISTENCY_CHECKS,
				   ctor_fn, &err);
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(attr(sl, s, "hwcache_align"), "1\n");
	EXPECT_EQ(attr(sl, s, "destroy_by_rcu"), "1\n");
	EXPECT_EQ(attr(sl, s, "poison"), "1\n");
	EXPECT_EQ(attr(sl, s, "sanity_checks"), "1\n");
	EXPECT_EQ(attr(sl, s, "align"), "64\n");
	EXPECT_EQ(attr(sl, s, "slab_size"), "128\n");
	EXPECT_EQ(attr(sl, s, "cpu_partial"), "0\n"); /* debug caches keep no CPU partial slabs */
	char want[64];
	snprintf(want, sizeof(want), "0x%lx\n", (unsigned long)(uintptr_t)&ctor_fn);
	EXPECT_EQ(attr(sl, s, "ctor"), want);
	EXPECT_EQ(sl.cache_destroy(s), 0);
	/* kmalloc caches are created with usersize = size (create_kmalloc_cache). */
	EXPECT_EQ(attr(sl, sl.find_cache("kmalloc-96"), "usersize"), "96\n");
	EXPECT_EQ(attr(sl, sl.find_cache("kmalloc-8k"), "usersize"), "8192\n");
	EXPECT_EQ(attr(sl, sl.find_cache("kmalloc-8k"), "order"), "3\n");
	EXPECT_EQ(attr(sl, sl.find_cache("kmalloc-8k"), "objs_per_slab"), "4\n");
	EXPECT_EQ(attr(sl, sl.find_cache("kmalloc-8k"), "cpu_partial"), "6\n");
	EXPECT_EQ(attr(sl, sl.find_cache("kmalloc-8k"), "min_partial"), "6\n");
}

/*
 * The counts through a sequence, on CPU 0 of 2:
 *   16 allocations fill slab A; a 17th takes a new CPU slab B (1 in use).
 *   Freeing one object of the full slab A on CPU 0 freezes A onto CPU 0's
 *   partial list (put_cpu_partial): one CPU partial slab, 15 in use.
 *   shrink flushes both to the node partial list: A (15 in use, 1 free) and
 *   B (1 in use, 15 free).
 */
TEST(CacheAttrs, CountsWithPerNodeAndPerCpuBreakdown)
{
	Instance k(2, 1);
	k.init();
	int err;
	auto &sl = k.slub();
	Cache *s = sl.cache_create("show-1k", 1024, 0, 0, nullptr, &err);
	ASSERT_NE(s, nullptr);
	k.cpu(0);
	std::vector<void *> a, b;
	for (int i = 0; i < 16; i++)
		a.push_back(sl.cache_alloc(s, 0));
	b.push_back(sl.cache_alloc(s, 0));
	EXPECT_EQ(attr(sl, s, "slabs"), "2 N0=2\n");
	EXPECT_EQ(attr(sl, s, "cpu_slabs"), "1 N0=1\n"); /* B; A is full and on no list */
	EXPECT_EQ(attr(sl, s, "total_objects"), "32 N0=32\n");
	EXPECT_EQ(attr(sl, s, "objects"), "32 N0=32\n");
	EXPECT_EQ(attr(sl, s, "partial"), "0\n");

	EXPECT_EQ(sl.cache_free(s, a.back()), 0);
	a.pop_back();
	EXPECT_EQ(attr(sl, s, "cpu_slabs"), "2 N0=2\n"); /* B and the one CPU partial slab */
	EXPECT_EQ(attr(sl, s, "slabs_cpu_partial"), "8(1) C0=8(1)\n"); /* 1 * 16 / 2 */
	EXPECT_EQ(attr(sl, s, "partial"), "0\n");
	EXPECT_EQ(attr(sl, s, "objects"), "32 N0=32\n");

	sl.shrink(s);
	EXPECT_EQ(attr(sl, s, "cpu_slabs"), "0\n");
	EXPECT_EQ(attr(sl, s, "slabs_cpu_partial"), "0(0)\n");
	EXPECT_EQ(attr(sl, s, "partial"), "2 N0=2\n");
	EXPECT_EQ(attr(sl, s, "objects_partial"), "16 N0=16\n");
	EXPECT_EQ(attr(sl, s, "objects"), "16 N0=16\n");
	EXPECT_EQ(attr(sl, s, "slabs"), "2 N0=2\n");
	EXPECT_EQ(attr(sl, s, "total_objects"), "32 N0=32\n");

	for (void *p : a)
		EXPECT_EQ(sl.cache_free(s, p), 0);
	for (void *p : b)
		EXPECT_EQ(sl.cache_free(s, p), 0);
	EXPECT_EQ(sl.validate(s), 0);
	EXPECT_EQ(sl.cache_destroy(s), 0);
	EXPECT_TRUE(k.reports.empty());
}

/*
 * Two nodes, CPU 0 on node 0 and CPU 1 on node 1 (2 CPUs folded onto 2
 * nodes): one object on each CPU gives one slab per node.
 */
TEST(CacheAttrs, TwoNodes)
{
	Instance k(2, 2);
	k.init();
	int err;
	auto &sl = k.slub();
	Cache *s = sl.cache_create("show-1k", 1024, 0, 0, nullptr, &err);
	ASSERT_NE(s, nullptr);
	k.cpu(0);
	void *p = sl.cache_alloc(s, 0);
	k.cpu(1);
	void *q = sl.cache_alloc(s, 0);
	void *r = sl.cache_alloc(s, 0);
	EXPECT_EQ(attr(sl, s, "slabs"), "2 N0=1 N1=1\n");
	EXPECT_EQ(attr(sl, s, "cpu_slabs"), "2 N0=1 N1=1\n");
	EXPECT_EQ(attr(sl, s, "total_objects"), "32 N0=16 N1=16\n");
	sl.shrink(s);
	EXPECT_EQ(attr(sl, s, "partial"), "2 N0=1 N1=1\n");
	EXPECT_EQ(attr(sl, s, "objects_partial"), "3 N0=1 N1=2\n");
	EXPECT_EQ(attr(sl, s, "objects"), "3 N0=1 N1=2\n");
	k.cpu(0);
	EXPECT_EQ(sl.cache_free(s, p), 0);
	EXPECT_EQ(sl.cache_free(s, q), 0);
	EXPECT_EQ(sl.cache_free(s, r), 0);
	EXPECT_EQ(sl.cache_destroy(s), 0);
	EXPECT_TRUE(k.reports.empty());
}

/* ---------------------------------------------------------------- stats */

TEST(Stats, SumThenNonZeroOnlineCpus)
{
	if (!CONFIG_KSLUB_STATS)
		GTEST_SKIP() << "built without CONFIG_KSLUB_STATS";
	Instance k(2, 1);
	k.init();
	int err;
	auto &sl = k.slub();
	Cache *s = sl.cache_create("show-1k", 1024, 0, 0, nullptr, &err);
	ASSERT_NE(s, nullptr);
	for (unsigned i = 0; i < NR_SLUB_STAT_ITEMS; i++)
		EXPECT_EQ(attr(sl, s, stat_name(i)), "0\n") << stat_name(i);
	/* CPU 0: the first allocation takes the slow path and a new slab; two more are fast. */
	k.cpu(0);
	void *p[4];
	for (int i = 0; i < 3; i++)
		p[i] = sl.cache_alloc(s, 0);
	/* CPU 1: its own new slab; then a free to its own CPU slab, the fast path. */
	k.cpu(1);
	p[3] = sl.cache_alloc(s, 0);
	EXPECT_EQ(sl.cache_free(s, p[3]), 0);
	EXPECT_EQ(attr(sl, s, "alloc_fastpath"), "2 C0=2\n");
	EXPECT_EQ(attr(sl, s, "alloc_slowpath"), "2 C0=1 C1=1\n");
	EXPECT_EQ(attr(sl, s, "alloc_slab"), "2 C0=1 C1=1\n");
	EXPECT_EQ(attr(sl, s, "free_fastpath"), "1 C1=1\n");
	EXPECT_EQ(attr(sl, s, "free_slowpath"), "0\n");
	/* An offline CPU is neither summed nor listed (for_each_online_cpu). */
	k.cpu(0);
	k.pal().set_online(1, false);
	sl.cpu_dead(1);
	EXPECT_EQ(attr(sl, s, "alloc_slowpath"), "1 C0=1\n");
	EXPECT_EQ(attr(sl, s, "free_fastpath"), "0\n");
	k.pal().set_online(1, true);
	EXPECT_EQ(attr(sl, s, "alloc_slowpath"), "2 C0=1 C1=1\n");
	char buf[512];
	EXPECT_EQ(render_stat(sl, s, ALLOC_SLAB, buf, sizeof(buf)), 12);
	EXPECT_STREQ(buf, "2 C0=1 C1=1\n");
	for (int i = 0; i < 3; i++)
		EXPECT_EQ(sl.cache_free(s, p[i]), 0);
	EXPECT_EQ(sl.cache_destroy(s), 0);
	EXPECT_TRUE(k.reports.empty());
}

/* ---------------------------------------------------------------- against /sys/kernel/slab */

/* The shape of each file, as regular expressions written from mm/slub.c's formats. */
const std::map<std::string, std::string> &shapes()
{
	static const std::map<std::string, std::string> m = {
		{"aliases", R"(\d+\n)"},
		{"align", R"(\d+\n)"},
		{"cache_dma", R"([01]\n)"},
		{"cpu_partial", R"(\d+\n)"},
		{"cpu_slabs", R"(\d+( N\d+=\d+)*\n)"},
		{"ctor", R"((|\S+\n))"},
		{"destroy_by_rcu", R"([01]\n)"},
		{"hwcache_align", R"([01]\n)"},
		{"min_partial", R"(\d+\n)"},
		{"object_size", R"(\d+\n)"},
		{"objects", R"(\d+( N\d+=\d+)*\n)"},
		{"objects_partial", R"(\d+( N\d+=\d+)*\n)"},
		{"objs_per_slab", R"(\d+\n)"},
		{"order", R"(\d+\n)"},
		{"partial", R"(\d+( N\d+=\d+)*\n)"},
		{"poison", R"([01]\n)"},
		{"reclaim_account", R"([01]\n)"},
		{"red_zone", R"([01]\n)"},
		{"remote_node_defrag_ratio", R"(\d+\n)"},
		{"sanity_checks", R"([01]\n)"},
		{"shrink", R"()"},
		{"slab_size", R"(\d+\n)"},
		{"slabs", R"(\d+( N\d+=\d+)*\n)"},
		{"slabs_cpu_partial", R"(\d+\(\d+\)( C\d+=\d+\(\d+\))*\n)"},
		{"store_user", R"([01]\n)"},
		{"total_objects", R"(\d+( N\d+=\d+)*\n)"},
		{"trace", R"([01]\n)"},
		{"usersize", R"(\d+\n)"},
		{"validate", R"()"},
	};
	return m;
}

TEST(CacheAttrs, SameNamesAndShapesAsThisKernel)
{
	const std::string dir = "/sys/kernel/slab/kmalloc-64/";
	bool ok;
	read_file(dir + "order", &ok);
	if (!ok)
		GTEST_SKIP() << dir << " not readable";
	Instance k(2, 1);
	k.init();
	auto &sl = k.slub();
	Cache *s = sl.find_cache("kmalloc-64");
	/* Give the cache some state so that the breakdowns are not all zero. */
	void *p[70];
	for (void *&o : p)
		o = sl.cache_alloc(s, 0);
	EXPECT_EQ(sl.cache_free(s, p[0]), 0);
	ASSERT_EQ(shapes().size(), 29u);
	for (unsigned i = 0; i < NR_CACHE_ATTRS; i++) {
		const char *name = cache_attr_name(i);
		std::regex shape(shapes().at(name));
		std::string real = read_file(dir + name, &ok);
		EXPECT_TRUE(ok) << "the kernel has no " << name;
		if (ok)
			EXPECT_TRUE(std::regex_match(real, shape))
				<< name << ": kernel shows '" << real << "'";
		std::string ours = attr(sl, s, name);
		EXPECT_TRUE(std::regex_match(ours, shape)) << name << ": we show '" << ours << "'";
	}
	/*
	 * The values that do not depend on use or on the CPU count agree with the kernel's kmalloc-64
	 * (not aliases: a kernel that merges other caches into kmalloc-64 counts them).
	 */
	for (const char *name : {"object_size", "slab_size", "order", "objs_per_slab",
				 "min_partial", "usersize", "ctor", "shrink", "validate",
				 "hwcache_align", "destroy_by_rcu", "remote_node_defrag_ratio",
				 "reclaim_account", "cache_dma", "red_zone", "store_user"}) {
		std::string real = read_file(dir + name, &ok);
		EXPECT_EQ(attr(sl, s, name), real) << name;
	}
	for (int i = 1; i < 70; i++)
		EXPECT_EQ(sl.cache_free(s, p[i]), 0);
	EXPECT_TRUE(k.reports.empty());
}

} // namespace

/*
 * The `sheaves` file: "design tid" under 6.1; under 7.3, kmalloc-4k's
 * sheaves of 4 (a 7.3 guest's kmalloc-4k/sheaf_capacity) after one
 * allocation on CPU 1: its refilled main holds 3, its old empty main went to
 * node 0's barn; CPU 0's main is still empty (sheaves_test.cpp works the
 * sequence through).
 */
TEST(SheavesFile, DesignCpusAndBarns)
{
	{
		Instance k(2, 1);
		k.init();
		char buf[256];
		Cache *s = k.slub().kmalloc_cache(kmalloc_index(64));
		ASSERT_GT(render_sheaves(k.slub(), s, buf, sizeof(buf)), 0);
		EXPECT_STREQ(buf, "design tid\n");
	}
	Instance k(2, 1);
	k.init(KernelRules::Linux73);
	Cache *s = k.slub().kmalloc_cache(kmalloc_index(4096));
	k.cpu(1);
	void *p = k.slub().kmalloc(4096, 0);
	ASSERT_NE(p, nullptr);
	char buf[256];
	long n = render_sheaves(k.slub(), s, buf, sizeof(buf));
	EXPECT_EQ(n, long(strlen(buf)));
	EXPECT_STREQ(buf, "design sheaves capacity 4\n"
			  "cpu0 main 0 spare - rcu_free -\n"
			  "cpu1 main 3 spare - rcu_free -\n"
			  "node0 barn full 0 (0 objects) empty 1\n");
	EXPECT_EQ(render_sheaves(k.slub(), static_cast<Cache *>(nullptr), buf, sizeof(buf)),
		  -KSLUB_ENOENT);
	EXPECT_EQ(k.slub().kfree(p), 0);
	EXPECT_TRUE(k.reports.empty());
}
