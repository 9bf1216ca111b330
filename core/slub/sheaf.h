// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sheaves (Linux 6.18 for caches that ask, 7.x for every cache): per-CPU
 * arrays of free objects in front of the slab layer, and per node a barn of
 * full and empty sheaves.
 *
 *   CPU:  main [o o o o . .]  <- allocations pop, frees push (under the CPU's lock)
 *         spare [o o o o o o] or empty or none
 *         rcu_free [o o . . . .]  kfree_rcu's objects, sent to call_rcu when full
 *   barn: full sheaves  (at most BARN_MAX_FULL)   empty sheaves (BARN_MAX_EMPTY)
 *   slab layer (slub/refill.h; under 6.18 the CPU slab and its TID fast path)
 *
 * An empty main is swapped with a non-empty spare, else exchanged for a
 * full sheaf of the barn, else refilled from the slab layer by bulk
 * allocation; a full main is swapped with a non-full spare, else exchanged
 * for an empty sheaf of the barn, else (barn full) the spare is flushed by
 * bulk free and becomes the main. The CPU's lock is only ever tried on the
 * allocation and free paths: whoever finds it held (an interrupt of the
 * holder, or another CPU working on this CPU's sheaves) goes to the slab
 * layer instead. Node-specific allocations whose object would come from
 * another node, and frees of objects of another node, bypass the sheaves.
 * The CPU's lock is never held while the slab layer or a sheaf's memory is
 * used; the barn lock nests in it. Behaviour read from mm/slub.c of 7.3.
 */
#ifndef KSLUB_SLUB_SHEAF_H
#define KSLUB_SLUB_SHEAF_H

#include "slub/object.h"

namespace kslub {

/* Objects a flush moves at a time, outside the CPU's lock (PCS_BATCH_MAX). */
constexpr u32 SHEAF_FLUSH_BATCH = 32;

/* Sheaf memory: a kmalloc block from the slab layer, never from sheaves. */
template <class P>
typename Slub<P>::Sheaf *Slub<P>::alloc_empty_sheaf(Cache *s, unsigned gfp, u32 capacity)
{
	usize bytes = sizeof(Sheaf) + usize(capacity) * sizeof(void *);
	void *mem = do_kmalloc(bytes, (gfp & ~(GFP_ZERO | GFP_NOFAIL_WARN)) | GFP_NO_SHEAVES,
			       NUMA_NO_NODE);
	if (!mem)
		return nullptr;
	if (bytes <= KMALLOC_MAX_CACHE_SIZE)
		pal_.atomic_add(&kmalloc_caches_[kmalloc_index(bytes)]->internal, 1);
	Sheaf *sheaf = new (mem, PlacementTag{}) Sheaf();
	sheaf->barn_list.next = sheaf->barn_list.prev = nullptr;
	sheaf->cache = s;
	sheaf->core = this;
	sheaf->size = 0;
	sheaf->capacity = capacity;
	sheaf->node = NUMA_NO_NODE;
	sheaf->nobarn = 0;
	stat(s, SHEAF_ALLOC);
	return sheaf;
}

template <class P> void Slub<P>::free_empty_sheaf(Cache *s, Sheaf *sheaf)
{
	KSLUB_ASSERT(pal_, sheaf->size == 0);
	stat(s, SHEAF_FREE);
	Page *page = BuddyAllocator<P>::compound_head(buddy_.virt_to_page(sheaf));
	if (page->flags & PG_slab) {
		Cache *kc = static_cast<Cache *>(page->slab_cache);
		pal_.atomic_add(&kc->internal, -1);
		free_nosheaves(kc, page, sheaf);
	} else {
		buddy_.clear_flags(page, PG_large);
		buddy_.free_pages(page, page->order);
	}
}

/* refill_sheaf(): fill to capacity from the slab layer; -ENOMEM if it came short. */
template <class P> int Slub<P>::refill_sheaf(Cache *s, Sheaf *sheaf, unsigned gfp)
{
	u32 size = pal_.load(&sheaf->size);
	usize want = sheaf->capacity - size;
	if (!want)
		return 0;
	usize got = layer_alloc_bulk(s, gfp & ~GFP_ZERO, want, sheaf->objects() + size);
	pal_.store(&sheaf->size, u32(size + got));
	stat_add(s, SHEAF_REFILL, got);
	return got < want ? -KSLUB_ENOMEM : 0;
}

/* sheaf_flush_unused(): every object of a sheaf nobody else sees back to the slabs. */
template <class P> void Slub<P>::sheaf_flush_unused(Cache *s, Sheaf *sheaf)
{
	u32 n = pal_.load(&sheaf->size);
	if (!n)
		return;
	layer_free_bulk(s, n, sheaf->objects());
	pal_.store(&sheaf->size, 0u);
	stat_add(s, SHEAF_FLUSH, n);
}

/*
 * sheaf_flush_main(): empty the current CPU's main sheaf in batches, each
 * copied out under the lock and freed outside it. try_only: give up if the
 * lock is held. Returns whether the main sheaf was seen empty.
 */
template <class P> bool Slub<P>::flush_main(Cache *s, bool try_only)
{
	void *batch[SHEAF_FLUSH_BATCH];
	for (;;) {
		Pcs *pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
		unsigned long flags;
		if (try_only) {
			if (!pal_.local_trylock(pcs->lock, &flags))
				return false;
		} else {
			flags = pal_.local_lock(pcs->lock);
		}
		u32 size;
		u32 n = take_batch(pal_.load(&pcs->main), batch, &size);
		pal_.local_unlock(pcs->lock, flags);
		if (!n)
			return true;
		layer_free_bulk(s, n, batch);
		stat_add(s, SHEAF_FLUSH, n);
		if (n == size)
			return true;
	}
}

/*
 * With the CPU's lock held: the top SHEAF_FLUSH_BATCH objects (or fewer) of
 * a sheaf into batch, off the sheaf. Returns how many; *size: what it held.
 */
template <class P> u32 Slub<P>::take_batch(Sheaf *sheaf, void **batch, u32 *size)
{
	*size = sheaf ? pal_.load(&sheaf->size) : 0;
	u32 n = *size < SHEAF_FLUSH_BATCH ? *size : SHEAF_FLUSH_BATCH;
	for (u32 i = 0; i < n; i++)
		batch[i] = pal_.load(&sheaf->objects()[*size - n + i]);
	if (n)
		pal_.store(&sheaf->size, *size - n);
	return n;
}

/*
 * The barn: a leaf lock; counts read without it only as hints. barn_pop and
 * barn_push work on one of its lists under that lock.
 */
template <class P> typename Slub<P>::Sheaf *Slub<P>::barn_pop(ListHead *list, u32 *nr)
{
	if (!pal_.load(nr))
		return nullptr;
	Sheaf *sheaf = KSLUB_CONTAINER_OF(pal_.load(&list->next), Sheaf, barn_list);
	list_del(pal_, &sheaf->barn_list);
	pal_.store(nr, pal_.load(nr) - 1);
	return sheaf;
}

template <class P> void Slub<P>::barn_push(ListHead *list, u32 *nr, Sheaf *sheaf)
{
	list_add(pal_, list, &sheaf->barn_list);
	pal_.store(nr, pal_.load(nr) + 1);
}

template <class P> typename Slub<P>::Sheaf *Slub<P>::barn_get_empty(Node *b)
{
	if (!pal_.load(&b->nr_empty))
		return nullptr;
	unsigned long flags = pal_.spin_lock_irqsave(b->barn_lock);
	Sheaf *sheaf = barn_pop(&b->sheaves_empty, &b->nr_empty);
	pal_.spin_unlock_irqrestore(b->barn_lock, flags);
	return sheaf;
}

template <class P> void Slub<P>::barn_put_empty(Node *b, Sheaf *sheaf)
{
	unsigned long flags = pal_.spin_lock_irqsave(b->barn_lock);
	barn_push(&b->sheaves_empty, &b->nr_empty, sheaf);
	pal_.spin_unlock_irqrestore(b->barn_lock, flags);
}

template <class P> void Slub<P>::barn_put_full(Node *b, Sheaf *sheaf)
{
	unsigned long flags = pal_.spin_lock_irqsave(b->barn_lock);
	barn_push(&b->sheaves_full, &b->nr_full, sheaf);
	pal_.spin_unlock_irqrestore(b->barn_lock, flags);
}

/* A full sheaf if there is one, else an empty one (prefill). */
template <class P> typename Slub<P>::Sheaf *Slub<P>::barn_get_full_or_empty(Node *b)
{
	if (!pal_.load(&b->nr_full) && !pal_.load(&b->nr_empty))
		return nullptr;
	unsigned long flags = pal_.spin_lock_irqsave(b->barn_lock);
	Sheaf *sheaf = barn_pop(&b->sheaves_full, &b->nr_full);
	if (!sheaf)
		sheaf = barn_pop(&b->sheaves_empty, &b->nr_empty);
	pal_.spin_unlock_irqrestore(b->barn_lock, flags);
	return sheaf;
}

/* An empty main for a full one of the barn; nullptr (nothing changed) if it has none. */
template <class P> typename Slub<P>::Sheaf *Slub<P>::barn_replace_empty(Node *b, Sheaf *empty)
{
	if (!pal_.load(&b->nr_full))
		return nullptr;
	unsigned long flags = pal_.spin_lock_irqsave(b->barn_lock);
	Sheaf *full = barn_pop(&b->sheaves_full, &b->nr_full);
	if (full)
		barn_push(&b->sheaves_empty, &b->nr_empty, empty);
	pal_.spin_unlock_irqrestore(b->barn_lock, flags);
	return full;
}

/*
 * A full main for an empty sheaf of the barn. nullptr with *why: -E2BIG when
 * the barn holds its maximum of full sheaves, -ENOMEM when it has no empty one.
 */
template <class P>
typename Slub<P>::Sheaf *Slub<P>::barn_replace_full(Node *b, Sheaf *full, int *why)
{
	*why = -KSLUB_E2BIG;
	if (pal_.load(&b->nr_full) >= BARN_MAX_FULL)
		return nullptr;
	*why = -KSLUB_ENOMEM;
	if (!pal_.load(&b->nr_empty))
		return nullptr;
	Sheaf *empty = nullptr;
	unsigned long flags = pal_.spin_lock_irqsave(b->barn_lock);
	if (pal_.load(&b->nr_full) >= BARN_MAX_FULL) {
		*why = -KSLUB_E2BIG;
	} else {
		empty = barn_pop(&b->sheaves_empty, &b->nr_empty);
		if (empty)
			barn_push(&b->sheaves_full, &b->nr_full, full);
	}
	pal_.spin_unlock_irqrestore(b->barn_lock, flags);
	return empty;
}

/* barn_shrink(): flush and free every sheaf of the barn. */
template <class P> void Slub<P>::barn_shrink(Cache *s, Node *b)
{
	ListHead full, empty;
	full.init();
	empty.init();
	unsigned long flags = pal_.spin_lock_irqsave(b->barn_lock);
	full.splice(&b->sheaves_full);
	empty.splice(&b->sheaves_empty);
	pal_.store(&b->nr_full, 0u);
	pal_.store(&b->nr_empty, 0u);
	pal_.spin_unlock_irqrestore(b->barn_lock, flags);
	ListHead *lists[2] = {&full, &empty};
	for (ListHead *l : lists) {
		while (!l->empty()) {
			Sheaf *sheaf = KSLUB_CONTAINER_OF(l->next, Sheaf, barn_list);
			sheaf->barn_list.del();
			sheaf_flush_unused(s, sheaf);
			free_empty_sheaf(s, sheaf);
		}
	}
}

/*
 * __pcs_replace_empty_main(). Entered with the CPU's lock held and main
 * empty; returns with it held and a non-empty main, or nullptr with it
 * released. The refill runs without the lock, which is then tried again, on
 * whatever CPU the task is on by then.
 */
template <class P>
typename Slub<P>::Pcs *Slub<P>::replace_empty_main(Cache *s, Pcs *pcs, unsigned gfp,
						   unsigned long *flags)
{
	Sheaf *spare = pal_.load(&pcs->spare);
	if (spare && pal_.load(&spare->size)) {
		pal_.store(&pcs->spare, pal_.load(&pcs->main));
		pal_.store(&pcs->main, spare);
		return pcs;
	}
	Node *barn = get_barn(s);
	Sheaf *full = barn_replace_empty(barn, pal_.load(&pcs->main));
	if (full) {
		stat(s, BARN_GET);
		pal_.store(&pcs->main, full);
		return pcs;
	}
	stat(s, BARN_GET_FAIL);
	Sheaf *empty = barn_get_empty(barn);
	pal_.local_unlock(pcs->lock, *flags);

	if (!empty)
		empty = alloc_empty_sheaf(s, gfp, s->sheaf_capacity);
	if (!empty)
		return nullptr;
	if (refill_sheaf(s, empty, gfp) && !pal_.load(&empty->size)) {
		barn_put_empty(barn, empty);
		return nullptr;
	}
	full = empty;

	pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
	if (!pal_.local_trylock(pcs->lock, flags)) {
		/* Somebody has the lock: keep the objects in the barn for the next one. */
		barn_put_full(get_barn(s), full);
		stat(s, BARN_PUT);
		return nullptr;
	}
	barn = get_barn(s);
	Sheaf *main = pal_.load(&pcs->main);
	spare = pal_.load(&pcs->spare);
	if (!pal_.load(&main->size)) {
		barn_put_empty(barn, main);
		pal_.store(&pcs->main, full);
	} else if (!spare) {
		pal_.store(&pcs->spare, full);
	} else if (!pal_.load(&spare->size)) {
		barn_put_empty(barn, spare);
		pal_.store(&pcs->spare, full);
	} else {
		barn_put_full(barn, full);
		stat(s, BARN_PUT);
	}
	return pcs;
}

/* __pcs_install_empty_sheaf(): with the lock held, put an empty sheaf where a free can use it. */
template <class P> void Slub<P>::install_empty(Cache *s, Pcs *pcs, Sheaf *empty, Node *barn)
{
	Sheaf *main = pal_.load(&pcs->main), *spare = pal_.load(&pcs->spare);
	if (!spare) {
		pal_.store(&pcs->spare, main);
		pal_.store(&pcs->main, empty);
		return;
	}
	if (pal_.load(&main->size) < s->sheaf_capacity) {
		barn_put_empty(barn, empty);
		return;
	}
	if (pal_.load(&spare->size) < s->sheaf_capacity) {
		pal_.store(&pcs->main, spare);
		pal_.store(&pcs->spare, main);
		barn_put_empty(barn, empty);
		return;
	}
	barn_put_full(barn, main);
	stat(s, BARN_PUT);
	pal_.store(&pcs->main, empty);
}

/*
 * __pcs_replace_full_main(). Entered with the lock held and main full;
 * returns with it held and room in main, or nullptr with it released.
 */
template <class P>
typename Slub<P>::Pcs *Slub<P>::replace_full_main(Cache *s, Pcs *pcs, unsigned long *flags)
{
	Node *barn = get_barn(s);
	Sheaf *empty;
	bool put_fail = false;
	Sheaf *spare = pal_.load(&pcs->spare);
	if (!spare) {
		empty = barn_get_empty(barn);
		if (empty) {
			pal_.store(&pcs->spare, pal_.load(&pcs->main));
			pal_.store(&pcs->main, empty);
			return pcs;
		}
	} else {
		if (pal_.load(&spare->size) < s->sheaf_capacity) {
			pal_.store(&pcs->spare, pal_.load(&pcs->main));
			pal_.store(&pcs->main, spare);
			return pcs;
		}
		int why;
		empty = barn_replace_full(barn, pal_.load(&pcs->main), &why);
		if (empty) {
			stat(s, BARN_PUT);
			pal_.store(&pcs->main, empty);
			return pcs;
		}
		if (why == -KSLUB_E2BIG) {
			/* Barn full of full sheaves: the spare goes back to the slabs and becomes empty. */
			stat(s, BARN_PUT_FAIL);
			pal_.store(&pcs->spare, static_cast<Sheaf *>(nullptr));
			pal_.local_unlock(pcs->lock, *flags);
			sheaf_flush_unused(s, spare);
			empty = spare;
			goto got_empty;
		}
		put_fail = true;
	}
	pal_.local_unlock(pcs->lock, *flags);
	empty = alloc_empty_sheaf(s, 0, s->sheaf_capacity);
	if (empty)
		goto got_empty;
	if (put_fail)
		stat(s, BARN_PUT_FAIL);
	if (!flush_main(s, true))
		return nullptr;
	pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
	if (!pal_.local_trylock(pcs->lock, flags))
		return nullptr;
	if (pal_.load(&pal_.load(&pcs->main)->size) == s->sheaf_capacity) {
		pal_.local_unlock(pcs->lock, *flags);
		return nullptr;
	}
	return pcs;

got_empty:
	pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
	if (!pal_.local_trylock(pcs->lock, flags)) {
		barn_put_empty(get_barn(s), empty);
		return nullptr;
	}
	install_empty(s, pcs, empty, get_barn(s));
	return pcs;
}

/*
 * alloc_from_pcs(): pop the main sheaf. nullptr sends the caller to the slab
 * layer: the lock was held, memory ran out, or (node-specific) the object on
 * top is of another node.
 */
template <class P> void *Slub<P>::alloc_from_pcs(Cache *s, unsigned gfp, int node)
{
	/* Another node's objects are never in this CPU's sheaves. */
	if (node != NUMA_NO_NODE && node != numa_mem_id() && buddy_.node_present(node))
		return nullptr;
	Pcs *pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
	unsigned long flags;
	if (!pal_.local_trylock(pcs->lock, &flags))
		return nullptr;
	Sheaf *main = pal_.load(&pcs->main);
	if (!pal_.load(&main->size)) {
		pcs = replace_empty_main(s, pcs, gfp, &flags);
		if (!pcs)
			return nullptr;
		main = pal_.load(&pcs->main);
	}
	u32 size = pal_.load(&main->size);
	void *obj = pal_.load(&main->objects()[size - 1]);
	if (node != NUMA_NO_NODE && virt_to_slab(obj)->node != node) {
		/* The task moved since it chose the sheaves: this node's objects are in the slabs. */
		pal_.local_unlock(pcs->lock, flags);
		stat(s, ALLOC_NODE_MISMATCH);
		return nullptr;
	}
	pal_.store(&main->size, size - 1);
	pal_.local_unlock(pcs->lock, flags);
	/* 6.18 counts sheaf hits apart; 7.x, with no other fast path, as alloc_fastpath. */
	stat(s, s->cpu_slabs ? ALLOC_PCS : ALLOC_FASTPATH);
	return obj;
}

/*
 * free_to_pcs(): push onto the main sheaf. false: the caller frees to the
 * slab layer. true with *err set: refused (naive double-free detection: the
 * object is already on top of the main sheaf).
 */
template <class P> bool Slub<P>::free_to_pcs(Cache *s, void *obj, int *err)
{
	Pcs *pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
	unsigned long flags;
	if (!pal_.local_trylock(pcs->lock, &flags))
		return false;
	Sheaf *main = pal_.load(&pcs->main);
	u32 size = pal_.load(&main->size);
	if constexpr (CONFIG_KSLUB_FREELIST_HARDENED) {
		if (__builtin_expect(size && pal_.load(&main->objects()[size - 1]) == obj, 0)) {
			pal_.local_unlock(pcs->lock, flags);
			report(s, ReportKind::DoubleFree, obj,
			       "object is already on top of the CPU's sheaf");
			*err = -KSLUB_EINVAL;
			return true;
		}
	}
	if (size == s->sheaf_capacity) {
		pcs = replace_full_main(s, pcs, &flags);
		if (!pcs)
			return false;
		main = pal_.load(&pcs->main);
		size = pal_.load(&main->size);
	}
	pal_.store(&main->objects()[size], obj);
	pal_.store(&main->size, size + 1);
	pal_.local_unlock(pcs->lock, flags);
	stat(s, s->cpu_slabs ? FREE_PCS : FREE_FASTPATH);
	return true;
}

/*
 * free_to_rcu_sheaf(): kfree_rcu into the CPU's rcu_free sheaf; a full one
 * goes to call_rcu and, after the grace period, to the barn of the node it
 * was filled on (or back to the slabs when the barn is full).
 */
template <class P> bool Slub<P>::free_to_rcu_sheaf(Cache *s, void *obj)
{
	Pcs *pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
	unsigned long flags;
	if (!pal_.local_trylock(pcs->lock, &flags))
		goto fail;
	if (!pal_.load(&pcs->rcu_free)) {
		Sheaf *empty = barn_get_empty(get_barn(s));
		if (!empty) {
			pal_.local_unlock(pcs->lock, flags);
			empty = alloc_empty_sheaf(s, 0, s->sheaf_capacity);
			if (!empty)
				goto fail;
			pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
			if (!pal_.local_trylock(pcs->lock, &flags)) {
				barn_put_empty(get_barn(s), empty);
				goto fail;
			}
			if (pal_.load(&pcs->rcu_free)) {
				barn_put_empty(get_barn(s), empty);
				empty = nullptr;
			}
		}
		if (empty)
			pal_.store(&pcs->rcu_free, empty);
	}
	{
		Sheaf *rcu = pal_.load(&pcs->rcu_free);
		u32 size = pal_.load(&rcu->size);
		pal_.store(&rcu->objects()[size], obj);
		pal_.store(&rcu->size, size + 1);
		bool full = size + 1 == s->sheaf_capacity;
		if (full) {
			pal_.store(&pcs->rcu_free, static_cast<Sheaf *>(nullptr));
			int nid = pal_.cpu_to_node(pcs->cpu);
			rcu->node = buddy_.node_present(nid) ? nid : 0;
			rcu->nobarn = 0;
			pal_.atomic_add(&s->rcu_pending, size + 1);
		}
		pal_.local_unlock(pcs->lock, flags);
		if (full)
			pal_.call_rcu(&rcu->rcu, &Slub::rcu_sheaf_done);
	}
	stat(s, FREE_RCU_SHEAF);
	return true;
fail:
	stat(s, FREE_RCU_SHEAF_FAIL);
	return false;
}

/* rcu_free_sheaf(): a grace period after the sheaf was sent, its objects are free to reuse. */
template <class P> void Slub<P>::rcu_sheaf_done(typename P::RcuHead *head)
{
	Sheaf *sheaf = KSLUB_CONTAINER_OF(head, Sheaf, rcu);
	Slub *self = static_cast<Slub *>(sheaf->core);
	Cache *s = static_cast<Cache *>(sheaf->cache);
	P &pal = self->pal_;
	pal.atomic_add(&s->rcu_pending, -s64(pal.load(&sheaf->size)));
	if (sheaf->nobarn || sheaf->node == NUMA_NO_NODE) {
		self->sheaf_flush_unused(s, sheaf);
		self->free_empty_sheaf(s, sheaf);
		return;
	}
	Node *barn = self->get_node(s, sheaf->node);
	if (pal.load(&sheaf->size) && pal.load(&barn->nr_full) < BARN_MAX_FULL) {
		self->stat(s, BARN_PUT);
		self->barn_put_full(barn, sheaf);
		return;
	}
	if (pal.load(&sheaf->size))
		self->stat(s, BARN_PUT_FAIL);
	self->sheaf_flush_unused(s, sheaf);
	if (pal.load(&barn->nr_empty) < BARN_MAX_EMPTY) {
		self->barn_put_empty(barn, sheaf);
		return;
	}
	self->free_empty_sheaf(s, sheaf);
}

/*
 * Flush one CPU's sheaves (pcs_flush_all / __pcs_flush_all_cpu): the spare
 * and the main back to the slabs, the spare freed, a partly filled rcu_free
 * sheaf sent to its grace period (then to the slabs). release: the main
 * sheaf is freed too (cache destruction).
 */
template <class P> void Slub<P>::pcs_flush_cpu(Cache *s, unsigned cpu, bool release)
{
	Pcs *pcs = pal_.per_cpu_ptr(s->cpu_sheaves, cpu);
	unsigned long flags = pal_.local_lock(pcs->lock);
	Sheaf *main = pal_.load(&pcs->main);
	Sheaf *spare = pal_.load(&pcs->spare);
	Sheaf *rcu = pal_.load(&pcs->rcu_free);
	pal_.store(&pcs->spare, static_cast<Sheaf *>(nullptr));
	pal_.store(&pcs->rcu_free, static_cast<Sheaf *>(nullptr));
	if (release)
		pal_.store(&pcs->main, static_cast<Sheaf *>(nullptr));
	/* The main sheaf stays; its objects leave it here, in batches as sheaf_flush_main. */
	void *batch[SHEAF_FLUSH_BATCH];
	for (;;) {
		u32 size;
		u32 n = take_batch(main, batch, &size);
		pal_.local_unlock(pcs->lock, flags);
		if (!n)
			break;
		layer_free_bulk(s, n, batch);
		stat_add(s, SHEAF_FLUSH, n);
		flags = pal_.local_lock(pcs->lock);
		if (!release && pal_.load(&pcs->main) != main) {
			pal_.local_unlock(pcs->lock, flags);
			break;
		}
	}
	if (spare) {
		sheaf_flush_unused(s, spare);
		free_empty_sheaf(s, spare);
	}
	if (rcu) {
		rcu->nobarn = 1;
		pal_.atomic_add(&s->rcu_pending, pal_.load(&rcu->size));
		pal_.call_rcu(&rcu->rcu, &Slub::rcu_sheaf_done);
	}
	if (release && main)
		free_empty_sheaf(s, main);
}

/* Give a cache its sheaves: an empty main per CPU, allocated now (ENOMEM fails the create). */
template <class P> int Slub<P>::sheaves_init(Cache *s, u32 capacity)
{
	if (!capacity || s->has_sheaves())
		return 0;
	Pcs *pcs = pal_.template percpu_alloc<Pcs>();
	if (!pcs)
		return -KSLUB_ENOMEM;
	for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++) {
		Pcs *p = pal_.per_cpu_ptr(pcs, cpu);
		pal_.local_lock_init(p->lock);
		p->cpu = cpu;
		p->spare = p->rcu_free = nullptr;
		p->main = alloc_empty_sheaf(s, 0, capacity);
		if (!p->main) {
			while (cpu-- > 0)
				free_empty_sheaf(s, pal_.per_cpu_ptr(pcs, cpu)->main);
			pal_.percpu_free(pcs);
			return -KSLUB_ENOMEM;
		}
	}
	s->cpu_sheaves = pcs;
	pal_.store(&s->sheaf_capacity, capacity);
	return 0;
}

/* Destruction: after the grace periods, every sheaf of the cache back to the slabs and freed. */
template <class P> void Slub<P>::sheaves_release(Cache *s)
{
	if (!s->has_sheaves())
		return;
	pal_.rcu_barrier();
	for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++)
		pcs_flush_cpu(s, cpu, true);
	pal_.rcu_barrier();
	for (unsigned nid = 0; nid < MAX_NODES; nid++)
		barn_shrink(s, get_node(s, nid));
	pal_.percpu_free(s->cpu_sheaves);
	s->cpu_sheaves = nullptr;
	pal_.store(&s->sheaf_capacity, 0u);
}

template <class P> int Slub<P>::cache_free_rcu(Cache *s, void *obj)
{
	if (!obj)
		return 0;
	Page *slab = virt_to_slab(obj);
	int err = object_check(s, slab, obj, false);
	if (err)
		return err;
	if (s == &boot_cache_) {
		report(s, ReportKind::InvalidFree, obj, "kmem_cache objects are not freed by RCU");
		return -KSLUB_EINVAL;
	}
	/* Only this node's objects: the sheaf goes to this node's barn after the grace period. */
	if (s->has_sheaves() && !s->debug() && slab->node == numa_mem_id()) {
		pal_.poison_free(obj, s->object_size);
		if (free_to_rcu_sheaf(s, obj))
			return 0;
	}
	/* No sheaf to batch it in: wait for a grace period here, then free. */
	pal_.synchronize_rcu();
	return slab_free(s, slab, obj);
}

template <class P> int Slub<P>::kfree_rcu(const void *cp)
{
	void *p = const_cast<void *>(cp);
	if (zero_or_null_ptr(p))
		return 0;
	Page *page = buddy_.virt_to_page(p);
	Page *head = page ? BuddyAllocator<P>::compound_head(page) : nullptr;
	if (head && (head->flags & PG_slab))
		return cache_free_rcu(static_cast<Cache *>(head->slab_cache), p);
	pal_.synchronize_rcu();
	return kfree(p);
}

/* kmem_cache_prefill_sheaf(). */
template <class P> typename Slub<P>::Sheaf *Slub<P>::prefill_sheaf(Cache *s, unsigned gfp, u32 size)
{
	if (!size || !s->has_sheaves() || s->debug())
		return nullptr;
	Sheaf *sheaf = nullptr;
	if (size > s->sheaf_capacity) {
		if (size > SHEAF_CAPACITY_MAX * 8)
			return nullptr;
		sheaf = alloc_empty_sheaf(s, gfp, size);
		if (!sheaf)
			return nullptr;
		usize got = layer_alloc_bulk(s, gfp & ~GFP_ZERO, size, sheaf->objects());
		if (got < size) {
			layer_free_bulk(s, got, sheaf->objects());
			free_empty_sheaf(s, sheaf);
			return nullptr;
		}
		sheaf->size = size;
		stat(s, SHEAF_PREFILL_OVERSIZE);
		pal_.atomic_add(&s->prefilled, size);
		return sheaf;
	}
	Pcs *pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
	unsigned long flags = pal_.local_lock(pcs->lock);
	sheaf = pal_.load(&pcs->spare);
	if (sheaf) {
		pal_.store(&pcs->spare, static_cast<Sheaf *>(nullptr));
		stat(s, SHEAF_PREFILL_FAST);
	} else {
		stat(s, SHEAF_PREFILL_SLOW);
		sheaf = barn_get_full_or_empty(get_barn(s));
		stat(s, sheaf && sheaf->size ? BARN_GET : BARN_GET_FAIL);
	}
	pal_.local_unlock(pcs->lock, flags);
	if (!sheaf)
		sheaf = alloc_empty_sheaf(s, gfp, s->sheaf_capacity);
	if (sheaf && sheaf->size < size && refill_sheaf(s, sheaf, gfp)) {
		sheaf_flush_unused(s, sheaf);
		free_empty_sheaf(s, sheaf);
		sheaf = nullptr;
	}
	if (sheaf)
		pal_.atomic_add(&s->prefilled, sheaf->size);
	return sheaf;
}

/* kmem_cache_alloc_from_sheaf(): nullptr only when the caller took more than it prefilled. */
template <class P> void *Slub<P>::alloc_from_sheaf(Cache *s, unsigned gfp, Sheaf *sheaf)
{
	if (!sheaf || !sheaf->size)
		return nullptr;
	void *obj = sheaf->objects()[--sheaf->size];
	pal_.atomic_add(&s->prefilled, -1);
	post_alloc(s, obj, gfp);
	return obj;
}

/* kmem_cache_return_sheaf(): the CPU's spare if it has none, else the barn, else the slabs. */
template <class P> void Slub<P>::return_sheaf(Cache *s, unsigned gfp, Sheaf *sheaf)
{
	if (!sheaf)
		return;
	pal_.atomic_add(&s->prefilled, -s64(sheaf->size));
	if (sheaf->capacity != s->sheaf_capacity) {
		sheaf_flush_unused(s, sheaf);
		free_empty_sheaf(s, sheaf);
		return;
	}
	Pcs *pcs = pal_.raw_cpu_ptr(s->cpu_sheaves);
	unsigned long flags = pal_.local_lock(pcs->lock);
	if (!pal_.load(&pcs->spare)) {
		pal_.store(&pcs->spare, sheaf);
		sheaf = nullptr;
		stat(s, SHEAF_RETURN_FAST);
	}
	pal_.local_unlock(pcs->lock, flags);
	if (!sheaf)
		return;
	stat(s, SHEAF_RETURN_SLOW);
	Node *barn = get_barn(s);
	if (pal_.load(&barn->nr_full) >= BARN_MAX_FULL || refill_sheaf(s, sheaf, gfp)) {
		sheaf_flush_unused(s, sheaf);
		free_empty_sheaf(s, sheaf);
		return;
	}
	barn_put_full(barn, sheaf);
	stat(s, BARN_PUT);
}

/* One sheaf's objects: each an object of this cache; counted into *objects. */
template <class P>
long Slub<P>::check_sheaf(Cache *s, Sheaf *sheaf, u32 capacity, const char *where, u64 *objects)
{
	long errors = 0;
	u32 size = pal_.peek(&sheaf->size);
	if (sheaf->cache != s || sheaf->capacity != capacity || size > capacity) {
		report(s, ReportKind::ListCorrupt, sheaf, where, size);
		return 1;
	}
	for (u32 i = 0; i < size; i++) {
		void *obj = pal_.peek(&sheaf->objects()[i]);
		Page *slab = virt_to_slab(obj);
		if (!slab || slab->slab_cache != s || !check_valid_pointer(s, slab, obj)) {
			report(s, ReportKind::CorruptFreelist, obj,
			       "sheaf holds no object of this cache", i);
			errors++;
		}
	}
	*objects += size;
	return errors;
}

/*
 * The sheaves' part of check(): CPU sheaves and barns, their counts, and the
 * objects they hold (census->sheaf_objects, census->sheaves).
 */
template <class P> long Slub<P>::check_sheaves(Cache *s, CacheCensus *census)
{
	if (!s->has_sheaves())
		return 0;
	long errors = 0;
	u32 cap = s->sheaf_capacity;
	for (unsigned cpu = 0; cpu < pal_.nr_cpu_ids(); cpu++) {
		Pcs *pcs = pal_.per_cpu_ptr(s->cpu_sheaves, cpu);
		Sheaf *main = pal_.peek(&pcs->main), *spare = pal_.peek(&pcs->spare);
		Sheaf *rcu = pal_.peek(&pcs->rcu_free);
		if (!main) {
			report(s, ReportKind::ListCorrupt, pcs, "CPU without a main sheaf", cpu);
			errors++;
		} else {
			errors += check_sheaf(s, main, cap, "CPU main sheaf corrupt",
					      &census->sheaf_objects);
			census->sheaves++;
		}
		if (spare) {
			errors += check_sheaf(s, spare, cap, "CPU spare sheaf corrupt",
					      &census->sheaf_objects);
			census->sheaves++;
		}
		if (rcu) {
			errors += check_sheaf(s, rcu, cap, "CPU rcu_free sheaf corrupt",
					      &census->sheaf_objects);
			census->sheaves++;
		}
		if (main && (main == spare || main == rcu || (spare && spare == rcu))) {
			report(s, ReportKind::ListCorrupt, main, "one sheaf in two CPU places",
			       cpu);
			errors++;
		}
	}
	for (unsigned nid = 0; nid < MAX_NODES; nid++) {
		Node *b = get_node(s, nid);
		u64 limit = 1 + buddy_.pool_pages();
		for (int full = 1; full >= 0; full--) {
			ListHead *head = full ? &b->sheaves_full : &b->sheaves_empty;
			u64 counted = 0;
			for (ListHead *e = pal_.peek(&head->next); e != head && counted <= limit;
			     e = pal_.peek(&e->next)) {
				Sheaf *sheaf = KSLUB_CONTAINER_OF(e, Sheaf, barn_list);
				counted++;
				census->sheaves++;
				errors += check_sheaf(s, sheaf, cap, "barn sheaf corrupt",
						      &census->sheaf_objects);
				if (!full && pal_.peek(&sheaf->size)) {
					report(s, ReportKind::ListCorrupt, sheaf,
					       "barn's empty sheaf holds objects",
					       pal_.peek(&sheaf->size));
					errors++;
				}
				if (full && !pal_.peek(&sheaf->size)) {
					report(s, ReportKind::ListCorrupt, sheaf,
					       "barn's full sheaf is empty");
					errors++;
				}
			}
			if (counted != pal_.peek(full ? &b->nr_full : &b->nr_empty)) {
				report(s, ReportKind::ListCorrupt, b,
				       full ? "barn's full sheaves differ from nr_full" :
					      "barn's empty sheaves differ from nr_empty",
				       counted);
				errors++;
			}
		}
	}
	return errors;
}

} // namespace kslub

#endif
