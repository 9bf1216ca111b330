// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer target `control`: the debugfs command language end to end. The
 * input is split at newlines; each line (with its newline) is one write,
 * parsed and executed on a fresh deterministic instance per input (2 CPUs,
 * one 4 MiB node; the current CPU alternates with the line's first byte so
 * that frees cross CPUs). Commands that parse but ask for more than
 * FUZZ_MAX_COUNT objects are checked by the parser only, to keep executions
 * fast; pool exhaustion is reached anyway with large objects.
 *
 * Oracle (it knows no particular bug):
 *  - every command returns 0 or an errno of the table in control/command.h:
 *    a parse failure -EINVAL, and the executor gives the same code for the
 *    same bytes; stress and compare CONTROL_DELEGATED, stop CONTROL_STOP; errno per verb only
 *    from that verb's documented set;
 *  - a shadow of what the executor should hold (per cache name and for
 *    kmalloc), updated from the commands alone, equals what it holds (after
 *    every command: the named cache, kmalloc and the total; at the end:
 *    every cache), and the core's census of a created cache has exactly that
 *    many live objects (the cache a command names after that command, every
 *    created cache at the end); the held lists have their counted lengths;
 *  - create, destroy, validate, shrink and the ENOENT/EEXIST/EBUSY outcomes
 *    are predicted from the shadow (which names exist, which were created,
 *    how many objects are held); validate never finds an error;
 *  - result() is one line of printable ASCII; the renderers never write
 *    past their buffer;
 *  - the allocator reports nothing (the executor never misuses it);
 *  - at the end release_all() succeeds, every cache validates with 0
 *    errors, and after shrinking every cache the buddy allocator has the
 *    free pages it had after boot and passes its check.
 */
#include "slub/slub.h"
#include "control/control.h"
#include "show/show.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <map>
#include <set>
#include <string>

#include "user_platform.h"

using namespace kslub;
using UP = UserPlatform;
using Cache = KmemCache<UP>;

namespace {

constexpr unsigned CPUS = 2;
constexpr usize POOL = usize(4) << 20;
constexpr u64 FUZZ_MAX_COUNT = 4096;
constexpr unsigned MAX_LINES = 256;

[[noreturn]] void finding(const char *what, long a = 0, long b = 0, const char *text = "")
{
	fprintf(stderr, "kslub-fuzz(control): %s (%ld, %ld) %s\n", what, a, b, text);
	abort();
}

void on_report(void *, const Report &r)
{
	fprintf(stderr, "kslub-fuzz(control): allocator reported %s: %s (cache %s)\n",
		report_kind_name(r.kind), r.what ? r.what : "", r.cache ? r.cache : "-");
	abort();
}

bool one_line(const char *s, usize cap)
{
	usize n = 0;
	for (; n < cap && s[n]; n++)
		if (s[n] < 0x20 || s[n] > 0x7e)
			return false;
	return n < cap;
}

struct Instance {
	UP pal{CPUS, 1, true};
	Allocator<UP> alloc{pal};
	void *map = nullptr;
	usize bytes = POOL + TOP_BLOCK_SIZE;

	Instance()
	{
		pal.set_reporter(on_report, nullptr);
		map = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (map == MAP_FAILED)
			finding("mmap failed");
		RegionDesc r{reinterpret_cast<void *>(align_up(uptr(map), TOP_BLOCK_SIZE)), POOL,
			     0};
		if (alloc.init(&r, 1, KernelRules::Linux61))
			finding("instance init failed");
	}
	~Instance()
	{
		if (alloc.shutdown())
			finding("instance shutdown failed with everything released");
		UP::unpoison(map, bytes);
		munmap(map, bytes);
	}
};

/* Render every text of the layer into small buffers: bounded, terminated. */
void render_all(Instance &k, const char *cache_name)
{
	char buf[300];
	buf[sizeof(buf) - 1] = 'Z';
	usize n = render_slabinfo(k.alloc.slub(), buf, sizeof(buf) - 1);
	if (strnlen(buf, sizeof(buf) - 1) != min(n, sizeof(buf) - 2) || buf[sizeof(buf) - 1] != 'Z')
		finding("slabinfo overflowed or lost its NUL", long(n));
	n = render_buddyinfo(k.alloc.buddy(), buf, sizeof(buf) - 1);
	if (buf[sizeof(buf) - 1] != 'Z' || !n)
		finding("buddyinfo overflowed", long(n));
	Cache *s = k.alloc.slub().find_cache(cache_name);
	if (!s)
		return;
	for (unsigned i = 0; i < NR_CACHE_FILES; i++) {
		long m = render_cache_file(k.alloc.slub(), s, cache_file_name(i), buf, 64);
		if (m < 0 || strnlen(buf, 64) != min(usize(m), usize(63)) ||
		    buf[sizeof(buf) - 1] != 'Z')
			finding("cache file rendering failed", long(i), m);
	}
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Instance k;
	Slub<UP> &sl = k.alloc.slub();
	const u64 start_pages = k.alloc.buddy().free_page_count();
	Control<UP> ctl(sl);

	std::map<std::string, u64> held; /* shadow: objects held per cache name */
	std::set<std::string> created;	 /* caches the input created and has not destroyed */
	u64 held_km = 0;

	auto tracked = [&]() {
		usize n = created.size();
		for (auto &e : held)
			if (e.second && !created.count(e.first))
				n++;
		return n;
	};

	/* The core's census of a created cache: no error, exactly the held objects live. */
	auto census_matches = [&](const std::string &n) {
		Cache *s = sl.find_cache(n.c_str());
		CacheCensus c{};
		if (!s)
			finding("created cache vanished", 0, 0, n.c_str());
		if (sl.check(s, &c))
			finding("check found errors", 0, 0, n.c_str());
		if (c.live_objects != held[n])
			finding("live objects differ from the shadow", long(c.live_objects),
				long(held[n]), n.c_str());
	};

	const char *p = reinterpret_cast<const char *>(data);
	const char *end = p + size;
	unsigned lines = 0;
	while (p < end && lines++ < MAX_LINES) {
		const char *nl = static_cast<const char *>(memchr(p, '\n', usize(end - p)));
		usize len = nl ? usize(nl - p) + 1 : usize(end - p);
		const char *line = p;
		p += len;
		k.pal.set_current_cpu(len && (u8(line[0]) & 1) ? 1 : 0);

		ControlCommand cmd;
		ControlError why;
		int prc = control_parse(line, len, &cmd, &why);
		if (prc) {
			if (prc != -KSLUB_EINVAL)
				finding("parse failed with an errno other than EINVAL", prc);
			if (!one_line(why.reason, sizeof(why.reason)) || !why.reason[0])
				finding("parse reason is not one line of text");
			u64 before = ctl.held_total();
			if (ctl.run(line, len) != prc)
				finding("executor and parser disagree", prc);
			if (ctl.held_total() != before)
				finding("a rejected command changed what is held");
			continue;
		}
		bool big = (cmd.verb == ControlVerb::Alloc || cmd.verb == ControlVerb::Kmalloc) &&
			   cmd.count > FUZZ_MAX_COUNT;
		if (big)
			continue;

		std::string name = cmd.name;
		Cache *before = name.empty() ? nullptr : sl.find_cache(name.c_str());
		bool exists = before != nullptr;
		bool mine = created.count(name) != 0;
		bool prot = name == CONTROL_PROTECTED_CACHE;
		usize tracked_before = tracked();
		u64 km_before = held_km;

		int rc = ctl.run(line, len);
		if (!one_line(ctl.result(), CONTROL_RESULT_MAX))
			finding("result is not one line of text", rc);
		u64 v = ctl.value();

		switch (cmd.verb) {
		case ControlVerb::Create:
			if (exists ? rc != -KSLUB_EEXIST : !(rc == 0 || rc == -KSLUB_ENOMEM))
				finding("create: unexpected result", rc, exists, ctl.result());
			if (!exists && tracked_before >= CONTROL_MAX_CACHES && rc != -KSLUB_ENOMEM)
				finding("create beyond the table did not fail", rc);
			if (rc == 0) {
				created.insert(name);
				if (!sl.find_cache(name.c_str()))
					finding("created cache not found");
			}
			break;
		case ControlVerb::Destroy: {
			int want = !exists		 ? -KSLUB_ENOENT :
				   (!mine || held[name]) ? -KSLUB_EBUSY :
							   0;
			if (rc != want)
				finding("destroy: unexpected result", rc, want, ctl.result());
			if (rc == 0) {
				created.erase(name);
				held.erase(name);
				if (sl.find_cache(name.c_str()))
					finding("destroyed cache still found");
			}
			break;
		}
		case ControlVerb::Alloc:
			if (!exists ? rc != -KSLUB_ENOENT :
			    prot    ? rc != -KSLUB_EBUSY :
				      !(rc == 0 || rc == -KSLUB_ENOMEM))
				finding("alloc: unexpected result", rc, exists, ctl.result());
			if (rc == 0 && v != cmd.count)
				finding("alloc: count differs", long(v), long(cmd.count));
			if (rc == -KSLUB_ENOMEM && v >= cmd.count)
				finding("alloc: ENOMEM although everything was allocated", long(v));
			if (rc == -KSLUB_ENOMEM && !held[name] && !mine &&
			    tracked_before >= CONTROL_MAX_CACHES && v)
				finding("alloc: allocated although the table is full", long(v));
			if (rc == 0 || rc == -KSLUB_ENOMEM)
				held[name] += v;
			break;
		case ControlVerb::Free: {
			if (!exists ? rc != -KSLUB_ENOENT : prot ? rc != -KSLUB_EBUSY : rc != 0)
				finding("free: unexpected result", rc, exists, ctl.result());
			if (rc == 0) {
				u64 n = min(held[name], cmd.count);
				if (v != n)
					finding("free: freed count differs from the shadow",
						long(v), long(n));
				held[name] -= n;
			}
			break;
		}
		case ControlVerb::Kmalloc:
			if (!(rc == 0 || rc == -KSLUB_ENOMEM))
				finding("kmalloc: unexpected result", rc, 0, ctl.result());
			if ((rc == 0) != (v == cmd.count) || v > cmd.count)
				finding("kmalloc: count differs", long(v), long(cmd.count));
			held_km += v;
			break;
		case ControlVerb::KfreeAll:
			if (rc != 0 || v != km_before)
				finding("kfree-all: unexpected result", rc, long(v));
			held_km = 0;
			break;
		case ControlVerb::Shrink:
			if (rc != (exists ? 0 : -KSLUB_ENOENT))
				finding("shrink: unexpected result", rc, exists);
			break;
		case ControlVerb::Validate:
			if (rc != (exists ? 0 : -KSLUB_ENOENT))
				finding("validate: unexpected result", rc, exists);
			if (rc == 0 && v)
				finding("validate found errors", long(v), 0, ctl.result());
			break;
		case ControlVerb::Stress:
			if (rc != (!exists ? -KSLUB_ENOENT :
				   prot	   ? -KSLUB_EBUSY :
					     CONTROL_DELEGATED))
				finding("stress: unexpected result", rc, exists);
			break;
		case ControlVerb::Stop:
			if (rc != CONTROL_STOP)
				finding("stop: unexpected result", rc);
			break;
		case ControlVerb::Compare:
			if (rc != CONTROL_DELEGATED)
				finding("compare: unexpected result", rc);
			break;
		case ControlVerb::None: finding("parsed to no verb");
		}

		/* What is held equals the shadow, and the core agrees for created caches. */
		if (ctl.held_kmalloc() != held_km)
			finding("kmalloc objects held differ from the shadow",
				long(ctl.held_kmalloc()), long(held_km));
		u64 total = held_km;
		for (auto &e : held)
			total += e.second;
		if (!name.empty() && ctl.held(name.c_str()) != held[name])
			finding("objects held differ from the shadow", long(ctl.held(name.c_str())),
				long(held[name]), name.c_str());
		if (ctl.held_total() != total)
			finding("total held differs from the shadow", long(ctl.held_total()),
				long(total));
		if (created.count(name))
			census_matches(name);
		if (ctl.held_check())
			finding("a held list differs from its count");
		if (lines % 32 == 0)
			render_all(k, name.empty() ? "kmalloc-64" : name.c_str());
	}

	for (auto &e : held)
		if (ctl.held(e.first.c_str()) != e.second)
			finding("objects held differ from the shadow at the end",
				long(ctl.held(e.first.c_str())), long(e.second), e.first.c_str());
	for (const std::string &n : created)
		census_matches(n);
	render_all(k, "kmalloc-64");
	if (ctl.release_all())
		finding("release_all failed", 0, 0, ctl.result());
	if (ctl.held_total() || ctl.tracked())
		finding("something is still held after release_all");
	sl.for_each_cache([&](Cache *s) {
		if (sl.validate(s))
			finding("validate after release found errors", 0, 0, s->name);
		sl.shrink(s);
	});
	if (k.alloc.buddy().free_page_count() != start_pages)
		finding("free pages differ from the start", long(k.alloc.buddy().free_page_count()),
			long(start_pages));
	if (k.alloc.buddy().check())
		finding("buddy check failed");
	return 0;
}
