// SPDX-License-Identifier: GPL-2.0-only
/*
 * How an instance maps threads onto CPUs and commits its fast paths
 * (kslub_commit_mode, kslub_nr_cpus): the machine's CPUs for
 * KSLUB_CPUS_MACHINE, restartable sequences where the process has rseq, the
 * locked CAS when asked or with fewer CPUs than the machine; and the hardened
 * double free refused by the sequence as by the locked path.
 */
#include "kslub.h"

#include <gtest/gtest.h>

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/rseq.h>
#include <unistd.h>

#include <string>

namespace {

/* The machine's CPUs as glibc counts them; rseq as glibc registered it. */
unsigned machine_cpus()
{
	long n = sysconf(_SC_NPROCESSORS_CONF);
	return n > 0 ? unsigned(n) : 1;
}
bool process_has_rseq()
{
	return __rseq_size > 0 && !getenv("KSLUB_RSEQ");
}

std::string mode_of(unsigned cpus, unsigned flags, unsigned *nr = nullptr)
{
	int err = 0;
	kslub_t *k = kslub_create(size_t(16) << 20, cpus, 1, flags, &err);
	if (!k)
		return "create failed: " + std::to_string(err);
	std::string m = kslub_commit_mode(k);
	if (nr)
		*nr = kslub_nr_cpus(k);
	EXPECT_EQ(kslub_destroy(k), 0);
	return m;
}

TEST(CommitMode, MachineCpusAndTheModeEachChoiceGives)
{
	unsigned nr = 0;
	std::string machine = mode_of(KSLUB_CPUS_MACHINE, 0, &nr);
	EXPECT_EQ(nr, machine_cpus());
	EXPECT_EQ(machine, process_has_rseq() ? "rseq" : "locked");
	EXPECT_EQ(mode_of(KSLUB_CPUS_MACHINE, KSLUB_NO_RSEQ), "locked");
	EXPECT_EQ(mode_of(2, KSLUB_DETERMINISTIC), "deterministic");
	if (machine_cpus() > 1)
		EXPECT_EQ(mode_of(machine_cpus() - 1, 0), "locked")
			<< "fewer CPUs than the machine";
	ASSERT_EQ(setenv("KSLUB_RSEQ", "0", 1), 0);
	EXPECT_EQ(mode_of(KSLUB_CPUS_MACHINE, 0), "locked") << "KSLUB_RSEQ=0";
	unsetenv("KSLUB_RSEQ");
}

/*
 * The object at the head of the CPU freelist, freed again: refused in either
 * commit mode. The thread stays on one CPU, so the second free meets the
 * same CPU freelist.
 */
TEST(CommitMode, HeadDoubleFreeRefusedInBothModes)
{
	cpu_set_t saved, one;
	ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0);
	CPU_ZERO(&one);
	CPU_SET(unsigned(sched_getcpu()), &one);
	ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
	for (unsigned flags : {0u, unsigned(KSLUB_NO_RSEQ)}) {
		int err = 0;
		kslub_t *k = kslub_create(size_t(16) << 20, KSLUB_CPUS_MACHINE, 1, flags, &err);
		ASSERT_NE(k, nullptr);
		kslub_set_reporter(
			k, [](void *, const struct kslub_report *) {}, nullptr);
		kslub_cache_t *s = kslub_cache_create(k, "mode-192", 192, 0, 0, nullptr, &err);
		ASSERT_NE(s, nullptr);
		void *o = kslub_cache_alloc(s, 0);
		ASSERT_NE(o, nullptr);
		EXPECT_EQ(kslub_cache_free(s, o), 0);
		EXPECT_EQ(kslub_cache_free(s, o), -EINVAL) << kslub_commit_mode(k);
		EXPECT_EQ(kslub_cache_validate(s), 0);
		EXPECT_EQ(kslub_cache_destroy(s), 0);
		EXPECT_EQ(kslub_destroy(k), 0);
	}
	EXPECT_EQ(sched_setaffinity(0, sizeof(saved), &saved), 0);
}

} // namespace
