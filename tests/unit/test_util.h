// SPDX-License-Identifier: GPL-2.0-only
/*
 * Helpers shared by the buddy, slow-path and misuse tests: a recorder for
 * kslub reports, snapshots of the 26 SLUB counters compared against an
 * expected change, and exact census comparisons.
 */
#ifndef KSLUB_TESTS_UNIT_TEST_UTIL_H
#define KSLUB_TESTS_UNIT_TEST_UTIL_H

#include "kslub.h"

#include "base/base.h"

#include <gtest/gtest.h>

#include <stdint.h>
#include <string.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>

/* Tests that need AddressSanitizer's view of freed memory. */
#if defined(__SANITIZE_ADDRESS__)
#define KSLUB_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KSLUB_TEST_ASAN 1
#endif
#endif
#ifndef KSLUB_TEST_ASAN
#define KSLUB_TEST_ASAN 0
#endif

namespace kslub_test {

constexpr int kEINVAL = -22;
constexpr int kEFAULT = -14;
constexpr int kEBUSY = -16;

/* One report as the instance's reporter received it (strings copied). */
struct SeenReport {
	std::string kind;
	std::string what;
	std::string cache;
	const void *ptr;
	uint64_t value;
};

/* Collects every report of an instance instead of printing it. */
class ReportLog {
public:
	void attach(kslub_t *k) { kslub_set_reporter(k, &ReportLog::record, this); }
	size_t size() const { return seen.size(); }
	void clear() { seen.clear(); }
	const SeenReport &operator[](size_t i) const { return seen.at(i); }
	/* "kind: what" of every report, one per line, for failure messages. */
	std::string dump() const
	{
		std::ostringstream o;
		for (const SeenReport &r : seen)
			o << "  " << r.kind << ": " << r.what << " (cache " << r.cache << ")\n";
		return o.str();
	}

	std::vector<SeenReport> seen;

private:
	static void record(void *arg, const kslub_report *r)
	{
		static_cast<ReportLog *>(arg)->seen.push_back(
			SeenReport{r->kind ? r->kind : "", r->what ? r->what : "",
				   r->cache ? r->cache : "", r->ptr, r->value});
	}
};

/* Counter index by its sysfs name; -1 when the name is unknown. */
inline int stat_index(const std::string &name)
{
	return kslub_stat_index(name.c_str());
}

/*
 * Watches the 26 counters of one cache (summed over the CPUs). moved()
 * compares the change since the last look with the expected one: every
 * counter the map does not name must not have moved. It then re-arms.
 */
class StatWatch {
public:
	explicit StatWatch(const kslub_cache_t *s) : s_(s) { arm(); }
	void arm()
	{
		for (unsigned i = 0; i < KSLUB_NR_STATS; i++)
			last_[i] = kslub_cache_stat(s_, i, -1);
	}
	::testing::AssertionResult moved(const std::map<std::string, uint64_t> &expected)
	{
		std::ostringstream bad;
		for (const auto &e : expected)
			if (stat_index(e.first) < 0)
				bad << "  unknown counter " << e.first << "\n";
		for (unsigned i = 0; i < KSLUB_NR_STATS; i++) {
			uint64_t now = kslub_cache_stat(s_, i, -1);
			uint64_t got = now - last_[i];
			auto it = expected.find(kslub_stat_name(i));
			uint64_t want = it == expected.end() ? 0 : it->second;
			if (got != want)
				bad << "  " << kslub_stat_name(i) << ": moved by " << int64_t(got)
				    << ", expected " << want << "\n";
		}
		arm();
		if (bad.str().empty())
			return ::testing::AssertionSuccess();
		return ::testing::AssertionFailure()
		       << "counters of " << kslub_cache_name(s_) << " differ:\n"
		       << bad.str();
	}

private:
	const kslub_cache_t *s_;
	uint64_t last_[KSLUB_NR_STATS];
};

/* The expected census, field by field (kslub_census in kslub.h). */
struct Census {
	uint64_t slabs, frozen_slabs, partial_slabs, cpu_partial_slabs;
	uint64_t objects, live_objects, free_objects;
	uint64_t sheaf_objects = 0, sheaves = 0, internal_objects = 0;
};

inline std::string census_str(const kslub_census &c)
{
	std::ostringstream o;
	o << "{slabs " << c.slabs << ", frozen " << c.frozen_slabs << ", partial "
	  << c.partial_slabs << ", cpu_partial " << c.cpu_partial_slabs << ", objects " << c.objects
	  << ", live " << c.live_objects << ", free " << c.free_objects << ", in sheaves "
	  << c.sheaf_objects << ", sheaves " << c.sheaves << ", internal " << c.internal_objects
	  << "}";
	return o.str();
}

inline bool census_equal(const kslub_census &a, const kslub_census &b)
{
	return memcmp(&a, &b, sizeof(a)) == 0;
}

/* kslub_cache_check() finds nothing and the census is exactly `want`. */
inline ::testing::AssertionResult census_is(kslub_cache_t *s, const Census &want)
{
	kslub_census got{};
	long errors = kslub_cache_check(s, &got);
	kslub_census w{want.slabs,	   want.frozen_slabs,
		       want.partial_slabs, want.cpu_partial_slabs,
		       want.objects,	   want.live_objects,
		       want.free_objects,  want.sheaf_objects,
		       want.sheaves,	   want.internal_objects};
	if (errors == 0 && census_equal(got, w))
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure()
	       << "cache " << kslub_cache_name(s) << ": check found " << errors
	       << " errors; census " << census_str(got) << ", expected " << census_str(w);
}

/* kslub_cache_check() finds nothing and the user holds exactly `live` objects. */
inline ::testing::AssertionResult live_is(kslub_cache_t *s, uint64_t live)
{
	kslub_census got{};
	long errors = kslub_cache_check(s, &got);
	if (errors == 0 && got.live_objects == live)
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure()
	       << "cache " << kslub_cache_name(s) << ": check found " << errors
	       << " errors; census " << census_str(got) << ", expected live " << live;
}

inline kslub_census census_of(kslub_cache_t *s)
{
	kslub_census c{};
	kslub_cache_check(s, &c);
	return c;
}

inline uint64_t pool_free_pages(const kslub_t *k)
{
	kslub_pool p{};
	kslub_pool_info(k, &p);
	return p.free_pages;
}

} // namespace kslub_test

#endif
