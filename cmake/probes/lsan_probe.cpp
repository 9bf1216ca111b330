// SPDX-License-Identifier: GPL-2.0-only
// Configure-time probe: does LeakSanitizer work here? It needs ptrace-like
// access to stop the process's threads at exit; some containers (and
// running under strace/gdb) deny that and LSan then aborts every run.
// This program leaks nothing, so it exits 0 exactly when LSan works.
#include <cstdlib>

extern "C" const char *__asan_default_options()
{
	return "detect_leaks=1";
}

int main()
{
	void *volatile p = std::malloc(64);
	std::free(p);
	return 0;
}
