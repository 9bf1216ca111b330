// SPDX-License-Identifier: GPL-2.0-only
/*
 * kmalloc, kfree and ksize over the size classes of slub/size_classes.h;
 * above KMALLOC_MAX_CACHE_SIZE, whole pages from the buddy allocator
 * (kmalloc_large).
 */
#ifndef KSLUB_SLUB_KMALLOC_H
#define KSLUB_SLUB_KMALLOC_H

#include "slub/object.h"

namespace kslub {

template <class P> void *Slub<P>::kmalloc_node(usize size, unsigned gfp, int node)
{
	void *p = do_kmalloc(size, gfp, node);
	if (pal_.tracing()) {
		Cache *s = kmalloc_slab(size);
		usize given = s ? s->size :
				  (p && size ? PAGE_SIZE << kmalloc_large_order(size) : 0);
		pal_.trace(TraceEvent{TraceKind::Kmalloc, s ? s->name : "", p,
				      uptr(__builtin_return_address(0)), size, given, gfp, node});
	}
	return p;
}

template <class P> void *Slub<P>::do_kmalloc(usize size, unsigned gfp, int node)
{
	if (!size)
		return zero_size_ptr();
	if (size <= KMALLOC_MAX_CACHE_SIZE)
		return alloc_object(kmalloc_caches_[kmalloc_index(size)], gfp, node);
	/* kmalloc_large(): whole pages, at most one top block. */
	if (size > TOP_BLOCK_SIZE) {
		if (gfp & GFP_NOFAIL_WARN)
			report(nullptr, ReportKind::BadArgument, nullptr,
			       "kmalloc size above the largest block", size);
		return nullptr;
	}
	unsigned order = kmalloc_large_order(size);
	Page *page = buddy_.alloc_pages(order, node, gfp);
	if (!page) {
		if (gfp & GFP_NOFAIL_WARN)
			report(nullptr, ReportKind::OutOfMemory, nullptr,
			       "unable to allocate pages", order);
		return nullptr;
	}
	buddy_.add_flags(page, PG_large);
	void *p = buddy_.page_address(page);
	if (gfp & GFP_ZERO) {
		u8 *b = static_cast<u8 *>(p);
		for (usize i = 0; i < (PAGE_SIZE << order); i++)
			b[i] = 0;
	}
	return p;
}

template <class P> int Slub<P>::kfree(const void *cp)
{
	void *p = const_cast<void *>(cp);
	if (zero_or_null_ptr(p))
		return 0;
	Page *page = buddy_.virt_to_page(p);
	if (pal_.tracing()) {
		Page *head = page ? BuddyAllocator<P>::compound_head(page) : nullptr;
		const char *name = head && (head->flags & PG_slab) ?
					   static_cast<Cache *>(head->slab_cache)->name :
					   "";
		pal_.trace(TraceEvent{TraceKind::Kfree, name, p, uptr(__builtin_return_address(0)),
				      0, 0, 0, NUMA_NO_NODE});
	}
	if (!page) {
		report(nullptr, ReportKind::InvalidFree, p, "pointer is not from this allocator");
		return -KSLUB_EFAULT;
	}
	Page *head = BuddyAllocator<P>::compound_head(page);
	if (head->flags & PG_slab) {
		Cache *s = static_cast<Cache *>(head->slab_cache);
		int err = object_check(s, head, p, true);
		if (!err && s == &boot_cache_ && cache_is_listed(pal_, caches_lock_, caches_, p)) {
			report(s, ReportKind::InvalidFree, p, CACHE_DESCRIPTOR_FREE);
			err = -KSLUB_EINVAL;
		}
		return err ? err : slab_free(s, head, p);
	}
	if ((head->flags & PG_large) && page == head && p == buddy_.page_address(head)) {
		buddy_.clear_flags(head, PG_large);
		return buddy_.free_pages(head, head->order);
	}
	if (head->flags & PG_buddy) {
		report(nullptr, ReportKind::DoubleFree, p, "pointer is in free pages");
		return -KSLUB_EINVAL;
	}
	report(nullptr, ReportKind::InvalidFree, p, "pointer is not the start of an allocation");
	return -KSLUB_EINVAL;
}

template <class P> usize Slub<P>::ksize(const void *p)
{
	if (zero_or_null_ptr(p))
		return 0;
	Page *page = buddy_.virt_to_page(p);
	if (!page)
		return 0;
	Page *head = BuddyAllocator<P>::compound_head(page);
	if (head->flags & PG_slab)
		return static_cast<Cache *>(head->slab_cache)->object_size;
	if (head->flags & PG_large)
		return PAGE_SIZE << head->order;
	return 0;
}

} // namespace kslub

#endif
