// SPDX-License-Identifier: GPL-2.0-only
/*
 * One kslub instance: a buddy allocator over the caller's regions and SLUB
 * on top of it, both on platform P. Every build creates one of these (the
 * module at load, user space per kslub_create, the fuzzer per input).
 */
#ifndef KSLUB_SLUB_INSTANCE_H
#define KSLUB_SLUB_INSTANCE_H

#include "slub/cache.h"

namespace kslub {

template <class P> class Allocator {
public:
	explicit Allocator(P &pal) : pal_(pal), buddy_(pal), slub_(pal, buddy_) {}

	/* 0 or -errno; on failure nothing needs undoing but the caller's regions. */
	int init(const RegionDesc *regions, unsigned nr, KernelRules rules)
	{
		int err = buddy_.init(regions, nr);
		return err ? err : slub_.init(rules);
	}
	/* -KSLUB_EBUSY while any object is live; then nothing was freed. */
	int shutdown() { return slub_.shutdown(); }

	P &pal() { return pal_; }
	BuddyAllocator<P> &buddy() { return buddy_; }
	Slub<P> &slub() { return slub_; }

private:
	P &pal_;
	BuddyAllocator<P> buddy_;
	Slub<P> slub_;
};

} // namespace kslub

#endif
