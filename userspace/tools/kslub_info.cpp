// SPDX-License-Identifier: GPL-2.0-only
/* kslub-info: the geometry Linux gives its kmalloc caches, as kslub computes it. */
#include "kslub.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const size_t kmalloc_sizes[] = {8,   16,	 32,   64,   96,   128, 192,
				       256, 512, 1024, 2048, 4096, 8192};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kslub-info [--cpus N] [--kernel 6.1|6.12|6.18|7.3]\n"
		"\n"
		"Print the geometry of the 13 kmalloc caches of SLUB on 4 KiB pages as Linux\n"
		"computes it for N CPUs (num_present_cpus; default 2):\n"
		"  object_size    bytes the cache serves\n"
		"  slab_size      stride of one object in a slab (s->size)\n"
		"  order          pages per slab, as a power of two\n"
		"  objs_per_slab  objects in a slab of that order\n"
		"  cpu_partial    objects a CPU keeps on its partial list (s->cpu_partial)\n"
		"  min_partial    partial slabs a node keeps even when empty\n"
		"  align          object alignment\n"
		"  sheaf_capacity objects per sheaf, the CPUs' arrays of free objects (6.18 and\n"
		"                 7.3 only, whose sysfs has the file; 6.18: 0, the kmalloc caches\n"
		"                 have none)\n"
		"--kernel selects the rules where kernels differ (default 6.1):\n"
		"  6.1   kmalloc-96 and kmalloc-192 aligned to 8 bytes\n"
		"  6.12  aligned to 32 and 64 (also 6.13 to 6.17)\n"
		"  6.18  as 6.12 (also later 6.x)\n"
		"  7.3   as 6.12, sheaves for every cache and no CPU slab, so no CPU partial\n"
		"        lists: cpu_partial 0 (also 7.0 on)\n"
		"The columns match /sys/kernel/slab/kmalloc-*/ of that kernel.\n");
}

/* The kslub_create() flag of a --kernel value; false for a value not listed. */
static bool kernel_flag(const char *v, unsigned *flag)
{
	static const struct {
		const char *name;
		unsigned flag;
	} kernels[] = {
		{"6.1", 0},
		{"6.12", KSLUB_KERNEL_6_12},
		{"6.18", KSLUB_KERNEL_6_18},
		{"7.3", KSLUB_KERNEL_7_3},
	};
	for (const auto &k : kernels) {
		if (!strcmp(v, k.name)) {
			*flag = k.flag;
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	unsigned cpus = 2;
	unsigned flags = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--cpus") && i + 1 < argc) {
			char *end;
			unsigned long v = strtoul(argv[++i], &end, 10);
			if (*end || !v || v > 8192 || argv[i][0] == '-') {
				fprintf(stderr,
					"kslub-info: --cpus needs a number from 1 to 8192, not '%s'\n",
					argv[i]);
				return 2;
			}
			cpus = unsigned(v);
		} else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) {
			const char *v = argv[++i];
			if (!kernel_flag(v, &flags)) {
				fprintf(stderr,
					"kslub-info: --kernel takes 6.1, 6.12, 6.18 or 7.3, not '%s'\n",
					v);
				return 2;
			}
		} else {
			fprintf(stderr, "kslub-info: unknown argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	bool sheaf_file = flags & (KSLUB_KERNEL_6_18 | KSLUB_KERNEL_7_3);
	printf("%-14s %11s %9s %5s %13s %11s %11s %5s", "name", "object_size", "slab_size", "order",
	       "objs_per_slab", "cpu_partial", "min_partial", "align");
	printf(sheaf_file ? " %14s\n" : "\n", "sheaf_capacity");
	for (size_t size : kmalloc_sizes) {
		struct kslub_geometry g;
		if (kslub_kmalloc_geometry(size, cpus, flags, &g)) {
			fprintf(stderr, "kslub-info: no geometry for size %zu\n", size);
			return 1;
		}
		char name[32];
		if (size >= 1024)
			snprintf(name, sizeof(name), "kmalloc-%zuk", size / 1024);
		else
			snprintf(name, sizeof(name), "kmalloc-%zu", size);
		printf("%-14s %11u %9u %5u %13u %11u %11u %5u", name, g.object_size, g.slab_size,
		       g.order, g.objs_per_slab, g.cpu_partial, g.min_partial, g.align);
		if (sheaf_file)
			printf(" %14u", g.sheaf_capacity);
		printf("\n");
	}
	return 0;
}
