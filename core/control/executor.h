// SPDX-License-Identifier: GPL-2.0-only
/*
 * Control<P>: runs parsed control commands on one Slub<P> and holds the
 * objects they allocate (see control/command.h for the language, the errno
 * table and the locking rule).
 *
 * Held objects. An object's first word links it to the next held object of
 * the same list; the lists cost no memory beyond the objects. Invariant,
 * checked by held_check(): for every table entry, the list from `head` has
 * exactly `count` objects, and the kmalloc list has `kmalloc_count`.
 *
 * The table. Entry e tracks cache e.s while e.created || e.count || e.pins;
 * it is cleared as soon as none holds. Caches are looked up by name in the
 * core (Slub::find_cache) and by pointer in the table.
 */
#ifndef KSLUB_CONTROL_EXECUTOR_H
#define KSLUB_CONTROL_EXECUTOR_H

#include "control/command.h"

namespace kslub {

/* The cache of kmem_cache structures: never allocated from, freed to or destroyed by control. */
constexpr const char *CONTROL_PROTECTED_CACHE = "kmem_cache";

template <class P> class Control {
public:
	using Cache = KmemCache<P>;

	explicit Control(Slub<P> &slub) : slub_(slub)
	{
		for (Held &h : table_)
			h = Held{};
		result_[0] = 0;
	}
	Control(const Control &) = delete;
	Control &operator=(const Control &) = delete;

	/*
	 * Parse and execute one write; result() describes the outcome either
	 * way. Returns 0, a negative errno, CONTROL_DELEGATED (stress,
	 * compare: *cmd, when given, holds the parsed command to run) or
	 * CONTROL_STOP (stop: the embedding ends its run in progress).
	 */
	int run(const char *buf, usize len, ControlCommand *cmd = nullptr)
	{
		ControlCommand c;
		ControlError why;
		int rc = control_parse(buf, len, &c, &why);
		if (cmd)
			*cmd = c;
		if (rc) {
			last_ = ControlCommand{};
			value_ = 0;
			TextBuf t(result_, CONTROL_RESULT_MAX);
			error_prefix(t, rc).str(why.reason);
			return rc;
		}
		return execute(c);
	}

	/* Execute a parsed command (arguments within the limits of control/command.h). */
	int execute(const ControlCommand &cmd)
	{
		last_ = cmd;
		value_ = 0;
		TextBuf t(result_, CONTROL_RESULT_MAX);
		switch (cmd.verb) {
		case ControlVerb::Create: return do_create(cmd, t);
		case ControlVerb::Destroy: return do_destroy(cmd, t);
		case ControlVerb::Alloc: return do_alloc(cmd, t);
		case ControlVerb::Free: return do_free(cmd, t);
		case ControlVerb::Kmalloc: return do_kmalloc(cmd, t);
		case ControlVerb::KfreeAll: return do_kfree_all(t);
		case ControlVerb::Shrink: return do_shrink(cmd, t);
		case ControlVerb::Validate: return do_validate(cmd, t);
		case ControlVerb::Stress:
		case ControlVerb::Compare: return do_delegate(cmd, t);
		case ControlVerb::Stop: t.str("stop: requested"); return CONTROL_STOP;
		case ControlVerb::None: break;
		}
		error_prefix(t, -KSLUB_EINVAL).str("no command");
		return -KSLUB_EINVAL;
	}

	/* The one-line text of the last command (no newline). */
	const char *result() const { return result_; }
	/* Its number: objects allocated or freed, slabs shrunk, validate's error count. */
	u64 value() const { return value_; }
	const ControlCommand &last_command() const { return last_; }
	/* The embedding reports the outcome of a delegated command here (one line, cut to fit). */
	void set_result(const char *text)
	{
		TextBuf t(result_, CONTROL_RESULT_MAX);
		t.str(text);
	}

	/*
	 * Keep a cache from destruction while the embedding runs something on
	 * it (stress): nullptr with *err = -ENOENT, -EBUSY (kmem_cache) or
	 * -ENOMEM (table full). Every pin needs one unpin.
	 */
	Cache *pin(const char *name, int *err)
	{
		int dummy;
		if (!err)
			err = &dummy;
		Cache *s = name ? slub_.find_cache(name) : nullptr;
		if (!s) {
			*err = -KSLUB_ENOENT;
			return nullptr;
		}
		if (is_protected(s)) {
			*err = -KSLUB_EBUSY;
			return nullptr;
		}
		Held *h = entry(s, true);
		if (!h) {
			*err = -KSLUB_ENOMEM;
			return nullptr;
		}
		h->pins++;
		*err = 0;
		return s;
	}
	void unpin(Cache *s)
	{
		Held *h = entry(s, false);
		if (h && h->pins) {
			h->pins--;
			drop_if_unused(h);
		}
	}

	/*
	 * Module unload: kfree every held kmalloc object, free every held cache
	 * object, destroy every cache this executor created. 0, or -EBUSY when
	 * a created cache stays (pinned, or objects allocated elsewhere).
	 */
	int release_all()
	{
		int rc = 0;
		free_kmalloc(~u64(0));
		for (Held &h : table_) {
			if (!h.s)
				continue;
			free_held(&h, ~u64(0));
			if (h.created && !h.pins) {
				if (slub_.cache_destroy(h.s))
					rc = -KSLUB_EBUSY;
				else
					h = Held{};
			} else if (h.created) {
				rc = -KSLUB_EBUSY;
			}
			if (h.s)
				drop_if_unused(&h);
		}
		TextBuf t(result_, CONTROL_RESULT_MAX);
		t.str("release: ").str(rc ? "some caches remain (in use)" : "everything freed");
		return rc;
	}

	/* Held objects: of one cache (by name), of kmalloc, in total. */
	u64 held(const char *name)
	{
		Cache *s = name ? slub_.find_cache(name) : nullptr;
		Held *h = s ? entry(s, false) : nullptr;
		return h ? h->count : 0;
	}
	u64 held(Cache *s)
	{
		Held *h = entry(s, false);
		return h ? h->count : 0;
	}
	u64 held_kmalloc() const { return kmalloc_count_; }
	u64 held_total() const
	{
		u64 n = kmalloc_count_;
		for (const Held &h : table_)
			n += h.count;
		return n;
	}
	/* Whether this executor created the cache (and may destroy it). */
	bool created(Cache *s)
	{
		Held *h = entry(s, false);
		return h && h->created;
	}
	/* Caches in the table. */
	unsigned tracked() const
	{
		unsigned n = 0;
		for (const Held &h : table_)
			n += h.s != nullptr;
		return n;
	}
	/* Walk every held list; the number of lists whose length differs from its count. */
	long held_check() const
	{
		long errors = 0;
		for (const Held &h : table_)
			if (h.s && list_length(h.head, h.count) != h.count)
				errors++;
		if (list_length(kmalloc_head_, kmalloc_count_) != kmalloc_count_)
			errors++;
		return errors;
	}

private:
	struct Held {
		Cache *s;
		void *head; /* first held object; each links the next by its first word */
		u64 count;
		u32 pins;
		bool created;
	};

	static void *next_of(void *obj) { return *static_cast<void **>(obj); }
	static void push(void **head, void *obj)
	{
		*static_cast<void **>(obj) = *head;
		*head = obj;
	}
	static void *pop(void **head)
	{
		void *obj = *head;
		*head = next_of(obj);
		return obj;
	}
	/* Length of a list, walking at most limit + 1 objects. */
	static u64 list_length(void *head, u64 limit)
	{
		u64 n = 0;
		for (void *p = head; p && n <= limit; p = next_of(p))
			n++;
		return n;
	}

	static bool is_protected(const Cache *s)
	{
		return str_eq(s->name, CONTROL_PROTECTED_CACHE);
	}

	Held *entry(Cache *s, bool add)
	{
		Held *free_slot = nullptr;
		for (Held &h : table_) {
			if (s && h.s == s)
				return &h;
			if (!h.s && !free_slot)
				free_slot = &h;
		}
		if (!add || !free_slot || !s)
			return nullptr;
		*free_slot = Held{};
		free_slot->s = s;
		return free_slot;
	}
	void drop_if_unused(Held *h)
	{
		if (!h->created && !h->count && !h->pins)
			*h = Held{};
	}

	static TextBuf &error_prefix(TextBuf &t, int code)
	{
		return t.str("error ").sdec(code).str(" (").str(control_errno_name(code)).str("): ");
	}
	static TextBuf &head(TextBuf &t, const ControlCommand &c)
	{
		t.str(control_verb_name(c.verb)).chr(' ');
		if (c.verb == ControlVerb::Kmalloc || c.verb == ControlVerb::Compare)
			return t.dec(c.size);
		return t.str(c.name);
	}
	int fail(TextBuf &t, const ControlCommand &c, int code, const char *what)
	{
		head(error_prefix(t, code), c).str(": ").str(what);
		return code;
	}

	/* Free up to n held objects of a cache; returns how many. */
	u64 free_held(Held *h, u64 n)
	{
		u64 done = 0;
		while (done < n && h->head) {
			slub_.cache_free(h->s, pop(&h->head));
			h->count--;
			done++;
		}
		return done;
	}
	u64 free_kmalloc(u64 n)
	{
		u64 done = 0;
		while (done < n && kmalloc_head_) {
			slub_.kfree(pop(&kmalloc_head_));
			kmalloc_count_--;
			done++;
		}
		return done;
	}

	int do_create(const ControlCommand &c, TextBuf &t)
	{
		if (slub_.find_cache(c.name))
			return fail(t, c, -KSLUB_EEXIST, "a cache of that name exists");
		Held *h = nullptr;
		for (Held &e : table_)
			if (!e.s) {
				h = &e;
				break;
			}
		if (!h)
			return fail(t, c, -KSLUB_ENOMEM,
				    "control already tracks its maximum of caches");
		int err = 0;
		Cache *s = slub_.cache_create(c.name, u32(c.size), u32(c.align), 0, nullptr,
					      u32(c.sheaves), &err);
		if (!s) {
			if (err == -KSLUB_ENOMEM)
				return fail(t, c, err, "out of memory");
			if (err == -KSLUB_EEXIST)
				return fail(t, c, err, "a cache of that name exists");
			if (c.sheaves && !slub_.sheaves_possible())
				return fail(
					t, c, -KSLUB_EINVAL,
					"sheaves need the 6.18 or 7.3 rules and the sheaves design");
			return fail(t, c, -KSLUB_EINVAL,
				    "the allocator refused this size and alignment");
		}
		*h = Held{};
		h->s = s;
		h->created = true;
		Geometry g = slub_.geometry(s);
		head(t, c).str(": object_size ").dec(g.object_size).str(" slab_size ").dec(g.size);
		t.str(" align ")
			.dec(g.align)
			.str(" order ")
			.dec(g.order)
			.str(" objs_per_slab ")
			.dec(g.objects);
		if (s->has_sheaves())
			t.str(" sheaf_capacity ").dec(s->sheaf_capacity);
		return 0;
	}

	int do_destroy(const ControlCommand &c, TextBuf &t)
	{
		Cache *s = slub_.find_cache(c.name);
		if (!s)
			return fail(t, c, -KSLUB_ENOENT, "no such cache");
		Held *h = entry(s, false);
		if (!h || !h->created)
			return fail(t, c, -KSLUB_EBUSY,
				    "not created by control (kmalloc caches are protected)");
		if (h->count) {
			head(error_prefix(t, -KSLUB_EBUSY), c)
				.str(": ")
				.dec(h->count)
				.str(" objects held; free them first");
			return -KSLUB_EBUSY;
		}
		if (h->pins)
			return fail(t, c, -KSLUB_EBUSY, "in use (stress running)");
		if (slub_.cache_destroy(s))
			return fail(t, c, -KSLUB_EBUSY, "objects allocated elsewhere remain");
		*h = Held{};
		head(t, c).str(": destroyed");
		return 0;
	}

	/* Objects of a cache the user may allocate from: found and not protected. */
	int usable_cache(const ControlCommand &c, TextBuf &t, Cache **out)
	{
		Cache *s = slub_.find_cache(c.name);
		if (!s)
			return fail(t, c, -KSLUB_ENOENT, "no such cache");
		if (is_protected(s))
			return fail(t, c, -KSLUB_EBUSY, "the cache of caches is protected");
		*out = s;
		return 0;
	}

	int do_alloc(const ControlCommand &c, TextBuf &t)
	{
		Cache *s = nullptr;
		int err = usable_cache(c, t, &s);
		if (err)
			return err;
		Held *h = entry(s, true);
		if (!h)
			return fail(t, c, -KSLUB_ENOMEM,
				    "control already tracks its maximum of caches");
		u64 n = 0;
		for (; n < c.count; n++) {
			void *p = slub_.cache_alloc(s, GFP_KERNEL);
			if (!p)
				break;
			push(&h->head, p);
			h->count++;
		}
		value_ = n;
		u64 total = h->count;
		drop_if_unused(h);
		if (n < c.count) {
			head(error_prefix(t, -KSLUB_ENOMEM), c)
				.str(": out of memory, allocated ")
				.dec(n)
				.str(" of ");
			t.dec(c.count).str(" (").dec(total).str(" held)");
			return -KSLUB_ENOMEM;
		}
		head(t, c).str(": ").dec(n).str(" objects held (").dec(total).str(" total)");
		return 0;
	}

	int do_free(const ControlCommand &c, TextBuf &t)
	{
		Cache *s = nullptr;
		int err = usable_cache(c, t, &s);
		if (err)
			return err;
		Held *h = entry(s, false);
		u64 n = h ? free_held(h, c.count) : 0;
		u64 left = h ? h->count : 0;
		if (h)
			drop_if_unused(h);
		value_ = n;
		head(t, c).str(": ").dec(n).str(" objects freed (").dec(left).str(" held)");
		return 0;
	}

	int do_kmalloc(const ControlCommand &c, TextBuf &t)
	{
		u64 n = 0;
		for (; n < c.count; n++) {
			void *p = slub_.kmalloc(usize(c.size), GFP_KERNEL);
			if (!p)
				break;
			push(&kmalloc_head_, p);
			kmalloc_count_++;
		}
		value_ = n;
		if (n < c.count) {
			head(error_prefix(t, -KSLUB_ENOMEM), c)
				.str(": out of memory, allocated ")
				.dec(n)
				.str(" of ");
			t.dec(c.count).str(" (").dec(kmalloc_count_).str(" held)");
			return -KSLUB_ENOMEM;
		}
		head(t, c).str(": ").dec(n).str(" objects held (").dec(kmalloc_count_).str(" total)");
		return 0;
	}

	int do_kfree_all(TextBuf &t)
	{
		value_ = free_kmalloc(~u64(0));
		t.str("kfree-all: ").dec(value_).str(" objects freed");
		return 0;
	}

	int do_shrink(const ControlCommand &c, TextBuf &t)
	{
		Cache *s = slub_.find_cache(c.name);
		if (!s)
			return fail(t, c, -KSLUB_ENOENT, "no such cache");
		long freed = slub_.shrink(s);
		value_ = freed > 0 ? u64(freed) : 0;
		head(t, c).str(": ").dec(value_).str(" slabs freed");
		return 0;
	}

	int do_validate(const ControlCommand &c, TextBuf &t)
	{
		Cache *s = slub_.find_cache(c.name);
		if (!s)
			return fail(t, c, -KSLUB_ENOENT, "no such cache");
		long errors = slub_.validate(s);
		value_ = errors > 0 ? u64(errors) : 0;
		head(t, c).str(": ").dec(value_).str(" errors");
		return 0;
	}

	int do_delegate(const ControlCommand &c, TextBuf &t)
	{
		if (c.verb == ControlVerb::Stress) {
			Cache *s = nullptr;
			int err = usable_cache(c, t, &s);
			if (err)
				return err;
		}
		head(t, c).chr(' ').dec(c.count).str(": started");
		return CONTROL_DELEGATED;
	}

	Slub<P> &slub_;
	Held table_[CONTROL_MAX_CACHES];
	void *kmalloc_head_ = nullptr;
	u64 kmalloc_count_ = 0;
	u64 value_ = 0;
	ControlCommand last_{};
	char result_[CONTROL_RESULT_MAX];
};

} // namespace kslub

#endif
