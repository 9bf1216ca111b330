// SPDX-License-Identifier: GPL-2.0-only
/*
 * The four rule sets of core/slub/geometry.h (KernelRules: Linux 6.1, 6.12,
 * 6.18, 7.3) against every cache of booted kernels, and the core running
 * without CPU partial lists, as it does under the 7.3 rules.
 *
 * tests/data/caches-linux-<kernel>.txt hold every cache of
 * /sys/kernel/slab (aliases left out) of Debian's 6.1.0-57, 6.12.117,
 * 6.18.15 and 7.3.4 booted in QEMU with 1, 2, 4 and 8 CPUs
 * (tests/vm/guest/geometry.sh): some 190 caches of 60-odd strides each,
 * from 8 bytes to 256 KiB. A cache's order, objects per slab, cpu_partial
 * and min_partial depend only on its stride (slab_size) and the CPU count,
 * so the stride alone is fed to compute_geometry(). On 6.1 and 6.12 a
 * scratch module had added caches of 100, 700, 5000, 10920, 10928, 11000,
 * 12280, 12288 and 20000 bytes first: 10928 .. 12280 are the strides where
 * the calculate_order of 6.1 and that of 6.12 on part (order 2 and one
 * object on 6.1, order 3 and two objects on 6.12).
 */
#include "test_util.h"

#include "slub/slub.h"

#include <algorithm>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#ifndef KSLUB_TEST_DATA_DIR
#error "KSLUB_TEST_DATA_DIR must be defined by the build"
#endif

namespace {

using kslub::KernelRules;
using kslub_test::Census;
using kslub_test::census_is;
using kslub_test::StatWatch;

/* One line of caches-linux-<kernel>.txt. */
struct CacheRow {
	unsigned cpus;
	std::string name;
	unsigned object_size, slab_size, order, objs_per_slab, cpu_partial, min_partial, align;
	std::string sheaf_capacity; /* "-" where the kernel has no such file */
	std::string sanity_checks;
};

std::vector<CacheRow> load_caches(const std::string &kernel)
{
	const std::string path =
		std::string(KSLUB_TEST_DATA_DIR) + "/caches-linux-" + kernel + ".txt";
	std::vector<CacheRow> rows;
	std::ifstream in(path);
	EXPECT_TRUE(in.good()) << path;
	std::string line;
	while (std::getline(in, line)) {
		if (line.empty() || line[0] == '#')
			continue;
		std::istringstream ls(line);
		CacheRow r{};
		std::string extra;
		if (!(ls >> r.cpus >> r.name >> r.object_size >> r.slab_size >> r.order >>
		      r.objs_per_slab >> r.cpu_partial >> r.min_partial >> r.align >>
		      r.sheaf_capacity >> r.sanity_checks) ||
		    (ls >> extra))
			ADD_FAILURE() << path << ": malformed line '" << line << "'";
		else
			rows.push_back(r);
	}
	return rows;
}

struct RulesCase {
	const char *kernel;
	KernelRules rules;
};

void PrintTo(const RulesCase &c, std::ostream *os)
{
	*os << "Linux " << c.kernel;
}

/* What the rules say for a row that differs from it, or "" when they agree. */
std::string row_mismatch(const CacheRow &r, KernelRules rules)
{
	bool debug = r.sanity_checks == "1";
	kslub::Geometry g = kslub::compute_geometry(
		r.slab_size, 8, debug ? kslub::SLAB_CONSISTENCY_CHECKS : 0, false, r.cpus, rules);
	std::ostringstream o;
	if (!g.ok)
		return "no geometry";
	if (g.size != r.slab_size)
		o << " stride " << g.size;
	if (g.order != r.order)
		o << " order " << g.order << " (kernel " << r.order << ")";
	if (g.objects != r.objs_per_slab)
		o << " objs_per_slab " << g.objects << " (kernel " << r.objs_per_slab << ")";
	if (g.cpu_partial != r.cpu_partial)
		o << " cpu_partial " << g.cpu_partial << " (kernel " << r.cpu_partial << ")";
	if (g.min_partial != r.min_partial)
		o << " min_partial " << g.min_partial << " (kernel " << r.min_partial << ")";
	return o.str();
}

class LinuxCaches : public ::testing::TestWithParam<RulesCase> {};

/* Every cache of the kernel at every CPU count: order, objs_per_slab, cpu_partial, min_partial. */
TEST_P(LinuxCaches, EveryCacheHasTheKernelsGeometry)
{
	const RulesCase &c = GetParam();
	std::vector<CacheRow> rows = load_caches(c.kernel);
	ASSERT_GT(rows.size(), 600u);
	std::set<unsigned> cpus, strides;
	for (const CacheRow &r : rows) {
		ASSERT_EQ(r.slab_size % 8, 0u) << r.name;
		cpus.insert(r.cpus);
		strides.insert(r.slab_size);
		EXPECT_EQ(row_mismatch(r, c.rules), "")
			<< "Linux " << c.kernel << ", " << r.cpus << " CPUs, " << r.name
			<< ", stride " << r.slab_size;
	}
	EXPECT_EQ(cpus, (std::set<unsigned>{1, 2, 4, 8}));
	EXPECT_GT(strides.size(), 50u);
}

/*
 * sheaf_capacity: no file before 6.18; on 6.18 0 but where a cache asks for
 * sheaves; on 7.3 the capacity by size (linux_sheaf_capacity) but for the
 * caches that cannot or ask otherwise, named here: the boot caches
 * kmem_cache and kmem_cache_node (SLAB_NO_SHEAVES: 0) and the caches whose
 * creator asks for a capacity (maple_node 32 on both, vm_area_struct 32 on
 * 6.18; 7.3 takes the larger of the two). kslub's own caches have none.
 */
TEST_P(LinuxCaches, SheafCapacity)
{
	const RulesCase &c = GetParam();
	std::vector<CacheRow> rows = load_caches(c.kernel);
	ASSERT_FALSE(rows.empty());
	const std::set<std::string> asks_or_boot = {"kmem_cache", "kmem_cache_node", "maple_node",
						    "vm_area_struct"};
	std::set<std::string> differ;
	unsigned compared = 0, nonzero = 0;
	for (const CacheRow &r : rows) {
		if (!kslub::rules_sheaf_capacity_file(c.rules)) {
			EXPECT_EQ(r.sheaf_capacity, "-") << r.name;
			continue;
		}
		ASSERT_NE(r.sheaf_capacity, "-") << r.name;
		unsigned want =
			kslub::linux_sheaf_capacity(r.slab_size, r.sanity_checks == "1", c.rules);
		compared++;
		nonzero += want != 0;
		/* kslub's caches get what the kernel's get (no cache here asked for a capacity). */
		EXPECT_EQ(kslub::cache_sheaf_capacity(
				  r.slab_size,
				  r.sanity_checks == "1" ? kslub::SLAB_CONSISTENCY_CHECKS : 0u, 0,
				  c.rules),
			  want)
			<< r.name;
		if (std::to_string(want) != r.sheaf_capacity)
			differ.insert(r.name);
	}
	if (!kslub::rules_sheaf_capacity_file(c.rules))
		return;
	EXPECT_GT(compared, 600u);
	for (const std::string &n : differ)
		EXPECT_TRUE(asks_or_boot.count(n)) << "Linux " << c.kernel << ": " << n;
	if (c.rules == KernelRules::Linux73)
		EXPECT_EQ(nonzero, compared);
	else
		EXPECT_EQ(nonzero, 0u);
}

INSTANTIATE_TEST_SUITE_P(Kernels, LinuxCaches,
			 ::testing::Values(RulesCase{"6.1", KernelRules::Linux61},
					   RulesCase{"6.12", KernelRules::Linux612},
					   RulesCase{"6.18", KernelRules::Linux618},
					   RulesCase{"7.3", KernelRules::Linux73}),
			 [](const ::testing::TestParamInfo<RulesCase> &info) {
				 std::string n = std::string("Linux") + info.param.kernel;
				 return n.replace(n.find('.'), 1, "_");
			 });

/*
 * The data tells the two calculate_order loops apart: under the other
 * kernel's rules exactly the caches of stride 10928, 11000 and 12280 (the
 * probe caches in 10928 .. 12280) come out wrong, at every CPU count.
 */
TEST(LinuxCachesOrder, The61And612LoopsDifferOnlyOnTheProbeStrides)
{
	for (const RulesCase &c :
	     {RulesCase{"6.1", KernelRules::Linux612}, RulesCase{"6.12", KernelRules::Linux61}}) {
		std::vector<CacheRow> rows = load_caches(c.kernel);
		ASSERT_FALSE(rows.empty());
		std::multiset<unsigned> wrong;
		for (const CacheRow &r : rows)
			if (!row_mismatch(r, c.rules).empty())
				wrong.insert(r.slab_size);
		std::multiset<unsigned> want;
		for (unsigned n = 0; n < 4; n++)
			want.insert({10928, 11000, 12280});
		EXPECT_EQ(wrong, want) << "Linux " << c.kernel << " data under the other rules";
	}
}

/* The row of a cache of the given stride at 2 CPUs. */
CacheRow stride_row(const std::string &kernel, unsigned stride)
{
	for (const CacheRow &r : load_caches(kernel))
		if (r.cpus == 2 && r.slab_size == stride)
			return r;
	ADD_FAILURE() << "no cache of stride " << stride << " in caches-linux-" << kernel << ".txt";
	return CacheRow{};
}

/*
 * An instance's own cache of 11000 bytes gets the slab the kernel of its
 * rules gives (6.1: order 2, one object; 6.12 on: order 3, two), and its
 * objects really sit that many to a slab.
 */
TEST(LinuxCachesOrder, InstanceCacheOf11000Bytes)
{
	const CacheRow r61 = stride_row("6.1", 11000), r612 = stride_row("6.12", 11000);
	ASSERT_EQ(r61.slab_size, 11000u);
	ASSERT_EQ(r612.slab_size, 11000u);
	for (unsigned flags : {0u, unsigned(KSLUB_KERNEL_6_12), unsigned(KSLUB_KERNEL_6_18),
			       unsigned(KSLUB_KERNEL_7_3)}) {
		SCOPED_TRACE("flags " + std::to_string(flags));
		const CacheRow &want = flags ? r612 : r61;
		int err = 1;
		kslub_t *k = kslub_create(size_t(32) << 20, 2, 1,
					  KSLUB_DETERMINISTIC | KSLUB_TID_ONLY | flags, &err);
		ASSERT_NE(k, nullptr) << err;
		kslub_cache_t *s = kslub_cache_create(k, "rules-11000", 11000, 0, 0, nullptr, &err);
		ASSERT_NE(s, nullptr) << err;
		struct kslub_geometry g;
		ASSERT_EQ(kslub_cache_geometry(s, &g), 0);
		EXPECT_EQ(g.slab_size, want.slab_size);
		EXPECT_EQ(g.order, want.order);
		EXPECT_EQ(g.objs_per_slab, want.objs_per_slab);
		EXPECT_EQ(g.min_partial, want.min_partial);
		EXPECT_EQ(g.cpu_partial, flags == KSLUB_KERNEL_7_3 ? 0u : want.cpu_partial);
		/* objs_per_slab objects fill one slab (one census slab), the next starts another. */
		std::vector<void *> held;
		for (unsigned i = 0; i < want.objs_per_slab; i++)
			held.push_back(kslub_cache_alloc(s, KSLUB_GFP_KERNEL));
		kslub_census c{};
		EXPECT_EQ(kslub_cache_check(s, &c), 0);
		EXPECT_EQ(c.slabs, 1u);
		EXPECT_EQ(c.objects, want.objs_per_slab);
		held.push_back(kslub_cache_alloc(s, KSLUB_GFP_KERNEL));
		EXPECT_EQ(kslub_cache_check(s, &c), 0);
		EXPECT_EQ(c.slabs, 2u);
		for (void *p : held) {
			EXPECT_NE(p, nullptr);
			EXPECT_EQ(kslub_cache_free(s, p), 0);
		}
		EXPECT_EQ(kslub_cache_destroy(s), 0);
		EXPECT_EQ(kslub_destroy(k), 0);
	}
}

TEST(KernelRules, ByVersionAndName)
{
	using kslub::kernel_rules_for_version;
	auto v = [](unsigned major, unsigned minor) {
		return major * 65536 + minor * 256;
	};
	EXPECT_EQ(kernel_rules_for_version(v(6, 1)), KernelRules::Linux61);
	EXPECT_EQ(kernel_rules_for_version(v(6, 11)), KernelRules::Linux61);
	EXPECT_EQ(kernel_rules_for_version(v(6, 12)), KernelRules::Linux612);
	EXPECT_EQ(kernel_rules_for_version(v(6, 17)), KernelRules::Linux612);
	EXPECT_EQ(kernel_rules_for_version(v(6, 18)), KernelRules::Linux618);
	EXPECT_EQ(kernel_rules_for_version(v(6, 19)), KernelRules::Linux618);
	EXPECT_EQ(kernel_rules_for_version(v(7, 0)), KernelRules::Linux73);
	EXPECT_EQ(kernel_rules_for_version(v(7, 3)), KernelRules::Linux73);
	EXPECT_STREQ(kslub::kernel_rules_name(KernelRules::Linux61), "6.1");
	EXPECT_STREQ(kslub::kernel_rules_name(KernelRules::Linux612), "6.12");
	EXPECT_STREQ(kslub::kernel_rules_name(KernelRules::Linux618), "6.18");
	EXPECT_STREQ(kslub::kernel_rules_name(KernelRules::Linux73), "7.3");
}

/* ------------------------------------------------------------------------- */
/* No CPU partial lists: the 7.3 rules                                         */
/* ------------------------------------------------------------------------- */

/*
 * 1024-byte objects on 2 CPUs: order 2, 16 objects (as every rule set
 * gives), min_partial 5; cpu_partial 24 and 3 CPU partial slabs under the
 * 6.x rules, 0 and 0 under 7.3's.
 */
constexpr unsigned kObjs = 16;

class NoCpuPartial : public ::testing::TestWithParam<unsigned> {
protected:
	void SetUp() override
	{
		int err = 1;
		/* The slab layer's lists: the TID design (a CPU slab) under both rules. */
		k_ = kslub_create(size_t(16) << 20, 4, 1,
				  KSLUB_DETERMINISTIC | KSLUB_TID_ONLY | GetParam(), &err);
		ASSERT_NE(k_, nullptr) << err;
		log_.attach(k_);
		ASSERT_EQ(kslub_set_cpu(k_, 0), 0);
		s_ = kslub_cache_create(k_, "nocp-1k", 1024, 0, 0, nullptr, &err);
		ASSERT_NE(s_, nullptr) << err;
	}
	void TearDown() override
	{
		if (!k_)
			return;
		EXPECT_EQ(kslub_cache_validate(s_), 0);
		EXPECT_EQ(kslub_cache_destroy(s_), 0);
		EXPECT_EQ(kslub_destroy(k_), 0);
		EXPECT_TRUE(log_.seen.empty()) << log_.dump();
	}
	bool rules73() const { return GetParam() == KSLUB_KERNEL_7_3; }
	void *alloc_on(unsigned cpu)
	{
		EXPECT_EQ(kslub_set_cpu(k_, cpu), 0);
		void *p = kslub_cache_alloc(s_, KSLUB_GFP_KERNEL);
		EXPECT_NE(p, nullptr);
		return p;
	}
	void free_on(unsigned cpu, void *p)
	{
		EXPECT_EQ(kslub_set_cpu(k_, cpu), 0);
		EXPECT_EQ(kslub_cache_free(s_, p), 0);
	}
	kslub_census census()
	{
		kslub_census c{};
		EXPECT_EQ(kslub_cache_check(s_, &c), 0);
		return c;
	}
	uint64_t stat(const char *name) { return kslub_cache_stat(s_, kslub_stat_index(name), -1); }

	kslub_t *k_ = nullptr;
	kslub_cache_t *s_ = nullptr;
	kslub_test::ReportLog log_;
};

TEST_P(NoCpuPartial, GeometrySaysSo)
{
	struct kslub_geometry g;
	ASSERT_EQ(kslub_cache_geometry(s_, &g), 0);
	EXPECT_EQ(g.order, 2u);
	EXPECT_EQ(g.objs_per_slab, kObjs);
	EXPECT_EQ(g.cpu_partial, rules73() ? 0u : 24u);
	EXPECT_EQ(g.cpu_partial_slabs, rules73() ? 0u : 3u);
	for (size_t size : {8u, 96u, 256u, 1024u, 8192u}) {
		ASSERT_EQ(kslub_cache_geometry(kslub_kmalloc_cache(k_, size), &g), 0);
		EXPECT_EQ(g.cpu_partial == 0, rules73()) << "kmalloc " << size;
	}
}

/*
 * Five full slabs A..E (E the CPU slab of CPU 0); one object freed from
 * each of A, B, C on CPU 0 and from D on CPU 1. Under the 6.x rules each
 * full slab that gains a free object is frozen onto the freeing CPU's
 * partial list; under 7.3's it goes to the node partial list
 * (FREE_ADD_PARTIAL, list_lock). CPU 1 then allocates: from the node list,
 * one slab only (no CPU partial list to fill), again and again.
 */
TEST_P(NoCpuPartial, FreesToFullSlabsGoToTheNodeList)
{
	std::vector<void *> o;
	for (unsigned i = 0; i < 5 * kObjs; i++)
		o.push_back(alloc_on(0));
	EXPECT_TRUE(census_is(s_, Census{5, 1, 0, 0, 80, 80, 0}));
	StatWatch w(s_);
	free_on(0, o[0]);
	free_on(0, o[kObjs]);
	free_on(0, o[2 * kObjs]);
	free_on(1, o[3 * kObjs]);
	if (rules73()) {
		EXPECT_TRUE(census_is(s_, Census{5, 1, 4, 0, 80, 76, 4}));
		if (CONFIG_KSLUB_STATS)
			EXPECT_TRUE(w.moved({{"free_slowpath", 4}, {"free_add_partial", 4}}));
	} else {
		/* Control: the same frees fill CPU 0's list (3 slabs) and start CPU 1's. */
		EXPECT_TRUE(census_is(s_, Census{5, 5, 0, 4, 80, 76, 4}));
		if (CONFIG_KSLUB_STATS)
			EXPECT_TRUE(w.moved({{"free_slowpath", 4}, {"cpu_partial_free", 4}}));
	}
	/* CPU 1 has no CPU slab: each allocation takes one slab's single free object. */
	std::vector<void *> again;
	for (unsigned i = 0; i < 4; i++)
		again.push_back(alloc_on(1));
	kslub_census c = census();
	EXPECT_EQ(c.live_objects, 80u);
	if (rules73()) {
		EXPECT_EQ(c.cpu_partial_slabs, 0u);
		EXPECT_EQ(c.partial_slabs, 0u);
		if (CONFIG_KSLUB_STATS) {
			EXPECT_EQ(stat("alloc_from_partial"), 4u);
			EXPECT_EQ(stat("cpu_partial_node"), 0u);
		}
	}
	for (void *p : again)
		free_on(1, p);
	for (unsigned i = 0; i < o.size(); i++)
		if (i % kObjs != 0 || i >= 4 * kObjs)
			free_on(i % 2, o[i]);
	EXPECT_EQ(census().live_objects, 0u);
	if (rules73()) {
		/* (free_frozen may move: frees into another CPU's CPU slab, which is frozen.) */
		EXPECT_EQ(census().cpu_partial_slabs, 0u);
		if (CONFIG_KSLUB_STATS)
			for (const char *n : {"cpu_partial_alloc", "cpu_partial_free",
					      "cpu_partial_node", "cpu_partial_drain"})
				EXPECT_EQ(stat(n), 0u) << n;
	}
	EXPECT_GE(kslub_cache_shrink(s_), 0);
	EXPECT_TRUE(census_is(s_, Census{0, 0, 0, 0, 0, 0, 0}));
}

/*
 * 40000 random allocations and frees on 4 CPUs (objects freed on other
 * CPUs than they came from, slabs filling, emptying and being given back):
 * under the 7.3 rules no slab is ever on a CPU partial list, the only
 * frozen slabs are CPU slabs, and validate finds nothing. The control runs
 * under 6.18's rules and must see CPU partial lists.
 */
TEST_P(NoCpuPartial, ChurnOnFourCpus)
{
	std::mt19937 rng(11);
	std::vector<void *> live;
	uint64_t max_cpu_partial = 0;
	for (unsigned op = 0; op < 40000; op++) {
		unsigned cpu = rng() % 4;
		bool alloc = live.empty() || (live.size() < 600 && rng() % 100 < 52);
		if (alloc) {
			live.push_back(alloc_on(cpu));
		} else {
			size_t i = rng() % live.size();
			free_on(cpu, live[i]);
			live[i] = live.back();
			live.pop_back();
		}
		if (op % 97 == 0) {
			kslub_census c = census();
			max_cpu_partial = std::max(max_cpu_partial, c.cpu_partial_slabs);
			ASSERT_EQ(c.live_objects, live.size());
			if (rules73()) {
				ASSERT_EQ(c.cpu_partial_slabs, 0u) << "op " << op;
				ASSERT_LE(c.frozen_slabs, 4u) << "op " << op; /* CPU slabs only */
			}
		}
	}
	EXPECT_EQ(kslub_cache_validate(s_), 0);
	if (rules73()) {
		EXPECT_EQ(max_cpu_partial, 0u);
		if (CONFIG_KSLUB_STATS) {
			for (const char *n : {"cpu_partial_alloc", "cpu_partial_free",
					      "cpu_partial_node", "cpu_partial_drain"})
				EXPECT_EQ(stat(n), 0u) << n;
			EXPECT_GT(stat("free_add_partial"), 0u);
			EXPECT_GT(stat("alloc_from_partial"), 0u);
		}
	} else {
		EXPECT_GT(max_cpu_partial, 0u);
		if (CONFIG_KSLUB_STATS)
			EXPECT_GT(stat("cpu_partial_free"), 0u);
	}
	for (size_t i = 0; i < live.size(); i++)
		free_on(unsigned(i % 4), live[i]);
	EXPECT_EQ(census().live_objects, 0u);
}

INSTANTIATE_TEST_SUITE_P(Rules, NoCpuPartial,
			 ::testing::Values(unsigned(KSLUB_KERNEL_7_3), unsigned(KSLUB_KERNEL_6_18)),
			 [](const ::testing::TestParamInfo<unsigned> &info) {
				 return std::string(info.param == KSLUB_KERNEL_7_3 ?
							    "Linux73" :
							    "Linux618_control");
			 });

} // namespace
