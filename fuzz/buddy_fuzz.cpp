// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target `buddy`: page allocator sequences (allocations of any
 * order on any node, frees in any order, failure injection) over an 8 MiB
 * pool of two nodes, with the invariants checked after every step: the
 * allocator's own walk finds nothing; free + allocated + reserved pages ==
 * pool pages; allocated blocks are aligned to their order and never overlap;
 * freeing everything merges the pool back to the layout it started with.
 */
#include "slub/slub.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <map>
#include <vector>

#include "fuzz_input.h"
#include "user_platform.h"

using namespace kslub;

namespace {

constexpr size_t POOL = 8u << 20;
unsigned long long executions;

[[noreturn]] void finding(const char *what, long a = 0, long b = 0)
{
	fprintf(stderr, "kslub-fuzz(buddy): FINDING: %s (%ld, %ld) (execution %llu)\n", what, a, b,
		executions);
	abort();
}

void on_report(void *, const Report &r)
{
	UserPlatform::print_report(stderr, r);
	finding("the page allocator reported a problem on valid use");
}

void *pool_memory()
{
	static void *base;
	if (!base) {
		/* At a fixed address where it can be had, so that fixed-seed runs repeat across processes. */
		void *want = reinterpret_cast<void *>(0x7e8000000000ull);
		void *m = mmap(want, POOL, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m != MAP_FAILED && m != want) {
			munmap(m, POOL);
			m = MAP_FAILED;
		}
		if (m == MAP_FAILED)
			m = mmap(nullptr, POOL + TOP_BLOCK_SIZE, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			finding("mmap failed");
		base = reinterpret_cast<void *>(align_up(uptr(m), TOP_BLOCK_SIZE));
	}
	return base;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	executions++;
	FuzzInput in(data, size);
	UserPlatform pal(2, 2, true);
	pal.set_reporter(on_report, nullptr);
	static BuddyAllocator<UserPlatform> *b;
	alignas(BuddyAllocator<UserPlatform>) static unsigned char
		storage[sizeof(BuddyAllocator<UserPlatform>)];
	b = new (storage, PlacementTag{}) BuddyAllocator<UserPlatform>(pal);
	u8 *base = static_cast<u8 *>(pool_memory());
	RegionDesc regions[2] = {{base, POOL / 2, 0}, {base + POOL / 2, POOL / 2, 1}};
	if (b->init(regions, 2))
		finding("init failed");
	u64 start_free[2][MAX_ORDER];
	for (int n = 0; n < 2; n++)
		for (unsigned o = 0; o < MAX_ORDER; o++)
			start_free[n][o] = b->nr_free(n, o);

	std::map<uptr, unsigned> live; /* address -> order */
	u64 used = 0;
	unsigned steps = 0;
	while (!in.empty() && steps++ < 3000) {
		uint8_t op = in.u8();
		if (op < 128) {
			unsigned order = in.below(MAX_ORDER);
			int node = int(in.below(3)) - 1;
			unsigned gfp = (op & 1) ? GFP_THISNODE : 0;
			Page *p = b->alloc_pages(order, node, gfp);
			if (!p)
				continue;
			uptr a = uptr(b->page_address(p));
			if (a % (PAGE_SIZE << order))
				finding("block not aligned to its order", long(a), order);
			auto next = live.lower_bound(a);
			if (next != live.end() && next->first < a + (PAGE_SIZE << order))
				finding("block overlaps a live block", long(a), order);
			if (next != live.begin()) {
				auto prev = std::prev(next);
				if (prev->first + (PAGE_SIZE << prev->second) > a)
					finding("block overlaps a live block", long(a), order);
			}
			live[a] = order;
			used += u64(1) << order;
		} else if (op < 240) {
			if (live.empty())
				continue;
			auto it = live.begin();
			std::advance(it, in.below(uint32_t(live.size())));
			if (b->free_pages_addr(reinterpret_cast<void *>(it->first), it->second))
				finding("free of a live block failed");
			used -= u64(1) << it->second;
			live.erase(it);
		} else {
			b->fail_next(in.below(4));
		}
		if (b->check())
			finding("page allocator walk found errors", steps);
		if (b->free_page_count() + used + b->reserved_pages() != b->pool_pages())
			finding("free + used + reserved differs from the pool",
				long(b->free_page_count()), long(used));
	}
	b->fail_next(0);
	for (auto &e : live)
		if (b->free_pages_addr(reinterpret_cast<void *>(e.first), e.second))
			finding("final free failed");
	for (int n = 0; n < 2; n++)
		for (unsigned o = 0; o < MAX_ORDER; o++)
			if (b->nr_free(n, o) != start_free[n][o])
				finding("freeing everything did not merge back to the start", n, o);
	return 0;
}
