// SPDX-License-Identifier: GPL-2.0-only
/* The current host CPU: rseq's cpu_id when glibc registered rseq, else sched_getcpu(). */
#include "user_platform.h"

#include <sys/rseq.h>

namespace kslub {

unsigned UserPlatform::host_cpu()
{
#ifdef RSEQ_SIG
	if (__rseq_size > 0) {
		auto *rs = reinterpret_cast<volatile struct rseq *>(
			static_cast<char *>(__builtin_thread_pointer()) + __rseq_offset);
		int cpu = int(rs->cpu_id);
		if (cpu >= 0)
			return unsigned(cpu);
	}
#endif
	int cpu = sched_getcpu();
	return cpu < 0 ? 0 : unsigned(cpu);
}

} // namespace kslub
