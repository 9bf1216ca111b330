// SPDX-License-Identifier: GPL-2.0-only
/*
 * Buddy page allocator over reserved regions.
 *
 * One zone per memory node, each with free_area[0..TOP_ORDER] (a list and a
 * count per order). Allocation takes the smallest order with a free block and
 * splits it, the upper halves going back on the lower lists (6.1's
 * __rmqueue_smallest and expand). Freeing merges with the buddy at
 * pfn ^ (1 << order) while that buddy is free and of the same order, then
 * files the block at the list head, or at the tail when the next-higher
 * buddy is free too (buddy_merge_likely).
 *
 * Regions are TOP_BLOCK_SIZE aligned and a whole number of top blocks, so a
 * buddy never lies outside its block's region or node. The page descriptors
 * and the top-block map live in the first pages of the first region, marked
 * PG_reserved. virt_to_page() is O(1): where the regions lie close together
 * (user space's one mapping, a guest's memory) a table with one entry per
 * top block of the address span between the lowest and the highest region
 * gives the descriptor of the block's first page, a subtraction, a compare
 * and a load; where they are scattered over a span more than 64 times their
 * size (top blocks taken one by one from a large machine's memory), a hash
 * of the top block gives its region.
 *
 * Locking: each zone's lock protects its free_area lists and counts and the
 * PG_buddy flag and order of the free blocks on them. Allocated pages belong
 * to their owner. Lock order: callers may hold a slab node list_lock.
 *
 * Invariants (check()): for every zone and order, |free_area[o]| == nr_free[o];
 *   sum(nr_free[o] << o) + allocated pages + reserved pages == pool pages;
 *   every free block is aligned to its order and overlaps no other block.
 */
#ifndef KSLUB_BUDDY_ALLOCATOR_H
#define KSLUB_BUDDY_ALLOCATOR_H

#include "base/base.h"
#include "buddy/page.h"

namespace kslub {

struct RegionDesc {
	void *base;
	usize bytes;
	int node;
};

constexpr unsigned MAX_REGIONS = 256;

template <class P> class BuddyAllocator {
public:
	struct FreeArea {
		ListHead list;
		u64 nr_free;
	};
	struct Zone {
		typename P::Spinlock lock;
		FreeArea free_area[MAX_ORDER];
		u64 managed_pages; /* pages of this node that the allocator hands out */
		bool present;
	};
	struct Region {
		uptr base;
		usize nr_pages;
		Page *map;
		u8 node;
	};

	explicit BuddyAllocator(P &pal) : pal_(pal) {}
	BuddyAllocator(const BuddyAllocator &) = delete;
	BuddyAllocator &operator=(const BuddyAllocator &) = delete;

	/* Take ownership of the regions. Returns 0 or -KSLUB_EINVAL / -KSLUB_ENOMEM. */
	int init(const RegionDesc *regions, unsigned nr);

	/* 2^order contiguous pages, preferring `node` (NUMA_NO_NODE: the current CPU's). */
	Page *alloc_pages(unsigned order, int node, unsigned gfp);
	/* Free a block given its head descriptor; reports and refuses a bad one. */
	int free_pages(Page *page, unsigned order);
	/* Free by address: foreign, misaligned and double frees are reported and refused. */
	int free_pages_addr(const void *addr, unsigned order);

	/* Descriptor of the page holding addr, or nullptr when addr is not in the pool. */
	Page *virt_to_page(const void *addr) const
	{
		uptr off = uptr(addr) - span_base_;
		if (__builtin_expect(direct_map_ != nullptr, 1)) {
			if (off >= span_bytes_)
				return nullptr;
			Page *first = direct_map_[off >> (TOP_ORDER + PAGE_SHIFT)];
			if (!first)
				return nullptr;
			return first + ((off >> PAGE_SHIFT) & ((uptr(1) << TOP_ORDER) - 1));
		}
		return virt_to_page_hashed(addr);
	}
	/* Which lookup init() chose: the direct table (true) or the hash. */
	bool direct_lookup() const { return direct_map_ != nullptr; }
	/* Descriptor of the first page of the block holding the page. */
	static Page *compound_head(Page *page)
	{
		return (page->flags & PG_tail) ? page - page->head_delta : page;
	}
	/*
	 * Page flags and order are read by whoever merges a neighbouring block
	 * (under the zone lock) while the owner of the page may be writing them
	 * (without it): every write of a published page and every read of a
	 * page the caller does not own go through the platform.
	 */
	u32 flags_of(const Page *page) const { return pal_.load(&page->flags); }
	void set_flags(Page *page, u32 flags) { pal_.store(&page->flags, flags); }
	void add_flags(Page *page, u32 f) { set_flags(page, flags_of(page) | f); }
	void clear_flags(Page *page, u32 f) { set_flags(page, flags_of(page) & ~f); }
	unsigned order_of(const Page *page) const { return pal_.load(&page->order); }
	void set_order(Page *page, unsigned order) { pal_.store(&page->order, u8(order)); }

	void *page_address(const Page *page) const
	{
		const Region &r = regions_[page->pad];
		return reinterpret_cast<void *>(r.base + (usize(page - r.map) << PAGE_SHIFT));
	}
	uptr page_to_pfn(const Page *page) const { return uptr(page_address(page)) >> PAGE_SHIFT; }

	/* Failure injection: the next n allocations fail. */
	void fail_next(unsigned n) { pal_.store(&fail_next_, u64(n)); }
	u64 injected_failures() const { return pal_.load(&injected_); }

	unsigned nr_nodes() const { return nr_nodes_; }
	bool node_present(int node) const
	{
		return node >= 0 && unsigned(node) < MAX_NODES && zones_[node].present;
	}
	u64 nr_free(int node, unsigned order) const
	{
		return pal_.load(&zones_[node].free_area[order].nr_free);
	}
	u64 free_page_count() const;
	u64 managed_pages() const;
	u64 pool_pages() const { return pool_pages_; }
	u64 reserved_pages() const { return reserved_pages_; }
	unsigned nr_regions() const { return nr_regions_; }
	const Region &region(unsigned i) const { return regions_[i]; }

	/* Walk every page and list; returns the number of inconsistencies found. */
	long check() const;

private:
	struct BlockMapEntry {
		uptr key; /* top block number + 1; 0 marks an empty slot */
		u32 region;
		u32 pad;
	};

	static u64 hash_block(uptr block) { return (block * 0x9e3779b97f4a7c15ull) >> 20; }
	Page *virt_to_page_hashed(const void *addr) const;
	Page *pfn_to_page_in_region(const Region &r, uptr pfn) const
	{
		return r.map + (pfn - (r.base >> PAGE_SHIFT));
	}
	void list_add_free(Zone &z, Page *page, unsigned order, bool tail);
	bool free_list_ok(const Zone &z, unsigned order) const;
	void list_del_free(Zone &z, Page *page, unsigned order);
	Page *rmqueue_smallest(Zone &z, unsigned order);
	bool merge_likely(const Region &r, uptr pfn, uptr buddy_pfn, unsigned order) const;
	void report(ReportKind k, const void *p, const char *what, u64 v) const
	{
		pal_.report(Report{k, nullptr, p, what, v});
	}

	P &pal_;
	Zone zones_[MAX_NODES];
	Region regions_[MAX_REGIONS];
	unsigned nr_regions_ = 0;
	unsigned nr_nodes_ = 0;
	BlockMapEntry *block_map_ = nullptr;
	u64 block_map_mask_ = 0;
	Page **direct_map_ = nullptr; /* first page of each top block of the span, or nullptr */
	uptr span_base_ = 0;
	uptr span_bytes_ = 0;
	u64 pool_pages_ = 0;
	u64 reserved_pages_ = 0;
	u64 fail_next_ = 0;
	u64 injected_ = 0;
};

template <class P> int BuddyAllocator<P>::init(const RegionDesc *regions, unsigned nr)
{
	if (nr == 0 || nr > MAX_REGIONS)
		return -KSLUB_EINVAL;
	u64 blocks = 0;
	for (unsigned i = 0; i < nr; i++) {
		uptr b = uptr(regions[i].base);
		if (!b || b % TOP_BLOCK_SIZE || !regions[i].bytes ||
		    regions[i].bytes % TOP_BLOCK_SIZE || regions[i].node < 0 ||
		    unsigned(regions[i].node) >= MAX_NODES)
			return -KSLUB_EINVAL;
		for (unsigned j = 0; j < i; j++) {
			uptr c = uptr(regions[j].base);
			if (b < c + regions[j].bytes && c < b + regions[i].bytes)
				return -KSLUB_EINVAL; /* overlap */
		}
		blocks += regions[i].bytes / TOP_BLOCK_SIZE;
	}
	uptr lo = uptr(regions[0].base), hi = lo + regions[0].bytes;
	for (unsigned i = 1; i < nr; i++) {
		lo = min(lo, uptr(regions[i].base));
		hi = max(hi, uptr(regions[i].base) + regions[i].bytes);
	}
	u64 span_blocks = (hi - lo) / TOP_BLOCK_SIZE;
	bool direct = span_blocks <= blocks * 64;
	u64 map_slots = direct ? 0 : roundup_pow_of_two(blocks * 2);
	pool_pages_ = blocks << TOP_ORDER;
	u64 meta_bytes = pool_pages_ * sizeof(Page) + map_slots * sizeof(BlockMapEntry) +
			 (direct ? span_blocks * sizeof(Page *) : 0);
	u64 meta_pages = align_up(meta_bytes, PAGE_SIZE) >> PAGE_SHIFT;
	if (meta_pages >= (regions[0].bytes >> PAGE_SHIFT))
		return -KSLUB_ENOMEM;

	u8 *meta = static_cast<u8 *>(regions[0].base);
	pal_.unpoison(meta, meta_pages << PAGE_SHIFT);
	mem_zero(meta, meta_pages << PAGE_SHIFT);
	Page *pages = reinterpret_cast<Page *>(meta);
	if (direct) {
		direct_map_ = reinterpret_cast<Page **>(meta + pool_pages_ * sizeof(Page));
		span_base_ = lo;
		span_bytes_ = hi - lo;
	} else {
		block_map_ = reinterpret_cast<BlockMapEntry *>(meta + pool_pages_ * sizeof(Page));
		block_map_mask_ = map_slots - 1;
	}
	reserved_pages_ = meta_pages;

	for (unsigned n = 0; n < MAX_NODES; n++) {
		Zone &z = zones_[n];
		pal_.spin_lock_init(z.lock, LockClass::BuddyZone);
		for (unsigned o = 0; o < MAX_ORDER; o++) {
			z.free_area[o].list.init();
			z.free_area[o].nr_free = 0;
		}
		z.managed_pages = 0;
		z.present = false;
	}

	nr_regions_ = nr;
	usize off = 0;
	for (unsigned i = 0; i < nr; i++) {
		Region &r = regions_[i];
		r.base = uptr(regions[i].base);
		r.nr_pages = regions[i].bytes >> PAGE_SHIFT;
		r.map = pages + off;
		r.node = u8(regions[i].node);
		off += r.nr_pages;
		zones_[r.node].present = true;
		if (unsigned(r.node) + 1 > nr_nodes_)
			nr_nodes_ = r.node + 1;
		for (usize p = 0; p < r.nr_pages; p++) {
			r.map[p].node = r.node;
			r.map[p].pad = u16(i);
		}
		for (uptr blk = r.base; blk < r.base + regions[i].bytes; blk += TOP_BLOCK_SIZE) {
			if (direct) {
				direct_map_[(blk - lo) / TOP_BLOCK_SIZE] =
					r.map + ((blk - r.base) >> PAGE_SHIFT);
				continue;
			}
			uptr key = (blk / TOP_BLOCK_SIZE) + 1;
			u64 h = hash_block(key) & block_map_mask_;
			while (block_map_[h].key)
				h = (h + 1) & block_map_mask_;
			block_map_[h].key = key;
			block_map_[h].region = i;
		}
	}

	/* Hand every page but the descriptors' to the free lists, in maximal aligned blocks. */
	for (unsigned i = 0; i < nr; i++) {
		Region &r = regions_[i];
		usize first = i == 0 ? meta_pages : 0;
		for (usize p = 0; p < first; p++)
			r.map[p].flags = PG_reserved;
		usize p = first;
		while (p < r.nr_pages) {
			unsigned order = TOP_ORDER;
			while ((p & ((usize(1) << order) - 1)) ||
			       p + (usize(1) << order) > r.nr_pages)
				order--;
			list_add_free(zones_[r.node], &r.map[p], order, true);
			zones_[r.node].managed_pages += usize(1) << order;
			pal_.poison_free(page_address(&r.map[p]), PAGE_SIZE << order);
			p += usize(1) << order;
		}
	}
	return 0;
}

template <class P> Page *BuddyAllocator<P>::virt_to_page_hashed(const void *addr) const
{
	uptr a = uptr(addr);
	uptr key = a / TOP_BLOCK_SIZE + 1;
	u64 h = hash_block(key) & block_map_mask_;
	if (!block_map_)
		return nullptr;
	for (;;) {
		const BlockMapEntry &e = block_map_[h];
		if (!e.key)
			return nullptr;
		if (e.key == key) {
			const Region &r = regions_[e.region];
			return r.map + ((a - r.base) >> PAGE_SHIFT);
		}
		h = (h + 1) & block_map_mask_;
	}
}

/*
 * The tier-3 walker of one free list, with the zone lock held: as long as
 * nr_free says, and every block on it is flagged free, of this order, of this
 * zone's node, and aligned to its size.
 */
template <class P> bool BuddyAllocator<P>::free_list_ok(const Zone &z, unsigned order) const
{
	const FreeArea &a = z.free_area[order];
	const u64 want = pal_.peek(&a.nr_free);
	const unsigned node = unsigned(&z - zones_);
	u64 count = 0;
	for (const ListHead *e = a.list.next; e != &a.list; e = e->next) {
		if (++count > want)
			return false;
		const Page *pg = KSLUB_CONTAINER_OF(const_cast<ListHead *>(e), Page, lru);
		if (!(pal_.peek(&pg->flags) & PG_buddy) || pal_.peek(&pg->order) != order ||
		    pg->node != node || (page_to_pfn(pg) & ((uptr(1) << order) - 1)))
			return false;
	}
	return count == want;
}

template <class P>
void BuddyAllocator<P>::list_add_free(Zone &z, Page *page, unsigned order, bool tail)
{
	set_flags(page, PG_buddy);
	set_order(page, order);
	if (tail)
		z.free_area[order].list.add_tail(&page->lru);
	else
		z.free_area[order].list.add(&page->lru);
	pal_.store(&z.free_area[order].nr_free, z.free_area[order].nr_free + 1);
	KSLUB_ASSERT_EXPENSIVE(pal_, free_list_ok(z, order));
}

template <class P> void BuddyAllocator<P>::list_del_free(Zone &z, Page *page, unsigned order)
{
	page->lru.del();
	clear_flags(page, PG_buddy);
	pal_.store(&z.free_area[order].nr_free, z.free_area[order].nr_free - 1);
	KSLUB_ASSERT_EXPENSIVE(pal_, free_list_ok(z, order));
}

template <class P> Page *BuddyAllocator<P>::rmqueue_smallest(Zone &z, unsigned order)
{
	for (unsigned o = order; o < MAX_ORDER; o++) {
		FreeArea &area = z.free_area[o];
		if (area.list.empty())
			continue;
		Page *page = KSLUB_CONTAINER_OF(area.list.next, Page, lru);
		list_del_free(z, page, o);
		/* expand(): give back the upper halves, largest first. */
		while (o > order) {
			o--;
			list_add_free(z, page + (usize(1) << o), o, false);
		}
		return page;
	}
	return nullptr;
}

template <class P> Page *BuddyAllocator<P>::alloc_pages(unsigned order, int node, unsigned gfp)
{
	if (order >= MAX_ORDER)
		return nullptr;
	for (;;) {
		u64 f = pal_.load(&fail_next_);
		if (!f)
			break;
		if (pal_.cas_u64(&fail_next_, f, f - 1)) {
			pal_.atomic_add(&injected_, 1);
			return nullptr;
		}
	}
	int pref = node;
	if (pref == NUMA_NO_NODE || !node_present(pref))
		pref = pal_.cpu_to_node(pal_.raw_cpu());
	if (!node_present(pref))
		pref = 0;
	Page *page = nullptr;
	for (unsigned i = 0; i < MAX_NODES && !page; i++) {
		int n = (pref + int(i)) % int(MAX_NODES);
		if (!zones_[n].present)
			continue;
		if (i && (gfp & GFP_THISNODE) && node != NUMA_NO_NODE)
			break;
		Zone &z = zones_[n];
		unsigned long flags = pal_.spin_lock_irqsave(z.lock);
		page = rmqueue_smallest(z, order);
		pal_.spin_unlock_irqrestore(z.lock, flags);
	}
	if (!page)
		return nullptr;
	set_flags(page, PG_head);
	set_order(page, order);
	page->slab_cache = nullptr;
	page->freelist = nullptr;
	page->counters = 0;
	page->next = nullptr;
	page->slabs = 0;
	for (usize i = 1; i < (usize(1) << order); i++) {
		set_flags(&page[i], PG_tail);
		page[i].head_delta = u32(i);
	}
	pal_.unpoison(page_address(page), PAGE_SIZE << order);
	return page;
}

template <class P>
bool BuddyAllocator<P>::merge_likely(const Region &r, uptr pfn, uptr buddy_pfn,
				     unsigned order) const
{
	if (order >= MAX_ORDER - 2)
		return false;
	uptr higher = buddy_pfn & pfn;
	uptr higher_buddy = higher ^ (uptr(1) << (order + 1));
	const Page *hb = pfn_to_page_in_region(r, higher_buddy);
	return (flags_of(hb) & PG_buddy) && order_of(hb) == order + 1;
}

template <class P> int BuddyAllocator<P>::free_pages(Page *page, unsigned order)
{
	if (page->flags & PG_buddy) {
		report(ReportKind::DoubleFree, page_address(page), "pages already free", order);
		return -KSLUB_EINVAL;
	}
	if (!(page->flags & PG_head) || (page->flags & (PG_tail | PG_reserved))) {
		report(ReportKind::InvalidFree, page_address(page),
		       "not the first page of an allocated block", order);
		return -KSLUB_EINVAL;
	}
	if (page->order != order) {
		report(ReportKind::InvalidFree, page_address(page),
		       "freed with an order other than allocated", order);
		return -KSLUB_EINVAL;
	}
	const Region &r = regions_[page->pad];
	pal_.poison_free(page_address(page), PAGE_SIZE << order);
	for (usize i = 1; i < (usize(1) << order); i++) {
		set_flags(&page[i], 0);
		page[i].head_delta = 0;
	}
	set_flags(page, 0);
	page->slab_cache = nullptr;

	Zone &z = zones_[r.node];
	uptr pfn = page_to_pfn(page);
	uptr buddy_pfn = pfn;
	unsigned long flags = pal_.spin_lock_irqsave(z.lock);
	while (order < TOP_ORDER) {
		buddy_pfn = pfn ^ (uptr(1) << order);
		Page *buddy = pfn_to_page_in_region(r, buddy_pfn);
		if (!(flags_of(buddy) & PG_buddy))
			break;
		if (order_of(buddy) != order)
			break;
		list_del_free(z, buddy, order_of(buddy));
		pfn &= buddy_pfn;
		order++;
	}
	Page *head = pfn_to_page_in_region(r, pfn);
	bool tail = order < TOP_ORDER && merge_likely(r, pfn, pfn ^ (uptr(1) << order), order);
	list_add_free(z, head, order, tail);
	pal_.spin_unlock_irqrestore(z.lock, flags);
	return 0;
}

template <class P> int BuddyAllocator<P>::free_pages_addr(const void *addr, unsigned order)
{
	Page *page = virt_to_page(addr);
	if (!page) {
		report(ReportKind::InvalidFree, addr, "address is not in the page pool", order);
		return -KSLUB_EFAULT;
	}
	if (order >= MAX_ORDER || (uptr(addr) & (PAGE_SIZE - 1)) ||
	    (page_to_pfn(page) & ((uptr(1) << order) - 1))) {
		report(ReportKind::InvalidFree, addr, "address is not aligned to the order freed",
		       order);
		return -KSLUB_EINVAL;
	}
	return free_pages(page, order);
}

template <class P> u64 BuddyAllocator<P>::free_page_count() const
{
	u64 n = 0;
	for (unsigned z = 0; z < MAX_NODES; z++)
		for (unsigned o = 0; o < MAX_ORDER; o++)
			n += pal_.load(&zones_[z].free_area[o].nr_free) << o;
	return n;
}

template <class P> u64 BuddyAllocator<P>::managed_pages() const
{
	u64 n = 0;
	for (unsigned z = 0; z < MAX_NODES; z++)
		n += zones_[z].managed_pages;
	return n;
}

template <class P> long BuddyAllocator<P>::check() const
{
	long errors = 0;
	u64 free_pages = 0, used_pages = 0, reserved = 0;
	for (unsigned i = 0; i < nr_regions_; i++) {
		const Region &r = regions_[i];
		usize p = 0;
		while (p < r.nr_pages) {
			const Page *pg = &r.map[p];
			if (pg->flags & PG_reserved) {
				reserved++;
				p++;
				continue;
			}
			if (pg->flags & (PG_buddy | PG_head)) {
				unsigned o = pg->order;
				usize n = usize(1) << o;
				if (o >= MAX_ORDER || (p & (n - 1)) || p + n > r.nr_pages) {
					report(ReportKind::BuddyCorrupt, page_address(pg),
					       "block misaligned or too large", o);
					errors++;
					p++;
					continue;
				}
				for (usize k = 1; k < n; k++) {
					u32 want = (pg->flags & PG_head) ? u32(PG_tail) : 0u;
					if ((r.map[p + k].flags & ~u32(0)) != want ||
					    (want && r.map[p + k].head_delta != k)) {
						report(ReportKind::BuddyCorrupt,
						       page_address(&r.map[p + k]),
						       "page inside a block has its own state", o);
						errors++;
						break;
					}
				}
				if (pg->flags & PG_buddy)
					free_pages += n;
				else
					used_pages += n;
				p += n;
				continue;
			}
			report(ReportKind::BuddyCorrupt, page_address(pg),
			       "page belongs to no block", pg->flags);
			errors++;
			p++;
		}
	}
	u64 listed = 0;
	for (unsigned z = 0; z < MAX_NODES; z++) {
		for (unsigned o = 0; o < MAX_ORDER; o++) {
			const FreeArea &a = zones_[z].free_area[o];
			u64 count = 0;
			for (const ListHead *e = a.list.next; e != &a.list && count <= pool_pages_;
			     e = e->next) {
				const Page *pg =
					KSLUB_CONTAINER_OF(const_cast<ListHead *>(e), Page, lru);
				if (!(pg->flags & PG_buddy) || pg->order != o || pg->node != z) {
					report(ReportKind::BuddyCorrupt, page_address(pg),
					       "free list holds a wrong block", o);
					errors++;
				}
				count++;
			}
			if (count != a.nr_free) {
				report(ReportKind::BuddyCorrupt, nullptr,
				       "free list length differs from nr_free", o);
				errors++;
			}
			listed += count << o;
		}
	}
	if (listed != free_pages) {
		report(ReportKind::BuddyCorrupt, nullptr,
		       "free pages on lists differ from free pages in the map", listed);
		errors++;
	}
	if (free_pages + used_pages + reserved != pool_pages_) {
		report(ReportKind::BuddyCorrupt, nullptr,
		       "free + used + reserved differs from the pool", pool_pages_);
		errors++;
	}
	return errors;
}

} // namespace kslub

#endif
