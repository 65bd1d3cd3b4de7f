// SPDX-License-Identifier: GPL-2.0
/* The machine's speed at the three things the agent's CPU share is made of, so that a bench run can be set beside
 * one from another machine: the same build read 5.2% of a core at 10,000 containers on one VM of this kind and
 * 10-13% on another (issue 16, ninth part). Prints one line of medians over 5 runs, in ns:
 *   "user <ns per op of a pointer chase over 64 MiB> syscall <ns per getppid()> fault <ns per first touch of a
 *    page of a fresh anonymous mapping>"
 * A pointer chase is what the agent's user time is at 10,000 cgroups (a cache and TLB miss per store it looks a
 * cgroup up in); system calls and page faults are what mitigations and nested paging make dear. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#define RUNS	  5
#define CHASE_MIB 64
#define CHASE_OPS (1u << 22)
#define SYSCALLS  200000
#define FAULT_MIB 64

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp);
	return v[RUNS / 2];
}

/* One random cycle through every slot: each step a load whose address the last one gave. */
static double chase(size_t **ring)
{
	size_t *p = (size_t *)ring;
	uint64_t t = now_ns();

	for (unsigned i = 0; i < CHASE_OPS; i++)
		p = *(size_t **)p;
	t = now_ns() - t;
	if (!p) /* keeps the loop */
		puts("");
	return (double)t / CHASE_OPS;
}

static double syscalls(void)
{
	uint64_t t = now_ns();

	for (int i = 0; i < SYSCALLS; i++)
		syscall(SYS_getppid);
	return (double)(now_ns() - t) / SYSCALLS;
}

static double faults(void)
{
	size_t len = (size_t)FAULT_MIB << 20, page = (size_t)sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t;

	if (m == MAP_FAILED)
		return -1;
	t = now_ns();
	for (size_t o = 0; o < len; o += page)
		m[o] = 1;
	t = now_ns() - t;
	munmap(m, len);
	return (double)t / (double)(len / page);
}

int main(void)
{
	size_t n = ((size_t)CHASE_MIB << 20) / sizeof(void *), *order;
	void **ring = malloc(n * sizeof(void *));
	double u[RUNS], s[RUNS], f[RUNS];

	order = malloc(n * sizeof(*order));
	if (!ring || !order)
		return 1;
	/* a random permutation made into one cycle (Sattolo) */
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	srand(1);
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = ((size_t)rand() * ((size_t)RAND_MAX + 1) + (size_t)rand()) % i, x = order[i];

		order[i] = order[j];
		order[j] = x;
	}
	for (size_t i = 0; i < n; i++)
		ring[order[i]] = &ring[order[(i + 1) % n]];
	free(order);
	for (int r = 0; r < RUNS; r++) {
		u[r] = chase((size_t **)ring);
		s[r] = syscalls();
		f[r] = faults();
	}
	printf("user %.1f syscall %.1f fault %.1f\n", median(u), median(s), median(f));
	free(ring);
	return 0;
}
