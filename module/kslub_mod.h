/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The module's C view of one kslub instance (implemented in C++ by
 * instance.cpp over the core). The C files of the module (module load,
 * debugfs, stress, compare) use only this; it includes nothing.
 */
#ifndef KSLUB_MODULE_KSLUB_MOD_H
#define KSLUB_MODULE_KSLUB_MOD_H

#ifdef __cplusplus
extern "C" {
#endif

struct kslub_mod;	/* one instance: platform, buddy, SLUB */
struct kslub_mod_cache; /* one of its caches */

struct kslub_mod_region {
	void *base;	     /* TOP_BLOCK_SIZE aligned, in the direct map */
	unsigned long bytes; /* whole top blocks */
	int node;
};

#define KSLUB_MOD_TOP_ORDER 10 /* the core's top block: 4 MiB */
/*
 * The self-test and the stress threads fill objects with their address XOR
 * this key (plus the word index), so that an object handed out twice or
 * written through a stale pointer shows as a wrong word.
 */
#define KSLUB_MOD_FILL_KEY 0x6b736c7562737472ull

const char *kslub_mod_cpu_cas_name(void);
/* Whose cache geometry the module follows: "6.1", "6.12", "6.18" or "7.3". */
const char *kslub_mod_rules_name(void);
/*
 * Module parameter `sheaves`, read when an instance is created: -1 the
 * kernel's own per-CPU design (the rules'), 0 the TID design, 1 7.x's sheaves.
 */
extern int kslub_mod_sheaves;
/* The per-CPU design an instance gets: "TID", "TID, sheaves for caches that ask", "sheaves". */
const char *kslub_mod_design_name(void);

/*
 * NULL and *err on failure. The cache geometry follows the rules of the
 * kernel the module is built for (instance.cpp).
 */
struct kslub_mod *kslub_mod_create(const struct kslub_mod_region *regions, unsigned int nr,
				   int *err);
/* 0, or -EBUSY with nothing freed while objects are live (the caller then leaks the pool). */
int kslub_mod_destroy(struct kslub_mod *k);
/* The dead-CPU flush (slub_cpu_dead). */
void kslub_mod_cpu_dead(struct kslub_mod *k, unsigned int cpu);

struct kslub_mod_cache *kslub_mod_cache_create(struct kslub_mod *k, const char *name,
					       unsigned int size, int *err);
/* A cache of one per-CPU design whatever the module's: sheaves 0: TID, 1: 7.x's sheaves. */
struct kslub_mod_cache *kslub_mod_cache_create_design(struct kslub_mod *k, const char *name,
						      unsigned int size, int sheaves, int *err);
int kslub_mod_cache_destroy(struct kslub_mod *k, struct kslub_mod_cache *s);
const char *kslub_mod_cache_name(struct kslub_mod_cache *s);
unsigned int kslub_mod_cache_object_size(struct kslub_mod_cache *s);
void *kslub_mod_cache_alloc(struct kslub_mod_cache *s);
int kslub_mod_cache_free(struct kslub_mod_cache *s, void *obj);
/* kmem_cache_alloc_bulk: n, or 0 with nothing kept. free_bulk: 0 or -errno. */
int kslub_mod_cache_alloc_bulk(struct kslub_mod_cache *s, unsigned int n, void **p);
int kslub_mod_cache_free_bulk(struct kslub_mod_cache *s, unsigned int n, void **p);
long kslub_mod_cache_validate(struct kslub_mod *k, struct kslub_mod_cache *s);
/* Calls fn for every cache with its name (the kmem_cache boot cache included). */
void kslub_mod_for_each_cache(struct kslub_mod *k, void (*fn)(void *arg, struct kslub_mod_cache *s),
			      void *arg);

/*
 * debugfs texts (core/show): the length the whole text needs (>= cap: cut,
 * call again with more room), or -ENOENT.
 */
long kslub_mod_render_slabinfo(struct kslub_mod *k, char *buf, unsigned long cap);
long kslub_mod_render_buddyinfo(struct kslub_mod *k, char *buf, unsigned long cap);
long kslub_mod_render_cache_file(struct kslub_mod *k, const char *cache, const char *file,
				 char *buf, unsigned long cap);
/* Files of caches/<name>/: the 29 attributes, then the 26 stats. */
unsigned int kslub_mod_nr_cache_files(void);
const char *kslub_mod_cache_file_name(unsigned int i);
/* Writable files of a cache directory (shrink, validate): 0, or the result of acting. */
int kslub_mod_cache_file_writable(unsigned int i);
long kslub_mod_cache_file_write(struct kslub_mod *k, const char *cache, const char *file);

/* The control file (core/control): one write is one command. */
enum kslub_mod_verb {
	KSLUB_MOD_OTHER,
	KSLUB_MOD_CREATE,
	KSLUB_MOD_DESTROY,
	KSLUB_MOD_STRESS,
	KSLUB_MOD_COMPARE
};
struct kslub_mod_cmd {
	enum kslub_mod_verb verb;
	char name[32];
	unsigned long long size, count;
};
#define KSLUB_MOD_DELEGATED 1 /* CONTROL_DELEGATED */
#define KSLUB_MOD_STOP 2      /* CONTROL_STOP, passed through unchanged */
/*
 * 0, -errno, KSLUB_MOD_DELEGATED (stress, compare: run them as *cmd says) or
 * KSLUB_MOD_STOP (stop: end the run in progress; *cmd's verb is KSLUB_MOD_OTHER).
 */
int kslub_mod_control_run(struct kslub_mod *k, const char *buf, unsigned long len,
			  struct kslub_mod_cmd *cmd);
const char *kslub_mod_control_result(struct kslub_mod *k);
void kslub_mod_control_set_result(struct kslub_mod *k, const char *text);
struct kslub_mod_cache *kslub_mod_control_pin(struct kslub_mod *k, const char *name, int *err);
void kslub_mod_control_unpin(struct kslub_mod *k, struct kslub_mod_cache *s);
/* Free what control holds and destroy the caches it made: 0 or -EBUSY. */
int kslub_mod_control_release_all(struct kslub_mod *k);

/*
 * The load-time self-test. Creates its own small instances from
 * alloc_block/free_block (top blocks from the kernel). Writes a KTAP
 * report into buf (NUL-terminated, truncated to cap); returns the number of
 * failed tests.
 */
int kslub_mod_selftest(struct kslub_mod *k, char *buf, unsigned long cap,
		       void *(*alloc_block)(int *node), void (*free_block)(void *base));

#ifdef __cplusplus
}
#endif

#endif
