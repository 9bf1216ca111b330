// SPDX-License-Identifier: GPL-2.0-only
/* Free pointers, object checks and the two CAS primitives every path builds on. */
#ifndef KSLUB_SLUB_OBJECT_H
#define KSLUB_SLUB_OBJECT_H

#include "slub/cache.h"

namespace kslub {

/* Hardened free pointer: ptr ^ cache key ^ byte-swapped address of the slot holding it. */
template <class P> inline void *Slub<P>::freelist_ptr(const Cache *s, void *ptr, uptr slot) const
{
	if constexpr (CONFIG_KSLUB_FREELIST_HARDENED)
		return reinterpret_cast<void *>(uptr(ptr) ^ s->random ^ swab64(slot));
	else
		return (void)s, (void)slot, ptr;
}

template <class P> inline void *Slub<P>::get_fp(const Cache *s, void *obj) const
{
	void **slot = ptr_add<void *>(obj, s->offset);
	return freelist_ptr(s, pal_.read_fp(slot), uptr(slot));
}

template <class P> inline void *Slub<P>::get_fp_safe(const Cache *s, void *obj) const
{
	void **slot = ptr_add<void *>(obj, s->offset);
	return freelist_ptr(s, pal_.read_fp_racy(slot), uptr(slot));
}

template <class P> inline void Slub<P>::set_fp(const Cache *s, void *obj, void *fp) const
{
	void **slot = ptr_add<void *>(obj, s->offset);
	pal_.write_fp(slot, freelist_ptr(s, fp, uptr(slot)));
}

template <class P>
inline bool Slub<P>::check_valid_pointer(const Cache *s, const Page *slab, const void *p) const
{
	if (!p)
		return true;
	uptr off = uptr(p) - uptr(slab_address(slab));
	if (off >= uptr(cnt_of(slab).objects()) * s->size) /* also below the slab: wraps */
		return false;
	/* off / size by the reciprocal, exact for any offset inside a slab (< 2^32). */
	uptr index = uptr((unsigned __int128)off * s->size_reciprocal >> 64);
	return index * s->size == off;
}

template <class P>
void Slub<P>::report(Cache *s, ReportKind k, const void *p, const char *what, u64 v)
{
	if (s)
		pal_.atomic_add(&s->errors, 1);
	pal_.report(Report{k, s ? s->name : nullptr, p, what, v});
}

template <class P> Page *Slub<P>::virt_to_slab(const void *p) const
{
	Page *page = buddy_.virt_to_page(p);
	if (!page)
		return nullptr;
	page = BuddyAllocator<P>::compound_head(page);
	return (page->flags & PG_slab) ? page : nullptr;
}

/*
 * Is obj an object of slab that may be freed to s? Reports and returns
 * -errno when not. The checks need no lock: the slab cannot go away while
 * one of its objects is allocated, and a bad pointer is refused before any
 * state is touched.
 */
template <class P>
inline int Slub<P>::object_check(Cache *s, Page *slab, const void *obj, bool from_kfree)
{
	if (__builtin_expect(slab && (from_kfree || slab->slab_cache == s) &&
				     check_valid_pointer(s, slab, obj),
			     1))
		return 0;
	return object_refused(s, slab, obj, from_kfree);
}

/* object_check() found a problem: say which, and its errno. */
template <class P>
__attribute__((noinline, cold)) int Slub<P>::object_refused(Cache *s, Page *slab, const void *obj,
							    bool from_kfree)
{
	if (!slab) {
		report(s, ReportKind::InvalidFree, obj,
		       "pointer is not in a slab of this allocator");
		return -KSLUB_EFAULT;
	}
	if (!from_kfree && slab->slab_cache != s) {
		Cache *owner = static_cast<Cache *>(slab->slab_cache);
		report(s, ReportKind::WrongCache, obj,
		       owner ? owner->name : "object of another cache");
		return -KSLUB_EINVAL;
	}
	/* What is left: check_valid_pointer() refused it. */
	report(s, ReportKind::InvalidFree, obj, "pointer is not the start of an object");
	return -KSLUB_EINVAL;
}

/* cmpxchg_double_slab(): the only way a slab's {freelist, counters} changes after it is published. */
template <class P>
inline bool Slub<P>::cas_slab(Cache *s, Page *slab, void *old_fl, u64 old_cnt, void *new_fl,
			      u64 new_cnt)
{
	if (pal_.cas2(slab->pair(), Pair{old_fl, old_cnt}, Pair{new_fl, new_cnt}))
		return true;
	stat(s, CMPXCHG_DOUBLE_FAIL);
	pal_.cpu_relax();
	return false;
}

/*
 * Empty the slot: {freelist, tid} -> {NULL, next_tid}, returning the
 * freelist. Called with the slot lock held and c->slab already cleared, so a
 * racing fast path either committed before (its objects are in what we take)
 * or fails its CAS.
 */
template <class P> void *Slub<P>::slot_take(Cpu *c)
{
	KSLUB_ASSERT_INTERNAL(pal_, pal_.slot_is_locked(c->lock));
	for (;;) {
		u64 tid = pal_.load(&c->tid);
		void *fl = pal_.load(&c->freelist);
		if (pal_.cas2(reinterpret_cast<Pair *>(c), Pair{fl, tid},
			      Pair{nullptr, next_tid(tid)}))
			return fl;
		pal_.cpu_relax();
	}
}

/* Protocol step 3: clear c->slab, then take the freelist. Returns the freelist. */
template <class P> void *Slub<P>::slot_empty(Cpu *c)
{
	pal_.slot_unpublish(&c->slab, c->cpu);
	return slot_take(c);
}

/* Load an empty slot with a freelist, advancing the tid, before c->slab is set. */
template <class P> void Slub<P>::slot_fill(Cpu *c, void *freelist)
{
	KSLUB_ASSERT_INTERNAL(pal_, pal_.slot_is_locked(c->lock));
	for (;;) {
		u64 tid = pal_.load(&c->tid);
		void *cur = pal_.load(&c->freelist);
		KSLUB_ASSERT(pal_, cur == nullptr);
		if (pal_.cas2(reinterpret_cast<Pair *>(c), Pair{cur, tid},
			      Pair{freelist, next_tid(tid)}))
			return;
		pal_.cpu_relax();
	}
}

} // namespace kslub

#endif
