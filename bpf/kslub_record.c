// SPDX-License-Identifier: GPL-2.0-only
/*
 * kslub-record: record the running kernel's slab and page allocator events
 * (the kmem tracepoints) into a trace CSV that kslub-replay feeds through
 * kslub. The format is kslub_trace_csv.h's (/work/shared/DESIGN.md
 * "Observability"), with these metadata lines:
 *
 *   # kernel=<uname -r>
 *   # cpus=<possible CPUs>
 *   # lost=<events not recorded: lost_ringbuf + lost_recursion>
 *   # lost_ringbuf=<records the ring buffer had no room for>
 *   # lost_recursion=<events the kernel did not give the programs because a
 *                     BPF program was already running on that CPU (the
 *                     programs' recursion_misses)>
 *   KSLUB_TRACE_CSV_HEADER
 *
 * The lost counts are known only at the end, so the records go to a scratch
 * file first and the output is written when recording stops.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "kslub_record.h"
#include "kslub_record.skel.h"
#include "kslub_trace_csv.h"

/* By enum kslub_rec_type. */
static const char *const event_names[] = {KSLUB_TRACE_EVENT_NAMES};
_Static_assert(sizeof(event_names) / sizeof(event_names[0]) == KSLUB_TRACE_NR_EVENTS &&
		       KSLUB_REC_PAGE_FREE + 1 == KSLUB_TRACE_NR_EVENTS,
	       "enum kslub_rec_type follows KSLUB_TRACE_EVENT_NAMES");

static volatile sig_atomic_t stop;
static FILE *body;
static unsigned long long nr_records;
static unsigned long page_size;
static int verbose;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kslub-record [--duration S] [--output FILE] [--pid P] [--exclude-self] [--verbose]\n"
		"       kslub-record --check [--btf FILE]\n"
		"\n"
		"Record the kernel's kmem tracepoints (kmalloc, kfree, kmem_cache_alloc,\n"
		"kmem_cache_free, mm_page_alloc, mm_page_free) for S seconds (default 10;\n"
		"Ctrl-C stops early) into a trace CSV for kslub-replay:\n"
		"  " KSLUB_TRACE_CSV_HEADER "\n"
		"preceded by '# kernel=', '# cpus=' and '# lost=' lines. Page events carry\n"
		"the pfn in ptr and PAGE_SIZE << order in bytes_alloc.\n"
		"  --output FILE   write here (default: standard output)\n"
		"  --pid P         only events of process P (its threads included)\n"
		"  --exclude-self  leave out the events of kslub-record itself (its frees of other\n"
		"                  tasks' objects too, which the replay then counts as unseen)\n"
		"  --verbose       libbpf's messages too\n"
		"  --check         load the program (CO-RE relocation against the kernel's BTF),\n"
		"                  list the tracepoint fields that BTF has, and exit\n"
		"  --btf FILE      relocate against this BTF (a vmlinux or BTF file of another\n"
		"                  kernel) instead of /sys/kernel/btf/vmlinux; with --check\n"
		"Needs root (CAP_BPF and CAP_PERFMON), tracefs, and a kernel with BTF.\n");
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	if (level == LIBBPF_INFO && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/*
 * Cache names go into a comma-separated column: keep them to one safe field
 * (a comma, quote or unprintable byte becomes '_'). The ring buffer is mapped
 * read-only, so the name is copied.
 */
/*
 * The scratch file: an unlinked file in $TMPDIR (tmpfile() always uses /tmp,
 * which may be read-only, e.g. a root shared read-only with a tmpfs elsewhere),
 * else in /tmp.
 */
/*
 * Events the kernel skipped because a BPF program was already running on
 * that CPU (bpf_prog_info.recursion_misses, summed over the programs): they
 * never reached the ring buffer, so its own count misses them.
 */
static unsigned long long recursion_misses(struct bpf_object *obj)
{
	struct bpf_program *prog;
	unsigned long long n = 0;

	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);

		memset(&info, 0, sizeof(info));
		if (!bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			n += info.recursion_misses;
	}
	return n;
}

static FILE *scratch_file(void)
{
	const char *dir = getenv("TMPDIR");
	char path[4096];
	FILE *f;
	int fd;

	if (!dir || !*dir)
		return tmpfile();
	if (snprintf(path, sizeof(path), "%s/kslub-record.XXXXXX", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	unlink(path);
	f = fdopen(fd, "w+");
	if (!f)
		close(fd);
	return f;
}

static void clean_name(char *dst, const char *src, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n && src[i]; i++) {
		unsigned char ch = (unsigned char)src[i];

		dst[i] = ch == ',' || ch == '"' || ch <= ' ' || ch > '~' ? '_' : (char)ch;
	}
	dst[i] = 0;
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct kslub_rec *r = data;
	unsigned long long bytes_alloc = r->bytes_alloc;
	char name[KSLUB_REC_NAME_LEN];

	(void)ctx;
	if (size < sizeof(*r) || r->type > KSLUB_REC_PAGE_FREE)
		return 0;
	if (r->type == KSLUB_REC_PAGE_ALLOC || r->type == KSLUB_REC_PAGE_FREE)
		bytes_alloc = (unsigned long long)page_size << r->order;
	clean_name(name, r->cache, sizeof(name));
	fprintf(body, KSLUB_TRACE_CSV_RECORD_PREFIX "%s\n", (unsigned long long)r->ts_ns, r->cpu,
		event_names[r->type], (unsigned long long)r->ptr, (unsigned long long)r->call_site,
		(unsigned long long)r->bytes_req, bytes_alloc, (unsigned long long)r->gfp_flags,
		name);
	nr_records++;
	return 0;
}

/* 0 when the kmem tracepoints are visible in tracefs, else the errno of the look-up. */
static int tracefs_state(void)
{
	struct stat st;
	int e;

	if (!stat("/sys/kernel/tracing/events/kmem/kmalloc", &st))
		return 0;
	e = errno;
	if (!stat("/sys/kernel/debug/tracing/events/kmem/kmalloc", &st))
		return 0;
	return e;
}

static int tracefs_present(void)
{
	return !tracefs_state();
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * --check: the fields of the six tracepoint records in a kernel's BTF, as
 * the CO-RE relocation sees them (a field missing here reads as 0, the cache
 * name as empty).
 */
static int list_fields(const char *btf_path)
{
	static const struct {
		const char *tp, *type;
		const char *fields[6];
	} tps[] = {
		{"kmalloc",
		 "trace_event_raw_kmalloc",
		 {"call_site", "ptr", "bytes_req", "bytes_alloc", "gfp_flags"}},
		{"kfree", "trace_event_raw_kfree", {"call_site", "ptr"}},
		{"kmem_cache_alloc",
		 "trace_event_raw_kmem_cache_alloc",
		 {"call_site", "ptr", "bytes_req", "bytes_alloc", "gfp_flags", "__data_loc_name"}},
		{"kmem_cache_free",
		 "trace_event_raw_kmem_cache_free",
		 {"call_site", "ptr", "__data_loc_name"}},
		{"mm_page_alloc", "trace_event_raw_mm_page_alloc", {"pfn", "order", "gfp_flags"}},
		{"mm_page_free", "trace_event_raw_mm_page_free", {"pfn", "order"}},
	};
	struct btf *btf = btf__parse(btf_path, NULL);
	int missing_tp = 0;

	if (!btf) {
		fprintf(stderr, "kslub-record: cannot read BTF from %s: %s\n", btf_path,
			strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(tps) / sizeof(tps[0]); i++) {
		__s32 id = btf__find_by_name_kind(btf, tps[i].type, BTF_KIND_STRUCT);
		const struct btf_type *t;

		printf("kmem:%-17s", tps[i].tp);
		if (id < 0) {
			printf(" (no such tracepoint)\n");
			missing_tp++;
			continue;
		}
		t = btf__type_by_id(btf, id);
		for (int f = 0; f < 6 && tps[i].fields[f]; f++) {
			const struct btf_member *m = btf_members(t);
			int found = 0;

			for (int j = 0; j < btf_vlen(t); j++, m++)
				if (!strcmp(btf__name_by_offset(btf, m->name_off),
					    tps[i].fields[f]))
					found = 1;
			printf(" %s%s",
			       !strcmp(tps[i].fields[f], "__data_loc_name") ? "name" :
									      tps[i].fields[f],
			       found ? "" : "(absent)");
		}
		printf("\n");
	}
	btf__free(btf);
	return missing_tp ? 1 : 0;
}

static void explain_load_error(int err)
{
	struct rlimit rl;

	fprintf(stderr, "kslub-record: loading the BPF program failed: %s\n", strerror(-err));
	if (err == -EPERM || err == -EACCES) {
		if (geteuid() != 0)
			fprintf(stderr,
				"kslub-record: run it as root (sudo): loading BPF programs needs "
				"CAP_BPF and CAP_PERFMON\n");
		if (!getrlimit(RLIMIT_MEMLOCK, &rl) && rl.rlim_cur != RLIM_INFINITY)
			fprintf(stderr,
				"kslub-record: the locked-memory limit is %llu KiB; kernels before 5.11 charge BPF "
				"maps to it: raise it with `ulimit -l unlimited` (or LimitMEMLOCK=infinity)\n",
				(unsigned long long)rl.rlim_cur / 1024);
	} else if (err == -ENOENT || err == -EINVAL) {
		fprintf(stderr,
			"kslub-record: the kernel needs BTF (/sys/kernel/btf/vmlinux) and the kmem "
			"tracepoints; run with --verbose for libbpf's details\n");
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"duration", required_argument, 0, 'd'},
		{"output", required_argument, 0, 'o'},
		{"pid", required_argument, 0, 'p'},
		{"verbose", no_argument, 0, 'v'},
		{"exclude-self", no_argument, 0, 'x'},
		{"help", no_argument, 0, 'h'},
		{"check", no_argument, 0, 'c'},
		{"btf", required_argument, 0, 'b'},
		{0, 0, 0, 0},
	};
	double duration = 10;
	const char *output = NULL;
	long pid = 0;
	struct kslub_record_bpf *skel = NULL;
	struct ring_buffer *rb = NULL;
	struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};
	struct utsname uts;
	FILE *out = stdout;
	unsigned long long lost = 0, lost_ringbuf = 0, lost_recursion = 0;
	int ncpus, err, c, status = 1, exclude_self = 0, check = 0;
	const char *btf_path = NULL;
	char *end;

	while ((c = getopt_long(argc, argv, "d:o:p:vxcb:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			errno = 0;
			duration = strtod(optarg, &end);
			if (errno || *end || !(duration > 0) || duration > 86400) {
				fprintf(stderr,
					"kslub-record: --duration needs seconds from 0 to 86400, not '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'o': output = optarg; break;
		case 'p':
			errno = 0;
			pid = strtol(optarg, &end, 10);
			if (errno || *end || pid <= 0 || pid > 0x7fffffff) {
				fprintf(stderr,
					"kslub-record: --pid needs a process id, not '%s'\n",
					optarg);
				return 2;
			}
			if (kill((pid_t)pid, 0) && errno == ESRCH) {
				fprintf(stderr, "kslub-record: no process %ld\n", pid);
				return 2;
			}
			break;
		case 'v': verbose = 1; break;
		case 'x': exclude_self = 1; break;
		case 'c': check = 1; break;
		case 'b': btf_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "kslub-record: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}

	if (geteuid() != 0)
		fprintf(stderr,
			"kslub-record: warning: not running as root; loading BPF programs needs root "
			"(or CAP_BPF and CAP_PERFMON): try sudo\n");
	if (btf_path && !check) {
		fprintf(stderr,
			"kslub-record: --btf only goes with --check (recording needs the running kernel's BTF)\n");
		return 2;
	}
	if (check) {
		LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_path);

		libbpf_set_print(libbpf_print);
		setrlimit(RLIMIT_MEMLOCK, &rl);
		skel = kslub_record_bpf__open_opts(&oo);
		if (!skel) {
			fprintf(stderr, "kslub-record: opening the BPF object failed: %s\n",
				strerror(errno));
			return 1;
		}
		err = kslub_record_bpf__load(skel);
		kslub_record_bpf__destroy(skel);
		if (err) {
			explain_load_error(err);
			return 1;
		}
		printf("loaded: CO-RE relocations against %s resolved\n",
		       btf_path ? btf_path : "/sys/kernel/btf/vmlinux");
		return list_fields(btf_path ? btf_path : "/sys/kernel/btf/vmlinux");
	}
	err = tracefs_state();
	if (err == EACCES || err == EPERM) {
		fprintf(stderr,
			"kslub-record: cannot read /sys/kernel/tracing (permission denied): run kslub-record "
			"as root, e.g. sudo kslub-record ...\n");
		return 1;
	} else if (err) {
		fprintf(stderr,
			"kslub-record: the kmem tracepoints are not visible: tracefs is not mounted.\n"
			"  mount it (as root): mount -t tracefs none /sys/kernel/tracing\n");
		if (geteuid() != 0)
			fprintf(stderr,
				"  then run kslub-record as root (sudo): loading BPF programs needs root\n");
		return 1;
	}
	/* Kernels before 5.11 charge BPF maps to RLIMIT_MEMLOCK; later ones to the memory cgroup. */
	if (setrlimit(RLIMIT_MEMLOCK, &rl) && verbose)
		fprintf(stderr, "kslub-record: could not raise the locked-memory limit: %s\n",
			strerror(errno));

	page_size = (unsigned long)sysconf(_SC_PAGESIZE);
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		fprintf(stderr, "kslub-record: cannot read the possible CPUs: %s\n",
			strerror(-ncpus));
		return 1;
	}
	libbpf_set_print(libbpf_print);

	/* Opened (and truncated) now, so that a bad path fails before recording. */
	if (output && strcmp(output, "-")) {
		out = fopen(output, "w");
		if (!out) {
			fprintf(stderr, "kslub-record: cannot write %s: %s\n", output,
				strerror(errno));
			return 1;
		}
	}
	body = scratch_file();
	if (!body) {
		fprintf(stderr, "kslub-record: cannot create a scratch file in %s: %s\n",
			getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
			strerror(errno));
		return 1;
	}

	skel = kslub_record_bpf__open();
	if (!skel) {
		err = -errno;
		fprintf(stderr, "kslub-record: opening the BPF object failed: %s\n",
			strerror(-err));
		goto out;
	}
	skel->rodata->target_tgid = (__u32)pid;
	skel->rodata->self_tgid = exclude_self ? (__u32)getpid() : 0;
	{
		/* --pid and getpid() are ids of this PID namespace: the program translates to it. */
		struct stat ns;

		if (!stat("/proc/self/ns/pid", &ns)) {
			skel->rodata->pidns_dev = (__u64)ns.st_dev;
			skel->rodata->pidns_ino = (__u64)ns.st_ino;
		} else if (pid || exclude_self) {
			fprintf(stderr,
				"kslub-record: warning: cannot read /proc/self/ns/pid (%s): process ids are "
				"compared as the kernel's global ones\n",
				strerror(errno));
		}
	}
	err = kslub_record_bpf__load(skel);
	if (err) {
		explain_load_error(err);
		goto out;
	}
	err = kslub_record_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "kslub-record: attaching to the kmem tracepoints failed: %s\n",
			strerror(-err));
		if (!tracefs_present())
			fprintf(stderr,
				"  mount tracefs: mount -t tracefs none /sys/kernel/tracing\n");
		goto out;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_record, NULL, NULL);
	if (!rb) {
		fprintf(stderr, "kslub-record: cannot open the ring buffer: %s\n", strerror(errno));
		goto out;
	}

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (pid)
		fprintf(stderr,
			"kslub-record: recording the kmem events of process %ld for %g s (Ctrl-C stops)\n",
			pid, duration);
	else
		fprintf(stderr, "kslub-record: recording kmem events for %g s (Ctrl-C stops)\n",
			duration);
	{
		double t0 = now_s(), next = t0 + 1, t;

		while (!stop && (t = now_s()) < t0 + duration) {
			err = ring_buffer__poll(rb, 100);
			if (err < 0 && err != -EINTR) {
				fprintf(stderr,
					"kslub-record: reading the ring buffer failed: %s\n",
					strerror(-err));
				goto out;
			}
			if (t >= next) {
				fprintf(stderr, "kslub-record: %4.0f s  %llu events\n", t - t0,
					nr_records);
				next += 1;
			}
		}
	}
	/* Detach first, then drain what is still in the buffer. */
	kslub_record_bpf__detach(skel);
	ring_buffer__consume(rb);
	{
		__u64 *v = calloc((size_t)ncpus, sizeof(*v));
		__u32 zero = 0;

		if (v && !bpf_map_lookup_elem(bpf_map__fd(skel->maps.lost), &zero, v))
			for (int i = 0; i < ncpus; i++)
				lost_ringbuf += v[i];
		free(v);
	}
	lost_recursion = recursion_misses(skel->obj);
	lost = lost_ringbuf + lost_recursion;

	if (uname(&uts))
		strcpy(uts.release, "unknown");
	fprintf(out,
		"# kernel=%s\n# cpus=%d\n# lost=%llu\n# lost_ringbuf=%llu\n# lost_recursion=%llu\n",
		uts.release, ncpus, lost, lost_ringbuf, lost_recursion);
	fprintf(out, KSLUB_TRACE_CSV_HEADER "\n");
	fflush(body);
	rewind(body);
	{
		char buf[1 << 16];
		size_t n;

		while ((n = fread(buf, 1, sizeof(buf), body)) > 0)
			if (fwrite(buf, 1, n, out) != n)
				break;
	}
	if (fflush(out) || ferror(out) || ferror(body)) {
		fprintf(stderr, "kslub-record: writing %s failed: %s\n",
			output ? output : "the output", strerror(errno));
		goto out;
	}
	fprintf(stderr,
		"kslub-record: %llu events written to %s, %llu lost (%llu: ring buffer full%s; %llu: a BPF "
		"program was already running on that CPU)\n",
		nr_records, out == stdout ? "standard output" : output, lost, lost_ringbuf,
		lost_ringbuf ? ", record a shorter time or filter with --pid" : "", lost_recursion);
	status = 0;
out:
	if (out && out != stdout)
		fclose(out);
	ring_buffer__free(rb);
	kslub_record_bpf__destroy(skel);
	if (body)
		fclose(body);
	return status;
}
