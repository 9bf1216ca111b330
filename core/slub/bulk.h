// SPDX-License-Identifier: GPL-2.0-only
/*
 * Bulk allocation and free: kmem_cache_alloc_bulk() (alloc_bulk) and
 * kmem_cache_free_bulk() (free_bulk), which checks every entry before it
 * frees any. Lock order: slub/cache.h.
 */
#ifndef KSLUB_SLUB_BULK_H
#define KSLUB_SLUB_BULK_H

#include "slub/object.h"

namespace kslub {

/*
 * The freeing half of kmem_cache_free_bulk() (build_detached_freelist): from
 * the end of the array, an object and the objects of its slab found before
 * it, looking past at most three objects of other slabs, become one chain:
 * link(o, head) puts o in front, free_chain(slab, head, tail, cnt) frees the
 * chain. With singly, every object is a chain of its own (debug caches).
 * Entries are cleared as they are taken. Returns the last error.
 */
template <class SlabOf, class Link, class FreeChain>
int bulk_free_chains(usize size, void **p, bool singly, SlabOf slab_of, Link link,
		     FreeChain free_chain)
{
	int result = 0;
	for (usize i = size; i-- > 0;) {
		void *object = p[i];
		if (!object)
			continue;
		p[i] = nullptr;
		Page *slab = slab_of(object);
		void *head = object;
		u32 cnt = 1;
		unsigned lookahead = singly ? 0 : 3;
		for (usize j = i; lookahead && j-- > 0;) {
			void *o = p[j];
			if (!o)
				continue;
			if (slab_of(o) == slab) {
				link(o, head);
				head = o;
				cnt++;
				p[j] = nullptr;
			} else {
				lookahead--;
			}
		}
		int err = free_chain(slab, head, object, cnt);
		if (err)
			result = err;
	}
	return result;
}

/*
 * The non-null entries of a bulk-free array as a set, read in address order
 * by free_bulk's checks. Normally sorted copies ("runs"): one on the stack
 * for a small array, else in blocks of the allocator's own pages, chained,
 * read together by a k-way merge. With no page to be had, the array itself,
 * read by selecting the next larger pointer each time (O(n^2)). The array is
 * never reordered or written.
 */
struct BulkRun {
	BulkRun *next;
	Page *page; /* the block holding this run; nullptr on the stack */
	uptr *v;
	usize n, pos;
};

/* Heapsort: O(n log n), no recursion, no memory. */
inline void bulk_sort(uptr *v, usize n)
{
	auto sift = [v](usize root, usize end) {
		for (;;) {
			usize child = 2 * root + 1;
			if (child >= end)
				return;
			if (child + 1 < end && v[child + 1] > v[child])
				child++;
			if (v[root] >= v[child])
				return;
			uptr t = v[root];
			v[root] = v[child];
			v[child] = t;
			root = child;
		}
	};
	for (usize i = n / 2; i-- > 0;)
		sift(i, n);
	for (usize end = n; end > 1; end--) {
		uptr t = v[0];
		v[0] = v[end - 1];
		v[end - 1] = t;
		sift(0, end - 1);
	}
}

struct BulkSet {
	BulkRun *runs; /* nullptr: read the array */
	void *const *arr;
	usize size;
	bool started = false;
	uptr last = 0;

	bool contains(uptr x) const
	{
		if (!runs) {
			for (usize i = 0; i < size; i++)
				if (uptr(arr[i]) == x)
					return true;
			return false;
		}
		for (const BulkRun *r = runs; r; r = r->next) {
			usize lo = 0, hi = r->n;
			while (lo < hi) {
				usize mid = lo + (hi - lo) / 2;
				if (r->v[mid] < x)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < r->n && r->v[lo] == x)
				return true;
		}
		return false;
	}

	/* The next value in address order and how many entries hold it; false at the end. */
	bool next(uptr *value, usize *count)
	{
		uptr best = 0;
		bool any = false;
		usize n = 0;
		if (!runs) {
			for (usize i = 0; i < size; i++) {
				uptr x = uptr(arr[i]);
				if (!x || (started && x <= last))
					continue;
				if (!any || x < best) {
					best = x;
					n = 0;
					any = true;
				}
				n += x == best;
			}
		} else {
			for (BulkRun *r = runs; r; r = r->next)
				if (r->pos < r->n && (!any || r->v[r->pos] < best)) {
					best = r->v[r->pos];
					any = true;
				}
			for (BulkRun *r = runs; any && r; r = r->next)
				while (r->pos < r->n && r->v[r->pos] == best) {
					r->pos++;
					n++;
				}
		}
		if (!any)
			return false;
		started = true;
		last = best;
		*value = best;
		*count = n;
		return true;
	}
};

/* Arrays up to this many entries are checked in a sorted copy on the stack. */
constexpr usize BULK_STACK_RUN = 64;

/*
 * kmem_cache_free_bulk(), all or nothing: every entry is checked before
 * anything is freed, and a refused call changes nothing, the array
 * included. In order, the first problem found is reported and returned:
 *   each entry in array order: not in a slab (-EFAULT), of another cache,
 *     not the start of an object, a listed cache descriptor, the head of its
 *     slab's freelist (hardened; -EINVAL);
 *   an object named twice (the lowest such address);
 *   the head of a CPU freelist (hardened; CPUs in order);
 *   per slab, in address order: an object already free (debug caches: the
 *     slab's freelist is walked), more objects named than the slab has in use.
 * The last three need the entries in address order: a sorted copy, on the
 * stack for up to BULK_STACK_RUN entries, else in scratch blocks from the
 * buddy allocator, given back before anything is freed. When no block can be
 * had (the pool exhausted) the array itself is read in order by selection:
 * the same verdicts in O(n^2).
 */
template <class P> int Slub<P>::free_bulk(Cache *s, usize size, void **p)
{
	usize live = 0;
	for (usize i = 0; i < size; i++) {
		if (!p[i])
			continue;
		Page *slab = virt_to_slab(p[i]);
		int err = object_check(s, slab, p[i], false);
		if (err)
			return err;
		if (s == &boot_cache_ && cache_is_listed(pal_, caches_lock_, caches_, p[i])) {
			report(s, ReportKind::InvalidFree, p[i], CACHE_DESCRIPTOR_FREE);
			return -KSLUB_EINVAL;
		}
		if constexpr (CONFIG_KSLUB_FREELIST_HARDENED) {
			if (!s->debug() && p[i] == pal_.load(&slab->freelist)) {
				report(s, ReportKind::DoubleFree, p[i],
				       "object is already the first free object of its slab");
				return -KSLUB_EINVAL;
			}
		}
		live++;
	}
	if (!live)
		return 0;

	/* The sorted copy. */
	uptr stack_v[BULK_STACK_RUN];
	BulkRun stack_run{nullptr, nullptr, stack_v, 0, 0};
	BulkRun *runs = nullptr;
	if (live <= BULK_STACK_RUN) {
		stack_run.n = live;
		runs = &stack_run;
	} else {
		BulkRun **tail = &runs;
		usize left = live;
		unsigned order =
			min(get_order(left * sizeof(uptr) + sizeof(BulkRun)), MAX_ORDER - 1);
		while (left) {
			Page *page = buddy_.alloc_pages(order, NUMA_NO_NODE, 0);
			if (!page && order) {
				order--;
				continue;
			}
			if (!page) {
				/* Not a single page: read the array instead. */
				while (runs) {
					BulkRun *r = runs;
					runs = r->next;
					buddy_.free_pages(r->page, r->page->order);
				}
				break;
			}
			BulkRun *r = static_cast<BulkRun *>(buddy_.page_address(page));
			usize cap = ((PAGE_SIZE << order) - sizeof(BulkRun)) / sizeof(uptr);
			*r = BulkRun{nullptr, page, reinterpret_cast<uptr *>(r + 1), min(cap, left),
				     0};
			*tail = r;
			tail = &r->next;
			left -= r->n;
			if (left)
				order = min(order,
					    get_order(left * sizeof(uptr) + sizeof(BulkRun)));
		}
	}
	if (runs) {
		BulkRun *r = runs;
		usize k = 0;
		for (usize i = 0; i < size; i++) {
			if (!p[i])
				continue;
			if (k == r->n) {
				r = r->next;
				k = 0;
			}
			r->v[k++] = uptr(p[i]);
		}
		for (r = runs; r; r = r->next)
			bulk_sort(r->v, r->n);
	}
	BulkSet set{runs, p, size};

	/* In address order: duplicates; per slab, objects already free and the count. */
	const void *dup = nullptr, *bad = nullptr;
	const char *bad_what = nullptr;
	u64 bad_value = 0;
	Page *cur = nullptr;
	usize cur_cnt = 0;
	auto end_slab = [&]() {
		if (!cur || bad)
			return;
		if (s->debug()) {
			/* The slab's freelist, as free_debug walks it, under the list lock. */
			Node *n = get_node(s, cur->node);
			unsigned long flags = pal_.spin_lock_irqsave(n->list_lock);
			u32 objects = cnt_of(cur).objects(), walked = 0;
			uptr lowest = 0;
			for (void *fp = pal_.load(&cur->freelist); fp && walked <= objects;
			     fp = get_fp(s, fp), walked++) {
				if (set.contains(uptr(fp)) && (!lowest || uptr(fp) < lowest))
					lowest = uptr(fp);
				if (!check_valid_pointer(s, cur, get_fp(s, fp)))
					break;
			}
			pal_.spin_unlock_irqrestore(n->list_lock, flags);
			if (lowest) {
				bad = reinterpret_cast<const void *>(lowest);
				bad_what = "object already free";
				return;
			}
		}
		u32 inuse = cnt_of(cur).inuse();
		if (cur_cnt > inuse) {
			bad = slab_address(cur);
			bad_what = "slab has fewer objects in use than are being freed";
			bad_value = inuse;
		}
	};
	uptr v;
	usize m;
	while (set.next(&v, &m)) {
		if (m > 1 && !dup)
			dup = reinterpret_cast<const void *>(v);
		Page *slab = virt_to_slab(reinterpret_cast<void *>(v));
		if (slab != cur) {
			end_slab();
			cur = slab;
			cur_cnt = 0;
		}
		cur_cnt += m;
	}
	end_slab();

	/* The heads of the CPU freelists. */
	const void *cpu_head = nullptr;
	u64 head_cpu = 0;
	if constexpr (CONFIG_KSLUB_FREELIST_HARDENED) {
		for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids() && !cpu_head; cpu++) {
			void *fl = pal_.load(&cpu_ptr(s, cpu)->freelist);
			if (fl && set.contains(uptr(fl))) {
				cpu_head = fl;
				head_cpu = cpu;
			}
		}
		/* The top of each CPU's main sheaf, as free_to_pcs checks it. */
		for (unsigned cpu = 0; s->has_sheaves() && cpu < pal_.nr_cpu_ids() && !cpu_head;
		     cpu++) {
			Pcs *pcs = pal_.per_cpu_ptr(s->cpu_sheaves, cpu);
			unsigned long flags = pal_.local_lock(pcs->lock);
			Sheaf *main = pal_.load(&pcs->main);
			u32 size = main ? pal_.load(&main->size) : 0;
			void *top = size ? pal_.load(&main->objects()[size - 1]) : nullptr;
			pal_.local_unlock(pcs->lock, flags);
			if (top && set.contains(uptr(top))) {
				cpu_head = top;
				head_cpu = cpu;
			}
		}
	}

	while (runs && runs->page) {
		BulkRun *r = runs;
		runs = r->next;
		buddy_.free_pages(r->page, r->page->order);
	}
	if (dup) {
		report(s, ReportKind::DoubleFree, dup, "object appears twice in a bulk free");
		return -KSLUB_EINVAL;
	}
	if (cpu_head) {
		report(s, ReportKind::DoubleFree, cpu_head,
		       "object is already the first free object", head_cpu);
		return -KSLUB_EINVAL;
	}
	if (bad) {
		report(s, ReportKind::DoubleFree, bad, bad_what, bad_value);
		return -KSLUB_EINVAL;
	}

	return free_bulk_unchecked(s, size, p);
}

/*
 * The freeing step of free_bulk(), for objects known to be good: this node's
 * objects to the main sheaf while it takes them (free_to_pcs_bulk), the rest
 * in chains to the layer below.
 */
template <class P> int Slub<P>::free_bulk_unchecked(Cache *s, usize size, void **p)
{
	if (s->has_sheaves() && !s->debug()) {
		int result = 0;
		for (usize i = 0; i < size; i++) {
			if (!p[i] || virt_to_slab(p[i])->node != numa_mem_id())
				continue;
			int err = 0;
			pal_.poison_free(p[i], s->object_size);
			if (!free_to_pcs(s, p[i], &err))
				break;
			if (err)
				result = err;
			p[i] = nullptr;
		}
		int err = free_bulk_chains(s, size, p);
		return err ? err : result;
	}
	return free_bulk_chains(s, size, p);
}

/* The chains of a bulk free, to the CPU slab's fast path or (7.x) to the slabs. */
template <class P> int Slub<P>::free_bulk_chains(Cache *s, usize size, void **p)
{
	return bulk_free_chains(
		size, p, s->debug(), [this](const void *o) { return virt_to_slab(o); },
		[this, s](void *o, void *head) {
			pal_.poison_free(o, s->object_size);
			set_fp(s, o, head);
		},
		[this, s](Page *slab, void *head, void *tail, u32 cnt) {
			if (s->debug())
				return free_debug(s, slab, head);
			pal_.poison_free(tail, s->object_size);
			if (!s->cpu_slabs)
				return slab_free_slow(s, slab, head, tail, cnt);
			return do_slab_free(s, slab, head, tail, cnt);
		});
}

/*
 * kmem_cache_alloc_bulk(): the main sheaf first where the cache has sheaves,
 * then the layer below. Returns n, or 0 with nothing kept.
 */
template <class P> int Slub<P>::alloc_bulk(Cache *s, unsigned gfp, usize size, void **p)
{
	usize i = 0;
	if (s->debug()) {
		for (; i < size; i++)
			if (!(p[i] = alloc_debug(s, gfp, NUMA_NO_NODE)))
				goto error;
	} else {
		if (s->has_sheaves())
			for (; i < size; i++)
				if (!(p[i] = alloc_from_pcs(s, gfp, NUMA_NO_NODE)))
					break;
		if (i < size)
			i += layer_alloc_bulk(s, gfp, size - i, p + i);
		if (i < size)
			goto error;
	}
	for (usize k = 0; k < size; k++)
		post_alloc(s, p[k], gfp);
	return int(size);
error:
	for (usize k = 0; k < i; k++)
		pal_.unpoison(p[k], s->object_size);
	/*
	 * Give back what we got as kmem_cache_free_bulk() would, without its
	 * checks: the objects are ours, and the checks' scratch pages are
	 * what just ran out.
	 */
	free_bulk_unchecked(s, i, p);
	return 0;
}

/*
 * The TID design's bulk allocation: pop the CPU freelist under the slot
 * lock, falling into the slow path when it runs dry. Returns how many it
 * got (fewer only when memory ran out).
 */
template <class P> usize Slub<P>::alloc_bulk_tid(Cache *s, unsigned gfp, usize size, void **p)
{
	usize i = 0;
	pal_.preempt_disable();
	Cpu *c = pal_.raw_cpu_ptr(s->cpu_slab);
	while (i < size) {
		unsigned long flags = pal_.slot_lock(c->lock);
		Page *slab = pal_.load(&c->slab);
		if (slab) {
			void *fl = slot_empty(c);
			while (i < size && fl) {
				p[i++] = fl;
				fl = get_fp(s, fl);
			}
			slot_fill(c, fl);
			pal_.store(&c->slab, slab);
		}
		pal_.slot_unlock(c->lock, flags);
		if (i == size)
			break;
		void *obj = slab_alloc_slow(s, gfp, NUMA_NO_NODE, c);
		c = pal_.raw_cpu_ptr(s->cpu_slab);
		if (!obj)
			break;
		p[i++] = obj;
	}
	pal_.preempt_enable();
	return i;
}

} // namespace kslub

#endif
