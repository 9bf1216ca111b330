// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kslub-info tool, run as a program: its table against the kmalloc
 * geometry read from /sys/kernel/slab of Debian's Linux 6.1, 6.12, 6.18 and
 * 7.3 on 1, 2, 4 and 8 CPUs (tests/data/kmalloc-linux-<kernel>-<N>cpus.txt)
 * and against a table worked by hand for 4 CPUs; its option handling.
 *
 * The tool is built into the same directory as this test binary.
 */
#include <gtest/gtest.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#ifndef KSLUB_TEST_DATA_DIR
#error "KSLUB_TEST_DATA_DIR must be defined by the build"
#endif

namespace {

struct InfoRow {
	std::string name;
	unsigned object_size, slab_size, order, objs_per_slab, cpu_partial, min_partial, align;
	int sheaf_capacity = -1; /* an 8th column, printed for 6.18 and 7.3 only; -1: none */

	bool operator==(const InfoRow &o) const
	{
		return name == o.name && object_size == o.object_size && slab_size == o.slab_size &&
		       order == o.order && objs_per_slab == o.objs_per_slab &&
		       cpu_partial == o.cpu_partial && min_partial == o.min_partial &&
		       align == o.align;
	}
};

std::ostream &operator<<(std::ostream &os, const InfoRow &r)
{
	return os << r.name << " " << r.object_size << " " << r.slab_size << " " << r.order << " "
		  << r.objs_per_slab << " " << r.cpu_partial << " " << r.min_partial << " "
		  << r.align;
}

/* Rows of a table; comment lines and the tool's column header ("name ...") are skipped. */
std::vector<InfoRow> parse_rows(std::istream &in, std::string *error)
{
	std::vector<InfoRow> rows;
	std::string line;
	while (std::getline(in, line)) {
		std::istringstream ls(line);
		std::string first;
		if (!(ls >> first) || first[0] == '#' || first == "name")
			continue;
		InfoRow r{};
		r.name = first;
		std::string extra;
		if (!(ls >> r.object_size >> r.slab_size >> r.order >> r.objs_per_slab >>
		      r.cpu_partial >> r.min_partial >> r.align)) {
			*error += "malformed line '" + line + "'\n";
			continue;
		}
		if (ls >> extra) {
			char *end;
			long v = strtol(extra.c_str(), &end, 10);
			if (*end || v < 0)
				ls.setstate(std::ios::failbit);
			else
				r.sheaf_capacity = int(v);
		}
		if ((ls >> extra)) {
			*error += "malformed line '" + line + "'\n";
			continue;
		}
		rows.push_back(r);
	}
	return rows;
}

std::vector<InfoRow> load_data_file(const std::string &name = "kmalloc-linux-6.18-2cpus.txt")
{
	const std::string path = std::string(KSLUB_TEST_DATA_DIR) + "/" + name;
	std::ifstream in(path);
	EXPECT_TRUE(in.good()) << path;
	std::string error;
	std::vector<InfoRow> rows = parse_rows(in, &error);
	EXPECT_EQ(error, "") << path;
	return rows;
}

std::string tool_path()
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return "";
	std::string exe(buf, size_t(n));
	size_t slash = exe.rfind('/');
	return (slash == std::string::npos ? std::string(".") : exe.substr(0, slash)) +
	       "/kslub-info";
}

struct RunResult {
	int exit_code = -1;
	std::string out, err;
};

std::string shell_quote(const std::string &s)
{
	std::string q = "'";
	for (char c : s) {
		if (c == '\'')
			q += "'\\''";
		else
			q += c;
	}
	return q + "'";
}

std::string read_all(FILE *f)
{
	std::string s;
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		s.append(buf, n);
	return s;
}

/* Runs kslub-info with args (each shell-quoted) through popen; stderr goes to a temporary file. */
RunResult run_tool(const std::vector<std::string> &args)
{
	RunResult r;
	const std::string tool = tool_path();
	if (access(tool.c_str(), X_OK) != 0) {
		ADD_FAILURE() << "kslub-info not found at " << tool << " (build it: make)";
		return r;
	}
	char errpath[] = "/tmp/kslub-info-stderr-XXXXXX";
	int fd = mkstemp(errpath);
	if (fd < 0) {
		ADD_FAILURE() << "mkstemp failed";
		return r;
	}
	close(fd);
	std::string cmd = shell_quote(tool);
	for (const std::string &a : args)
		cmd += " " + shell_quote(a);
	cmd += " 2>" + shell_quote(errpath);
	FILE *p = popen(cmd.c_str(), "r");
	if (!p) {
		ADD_FAILURE() << "popen failed: " << cmd;
		unlink(errpath);
		return r;
	}
	r.out = read_all(p);
	int status = pclose(p);
	if (status != -1 && WIFEXITED(status))
		r.exit_code = WEXITSTATUS(status);
	else
		r.exit_code = -2; /* killed by a signal */
	if (FILE *e = fopen(errpath, "r")) {
		r.err = read_all(e);
		fclose(e);
	}
	unlink(errpath);
	return r;
}

std::vector<InfoRow> tool_rows(const RunResult &r)
{
	std::istringstream in(r.out);
	std::string error;
	std::vector<InfoRow> rows = parse_rows(in, &error);
	EXPECT_EQ(error, "") << r.out;
	return rows;
}

void expect_same_rows(const std::vector<InfoRow> &got, const std::vector<InfoRow> &want)
{
	ASSERT_EQ(got.size(), want.size());
	for (size_t i = 0; i < want.size(); i++)
		EXPECT_EQ(got[i], want[i]) << "line " << i + 1;
}

TEST(KslubInfo, TwoCpusLinux612MatchesLinux618Sysfs)
{
	std::vector<InfoRow> want = load_data_file();
	ASSERT_EQ(want.size(), 13u);
	RunResult r = run_tool({"--cpus", "2", "--kernel", "6.12"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	EXPECT_EQ(r.err, "");
	/* The first line is the column header, in sysfs file names. */
	std::istringstream hs(r.out);
	std::string header;
	std::getline(hs, header);
	std::istringstream hw(header);
	std::vector<std::string> cols;
	for (std::string w; hw >> w;)
		cols.push_back(w);
	EXPECT_EQ(cols, (std::vector<std::string>{"name", "object_size", "slab_size", "order",
						  "objs_per_slab", "cpu_partial", "min_partial",
						  "align"}));
	expect_same_rows(tool_rows(r), want);
}

/* --kernel K --cpus N prints what Linux K showed on N CPUs, for every recorded kernel. */
TEST(KslubInfo, EveryKernelMatchesItsSysfsData)
{
	for (const char *kernel : {"6.1", "6.12", "6.18", "7.3"}) {
		for (unsigned cpus : {1u, 2u, 4u, 8u}) {
			const std::string file = std::string("kmalloc-linux-") + kernel + "-" +
						 std::to_string(cpus) + "cpus.txt";
			SCOPED_TRACE("kslub-info --cpus " + std::to_string(cpus) + " --kernel " +
				     kernel + " vs " + file);
			std::vector<InfoRow> want = load_data_file(file);
			ASSERT_EQ(want.size(), 13u);
			RunResult r =
				run_tool({"--cpus", std::to_string(cpus), "--kernel", kernel});
			ASSERT_EQ(r.exit_code, 0) << r.err;
			EXPECT_EQ(r.err, "");
			expect_same_rows(tool_rows(r), want);
		}
	}
}

/*
 * 6.18 and 7.3 have /sys/kernel/slab/<cache>/sheaf_capacity: the tool's 8th
 * column against the kmalloc rows of tests/data/caches-linux-<kernel>.txt
 * (every cache of a booted guest at 1, 2, 4 and 8 CPUs); 6.1 and 6.12 have
 * no such column.
 */
TEST(KslubInfo, SheafCapacityColumnMatchesTheGuests)
{
	for (const char *kernel : {"6.18", "7.3"}) {
		std::ifstream in(std::string(KSLUB_TEST_DATA_DIR) + "/caches-linux-" + kernel +
				 ".txt");
		ASSERT_TRUE(in.good()) << kernel;
		std::map<std::string, std::string> want; /* "cpus name" -> sheaf_capacity */
		for (std::string line; std::getline(in, line);) {
			std::istringstream ls(line);
			std::string cpus, name, f[8];
			if (!(ls >> cpus >> name) || cpus[0] == '#' ||
			    name.rfind("kmalloc-", 0) != 0)
				continue;
			for (std::string &x : f)
				ls >> x;
			want[cpus + " " + name] = f[7];
		}
		unsigned compared = 0;
		for (unsigned cpus : {1u, 2u, 4u, 8u}) {
			RunResult r =
				run_tool({"--cpus", std::to_string(cpus), "--kernel", kernel});
			ASSERT_EQ(r.exit_code, 0) << r.err;
			EXPECT_NE(r.out.find("sheaf_capacity"), std::string::npos);
			for (const InfoRow &row : tool_rows(r)) {
				auto it = want.find(std::to_string(cpus) + " " + row.name);
				ASSERT_NE(it, want.end())
					<< kernel << " " << cpus << " " << row.name;
				EXPECT_EQ(std::to_string(row.sheaf_capacity), it->second)
					<< kernel << ", " << cpus << " CPUs, " << row.name;
				compared++;
			}
		}
		EXPECT_EQ(compared, 4u * 13u);
	}
	for (const char *kernel : {"6.1", "6.12"}) {
		RunResult r = run_tool({"--kernel", kernel});
		ASSERT_EQ(r.exit_code, 0);
		EXPECT_EQ(r.out.find("sheaf_capacity"), std::string::npos) << kernel;
	}
}

/* Without --kernel: the 6.1 rules, where only kmalloc-96 and kmalloc-192 are 8-aligned. Default 2 CPUs. */
TEST(KslubInfo, DefaultsAreTwoCpusLinux61)
{
	std::vector<InfoRow> want = load_data_file();
	ASSERT_EQ(want.size(), 13u);
	for (InfoRow &w : want)
		if (w.name == "kmalloc-96" || w.name == "kmalloc-192")
			w.align = 8;
	RunResult def = run_tool({});
	ASSERT_EQ(def.exit_code, 0) << def.err;
	expect_same_rows(tool_rows(def), want);
	RunResult r61 = run_tool({"--cpus", "2", "--kernel", "6.1"});
	ASSERT_EQ(r61.exit_code, 0) << r61.err;
	expect_same_rows(tool_rows(r61), want);
}

/*
 * 4 CPUs, 6.1 rules, worked by hand: min_objects = 4 * (fls(4) + 1) = 16,
 * capped at 32768 / size; order = smallest >= get_order(min_objects * size)
 * with leftover <= slab / 16; objs = (4096 << order) / size; cpu_partial 6
 * (>= 4096), 24 (>= 1024), 52 (>= 256), else 120; min_partial =
 * clamp(ilog2(size) / 2, 5, 10); align 8 for 96 and 192, else the size.
 */
const InfoRow kFourCpus61[] = {
	{"kmalloc-8", 8, 8, 0, 512, 120, 5, 8},	    /* 16 * 8 = 128 B -> order 0, 4096 / 8 */
	{"kmalloc-16", 16, 16, 0, 256, 120, 5, 16}, /* 256 B -> order 0 */
	{"kmalloc-32", 32, 32, 0, 128, 120, 5, 32}, /* 512 B -> order 0 */
	{"kmalloc-64", 64, 64, 0, 64, 120, 5, 64},  /* 1 KiB -> order 0 */
	{"kmalloc-96", 96, 96, 0, 42, 120, 5,
	 8}, /* 1536 B -> order 0; 4096 - 42 * 96 = 64 <= 256 */
	{"kmalloc-128", 128, 128, 0, 32, 120, 5, 128}, /* 2 KiB -> order 0 */
	{"kmalloc-192", 192, 192, 0, 21, 120, 5,
	 8}, /* 3 KiB -> order 0; 4096 - 21 * 192 = 64 <= 256 */
	{"kmalloc-256", 256, 256, 0, 16, 52, 5, 256},	/* 16 * 256 = 4 KiB -> order 0 */
	{"kmalloc-512", 512, 512, 1, 16, 52, 5, 512},	/* 8 KiB -> order 1, 8192 / 512 = 16 */
	{"kmalloc-1k", 1024, 1024, 2, 16, 24, 5, 1024}, /* 16 KiB -> order 2; ilog2 10 / 2 = 5 */
	{"kmalloc-2k", 2048, 2048, 3, 16, 24, 5,
	 2048}, /* min(16, 16); 32 KiB -> order 3; 11 / 2 = 5 */
	{"kmalloc-4k", 4096, 4096, 3, 8, 6, 6,
	 4096}, /* min(16, 8) = 8 -> 32 KiB, order 3; 12 / 2 = 6 */
	{"kmalloc-8k", 8192, 8192, 3, 4, 6, 6,
	 8192}, /* min(16, 4) = 4 -> 32 KiB, order 3; 13 / 2 = 6 */
};

TEST(KslubInfo, FourCpusLinux61MatchesHandTable)
{
	RunResult r = run_tool({"--cpus", "4"});
	ASSERT_EQ(r.exit_code, 0) << r.err;
	expect_same_rows(tool_rows(r),
			 std::vector<InfoRow>(std::begin(kFourCpus61), std::end(kFourCpus61)));
}

TEST(KslubInfo, HelpExitsZeroAndDocumentsCpus)
{
	for (const char *opt : {"--help", "-h"}) {
		RunResult r = run_tool({opt});
		EXPECT_EQ(r.exit_code, 0) << opt;
		EXPECT_NE(r.out.find("--cpus"), std::string::npos) << r.out;
		EXPECT_NE(r.out.find("--kernel"), std::string::npos) << r.out;
		EXPECT_NE(r.out.find("6.1|6.12|6.18|7.3"), std::string::npos) << r.out;
	}
}

TEST(KslubInfo, BadArgumentsFailWithAMessage)
{
	const std::vector<std::vector<std::string>> bad = {
		{"--cpus", "0"},
		{"--cpus", "abc"},
		{"--cpus", "-2"},
		{"--cpus", "3x"},
		{"--cpus"},
		{"--kernel", "5.4"},
		{"--kernel"},
		{"--kernel", "6.120"},
		{"--bogus"},
		{"extra"},
		{"--kernel", "7"},
		{"--kernel", "7.3.4"},
		{"--kernel", "6.18.15"},
		{"--kernel", "6.17"},
	};
	for (const auto &args : bad) {
		std::string shown;
		for (const std::string &a : args)
			shown += a + " ";
		SCOPED_TRACE("kslub-info " + shown);
		RunResult r = run_tool(args);
		EXPECT_NE(r.exit_code, 0);
		EXPECT_GT(r.exit_code, 0) << "terminated by a signal";
		EXPECT_NE(r.err, "");
		EXPECT_EQ(r.out, "") << "no table on error";
		if (args[0] == "--kernel" && args.size() == 2)
			EXPECT_NE(r.err.find("6.1, 6.12, 6.18 or 7.3, not '" + args[1] + "'"),
				  std::string::npos)
				<< r.err;
	}
}

} // namespace
