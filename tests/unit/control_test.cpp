// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control command language (core/control/): control_parse() against
 * batteries of hostile input, one battery per class of the errno table in
 * core/control/command.h (each at least 20 inputs, each with its errno), and
 * the executor Control<P>: result lines written out by hand, the errors it
 * returns, objects held without loss, pool exhaustion, pins, release_all().
 *
 * Every test ends (TearDown) by releasing everything and checking, against
 * the core rather than the executor: validate finds no error in any cache,
 * no object is live (the core's census), and after shrinking every cache the
 * buddy allocator has exactly the free pages it had after boot.
 *
 * Geometry used in the expected texts (2 CPUs; worked as in
 * tests/unit/slowpath_test.cpp): a 100-byte cache has a 104-byte stride,
 * align 8; min_objects 12, 12 * 104 fits order 0, 4096 % 104 = 40 <= 256:
 * order 0, 39 objects per slab. A 1024-byte cache: order 2, 16 per slab.
 */
#include "slub/slub.h"
#include "control/control.h"

#include <gtest/gtest.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "user_platform.h"

namespace {

using namespace kslub;
using UP = UserPlatform;
using Cache = KmemCache<UP>;

constexpr int EINVAL_ = -22, ENOENT_ = -2, EEXIST_ = -17, ENOMEM_ = -12, EBUSY_ = -16;

/* A deterministic core instance over an mmap'ed pool, one region of `per_node` bytes per node. */
class Instance {
public:
	Instance(unsigned cpus, unsigned nodes, usize per_node,
		 KernelRules rules = KernelRules::Linux61) :
		pal_(cpus, nodes, true),
		alloc_(pal_)
	{
		pal_.set_reporter(&Instance::on_report, this);
		bytes_ = per_node * nodes + TOP_BLOCK_SIZE;
		map_ = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		uptr base = align_up(uptr(map_), TOP_BLOCK_SIZE);
		RegionDesc r[MAX_NODES];
		for (unsigned n = 0; n < nodes; n++)
			r[n] = RegionDesc{reinterpret_cast<void *>(base + n * per_node), per_node,
					  int(n)};
		ok_ = map_ != MAP_FAILED && alloc_.init(r, nodes, rules) == 0;
	}
	~Instance()
	{
		if (ok_)
			EXPECT_EQ(alloc_.shutdown(), 0);
		UP::unpoison(map_, bytes_);
		munmap(map_, bytes_);
	}
	bool ok() const { return ok_; }
	Slub<UP> &slub() { return alloc_.slub(); }
	BuddyAllocator<UP> &buddy() { return alloc_.buddy(); }
	UP &pal() { return pal_; }
	std::vector<std::string> reports;

private:
	static void on_report(void *arg, const Report &r)
	{
		static_cast<Instance *>(arg)->reports.push_back(
			std::string(report_kind_name(r.kind)) + ": " + (r.what ? r.what : "") +
			" (" + (r.cache ? r.cache : "-") + ")");
	}
	UP pal_;
	Allocator<UP> alloc_;
	void *map_ = nullptr;
	usize bytes_ = 0;
	bool ok_ = false;
};

/* Live objects of a cache according to the core (check(): no flush, no change). */
u64 live_in_core(Slub<UP> &sl, Cache *s)
{
	CacheCensus c{};
	EXPECT_EQ(sl.check(s, &c), 0) << s->name;
	return c.live_objects;
}

class ControlTest : public ::testing::Test {
protected:
	virtual usize pool_per_node() const { return usize(16) << 20; }

	void SetUp() override
	{
		k_.reset(new Instance(2, 1, pool_per_node()));
		ASSERT_TRUE(k_->ok());
		start_pages_ = k_->buddy().free_page_count();
		ctl_.reset(new Control<UP>(k_->slub()));
	}

	void TearDown() override
	{
		if (!ctl_)
			return;
		EXPECT_EQ(ctl_->held_check(), 0);
		EXPECT_EQ(ctl_->release_all(), 0) << ctl_->result();
		EXPECT_EQ(ctl_->held_total(), 0u);
		EXPECT_EQ(ctl_->tracked(), 0u);
		auto &sl = k_->slub();
		sl.for_each_cache([&](Cache *s) {
			EXPECT_EQ(sl.validate(s), 0) << s->name;
			EXPECT_EQ(live_in_core(sl, s), str_eq(s->name, "kmem_cache") ? 13u : 0u)
				<< s->name;
			sl.shrink(s);
		});
		EXPECT_EQ(k_->buddy().free_page_count(), start_pages_) << "pages leaked";
		EXPECT_EQ(k_->buddy().check(), 0);
		EXPECT_EQ(k_->reports, expected_reports_);
		ctl_.reset();
		k_.reset();
	}

	/* Run one command given as text (no newline needed). */
	int run(const std::string &cmd) { return ctl_->run(cmd.data(), cmd.size()); }
	std::string result() const { return ctl_->result(); }
	Cache *cache(const char *name) { return k_->slub().find_cache(name); }

	std::unique_ptr<Instance> k_;
	std::unique_ptr<Control<UP>> ctl_;
	u64 start_pages_ = 0;
	std::vector<std::string> expected_reports_;
};

/* ---------------------------------------------------------------- parsing: valid */

TEST(ControlParse, EveryVerb)
{
	struct Case {
		const char *in;
		ControlVerb verb;
		const char *name;
		u64 size, align, count;
	} cases[] = {
		{"create foo 100", ControlVerb::Create, "foo", 100, 0, 0},
		{"create foo 100 align=64\n", ControlVerb::Create, "foo", 100, 64, 0},
		{"  create   A.b_c-9   8   align=1  ", ControlVerb::Create, "A.b_c-9", 8, 1, 0},
		{"create x 2097152 align=4096", ControlVerb::Create, "x", 2097152, 4096, 0},
		{"destroy foo", ControlVerb::Destroy, "foo", 0, 0, 0},
		{"alloc foo 1000000", ControlVerb::Alloc, "foo", 0, 0, 1000000},
		{"free foo 007", ControlVerb::Free, "foo", 0, 0, 7},
		{"kmalloc 4194304 1", ControlVerb::Kmalloc, "", 4194304, 0, 1},
		{"kmalloc 1 1\n", ControlVerb::Kmalloc, "", 1, 0, 1},
		{"kfree-all", ControlVerb::KfreeAll, "", 0, 0, 0},
		{"kfree-all\n", ControlVerb::KfreeAll, "", 0, 0, 0},
		{"shrink kmalloc-64", ControlVerb::Shrink, "kmalloc-64", 0, 0, 0},
		{"validate kmalloc-8k", ControlVerb::Validate, "kmalloc-8k", 0, 0, 0},
		{"stress foo 100000000", ControlVerb::Stress, "foo", 0, 0, 100000000},
		{"compare 4194304 1", ControlVerb::Compare, "", 4194304, 0, 1},
		{"stop", ControlVerb::Stop, "", 0, 0, 0},
		{"stop\n", ControlVerb::Stop, "", 0, 0, 0},
		{"   stop   \n", ControlVerb::Stop, "", 0, 0, 0},
		{"alloc abcdefghijklmnopqrstuvwxyz01234 1", ControlVerb::Alloc,
		 "abcdefghijklmnopqrstuvwxyz01234", 0, 0, 1},
	};
	for (const Case &c : cases) {
		ControlCommand cmd;
		ControlError why;
		ASSERT_EQ(control_parse(c.in, strlen(c.in), &cmd, &why), 0)
			<< c.in << ": " << why.reason;
		EXPECT_EQ(why.code, 0);
		EXPECT_EQ(cmd.verb, c.verb) << c.in;
		EXPECT_STREQ(cmd.name, c.name) << c.in;
		EXPECT_EQ(cmd.size, c.size) << c.in;
		EXPECT_EQ(cmd.align, c.align) << c.in;
		EXPECT_EQ(cmd.count, c.count) << c.in;
	}
}

/* The line limit counts bytes before the optional newline: 127 pass, 128 do not. */
/* The options of create, in either order. */
TEST(ControlParse, CreateOptions)
{
	struct Case {
		const char *in;
		u64 align, sheaves;
	} cases[] = {
		{"create s 64 sheaves=32", 0, 32},
		{"create s 64 align=16 sheaves=1", 16, 1},
		{"create s 64 sheaves=1024 align=8", 8, 1024},
	};
	for (const Case &c : cases) {
		ControlCommand cmd;
		ControlError why;
		ASSERT_EQ(control_parse(c.in, strlen(c.in), &cmd, &why), 0)
			<< c.in << ": " << why.reason;
		EXPECT_EQ(cmd.verb, ControlVerb::Create);
		EXPECT_EQ(cmd.size, 64u);
		EXPECT_EQ(cmd.align, c.align) << c.in;
		EXPECT_EQ(cmd.sheaves, c.sheaves) << c.in;
	}
}

/* sheaves=N under the rules that have sheaves, refused under those that do not. */
TEST(ControlSheaves, CreateWithSheaves)
{
	{
		Instance k(2, 1, usize(16) << 20, KernelRules::Linux73);
		ASSERT_TRUE(k.ok());
		Control<UP> ctl(k.slub());
		auto run = [&](const std::string &cmd) {
			return ctl.run(cmd.data(), cmd.size());
		};
		/* 28 for 256-byte objects: what a 7.3 guest's kmalloc-256/sheaf_capacity reads. */
		ASSERT_EQ(run("create plain 256"), 0) << ctl.result();
		EXPECT_NE(std::string(ctl.result()).find(" sheaf_capacity 28"), std::string::npos)
			<< ctl.result();
		ASSERT_EQ(run("create asks 256 sheaves=100"), 0) << ctl.result();
		EXPECT_NE(std::string(ctl.result()).find(" sheaf_capacity 100"), std::string::npos)
			<< ctl.result();
		ASSERT_EQ(run("alloc asks 300"), 0) << ctl.result();
		ASSERT_EQ(run("free asks 300"), 0) << ctl.result();
		ASSERT_EQ(run("validate asks"), 0) << ctl.result();
		EXPECT_EQ(run("destroy asks"), 0) << ctl.result();
		EXPECT_EQ(run("destroy plain"), 0) << ctl.result();
		EXPECT_EQ(ctl.release_all(), 0);
		EXPECT_TRUE(k.reports.empty());
	}
	{
		Instance k(2, 1, usize(16) << 20, KernelRules::Linux61);
		ASSERT_TRUE(k.ok());
		Control<UP> ctl(k.slub());
		std::string cmd = "create asks 256 sheaves=8";
		EXPECT_EQ(ctl.run(cmd.data(), cmd.size()), -KSLUB_EINVAL);
		EXPECT_NE(std::string(ctl.result()).find("sheaves need the 6.18 or 7.3 rules"),
			  std::string::npos)
			<< ctl.result();
		EXPECT_EQ(k.reports.size(), 1u);
	}
}

TEST(ControlParse, LineLimitBoundary)
{
	std::string at = "alloc x " + std::string(127 - 9, '0') + "5";
	ASSERT_EQ(at.size(), 127u);
	ControlCommand cmd;
	ControlError why;
	EXPECT_EQ(control_parse(at.data(), at.size(), &cmd, &why), 0) << why.reason;
	EXPECT_EQ(cmd.count, 5u);
	std::string nl = at + "\n";
	EXPECT_EQ(control_parse(nl.data(), nl.size(), &cmd, &why), 0) << why.reason;
	std::string over = "alloc x " + std::string(128 - 9, '0') + "5";
	EXPECT_EQ(control_parse(over.data(), over.size(), &cmd, &why), EINVAL_);
	EXPECT_STREQ(why.reason, "command longer than 127 bytes (128)");
	/* Not NUL terminated: the parser reads exactly len bytes. */
	const char raw[] = {'k', 'f', 'r', 'e', 'e', '-', 'a', 'l', 'l', 'X'};
	EXPECT_EQ(control_parse(raw, 9, &cmd, &why), 0);
	EXPECT_EQ(cmd.verb, ControlVerb::KfreeAll);
	EXPECT_EQ(control_parse(raw, 10, &cmd, &why), EINVAL_);
	EXPECT_EQ(control_parse(nullptr, 0, &cmd, &why), EINVAL_); /* empty */
	EXPECT_EQ(control_parse(nullptr, 5, &cmd, nullptr), EINVAL_);
	EXPECT_EQ(control_parse("kfree-all", 9, nullptr, nullptr), 0);
}

/* Reasons name the problem; a few written out. */
TEST(ControlParse, Reasons)
{
	struct Case {
		std::string in;
		const char *reason;
	} cases[] = {
		{"", "empty command"},
		{"frob x",
		 "unknown command 'frob' (create destroy alloc free kmalloc kfree-all shrink validate stress "
		 "compare stop)"},
		{"stop now", "stop: too many arguments (usage: stop)"},
		{"STOP",
		 "unknown command 'STOP' (create destroy alloc free kmalloc kfree-all shrink "
		 "validate stress compare stop)"},
		{"alloc x", "alloc: missing argument (usage: alloc NAME COUNT)"},
		{"destroy x y", "destroy: too many arguments (usage: destroy NAME)"},
		{"alloc x 12a", "COUNT is not a decimal number: '12a'"},
		{"alloc x -3", "COUNT must be an unsigned decimal number, not '-3'"},
		{"alloc x 0", "COUNT 0 is below the minimum 1"},
		{"alloc x 1000001", "COUNT 1000001 is above the limit 1000000"},
		{"alloc x 18446744073709551616",
		 "COUNT does not fit in 64 bits: '18446744073709551616'"},
		{"create x 4", "SIZE 4 is below the minimum 8"},
		{"create x 64 align=48", "align 48 is not a power of two"},
		{"create x 64 aligned=8",
		 "create: the options are align=N and sheaves=N, once each, not 'aligned=8'"},
		{"create x 64 sheaves=8 sheaves=8",
		 "create: the options are align=N and sheaves=N, once each, not 'sheaves=8'"},
		{"create x 64 sheaves=0", "sheaves 0 is below the minimum 1"},
		{"create x 64 sheaves=1025", "sheaves 1025 is above the limit 1024"},
		{"create x 64 align=", "align is empty"},
		{"create a/b 64", "NAME may hold only [A-Za-z0-9_.-]: 'a/b'"},
		{"create " + std::string(40, 'n') + " 64",
		 "NAME is longer than 31 characters: 'nnnnnnnnnnnnnnnnnnnnnnnn...'"},
		{std::string("alloc\0x 1", 9), "NUL byte at offset 5"},
		{"alloc\tx 1", "control or non-ASCII byte 0x9 at offset 5"},
		{"alloc x 1\xff", "control or non-ASCII byte 0xff at offset 9"},
	};
	for (const Case &c : cases) {
		ControlError why;
		ControlCommand cmd;
		EXPECT_EQ(control_parse(c.in.data(), c.in.size(), &cmd, &why), EINVAL_) << c.in;
		EXPECT_STREQ(why.reason, c.reason) << c.in;
	}
}

/* ---------------------------------------------------------------- parsing: hostile batteries */

struct Hostile {
	std::string in;
	int err;
};

std::vector<Hostile> all_einval(std::initializer_list<std::string> ins)
{
	std::vector<Hostile> v;
	for (const std::string &s : ins)
		v.push_back({s, EINVAL_});
	return v;
}

std::string S(const char *p, size_t n)
{
	return std::string(p, n);
}

std::vector<Hostile> battery(const std::string &cls)
{
	if (cls == "unknown verb")
		return all_einval({"foo",	 "CREATE x 8",
				   "Create x 8", "creat x 8",
				   "createx 8",	 "kfree",
				   "kfree_all",	 "kfreeall",
				   "kfree-all2", "destroy-all",
				   "alloc: x 1", "ALLOC x 1",
				   "delete x",	 "rm x",
				   "malloc 8 1", "help",
				   "?",		 "1",
				   "-",		 "create\\ x 8",
				   "stres x 1",	 "comparee 8 1",
				   "vALIDATE x", "shrinkk x",
				   "free-all",	 "#create x 8",
				   "kfree-All",	 "x create 8"});
	if (cls == "empty")
		return all_einval({"",
				   "\n",
				   " ",
				   "   ",
				   "   \n",
				   std::string(127, ' '),
				   std::string(127, ' ') + "\n",
				   " \n",
				   "  ",
				   std::string(50, ' '),
				   std::string(100, ' '),
				   std::string(126, ' ') + "\n",
				   "    ",
				   "     \n",
				   "      ",
				   "        ",
				   "\n ",
				   " \n ",
				   std::string(2, ' ') + "\n",
				   std::string(64, ' ')});
	if (cls == "missing argument")
		return all_einval({"create",	     "create x", "destroy",    "alloc",
				   "alloc x",	     "free",	 "free x",     "kmalloc",
				   "kmalloc 8",	     "shrink",	 "validate",   "stress",
				   "stress x",	     "compare",	 "compare 8",  "create   ",
				   " alloc x ",	     "free\n",	 "create x\n", "stress x \n",
				   "kmalloc   8   ", "compare\n"});
	if (cls == "extra argument")
		return all_einval({"create x 8 align=8 extra",
				   "create x 8 9",
				   "destroy x y",
				   "alloc x 1 2",
				   "free x 1 2",
				   "kmalloc 8 1 1",
				   "kfree-all now",
				   "kfree-all 1",
				   "shrink x y",
				   "validate x y",
				   "stress x 1 2",
				   "compare 8 1 2",
				   "destroy x x x x x x",
				   "alloc x 1 1 1 1 1 1 1",
				   "create x 8 align=8 align=8",
				   "create x 8 8",
				   "create x 8 align",
				   "kfree-all kfree-all",
				   "validate a b c",
				   "shrink a b c d e f g h",
				   "create x 64 align=8 \n"
				   "x"});
	if (cls == "not a number")
		return all_einval({"alloc x abc",
				   "alloc x 1a",
				   "alloc x a1",
				   "alloc x 0x10",
				   "alloc x 1e3",
				   "alloc x 1.5",
				   "alloc x 1,000",
				   "alloc x 1_000",
				   "create x 8k",
				   "create x ten",
				   "kmalloc 8b 1",
				   "kmalloc eight 1",
				   "kmalloc 8 one",
				   "stress x 1M",
				   "compare 8 fast",
				   "create x 64 align=x",
				   "create x 64 align=0x40",
				   "create x 64 align=64k",
				   "free x all",
				   "alloc x +5",
				   "kmalloc +8 1",
				   "alloc x 1/2",
				   "alloc x 1-2",
				   "create x 64 align==8",
				   "create x 64 align=8=8",
				   "alloc x 1.",
				   "alloc x .1"});
	if (cls == "negative")
		return all_einval({"alloc x -1",
				   "alloc x -0",
				   "free x -5",
				   "kmalloc -8 1",
				   "kmalloc 8 -1",
				   "create x -8",
				   "create x 64 align=-8",
				   "stress x -1",
				   "compare -8 1",
				   "compare 8 -1",
				   "alloc x -1000000",
				   "alloc x -18446744073709551616",
				   "kmalloc -1 -1",
				   "create x -1 align=8",
				   "free x -0",
				   "stress x -100",
				   "compare -1 -1",
				   "create x -2097152",
				   "alloc x --1",
				   "kmalloc -0 1",
				   "create x 64 align=-1"});
	if (cls == "zero")
		return all_einval({"alloc x 0",
				   "free x 0",
				   "kmalloc 0 1",
				   "kmalloc 8 0",
				   "create x 0",
				   "create x 64 align=0",
				   "stress x 0",
				   "compare 0 1",
				   "compare 8 0",
				   "alloc x 00",
				   "alloc x 0000000000000000000000",
				   "kmalloc 000 1",
				   "free x 000",
				   "create x 00 align=8",
				   "stress x 00",
				   "compare 00 00",
				   "create x 0 align=0",
				   "kmalloc 0 0",
				   "alloc x 0\n",
				   "free x 0\n",
				   "create x 64 align=000"});
	if (cls == "over a limit")
		return all_einval({"alloc x 1000001",
				   "free x 1000001",
				   "kmalloc 8 1000001",
				   "kmalloc 4194305 1",
				   "create x 2097153",
				   "create x 64 align=8192",
				   "create x 64 align=4097",
				   "stress x 100000001",
				   "compare 4194305 1",
				   "compare 8 100000001",
				   "create x 4294967296",
				   "create x 4294967304",
				   "kmalloc 4294967297 1",
				   "alloc x 4294967297",
				   "create x 64 align=4294967296",
				   "alloc x 9999999999",
				   "create x 1",
				   "create x 7",
				   "create x 64 align=3",
				   "create x 64 align=24",
				   "create x 64 align=100",
				   "alloc x 18446744073709551615",
				   "kmalloc 18446744073709551615 1",
				   "create x 64 align=2147483648"});
	if (cls == "u64 overflow")
		return all_einval({"alloc x 18446744073709551616",
				   "alloc x 99999999999999999999",
				   "alloc x 184467440737095516150",
				   "create x 18446744073709551617",
				   "kmalloc 18446744073709551616 1",
				   "kmalloc 1 18446744073709551616",
				   "stress x 18446744073709551616",
				   "compare 18446744073709551616 1",
				   "compare 1 18446744073709551616",
				   "create x 64 align=18446744073709551616",
				   "free x 36893488147419103232",
				   "alloc x 100000000000000000000000000000",
				   "create x 18446744073709551624",
				   "kmalloc 18446744073709551624 1",
				   "alloc x 18446744073709551617",
				   "free x 18446744073709551617",
				   "stress x 18446744073709551617",
				   "compare 18446744073709551624 18446744073709551617",
				   "create x 64 align=18446744073709551624",
				   "alloc x 340282366920938463463374607431768211457",
				   "alloc x 18446744073709551621"});
	if (cls == "bad name") {
		std::vector<Hostile> v;
		for (size_t n : {32, 33, 40, 64, 100, 110})
			v.push_back({"create " + std::string(n, 'a') + " 64", EINVAL_});
		v.push_back({"alloc " + std::string(32, 'b') + " 1", EINVAL_});
		v.push_back({"destroy " + std::string(32, 'c'), EINVAL_});
		v.push_back({"stress " + std::string(50, 'd') + " 1", EINVAL_});
		for (const char *dots :
		     {"create . 64", "create .. 64", "destroy ..", "alloc . 1", "stress .. 1"})
			v.push_back({dots, EINVAL_});
		for (char c : std::string("/\\:*$%'\",;()@!~`{}=+|<>[]#?&^"))
			v.push_back({std::string("create a") + c + "b 64", EINVAL_});
		return v;
	}
	if (cls == "NUL byte") {
		std::vector<Hostile> v;
		const std::string base = "create abc 64 align=8";
		for (size_t pos = 0; pos <= base.size(); pos++) {
			std::string s = base;
			s.insert(pos, 1, '\0');
			v.push_back({s, EINVAL_});
		}
		v.push_back({S("\0", 1), EINVAL_});
		v.push_back({S("\0\0\0", 3), EINVAL_});
		v.push_back({S("kfree-all\0\n", 11), EINVAL_});
		v.push_back({S("\0kfree-all", 10), EINVAL_});
		return v;
	}
	if (cls == "control byte") {
		std::vector<Hostile> v;
		for (int b = 1; b < 0x20; b++) {
			if (b == '\n')
				continue;
			v.push_back({std::string("alloc x") + char(b) + "1", EINVAL_});
		}
		for (const char *s : {"kfree-all\n\n", "kfree-all\nkfree-all", "\nkfree-all",
				      "alloc x 1\r\n", "create x 8\x7f", "\x7f", "\x80", "\xff",
				      "cr\xc3\xa9"
				      "ate x 8",
				      "alloc x 1\xc2\xa0", "\x1b[31mkfree-all", "alloc\x0bx 1"})
			v.push_back({s, EINVAL_});
		return v;
	}
	if (cls == "random binary") {
		/* Fixed-seed bytes; one byte of each forced to >= 0x80, which the grammar never allows. */
		std::vector<Hostile> v;
		uint64_t x = 0x5eed;
		for (int i = 0; i < 40; i++) {
			size_t n = 1 + (x % 200);
			std::string s;
			for (size_t j = 0; j < n; j++) {
				x ^= x << 13, x ^= x >> 7, x ^= x << 17;
				s.push_back(char(x & 0xff));
			}
			s[x % n] = char(0x80 | (x >> 8));
			v.push_back({s, EINVAL_});
		}
		return v;
	}
	if (cls == "over-long") {
		std::vector<Hostile> v;
		for (size_t n : {128, 129, 130, 150, 200, 255, 256, 1000, 4096, 65536})
			v.push_back({"alloc x 1" + std::string(n - 9, ' '), EINVAL_});
		for (size_t n : {128, 200, 4096})
			v.push_back({std::string(n, 'a'), EINVAL_});
		for (size_t n : {128, 129, 300})
			v.push_back({"alloc x " + std::string(n - 8, '0'), EINVAL_});
		v.push_back({"create " + std::string(121, 'n') + " 64", EINVAL_});
		v.push_back({std::string(128, ' ') + "\n", EINVAL_});
		v.push_back({std::string(128, '\n'), EINVAL_});
		v.push_back({std::string(1 << 20, 'k'), EINVAL_});
		v.push_back({"kfree-all" + std::string(119, ' '), EINVAL_});
		v.push_back({"kfree-all" + std::string(119, ' ') + "\n", EINVAL_});
		return v;
	}
	if (cls == "stop") {
		/* The verb takes no argument, is lower case, and is one word. */
		std::vector<Hostile> v =
			all_einval({"stop now",	   "stop 1",   "stop 0",       "stop kmalloc-64",
				    "stop stress", "stop all", "stop -9",      "stop stop",
				    "STOP",	   "Stop",     "sTOP",	       "stopp",
				    "sto",	   "st op",    "stop-all",     "stop_all",
				    "stop;",	   "stop!",    "stop\n\n",     "stop\nstop",
				    "\nstop",	   "stop\t",   "\tstop",       "stop\r\n",
				    "stop\x7f",	   "stop\xff", "stop\xc2\xa0", "kill stop",
				    "halt",	   "cancel"});
		v.push_back({S("stop\0", 5), EINVAL_});
		v.push_back({S("\0stop", 5), EINVAL_});
		v.push_back({S("st\0op\n", 6), EINVAL_});
		v.push_back({"stop" + std::string(124, ' ') + "\n", EINVAL_}); /* 128 bytes */
		v.push_back({std::string(200, ' ') + "stop", EINVAL_});
		v.push_back({"stop" + std::string(4096, 'p'), EINVAL_});
		return v;
	}
	ADD_FAILURE() << "no battery " << cls;
	return {};
}

const char *const kClasses[] = {"unknown verb",	  "empty",	  "missing argument",
				"extra argument", "not a number", "negative",
				"zero",		  "over a limit", "u64 overflow",
				"bad name",	  "NUL byte",	  "control byte",
				"random binary",  "over-long",	  "stop"};

/* A reason is one line of printable ASCII within its buffer. */
::testing::AssertionResult one_line(const char *r, usize cap)
{
	usize n = 0;
	for (; n < cap && r[n]; n++)
		if (r[n] < 0x20 || r[n] > 0x7e)
			return ::testing::AssertionFailure()
			       << "byte " << int(u8(r[n])) << " at " << n;
	if (n == cap)
		return ::testing::AssertionFailure() << "not NUL terminated";
	if (!n)
		return ::testing::AssertionFailure() << "empty";
	return ::testing::AssertionSuccess();
}

TEST_F(ControlTest, HostileBatteriesAreRejectedCleanly)
{
	size_t total = 0;
	for (const char *cls : kClasses) {
		auto v = battery(cls);
		EXPECT_GE(v.size(), 20u) << cls;
		for (const Hostile &h : v) {
			SCOPED_TRACE(std::string(cls) + ": '" + h.in.substr(0, 60) + "'");
			ControlCommand cmd;
			ControlError why;
			memset(&cmd, 0x5a, sizeof(cmd));
			EXPECT_EQ(control_parse(h.in.data(), h.in.size(), &cmd, &why), h.err);
			EXPECT_EQ(why.code, h.err);
			EXPECT_TRUE(one_line(why.reason, sizeof(why.reason)));
			EXPECT_EQ(cmd.verb, ControlVerb::None);
			EXPECT_EQ(cmd.name[0], 0);
			/* The executor rejects it the same way and says so. */
			EXPECT_EQ(ctl_->run(h.in.data(), h.in.size()), h.err);
			EXPECT_EQ(result().rfind("error -22 (EINVAL): ", 0), 0u) << result();
			EXPECT_TRUE(one_line(ctl_->result(), CONTROL_RESULT_MAX));
			total++;
		}
	}
	EXPECT_GE(total, 14u * 20);
	/* Nothing happened, and the executor still works. */
	EXPECT_EQ(ctl_->held_total(), 0u);
	EXPECT_EQ(run("create after 100"), 0) << result();
	EXPECT_EQ(run("alloc after 10"), 0) << result();
	EXPECT_EQ(run("free after 10"), 0) << result();
	EXPECT_EQ(run("destroy after"), 0) << result();
}

/* ---------------------------------------------------------------- executing: results */

TEST_F(ControlTest, ResultLines)
{
	EXPECT_EQ(run("create foo 100\n"), 0);
	EXPECT_EQ(result(),
		  "create foo: object_size 100 slab_size 104 align 8 order 0 objs_per_slab 39");
	EXPECT_EQ(run("alloc foo 100"), 0);
	EXPECT_EQ(result(), "alloc foo: 100 objects held (100 total)");
	EXPECT_EQ(ctl_->value(), 100u);
	EXPECT_EQ(run("alloc foo 20"), 0);
	EXPECT_EQ(result(), "alloc foo: 20 objects held (120 total)");
	EXPECT_EQ(live_in_core(k_->slub(), cache("foo")), 120u);
	EXPECT_EQ(run("free foo 30"), 0);
	EXPECT_EQ(result(), "free foo: 30 objects freed (90 held)");
	EXPECT_EQ(live_in_core(k_->slub(), cache("foo")), 90u);
	EXPECT_EQ(run("validate foo"), 0);
	EXPECT_EQ(result(), "validate foo: 0 errors");
	EXPECT_EQ(run("free foo 1000000"), 0);
	EXPECT_EQ(result(), "free foo: 90 objects freed (0 held)");
	EXPECT_EQ(run("free foo 5"), 0);
	EXPECT_EQ(result(), "free foo: 0 objects freed (0 held)");
	/* 120 objects of 39 per slab: 4 slabs; all empty now, at most min_partial (5) kept. */
	EXPECT_EQ(run("shrink foo"), 0);
	EXPECT_EQ(result(), "shrink foo: 4 slabs freed");
	EXPECT_EQ(run("destroy foo"), 0);
	EXPECT_EQ(result(), "destroy foo: destroyed");

	EXPECT_EQ(run("kmalloc 100 10"), 0);
	EXPECT_EQ(result(), "kmalloc 100: 10 objects held (10 total)");
	EXPECT_EQ(live_in_core(k_->slub(), cache("kmalloc-128")), 10u);
	EXPECT_EQ(run("kmalloc 10000 2"), 0); /* kmalloc_large: order 2 pages each */
	EXPECT_EQ(result(), "kmalloc 10000: 2 objects held (12 total)");
	EXPECT_EQ(run("kfree-all"), 0);
	EXPECT_EQ(result(), "kfree-all: 12 objects freed");
	EXPECT_EQ(live_in_core(k_->slub(), cache("kmalloc-128")), 0u);

	EXPECT_EQ(run("stress kmalloc-64 1000"), CONTROL_DELEGATED);
	EXPECT_EQ(result(), "stress kmalloc-64 1000: started");
	EXPECT_EQ(ctl_->last_command().verb, ControlVerb::Stress);
	EXPECT_STREQ(ctl_->last_command().name, "kmalloc-64");
	ControlCommand cmd;
	EXPECT_EQ(ctl_->run("compare 192 5000\n", 17, &cmd), CONTROL_DELEGATED);
	EXPECT_EQ(result(), "compare 192 5000: started");
	EXPECT_EQ(cmd.verb, ControlVerb::Compare);
	EXPECT_EQ(cmd.size, 192u);
	EXPECT_EQ(cmd.count, 5000u);
	ctl_->set_result("compare 192 5000: kslub 61 ns/op, kernel 55 ns/op");
	EXPECT_EQ(result(), "compare 192 5000: kslub 61 ns/op, kernel 55 ns/op");
}

/* Objects from a kmalloc cache by name go to that cache's list, apart from kmalloc's. */
TEST_F(ControlTest, NamedKmallocCacheAndAlignment)
{
	EXPECT_EQ(run("alloc kmalloc-64 50"), 0);
	EXPECT_EQ(run("kmalloc 64 5"), 0);
	EXPECT_EQ(ctl_->held("kmalloc-64"), 50u);
	EXPECT_EQ(ctl_->held_kmalloc(), 5u);
	EXPECT_EQ(live_in_core(k_->slub(), cache("kmalloc-64")), 55u);
	EXPECT_EQ(run("free kmalloc-64 50"), 0);
	EXPECT_EQ(result(), "free kmalloc-64: 50 objects freed (0 held)");
	EXPECT_EQ(live_in_core(k_->slub(), cache("kmalloc-64")), 5u);
	EXPECT_EQ(run("kfree-all"), 0);

	/* align=256 on 100 bytes: stride 256, 16 per order-0 slab... min_objects 12 fit: order 0. */
	EXPECT_EQ(run("create al 100 align=256"), 0);
	EXPECT_EQ(result(),
		  "create al: object_size 100 slab_size 256 align 256 order 0 objs_per_slab 16");
	EXPECT_EQ(run("alloc al 3"), 0);
	Cache *s = cache("al");
	ASSERT_NE(s, nullptr);
	EXPECT_EQ(live_in_core(k_->slub(), s), 3u);
	EXPECT_EQ(run("create big 2097152"), 0);
	EXPECT_EQ(
		result(),
		"create big: object_size 2097152 slab_size 2097152 align 8 order 9 objs_per_slab 1");
	EXPECT_EQ(run("create tiny 8"), 0);
	EXPECT_EQ(run("alloc tiny 1000"), 0);
	EXPECT_EQ(ctl_->held_total(), 1003u);
}

/* ---------------------------------------------------------------- executing: error batteries */

TEST_F(ControlTest, NoSuchCacheIsENOENT)
{
	std::vector<std::string> names = {"nosuch",	 "kmalloc-7",  "kmalloc-63",
					  "kmalloc-8K",	 "KMALLOC-64", "kmem_cache_node",
					  "kmalloc-64.", "x",	       std::string(31, 'z'),
					  "foo"};
	int n = 0;
	for (const std::string &nm : names)
		for (const char *fmt : {"destroy %s", "alloc %s 1", "free %s 1", "shrink %s",
					"validate %s", "stress %s 10"}) {
			char cmd[128];
			snprintf(cmd, sizeof(cmd), fmt, nm.c_str());
			EXPECT_EQ(run(cmd), ENOENT_) << cmd;
			EXPECT_EQ(result().rfind("error -2 (ENOENT): ", 0), 0u) << result();
			EXPECT_NE(result().find("no such cache"), std::string::npos) << result();
			n++;
		}
	EXPECT_GE(n, 20);
	/* destroy of a destroyed cache. */
	EXPECT_EQ(run("create foo 64"), 0);
	EXPECT_EQ(run("destroy foo"), 0);
	EXPECT_EQ(run("destroy foo"), ENOENT_);
	EXPECT_EQ(run("alloc foo 1"), ENOENT_);
	EXPECT_EQ(ctl_->held_total(), 0u);
}

TEST_F(ControlTest, DuplicateIsEEXIST)
{
	std::vector<std::string> cmds;
	for (unsigned i = 1; i < KMALLOC_NR_CACHES; i++)
		cmds.push_back(std::string("create ") + kmalloc_cache_name(i) + " 64");
	cmds.push_back("create kmem_cache 64");
	EXPECT_EQ(run("create dup 100"), 0);
	for (const char *c :
	     {"create dup 100", "create dup 64", "create dup 8", "create dup 2097152",
	      "create dup 100 align=64", "create dup 100 align=1", "create dup 4096\n"})
		cmds.push_back(c);
	EXPECT_GE(cmds.size(), 20u);
	for (const std::string &c : cmds) {
		EXPECT_EQ(run(c), EEXIST_) << c;
		EXPECT_EQ(result().rfind("error -17 (EEXIST): ", 0), 0u) << result();
	}
	/* The original is untouched. */
	EXPECT_EQ(run("alloc dup 3"), 0);
	EXPECT_EQ(result(), "alloc dup: 3 objects held (3 total)");
	EXPECT_EQ(k_->slub().geometry(cache("dup")).object_size, 100u);
}

TEST_F(ControlTest, ProtectedOrInUseIsEBUSY)
{
	std::vector<std::string> cmds;
	for (unsigned i = 1; i < KMALLOC_NR_CACHES; i++)
		cmds.push_back(std::string("destroy ") + kmalloc_cache_name(i));
	for (const char *c : {"destroy kmem_cache", "alloc kmem_cache 1", "free kmem_cache 1",
			      "stress kmem_cache 5"})
		cmds.push_back(c);
	for (const std::string &c : cmds) {
		EXPECT_EQ(run(c), EBUSY_) << c;
		EXPECT_EQ(result().rfind("error -16 (EBUSY): ", 0), 0u) << result();
	}
	/* Held objects: destroy refuses and nothing is lost. */
	EXPECT_EQ(run("create h 64"), 0);
	EXPECT_EQ(run("alloc h 5"), 0);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(run("destroy h"), EBUSY_);
		EXPECT_EQ(result(),
			  "error -16 (EBUSY): destroy h: 5 objects held; free them first");
	}
	EXPECT_EQ(live_in_core(k_->slub(), cache("h")), 5u);
	/* Pinned (a stress running): destroy refuses until unpinned. */
	EXPECT_EQ(run("free h 5"), 0);
	int err = 1;
	Cache *p = ctl_->pin("h", &err);
	ASSERT_EQ(p, cache("h"));
	EXPECT_EQ(err, 0);
	EXPECT_EQ(run("destroy h"), EBUSY_);
	EXPECT_EQ(result(), "error -16 (EBUSY): destroy h: in use (stress running)");
	EXPECT_EQ(ctl_->release_all(), EBUSY_); /* a pinned cache stays */
	EXPECT_NE(cache("h"), nullptr);
	ctl_->unpin(p);
	EXPECT_EQ(run("destroy h"), 0);
	EXPECT_EQ(ctl_->pin("kmem_cache", &err), nullptr);
	EXPECT_EQ(err, EBUSY_);
	EXPECT_EQ(ctl_->pin("nosuch", &err), nullptr);
	EXPECT_EQ(err, ENOENT_);
	EXPECT_GE(cmds.size() + 4, 20u);
}

/*
 * stop: parsed and handed to the embedding (CONTROL_STOP), which ends its
 * stress or compare run; the executor keeps no state for it, so a stop
 * changes nothing here: pins, held objects and other commands are untouched.
 */
TEST_F(ControlTest, StopIsHandedToTheEmbedding)
{
	ControlCommand cmd;
	memset(&cmd, 0x5a, sizeof(cmd));
	EXPECT_EQ(ctl_->run("stop\n", 5, &cmd), CONTROL_STOP);
	EXPECT_EQ(cmd.verb, ControlVerb::Stop);
	EXPECT_STREQ(cmd.name, "");
	EXPECT_EQ(cmd.size, 0u);
	EXPECT_EQ(cmd.count, 0u);
	EXPECT_EQ(result(), "stop: requested");
	EXPECT_EQ(ctl_->value(), 0u);
	EXPECT_EQ(ctl_->last_command().verb, ControlVerb::Stop);
	EXPECT_STREQ(control_verb_name(ControlVerb::Stop), "stop");
	/* Nothing running: the same answer (the embedding says there was nothing to stop). */
	EXPECT_EQ(run("  stop  "), CONTROL_STOP);
	EXPECT_EQ(ctl_->execute(cmd), CONTROL_STOP);

	/* A stress run as the embedding does it: delegated, the cache pinned; stop in the middle. */
	EXPECT_EQ(run("create s 64"), 0) << result();
	EXPECT_EQ(run("alloc s 10"), 0) << result();
	EXPECT_EQ(ctl_->run("stress s 100000000", 18, &cmd), CONTROL_DELEGATED);
	EXPECT_EQ(cmd.verb, ControlVerb::Stress);
	int err = 1;
	Cache *p = ctl_->pin(cmd.name, &err);
	ASSERT_EQ(p, cache("s"));
	EXPECT_EQ(run("stop"), CONTROL_STOP);
	EXPECT_EQ(result(), "stop: requested");
	/* Still pinned and holding: stop is the embedding's business. */
	EXPECT_EQ(run("destroy s"), EBUSY_);
	EXPECT_EQ(result(), "error -16 (EBUSY): destroy s: 10 objects held; free them first");
	EXPECT_EQ(ctl_->held("s"), 10u);
	EXPECT_EQ(run("free s 10"), 0) << result();
	EXPECT_EQ(run("destroy s"), EBUSY_);
	EXPECT_EQ(result(), "error -16 (EBUSY): destroy s: in use (stress running)");
	/* Other commands run meanwhile. */
	EXPECT_EQ(run("validate s"), 0);
	EXPECT_EQ(result(), "validate s: 0 errors");
	EXPECT_EQ(run("kmalloc 64 3"), 0);
	/* The embedding's report of the stopped run. */
	ctl_->unpin(p);
	ctl_->set_result("stress s: 1234 ops on 2 CPUs, 0 errors, validate 0 (stopped)");
	EXPECT_EQ(result(), "stress s: 1234 ops on 2 CPUs, 0 errors, validate 0 (stopped)");
	/* A malformed stop is refused like any command, and changes nothing. */
	EXPECT_EQ(run("stop s"), EINVAL_);
	EXPECT_EQ(result(), "error -22 (EINVAL): stop: too many arguments (usage: stop)");
	EXPECT_EQ(run("destroy s"), 0) << result();
	EXPECT_EQ(run("kfree-all"), 0);
	EXPECT_EQ(result(), "kfree-all: 3 objects freed");
	EXPECT_EQ(ctl_->held_total(), 0u);
}

/* A cache with objects the executor does not hold: the core refuses the destroy. */
TEST_F(ControlTest, ForeignLiveObjectsKeepTheCache)
{
	EXPECT_EQ(run("create f 64"), 0);
	void *o = k_->slub().cache_alloc(cache("f"), 0);
	ASSERT_NE(o, nullptr);
	EXPECT_EQ(run("destroy f"), EBUSY_);
	EXPECT_EQ(result(), "error -16 (EBUSY): destroy f: objects allocated elsewhere remain");
	expected_reports_.push_back("objects remaining: cache still has objects (f)");
	EXPECT_EQ(k_->slub().cache_free(cache("f"), o), 0);
	EXPECT_EQ(run("destroy f"), 0);
}

class ControlSmallPool : public ControlTest {
protected:
	usize pool_per_node() const override { return usize(8) << 20; }
};

/*
 * 8 MiB: the descriptors take 33 pages of the first top block, so order-9
 * blocks are the one at page 512 and the two halves of the second top
 * block: three 2 MiB objects (order-9 slabs of one object) fit.
 */
TEST_F(ControlSmallPool, PoolExhaustionKeepsWhatWasAllocated)
{
	EXPECT_EQ(run("create big 2097152"), 0);
	EXPECT_EQ(run("alloc big 1000"), ENOMEM_);
	EXPECT_EQ(result(),
		  "error -12 (ENOMEM): alloc big: out of memory, allocated 3 of 1000 (3 held)");
	EXPECT_EQ(ctl_->value(), 3u);
	EXPECT_EQ(live_in_core(k_->slub(), cache("big")), 3u);
	std::vector<std::string> more;
	for (int i = 1; i <= 10; i++)
		more.push_back("alloc big " + std::to_string(i));
	for (int i = 1; i <= 5; i++)
		more.push_back("kmalloc 4194304 " + std::to_string(i));
	for (const char *c : {"kmalloc 2097152 1", "kmalloc 2097153 2", "kmalloc 3000000 1",
			      "kmalloc 4000000 9", "alloc big 1000000"})
		more.push_back(c);
	EXPECT_GE(more.size() + 1, 20u);
	for (const std::string &c : more) {
		EXPECT_EQ(run(c), ENOMEM_) << c;
		EXPECT_NE(result().find("out of memory, allocated 0 of "), std::string::npos)
			<< result();
	}
	EXPECT_EQ(ctl_->held("big"), 3u);
	EXPECT_EQ(ctl_->held_kmalloc(), 0u);
	EXPECT_EQ(run("destroy big"), EBUSY_);
	/* One freed, one allocated back; the next fails. */
	EXPECT_EQ(run("free big 1"), 0);
	EXPECT_EQ(run("alloc big 2"), ENOMEM_);
	EXPECT_EQ(result(),
		  "error -12 (ENOMEM): alloc big: out of memory, allocated 1 of 2 (3 held)");
	EXPECT_EQ(run("free big 3"), 0);
	EXPECT_EQ(run("destroy big"), 0);
	/* With the pool back, a 4 MiB kmalloc succeeds. */
	EXPECT_EQ(run("kmalloc 4194304 1"), 0) << result();
	EXPECT_EQ(run("kfree-all"), 0);
}

TEST_F(ControlTest, TableFullIsENOMEM)
{
	for (unsigned i = 0; i < CONTROL_MAX_CACHES; i++)
		ASSERT_EQ(run("create t" + std::to_string(i) + " 64"), 0) << result();
	EXPECT_EQ(ctl_->tracked(), CONTROL_MAX_CACHES);
	EXPECT_EQ(run("create one-more 64"), ENOMEM_);
	EXPECT_EQ(
		result(),
		"error -12 (ENOMEM): create one-more: control already tracks its maximum of caches");
	EXPECT_EQ(cache("one-more"), nullptr);
	EXPECT_EQ(run("alloc kmalloc-64 1"), ENOMEM_);
	int err;
	EXPECT_EQ(ctl_->pin("kmalloc-64", &err), nullptr);
	EXPECT_EQ(err, ENOMEM_);
	/* Caches already tracked still work; freeing a slot lets the next one in. */
	EXPECT_EQ(run("alloc t0 10"), 0);
	EXPECT_EQ(run("destroy t1"), 0);
	EXPECT_EQ(run("alloc kmalloc-64 1"), 0);
	EXPECT_EQ(run("create one-more 64"), ENOMEM_);
	EXPECT_EQ(run("free kmalloc-64 1"), 0);
	EXPECT_EQ(run("create one-more 64"), 0);
}

/* The largest COUNT: a million 8-byte objects (kmalloc-8, 512 per slab: 1954 slabs, 7.6 MiB of 16). */
TEST_F(ControlTest, MaximumCount)
{
	EXPECT_EQ(run("kmalloc 8 1000000"), 0) << result();
	EXPECT_EQ(result(), "kmalloc 8: 1000000 objects held (1000000 total)");
	EXPECT_EQ(live_in_core(k_->slub(), cache("kmalloc-8")), 1000000u);
	EXPECT_EQ(ctl_->held_check(), 0);
	EXPECT_EQ(run("kfree-all"), 0);
	EXPECT_EQ(result(), "kfree-all: 1000000 objects freed");
	EXPECT_EQ(live_in_core(k_->slub(), cache("kmalloc-8")), 0u);
}

/* release_all() frees everything held and destroys what the executor created. */
TEST_F(ControlTest, ReleaseAll)
{
	for (const char *c :
	     {"create r1 100", "create r2 1024 align=64", "alloc r1 500", "alloc r2 70",
	      "alloc kmalloc-192 33", "kmalloc 1 7", "kmalloc 8192 9", "kmalloc 100000 2"})
		ASSERT_EQ(run(c), 0) << c << ": " << result();
	EXPECT_EQ(ctl_->held_total(), 500u + 70 + 33 + 7 + 9 + 2);
	EXPECT_EQ(ctl_->held_check(), 0);
	EXPECT_EQ(live_in_core(k_->slub(), cache("r1")), 500u);
	EXPECT_EQ(live_in_core(k_->slub(), cache("r2")), 70u);
	EXPECT_EQ(ctl_->release_all(), 0);
	EXPECT_EQ(result(), "release: everything freed");
	EXPECT_EQ(cache("r1"), nullptr);
	EXPECT_EQ(cache("r2"), nullptr);
	EXPECT_EQ(live_in_core(k_->slub(), cache("kmalloc-192")), 0u);
	EXPECT_EQ(live_in_core(k_->slub(), cache("kmalloc-8")), 0u);
	/* Usable again afterwards. */
	EXPECT_EQ(run("create r1 100"), 0);
	EXPECT_EQ(run("alloc r1 1"), 0);
}

/* A long random but valid session, with the core's count of live objects as the oracle. */
TEST_F(ControlTest, RandomSessionMatchesTheCore)
{
	uint64_t x = 12345;
	auto rnd = [&](uint64_t n) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		return x % n;
	};
	std::map<std::string, u64> shadow;
	u64 shadow_km = 0;
	const char *names[] = {"c0", "c1", "c2", "kmalloc-32", "kmalloc-1k"};
	for (int step = 0; step < 600; step++) {
		std::string nm = names[rnd(5)];
		bool user = nm[0] == 'c';
		int rc;
		switch (rnd(7)) {
		case 0: {
			bool existed = cache(nm.c_str()) != nullptr;
			rc = run("create " + nm + " " + std::to_string(8 + rnd(3000)));
			EXPECT_EQ(rc, existed ? EEXIST_ : 0) << result();
			break;
		}
		case 1: {
			bool existed = cache(nm.c_str()) != nullptr;
			u64 held = shadow[nm];
			rc = run("destroy " + nm);
			EXPECT_EQ(rc, !existed	      ? ENOENT_ :
				      (!user || held) ? EBUSY_ :
							0)
				<< result();
			if (rc == 0)
				shadow.erase(nm);
			break;
		}
		case 2: {
			u64 n = 1 + rnd(200);
			rc = run("alloc " + nm + " " + std::to_string(n));
			if (rc == 0)
				shadow[nm] += n;
			else
				EXPECT_EQ(rc, ENOENT_) << result();
			break;
		}
		case 3: {
			u64 n = 1 + rnd(150);
			rc = run("free " + nm + " " + std::to_string(n));
			if (rc == 0)
				shadow[nm] -= std::min(shadow[nm], n);
			break;
		}
		case 4: {
			u64 n = 1 + rnd(50);
			rc = run("kmalloc " + std::to_string(1 + rnd(20000)) + " " +
				 std::to_string(n));
			ASSERT_EQ(rc, 0) << result();
			shadow_km += n;
			break;
		}
		case 5:
			ASSERT_EQ(run("kfree-all"), 0);
			shadow_km = 0;
			break;
		case 6:
			rc = run((rnd(2) ? "validate " : "shrink ") + nm);
			if (rc == 0 && result().find("validate") == 0)
				EXPECT_EQ(result(), "validate " + nm + ": 0 errors");
			break;
		}
		for (auto &e : shadow) {
			Cache *s = cache(e.first.c_str());
			EXPECT_EQ(ctl_->held(e.first.c_str()), e.second) << e.first;
			if (s && e.first[0] == 'c')
				ASSERT_EQ(live_in_core(k_->slub(), s), e.second)
					<< e.first << " at step " << step;
		}
		ASSERT_EQ(ctl_->held_kmalloc(), shadow_km);
	}
	EXPECT_EQ(ctl_->held_check(), 0);
}

} // namespace
