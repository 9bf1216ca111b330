// SPDX-License-Identifier: GPL-2.0-only
/* Intrusive circular doubly linked list (the shape of the kernel's list_head). */
#ifndef KSLUB_LIB_LIST_H
#define KSLUB_LIB_LIST_H

#include <kslub/base.h>

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

/* The containing object of a list node. */
#define KSLUB_CONTAINER_OF(ptr, type, member)                                             \
	reinterpret_cast<type *>(reinterpret_cast<char *>(ptr) - __builtin_offsetof(type, member))

} // namespace kslub

#endif
