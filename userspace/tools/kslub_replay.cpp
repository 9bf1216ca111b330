// SPDX-License-Identifier: GPL-2.0-only
/*
 * kslub-replay: feed a trace of the kernel's slab allocator (kslub-record's
 * CSV) through kslub in deterministic mode and compare: size classes of every
 * kmalloc, LIFO reuse, per-cache counts and kslub's counters.
 */
#include "kslub.h"
#include "trace_csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace kslub_trace;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kslub-replay FILE [--json] [--cpus N] [--pool MIB] [--kernel 6.1|6.12|6.18|7.3]\n"
		"                    [--design kernel|tid] [--top N]\n"
		"\n"
		"Replay a trace recorded by kslub-record (FILE, or - for standard input) through\n"
		"kslub: one deterministic instance, each event on the CPU of its CPU column\n"
		"(folded onto the instance's N CPUs; default: the trace's '# cpus=' line).\n"
		"A kernel pointer maps to the kslub object allocated for it; frees of pointers\n"
		"the trace never allocated are counted and skipped, and so are malformed lines\n"
		"(reported with their line numbers on standard error).\n"
		"\n"
		"Reported:\n"
		"  size classes  kmalloc events where kslub's ksize() equals the kernel's bytes_alloc,\n"
		"                out of every kmalloc event in the file (large ones included)\n"
		"  reuse         allocations right after a free on the same CPU and cache: how often\n"
		"                the kernel returned the object just freed (LIFO), how often kslub did\n"
		"                (also for the caches replayed with sheaves alone, and per cache)\n"
		"  caches        allocations, frees, unseen frees (an object handed out again with no\n"
		"                free traced between), peak live objects, slabs allocated, memory at the\n"
		"                end, fast/slow path split (caches first seen in cache_alloc events are\n"
		"                created in kslub with the event's bytes_alloc as size; without a cache\n"
		"                name, as before Linux 6.18, one cache anon-<size> per bytes_alloc)\n"
		"  pages         page_alloc / page_free events of the trace per order\n"
		"  counters      the 43 SLUB_STATS counters summed over the replayed caches\n"
		"  speed         events per second of the replay (reading the file not included)\n"
		"\n"
		"  --json        the same as one JSON object on standard output\n"
		"  --cpus N      CPUs of the kslub instance (1..256)\n"
		"  --pool MIB    kslub's page pool in MiB (default 1024)\n"
		"  --kernel V    the rules of Linux 6.1, 6.12, 6.18 or 7.3 (default: those of the\n"
		"                trace's '# kernel=' line, 6.12 without one): cache geometry and the\n"
		"                per-CPU design, sheaves for every cache under 7.3, for the caches\n"
		"                6.18 creates with a sheaf_capacity (vm_area_struct, maple_node) under 6.18\n"
		"  --design D    kernel: the rules' per-CPU design (default); tid: the TID design\n"
		"                (CPU slab and lockless freelist) for every cache, to compare\n"
		"  --top N       caches shown in the table (default 25, 0: all)\n"
		"\n"
		"Limits: 256 CPUs, the most kslub has (a '# cpus=' line outside 1..256 stops\n"
		"the replay before it starts; a record of CPU 256 or above is reported and\n"
		"skipped); 1024 distinct caches, names and anon-<size> together (a record that\n"
		"would add one more is reported and skipped); lines of 4096 bytes (a longer one\n"
		"is reported with its length and skipped, and never held in memory whole).\n"
		"\n"
		"Exit status: 0 replayed, every line accepted; 3 replayed, malformed lines skipped;\n"
		"1 the file could not be read, its '# cpus=' line is unusable or the instance\n"
		"not created; 2 bad arguments.\n");
}

static double now_s()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

static double pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * double(a) / double(b) : 100.0;
}

static std::string json_str(const std::string &s)
{
	std::string o = "\"";
	for (char c : s) {
		if (c == '"' || c == '\\')
			o += '\\';
		if (static_cast<unsigned char>(c) < ' ') {
			char b[8];
			snprintf(b, sizeof(b), "\\u%04x", c);
			o += b;
			continue;
		}
		o += c;
	}
	return o + "\"";
}

static bool parse_num(const char *s, unsigned long lo, unsigned long hi, unsigned long *v)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return false;
	unsigned long x = strtoul(s, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return false;
	*v = x;
	return true;
}

static int stat_idx(const char *name)
{
	for (unsigned i = 0; i < KSLUB_NR_STATS; i++)
		if (!strcmp(kslub_stat_name(i), name))
			return int(i);
	return 0;
}

static void print_json(const char *path, const Trace &t, const ReplayReport &r, double read_s,
		       double replay_s)
{
	printf("{\n");
	printf("  \"file\": %s,\n", json_str(path).c_str());
	printf("  \"kernel\": %s,\n", json_str(t.kernel).c_str());
	printf("  \"trace_cpus\": %lld,\n", t.cpus);
	printf("  \"lost\": %lld,\n", t.lost);
	printf("  \"lines\": %llu,\n", (unsigned long long)t.lines);
	printf("  \"records\": %llu,\n", (unsigned long long)t.records.size());
	printf("  \"malformed_lines\": %llu,\n", (unsigned long long)t.nr_errors);
	printf("  \"rules\": %s,\n", json_str(r.rules).c_str());
	printf("  \"rules_from_trace\": %s,\n", r.rules_from_trace ? "true" : "false");
	printf("  \"cpus\": %u,\n", r.cpus);
	printf("  \"events\": %llu,\n", (unsigned long long)r.events);
	for (unsigned e = 0; e < NR_EVENTS; e++)
		printf("  \"events_%s\": %llu,\n", event_name(Event(e)),
		       (unsigned long long)r.per_event[e]);
	printf("  \"kmalloc_events\": %llu,\n", (unsigned long long)r.kmalloc_events);
	printf("  \"kmalloc_size_class_agree\": %llu,\n", (unsigned long long)r.kmalloc_agree);
	printf("  \"kmalloc_size_class_agreement_pct\": %.4f,\n",
	       pct(r.kmalloc_agree, r.kmalloc_events));
	printf("  \"kmalloc_large_events\": %llu,\n", (unsigned long long)r.kmalloc_large_events);
	printf("  \"kmalloc_large_agree\": %llu,\n", (unsigned long long)r.kmalloc_large_agree);
	printf("  \"kmalloc_both_failed\": %llu,\n", (unsigned long long)r.kmalloc_both_failed);
	printf("  \"reuse_eligible\": %llu,\n", (unsigned long long)r.reuse_eligible);
	printf("  \"reuse_kernel_lifo\": %llu,\n", (unsigned long long)r.reuse_kernel);
	printf("  \"reuse_kslub_lifo\": %llu,\n", (unsigned long long)r.reuse_kslub);
	printf("  \"reuse_both_lifo\": %llu,\n", (unsigned long long)r.reuse_both);
	printf("  \"reuse_agree\": %llu,\n", (unsigned long long)r.reuse_agree);
	printf("  \"reuse_agreement_pct\": %.4f,\n", pct(r.reuse_agree, r.reuse_eligible));
	printf("  \"reuse_eligible_sheaves\": %llu,\n",
	       (unsigned long long)r.reuse_eligible_sheaves);
	printf("  \"reuse_agree_sheaves\": %llu,\n", (unsigned long long)r.reuse_agree_sheaves);
	printf("  \"frees_unknown\": %llu,\n", (unsigned long long)r.frees_unknown);
	printf("  \"frees_null\": %llu,\n", (unsigned long long)r.frees_null);
	printf("  \"alloc_over_live\": %llu,\n", (unsigned long long)r.alloc_over_live);
	printf("  \"kmalloc_duplicates\": %llu,\n", (unsigned long long)r.kmalloc_duplicates);
	printf("  \"kernel_failed_allocs\": %llu,\n", (unsigned long long)r.kernel_failed_allocs);
	printf("  \"kslub_alloc_failures\": %llu,\n", (unsigned long long)r.alloc_failures);
	printf("  \"kslub_free_errors\": %llu,\n", (unsigned long long)r.free_errors);
	printf("  \"kslub_reports\": %llu,\n", (unsigned long long)r.reports);
	printf("  \"caches_created\": %llu,\n", (unsigned long long)r.caches_created);
	printf("  \"cache_create_failures\": %llu,\n", (unsigned long long)r.cache_create_failures);
	printf("  \"live_at_end\": %llu,\n", (unsigned long long)r.live_at_end);
	printf("  \"read_seconds\": %.6f,\n", read_s);
	printf("  \"replay_seconds\": %.6f,\n", replay_s);
	printf("  \"replay_events_per_second\": %.0f,\n",
	       replay_s > 0 ? double(r.events) / replay_s : 0.0);
	printf("  \"mismatches\": [");
	for (size_t i = 0; i < r.mismatches.size(); i++)
		printf("%s\n    {\"line\": %llu, \"bytes_req\": %llu, \"kernel\": %llu, \"kslub\": %llu}",
		       i ? "," : "", (unsigned long long)r.mismatches[i].line,
		       (unsigned long long)r.mismatches[i].bytes_req,
		       (unsigned long long)r.mismatches[i].kernel_bytes_alloc,
		       (unsigned long long)r.mismatches[i].kslub_bytes_alloc);
	printf("%s],\n", r.mismatches.empty() ? "" : "\n  ");
	printf("  \"errors\": [");
	for (size_t i = 0; i < t.errors.size(); i++)
		printf("%s\n    {\"line\": %llu, \"what\": %s}", i ? "," : "",
		       (unsigned long long)t.errors[i].line, json_str(t.errors[i].what).c_str());
	printf("%s],\n", t.errors.empty() ? "" : "\n  ");
	printf("  \"pages\": [");
	for (unsigned o = 0; o < REPLAY_MAX_ORDER; o++)
		printf("%s\n    {\"order\": %u, \"alloc\": %llu, \"free\": %llu}", o ? "," : "", o,
		       (unsigned long long)r.page_alloc[o], (unsigned long long)r.page_free[o]);
	printf("\n  ],\n");
	printf("  \"stats\": {");
	for (unsigned i = 0; i < KSLUB_NR_STATS; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", kslub_stat_name(i),
		       (unsigned long long)r.stats[i]);
	printf("},\n");
	printf("  \"caches\": [");
	for (size_t i = 0; i < r.caches.size(); i++) {
		const CacheReport &c = r.caches[i];
		printf("%s\n    {\"name\": %s, \"kslub_name\": %s, \"kmalloc\": %s, \"large\": %s, \"object_size\": %u, "
		       "\"allocs\": %llu, \"frees\": %llu, \"live\": %llu, \"peak_live\": %llu, \"alloc_failures\": %llu, "
		       "\"unseen_frees\": %llu, "
		       "\"slabs_allocated\": %llu, \"slabs\": %llu, \"memory_bytes\": %llu, "
		       "\"sheaf_capacity\": %u, \"reuse_eligible\": %llu, \"reuse_agree\": %llu, \"stats\": {",
		       i ? "," : "", json_str(c.name).c_str(), json_str(c.kslub_name).c_str(),
		       c.kmalloc ? "true" : "false", c.large ? "true" : "false", c.object_size,
		       (unsigned long long)c.allocs, (unsigned long long)c.frees,
		       (unsigned long long)c.live, (unsigned long long)c.peak_live,
		       (unsigned long long)c.alloc_failures, (unsigned long long)c.unseen_frees,
		       (unsigned long long)c.slabs_allocated, (unsigned long long)c.slabs,
		       (unsigned long long)c.memory_bytes, c.sheaf_capacity,
		       (unsigned long long)c.reuse_eligible, (unsigned long long)c.reuse_agree);
		for (unsigned s = 0; s < KSLUB_NR_STATS; s++)
			printf("%s\"%s\": %llu", s ? ", " : "", kslub_stat_name(s),
			       (unsigned long long)c.stats[s]);
		printf("}}");
	}
	printf("%s]\n}\n", r.caches.empty() ? "" : "\n  ");
}

static void print_table(const char *path, const Trace &t, const ReplayReport &r, double read_s,
			double replay_s, unsigned long top)
{
	const int AF = stat_idx("alloc_fastpath"), AS = stat_idx("alloc_slowpath"),
		  FF = stat_idx("free_fastpath"), FS = stat_idx("free_slowpath");
	printf("trace         %s: kernel %s, %lld CPUs, %lld lost, %llu records, %llu malformed lines\n",
	       path, t.kernel.empty() ? "?" : t.kernel.c_str(), t.cpus, t.lost,
	       (unsigned long long)t.records.size(), (unsigned long long)t.nr_errors);
	printf("rules         %s%s\n", r.rules.c_str(),
	       r.rules_from_trace ? " (from the trace's kernel line)" : "");
	printf("replay        %llu events on %u CPUs in %.3f s: %.0f events/s (reading the file: %.3f s)\n",
	       (unsigned long long)r.events, r.cpus, replay_s,
	       replay_s > 0 ? double(r.events) / replay_s : 0.0, read_s);
	printf("events       ");
	for (unsigned e = 0; e < NR_EVENTS; e++)
		printf(" %s %llu", event_name(Event(e)), (unsigned long long)r.per_event[e]);
	printf("\n\n");
	printf("size classes  %llu of %llu kmalloc events agree (%.2f%%); large (> 8 KiB): %llu of %llu",
	       (unsigned long long)r.kmalloc_agree, (unsigned long long)r.kmalloc_events,
	       pct(r.kmalloc_agree, r.kmalloc_events), (unsigned long long)r.kmalloc_large_agree,
	       (unsigned long long)r.kmalloc_large_events);
	if (r.kmalloc_both_failed)
		printf(" (%llu above 4 MiB failed in both)",
		       (unsigned long long)r.kmalloc_both_failed);
	printf("\n");
	for (const auto &m : r.mismatches)
		printf("              line %llu: kmalloc(%llu): kernel %llu bytes, kslub %llu\n",
		       (unsigned long long)m.line, (unsigned long long)m.bytes_req,
		       (unsigned long long)m.kernel_bytes_alloc,
		       (unsigned long long)m.kslub_bytes_alloc);
	printf("reuse (LIFO)  %llu allocations right after a free on that CPU and cache: the kernel returned the "
	       "freed object in %.1f%%, kslub in %.1f%%, both in %.1f%%; same outcome %.1f%%\n",
	       (unsigned long long)r.reuse_eligible, pct(r.reuse_kernel, r.reuse_eligible),
	       pct(r.reuse_kslub, r.reuse_eligible), pct(r.reuse_both, r.reuse_eligible),
	       pct(r.reuse_agree, r.reuse_eligible));
	if (r.reuse_eligible_sheaves)
		printf("              in the caches replayed with sheaves: %llu, same outcome %.1f%%\n",
		       (unsigned long long)r.reuse_eligible_sheaves,
		       pct(r.reuse_agree_sheaves, r.reuse_eligible_sheaves));
	printf("pointers      frees of pointers not allocated in the trace %llu, of NULL %llu; allocations over a "
	       "live pointer %llu;\n              kmalloc events repeating the one before (traced twice) %llu; "
	       "failed in the kernel %llu, in kslub %llu;\n              kslub free errors %llu, "
	       "reports %llu; caches created %llu (refused %llu); live at the end %llu\n\n",
	       (unsigned long long)r.frees_unknown, (unsigned long long)r.frees_null,
	       (unsigned long long)r.alloc_over_live, (unsigned long long)r.kmalloc_duplicates,
	       (unsigned long long)r.kernel_failed_allocs, (unsigned long long)r.alloc_failures,
	       (unsigned long long)r.free_errors, (unsigned long long)r.reports,
	       (unsigned long long)r.caches_created, (unsigned long long)r.cache_create_failures,
	       (unsigned long long)r.live_at_end);

	std::vector<CacheReport> caches = r.caches;
	std::stable_sort(caches.begin(), caches.end(),
			 [](const CacheReport &a, const CacheReport &b) {
				 return a.allocs > b.allocs;
			 });
	printf("%-24s %8s %9s %9s %8s %9s %11s %6s %10s %10s %10s %10s %10s %7s %9s\n", "cache",
	       "obj_size", "allocs", "frees", "unseen", "peak_live", "slabs_alloc", "slabs",
	       "memory_KiB", "alloc_fast", "alloc_slow", "free_fast", "free_slow", "sheaves",
	       "reuse_eq%");
	CacheReport total;
	size_t shown = 0;
	for (const CacheReport &c : caches) {
		total.allocs += c.allocs;
		total.frees += c.frees;
		total.unseen_frees += c.unseen_frees;
		total.slabs_allocated += c.slabs_allocated;
		total.slabs += c.slabs;
		total.memory_bytes += c.memory_bytes;
		if (top && shown >= top)
			continue;
		shown++;
		printf("%-24.24s %8u %9llu %9llu %8llu %9llu %11llu %6llu %10llu %10llu %10llu %10llu "
		       "%10llu %7u %9.1f\n",
		       c.name.c_str(), c.object_size, (unsigned long long)c.allocs,
		       (unsigned long long)c.frees, (unsigned long long)c.unseen_frees,
		       (unsigned long long)c.peak_live, (unsigned long long)c.slabs_allocated,
		       (unsigned long long)c.slabs, (unsigned long long)(c.memory_bytes / 1024),
		       (unsigned long long)c.stats[AF], (unsigned long long)c.stats[AS],
		       (unsigned long long)c.stats[FF], (unsigned long long)c.stats[FS],
		       c.sheaf_capacity, pct(c.reuse_agree, c.reuse_eligible));
	}
	if (shown < caches.size())
		printf("(%zu more caches: --top 0 shows all)\n", caches.size() - shown);
	printf("%-24s %8s %9llu %9llu %8llu %9s %11llu %6llu %10llu %10llu %10llu %10llu %10llu\n",
	       "total", "", (unsigned long long)total.allocs, (unsigned long long)total.frees,
	       (unsigned long long)total.unseen_frees, "",
	       (unsigned long long)total.slabs_allocated, (unsigned long long)total.slabs,
	       (unsigned long long)(total.memory_bytes / 1024), (unsigned long long)r.stats[AF],
	       (unsigned long long)r.stats[AS], (unsigned long long)r.stats[FF],
	       (unsigned long long)r.stats[FS]);
	printf("fast paths    allocations %.1f%%, frees %.1f%%\n\n",
	       pct(r.stats[AF], r.stats[AF] + r.stats[AS]),
	       pct(r.stats[FF], r.stats[FF] + r.stats[FS]));

	printf("pages (trace) order");
	for (unsigned o = 0; o < REPLAY_MAX_ORDER; o++)
		printf(" %7u", o);
	printf("\n              alloc");
	for (unsigned o = 0; o < REPLAY_MAX_ORDER; o++)
		printf(" %7llu", (unsigned long long)r.page_alloc[o]);
	printf("\n              free ");
	for (unsigned o = 0; o < REPLAY_MAX_ORDER; o++)
		printf(" %7llu", (unsigned long long)r.page_free[o]);
	printf("\n\ncounters (summed over the replayed caches)\n");
	for (unsigned i = 0; i < KSLUB_NR_STATS; i++)
		printf("  %-24s %12llu%s", kslub_stat_name(i), (unsigned long long)r.stats[i],
		       i % 3 == 2 ? "\n" : "");
	printf("\n");
}

int main(int argc, char **argv)
{
	const char *path = nullptr;
	bool json = false;
	ReplayOptions o;
	o.kernel_from_trace = true;
	unsigned long top = 25;
	for (int i = 1; i < argc; i++) {
		unsigned long v;
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else if (!strcmp(a, "--cpus") && i + 1 < argc) {
			if (!parse_num(argv[++i], 1, 256, &v)) {
				fprintf(stderr,
					"kslub-replay: --cpus needs a number from 1 to 256, not '%s'\n",
					argv[i]);
				return 2;
			}
			o.cpus = unsigned(v);
		} else if (!strcmp(a, "--pool") && i + 1 < argc) {
			if (!parse_num(argv[++i], 8, 1 << 20, &v)) {
				fprintf(stderr,
					"kslub-replay: --pool needs MiB from 8 to 1048576, not '%s'\n",
					argv[i]);
				return 2;
			}
			o.pool_bytes = size_t(v) << 20;
		} else if (!strcmp(a, "--design") && i + 1 < argc) {
			const char *d = argv[++i];
			if (strcmp(d, "tid") && strcmp(d, "kernel")) {
				fprintf(stderr,
					"kslub-replay: --design takes tid or kernel, not '%s'\n",
					d);
				return 2;
			}
			o.tid_only = !strcmp(d, "tid");
		} else if (!strcmp(a, "--kernel") && i + 1 < argc) {
			o.kernel_from_trace = false;
			const char *k = argv[++i];
			if (!strcmp(k, "6.1")) {
				o.create_flags = 0;
			} else if (!strcmp(k, "6.12")) {
				o.create_flags = KSLUB_KERNEL_6_12;
			} else if (!strcmp(k, "6.18")) {
				o.create_flags = KSLUB_KERNEL_6_18;
			} else if (!strcmp(k, "7.3")) {
				o.create_flags = KSLUB_KERNEL_7_3;
			} else {
				fprintf(stderr,
					"kslub-replay: --kernel takes 6.1, 6.12, 6.18 or 7.3, not '%s'\n",
					k);
				return 2;
			}
		} else if (!strcmp(a, "--top") && i + 1 < argc) {
			if (!parse_num(argv[++i], 0, 1000000, &v)) {
				fprintf(stderr, "kslub-replay: --top needs a number, not '%s'\n",
					argv[i]);
				return 2;
			}
			top = v;
		} else if ((a[0] != '-' || !strcmp(a, "-")) && !path) {
			path = a;
		} else {
			fprintf(stderr, "kslub-replay: unknown or incomplete argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (!path) {
		fprintf(stderr, "kslub-replay: no trace file given\n");
		usage(stderr);
		return 2;
	}

	Trace t;
	std::string err;
	double t0 = now_s();
	if (!read_trace_file(path, &t, &err, 50)) {
		fprintf(stderr, "kslub-replay: %s\n", err.c_str());
		return 1;
	}
	double read_s = now_s() - t0;
	for (const LineError &e : t.errors)
		if (!t.fatal.line || e.line != t.fatal.line) /* that one is shown last */
			fprintf(stderr, "kslub-replay: %s:%llu: %s\n", path,
				(unsigned long long)e.line, e.what.c_str());
	if (t.nr_errors > t.errors.size())
		fprintf(stderr, "kslub-replay: %s: %llu more malformed lines not shown\n", path,
			(unsigned long long)(t.nr_errors - t.errors.size()));
	if (t.fatal.line) {
		fprintf(stderr, "kslub-replay: %s:%llu: %s: the trace is not replayed\n", path,
			(unsigned long long)t.fatal.line, t.fatal.what.c_str());
		return 1;
	}
	if (t.nr_errors)
		fprintf(stderr, "kslub-replay: %s: %llu of %llu lines malformed and skipped\n",
			path, (unsigned long long)t.nr_errors, (unsigned long long)t.lines);

	Replayer rp(o);
	if (!rp.start(t, &err)) {
		fprintf(stderr, "kslub-replay: %s\n", err.c_str());
		return 1;
	}
	double t1 = now_s();
	for (const Record &r : t.records)
		rp.apply(t, r);
	double replay_s = now_s() - t1;
	ReplayReport rep;
	rp.report(&rep);
	if (json)
		print_json(path, t, rep, read_s, replay_s);
	else
		print_table(path, t, rep, read_s, replay_s, top);
	if (fflush(stdout)) {
		fprintf(stderr, "kslub-replay: writing the report failed: %s\n", strerror(errno));
		return 1;
	}
	return t.nr_errors ? 3 : 0;
}
