// SPDX-License-Identifier: GPL-2.0-only
/* The user-space platform's view of the machine's CPUs, rseq and membarrier. */
#include "user_platform.h"

#include <fcntl.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kslub {

#ifdef KSLUB_HAVE_RSEQ
/*
 * The pieces of the restartable sequences (rseq(2)). Each sequence has a
 * descriptor {version, flags, start, length up to and including the commit,
 * abort handler} in section __rseq_cs, stored in the thread's struct rseq
 * (at %fs:__rseq_offset; cpu_id at +4, rseq_cs at +8) before it starts at
 * label 1; label 2 follows the commit instruction. The abort handler (label 4)
 * lies in __rseq_failure behind the 4-byte signature the kernel checks, and
 * jumps back to the C label retry. Operands: [rs] __rseq_offset, [ncpu] the
 * declared CPUs, [stride] sizeof(kmem_cache_cpu), [base] the per-CPU array.
 */
#define KSLUB_SEQ_BEGIN                      \
	".pushsection __rseq_cs, \"aw\"\n\t" \
	".balign 32\n\t"                     \
	"3:\n\t"                             \
	".long 0, 0\n\t"                     \
	".quad 1f, 2f - 1f, 4f\n\t"          \
	".popsection\n\t"                    \
	"leaq 3b(%%rip), %%rax\n\t"          \
	"movq %%rax, %%fs:8(%[rs])\n\t"      \
	"1:\n\t"
#define KSLUB_SEQ_ABORT                           \
	".pushsection __rseq_failure, \"ax\"\n\t" \
	".byte 0x0f, 0xb9, 0x3d\n\t"              \
	".long 0x53053053\n\t"                    \
	"4:\n\t"                                  \
	"jmp %l[retry]\n\t"                       \
	".popsection\n\t"
/* c = this CPU's slot, or off to the slow path for a CPU beyond the declared ones. */
#define KSLUB_SEQ_SLOT                  \
	"movl %%fs:4(%[rs]), %k[c]\n\t" \
	"cmpl %[ncpu], %k[c]\n\t"       \
	"jae %l[slow]\n\t"              \
	"imulq %[stride], %q[c]\n\t"    \
	"addq %[base], %q[c]\n\t"
#define KSLUB_SEQ_IN \
	[rs] "r"(__rseq_offset), [ncpu] "rm"(nr_cpus_), [stride] "rm"(stride), [base] "rm"(pcp)
/*
 * The commit: the tid read at the start (rdx) must still be the slot's, as
 * the kernel's CAS requires; then tid + step, then the new freelist, whose
 * store is the sequence's last instruction. Nothing on this CPU runs between
 * the check and the stores (the kernel restarts the sequence first), and
 * other CPUs change the slot's freelist only after slot_unpublish()'s fence,
 * so check and stores are one transaction, as a cmpxchg16b would be, at a
 * fraction of its cost. An abort between the two stores leaves the freelist
 * as it was and the tid one step on: a transaction that only used up a tid,
 * as the kernel's flushes do. Two 8-byte stores, not one 16-byte store: the
 * next sequence's 8-byte loads of the slot forward from them at once.
 */
#define KSLUB_SEQ_COMMIT           \
	"cmpq %%rdx, 8(%q[c])\n\t" \
	"jne %l[retry]\n\t"        \
	"movq %%rcx, 8(%q[c])\n\t" \
	"movq %%rbx, (%q[c])\n\t"
/* Pop: a slab, an object, its decoded next pointer; {obj, tid} -> {next, tid + step}. */
#define KSLUB_SEQ_ALLOC(decode)                                                 \
	KSLUB_SEQ_BEGIN KSLUB_SEQ_SLOT                                          \
		"cmpq $0, 16(%q[c])\n\t"                                        \
		"je %l[slow]\n\t"                                               \
		"movq 8(%q[c]), %%rdx\n\t"                                      \
		"movq (%q[c]), %%rax\n\t"                                       \
		"testq %%rax, %%rax\n\t"                                        \
		"je %l[slow]\n\t"                                               \
		"movq (%%rax,%[off]), %%rbx\n\t" decode "movq %%rdx, %%rcx\n\t" \
		"addq %[step], %%rcx\n\t" KSLUB_SEQ_COMMIT "2:\n\t" KSLUB_SEQ_ABORT
#define KSLUB_SEQ_DECODE                 \
	"leaq (%%rax,%[off]), %%rcx\n\t" \
	"bswapq %%rcx\n\t"               \
	"xorq %%rcx, %%rbx\n\t"          \
	"xorq %[key], %%rbx\n\t"
/* Push: our slab; tail's next = the freelist; {fl, tid} -> {head, tid + step}. */
#define KSLUB_SEQ_FREE(check, encode)                                          \
	KSLUB_SEQ_BEGIN KSLUB_SEQ_SLOT                                         \
		"movq 16(%q[c]), %%rax\n\t"                                    \
		"cmpq %%rax, %[slab]\n\t"                                      \
		"jne %l[slow]\n\t"                                             \
		"movq 8(%q[c]), %%rdx\n\t"                                     \
		"movq (%q[c]), %%rax\n\t" check "movq %%rax, %%rbx\n\t" encode \
		"movq %%rbx, (%[tail],%[off])\n\t"                             \
		"movq %[head], %%rbx\n\t"                                      \
		"movq %%rdx, %%rcx\n\t"                                        \
		"addq %[step], %%rcx\n\t" KSLUB_SEQ_COMMIT "2:\n\t" KSLUB_SEQ_ABORT
#define KSLUB_SEQ_CHECK_FIRST     \
	"cmpq %%rax, %[head]\n\t" \
	"je %l[double_free]\n\t"  \
	"cmpq %%rax, %[tail]\n\t" \
	"je %l[double_free]\n\t"
#define KSLUB_SEQ_ENCODE                   \
	"leaq (%[tail],%[off]), %%rcx\n\t" \
	"bswapq %%rcx\n\t"                 \
	"xorq %%rcx, %%rbx\n\t"            \
	"xorq %[key], %%rbx\n\t"

static_assert(RSEQ_SIG == 0x53053053, "the signature before every abort handler above");

/*
 * Out of line and in this one file: a descriptor in __rseq_cs must point
 * into code the linker keeps, which an inline copy in a COMDAT group is not.
 */
#define KSLUB_SEQ_POP(name, decode)                                                               \
	void *UserPlatform::name(void *pcp, usize stride, uptr off, KSLUB_SEQ_KEY_PARAM u64 step, \
				 void **slot) const                                               \
	{                                                                                         \
		uptr c;                                                                           \
		void *obj;                                                                        \
retry:                                                                                            \
		asm goto(KSLUB_SEQ_ALLOC(decode)                                                  \
			 : [c] "=&r"(c), "=&a"(obj)                                               \
			 : KSLUB_SEQ_IN, KSLUB_SEQ_KEY[off] "r"(off), [step] "rm"(step)           \
			 : "rbx", "rcx", "rdx", "memory", "cc"                                    \
			 : slow, retry);                                                          \
		*slot = reinterpret_cast<void *>(c);                                              \
		return obj;                                                                       \
slow:                                                                                             \
		return nullptr;                                                                   \
	}
#define KSLUB_SEQ_PUSH(name, check, encode)                                                       \
	int UserPlatform::name(void *pcp, usize stride, const void *slab, void *head, void *tail, \
			       uptr off, KSLUB_SEQ_KEY_PARAM u64 step, void **slot) const         \
	{                                                                                         \
		uptr c;                                                                           \
retry:                                                                                            \
		asm goto(KSLUB_SEQ_FREE(check, encode)                                            \
			 : [c] "=&r"(c)                                                           \
			 : KSLUB_SEQ_IN, KSLUB_SEQ_KEY[slab] "rm"(slab), [head] "rm"(head),       \
			   [tail] "r"(tail), [off] "r"(off), [step] "rm"(step)                    \
			 : "rax", "rbx", "rcx", "rdx", "memory", "cc"                             \
			 : slow, retry, double_free);                                             \
		*slot = reinterpret_cast<void *>(c);                                              \
		return SEQ_DONE;                                                                  \
slow:                                                                                             \
		return SEQ_SLOW;                                                                  \
double_free:                                                                                      \
		return SEQ_DOUBLE_FREE;                                                           \
	}

#define KSLUB_SEQ_KEY
#define KSLUB_SEQ_KEY_PARAM
KSLUB_SEQ_POP(seq_pop, "")
KSLUB_SEQ_PUSH(seq_push, "", "")
#undef KSLUB_SEQ_KEY
#undef KSLUB_SEQ_KEY_PARAM
#define KSLUB_SEQ_KEY [key] "rm"(key),
#define KSLUB_SEQ_KEY_PARAM u64 key,
KSLUB_SEQ_POP(seq_pop_hardened, KSLUB_SEQ_DECODE)
KSLUB_SEQ_PUSH(seq_push_hardened, KSLUB_SEQ_CHECK_FIRST, KSLUB_SEQ_ENCODE)
#undef KSLUB_SEQ_KEY
#undef KSLUB_SEQ_KEY_PARAM

bool UserPlatform::seq_store_null_on(void **f, unsigned cpu)
{
retry:
	asm goto(KSLUB_SEQ_BEGIN "cmpl %[cpu], %%fs:4(%[rs])\n\t"
				 "jne %l[other]\n\t"
				 "movq $0, (%[f])\n\t"
				 "2:\n\t" KSLUB_SEQ_ABORT
		 :
		 : [rs] "r"(__rseq_offset), [cpu] "r"(cpu), [f] "r"(f)
		 : "rax", "memory", "cc"
		 : other, retry);
	return true;
other:
	return false;
}
#endif

unsigned UserPlatform::host_cpu_slow()
{
	int cpu = sched_getcpu();
	return cpu < 0 ? 0 : unsigned(cpu);
}

/* "0-N" or a list of ranges: one more than the highest CPU number. */
unsigned UserPlatform::host_possible_cpus()
{
	static unsigned cached;
	unsigned n = __atomic_load_n(&cached, __ATOMIC_RELAXED);
	if (n)
		return n;
	char buf[256];
	int fd = open("/sys/devices/system/cpu/possible", O_RDONLY | O_CLOEXEC);
	ssize_t len = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	unsigned highest = 0;
	if (len > 0) {
		buf[len] = 0;
		unsigned v = 0;
		for (char *p = buf; *p; p++) {
			if (*p >= '0' && *p <= '9') {
				v = v * 10 + unsigned(*p - '0');
				if (v > highest)
					highest = v;
			} else {
				v = 0;
			}
		}
		n = highest + 1;
	} else {
		long conf = sysconf(_SC_NPROCESSORS_CONF);
		n = conf > 0 ? unsigned(conf) : 1;
	}
	__atomic_store_n(&cached, n, __ATOMIC_RELAXED);
	return n;
}

/* Threads mode: a slot per thread, handed out round robin on first use. */
unsigned UserPlatform::thread_slot()
{
	static unsigned next;
	static __thread unsigned mine; /* slot + 1; 0 until the thread first asks */
	if (!mine)
		mine = __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED) + 1;
	return mine - 1;
}

/*
 * The sequences need glibc's rseq registration (absent under valgrind and
 * with glibc.pthread.rseq=0), KSLUB_RSEQ not set to 0, and membarrier's
 * expedited rseq fence, registered once for the process.
 */
bool UserPlatform::seq_setup()
{
#ifdef KSLUB_HAVE_RSEQ
	const char *env = getenv("KSLUB_RSEQ");
	if (env && !strcmp(env, "0"))
		return false;
	if (__rseq_size < 20) /* cpu_id at 4, rseq_cs at 8, flags at 16 */
		return false;
	static int registered; /* 1: yes, -1: refused */
	int r = __atomic_load_n(&registered, __ATOMIC_ACQUIRE);
	if (!r) {
		r = syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) ?
			    -1 :
			    1;
		__atomic_store_n(&registered, r, __ATOMIC_RELEASE);
	}
	return r > 0;
#else
	return false;
#endif
}

/* Restart whatever sequence runs on `cpu` now; later ones see what was stored before. */
void UserPlatform::fence_cpu(unsigned cpu)
{
#ifdef KSLUB_HAVE_RSEQ
	if (cpu >= host_possible_cpus())
		return; /* no such CPU: nothing runs there */
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU,
		    int(cpu)))
		assert_fail("membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) failed", __FILE__,
			    __LINE__);
#else
	(void)cpu;
#endif
}

} // namespace kslub
