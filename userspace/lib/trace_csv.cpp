// SPDX-License-Identifier: GPL-2.0-only
/* Trace CSV reader and the replay of a trace through a kslub instance (trace_csv.h). */
#include "trace_csv.h"

#include "slub/slub.h"
#include "user_platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unordered_map>
#include <unordered_set>

namespace kslub_trace {

static_assert(TRACE_MAX_CPUS == kslub::UserPlatform::MAX_CPUS, "kslub_create()'s most CPUs");

const char *const CSV_HEADER = KSLUB_TRACE_CSV_HEADER;

static const char *const event_names[] = {KSLUB_TRACE_EVENT_NAMES};
static_assert(sizeof(event_names) / sizeof(event_names[0]) == NR_EVENTS,
	      "KSLUB_TRACE_EVENT_NAMES has KSLUB_TRACE_NR_EVENTS names");

const char *event_name(Event e)
{
	unsigned i = unsigned(e);
	return i < NR_EVENTS ? event_names[i] : "?";
}

namespace {

constexpr size_t MAX_CACHE_NAME = 255;
constexpr size_t MAX_LINE_SHOWN = 40;

/* A field for an error message: printable, bounded. */
std::string shown(const char *s, size_t n)
{
	std::string out;
	for (size_t i = 0; i < n && out.size() < MAX_LINE_SHOWN; i++) {
		unsigned char c = static_cast<unsigned char>(s[i]);
		if (c >= ' ' && c <= '~') {
			out += char(c);
		} else {
			char buf[8];
			snprintf(buf, sizeof(buf), "\\x%02x", c);
			out += buf;
		}
	}
	if (n > MAX_LINE_SHOWN)
		out += "...";
	return out;
}

bool parse_dec(const char *s, size_t n, uint64_t *v)
{
	if (!n || n > 20)
		return false;
	uint64_t x = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		unsigned d = unsigned(s[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

bool parse_hex(const char *s, size_t n, uint64_t *v)
{
	if (n < 3 || n > 18 || s[0] != '0' || s[1] != 'x')
		return false;
	uint64_t x = 0;
	for (size_t i = 2; i < n; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = unsigned(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = unsigned(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = unsigned(c - 'A' + 10);
		else
			return false;
		x = (x << 4) | d;
	}
	*v = x;
	return true;
}

bool is_power_of_2(uint64_t x)
{
	return x && !(x & (x - 1));
}

unsigned log2_u64(uint64_t x)
{
	unsigned r = 0;
	while (x >>= 1)
		r++;
	return r;
}

constexpr unsigned NR_FIELDS = KSLUB_TRACE_CSV_FIELDS;

constexpr unsigned header_fields()
{
	unsigned n = 1;
	for (const char *c = KSLUB_TRACE_CSV_HEADER; *c; c++)
		n += *c == ',';
	return n;
}
static_assert(header_fields() == NR_FIELDS,
	      "KSLUB_TRACE_CSV_FIELDS counts KSLUB_TRACE_CSV_HEADER's fields");

/* The name of field i (0-based): the header line's i-th column. */
std::string field_name(unsigned i)
{
	const char *c = KSLUB_TRACE_CSV_HEADER;
	for (; i && *c; c++)
		i -= *c == ',';
	return std::string(c, strcspn(c, ","));
}

} // namespace

struct Reader::Impl {
	std::unordered_map<std::string, uint32_t> names; /* cache_names, indexed */
	std::unordered_set<uint64_t> anon_sizes; /* bytes_alloc of unnamed cache_alloc events */
	bool header_error_given = false;
};

Reader::Reader(Trace *t, size_t max_kept_errors, const TraceLimits &lim) :
	t_(t),
	max_kept_(max_kept_errors),
	lim_(lim),
	impl_(new Impl)
{
	for (uint32_t i = 0; i < t_->cache_names.size(); i++)
		impl_->names.emplace(t_->cache_names[i], i);
}

Reader::~Reader() = default;

void Reader::error(const std::string &what)
{
	t_->nr_errors++;
	if (t_->errors.size() < max_kept_)
		t_->errors.push_back(LineError{t_->lines, what});
}

void Reader::long_line(uint64_t n)
{
	t_->lines++;
	error("line too long: " + std::to_string(n) + " bytes, at most " +
	      std::to_string(lim_.max_line));
}

void Reader::line(const char *s, size_t n)
{
	if (n && s[n - 1] == '\r')
		n--;
	if (n > lim_.max_line)
		return long_line(n);
	t_->lines++;
	if (!n) {
		error("empty line");
		return;
	}
	if (s[0] == '#') {
		if (t_->header_seen) {
			error("metadata line after the header: '" + shown(s, n) + "'");
			return;
		}
		size_t i = 1;
		while (i < n && s[i] == ' ')
			i++;
		const char *eq = static_cast<const char *>(memchr(s + i, '=', n - i));
		if (!eq)
			return; /* a comment */
		std::string key(s + i, size_t(eq - (s + i)));
		const char *val = eq + 1;
		size_t vn = n - size_t(val - s);
		uint64_t v;
		if (key == "kernel") {
			t_->kernel = shown(val, vn);
		} else if (key == "cpus") {
			if (!parse_dec(val, vn, &v) || !v || v > TRACE_MAX_CPUS) {
				/* The replay's CPUs come from it: no replay without a usable one. */
				std::string what = "'# cpus=' needs a number from 1 to " +
						   std::to_string(TRACE_MAX_CPUS) +
						   " (the most CPUs kslub has), not '" +
						   shown(val, vn) + "'";
				error(what);
				if (!t_->fatal.line)
					t_->fatal = LineError{t_->lines, what};
			} else {
				t_->cpus = (long long)v;
			}
		} else if (key == "lost") {
			if (!parse_dec(val, vn, &v) || v > uint64_t(INT64_MAX))
				error("'# lost=' needs a number, not '" + shown(val, vn) + "'");
			else
				t_->lost = (long long)v;
		}
		return; /* other keys: ignored */
	}
	size_t hn = strlen(CSV_HEADER);
	if (n == hn && !memcmp(s, CSV_HEADER, hn)) {
		if (t_->header_seen)
			error("header repeated");
		t_->header_seen = true;
		return;
	}
	if (!t_->header_seen && !impl_->header_error_given) {
		impl_->header_error_given = true;
		error(std::string("record before the header line '") + CSV_HEADER + "'");
	}

	/* The fields of the header. */
	const char *f[NR_FIELDS];
	size_t fl[NR_FIELDS];
	unsigned nf = 0;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == ',') {
			if (nf == NR_FIELDS) {
				nf++;
				break;
			}
			f[nf] = s + start;
			fl[nf] = i - start;
			nf++;
			start = i + 1;
		}
	}
	if (nf != NR_FIELDS) {
		char buf[96];
		if (nf > NR_FIELDS)
			snprintf(buf, sizeof(buf), "more than %u fields", NR_FIELDS);
		else
			snprintf(buf, sizeof(buf), "%u fields, expected %u", nf, NR_FIELDS);
		error(std::string(buf) + ": '" + shown(s, n) + "'");
		return;
	}
	Record r;
	r.line = t_->lines;
	uint64_t cpu = 0;
	auto bad = [&](unsigned i, const char *expect) {
		error(std::string("field ") + std::to_string(i + 1) + " (" + field_name(i) +
		      "): expected " + expect + ", got '" + shown(f[i], fl[i]) + "'");
	};
	if (!parse_dec(f[0], fl[0], &r.ts_ns))
		return bad(0, "a decimal number");
	if (!parse_dec(f[1], fl[1], &cpu) || cpu >= TRACE_MAX_CPUS)
		return bad(1, "a CPU number from 0 to 255 (kslub has at most 256 CPUs)");
	r.cpu = uint32_t(cpu);
	unsigned ev = 0;
	while (ev < NR_EVENTS &&
	       !(strlen(event_names[ev]) == fl[2] && !memcmp(event_names[ev], f[2], fl[2])))
		ev++;
	if (ev == NR_EVENTS)
		return bad(2, "kmalloc, kfree, cache_alloc, cache_free, page_alloc or page_free");
	r.event = Event(ev);
	if (!parse_hex(f[3], fl[3], &r.ptr))
		return bad(3, "0x-hex");
	if (!parse_hex(f[4], fl[4], &r.call_site))
		return bad(4, "0x-hex");
	if (!parse_dec(f[5], fl[5], &r.bytes_req))
		return bad(5, "a decimal number");
	if (!parse_dec(f[6], fl[6], &r.bytes_alloc))
		return bad(6, "a decimal number");
	if (!parse_hex(f[7], fl[7], &r.gfp_flags))
		return bad(7, "0x-hex");
	if (fl[8] > MAX_CACHE_NAME)
		return bad(8, "a cache name of at most 255 bytes");
	for (size_t i = 0; i < fl[8]; i++)
		if (f[8][i] <= ' ' || f[8][i] > '~')
			return bad(8, "a cache name without spaces or control bytes");
	if ((r.event == Event::PageAlloc || r.event == Event::PageFree) &&
	    (!is_power_of_2(r.bytes_alloc) || r.bytes_alloc < 4096 ||
	     r.bytes_alloc > (uint64_t(4096) << 20)))
		return bad(6, "PAGE_SIZE << order for a page event");
	/* A new cache, named or not, only while there is room for it. */
	std::string name(f[8], fl[8]);
	auto it = impl_->names.find(name);
	bool new_name = it == impl_->names.end();
	bool new_anon = !fl[8] && r.event == Event::CacheAlloc &&
			!impl_->anon_sizes.count(r.bytes_alloc);
	if ((new_name || new_anon) && t_->caches >= lim_.max_caches) {
		std::string most = std::to_string(lim_.max_caches), expect;
		if (new_name)
			expect = "one of the " + most +
				 " caches already seen (a trace may have at most " + most + ")";
		else
			expect =
				"the size of a cache already seen (a cache_alloc without a name is "
				"on cache anon-<bytes_alloc>; a trace may have at most " +
				most + " caches)";
		return bad(new_name ? 8 : 6, expect.c_str());
	}
	if (new_name) {
		it = impl_->names.emplace(name, uint32_t(t_->cache_names.size())).first;
		t_->cache_names.push_back(name);
		t_->caches += fl[8] != 0;
	}
	if (new_anon) {
		impl_->anon_sizes.insert(r.bytes_alloc);
		t_->caches++;
	}
	r.cache_id = it->second;
	if (r.cpu > t_->max_cpu)
		t_->max_cpu = r.cpu;
	t_->per_event[ev]++;
	t_->records.push_back(r);
}

void Reader::finish()
{
	if (!t_->header_seen && !impl_->header_error_given) {
		impl_->header_error_given = true;
		error(std::string("no header line '") + CSV_HEADER + "'");
	}
}

void parse_trace(const char *data, size_t len, Trace *t, size_t max_kept_errors,
		 const TraceLimits &lim)
{
	Reader rd(t, max_kept_errors, lim);
	size_t start = 0;
	while (start < len) {
		const char *nl = static_cast<const char *>(memchr(data + start, '\n', len - start));
		size_t end = nl ? size_t(nl - data) : len;
		rd.line(data + start, end - start);
		start = end + 1;
	}
	rd.finish();
}

bool read_trace_stream(FILE *f, const char *name, Trace *t, std::string *err,
		       size_t max_kept_errors, const TraceLimits &lim)
{
	Reader rd(t, max_kept_errors, lim);
	/*
	 * Blocks of read_block bytes; a line within one is handed over where it
	 * lies, one across blocks is gathered in `line` up to max_line + 1
	 * bytes (room for a '\r'). Past that only its length is counted, up to
	 * its '\n', and it is reported by that.
	 */
	const size_t block = lim.read_block ? lim.read_block : 1;
	const size_t keep = lim.max_line < SIZE_MAX ? lim.max_line + 1 : lim.max_line;
	std::vector<char> buf(block);
	std::string line;
	line.reserve(keep < block ? keep : block);
	size_t line_held = line.capacity();
	bool too_long = false;
	uint64_t long_bytes = 0;
	char last = 0; /* the line's last byte so far */
	size_t got;
	while ((got = fread(buf.data(), 1, block, f)) > 0) {
		const char *p = buf.data(), *end = p + got;
		while (p < end) {
			const char *nl =
				static_cast<const char *>(memchr(p, '\n', size_t(end - p)));
			const char *stop = nl ? nl : end;
			size_t k = size_t(stop - p);
			if (k)
				last = stop[-1];
			if (too_long) {
				long_bytes += k;
			} else if (nl && line.empty() && k <= keep) {
				rd.line(p, k); /* the common case: no copy */
				last = 0;
				p = nl + 1;
				continue;
			} else if (k <= keep - line.size()) {
				line.append(p, k);
				if (line.capacity() > line_held)
					line_held = line.capacity();
			} else {
				too_long = true;
				long_bytes = line.size() + k;
			}
			if (!nl)
				break;
			if (too_long)
				rd.long_line(long_bytes - (last == '\r'));
			else
				rd.line(line.data(), line.size());
			line.clear();
			too_long = false;
			last = 0;
			p = nl + 1;
		}
	}
	size_t held = buf.capacity() + line_held;
	if (held > t->read_buffer_bytes)
		t->read_buffer_bytes = held;
	if (ferror(f)) {
		if (err)
			*err = std::string("reading ") + name + " failed: " + strerror(errno);
		return false;
	}
	if (too_long)
		rd.long_line(long_bytes - (last == '\r'));
	else if (!line.empty())
		rd.line(line.data(), line.size());
	rd.finish();
	return true;
}

bool read_trace_file(const char *path, Trace *t, std::string *err, size_t max_kept_errors,
		     const TraceLimits &lim)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!f) {
		if (err)
			*err = std::string("cannot open ") + path + ": " + strerror(errno);
		return false;
	}
	bool ok = read_trace_stream(f, path, t, err, max_kept_errors, lim);
	if (f != stdin)
		fclose(f);
	return ok;
}

std::string format_record(const Trace &t, const Record &r)
{
	char buf[192];
	snprintf(buf, sizeof(buf), KSLUB_TRACE_CSV_RECORD_PREFIX, (unsigned long long)r.ts_ns,
		 r.cpu, event_name(r.event), (unsigned long long)r.ptr,
		 (unsigned long long)r.call_site, (unsigned long long)r.bytes_req,
		 (unsigned long long)r.bytes_alloc, (unsigned long long)r.gfp_flags);
	return buf + t.cache_of(r) + "\n";
}

/* ------------------------------------------------------------------------ */
/* Replay                                                                   */
/* ------------------------------------------------------------------------ */

namespace {

/*
 * The core's constants, which are the kernel's too (kslub reproduces them):
 * ZERO_SIZE_PTR_VALUE, KMALLOC_MAX_CACHE_SIZE (above it kmalloc takes pages),
 * TOP_BLOCK_SIZE (kmalloc's largest, the kernel's KMALLOC_MAX_SIZE) and
 * CACHE_MAX_OBJECT_SIZE (kslub_cache_create()'s largest object).
 */
using kslub::CACHE_MAX_OBJECT_SIZE;
using kslub::KMALLOC_MAX_CACHE_SIZE;
using kslub::TOP_BLOCK_SIZE;
using kslub::ZERO_SIZE_PTR_VALUE;
constexpr size_t MAX_MISMATCHES = 16;
constexpr uint32_t NO_CACHE = UINT32_MAX;

struct Live {
	void *obj;
	uint64_t bytes; /* kslub's size of it */
	uint32_t idx;	/* entry */
};

struct Slot {
	uint64_t kptr = 0;
	void *obj = nullptr;
	bool valid = false;
};

struct Entry {
	CacheReport rep;
	kslub_cache_t *s = nullptr;
	bool created = false; /* by the replay, destroyed at the end */
	uint64_t live_bytes = 0;
};

} // namespace

uint32_t replay_sheaf_capacity(const std::string &cache_name)
{
	/* mm/vma_init.c and lib/maple_tree.c of 6.18; tests/data/caches-linux-6.18.txt: 32 and 32. */
	if (cache_name == "vm_area_struct" || cache_name == "maple_node")
		return 32;
	return 0;
}

bool kernel_flag_of_release(const std::string &release, unsigned *flag)
{
	unsigned major = 0, minor = 0;
	if (sscanf(release.c_str(), "%u.%u", &major, &minor) != 2 || major < 2)
		return false;
	*flag = major >= 7		  ? KSLUB_KERNEL_7_3 :
		major == 6 && minor >= 18 ? KSLUB_KERNEL_6_18 :
		major == 6 && minor >= 12 ? KSLUB_KERNEL_6_12 :
					    0;
	return true;
}

namespace {

/* A kslub cache name for a kernel one: printable, no '/', at most 31 bytes. */
std::string kslub_name_for(const std::string &kernel_name, unsigned attempt)
{
	std::string n = kernel_name;
	for (char &c : n)
		if (c <= ' ' || c > '~' || c == '/')
			c = '_';
	std::string suffix = attempt ? "~" + std::to_string(attempt) : "";
	size_t room = 31 - suffix.size();
	if (n.size() > room)
		n.resize(room);
	return n + suffix;
}

} // namespace

struct Replayer::Impl {
	ReplayOptions o;
	kslub_t *k = nullptr;
	bool sheaf_rules = false; /* 6.18 or 7.3 rules, not TID-only: caches may ask for sheaves */
	unsigned cpus = 1;
	std::vector<Entry> entries;
	std::unordered_map<kslub_cache_t *, uint32_t> by_kmalloc_cache;
	std::vector<uint32_t>
		by_trace_cache; /* trace cache_id -> entry, NO_CACHE when not yet made */
	std::vector<bool> trace_cache_failed;
	std::unordered_map<uint64_t, uint32_t>
		anon_by_size; /* bytes_alloc -> entry of unnamed caches */
	std::unordered_map<std::string, uint32_t> by_name; /* entries but kmalloc ones, by name */
	std::unordered_map<std::string, kslub_cache_t *> kslub_caches; /* the instance's, by name */
	uint32_t created = 0; /* caches this replay created in kslub */
	uint32_t large = NO_CACHE;
	std::unordered_map<uint64_t, Live> live;
	std::unordered_map<uint64_t, Slot> slots;
	ReplayReport r;
	uint64_t reports = 0;
	struct Last {
		Event event;
		uint64_t ptr, bytes_req;
	};
	Last last[TRACE_MAX_CPUS]; /* the previous record per trace CPU */

	uint32_t add_entry(const std::string &name, const std::string &kname, kslub_cache_t *s,
			   bool kmalloc, bool large_bucket, bool created)
	{
		Entry e;
		e.rep.name = name;
		e.rep.kslub_name = kname;
		e.rep.kmalloc = kmalloc;
		e.rep.large = large_bucket;
		e.s = s;
		e.created = created;
		if (s) {
			struct kslub_geometry g;
			if (!kslub_cache_geometry(s, &g))
				e.rep.object_size = g.object_size;
		}
		entries.push_back(e);
		return uint32_t(entries.size() - 1);
	}

	uint32_t kmalloc_entry(kslub_cache_t *s)
	{
		auto it = by_kmalloc_cache.find(s);
		if (it != by_kmalloc_cache.end())
			return it->second;
		const char *n = kslub_cache_name(s);
		uint32_t idx = add_entry(n, n, s, true, false, false);
		by_kmalloc_cache.emplace(s, idx);
		return idx;
	}

	uint32_t large_entry()
	{
		if (large == NO_CACHE)
			large = add_entry("kmalloc-large", "(pages)", nullptr, true, true, false);
		return large;
	}

	/* The entry for a cache_alloc event's cache, created on first sight; NO_CACHE if kslub refused it. */
	uint32_t cache_entry(const Trace &t, const Record &rec)
	{
		uint32_t id = rec.cache_id;
		if (t.cache_of(rec).empty()) {
			/*
			 * Kernels without the name field (kmem_cache_alloc before
			 * 6.18): one cache per object size, "anon-<size>".
			 */
			auto it = anon_by_size.find(rec.bytes_alloc);
			if (it != anon_by_size.end())
				return it->second;
			uint32_t idx =
				make_cache_entry("anon-" + std::to_string(rec.bytes_alloc), rec);
			anon_by_size.emplace(rec.bytes_alloc, idx);
			return idx;
		}
		if (id >= by_trace_cache.size()) {
			by_trace_cache.resize(t.cache_names.size() > id ? t.cache_names.size() :
									  id + 1,
					      NO_CACHE);
			trace_cache_failed.resize(by_trace_cache.size(), false);
		}
		if (by_trace_cache[id] != NO_CACHE || trace_cache_failed[id])
			return by_trace_cache[id];
		uint32_t idx = make_cache_entry(t.cache_of(rec), rec);
		if (idx == NO_CACHE)
			trace_cache_failed[id] = true;
		by_trace_cache[id] = idx;
		return idx;
	}

	/* The entry of cache NAME, made for the event REC; NO_CACHE if kslub refused it. */
	uint32_t make_cache_entry(const std::string &name, const Record &rec)
	{
		/* Two kernel names may map to one entry ("anon-40" named so in the trace). */
		auto known = by_name.find(name);
		if (known != by_name.end())
			return known->second;
		kslub_cache_t *s = nullptr;
		std::string kname;
		for (unsigned attempt = 0; attempt < 100 && !s; attempt++) {
			kname = kslub_name_for(name, attempt);
			auto existing = kslub_caches.find(kname);
			if (existing != kslub_caches.end()) {
				/* kslub's own kmalloc caches serve the kernel's of the same name. */
				if (!strncmp(kname.c_str(), "kmalloc-", 8) && kname == name)
					return kmalloc_entry(existing->second);
				continue;
			}
			int err = 0;
			if (!rec.bytes_alloc || rec.bytes_alloc > CACHE_MAX_OBJECT_SIZE ||
			    created >= o.max_caches)
				break; /* kslub_cache_create() would refuse (and report) it; or too many */
			/* 6.18 gives sheaves to the caches that ask; 7.x gives at least that. */
			uint32_t ask = sheaf_rules ? replay_sheaf_capacity(name) : 0;
			s = kslub_cache_create_sheaves(k, kname.c_str(), size_t(rec.bytes_alloc), 0,
						       0, nullptr, ask, &err);
			if (!s && err == -EEXIST) /* not made by the replay: note it, go on */
				if (kslub_cache_t *other = kslub_cache_find(k, kname.c_str()))
					kslub_caches.emplace(kname, other);
			if (!s && err != -EEXIST)
				break;
		}
		if (!s) {
			r.cache_create_failures++;
			return NO_CACHE;
		}
		created++;
		r.caches_created++;
		kslub_caches.emplace(kname, s);
		uint32_t idx = add_entry(name, kname, s, false, false, true);
		by_name.emplace(name, idx);
		return idx;
	}

	void free_obj(Entry &e, void *obj, bool as_kfree)
	{
		int rc = (as_kfree || !e.s) ? kslub_kfree(k, obj) : kslub_cache_free(e.s, obj);
		if (rc)
			r.free_errors++;
	}

	void track_alloc(uint32_t idx, uint64_t kptr, void *obj, uint64_t bytes, unsigned cpu)
	{
		auto old = live.find(kptr);
		if (old != live.end()) {
			/* A free the trace does not have (lost, or outside a --pid filter). */
			r.alloc_over_live++;
			Entry &oe = entries[old->second.idx];
			oe.rep.unseen_frees++;
			oe.rep.live--;
			oe.live_bytes -= old->second.bytes;
			free_obj(oe, old->second.obj, true);
			live.erase(old);
		}
		uint64_t key = (uint64_t(cpu) << 32) | idx;
		auto sl = slots.find(key);
		if (sl != slots.end() && sl->second.valid) {
			bool kh = sl->second.kptr == kptr, sh = sl->second.obj == obj;
			r.reuse_eligible++;
			r.reuse_kernel += kh;
			r.reuse_kslub += sh;
			r.reuse_both += kh && sh;
			r.reuse_agree += kh == sh;
			Entry &ce = entries[idx];
			ce.rep.reuse_eligible++;
			ce.rep.reuse_kernel += kh;
			ce.rep.reuse_kslub += sh;
			ce.rep.reuse_agree += kh == sh;
			if (ce.s && kslub_cache_sheaf_capacity(ce.s)) {
				r.reuse_eligible_sheaves++;
				r.reuse_agree_sheaves += kh == sh;
			}
			sl->second.valid = false;
		}
		live.emplace(kptr, Live{obj, bytes, idx});
		Entry &e = entries[idx];
		e.rep.allocs++;
		e.rep.live++;
		if (e.rep.live > e.rep.peak_live)
			e.rep.peak_live = e.rep.live;
		e.live_bytes += bytes;
		if (e.live_bytes > e.rep.peak_memory_bytes)
			e.rep.peak_memory_bytes = e.live_bytes;
	}

	void do_free(const Record &rec, unsigned cpu)
	{
		if (rec.ptr <= ZERO_SIZE_PTR_VALUE) {
			r.frees_null++;
			return;
		}
		auto it = live.find(rec.ptr);
		if (it == live.end()) {
			r.frees_unknown++;
			return;
		}
		Live l = it->second;
		live.erase(it);
		Entry &e = entries[l.idx];
		free_obj(e, l.obj, rec.event == Event::Kfree);
		e.rep.frees++;
		e.rep.live--;
		e.live_bytes -= l.bytes;
		Slot &s = slots[(uint64_t(cpu) << 32) | l.idx];
		s.kptr = rec.ptr;
		s.obj = l.obj;
		s.valid = true;
	}

	void apply(const Trace &t, const Record &rec)
	{
		r.events++;
		r.per_event[unsigned(rec.event)]++;
		unsigned cpu = rec.cpu % cpus;
		kslub_set_cpu(k, cpu);
		/* Records of the reader have cpu < TRACE_MAX_CPUS; others share a slot. */
		Last &slot = last[rec.cpu % TRACE_MAX_CPUS];
		Last prev = slot;
		slot = Last{rec.event, rec.ptr, rec.bytes_req};
		switch (rec.event) {
		case Event::Kmalloc: {
			r.kmalloc_events++;
			bool is_large = rec.bytes_req > KMALLOC_MAX_CACHE_SIZE;
			r.kmalloc_large_events += is_large;
			auto dup = live.end();
			if (prev.event == Event::Kmalloc && prev.ptr == rec.ptr &&
			    prev.bytes_req == rec.bytes_req && rec.ptr > ZERO_SIZE_PTR_VALUE)
				dup = live.find(rec.ptr);
			if (dup != live.end()) {
				r.kmalloc_duplicates++;
				uint64_t ks = kslub_ksize(k, dup->second.obj);
				bool agree = ks == rec.bytes_alloc;
				r.kmalloc_agree += agree;
				r.kmalloc_large_agree += agree && is_large;
				if (!agree && r.mismatches.size() < MAX_MISMATCHES)
					r.mismatches.push_back(
						{rec.line, rec.bytes_req, rec.bytes_alloc, ks});
				return;
			}
			size_t req = rec.bytes_req > SIZE_MAX ? SIZE_MAX : size_t(rec.bytes_req);
			void *obj = kslub_kmalloc(k, req, KSLUB_GFP_KERNEL);
			uint64_t ks = obj ? kslub_ksize(k, obj) : 0;
			bool agree = ks == rec.bytes_alloc && (obj || !rec.bytes_req);
			/*
			 * Above the largest block (4 MiB, order 10) both allocators
			 * fail; the kernel still traces PAGE_SIZE << get_order(size).
			 */
			if (!obj && !rec.ptr && rec.bytes_req > TOP_BLOCK_SIZE) {
				r.kmalloc_both_failed++;
				agree = true;
			}
			r.kmalloc_agree += agree;
			r.kmalloc_large_agree += agree && is_large;
			if (!agree && r.mismatches.size() < MAX_MISMATCHES)
				r.mismatches.push_back(
					{rec.line, rec.bytes_req, rec.bytes_alloc, ks});
			if (!rec.bytes_req)
				return; /* ZERO_SIZE_PTR on both sides: nothing to track */
			uint32_t idx;
			if (is_large) {
				idx = large_entry();
			} else {
				kslub_cache_t *s = kslub_kmalloc_cache(k, req);
				idx = s ? kmalloc_entry(s) : large_entry();
			}
			if (!obj) {
				r.alloc_failures++;
				entries[idx].rep.alloc_failures++;
				return;
			}
			if (!rec.ptr || rec.ptr == ZERO_SIZE_PTR_VALUE) {
				r.kernel_failed_allocs += !rec.ptr;
				kslub_kfree(k, obj);
				return;
			}
			track_alloc(idx, rec.ptr, obj, ks, cpu);
			return;
		}
		case Event::CacheAlloc: {
			uint32_t idx = cache_entry(t, rec);
			if (idx == NO_CACHE) {
				r.alloc_failures++;
				return;
			}
			Entry &e = entries[idx];
			void *obj = kslub_cache_alloc(e.s, KSLUB_GFP_KERNEL);
			if (!obj) {
				r.alloc_failures++;
				e.rep.alloc_failures++;
				return;
			}
			if (!rec.ptr) {
				r.kernel_failed_allocs++;
				kslub_cache_free(e.s, obj);
				return;
			}
			track_alloc(idx, rec.ptr, obj, e.rep.object_size, cpu);
			return;
		}
		case Event::Kfree:
		case Event::CacheFree: do_free(rec, cpu); return;
		case Event::PageAlloc:
		case Event::PageFree: {
			unsigned order = 0;
			if (rec.bytes_alloc >= 4096)
				order = log2_u64(rec.bytes_alloc / 4096);
			if (order >= REPLAY_MAX_ORDER)
				order = REPLAY_MAX_ORDER - 1;
			(rec.event == Event::PageAlloc ? r.page_alloc : r.page_free)[order]++;
			return;
		}
		}
	}

	void fill(ReplayReport *out)
	{
		*out = r;
		out->cpus = cpus;
		out->reports = reports;
		out->live_at_end = live.size();
		out->caches.clear();
		int alloc_slab = kslub_stat_index("alloc_slab");
		for (Entry &e : entries) {
			CacheReport c = e.rep;
			if (e.s) {
				for (unsigned i = 0; i < KSLUB_NR_STATS; i++) {
					c.stats[i] = kslub_cache_stat(e.s, i, -1);
					out->stats[i] += c.stats[i];
				}
				if (alloc_slab >= 0)
					c.slabs_allocated = c.stats[alloc_slab];
				c.sheaf_capacity = kslub_cache_sheaf_capacity(e.s);
				struct kslub_cache_usage u;
				struct kslub_geometry g;
				if (!kslub_cache_usage(e.s, &u) && !kslub_cache_geometry(e.s, &g)) {
					c.slabs = u.slabs;
					c.memory_bytes = u.slabs * (uint64_t(4096) << g.order);
				}
			} else {
				c.memory_bytes = e.live_bytes;
			}
			out->caches.push_back(c);
		}
	}

	~Impl()
	{
		if (!k)
			return;
		for (auto &kv : live)
			free_obj(entries[kv.second.idx], kv.second.obj, true);
		live.clear();
		for (Entry &e : entries)
			if (e.created && e.s)
				kslub_cache_destroy(e.s);
		kslub_destroy(k);
	}
};

Replayer::Replayer(const ReplayOptions &o) : impl_(new Impl)
{
	impl_->o = o;
}

Replayer::~Replayer() = default;

kslub_t *Replayer::instance() const
{
	return impl_->k;
}

bool Replayer::start(const Trace &t, std::string *err)
{
	Impl &m = *impl_;
	if (m.k) {
		if (err)
			*err = "replay already started";
		return false;
	}
	if (t.fatal.line) {
		if (err)
			*err = "line " + std::to_string(t.fatal.line) + ": " + t.fatal.what;
		return false;
	}
	uint64_t cpus = m.o.cpus;
	if (!cpus)
		cpus = t.cpus > 0 ? uint64_t(t.cpus) : uint64_t(t.max_cpu) + 1;
	if (cpus > TRACE_MAX_CPUS)
		cpus = TRACE_MAX_CPUS;
	m.cpus = unsigned(cpus);
	for (auto &l : m.last)
		l = Impl::Last{Event::PageFree, 0, 0};
	int e = 0;
	unsigned flags = m.o.create_flags;
	unsigned from_trace;
	m.r.rules_from_trace = m.o.kernel_from_trace &&
			       kernel_flag_of_release(t.kernel, &from_trace);
	if (m.r.rules_from_trace)
		flags = from_trace;
	m.sheaf_rules = !m.o.tid_only && (flags & (KSLUB_KERNEL_6_18 | KSLUB_KERNEL_7_3));
	m.r.rules = flags == KSLUB_KERNEL_7_3  ? "7.3" :
		    flags == KSLUB_KERNEL_6_18 ? "6.18" :
		    flags == KSLUB_KERNEL_6_12 ? "6.12" :
						 "6.1";
	if (m.o.tid_only)
		m.r.rules += " (TID design)";
	m.k = kslub_create(m.o.pool_bytes, m.cpus, 1,
			   flags | KSLUB_DETERMINISTIC | (m.o.tid_only ? KSLUB_TID_ONLY : 0), &e);
	if (!m.k) {
		if (err)
			*err = std::string("kslub_create failed: ") + strerror(-e);
		return false;
	}
	/* Misuse cannot come from a replay; whatever kslub reports is counted. */
	kslub_set_reporter(
		m.k,
		[](void *arg, const struct kslub_report *) { static_cast<Impl *>(arg)->reports++; },
		&m);
	/* kslub's own caches (kmem_cache, the kmalloc ones), so names are looked up here. */
	kslub_for_each_cache(
		m.k,
		[](kslub_cache_t *s, void *arg) {
			static_cast<Impl *>(arg)->kslub_caches.emplace(kslub_cache_name(s), s);
		},
		&m);
	return true;
}

void Replayer::apply(const Trace &t, const Record &r)
{
	if (impl_->k)
		impl_->apply(t, r);
}

void Replayer::report(ReplayReport *out)
{
	impl_->fill(out);
}

bool replay_trace(const Trace &t, const ReplayOptions &o, ReplayReport *out, std::string *err)
{
	Replayer rp(o);
	if (!rp.start(t, err))
		return false;
	for (const Record &r : t.records)
		rp.apply(t, r);
	rp.report(out);
	return true;
}

} // namespace kslub_trace
