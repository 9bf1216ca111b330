// SPDX-License-Identifier: GPL-2.0-only
/*
 * kslub.ko: module load and unload. At load the pool is taken from the
 * kernel's page allocator as top-order blocks (4 MiB, order 10), each tagged
 * with its NUMA node, and handed to one core instance, which creates the
 * kmalloc caches; a CPU hotplug callback flushes a CPU that died; debugfs
 * shows and drives it.
 */
#include <linux/cpuhotplug.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/nodemask.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#include "kslub_mod.h"
#include "module.h"
#include "shim.h"

static unsigned int pool_mb = 64;
module_param(pool_mb, uint, 0444);
MODULE_PARM_DESC(pool_mb,
		 "pool taken from the page allocator at load, in MiB (4 MiB blocks, 4..240)");

int kslub_mod_sheaves = -1;
module_param_named(sheaves, kslub_mod_sheaves, int, 0444);
MODULE_PARM_DESC(
	sheaves,
	"the per-CPU design: -1 (default) the kernel's own (6.1, 6.12: TID; 6.18: TID, sheaves for caches that ask; 7.x: sheaves for every cache); 0 the TID design of 6.x on any kernel; 1 the sheaves design of 7.x on any kernel (no CPU slab)");

static bool selftest = true;
module_param(selftest, bool, 0444);
MODULE_PARM_DESC(selftest, "run the self-test at load (results in debugfs kslub/selftest)");

#define KSLUB_POOL_MB_MAX 240
#define KSLUB_BLOCK_BYTES (PAGE_SIZE << KSLUB_MOD_TOP_ORDER)

struct kslub_module kslub_module;

static struct page **pool_pages;
static unsigned int pool_nr;
static int cpuhp_state = -1;

static int page_node(struct page *page)
{
	int nid = page_to_nid(page);

	/* The core knows nodes 0..3; larger machines fold the rest onto node 0. */
	return nid >= 0 && nid < 4 ? nid : 0;
}

static void pool_release(void)
{
	unsigned int i;

	for (i = 0; i < pool_nr; i++)
		__free_pages(pool_pages[i], KSLUB_MOD_TOP_ORDER);
	kvfree(pool_pages);
	pool_pages = NULL;
	pool_nr = 0;
}

static struct page *block_alloc_node(int nid)
{
	gfp_t gfp = GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL;

	return nid == NUMA_NO_NODE ?
		       alloc_pages(gfp, KSLUB_MOD_TOP_ORDER) :
		       alloc_pages_node(nid, gfp | __GFP_THISNODE, KSLUB_MOD_TOP_ORDER);
}

/*
 * Take the pool, spread evenly over the nodes with memory (the core keeps
 * one zone per node), then from anywhere for what a node could not give.
 * Fewer blocks than asked is a warning, none an error.
 */
static int pool_reserve(unsigned int mb)
{
	unsigned int want = DIV_ROUND_UP(mb, KSLUB_BLOCK_BYTES >> 20);
	unsigned int nodes = num_node_state(N_MEMORY), share, got;
	int nid;

	pool_pages = kvcalloc(want, sizeof(*pool_pages), GFP_KERNEL);
	if (!pool_pages)
		return -ENOMEM;
	pool_nr = 0;
	share = nodes > 1 ? want / nodes : 0;
	if (share) {
		for_each_node_state(nid, N_MEMORY) {
			for (got = 0; got < share && pool_nr < want; got++) {
				struct page *page = block_alloc_node(nid);

				if (!page)
					break;
				pool_pages[pool_nr++] = page;
			}
		}
	}
	while (pool_nr < want) {
		struct page *page = block_alloc_node(NUMA_NO_NODE);

		if (!page)
			break;
		pool_pages[pool_nr++] = page;
	}
	if (!pool_nr) {
		kvfree(pool_pages);
		pool_pages = NULL;
		return -ENOMEM;
	}
	if (pool_nr < want)
		pr_warn("kslub: got %u of %u blocks of %lu KiB for the pool\n", pool_nr, want,
			KSLUB_BLOCK_BYTES >> 10);
	return 0;
}

/* The core's region list: one region per block, the block with the lowest address first. */
static struct kslub_mod *instance_create(int *err)
{
	struct kslub_mod_region *regions;
	struct kslub_mod *k;
	unsigned int i;

	regions = kvcalloc(pool_nr, sizeof(*regions), GFP_KERNEL);
	if (!regions) {
		*err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < pool_nr; i++) {
		regions[i].base = page_address(pool_pages[i]);
		regions[i].bytes = KSLUB_BLOCK_BYTES;
		regions[i].node = page_node(pool_pages[i]);
	}
	k = kslub_mod_create(regions, pool_nr, err);
	kvfree(regions);
	return k;
}

/* Teardown of CPUHP_BP_PREPARE_DYN runs on a control CPU after the CPU has died. */
static int kslub_cpu_dead(unsigned int cpu)
{
	if (kslub_module.k)
		kslub_mod_cpu_dead(kslub_module.k, cpu);
	return 0;
}

/* The selftest's pool blocks come from the kernel too. */
void *kslub_block_alloc(int *node)
{
	struct page *page =
		alloc_pages(GFP_KERNEL | __GFP_NOWARN | __GFP_RETRY_MAYFAIL, KSLUB_MOD_TOP_ORDER);

	if (!page)
		return NULL;
	*node = page_node(page);
	return page_address(page);
}

void kslub_block_free(void *base)
{
	__free_pages(virt_to_page(base), KSLUB_MOD_TOP_ORDER);
}

static int __init kslub_init(void)
{
	int err;

	if (pool_mb < 4 || pool_mb > KSLUB_POOL_MB_MAX) {
		pr_warn("kslub: pool_mb=%u is outside 4..%u\n", pool_mb, KSLUB_POOL_MB_MAX);
		return -EINVAL;
	}
	if (kslub_mod_sheaves < -1 || kslub_mod_sheaves > 1) {
		pr_warn("kslub: sheaves=%d is not -1 (the kernel's design), 0 (TID) or 1 (sheaves)\n",
			kslub_mod_sheaves);
		return -EINVAL;
	}
	err = kslub_shim_init();
	if (err)
		return err;
	err = pool_reserve(pool_mb);
	if (err) {
		pr_warn("kslub: cannot reserve the pool: %d\n", err);
		goto out_shim;
	}
	kslub_module.k = instance_create(&err);
	if (!kslub_module.k) {
		pr_warn("kslub: cannot create the allocator: %d\n", err);
		if (err == -EBUSY)
			goto out_leak;
		goto out_pool;
	}
	err = cpuhp_setup_state_nocalls(CPUHP_BP_PREPARE_DYN, "kslub:dead", NULL, kslub_cpu_dead);
	if (err < 0) {
		pr_warn("kslub: cannot register the CPU hotplug callback: %d\n", err);
		goto out_instance;
	}
	cpuhp_state = err;
	kslub_debugfs_init();
	if (selftest)
		kslub_selftest_run();
	pr_info("kslub: %u MiB pool in %u block%s, per-CPU CAS %s, Linux %s cache geometry, per-CPU design %s%s\n",
		pool_nr * (unsigned int)(KSLUB_BLOCK_BYTES >> 20), pool_nr, pool_nr == 1 ? "" : "s",
		kslub_mod_cpu_cas_name(), kslub_mod_rules_name(), kslub_mod_design_name(),
		IS_ENABLED(CONFIG_PREEMPT_RT) ? ", PREEMPT_RT" : "");
	return 0;

out_instance:
	if (kslub_mod_destroy(kslub_module.k))
		goto out_leak;
	kslub_module.k = NULL;
out_pool:
	pool_release();
out_shim:
	kslub_shim_exit();
	return err;
out_leak:
	pr_warn("kslub: objects remain; leaving the pool allocated\n");
	return err;
}

static void __exit kslub_exit(void)
{
	/*
	 * A writer inside control holds the file open and so the module: a
	 * plain rmmod is refused while a stress or compare runs. Only a forced
	 * unload gets here with a run in progress; it must not wait for the
	 * whole run in debugfs_remove_recursive(), so the run is stopped first.
	 */
	kslub_run_shutdown();
	kslub_debugfs_exit();
	kslub_stress_exit();
	if (cpuhp_state >= 0)
		cpuhp_remove_state_nocalls(cpuhp_state);
	kslub_control_exit();
	if (kslub_mod_destroy(kslub_module.k)) {
		/* As kmem_cache_destroy: warn, and free nothing a user may still reach. */
		WARN(1, "kslub: objects remain at unload; the pool (%u MiB) is leaked\n",
		     pool_nr * (unsigned int)(KSLUB_BLOCK_BYTES >> 20));
		return;
	}
	kslub_module.k = NULL;
	pool_release();
	kslub_selftest_exit();
	kslub_shim_exit();
}

module_init(kslub_init);
module_exit(kslub_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("SLUB and buddy allocators re-implemented in C++, on a reserved pool");
