// SPDX-License-Identifier: GPL-2.0-only
/*
 * The buddy page allocator on its own, driven through the core
 * (BuddyAllocator<UserPlatform>) over a 16 MiB pool that the test maps.
 *
 * The pool, worked out by hand once for every test below:
 *   16 MiB = 4096 pages of 4 KiB = 4 top blocks of 4 MiB (order 10).
 *   Descriptors: 4096 pages * 64 bytes = 262144 bytes, plus the top-block map:
 *   roundup_pow_of_two(2 * 4 blocks) = 8 slots of 16 bytes = 128 bytes;
 *   262272 bytes is 64 pages and 128 bytes, so 65 pages are reserved at the
 *   start of the first region (pages 0..64).
 *   The rest of the first top block, pages 65..1023 (959 pages), is cut into
 *   maximal aligned blocks:
 *     65 (order 0), 66-67 (1), 68-71 (2), 72-79 (3), 80-95 (4), 96-127 (5),
 *     128-255 (7), 256-511 (8), 512-1023 (9)
 *   1 + 2 + 4 + 8 + 16 + 32 + 128 + 256 + 512 = 959; nothing at order 6,
 *   because the order-5 block 96-127 ends on the 128-page boundary.
 *   One node: node 0 holds those nine pieces and 3 whole top blocks.
 *   Two nodes (8 MiB each): node 0 holds the nine pieces and 1 top block,
 *   node 1 holds 2 top blocks and nothing else.
 */
#include "slub/slub.h"

#include "user_platform.h"
#include "test_util.h"

#include <sys/mman.h>

#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace {

using Buddy = kslub::BuddyAllocator<kslub::UserPlatform>;
using kslub::MAX_ORDER;
using kslub::NUMA_NO_NODE;
using kslub::Page;
using kslub_test::kEFAULT;
using kslub_test::kEINVAL;

constexpr size_t kPoolBytes = size_t(16) << 20;
constexpr uint64_t kPoolPages = 4096;
constexpr uint64_t kReservedPages = 65;
constexpr size_t kPage = 4096;
constexpr size_t kTopBlock = size_t(4) << 20;
constexpr unsigned kMaxNodes = kslub::MAX_NODES;

/* Free blocks per node and order, as the hand-worked layout above says. */
using FreeTable = std::vector<std::vector<uint64_t>>; /* [node][order] */

FreeTable fresh_layout(unsigned nr_nodes)
{
	FreeTable t(kMaxNodes, std::vector<uint64_t>(MAX_ORDER, 0));
	for (unsigned o : {0u, 1u, 2u, 3u, 4u, 5u, 7u, 8u, 9u})
		t[0][o] = 1;
	if (nr_nodes == 1) {
		t[0][10] = 3;
	} else {
		t[0][10] = 1;
		t[1][10] = 2;
	}
	return t;
}

struct SeenBuddyReport {
	kslub::ReportKind kind;
	std::string what;
	const void *ptr;
};

/* A pool of kPoolBytes split evenly over nr_nodes nodes, 2 CPUs, deterministic CPU choice. */
class Pool {
public:
	explicit Pool(unsigned nr_nodes) : nr_nodes_(nr_nodes), pal_(2, nr_nodes, true)
	{
		map_bytes_ = kPoolBytes + kTopBlock;
		map_ = mmap(nullptr, map_bytes_, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map_ == MAP_FAILED) {
			map_ = nullptr;
			return;
		}
		base_ = (uintptr_t(map_) + kTopBlock - 1) & ~uintptr_t(kTopBlock - 1);
		size_t per_node = kPoolBytes / nr_nodes;
		for (unsigned n = 0; n < nr_nodes; n++)
			regions_.push_back(kslub::RegionDesc{
				reinterpret_cast<void *>(base_ + n * per_node), per_node, int(n)});
		pal_.set_reporter(&Pool::record, this);
		buddy_.reset(new Buddy(pal_));
		init_rc_ = buddy_->init(regions_.data(), unsigned(regions_.size()));
	}
	~Pool()
	{
		buddy_.reset();
		if (map_) {
			kslub::UserPlatform::unpoison(map_, map_bytes_);
			munmap(map_, map_bytes_);
		}
	}

	bool ok() const { return map_ && init_rc_ == 0; }
	Buddy &b() { return *buddy_; }
	kslub::UserPlatform &pal() { return pal_; }
	uintptr_t base() const { return base_; }
	uintptr_t node_base(unsigned node) const { return uintptr_t(regions_[node].base); }
	/* Node whose region holds the address. */
	int node_of(uintptr_t a) const
	{
		for (const auto &r : regions_)
			if (a >= uintptr_t(r.base) && a < uintptr_t(r.base) + r.bytes)
				return r.node;
		return -1;
	}
	FreeTable free_table() const
	{
		FreeTable t(kMaxNodes, std::vector<uint64_t>(MAX_ORDER, 0));
		for (unsigned n = 0; n < nr_nodes_; n++)
			for (unsigned o = 0; o < MAX_ORDER; o++)
				t[n][o] = buddy_->nr_free(int(n), o);
		return t;
	}
	unsigned nr_nodes() const { return nr_nodes_; }

	std::vector<SeenBuddyReport> reports;

private:
	static void record(void *arg, const kslub::Report &r)
	{
		static_cast<Pool *>(arg)->reports.push_back(
			SeenBuddyReport{r.kind, r.what ? r.what : "", r.ptr});
	}

	unsigned nr_nodes_;
	kslub::UserPlatform pal_;
	std::unique_ptr<Buddy> buddy_;
	std::vector<kslub::RegionDesc> regions_;
	void *map_ = nullptr;
	size_t map_bytes_ = 0;
	uintptr_t base_ = 0;
	int init_rc_ = -1;
};

std::string table_str(const FreeTable &t, unsigned nr_nodes)
{
	std::ostringstream o;
	for (unsigned n = 0; n < nr_nodes; n++) {
		o << "node " << n << ":";
		for (unsigned ord = 0; ord < MAX_ORDER; ord++)
			o << " " << t[n][ord];
		o << "\n";
	}
	return o.str();
}

::testing::AssertionResult table_is(Pool &p, const FreeTable &want)
{
	FreeTable got = p.free_table();
	if (got == want)
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure() << "nr_free differs; got\n"
					     << table_str(got, p.nr_nodes()) << "expected\n"
					     << table_str(want, p.nr_nodes());
}

void *addr_of(Pool &p, Page *pg)
{
	return p.b().page_address(pg);
}

/* ------------------------------------------------------------------------- */

TEST(BuddyLayout, FreshPoolMatchesTheHandWorkedLayout)
{
	for (unsigned nodes : {1u, 2u}) {
		SCOPED_TRACE(nodes);
		Pool p(nodes);
		ASSERT_TRUE(p.ok());
		EXPECT_EQ(p.b().pool_pages(), kPoolPages);
		EXPECT_EQ(p.b().reserved_pages(), kReservedPages);
		/* 4096 - 65 = 4031 pages handed to the free lists. */
		EXPECT_EQ(p.b().managed_pages(), 4031u);
		EXPECT_EQ(p.b().free_page_count(), 4031u);
		EXPECT_EQ(p.b().nr_nodes(), nodes);
		EXPECT_TRUE(table_is(p, fresh_layout(nodes)));
		EXPECT_EQ(p.b().check(), 0);
		EXPECT_TRUE(p.reports.empty());
	}
}

/*
 * Node 1 of the two-node pool holds only two top blocks. An order-0 request
 * there takes the first top block (node 1's base) and splits it ten times,
 * keeping the lower half each time: the upper halves at pages 512, 256, ...,
 * 2, 1 of the block become one free block at each of orders 9..0.
 */
TEST(BuddySplit, OrderZeroFromAWholeTopBlockLeavesOneBlockPerLowerOrder)
{
	Pool p(2);
	ASSERT_TRUE(p.ok());
	FreeTable want = fresh_layout(2);

	Page *a = p.b().alloc_pages(0, 1, kslub::GFP_THISNODE);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(uintptr_t(addr_of(p, a)), p.node_base(1));
	want[1][10] = 1;
	for (unsigned o = 0; o <= 9; o++)
		want[1][o] = 1;
	EXPECT_TRUE(table_is(p, want));
	EXPECT_EQ(p.b().check(), 0);

	/* The next order-0 request takes the order-0 piece: page 1 of the block, no split. */
	Page *b = p.b().alloc_pages(0, 1, kslub::GFP_THISNODE);
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(uintptr_t(addr_of(p, b)), p.node_base(1) + kPage);
	want[1][0] = 0;
	EXPECT_TRUE(table_is(p, want));

	/* Merge: page 1 goes back alone (its buddy, page 0, is in use) ... */
	EXPECT_EQ(p.b().free_pages_addr(addr_of(p, b), 0), 0);
	want[1][0] = 1;
	EXPECT_TRUE(table_is(p, want));
	/* ... then page 0 merges with 1, with 2-3, 4-7, ... 512-1023: one top block again. */
	EXPECT_EQ(p.b().free_pages_addr(addr_of(p, a), 0), 0);
	EXPECT_TRUE(table_is(p, fresh_layout(2)));
	EXPECT_EQ(p.b().check(), 0);
	EXPECT_TRUE(p.reports.empty());
}

/*
 * Node 0 still has the pieces around the reserved pages, and the smallest
 * fitting block wins: order 0 takes page 65 without a split; order 6 finds
 * no order-6 block, takes the order-7 block at page 128 and gives back its
 * upper half (page 192) as an order-6 block.
 */
TEST(BuddySplit, SmallestFittingBlockAroundTheReservedPages)
{
	Pool p(1);
	ASSERT_TRUE(p.ok());
	FreeTable want = fresh_layout(1);

	Page *a = p.b().alloc_pages(0, 0, 0);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(uintptr_t(addr_of(p, a)), p.base() + 65 * kPage);
	want[0][0] = 0;
	EXPECT_TRUE(table_is(p, want));

	Page *b = p.b().alloc_pages(6, 0, 0);
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(uintptr_t(addr_of(p, b)), p.base() + 128 * kPage);
	want[0][7] = 0;
	want[0][6] = 1;
	EXPECT_TRUE(table_is(p, want));
	EXPECT_EQ(p.b().check(), 0);
	EXPECT_EQ(p.b().free_page_count(), 4031u - 1 - 64);

	/* Page 65's buddy is page 64, reserved: it goes back as the same order-0 piece. */
	EXPECT_EQ(p.b().free_pages(a, 0), 0);
	EXPECT_EQ(p.b().free_pages(b, 6), 0);
	EXPECT_TRUE(table_is(p, fresh_layout(1)));
	EXPECT_EQ(p.b().check(), 0);
	EXPECT_TRUE(p.reports.empty());
}

/* Without a node the CPU's node is preferred: CPU 1 is node 1 in the two-node pool (cpu * nodes / cpus). */
TEST(BuddySplit, NoNodeMeansTheCurrentCpusNodeAndFallsBackWithoutThisNode)
{
	Pool p(2);
	ASSERT_TRUE(p.ok());
	p.pal().set_current_cpu(1);
	Page *a = p.b().alloc_pages(10, NUMA_NO_NODE, 0);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(uintptr_t(addr_of(p, a)), p.node_base(1));
	Page *b = p.b().alloc_pages(10, NUMA_NO_NODE, 0);
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(uintptr_t(addr_of(p, b)), p.node_base(1) + kTopBlock);
	/* Node 1 is out of top blocks: GFP_THISNODE fails, without it node 0's top block is used. */
	EXPECT_EQ(p.b().alloc_pages(10, 1, kslub::GFP_THISNODE), nullptr);
	Page *c = p.b().alloc_pages(10, 1, 0);
	ASSERT_NE(c, nullptr);
	EXPECT_EQ(p.node_of(uintptr_t(addr_of(p, c))), 0);
	EXPECT_EQ(uintptr_t(addr_of(p, c)), p.node_base(0) + kTopBlock);
	/* No order-10 block anywhere now. */
	EXPECT_EQ(p.b().alloc_pages(10, NUMA_NO_NODE, 0), nullptr);
	EXPECT_EQ(p.b().check(), 0);
	for (Page *pg : {a, b, c})
		EXPECT_EQ(p.b().free_pages(pg, 10), 0);
	EXPECT_TRUE(table_is(p, fresh_layout(2)));
}

TEST(BuddyFailureInjection, ExactlyNFailuresThenSuccess)
{
	Pool p(1);
	ASSERT_TRUE(p.ok());
	p.b().fail_next(3);
	for (int i = 0; i < 3; i++) {
		EXPECT_EQ(p.b().alloc_pages(unsigned(i), NUMA_NO_NODE, 0), nullptr)
			<< "attempt " << i;
		/* A failed attempt leaves every list as it was. */
		EXPECT_TRUE(table_is(p, fresh_layout(1)));
	}
	EXPECT_EQ(p.b().injected_failures(), 3u);
	Page *a = p.b().alloc_pages(0, NUMA_NO_NODE, 0);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(uintptr_t(addr_of(p, a)), p.base() + 65 * kPage);
	EXPECT_EQ(p.b().injected_failures(), 3u);
	EXPECT_EQ(p.b().free_pages(a, 0), 0);

	/* fail_next(0) injects nothing. */
	p.b().fail_next(0);
	a = p.b().alloc_pages(3, NUMA_NO_NODE, 0);
	ASSERT_NE(a, nullptr);
	EXPECT_EQ(p.b().free_pages(a, 3), 0);
	EXPECT_EQ(p.b().injected_failures(), 3u);
	EXPECT_TRUE(table_is(p, fresh_layout(1)));
	EXPECT_EQ(p.b().check(), 0);
	EXPECT_TRUE(p.reports.empty());
}

/* ------------------------------------------------------------------------- */
/* Misuse: each is reported once, refused, and changes nothing. */

class BuddyMisuse : public ::testing::Test {
protected:
	void SetUp() override
	{
		pool_.reset(new Pool(2));
		ASSERT_TRUE(pool_->ok());
	}
	Pool &p() { return *pool_; }
	/* The call returns rc, makes exactly one report of `kind`, and leaves everything as it was. */
	void expect_refused(int got_rc, int want_rc, kslub::ReportKind kind, const char *what,
			    const FreeTable &before, size_t reports_before)
	{
		EXPECT_EQ(got_rc, want_rc);
		ASSERT_EQ(p().reports.size(), reports_before + 1);
		EXPECT_EQ(p().reports.back().kind, kind);
		EXPECT_EQ(p().reports.back().what, what);
		EXPECT_TRUE(table_is(p(), before));
		EXPECT_EQ(p().b().check(), 0);
		/* check() itself reports nothing. */
		EXPECT_EQ(p().reports.size(), reports_before + 1);
	}
	std::unique_ptr<Pool> pool_;
};

TEST_F(BuddyMisuse, DoubleFreeOfAMergedBlock)
{
	/* Node 1, order 0: node 1's base, the top block split down to order 0. */
	Page *a = p().b().alloc_pages(0, 1, kslub::GFP_THISNODE);
	ASSERT_NE(a, nullptr);
	void *addr = addr_of(p(), a);
	ASSERT_EQ(p().b().free_pages_addr(addr, 0), 0);
	/* It merged back into the top block it heads: that block is free. */
	FreeTable before = p().free_table();
	expect_refused(p().b().free_pages_addr(addr, 0), kEINVAL, kslub::ReportKind::DoubleFree,
		       "pages already free", before, 0);
}

TEST_F(BuddyMisuse, DoubleFreeOfAnUnmergedBlockAndOfAPageInsideAMergedOne)
{
	Page *a = p().b().alloc_pages(0, 1, kslub::GFP_THISNODE); /* page 0 of node 1 */
	Page *b = p().b().alloc_pages(0, 1, kslub::GFP_THISNODE); /* page 1 */
	ASSERT_NE(a, nullptr);
	ASSERT_NE(b, nullptr);
	void *baddr = addr_of(p(), b);
	/* Page 1 cannot merge (page 0 is in use): it is a free order-0 block of its own. */
	ASSERT_EQ(p().b().free_pages_addr(baddr, 0), 0);
	FreeTable before = p().free_table();
	expect_refused(p().b().free_pages_addr(baddr, 0), kEINVAL, kslub::ReportKind::DoubleFree,
		       "pages already free", before, 0);
	/* Now page 0 goes back and everything merges into a top block headed by page 0. */
	ASSERT_EQ(p().b().free_pages(a, 0), 0);
	before = p().free_table();
	EXPECT_TRUE(table_is(p(), fresh_layout(2)));
	/* Page 1 is now the inside of a free block: not the head of anything. */
	expect_refused(p().b().free_pages_addr(baddr, 0), kEINVAL, kslub::ReportKind::InvalidFree,
		       "not the first page of an allocated block", before, 1);
}

TEST_F(BuddyMisuse, MisalignedFrees)
{
	Page *a = p().b().alloc_pages(2, 1, kslub::GFP_THISNODE); /* pages 0-3 of node 1 */
	ASSERT_NE(a, nullptr);
	uintptr_t addr = uintptr_t(addr_of(p(), a));
	FreeTable before = p().free_table();
	/* Not page aligned. */
	expect_refused(p().b().free_pages_addr(reinterpret_cast<void *>(addr + 100), 2), kEINVAL,
		       kslub::ReportKind::InvalidFree, "address is not aligned to the order freed",
		       before, 0);
	/* Page 1 is not aligned to order 2. */
	expect_refused(p().b().free_pages_addr(reinterpret_cast<void *>(addr + kPage), 2), kEINVAL,
		       kslub::ReportKind::InvalidFree, "address is not aligned to the order freed",
		       before, 1);
	/* Page 2 is aligned to order 1 but is a tail page of the order-2 block. */
	expect_refused(p().b().free_pages_addr(reinterpret_cast<void *>(addr + 2 * kPage), 1),
		       kEINVAL, kslub::ReportKind::InvalidFree,
		       "not the first page of an allocated block", before, 2);
	/* An order beyond the largest. */
	expect_refused(p().b().free_pages_addr(reinterpret_cast<void *>(addr), MAX_ORDER), kEINVAL,
		       kslub::ReportKind::InvalidFree, "address is not aligned to the order freed",
		       before, 3);
	EXPECT_EQ(p().b().free_pages(a, 2), 0);
	EXPECT_TRUE(table_is(p(), fresh_layout(2)));
}

TEST_F(BuddyMisuse, WrongOrderFree)
{
	Page *a = p().b().alloc_pages(2, 1, kslub::GFP_THISNODE);
	ASSERT_NE(a, nullptr);
	FreeTable before = p().free_table();
	expect_refused(p().b().free_pages_addr(addr_of(p(), a), 1), kEINVAL,
		       kslub::ReportKind::InvalidFree, "freed with an order other than allocated",
		       before, 0);
	/* Node 1's base is aligned to every order, so order 3 passes the alignment test and fails the same way. */
	expect_refused(p().b().free_pages_addr(addr_of(p(), a), 3), kEINVAL,
		       kslub::ReportKind::InvalidFree, "freed with an order other than allocated",
		       before, 1);
	EXPECT_EQ(p().b().free_pages_addr(addr_of(p(), a), 2), 0);
	EXPECT_TRUE(table_is(p(), fresh_layout(2)));
}

TEST_F(BuddyMisuse, ForeignPointers)
{
	FreeTable before = p().free_table();
	int on_stack = 0;
	expect_refused(p().b().free_pages_addr(&on_stack, 0), kEFAULT,
		       kslub::ReportKind::InvalidFree, "address is not in the page pool", before,
		       0);
	std::unique_ptr<char[]> heap(new char[64]);
	expect_refused(p().b().free_pages_addr(heap.get(), 0), kEFAULT,
		       kslub::ReportKind::InvalidFree, "address is not in the page pool", before,
		       1);
	/* Just past the pool: its top block is not in the map. */
	expect_refused(p().b().free_pages_addr(reinterpret_cast<void *>(p().base() + kPoolBytes),
					       0),
		       kEFAULT, kslub::ReportKind::InvalidFree, "address is not in the page pool",
		       before, 2);
	/* Page 0 of the pool holds descriptors: reserved, never allocated. */
	expect_refused(p().b().free_pages_addr(reinterpret_cast<void *>(p().base()), 0), kEINVAL,
		       kslub::ReportKind::InvalidFree, "not the first page of an allocated block",
		       before, 3);
}

/* ------------------------------------------------------------------------- */
/*
 * Random sequences. After every operation: check() finds nothing;
 * free + used + reserved == 4096 pages (used tracked here); no two live
 * blocks overlap; every block is aligned to its order and lies in the node
 * the preferred-then-next rule names; an allocation changes the free lists
 * exactly as taking the smallest fitting block and splitting it does; a
 * free adds exactly its 2^order pages. Freeing everything restores the
 * hand-worked fresh layout.
 */
struct RandomCase {
	unsigned nodes;
	uint64_t seed;
};

void PrintTo(const RandomCase &c, std::ostream *os)
{
	*os << c.nodes << " node(s), seed " << c.seed;
}

class BuddyRandom : public ::testing::TestWithParam<RandomCase> {};

struct LiveBlock {
	Page *page;
	unsigned order;
};

TEST_P(BuddyRandom, InvariantsHoldAfterEveryOperation)
{
	const RandomCase rc = GetParam();
	Pool p(rc.nodes);
	ASSERT_TRUE(p.ok());
	Buddy &b = p.b();
	std::mt19937_64 rng(rc.seed);
	std::map<uintptr_t, LiveBlock> live; /* by start address */
	uint64_t used = 0;
	unsigned allocs = 0, failures = 0, frees = 0;

	auto free_one = [&](std::map<uintptr_t, LiveBlock>::iterator it) {
		uint64_t free_before = b.free_page_count();
		int r = (rng() & 1) ? b.free_pages_addr(reinterpret_cast<void *>(it->first),
							it->second.order) :
				      b.free_pages(it->second.page, it->second.order);
		ASSERT_EQ(r, 0);
		ASSERT_EQ(b.free_page_count(), free_before + (uint64_t(1) << it->second.order));
		used -= uint64_t(1) << it->second.order;
		live.erase(it);
		frees++;
	};

	for (unsigned step = 0; step < 2500; step++) {
		SCOPED_TRACE(step);
		if (live.empty() || rng() % 100 < 55) {
			/* Mostly small orders, with a fair share of big ones to exhaust the pool now and then. */
			unsigned order = (rng() % 3 == 0) ? unsigned(rng() % MAX_ORDER) :
							    unsigned(rng() % 4);
			unsigned cpu = unsigned(rng() % 2);
			int node = int(rng() % (rc.nodes + 1)) - 1; /* -1 .. nodes-1 */
			unsigned gfp = (node >= 0 && (rng() & 1)) ? kslub::GFP_THISNODE : 0u;
			p.pal().set_current_cpu(cpu);

			FreeTable before = p.free_table();
			/* Where the block must come from: the preferred node, then the next ones in turn. */
			int pref = node >= 0 ? node : int(cpu * rc.nodes / 2);
			int want_node = -1;
			unsigned want_from = 0;
			for (unsigned i = 0; i < rc.nodes && want_node < 0; i++) {
				int n = int((unsigned(pref) + i) % rc.nodes);
				if (i && gfp)
					break;
				for (unsigned o = order; o < MAX_ORDER; o++)
					if (before[n][o]) {
						want_node = n;
						want_from = o;
						break;
					}
			}

			Page *pg = b.alloc_pages(order, node, gfp);
			if (!pg) {
				ASSERT_EQ(want_node, -1) << "allocation of order " << order
							 << " failed with a block free";
				failures++;
				ASSERT_TRUE(table_is(p, before));
			} else {
				ASSERT_NE(want_node, -1);
				uintptr_t a = uintptr_t(b.page_address(pg));
				size_t bytes = kPage << order;
				ASSERT_EQ(a % bytes, 0u) << "order " << order;
				ASSERT_GE(a, p.base());
				ASSERT_LE(a + bytes, p.base() + kPoolBytes);
				ASSERT_EQ(p.node_of(a), want_node);
				/* No overlap with the neighbours on either side. */
				auto next = live.lower_bound(a);
				if (next != live.end())
					ASSERT_LE(a + bytes, next->first)
						<< "overlaps the block after it";
				if (next != live.begin()) {
					auto prev = std::prev(next);
					ASSERT_LE(prev->first + (kPage << prev->second.order), a)
						<< "overlaps the block before it";
				}
				/* Smallest fitting order taken, the upper halves back one per order below it. */
				FreeTable want = before;
				want[want_node][want_from]--;
				for (unsigned o = order; o < want_from; o++)
					want[want_node][o]++;
				ASSERT_TRUE(table_is(p, want));
				/* The block is ours to write (and not poisoned under ASan). */
				static_cast<volatile char *>(b.page_address(pg))[0] = 1;
				static_cast<volatile char *>(b.page_address(pg))[bytes - 1] = 2;
				live.emplace(a, LiveBlock{pg, order});
				used += uint64_t(1) << order;
				allocs++;
			}
		} else {
			auto it = live.begin();
			std::advance(it, long(rng() % live.size()));
			free_one(it);
			if (HasFatalFailure())
				return;
		}
		ASSERT_EQ(b.check(), 0);
		ASSERT_EQ(b.free_page_count() + used + b.reserved_pages(), b.pool_pages());
	}
	/* The mix really exercised every path. */
	EXPECT_GT(allocs, 500u);
	EXPECT_GT(failures, 0u);
	EXPECT_GT(frees, 500u);

	while (!live.empty()) {
		auto it = live.begin();
		std::advance(it, long(rng() % live.size()));
		free_one(it);
		if (HasFatalFailure())
			return;
		ASSERT_EQ(b.check(), 0);
		ASSERT_EQ(b.free_page_count() + used + b.reserved_pages(), b.pool_pages());
	}
	EXPECT_EQ(used, 0u);
	EXPECT_EQ(b.free_page_count(), kPoolPages - kReservedPages);
	/* One node: 3 top blocks; two nodes: 1 + 2; the nine pieces around the reserved pages as before. */
	EXPECT_TRUE(table_is(p, fresh_layout(rc.nodes)));
	EXPECT_TRUE(p.reports.empty());
}

INSTANTIATE_TEST_SUITE_P(Seeds, BuddyRandom,
			 ::testing::Values(RandomCase{1, 1}, RandomCase{1, 0x5eed},
					   RandomCase{1, 20240601}, RandomCase{2, 1},
					   RandomCase{2, 0x5eed}, RandomCase{2, 20240601}),
			 [](const ::testing::TestParamInfo<RandomCase> &info) {
				 return std::to_string(info.param.nodes) + "Nodes_Seed" +
					std::to_string(info.param.seed);
			 });

} // namespace

/*
 * virt_to_page: regions close together go through the direct table, regions
 * scattered over more than 64 times their size through the hash; both give
 * the k-th descriptor of a region for any address in its k-th page, and
 * nothing for an address between or beyond the regions.
 */
TEST(BuddyLookup, DirectTableAndScatteredRegions)
{
	for (size_t gap_blocks : {size_t(1), size_t(200)}) {
		const size_t span = (gap_blocks + 3) * kTopBlock;
		void *map = mmap(nullptr, span, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		ASSERT_NE(map, MAP_FAILED);
		uintptr_t first = (uintptr_t(map) + kTopBlock - 1) & ~uintptr_t(kTopBlock - 1);
		uintptr_t second = first + (1 + gap_blocks) * kTopBlock;
		kslub::RegionDesc regions[2] = {
			{reinterpret_cast<void *>(first), kTopBlock, 0},
			{reinterpret_cast<void *>(second), kTopBlock, 0},
		};
		{
			kslub::UserPlatform pal(2, 1, true);
			Buddy b(pal);
			ASSERT_EQ(b.init(regions, 2), 0);
			EXPECT_EQ(b.direct_lookup(), gap_blocks == 1) << "gap " << gap_blocks;
			for (unsigned r = 0; r < 2; r++) {
				uintptr_t base = r ? second : first;
				for (size_t k : {size_t(0), size_t(1), size_t(517), size_t(1023)}) {
					const void *a = reinterpret_cast<const void *>(
						base + k * 4096 + 17);
					EXPECT_EQ(b.virt_to_page(a), &b.region(r).map[k])
						<< "gap " << gap_blocks << " region " << r
						<< " page " << k;
				}
			}
			const uintptr_t outside[] = {first - 1, first + kTopBlock, second - 4096,
						     second + kTopBlock, 0};
			for (uintptr_t a : outside)
				EXPECT_EQ(b.virt_to_page(reinterpret_cast<const void *>(a)),
					  nullptr)
					<< "gap " << gap_blocks << " address " << std::hex << a;
		}
		kslub::UserPlatform::unpoison(map, span);
		munmap(map, span);
	}
}
