// SPDX-License-Identifier: GPL-2.0-only
/*
 * The command language of debugfs `control`: one command per write.
 *
 *   create NAME SIZE [align=N] [sheaves=N]
 *                                a cache of SIZE-byte objects (flags 0, no ctor)
 *   destroy NAME                 a cache this executor created, holding nothing
 *   alloc NAME COUNT             COUNT objects of cache NAME, held by the executor
 *   free NAME COUNT              free up to COUNT held objects of cache NAME
 *   kmalloc SIZE COUNT           COUNT kmalloc(SIZE) objects, held
 *   kfree-all                    kfree every held kmalloc object
 *   shrink NAME                  kmem_cache_shrink
 *   validate NAME                validate; the result line gives the error count
 *   stress NAME OPS              parsed here, run by the embedding (kthreads)
 *   compare SIZE OPS             parsed here, run by the embedding (kthreads)
 *   stop                         parsed here: the embedding ends the stress or
 *                                compare run in progress, if any
 *
 * Syntax. The input is the bytes of one write, not NUL terminated, at most
 * CONTROL_MAX_LINE bytes plus one optional trailing '\n'. Tokens are
 * separated by one or more spaces; leading and trailing spaces are allowed.
 * Every other byte must be printable ASCII (0x21..0x7e): NUL, tabs, other
 * control bytes, a second newline and bytes >= 0x7f are rejected. Verbs are
 * lower case, exactly as above.
 *   NAME   1..31 characters of [A-Za-z0-9_.-] (CACHE_NAME_MAX - 1), not "."
 *          or ".." (the module makes a directory of that name)
 *   numbers: decimal digits only (no sign, no 0x, no suffix), leading zeros
 *          allowed, at most 20 digits and below 2^64
 *   create SIZE     8 .. 2097152 (CONTROL_MAX_CACHE_SIZE: cache_create's limit;
 *                   8 so that every object can hold the executor's link)
 *   align=N         a power of two, 1 .. 4096 (omitted: the default, 8)
 *   sheaves=N       kmem_cache_args' sheaf_capacity, 1 .. 1024 (omitted: the
 *                   rules' default: none under 6.18, by size under 7.3);
 *                   refused (-EINVAL, execute) where the instance runs the
 *                   TID design alone (6.1, 6.12 rules, or asked so)
 *   COUNT           1 .. 1000000 (CONTROL_MAX_COUNT)
 *   kmalloc SIZE    1 .. 4194304 (CONTROL_MAX_KMALLOC: the largest kmalloc_large)
 *   compare SIZE    1 .. 4194304
 *   OPS             1 .. 100000000 (CONTROL_MAX_OPS)
 *
 * Errors (negative errno; the reason is one line of text):
 *   class                                           errno    from
 *   empty command, only spaces                      -EINVAL  parse
 *   unknown verb (any case other than the above)    -EINVAL  parse
 *   missing argument / extra argument               -EINVAL  parse
 *   not a number, a sign, 0x, a suffix              -EINVAL  parse
 *   number >= 2^64 (overflow)                       -EINVAL  parse
 *   zero where meaningless (SIZE, COUNT, OPS, align)-EINVAL  parse
 *   above a limit, align not a power of two         -EINVAL  parse
 *   NAME > 31 chars, char outside the set, . or ..  -EINVAL  parse
 *   create option other than align=N, sheaves=N,    -EINVAL  parse
 *     or one given twice
 *   NUL, control byte, byte >= 0x7f, 2nd newline    -EINVAL  parse
 *   command longer than CONTROL_MAX_LINE            -EINVAL  parse
 *   no cache of that NAME                           -ENOENT  execute
 *   create of a NAME that exists                    -EEXIST  execute
 *   pool exhausted in create/alloc/kmalloc          -ENOMEM  execute (what was
 *                                                            allocated stays held)
 *   executor already tracks CONTROL_MAX_CACHES      -ENOMEM  execute
 *   destroy: objects held, cache pinned (stress),   -EBUSY   execute
 *     live objects elsewhere, cache not created
 *     by this executor (kmalloc-*, kmem_cache)
 *   alloc/free/stress on kmem_cache (protected)     -EBUSY   execute
 *   stress, compare: handled by the embedding       CONTROL_DELEGATED (1)
 *   stop: handled by the embedding                  CONTROL_STOP (2)
 *
 * The executor. Control<P> runs parsed commands on one Slub<P>. The objects
 * it allocates are held by it, never shown: each held object's first word
 * links it into a singly linked list (every object is at least 8 bytes), one
 * list per cache it touched plus one for kmalloc, with counts. Caches are
 * found by name with Slub::find_cache; the executor keeps only a small table
 * of the caches it touched (CONTROL_MAX_CACHES entries: the list head, the
 * count, whether it created the cache, pins). After every command result()
 * holds a one-line text, e.g. "alloc foo: 100 objects held (100 total)".
 *
 * Locking: Control takes no lock of the core; it calls Slub's public
 * functions, each of which takes its own locks in the order of
 * slub/cache.h, and holds none between calls. Control itself is not
 * thread-safe: the embedding serialises every call (run, execute, pin,
 * unpin, release_all, result) and the rendering of cache files with one
 * mutex, the role of the kernel's slab_mutex.
 *
 * Delegated runs. stress and compare can run for minutes. The executor only
 * parses them and checks the cache: the embedding runs them without that
 * mutex held, so that other commands (stop above all) are not held up for the
 * length of a run; a stress run pins its cache, which keeps destroy away.
 * stop keeps no state here (CONTROL_STOP, result "stop: requested"): the
 * embedding knows whether a run is in progress, ends it, and reports the
 * outcome with set_result().
 */
#ifndef KSLUB_CONTROL_COMMAND_H
#define KSLUB_CONTROL_COMMAND_H

#include "base/base.h"
#include "slub/slub.h"

namespace kslub {

constexpr usize CONTROL_MAX_LINE = 127;
constexpr unsigned CONTROL_MAX_ARGS = 4;
constexpr u64 CONTROL_MAX_COUNT = 1000000;
constexpr u64 CONTROL_MIN_CACHE_SIZE = 8;
constexpr u64 CONTROL_MAX_CACHE_SIZE = CACHE_MAX_OBJECT_SIZE;
constexpr u64 CONTROL_MAX_ALIGN = PAGE_SIZE;
constexpr u64 CONTROL_MAX_SHEAVES = 1024; /* SHEAF_CAPACITY_MAX */
constexpr u64 CONTROL_MAX_KMALLOC = TOP_BLOCK_SIZE;
constexpr u64 CONTROL_MAX_OPS = 100000000;
constexpr unsigned CONTROL_MAX_CACHES = 64;
constexpr usize CONTROL_REASON_MAX = 128;
constexpr usize CONTROL_RESULT_MAX = 160;
/* execute() and run() return this for stress and compare: the embedding runs them. */
constexpr int CONTROL_DELEGATED = 1;
/* ... and this for stop: the embedding ends the delegated run in progress, if any. */
constexpr int CONTROL_STOP = 2;

static_assert(CONTROL_MAX_CACHE_SIZE == 2097152 && CONTROL_MAX_KMALLOC == 4194304,
	      "limits as documented");

enum class ControlVerb : u8 {
	None,
	Create,
	Destroy,
	Alloc,
	Free,
	Kmalloc,
	KfreeAll,
	Shrink,
	Validate,
	Stress,
	Compare,
	Stop,
};

inline const char *control_verb_name(ControlVerb v)
{
	switch (v) {
	case ControlVerb::None: return "";
	case ControlVerb::Create: return "create";
	case ControlVerb::Destroy: return "destroy";
	case ControlVerb::Alloc: return "alloc";
	case ControlVerb::Free: return "free";
	case ControlVerb::Kmalloc: return "kmalloc";
	case ControlVerb::KfreeAll: return "kfree-all";
	case ControlVerb::Shrink: return "shrink";
	case ControlVerb::Validate: return "validate";
	case ControlVerb::Stress: return "stress";
	case ControlVerb::Compare: return "compare";
	case ControlVerb::Stop: return "stop";
	}
	return "";
}

/* A parsed command. Fields a verb does not use are 0 / empty. */
struct ControlCommand {
	ControlVerb verb;
	char name[CACHE_NAME_MAX]; /* NUL terminated */
	u64 size;		   /* create, kmalloc, compare */
	u64 align;		   /* create; 0 when not given */
	u64 sheaves;		   /* create; 0 when not given */
	u64 count;		   /* alloc, free, kmalloc: COUNT; stress, compare: OPS */
};

struct ControlError {
	int code;			 /* 0 or a negative errno */
	char reason[CONTROL_REASON_MAX]; /* one line, no newline */
};

/* The errno's name, for result lines. */
inline const char *control_errno_name(int code)
{
	switch (-code) {
	case KSLUB_ENOENT: return "ENOENT";
	case KSLUB_ENOMEM: return "ENOMEM";
	case KSLUB_EFAULT: return "EFAULT";
	case KSLUB_EBUSY: return "EBUSY";
	case KSLUB_EEXIST: return "EEXIST";
	case KSLUB_EINVAL: return "EINVAL";
	case KSLUB_ENOSPC: return "ENOSPC";
	}
	return "E?";
}

/*
 * Parse one write. Returns 0 with *out filled, or a negative errno with
 * why->reason set (why may be nullptr). *out is zeroed first either way.
 */
inline int control_parse(const char *buf, usize len, ControlCommand *out, ControlError *why);

} // namespace kslub

#endif
