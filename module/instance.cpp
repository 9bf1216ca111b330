// SPDX-License-Identifier: GPL-2.0-only
/*
 * The module's instance: the one place that chooses the platform of the
 * kernel build (KernelPlatform) and instantiates the core on it. The C side
 * sees it through kslub_mod.h.
 */
#include "slub/slub.h"

#include "instance.h"

using namespace kslub;

/*
 * Whose cache geometry the module follows: the kernel it is built for
 * (< 6.12: 6.1, 6.12 .. 6.17: 6.12, 6.18 .. 6.x: 6.18, >= 7.0: 7.3).
 */
static constexpr KernelRules MOD_RULES = kernel_rules_for_version(KSLUB_LINUX_VERSION);
static_assert(kernel_rules_for_version(KSLUB_LINUX(6, 11)) == KernelRules::Linux61 &&
		      kernel_rules_for_version(KSLUB_LINUX(6, 12)) == KernelRules::Linux612 &&
		      kernel_rules_for_version(KSLUB_LINUX(6, 17)) == KernelRules::Linux612 &&
		      kernel_rules_for_version(KSLUB_LINUX(6, 18)) == KernelRules::Linux618 &&
		      kernel_rules_for_version(KSLUB_LINUX(6, 19)) == KernelRules::Linux618 &&
		      kernel_rules_for_version(KSLUB_LINUX(7, 0)) == KernelRules::Linux73,
	      "the module's choice of rules by kernel version");
/*
 * caches/<name>/ mirrors /sys/kernel/slab/<name>/: from 6.18 on the kernel
 * has a sheaf_capacity file, so the module has one too, after the core's
 * files, saying what kslub does (no sheaves: 0).
 */
static constexpr bool MOD_SHEAF_FILE = rules_sheaf_capacity_file(MOD_RULES);
static constexpr const char *SHEAF_FILE = "sheaf_capacity";
/* kslub's own: the CPUs' sheaves and the barns (core/show/sysfs.h, render_sheaves). */
static constexpr const char *SHEAVES_FILE = "sheaves";

extern "C" const char *kslub_mod_design_name(void)
{
	if (kslub_mod_sheaves == 0 || (kslub_mod_sheaves < 0 && !rules_sheaves(MOD_RULES)))
		return "TID";
	if (kslub_mod_sheaves == 1 || !rules_cpu_slabs(MOD_RULES))
		return "sheaves";
	return "TID, sheaves for caches that ask";
}

extern "C" const char *kslub_mod_rules_name(void)
{
	return kernel_rules_name(MOD_RULES);
}

static ModCache *C(kslub_mod_cache *s)
{
	return reinterpret_cast<ModCache *>(s);
}
static kslub_mod_cache *H(ModCache *s)
{
	return reinterpret_cast<kslub_mod_cache *>(s);
}

extern "C" const char *kslub_mod_cpu_cas_name(void)
{
	return ModPlatform::cpu_cas_name();
}

kslub_mod *mod_instance_new()
{
	void *mem = kslub_shim_zalloc(sizeof(kslub_mod));
	if (!mem)
		return nullptr;
	kslub_mod *k = new (mem, PlacementTag{}) kslub_mod();
	k->pal.init();
	k->alloc.slub().set_owner(k);
	k->alloc.slub().set_tid_only(kslub_mod_sheaves == 0);
	k->alloc.slub().set_sheaves_everywhere(kslub_mod_sheaves == 1);
	return k;
}

void mod_instance_delete(kslub_mod *k)
{
	k->~kslub_mod();
	kslub_shim_free(k);
}

extern "C" struct kslub_mod *kslub_mod_create(const struct kslub_mod_region *regions,
					      unsigned int nr, int *err)
{
	static_assert(sizeof(RegionDesc) == sizeof(kslub_mod_region) &&
			      __builtin_offsetof(RegionDesc, bytes) ==
				      __builtin_offsetof(kslub_mod_region, bytes) &&
			      __builtin_offsetof(RegionDesc, node) ==
				      __builtin_offsetof(kslub_mod_region, node),
		      "the C region list is the core's");
	const RegionDesc *r = reinterpret_cast<const RegionDesc *>(regions);
	if (!nr || nr > MAX_REGIONS) {
		*err = -KSLUB_EINVAL;
		return nullptr;
	}
	kslub_mod *k = mod_instance_new();
	if (!k) {
		*err = -KSLUB_ENOMEM;
		return nullptr;
	}
	/* Allocator::init() in two steps, so that a failure in SLUB's can give back its per-CPU slots. */
	int rc = k->alloc.buddy().init(r, nr);
	if (!rc) {
		rc = k->alloc.slub().init(MOD_RULES);
		if (rc && k->alloc.shutdown()) {
			*err = rc;
			return nullptr; /* something stayed allocated: leave the instance */
		}
	}
	if (rc) {
		mod_instance_delete(k);
		*err = rc;
		return nullptr;
	}
	*err = 0;
	return k;
}

extern "C" int kslub_mod_destroy(struct kslub_mod *k)
{
	int rc = k->alloc.shutdown();
	if (rc)
		return rc;
	mod_instance_delete(k);
	return 0;
}

extern "C" void kslub_mod_cpu_dead(struct kslub_mod *k, unsigned int cpu)
{
	k->alloc.slub().cpu_dead(cpu);
}

extern "C" struct kslub_mod_cache *kslub_mod_cache_create(struct kslub_mod *k, const char *name,
							  unsigned int size, int *err)
{
	return H(k->alloc.slub().cache_create(name, size, 0, 0, nullptr, err));
}

extern "C" struct kslub_mod_cache *kslub_mod_cache_create_design(struct kslub_mod *k,
								 const char *name,
								 unsigned int size, int sheaves,
								 int *err)
{
	return H(k->alloc.slub().cache_create(
		name, size, 0, sheaves ? SLAB_KSLUB_SHEAVES : SLAB_KSLUB_TID, nullptr, err));
}

extern "C" int kslub_mod_cache_destroy(struct kslub_mod *k, struct kslub_mod_cache *s)
{
	return k->alloc.slub().cache_destroy(C(s));
}

extern "C" const char *kslub_mod_cache_name(struct kslub_mod_cache *s)
{
	return C(s)->name;
}
extern "C" unsigned int kslub_mod_cache_object_size(struct kslub_mod_cache *s)
{
	return C(s)->object_size;
}

extern "C" void *kslub_mod_cache_alloc(struct kslub_mod_cache *s)
{
	return static_cast<kslub_mod *>(C(s)->owner)->alloc.slub().cache_alloc(C(s), GFP_KERNEL);
}

extern "C" int kslub_mod_cache_free(struct kslub_mod_cache *s, void *obj)
{
	return static_cast<kslub_mod *>(C(s)->owner)->alloc.slub().cache_free(C(s), obj);
}

extern "C" int kslub_mod_cache_alloc_bulk(struct kslub_mod_cache *s, unsigned int n, void **p)
{
	return static_cast<kslub_mod *>(C(s)->owner)->alloc.slub().alloc_bulk(C(s), GFP_KERNEL, n, p);
}

extern "C" int kslub_mod_cache_free_bulk(struct kslub_mod_cache *s, unsigned int n, void **p)
{
	return static_cast<kslub_mod *>(C(s)->owner)->alloc.slub().free_bulk(C(s), n, p);
}

extern "C" long kslub_mod_cache_validate(struct kslub_mod *k, struct kslub_mod_cache *s)
{
	return k->alloc.slub().validate(C(s));
}

extern "C" void kslub_mod_for_each_cache(struct kslub_mod *k,
					 void (*fn)(void *arg, struct kslub_mod_cache *s),
					 void *arg)
{
	k->alloc.slub().for_each_cache([&](ModCache *s) { fn(arg, H(s)); });
}

extern "C" long kslub_mod_render_slabinfo(struct kslub_mod *k, char *buf, unsigned long cap)
{
	return long(render_slabinfo(k->alloc.slub(), buf, cap));
}

extern "C" long kslub_mod_render_buddyinfo(struct kslub_mod *k, char *buf, unsigned long cap)
{
	return long(render_buddyinfo(k->alloc.buddy(), buf, cap));
}

extern "C" long kslub_mod_render_cache_file(struct kslub_mod *k, const char *cache,
					    const char *file, char *buf, unsigned long cap)
{
	ModCache *s = k->alloc.slub().find_cache(cache);
	if (!s) {
		if (cap)
			buf[0] = 0;
		return -KSLUB_ENOENT;
	}
	if (str_eq(file, SHEAVES_FILE))
		return render_sheaves(k->alloc.slub(), s, buf, cap);
	if (MOD_SHEAF_FILE && str_eq(file, SHEAF_FILE)) {
		TextBuf t(buf, cap);
		t.dec(s->sheaf_capacity).chr('\n');
		return long(t.needed());
	}
	return render_cache_file(k->alloc.slub(), s, file, buf, cap);
}

/* The files of a cache's directory: sysfs's, sheaf_capacity where the kernel has it, then `sheaves`. */
extern "C" unsigned int kslub_mod_nr_cache_files(void)
{
	return NR_CACHE_FILES + (MOD_SHEAF_FILE ? 1 : 0) + 1;
}
extern "C" const char *kslub_mod_cache_file_name(unsigned int i)
{
	if (MOD_SHEAF_FILE && i == NR_CACHE_FILES)
		return SHEAF_FILE;
	if (i == NR_CACHE_FILES + (MOD_SHEAF_FILE ? 1 : 0))
		return SHEAVES_FILE;
	return cache_file_name(i);
}

extern "C" int kslub_mod_cache_file_writable(unsigned int i)
{
	return i == ATTR_SHRINK || i == ATTR_VALIDATE;
}

extern "C" long kslub_mod_cache_file_write(struct kslub_mod *k, const char *cache, const char *file)
{
	ModCache *s = k->alloc.slub().find_cache(cache);
	if (!s)
		return -KSLUB_ENOENT;
	if (str_eq(file, "shrink"))
		return k->alloc.slub().shrink(s);
	if (str_eq(file, "validate"))
		return k->alloc.slub().validate(s);
	return -KSLUB_EINVAL;
}

extern "C" int kslub_mod_control_run(struct kslub_mod *k, const char *buf, unsigned long len,
				     struct kslub_mod_cmd *out)
{
	ControlCommand c;
	int rc = k->control.run(buf, len, &c);
	*out = kslub_mod_cmd{};
	switch (c.verb) {
	case ControlVerb::Create: out->verb = KSLUB_MOD_CREATE; break;
	case ControlVerb::Destroy: out->verb = KSLUB_MOD_DESTROY; break;
	case ControlVerb::Stress: out->verb = KSLUB_MOD_STRESS; break;
	case ControlVerb::Compare: out->verb = KSLUB_MOD_COMPARE; break;
	default: out->verb = KSLUB_MOD_OTHER; break;
	}
	static_assert(sizeof(out->name) >= CACHE_NAME_MAX, "cache names fit");
	str_copy(out->name, c.name, sizeof(out->name));
	out->size = c.size;
	out->count = c.count;
	return rc == CONTROL_DELEGATED ? KSLUB_MOD_DELEGATED : rc;
}

extern "C" const char *kslub_mod_control_result(struct kslub_mod *k)
{
	return k->control.result();
}
extern "C" void kslub_mod_control_set_result(struct kslub_mod *k, const char *text)
{
	k->control.set_result(text);
}

extern "C" struct kslub_mod_cache *kslub_mod_control_pin(struct kslub_mod *k, const char *name,
							 int *err)
{
	return H(k->control.pin(name, err));
}

extern "C" void kslub_mod_control_unpin(struct kslub_mod *k, struct kslub_mod_cache *s)
{
	k->control.unpin(C(s));
}

extern "C" int kslub_mod_control_release_all(struct kslub_mod *k)
{
	return k->control.release_all();
}
