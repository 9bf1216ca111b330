// SPDX-License-Identifier: GPL-2.0-only
/* Intrusive circular doubly linked list (the shape of the kernel's list_head). */
#ifndef KSLUB_BASE_LIST_H
#define KSLUB_BASE_LIST_H

#include "base/types.h"

namespace kslub {

struct ListHead {
	ListHead *next;
	ListHead *prev;

	void init() { next = prev = this; }
	bool empty() const { return next == this; }
	bool linked() const { return next != nullptr && next != this; }

	/* Insert n right after this node (at the head of a list). */
	void add(ListHead *n)
	{
		n->next = next;
		n->prev = this;
		next->prev = n;
		next = n;
	}
	/* Insert n before this node (at the tail of a list). */
	void add_tail(ListHead *n)
	{
		n->prev = prev;
		n->next = this;
		prev->next = n;
		prev = n;
	}
	void del()
	{
		next->prev = prev;
		prev->next = next;
		next = prev = nullptr;
	}
	/* Move all entries of `other` to the head of this list; other becomes empty. */
	void splice(ListHead *other)
	{
		if (other->empty())
			return;
		ListHead *first = other->next, *last = other->prev;
		last->next = next;
		next->prev = last;
		next = first;
		first->prev = this;
		other->init();
	}
};

/*
 * The same operations on shared lists (the node partial lists), every link
 * read and written through the platform's accessors, so that each is a point
 * where the simulation can interleave another CPU (base/platform.h).
 */
template <class P> inline void list_add(P &pal, ListHead *head, ListHead *n)
{
	ListHead *next = pal.load(&head->next);
	pal.store(&n->next, next);
	pal.store(&n->prev, head);
	pal.store(&next->prev, n);
	pal.store(&head->next, n);
}
template <class P> inline void list_add_tail(P &pal, ListHead *head, ListHead *n)
{
	ListHead *prev = pal.load(&head->prev);
	pal.store(&n->prev, prev);
	pal.store(&n->next, head);
	pal.store(&prev->next, n);
	pal.store(&head->prev, n);
}
template <class P> inline void list_del(P &pal, ListHead *e)
{
	ListHead *next = pal.load(&e->next), *prev = pal.load(&e->prev);
	pal.store(&next->prev, prev);
	pal.store(&prev->next, next);
	pal.store(&e->next, static_cast<ListHead *>(nullptr));
	pal.store(&e->prev, static_cast<ListHead *>(nullptr));
}

/* The containing object of a list node. */
#define KSLUB_CONTAINER_OF(ptr, type, member) \
	reinterpret_cast<type *>(reinterpret_cast<char *>(ptr) - __builtin_offsetof(type, member))

} // namespace kslub

#endif
