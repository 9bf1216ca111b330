// SPDX-License-Identifier: GPL-2.0-only
/*
 * A fuzz target that misbehaves on purpose, for the test of fuzz/run-smoke.sh
 * (runner-test.sh): built as fuzz-selftest-<mode> with SELFTEST_MODE set to
 * one way of failing, it fails that way on an input that starts with '!'
 * (the seed corpus has one) and does nothing on any other input.
 */
#include <cstdint>
#include <cstdlib>
#include <cstring>

#define MODE_CLEAN 0
#define MODE_CRASH 1
#define MODE_LEAK 2
#define MODE_TIMEOUT 3

static void *volatile sink;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0 || data[0] != '!')
		return 0;
	switch (SELFTEST_MODE) {
	case MODE_CRASH: __builtin_trap();
	case MODE_LEAK: {
		char *p = static_cast<char *>(malloc(4096));
		memset(p, 1, 4096);
		sink = p;
		sink = nullptr; /* the only reference is gone: a leak */
		break;
	}
	case MODE_TIMEOUT:
		for (volatile unsigned long i = 0;; i++)
			;
	default: break;
	}
	return 0;
}
