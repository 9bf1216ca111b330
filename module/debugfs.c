// SPDX-License-Identifier: GPL-2.0-only
/*
 * /sys/kernel/debug/kslub/: slabinfo, buddyinfo, caches/<name>/ (the 29
 * sysfs attribute files of 6.1, sheaf_capacity too when built for 6.18 or
 * later, and the 26 stat files: the names kslub_mod_cache_file_name() gives),
 * control, stress, compare, selftest. The texts come from the core
 * (core/show, core/control) through kslub_mod.h; this file only moves them
 * between the core and user space.
 *
 * Locking, outermost first:
 *   control_mutex        a control command (parse, execute, the creation
 *                        and removal of caches/<name>/ directories, the
 *                        claim of the run slot), a selftest write: all
 *                        bounded work. Writers wait for it interruptibly
 *                        (a signal: -ERESTARTSYS, nothing done);
 *   kslub_module.lock    the executor and every rendering (the role of the
 *                        kernel's slab_mutex: no cache is destroyed while a
 *                        text about it is being made); held briefly.
 *   run_lock (stress.c)  the run slot: which stress or compare runs, and
 *                        whether it was asked to stop.
 * A directory is removed with only control_mutex held: debugfs waits for
 * the readers inside its files, and they take kslub_module.lock.
 *
 * stress and compare run for as long as OPS asks (minutes under emulation)
 * and so hold neither mutex while they run: claimed under control_mutex,
 * run after it is dropped, in the writing task. Meanwhile other commands
 * work as usual, a second stress or compare (or a selftest) is refused at
 * once with -EBUSY, and stop ends the run (stress.h).
 *
 * Read-only texts are made at open and served from that copy, so that a
 * reader sees one consistent text however small its reads.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "module.h"
#include "stress.h"

static DEFINE_MUTEX(control_mutex);

struct cache_dir;
struct cache_file {
	struct cache_dir *dir;
	unsigned int idx;
};
struct cache_dir {
	struct list_head list;
	char name[32];
	struct dentry *d;
	struct cache_file files[];
};
static LIST_HEAD(cache_dirs); /* under control_mutex */

struct text {
	size_t len;
	char buf[];
};

typedef long (*render_fn)(const void *arg, char *buf, unsigned long cap);

/* Render into a buffer large enough for the whole text, under kslub_module.lock. */
static int text_open(struct file *f, render_fn fn, const void *arg)
{
	unsigned long cap = 4096;

	for (;;) {
		struct text *t = kvmalloc(sizeof(*t) + cap, GFP_KERNEL);
		long n;

		if (!t)
			return -ENOMEM;
		if (mutex_lock_interruptible(&kslub_module.lock)) {
			kvfree(t);
			return -ERESTARTSYS;
		}
		n = kslub_module.k ? fn(arg, t->buf, cap) : -ENODEV;
		mutex_unlock(&kslub_module.lock);
		if (n < 0) {
			kvfree(t);
			return n;
		}
		if ((unsigned long)n < cap) {
			t->len = n;
			f->private_data = t;
			return 0;
		}
		kvfree(t);
		cap = n + 1;
	}
}

static ssize_t text_read(struct file *f, char __user *ubuf, size_t count, loff_t *ppos)
{
	struct text *t = f->private_data;

	return t ? simple_read_from_buffer(ubuf, count, ppos, t->buf, t->len) : 0;
}

static int text_release(struct inode *inode, struct file *f)
{
	kvfree(f->private_data);
	return 0;
}

/* A write that only acts: accept what fits a line, hand it over NUL-terminated. */
static ssize_t copy_line(char *dst, size_t cap, const char __user *ubuf, size_t len)
{
	size_t n = min(len, cap - 1);

	if (copy_from_user(dst, ubuf, n))
		return -EFAULT;
	dst[n] = 0;
	return n;
}

/* slabinfo, buddyinfo */
static long render_slabinfo(const void *arg, char *buf, unsigned long cap)
{
	return kslub_mod_render_slabinfo(kslub_module.k, buf, cap);
}

static long render_buddyinfo(const void *arg, char *buf, unsigned long cap)
{
	return kslub_mod_render_buddyinfo(kslub_module.k, buf, cap);
}

static int slabinfo_open(struct inode *inode, struct file *f)
{
	return text_open(f, render_slabinfo, NULL);
}

static int buddyinfo_open(struct inode *inode, struct file *f)
{
	return text_open(f, render_buddyinfo, NULL);
}

static const struct file_operations slabinfo_fops = {
	.owner = THIS_MODULE,
	.open = slabinfo_open,
	.read = text_read,
	.release = text_release,
	.llseek = default_llseek,
};

static const struct file_operations buddyinfo_fops = {
	.owner = THIS_MODULE,
	.open = buddyinfo_open,
	.read = text_read,
	.release = text_release,
	.llseek = default_llseek,
};

/* caches/<name>/<file> */
static long render_cache_file(const void *arg, char *buf, unsigned long cap)
{
	const struct cache_file *cf = arg;

	return kslub_mod_render_cache_file(kslub_module.k, cf->dir->name,
					   kslub_mod_cache_file_name(cf->idx), buf, cap);
}

static int cache_file_open(struct inode *inode, struct file *f)
{
	return text_open(f, render_cache_file, inode->i_private);
}

/* shrink and validate act on any write, as their sysfs files do. */
static ssize_t cache_file_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	const struct cache_file *cf = file_inode(f)->i_private;
	long rc;

	if (mutex_lock_interruptible(&kslub_module.lock))
		return -ERESTARTSYS;
	rc = kslub_mod_cache_file_write(kslub_module.k, cf->dir->name,
					kslub_mod_cache_file_name(cf->idx));
	mutex_unlock(&kslub_module.lock);
	if (rc < 0)
		return rc;
	if (rc > 0 && !strcmp(kslub_mod_cache_file_name(cf->idx), "validate"))
		pr_warn_ratelimited("kslub: validate %s: %ld errors\n", cf->dir->name, rc);
	return len;
}

static const struct file_operations cache_file_fops = {
	.owner = THIS_MODULE,
	.open = cache_file_open,
	.read = text_read,
	.write = cache_file_write,
	.release = text_release,
	.llseek = default_llseek,
};

/* Called with control_mutex held. */
static void cache_dir_add(const char *name)
{
	unsigned int i, n = kslub_mod_nr_cache_files();
	struct cache_dir *cd;

	if (!kslub_module.caches)
		return;
	cd = kzalloc(struct_size(cd, files, n), GFP_KERNEL);
	if (!cd)
		return;
	strscpy(cd->name, name, sizeof(cd->name));
	cd->d = debugfs_create_dir(cd->name, kslub_module.caches);
	if (IS_ERR(cd->d)) {
		kfree(cd);
		return;
	}
	for (i = 0; i < n; i++) {
		cd->files[i].dir = cd;
		cd->files[i].idx = i;
		debugfs_create_file(kslub_mod_cache_file_name(i),
				    kslub_mod_cache_file_writable(i) ? 0644 : 0444, cd->d,
				    &cd->files[i], &cache_file_fops);
	}
	list_add_tail(&cd->list, &cache_dirs);
}

/* Called with control_mutex held and kslub_module.lock not held. */
static void cache_dir_remove(const char *name)
{
	struct cache_dir *cd, *tmp;

	list_for_each_entry_safe(cd, tmp, &cache_dirs, list) {
		if (strcmp(cd->name, name))
			continue;
		list_del(&cd->list);
		debugfs_remove_recursive(cd->d);
		kfree(cd);
	}
}

struct name_list {
	unsigned int nr, cap;
	char (*names)[32];
};

static void collect_name(void *arg, struct kslub_mod_cache *s)
{
	struct name_list *l = arg;

	if (l->nr < l->cap)
		strscpy(l->names[l->nr++], kslub_mod_cache_name(s), 32);
}

/* control */
static long render_control(const void *arg, char *buf, unsigned long cap)
{
	return scnprintf(buf, cap, "%s\n", kslub_mod_control_result(kslub_module.k));
}

static int control_open(struct inode *inode, struct file *f)
{
	return text_open(f, render_control, NULL);
}

static ssize_t control_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	char line[160], result[192], what[48];
	struct kslub_mod_cmd cmd;
	bool delegated = false, run = false;
	ssize_t n;
	int rc;

	/* Longer than any command: the parser refuses it by its length. */
	n = copy_line(line, sizeof(line), ubuf, len);
	if (n < 0)
		return n;
	if (mutex_lock_interruptible(&control_mutex))
		return -ERESTARTSYS;
	mutex_lock(&kslub_module.lock);
	rc = kslub_mod_control_run(kslub_module.k, line, n, &cmd);
	strscpy(result, kslub_mod_control_result(kslub_module.k), sizeof(result));
	mutex_unlock(&kslub_module.lock);
	if (rc == 0 && cmd.verb == KSLUB_MOD_CREATE) {
		cache_dir_add(cmd.name);
	} else if (rc == 0 && cmd.verb == KSLUB_MOD_DESTROY) {
		cache_dir_remove(cmd.name);
	} else if (rc == KSLUB_MOD_DELEGATED &&
		   (cmd.verb == KSLUB_MOD_STRESS || cmd.verb == KSLUB_MOD_COMPARE)) {
		if (cmd.verb == KSLUB_MOD_STRESS)
			scnprintf(what, sizeof(what), "stress %s", cmd.name);
		else
			scnprintf(what, sizeof(what), "compare %llu", cmd.size);
		delegated = true;
		rc = kslub_run_claim(what);
		run = rc == 0;
	}
	mutex_unlock(&control_mutex);

	if (run) {
		/* In this task, with no mutex held: stop and other commands get through. */
		if (cmd.verb == KSLUB_MOD_STRESS)
			rc = kslub_stress_run(cmd.name, cmd.count);
		else
			rc = kslub_compare_run(cmd.size, cmd.count);
		kslub_run_release();
	} else if (rc == KSLUB_MOD_STOP) {
		rc = kslub_run_stop();
	} else if (rc > 0) {
		/* A code this file does not know: instance.cpp and kslub_mod.h disagree. */
		scnprintf(result, sizeof(result), "unexpected executor code %d", rc);
		rc = -EINVAL;
	}
	if (rc < 0) {
		/* A run or its refusal wrote its line after the executor's. */
		if (delegated) {
			mutex_lock(&kslub_module.lock);
			strscpy(result, kslub_mod_control_result(kslub_module.k), sizeof(result));
			mutex_unlock(&kslub_module.lock);
		}
		pr_warn_ratelimited("kslub: control: %s\n", result);
		return rc;
	}
	return len;
}

static const struct file_operations control_fops = {
	.owner = THIS_MODULE,
	.open = control_open,
	.read = text_read,
	.write = control_write,
	.release = text_release,
	.llseek = default_llseek,
};

/* stress, compare */
static long render_stress(const void *arg, char *buf, unsigned long cap)
{
	return kslub_stress_render(buf, cap);
}

static long render_compare(const void *arg, char *buf, unsigned long cap)
{
	return kslub_compare_render(buf, cap);
}

static int stress_open(struct inode *inode, struct file *f)
{
	return text_open(f, render_stress, NULL);
}

static int compare_open(struct inode *inode, struct file *f)
{
	return text_open(f, render_compare, NULL);
}

static const struct file_operations stress_fops = {
	.owner = THIS_MODULE,
	.open = stress_open,
	.read = text_read,
	.release = text_release,
	.llseek = default_llseek,
};

static const struct file_operations compare_fops = {
	.owner = THIS_MODULE,
	.open = compare_open,
	.read = text_read,
	.release = text_release,
	.llseek = default_llseek,
};

/* selftest: the KTAP report of the last run; any write runs it again. */
#define SELFTEST_TEXT_MAX 8192
static char *selftest_text;

/* Called with control_mutex held. */
static void selftest_run_locked(void)
{
	int failed;

	if (!selftest_text)
		selftest_text = kvzalloc(SELFTEST_TEXT_MAX, GFP_KERNEL);
	if (!selftest_text)
		return;
	failed = kslub_mod_selftest(kslub_module.k, selftest_text, SELFTEST_TEXT_MAX,
				    kslub_block_alloc, kslub_block_free);
	if (failed)
		pr_warn("kslub: selftest: %d tests failed\n", failed);
	else
		pr_info("kslub: selftest passed\n");
}

void kslub_selftest_run(void)
{
	mutex_lock(&control_mutex);
	selftest_run_locked();
	mutex_unlock(&control_mutex);
}

void kslub_selftest_exit(void)
{
	kvfree(selftest_text);
	selftest_text = NULL;
}

static long render_selftest(const void *arg, char *buf, unsigned long cap)
{
	return scnprintf(buf, cap, "%s",
			 selftest_text ? selftest_text : "KTAP version 1\n1..0 # SKIP not run\n");
}

static int selftest_open(struct inode *inode, struct file *f)
{
	return text_open(f, render_selftest, NULL);
}

/*
 * The self-test walks the instance's caches without kslub_module.lock, so
 * it runs under control_mutex and never beside a stress or compare run
 * (compare creates and destroys a cache): -EBUSY while one is in progress.
 */
static ssize_t selftest_write(struct file *f, const char __user *ubuf, size_t len, loff_t *ppos)
{
	int err;

	if (mutex_lock_interruptible(&control_mutex))
		return -ERESTARTSYS;
	/* Runs are claimed under control_mutex only: none starts until it is dropped. */
	err = kslub_run_active() ? -EBUSY : 0;
	if (!err)
		selftest_run_locked();
	mutex_unlock(&control_mutex);
	if (err)
		pr_warn_ratelimited("kslub: selftest: a stress or compare run is in progress\n");
	return err ? err : len;
}

static const struct file_operations selftest_fops = {
	.owner = THIS_MODULE,
	.open = selftest_open,
	.read = text_read,
	.write = selftest_write,
	.release = text_release,
	.llseek = default_llseek,
};

void kslub_debugfs_init(void)
{
	struct name_list l = {0, 256, NULL};
	unsigned int i;

	mutex_init(&kslub_module.lock);
	kslub_module.dir = debugfs_create_dir("kslub", NULL);
	if (IS_ERR(kslub_module.dir)) {
		kslub_module.dir = NULL;
		return;
	}
	debugfs_create_file("slabinfo", 0444, kslub_module.dir, NULL, &slabinfo_fops);
	debugfs_create_file("buddyinfo", 0444, kslub_module.dir, NULL, &buddyinfo_fops);
	debugfs_create_file("control", 0644, kslub_module.dir, NULL, &control_fops);
	debugfs_create_file("stress", 0444, kslub_module.dir, NULL, &stress_fops);
	debugfs_create_file("compare", 0444, kslub_module.dir, NULL, &compare_fops);
	debugfs_create_file("selftest", 0644, kslub_module.dir, NULL, &selftest_fops);
	kslub_module.caches = debugfs_create_dir("caches", kslub_module.dir);
	if (IS_ERR(kslub_module.caches)) {
		kslub_module.caches = NULL;
		return;
	}
	l.names = kcalloc(l.cap, sizeof(*l.names), GFP_KERNEL);
	if (!l.names)
		return;
	mutex_lock(&control_mutex);
	mutex_lock(&kslub_module.lock);
	kslub_mod_for_each_cache(kslub_module.k, collect_name, &l);
	mutex_unlock(&kslub_module.lock);
	for (i = 0; i < l.nr; i++)
		cache_dir_add(l.names[i]);
	mutex_unlock(&control_mutex);
	kfree(l.names);
}

void kslub_debugfs_exit(void)
{
	struct cache_dir *cd, *tmp;

	/* Waits for every reader and writer inside the files. */
	debugfs_remove_recursive(kslub_module.dir);
	kslub_module.dir = NULL;
	kslub_module.caches = NULL;
	mutex_lock(&control_mutex);
	list_for_each_entry_safe(cd, tmp, &cache_dirs, list) {
		list_del(&cd->list);
		kfree(cd);
	}
	mutex_unlock(&control_mutex);
}

/* Unload: give back what control holds, so that only objects held elsewhere keep the pool. */
void kslub_control_exit(void)
{
	mutex_lock(&control_mutex);
	mutex_lock(&kslub_module.lock);
	if (kslub_module.k && kslub_mod_control_release_all(kslub_module.k))
		pr_warn("kslub: caches made through control remain in use\n");
	mutex_unlock(&kslub_module.lock);
	mutex_unlock(&control_mutex);
}
