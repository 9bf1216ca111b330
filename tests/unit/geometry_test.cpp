// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cache geometry: kslub_kmalloc_geometry() and kslub_cache_geometry()
 * against values taken from outside kslub:
 *   - tests/data/kmalloc-linux-<kernel>-<N>cpus.txt, read from /sys/kernel/slab
 *     of Debian's 6.1, 6.12, 6.18 and 7.3 kernels booted in QEMU with 1, 2, 4
 *     and 8 CPUs (tests/vm/collect-geometry.sh), every file compared with the
 *     rules of the kernel it names by one parameterised test;
 *   - among them kmalloc-linux-6.18-2cpus.txt (Debian 6.18.15), which the
 *     tests of the 6.1 / 6.12 differences below start from;
 *   - the running machine's /sys/kernel/slab, when there is one;
 *   - facts from booted Debian 6.1 kernels;
 *   - tables worked by hand from the rules of Linux 6.1 mm/slub.c
 *     (calculate_sizes, calculate_order, calc_slab_order, set_cpu_partial,
 *     set_min_partial, calculate_alignment), each case's arithmetic written
 *     next to it.
 */
#include "kslub.h"

#include <gtest/gtest.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#ifndef KSLUB_TEST_DATA_DIR
#error "KSLUB_TEST_DATA_DIR must be defined by the build"
#endif

namespace {

/* One line of a /sys/kernel/slab table. */
struct SysfsRow {
	std::string name;
	unsigned object_size, slab_size, order, objs_per_slab, cpu_partial, min_partial, align;
};

const char *const kDataFile = KSLUB_TEST_DATA_DIR "/kmalloc-linux-6.18-2cpus.txt";

std::vector<SysfsRow> load_rows(const std::string &path)
{
	std::vector<SysfsRow> rows;
	std::ifstream in(path);
	std::string line;
	while (std::getline(in, line)) {
		if (line.empty() || line[0] == '#')
			continue;
		std::istringstream ls(line);
		SysfsRow r{};
		if (ls >> r.name >> r.object_size >> r.slab_size >> r.order >> r.objs_per_slab >>
		    r.cpu_partial >> r.min_partial >> r.align)
			rows.push_back(r);
		else
			ADD_FAILURE() << path << ": malformed line '" << line << "'";
	}
	return rows;
}

/* "kmalloc-96" -> 96, "kmalloc-1k" -> 1024 (the kernel's naming, parsed). */
size_t size_from_name(const std::string &name)
{
	const std::string prefix = "kmalloc-";
	if (name.compare(0, prefix.size(), prefix) != 0)
		return 0;
	std::string num = name.substr(prefix.size());
	size_t mult = 1;
	if (!num.empty() && num.back() == 'k') {
		mult = 1024;
		num.pop_back();
	}
	return size_t(std::stoul(num)) * mult;
}

void expect_row(const SysfsRow &r, unsigned nr_cpus, unsigned flags, const char *what)
{
	SCOPED_TRACE(std::string(what) + " " + r.name + " on " + std::to_string(nr_cpus) + " CPUs");
	size_t size = size_from_name(r.name);
	ASSERT_NE(size, 0u);
	struct kslub_geometry g;
	ASSERT_EQ(kslub_kmalloc_geometry(size, nr_cpus, flags, &g), 0);
	EXPECT_EQ(g.object_size, r.object_size);
	EXPECT_EQ(g.slab_size, r.slab_size);
	EXPECT_EQ(g.order, r.order);
	EXPECT_EQ(g.objs_per_slab, r.objs_per_slab);
	EXPECT_EQ(g.cpu_partial, r.cpu_partial);
	EXPECT_EQ(g.min_partial, r.min_partial);
	EXPECT_EQ(g.align, r.align);
}

/*
 * The kmalloc caches of instance k against the rows of a recorded table;
 * align_61 for an instance on 6.1 rules compared with a 6.12-or-later table
 * (kmalloc-96/192 aligned to 8 there).
 */
void expect_instance_caches(kslub_t *k, const std::vector<SysfsRow> &rows, const std::string &what,
			    bool align_61 = false)
{
	for (const SysfsRow &r : rows) {
		SCOPED_TRACE(what + " " + r.name);
		kslub_cache_t *s = kslub_cache_find(k, r.name.c_str());
		EXPECT_NE(s, nullptr);
		if (!s)
			continue;
		struct kslub_geometry g;
		EXPECT_EQ(kslub_cache_geometry(s, &g), 0);
		EXPECT_EQ(g.object_size, r.object_size);
		EXPECT_EQ(g.slab_size, r.slab_size);
		EXPECT_EQ(g.order, r.order);
		EXPECT_EQ(g.objs_per_slab, r.objs_per_slab);
		EXPECT_EQ(g.cpu_partial, r.cpu_partial);
		EXPECT_EQ(g.min_partial, r.min_partial);
		bool align_8 = align_61 && (r.name == "kmalloc-96" || r.name == "kmalloc-192");
		EXPECT_EQ(g.align, align_8 ? 8u : r.align);
	}
}

/* ------------------------------------------------------------------------- */
/* The recorded Linux 6.18 kernel on 2 CPUs                                   */
/* ------------------------------------------------------------------------- */

/* 6.18's kmalloc geometry is 6.12's: both rule sets give the recorded table. */
TEST(KmallocGeometry, MatchesLinux618SysfsOnTwoCpus)
{
	std::vector<SysfsRow> rows = load_rows(kDataFile);
	ASSERT_EQ(rows.size(), 13u) << kDataFile;
	for (const SysfsRow &r : rows) {
		expect_row(r, 2, KSLUB_KERNEL_6_18, "6.18 rules vs Linux 6.18 sysfs:");
		expect_row(r, 2, KSLUB_KERNEL_6_12, "6.12 rules vs Linux 6.18 sysfs:");
	}
}

/*
 * Linux 7.x has no CPU partial lists (its sysfs cpu_partial reads 0); the
 * rest of the kmalloc geometry is 6.18's: the 6.18 table with cpu_partial 0
 * is the 7.3 one (both read on booted kernels).
 */
TEST(KmallocGeometry, Linux73DiffersFromLinux618OnlyInCpuPartial)
{
	std::vector<SysfsRow> r618 = load_rows(kDataFile);
	std::vector<SysfsRow> r73 = load_rows(KSLUB_TEST_DATA_DIR "/kmalloc-linux-7.3-2cpus.txt");
	ASSERT_EQ(r618.size(), 13u);
	ASSERT_EQ(r73.size(), 13u);
	for (size_t i = 0; i < r618.size(); i++) {
		SysfsRow a = r618[i];
		EXPECT_NE(a.cpu_partial, 0u) << a.name;
		EXPECT_EQ(r73[i].cpu_partial, 0u) << r73[i].name;
		a.cpu_partial = 0;
		EXPECT_EQ(std::make_tuple(a.name, a.object_size, a.slab_size, a.order,
					  a.objs_per_slab, a.min_partial, a.align),
			  std::make_tuple(r73[i].name, r73[i].object_size, r73[i].slab_size,
					  r73[i].order, r73[i].objs_per_slab, r73[i].min_partial,
					  r73[i].align));
		expect_row(r73[i], 2, KSLUB_KERNEL_7_3, "7.3 rules vs Linux 7.3 sysfs:");
	}
}

/* One kernel flag at a time: two are refused, by the geometry call and by kslub_create. */
TEST(KmallocGeometry, TwoKernelFlagsAreRefused)
{
	struct kslub_geometry g;
	EXPECT_EQ(kslub_kmalloc_geometry(64, 2, KSLUB_KERNEL_6_12 | KSLUB_KERNEL_7_3, &g), -EINVAL);
	EXPECT_EQ(kslub_kmalloc_geometry(64, 2, KSLUB_KERNEL_6_18 | KSLUB_KERNEL_7_3, &g), -EINVAL);
	int err = 0;
	EXPECT_EQ(kslub_create(16u << 20, 2, 1, KSLUB_KERNEL_6_12 | KSLUB_KERNEL_6_18, &err),
		  nullptr);
	EXPECT_EQ(err, -EINVAL);
	for (unsigned f : {0u, unsigned(KSLUB_KERNEL_6_12), unsigned(KSLUB_KERNEL_6_18),
			   unsigned(KSLUB_KERNEL_7_3)}) {
		EXPECT_EQ(kslub_kmalloc_geometry(64, 2, f, &g), 0) << f;
		kslub_t *k = kslub_create(16u << 20, 2, 1, f, &err);
		EXPECT_NE(k, nullptr) << f;
		if (k)
			EXPECT_EQ(kslub_destroy(k), 0);
	}
}

/*
 * Linux 6.1 differs only in the alignment of the two caches whose size is not
 * a power of two: "kmalloc-96 / kmalloc-192 alignment is 8 on 6.1 and 32 / 64
 * on 6.12" (booted Debian 6.1 kernels). Their sizes are multiples of 32 and
 * 64, so the stride (slab_size) and hence the order do not change.
 */
TEST(KmallocGeometry, Linux61RulesDifferOnlyInTheAlignmentOf96And192)
{
	std::vector<SysfsRow> rows = load_rows(kDataFile);
	ASSERT_EQ(rows.size(), 13u) << kDataFile;
	for (SysfsRow r : rows) {
		if (r.name == "kmalloc-96" || r.name == "kmalloc-192")
			r.align = 8;
		expect_row(r, 2, 0, "6.1 rules:");
	}
}

/* Read on booted Debian 6.1 kernels with 2 CPUs. */
TEST(KmallocGeometry, Linux61BootedFacts)
{
	struct kslub_geometry g;
	ASSERT_EQ(kslub_kmalloc_geometry(64, 2, 0, &g), 0);
	EXPECT_EQ(g.order, 0u);
	EXPECT_EQ(g.objs_per_slab, 64u);
	EXPECT_EQ(g.cpu_partial, 120u);
	EXPECT_EQ(g.min_partial, 5u);
	EXPECT_EQ(g.align, 64u);

	ASSERT_EQ(kslub_kmalloc_geometry(8192, 2, 0, &g), 0);
	EXPECT_EQ(g.order, 3u);
	EXPECT_EQ(g.objs_per_slab, 4u);
	EXPECT_EQ(g.cpu_partial, 6u);
	EXPECT_EQ(g.min_partial, 6u);
	EXPECT_EQ(g.align, 8192u);

	ASSERT_EQ(kslub_kmalloc_geometry(96, 2, 0, &g), 0);
	EXPECT_EQ(g.align, 8u);
	ASSERT_EQ(kslub_kmalloc_geometry(192, 2, 0, &g), 0);
	EXPECT_EQ(g.align, 8u);
}

/* ------------------------------------------------------------------------- */
/* Every recorded kernel: tests/data/kmalloc-linux-<kernel>-<N>cpus.txt        */
/* ------------------------------------------------------------------------- */

/*
 * The kslub_create() flag of a kernel version: < 6.12 -> 6.1 rules (0),
 * 6.12 .. 6.17 -> KSLUB_KERNEL_6_12, 6.18 .. 6.x -> KSLUB_KERNEL_6_18,
 * 7.0 on -> KSLUB_KERNEL_7_3 (as module/instance.cpp chooses).
 */
unsigned kernel_flag(unsigned major, unsigned minor)
{
	if (major >= 7)
		return KSLUB_KERNEL_7_3;
	if (major < 6 || minor < 12)
		return 0;
	return minor >= 18 ? KSLUB_KERNEL_6_18 : KSLUB_KERNEL_6_12;
}

/* One data file and what its name says: the kernel release and the CPU count. */
struct KernelDataFile {
	std::string file;   /* file name inside KSLUB_TEST_DATA_DIR */
	std::string kernel; /* "6.1", "6.12", "6.18", "7.3" */
	unsigned major, minor, nr_cpus;

	unsigned flags() const { return kernel_flag(major, minor); }
};

/* How GoogleTest (and so the CTest names it lists) shows a parameter: its file name, not its bytes. */
void PrintTo(const KernelDataFile &f, std::ostream *os)
{
	*os << f.file;
}

/* Parses "kmalloc-linux-6.12-4cpus.txt"; false for any other name. */
bool parse_data_file_name(const std::string &name, KernelDataFile *f)
{
	unsigned major = 0, minor = 0, cpus = 0;
	int end = 0;
	if (sscanf(name.c_str(), "kmalloc-linux-%u.%u-%ucpus.txt%n", &major, &minor, &cpus, &end) !=
		    3 ||
	    size_t(end) != name.size() || cpus == 0)
		return false;
	f->file = name;
	f->kernel = std::to_string(major) + "." + std::to_string(minor);
	f->major = major;
	f->minor = minor;
	f->nr_cpus = cpus;
	return true;
}

std::vector<KernelDataFile> kernel_data_files()
{
	std::vector<KernelDataFile> files;
	DIR *d = opendir(KSLUB_TEST_DATA_DIR);
	if (!d)
		return files;
	while (struct dirent *e = readdir(d)) {
		KernelDataFile f;
		if (parse_data_file_name(e->d_name, &f))
			files.push_back(f);
	}
	closedir(d);
	std::sort(files.begin(), files.end(), [](const KernelDataFile &a, const KernelDataFile &b) {
		return a.major != b.major ? a.major < b.major :
		       a.minor != b.minor ? a.minor < b.minor :
					    a.nr_cpus < b.nr_cpus;
	});
	return files;
}

TEST(KmallocGeometryData, FileNamesAreParsed)
{
	KernelDataFile f;
	ASSERT_TRUE(parse_data_file_name("kmalloc-linux-6.12-8cpus.txt", &f));
	EXPECT_EQ(f.kernel, "6.12");
	EXPECT_EQ(f.nr_cpus, 8u);
	EXPECT_EQ(f.flags(), KSLUB_KERNEL_6_12);
	ASSERT_TRUE(parse_data_file_name("kmalloc-linux-6.1-1cpus.txt", &f));
	EXPECT_EQ(f.kernel, "6.1");
	EXPECT_EQ(f.nr_cpus, 1u);
	EXPECT_EQ(f.flags(), 0u);
	ASSERT_TRUE(parse_data_file_name("kmalloc-linux-6.18-2cpus.txt", &f));
	EXPECT_EQ(f.kernel, "6.18");
	EXPECT_EQ(f.flags(), KSLUB_KERNEL_6_18);
	ASSERT_TRUE(parse_data_file_name("kmalloc-linux-7.3-4cpus.txt", &f));
	EXPECT_EQ(f.kernel, "7.3");
	EXPECT_EQ(f.nr_cpus, 4u);
	EXPECT_EQ(f.flags(), KSLUB_KERNEL_7_3);
	EXPECT_EQ(kernel_flag(6, 11), 0u);
	EXPECT_EQ(kernel_flag(6, 17), KSLUB_KERNEL_6_12);
	EXPECT_EQ(kernel_flag(6, 19), KSLUB_KERNEL_6_18);
	EXPECT_EQ(kernel_flag(7, 0), KSLUB_KERNEL_7_3);
	EXPECT_FALSE(parse_data_file_name("kmalloc-linux-6.1-0cpus.txt", &f));
	EXPECT_FALSE(parse_data_file_name("kmalloc-linux-6.1-2cpus.txt~", &f));
	EXPECT_FALSE(parse_data_file_name("README", &f));
}

/* The recordings tests/vm/collect-geometry.sh makes are all present. */
TEST(KmallocGeometryData, EveryKernelAndCpuCountIsRecorded)
{
	std::vector<KernelDataFile> files = kernel_data_files();
	for (const char *kernel : {"6.1", "6.12", "6.18", "7.3"})
		for (unsigned cpus : {1u, 2u, 4u, 8u}) {
			bool found = false;
			for (const KernelDataFile &f : files)
				found = found || (f.kernel == kernel && f.nr_cpus == cpus);
			EXPECT_TRUE(found) << "no " << KSLUB_TEST_DATA_DIR << "/kmalloc-linux-"
					   << kernel << "-" << cpus << "cpus.txt";
		}
}

class KmallocGeometryVsKernel : public ::testing::TestWithParam<KernelDataFile> {};

/* kslub_kmalloc_geometry() with the file's CPU count and its kernel's rules. */
TEST_P(KmallocGeometryVsKernel, KmallocGeometry)
{
	const KernelDataFile &f = GetParam();
	const std::string path = std::string(KSLUB_TEST_DATA_DIR) + "/" + f.file;
	std::vector<SysfsRow> rows = load_rows(path);
	ASSERT_EQ(rows.size(), 13u) << path;
	const std::string what = "Linux " + f.kernel + " (" + f.file + "):";
	for (const SysfsRow &r : rows)
		expect_row(r, f.nr_cpus, f.flags(), what.c_str());
}

/* The kmalloc caches of an instance created with that many CPUs and those rules. */
TEST_P(KmallocGeometryVsKernel, InstanceKmallocCaches)
{
	const KernelDataFile &f = GetParam();
	const std::string path = std::string(KSLUB_TEST_DATA_DIR) + "/" + f.file;
	std::vector<SysfsRow> rows = load_rows(path);
	ASSERT_EQ(rows.size(), 13u) << path;
	int err = 1;
	kslub_t *k = kslub_create(16u << 20, f.nr_cpus, 1, KSLUB_DETERMINISTIC | f.flags(), &err);
	ASSERT_NE(k, nullptr) << "kslub_create on " << f.nr_cpus << " CPUs: err " << err;
	expect_instance_caches(k, rows,
			       "Linux " + f.kernel + " on " + std::to_string(f.nr_cpus) +
				       " CPUs (" + f.file + ")");
	EXPECT_EQ(kslub_destroy(k), 0);
}

std::string data_file_test_name(const ::testing::TestParamInfo<KernelDataFile> &info)
{
	std::string n =
		"Linux" + info.param.kernel + "_" + std::to_string(info.param.nr_cpus) + "cpus";
	std::replace(n.begin(), n.end(), '.', '_');
	return n;
}

INSTANTIATE_TEST_SUITE_P(RecordedKernels, KmallocGeometryVsKernel,
			 ::testing::ValuesIn(kernel_data_files()), data_file_test_name);

/* A request is served by its size class: 100 bytes by kmalloc-128, 5000 by kmalloc-8k. */
TEST(KmallocGeometry, RequestSizeSelectsItsClass)
{
	struct kslub_geometry g;
	ASSERT_EQ(kslub_kmalloc_geometry(100, 2, KSLUB_KERNEL_6_12, &g), 0);
	EXPECT_EQ(g.object_size, 128u);
	ASSERT_EQ(kslub_kmalloc_geometry(70, 2, KSLUB_KERNEL_6_12, &g), 0);
	EXPECT_EQ(g.object_size, 96u);
	EXPECT_EQ(g.align, 32u);
	ASSERT_EQ(kslub_kmalloc_geometry(5000, 2, KSLUB_KERNEL_6_12, &g), 0);
	EXPECT_EQ(g.object_size, 8192u);
}

TEST(KmallocGeometry, RejectsBadArguments)
{
	struct kslub_geometry g;
	EXPECT_LT(kslub_kmalloc_geometry(0, 2, 0, &g), 0);
	EXPECT_LT(kslub_kmalloc_geometry(8193, 2, 0, &g), 0);
	EXPECT_LT(kslub_kmalloc_geometry(64, 0, 0, &g), 0);
	EXPECT_LT(kslub_kmalloc_geometry(64, 2, 0, nullptr), 0);
}

/* ------------------------------------------------------------------------- */
/* The machine the tests run on                                               */
/* ------------------------------------------------------------------------- */

bool read_uint(const std::string &path, unsigned *v)
{
	std::ifstream in(path);
	return bool(in >> *v);
}

/* Number of CPUs in a sysfs CPU list such as "0-3,5,7-8"; *last gets the highest. */
unsigned count_cpu_list(const std::string &path, unsigned *last)
{
	std::ifstream in(path);
	std::string list;
	if (!(in >> list))
		return 0;
	unsigned n = 0;
	*last = 0;
	std::istringstream ls(list);
	std::string part;
	while (std::getline(ls, part, ',')) {
		unsigned a = 0, b = 0;
		if (sscanf(part.c_str(), "%u-%u", &a, &b) == 2) {
			n += b - a + 1;
			*last = b;
		} else if (sscanf(part.c_str(), "%u", &a) == 1) {
			n += 1;
			*last = a;
		}
	}
	return n;
}

TEST(KmallocGeometry, MatchesThisMachinesSysfs)
{
	const std::string base = "/sys/kernel/slab/";
	unsigned probe;
	if (access((base + "kmalloc-64").c_str(), F_OK) != 0)
		GTEST_SKIP()
			<< "no /sys/kernel/slab/kmalloc-64 (not a SLUB kernel, or sysfs not mounted)";
	if (!read_uint(base + "kmalloc-64/order", &probe))
		GTEST_SKIP() << "/sys/kernel/slab/kmalloc-64/order is not readable (needs root)";
	if (sysconf(_SC_PAGESIZE) != 4096)
		GTEST_SKIP() << "kslub models 4 KiB pages";
	{
		/* Boot options that change the geometry of every cache. */
		std::ifstream in("/proc/cmdline");
		std::string cmdline((std::istreambuf_iterator<char>(in)),
				    std::istreambuf_iterator<char>());
		for (const char *opt :
		     {"slub_debug", "slab_debug", "slub_min_objects", "slab_min_objects",
		      "slub_max_order", "slab_max_order", "slub_min_order", "slab_min_order"})
			if (cmdline.find(opt) != std::string::npos)
				GTEST_SKIP() << "kernel booted with " << opt;
	}
	/*
	 * Whose rules: $KSLUB_GEOMETRY_KERNEL (6.1, 6.12, 6.18 or 7.3, as
	 * tests/vm/guest/live-geometry.sh passes it), else the release's
	 * version (kernel_flag()).
	 */
	struct utsname u;
	ASSERT_EQ(uname(&u), 0);
	unsigned major = 0, minor = 0;
	sscanf(u.release, "%u.%u", &major, &minor);
	unsigned flags = kernel_flag(major, minor);
	std::string rules = flags == KSLUB_KERNEL_7_3  ? "7.3" :
			    flags == KSLUB_KERNEL_6_18 ? "6.18" :
			    flags == KSLUB_KERNEL_6_12 ? "6.12" :
							 "6.1";
	if (const char *want = getenv("KSLUB_GEOMETRY_KERNEL")) {
		const std::string w = want;
		if (w == "6.1" || w == "6.12" || w == "6.18" || w == "7.3") {
			unsigned wmaj = 0, wmin = 0;
			sscanf(want, "%u.%u", &wmaj, &wmin);
			flags = kernel_flag(wmaj, wmin);
			rules = w;
		} else {
			FAIL() << "KSLUB_GEOMETRY_KERNEL='" << w << "': not 6.1, 6.12, 6.18 or 7.3";
		}
	}
	std::cout << "comparing Linux " << u.release << " with kslub's Linux " << rules
		  << " rules\n";
	/* 6.x without CONFIG_SLUB_CPU_PARTIAL reads 0 where kslub's 6.x rules keep CPU partial lists. */
	unsigned cp64 = 0;
	if (flags != KSLUB_KERNEL_7_3 && read_uint(base + "kmalloc-64/cpu_partial", &cp64) &&
	    cp64 == 0)
		GTEST_SKIP() << "kernel built without CONFIG_SLUB_CPU_PARTIAL";

	/* calculate_order(): num_present_cpus(), or nr_cpu_ids when that is <= 1. */
	unsigned last = 0;
	unsigned cpus = count_cpu_list("/sys/devices/system/cpu/present", &last);
	if (cpus <= 1) {
		unsigned possible = count_cpu_list("/sys/devices/system/cpu/possible", &last);
		cpus = possible ? last + 1 : 1;
	}
	ASSERT_GE(cpus, 1u);

	unsigned compared = 0;
	for (const char *name :
	     {"kmalloc-8", "kmalloc-16", "kmalloc-32", "kmalloc-64", "kmalloc-96", "kmalloc-128",
	      "kmalloc-192", "kmalloc-256", "kmalloc-512", "kmalloc-1k", "kmalloc-2k", "kmalloc-4k",
	      "kmalloc-8k"}) {
		const std::string d = base + name + "/";
		SysfsRow r{};
		r.name = name;
		if (!read_uint(d + "object_size", &r.object_size))
			continue; /* e.g. no kmalloc-96 where KMALLOC_MIN_SIZE > 64 */
		ASSERT_TRUE(read_uint(d + "slab_size", &r.slab_size));
		ASSERT_TRUE(read_uint(d + "order", &r.order));
		ASSERT_TRUE(read_uint(d + "objs_per_slab", &r.objs_per_slab));
		ASSERT_TRUE(read_uint(d + "cpu_partial", &r.cpu_partial));
		ASSERT_TRUE(read_uint(d + "min_partial", &r.min_partial));
		ASSERT_TRUE(read_uint(d + "align", &r.align));
		expect_row(r, cpus, flags,
			   (std::string("Linux ") + u.release + " (rules " + rules + "):").c_str());
		compared++;
	}
	EXPECT_GE(compared, 11u);
}

/* ------------------------------------------------------------------------- */
/* Hand-worked tables                                                         */
/* ------------------------------------------------------------------------- */

/*
 * Rules (Linux 6.1 mm/slub.c, 4 KiB pages, slub_max_order = 3):
 *   min_objects = 4 * (fls(nr_cpus) + 1), at most the objects of an order-3
 *   slab (32768 / size); order = the smallest one >= get_order(min_objects *
 *   size) whose leftover (4096 << order) % size <= (4096 << order) / 16.
 *   objs = (4096 << order) / size.
 *   cpu_partial = 6 (size >= 4096), 24 (>= 1024), 52 (>= 256), else 120;
 *   cpu_partial_slabs = ceil(cpu_partial * 2 / objs).
 *   min_partial = clamp(ilog2(size) / 2, 5, 10).
 * kmalloc strides equal the class sizes (96 and 192 are multiples of the 6.12
 * alignments 32 and 64), and every case below is accepted at the first
 * fraction (1/16), so the later fractions never come into play: the
 * calculate_order of 6.12 (also 6.18, 7.3) gives the same orders, and the
 * tables hold for every rule set, but that 7.x has no CPU partial lists
 * (cpu_partial 0, as its sysfs reads).
 *
 * Per size, the CPU-independent parts:
 *   max objects in order 3: 8 -> 4096, 16 -> 2048, 32 -> 1024, 64 -> 512,
 *     96 -> 341, 128 -> 256, 192 -> 170, 256 -> 128, 512 -> 64, 1k -> 32,
 *     2k -> 16, 4k -> 8, 8k -> 4.
 *   leftovers that are not 0: 96 at order 0: 4096 - 42 * 96 = 64 <= 256;
 *     192 at order 0: 4096 - 21 * 192 = 64 <= 256; 192 at order 1:
 *     8192 - 42 * 192 = 128 <= 512. All the others divide 4096 << order.
 *   min_partial: ilog2 = 3, 4, 5, 6, 6, 7, 7, 8, 9 -> /2 <= 4 -> 5;
 *     1k: 10 / 2 = 5; 2k: 11 / 2 = 5; 4k: 12 / 2 = 6; 8k: 13 / 2 = 6.
 */
struct HandRow {
	unsigned size, order, objs, cpu_partial, cpu_partial_slabs, min_partial;
};

/*
 * 1 CPU: min_objects = 4 * (fls(1) + 1) = 4 * 2 = 8.
 */
const HandRow kOneCpu[] = {
	/* 8 * 8 = 64 B -> order 0, 4096 / 8 = 512; ceil(240 / 512) = 1 */
	{8, 0, 512, 120, 1, 5},
	/* 8 * 16 = 128 B -> order 0, 256; ceil(240 / 256) = 1 */
	{16, 0, 256, 120, 1, 5},
	/* 8 * 32 = 256 B -> order 0, 128; ceil(240 / 128) = 2 */
	{32, 0, 128, 120, 2, 5},
	/* 8 * 64 = 512 B -> order 0, 64; ceil(240 / 64) = 4 (3.75) */
	{64, 0, 64, 120, 4, 5},
	/* 8 * 96 = 768 B -> order 0, 42, leftover 64; ceil(240 / 42) = 6 (5.7) */
	{96, 0, 42, 120, 6, 5},
	/* 8 * 128 = 1 KiB -> order 0, 32; ceil(240 / 32) = 8 (7.5) */
	{128, 0, 32, 120, 8, 5},
	/* 8 * 192 = 1536 B -> order 0, 21, leftover 64; ceil(240 / 21) = 12 (11.4) */
	{192, 0, 21, 120, 12, 5},
	/* 8 * 256 = 2 KiB -> order 0, 16; cpu_partial 52, ceil(104 / 16) = 7 (6.5) */
	{256, 0, 16, 52, 7, 5},
	/* 8 * 512 = 4 KiB -> order 0, 8; ceil(104 / 8) = 13 */
	{512, 0, 8, 52, 13, 5},
	/* 8 * 1024 = 8 KiB -> order 1, 8; cpu_partial 24, ceil(48 / 8) = 6 */
	{1024, 1, 8, 24, 6, 5},
	/* 8 * 2048 = 16 KiB -> order 2, 8; ceil(48 / 8) = 6 */
	{2048, 2, 8, 24, 6, 5},
	/* min(8, 8) = 8; 8 * 4096 = 32 KiB -> order 3, 8; cpu_partial 6, ceil(12 / 8) = 2 */
	{4096, 3, 8, 6, 2, 6},
	/* min(8, 4) = 4; 4 * 8192 = 32 KiB -> order 3, 4; ceil(12 / 4) = 3 */
	{8192, 3, 4, 6, 3, 6},
};

/*
 * 2 CPUs: min_objects = 4 * (fls(2) + 1) = 4 * 3 = 12. (Everything but
 * cpu_partial_slabs is also in the sysfs data file.)
 */
const HandRow kTwoCpus[] = {
	/* 12 * 8 = 96 B -> order 0, 512; ceil(240 / 512) = 1 */
	{8, 0, 512, 120, 1, 5},
	/* 12 * 16 = 192 B -> order 0, 256; 1 */
	{16, 0, 256, 120, 1, 5},
	/* 12 * 32 = 384 B -> order 0, 128; ceil(240 / 128) = 2 */
	{32, 0, 128, 120, 2, 5},
	/* 12 * 64 = 768 B -> order 0, 64; ceil(240 / 64) = 4 */
	{64, 0, 64, 120, 4, 5},
	/* 12 * 96 = 1152 B -> order 0, 42, leftover 64; ceil(240 / 42) = 6 */
	{96, 0, 42, 120, 6, 5},
	/* 12 * 128 = 1536 B -> order 0, 32; ceil(240 / 32) = 8 */
	{128, 0, 32, 120, 8, 5},
	/* 12 * 192 = 2304 B -> order 0, 21, leftover 64; ceil(240 / 21) = 12 */
	{192, 0, 21, 120, 12, 5},
	/* 12 * 256 = 3 KiB -> order 0, 16; ceil(104 / 16) = 7 */
	{256, 0, 16, 52, 7, 5},
	/* 12 * 512 = 6 KiB -> order 1, 8192 / 512 = 16; ceil(104 / 16) = 7 */
	{512, 1, 16, 52, 7, 5},
	/* 12 * 1024 = 12 KiB -> order 2, 16; ceil(48 / 16) = 3 */
	{1024, 2, 16, 24, 3, 5},
	/* 12 * 2048 = 24 KiB -> order 3, 16; ceil(48 / 16) = 3 */
	{2048, 3, 16, 24, 3, 5},
	/* min(12, 8) = 8 -> 32 KiB, order 3, 8; ceil(12 / 8) = 2 */
	{4096, 3, 8, 6, 2, 6},
	/* min(12, 4) = 4 -> 32 KiB, order 3, 4; ceil(12 / 4) = 3 */
	{8192, 3, 4, 6, 3, 6},
};

/*
 * 4 CPUs: min_objects = 4 * (fls(4) + 1) = 4 * 4 = 16.
 */
const HandRow kFourCpus[] = {
	/* 16 * 8 = 128 B -> order 0, 512; 1 */
	{8, 0, 512, 120, 1, 5},
	/* 16 * 16 = 256 B -> order 0, 256; 1 */
	{16, 0, 256, 120, 1, 5},
	/* 16 * 32 = 512 B -> order 0, 128; 2 */
	{32, 0, 128, 120, 2, 5},
	/* 16 * 64 = 1 KiB -> order 0, 64; 4 */
	{64, 0, 64, 120, 4, 5},
	/* 16 * 96 = 1536 B -> order 0, 42, leftover 64; 6 */
	{96, 0, 42, 120, 6, 5},
	/* 16 * 128 = 2 KiB -> order 0, 32; 8 */
	{128, 0, 32, 120, 8, 5},
	/* 16 * 192 = 3 KiB -> order 0, 21, leftover 64; 12 */
	{192, 0, 21, 120, 12, 5},
	/* 16 * 256 = 4 KiB -> order 0, 16; ceil(104 / 16) = 7 */
	{256, 0, 16, 52, 7, 5},
	/* 16 * 512 = 8 KiB -> order 1, 16; ceil(104 / 16) = 7 */
	{512, 1, 16, 52, 7, 5},
	/* 16 * 1024 = 16 KiB -> order 2, 16; ceil(48 / 16) = 3 */
	{1024, 2, 16, 24, 3, 5},
	/* min(16, 16) = 16; 16 * 2048 = 32 KiB -> order 3, 16; 3 */
	{2048, 3, 16, 24, 3, 5},
	/* min(16, 8) = 8 -> 32 KiB, order 3, 8; 2 */
	{4096, 3, 8, 6, 2, 6},
	/* min(16, 4) = 4 -> 32 KiB, order 3, 4; 3 */
	{8192, 3, 4, 6, 3, 6},
};

/*
 * 64 CPUs: min_objects = 4 * (fls(64) + 1) = 4 * (7 + 1) = 32.
 */
const HandRow kSixtyFourCpus[] = {
	/* 32 * 8 = 256 B -> order 0, 512; 1 */
	{8, 0, 512, 120, 1, 5},
	/* 32 * 16 = 512 B -> order 0, 256; 1 */
	{16, 0, 256, 120, 1, 5},
	/* 32 * 32 = 1 KiB -> order 0, 128; 2 */
	{32, 0, 128, 120, 2, 5},
	/* 32 * 64 = 2 KiB -> order 0, 64; 4 */
	{64, 0, 64, 120, 4, 5},
	/* 32 * 96 = 3 KiB -> order 0, 42, leftover 64 <= 256; 6 */
	{96, 0, 42, 120, 6, 5},
	/* 32 * 128 = 4 KiB -> order 0, 32; 8 */
	{128, 0, 32, 120, 8, 5},
	/* 32 * 192 = 6 KiB -> order 1, 8192 / 192 = 42, leftover 8192 - 8064 = 128 <= 512;
	 * ceil(240 / 42) = 6 (5.7) */
	{192, 1, 42, 120, 6, 5},
	/* 32 * 256 = 8 KiB -> order 1, 32; ceil(104 / 32) = 4 (3.25) */
	{256, 1, 32, 52, 4, 5},
	/* 32 * 512 = 16 KiB -> order 2, 32, leftover 0; ceil(104 / 32) = 4 */
	{512, 2, 32, 52, 4, 5},
	/* min(32, 32) = 32; 32 * 1024 = 32 KiB -> order 3, 32; ceil(48 / 32) = 2 (1.5) */
	{1024, 3, 32, 24, 2, 5},
	/* min(32, 16) = 16; 16 * 2048 = 32 KiB -> order 3, 16; 3 */
	{2048, 3, 16, 24, 3, 5},
	/* min(32, 8) = 8 -> 32 KiB, order 3, 8; 2 */
	{4096, 3, 8, 6, 2, 6},
	/* min(32, 4) = 4 -> 32 KiB, order 3, 4; 3 */
	{8192, 3, 4, 6, 3, 6},
};

void expect_hand_table(const HandRow *rows, size_t n, unsigned nr_cpus)
{
	ASSERT_EQ(n, 13u);
	for (unsigned flags : {0u, unsigned(KSLUB_KERNEL_6_12), unsigned(KSLUB_KERNEL_6_18),
			       unsigned(KSLUB_KERNEL_7_3)}) {
		/* 7.x keeps no CPU partial lists: cpu_partial 0 (its sysfs file), no slabs either. */
		const bool no_cpu_partial = flags == KSLUB_KERNEL_7_3;
		for (size_t i = 0; i < n; i++) {
			const HandRow &r = rows[i];
			SCOPED_TRACE("kmalloc size " + std::to_string(r.size) + ", " +
				     std::to_string(nr_cpus) + " CPUs, flags " +
				     std::to_string(flags));
			struct kslub_geometry g;
			ASSERT_EQ(kslub_kmalloc_geometry(r.size, nr_cpus, flags, &g), 0);
			EXPECT_EQ(g.object_size, r.size);
			EXPECT_EQ(g.slab_size, r.size);
			EXPECT_EQ(g.order, r.order);
			EXPECT_EQ(g.objs_per_slab, r.objs);
			EXPECT_EQ(g.cpu_partial, no_cpu_partial ? 0u : r.cpu_partial);
			EXPECT_EQ(g.cpu_partial_slabs, no_cpu_partial ? 0u : r.cpu_partial_slabs);
			EXPECT_EQ(g.min_partial, r.min_partial);
		}
	}
}

TEST(KmallocGeometry, HandTableOneCpu)
{
	expect_hand_table(kOneCpu, sizeof(kOneCpu) / sizeof(kOneCpu[0]), 1);
}

TEST(KmallocGeometry, HandTableTwoCpus)
{
	expect_hand_table(kTwoCpus, sizeof(kTwoCpus) / sizeof(kTwoCpus[0]), 2);
}

TEST(KmallocGeometry, HandTableFourCpus)
{
	expect_hand_table(kFourCpus, sizeof(kFourCpus) / sizeof(kFourCpus[0]), 4);
}

TEST(KmallocGeometry, HandTableSixtyFourCpus)
{
	expect_hand_table(kSixtyFourCpus, sizeof(kSixtyFourCpus) / sizeof(kSixtyFourCpus[0]), 64);
}

/*
 * fls() makes CPU counts between powers of two behave like the power below
 * them: fls(3) = fls(2) = 2, fls(127) = fls(64) = 7.
 */
TEST(KmallocGeometry, CpuCountsBetweenPowersOfTwo)
{
	struct kslub_geometry g;
	/* 3 CPUs: min_objects 12, as 2: kmalloc-512 12 * 512 = 6 KiB -> order 1, 16 objects. */
	ASSERT_EQ(kslub_kmalloc_geometry(512, 3, 0, &g), 0);
	EXPECT_EQ(g.order, 1u);
	EXPECT_EQ(g.objs_per_slab, 16u);
	/* 127 CPUs: min_objects 32, as 64: kmalloc-512 32 * 512 = 16 KiB -> order 2, 32 objects. */
	ASSERT_EQ(kslub_kmalloc_geometry(512, 127, 0, &g), 0);
	EXPECT_EQ(g.order, 2u);
	EXPECT_EQ(g.objs_per_slab, 32u);
	/* 128 CPUs: fls(128) = 8, min_objects 4 * 9 = 36; kmalloc-256: 36 * 256 = 9 KiB
	 * -> get_order = 2, 16384 / 256 = 64 objects, leftover 0. */
	ASSERT_EQ(kslub_kmalloc_geometry(256, 128, 0, &g), 0);
	EXPECT_EQ(g.order, 2u);
	EXPECT_EQ(g.objs_per_slab, 64u);
}

/* ------------------------------------------------------------------------- */
/* Caches made with kslub_cache_create()                                      */
/* ------------------------------------------------------------------------- */

void test_ctor(void *obj)
{
	memset(obj, 0x5a, 8);
}

class CustomCacheGeometry : public ::testing::Test {
protected:
	kslub_t *k = nullptr;
	std::vector<kslub_cache_t *> caches;

	void SetUp() override
	{
		int err = 1;
		k = kslub_create(16u << 20, 2, 1, KSLUB_DETERMINISTIC, &err);
		ASSERT_NE(k, nullptr) << "err " << err;
		EXPECT_EQ(err, 0);
	}
	void TearDown() override
	{
		if (!k)
			return;
		for (kslub_cache_t *s : caches)
			EXPECT_EQ(kslub_cache_destroy(s), 0);
		EXPECT_EQ(kslub_report_count(k), 0u);
		EXPECT_EQ(kslub_destroy(k), 0);
	}

	struct kslub_geometry make(const char *name, size_t size, size_t align, unsigned flags,
				   void (*ctor)(void *) = nullptr)
	{
		struct kslub_geometry g;
		memset(&g, 0xff, sizeof(g));
		int err = 1;
		kslub_cache_t *s = kslub_cache_create(k, name, size, align, flags, ctor, &err);
		EXPECT_NE(s, nullptr) << name << ": err " << err;
		if (!s)
			return g;
		caches.push_back(s);
		EXPECT_STREQ(kslub_cache_name(s), name);
		EXPECT_EQ(kslub_cache_geometry(s, &g), 0);
		/* The geometry is the one objects really get. */
		void *obj = kslub_cache_alloc(s, KSLUB_GFP_KERNEL);
		EXPECT_NE(obj, nullptr);
		if (obj) {
			if (g.align != 0xffffffffu)
				EXPECT_EQ(uintptr_t(obj) % g.align, 0u) << name;
			EXPECT_EQ(kslub_cache_free(s, obj), 0);
		}
		return g;
	}
};

/*
 * 100 bytes, no alignment asked, no flags, 2 CPUs:
 *   align = max(0, ARCH_SLAB_MINALIGN 8) = 8;
 *   size = ALIGN(100, 8) = 104 = inuse; no ctor, so the free pointer goes in
 *   the middle: offset = ALIGN_DOWN(100 / 2, 8) = ALIGN_DOWN(50, 8) = 48;
 *   stride ALIGN(104, 8) = 104.
 *   min_objects 12 (max 32768 / 104 = 315): 12 * 104 = 1248 -> order 0;
 *   4096 = 39 * 104 + 40, leftover 40 <= 256 -> order 0, 39 objects.
 *   min (fallback) slab: get_order(104) = 0, 39 objects.
 *   cpu_partial 120 (104 < 256), slabs ceil(240 / 39) = 7 (6.15);
 *   min_partial ilog2(104) = 6, 6 / 2 = 3 -> 5.
 */
TEST_F(CustomCacheGeometry, HundredBytes)
{
	struct kslub_geometry g = make("geo-100", 100, 0, 0);
	EXPECT_EQ(g.object_size, 100u);
	EXPECT_EQ(g.align, 8u);
	EXPECT_EQ(g.inuse, 104u);
	EXPECT_EQ(g.offset, 48u);
	EXPECT_EQ(g.slab_size, 104u);
	EXPECT_EQ(g.order, 0u);
	EXPECT_EQ(g.objs_per_slab, 39u);
	EXPECT_EQ(g.min_order, 0u);
	EXPECT_EQ(g.min_objects, 39u);
	EXPECT_EQ(g.cpu_partial, 120u);
	EXPECT_EQ(g.cpu_partial_slabs, 7u);
	EXPECT_EQ(g.min_partial, 5u);
}

/*
 * 100 bytes with a constructor: the free pointer may not overwrite the
 * constructed object, so it goes after it: offset = 104, size = 104 + 8 = 112
 * (inuse stays 104). 4096 = 36 * 112 + 64, leftover 64 <= 256 -> order 0,
 * 36 objects; cpu_partial 120, slabs ceil(240 / 36) = 7 (6.7);
 * min_partial ilog2(112) = 6 -> 3 -> 5.
 */
TEST_F(CustomCacheGeometry, HundredBytesWithCtor)
{
	struct kslub_geometry g = make("geo-100-ctor", 100, 0, 0, test_ctor);
	EXPECT_EQ(g.object_size, 100u);
	EXPECT_EQ(g.align, 8u);
	EXPECT_EQ(g.inuse, 104u);
	EXPECT_EQ(g.offset, 104u);
	EXPECT_EQ(g.slab_size, 112u);
	EXPECT_EQ(g.order, 0u);
	EXPECT_EQ(g.objs_per_slab, 36u);
	EXPECT_EQ(g.min_order, 0u);
	EXPECT_EQ(g.min_objects, 36u);
	EXPECT_EQ(g.cpu_partial, 120u);
	EXPECT_EQ(g.cpu_partial_slabs, 7u);
	EXPECT_EQ(g.min_partial, 5u);
}

/* SLAB_TYPESAFE_BY_RCU also keeps the free pointer outside: the same layout as with a ctor. */
TEST_F(CustomCacheGeometry, HundredBytesTypesafeByRcu)
{
	struct kslub_geometry g = make("geo-100-rcu", 100, 0, KSLUB_SLAB_TYPESAFE_BY_RCU);
	EXPECT_EQ(g.inuse, 104u);
	EXPECT_EQ(g.offset, 104u);
	EXPECT_EQ(g.slab_size, 112u);
	EXPECT_EQ(g.objs_per_slab, 36u);
}

/*
 * 100 bytes aligned to 64: align = max(64, 8) = 64; size = ALIGN(104, 64) =
 * 128; offset 48 as before. 12 * 128 = 1536 -> order 0, 32 objects,
 * leftover 0; cpu_partial 120, ceil(240 / 32) = 8; ilog2(128) = 7 -> 3 -> 5.
 */
TEST_F(CustomCacheGeometry, HundredBytesAlignedTo64)
{
	struct kslub_geometry g = make("geo-100-a64", 100, 64, 0);
	EXPECT_EQ(g.align, 64u);
	EXPECT_EQ(g.inuse, 104u);
	EXPECT_EQ(g.offset, 48u);
	EXPECT_EQ(g.slab_size, 128u);
	EXPECT_EQ(g.order, 0u);
	EXPECT_EQ(g.objs_per_slab, 32u);
	EXPECT_EQ(g.cpu_partial_slabs, 8u);
	EXPECT_EQ(g.min_partial, 5u);
}

/*
 * A debug cache (SLAB_CONSISTENCY_CHECKS alone adds no metadata) keeps the
 * layout of the 100-byte cache but no CPU partial slabs:
 * kmem_cache_has_cpu_partial() is false -> cpu_partial 0, ceil(0 / 39) = 0.
 */
TEST_F(CustomCacheGeometry, HundredBytesDebugCacheHasNoCpuPartial)
{
	struct kslub_geometry g = make("geo-100-debug", 100, 0, KSLUB_SLAB_CONSISTENCY_CHECKS);
	EXPECT_EQ(g.slab_size, 104u);
	EXPECT_EQ(g.offset, 48u);
	EXPECT_EQ(g.objs_per_slab, 39u);
	EXPECT_EQ(g.cpu_partial, 0u);
	EXPECT_EQ(g.cpu_partial_slabs, 0u);
	EXPECT_EQ(g.min_partial, 5u);
}

/*
 * 20 bytes with SLAB_HWCACHE_ALIGN: ralign starts at the 64-byte cache line
 * and halves while size <= ralign / 2: 20 <= 32 -> 32; 20 <= 16 is false ->
 * align 32. size = ALIGN(20, 8) = 24 = inuse, offset ALIGN_DOWN(10, 8) = 8,
 * stride ALIGN(24, 32) = 32. 12 * 32 = 384 -> order 0, 128 objects,
 * leftover 0; cpu_partial 120, ceil(240 / 128) = 2; ilog2(32) = 5 -> 2 -> 5.
 */
TEST_F(CustomCacheGeometry, TwentyBytesHwcacheAlign)
{
	struct kslub_geometry g = make("geo-20-hw", 20, 0, KSLUB_SLAB_HWCACHE_ALIGN);
	EXPECT_EQ(g.object_size, 20u);
	EXPECT_EQ(g.align, 32u);
	EXPECT_EQ(g.inuse, 24u);
	EXPECT_EQ(g.offset, 8u);
	EXPECT_EQ(g.slab_size, 32u);
	EXPECT_EQ(g.order, 0u);
	EXPECT_EQ(g.objs_per_slab, 128u);
	EXPECT_EQ(g.cpu_partial, 120u);
	EXPECT_EQ(g.cpu_partial_slabs, 2u);
	EXPECT_EQ(g.min_partial, 5u);
}

/*
 * 40 bytes with SLAB_HWCACHE_ALIGN: 40 <= 32 is false, so align stays at the
 * 64-byte cache line; stride ALIGN(40, 64) = 64 -> 64 objects in order 0.
 */
TEST_F(CustomCacheGeometry, FortyBytesHwcacheAlign)
{
	struct kslub_geometry g = make("geo-40-hw", 40, 0, KSLUB_SLAB_HWCACHE_ALIGN);
	EXPECT_EQ(g.align, 64u);
	EXPECT_EQ(g.offset, 16u); /* ALIGN_DOWN(20, 8) = 16 */
	EXPECT_EQ(g.slab_size, 64u);
	EXPECT_EQ(g.order, 0u);
	EXPECT_EQ(g.objs_per_slab, 64u);
}

/*
 * 700 bytes, 2 CPUs: align 8, size ALIGN(700, 8) = 704 (700 = 87 * 8 + 4),
 * offset ALIGN_DOWN(350, 8) = 344.
 *   min_objects 12 (max 32768 / 704 = 46, as 46 * 704 = 32384):
 *   12 * 704 = 8448 B > 8192 -> get_order = 2 (16 KiB).
 *   order 2: 16384 = 23 * 704 + 192 (23 * 704 = 16192); leftover 192 <=
 *   16384 / 16 = 1024 -> accepted: order 2, 23 objects.
 *   min slab: get_order(704) = 0, 4096 / 704 = 5 (3520).
 *   cpu_partial 52 (256 <= 704 < 1024), slabs ceil(104 / 23) = 5 (4.5);
 *   min_partial ilog2(704) = 9, 9 / 2 = 4 -> 5.
 */
TEST_F(CustomCacheGeometry, SevenHundredBytes)
{
	struct kslub_geometry g = make("geo-700", 700, 0, 0);
	EXPECT_EQ(g.object_size, 700u);
	EXPECT_EQ(g.align, 8u);
	EXPECT_EQ(g.inuse, 704u);
	EXPECT_EQ(g.offset, 344u);
	EXPECT_EQ(g.slab_size, 704u);
	EXPECT_EQ(g.order, 2u);
	EXPECT_EQ(g.objs_per_slab, 23u);
	EXPECT_EQ(g.min_order, 0u);
	EXPECT_EQ(g.min_objects, 5u);
	EXPECT_EQ(g.cpu_partial, 52u);
	EXPECT_EQ(g.cpu_partial_slabs, 5u);
	EXPECT_EQ(g.min_partial, 5u);
}

/*
 * 5000 bytes, 2 CPUs: align 8, size 5000 (a multiple of 8), offset
 * ALIGN_DOWN(2500, 8) = 2496.
 *   max objects in order 3: 32768 / 5000 = 6 -> min_objects = min(12, 6) = 6.
 *   6 * 5000 = 30000 -> get_order = 3. Fraction 1/16: 32768 = 6 * 5000 +
 *   2768; 2768 > 32768 / 16 = 2048 -> order 4 > 3, rejected. Fraction 1/8:
 *   2768 <= 4096 -> order 3, 6 objects.
 *   min slab: get_order(5000) = 1, 8192 / 5000 = 1.
 *   cpu_partial 6 (>= 4096), slabs ceil(12 / 6) = 2;
 *   min_partial ilog2(5000) = 12, 12 / 2 = 6.
 */
TEST_F(CustomCacheGeometry, FiveThousandBytes)
{
	struct kslub_geometry g = make("geo-5000", 5000, 0, 0);
	EXPECT_EQ(g.object_size, 5000u);
	EXPECT_EQ(g.align, 8u);
	EXPECT_EQ(g.inuse, 5000u);
	EXPECT_EQ(g.offset, 2496u);
	EXPECT_EQ(g.slab_size, 5000u);
	EXPECT_EQ(g.order, 3u);
	EXPECT_EQ(g.objs_per_slab, 6u);
	EXPECT_EQ(g.min_order, 1u);
	EXPECT_EQ(g.min_objects, 1u);
	EXPECT_EQ(g.cpu_partial, 6u);
	EXPECT_EQ(g.cpu_partial_slabs, 2u);
	EXPECT_EQ(g.min_partial, 6u);
}

/*
 * 40000 bytes: not one object fits in 32 KiB, so max_objects = 32768 / 40000
 * = 0 and min_objects = 0: the multi-object loop is skipped.
 * calc_slab_order(size, 1, 3, 1) starts at get_order(40000) = 4 > 3: fails.
 * calc_slab_order(size, 1, MAX_ORDER, 1): order 4, 65536 % 40000 = 25536 <=
 * 65536 / 1 -> order 4, 1 object. cpu_partial 6, slabs ceil(12 / 1) = 12;
 * min_partial ilog2(40000) = 15 (32768 <= 40000 < 65536), 15 / 2 = 7.
 */
TEST_F(CustomCacheGeometry, FortyThousandBytesAboveTheCostlyOrder)
{
	struct kslub_geometry g = make("geo-40000", 40000, 0, 0);
	EXPECT_EQ(g.slab_size, 40000u);
	EXPECT_EQ(g.offset, 20000u); /* ALIGN_DOWN(20000, 8) */
	EXPECT_EQ(g.order, 4u);
	EXPECT_EQ(g.objs_per_slab, 1u);
	EXPECT_EQ(g.min_order, 4u);
	EXPECT_EQ(g.min_objects, 1u);
	EXPECT_EQ(g.cpu_partial, 6u);
	EXPECT_EQ(g.cpu_partial_slabs, 12u);
	EXPECT_EQ(g.min_partial, 7u);
}

/* The kmalloc caches of an instance carry the geometry of the sysfs table. */
TEST_F(CustomCacheGeometry, InstanceKmallocCachesMatchLinux61Rules)
{
	std::vector<SysfsRow> rows = load_rows(kDataFile);
	ASSERT_EQ(rows.size(), 13u);
	/* This instance follows 6.1 (no KSLUB_KERNEL_6_12). */
	expect_instance_caches(k, rows, "6.1 rules vs Linux 6.18:", true);
}

} // namespace
