// SPDX-License-Identifier: GPL-2.0-only
/*
 * geoprobe.ko: kmem_cache_create() of caches of chosen sizes, so that the
 * guest kernel's own geometry for them can be read from /sys/kernel/slab
 * (tests/vm/collect-geometry.sh --probe; tests/data/caches-linux-*.txt).
 * 10928 .. 12280 bytes are where 6.1's calculate_order and 6.12's differ.
 */
#include <linux/module.h>
#include <linux/slab.h>

static unsigned int sizes[] = {10920, 10928, 11000, 12280, 12288, 20000, 700, 5000, 100};
static struct kmem_cache *caches[ARRAY_SIZE(sizes)];
static char names[ARRAY_SIZE(sizes)][32];

static int __init geoprobe_init(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		snprintf(names[i], sizeof(names[i]), "geoprobe-%u", sizes[i]);
		/* Mergeable: the kernel may alias it to a cache of the same geometry (a symlink in sysfs). */
		caches[i] = kmem_cache_create(names[i], sizes[i], 0, 0, NULL);
		if (!caches[i])
			pr_err("geoprobe: %s not created\n", names[i]);
	}
	return 0;
}

static void __exit geoprobe_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		kmem_cache_destroy(caches[i]);
}

module_init(geoprobe_init);
module_exit(geoprobe_exit);
MODULE_LICENSE("GPL");
