// SPDX-License-Identifier: GPL-2.0
/* Context-switch load: two processes pinned to one CPU pass a byte back and forth over two pipes for a fixed
 * number of round trips. Each side blocks in read() until the other writes, so every round trip is two
 * sched_switch events on that CPU and almost nothing else: the load the kernel-cost figures are measured under.
 * A fixed count (not a fixed time) gives every program the same number of events, and the elapsed time then
 * shows what the attached programs cost end to end.
 *
 * Usage: pingpong [--rounds N] [--cpu C]; prints one line of key=value figures. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

static unsigned long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static unsigned long long tv_ns(const struct timeval *tv)
{
	return tv->tv_sec * 1000000000ULL + tv->tv_usec * 1000ULL;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "pingpong: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
		exit(1);
	}
}

static int xfer(int rfd, int wfd, unsigned long rounds, int first)
{
	char b = 0;

	for (unsigned long i = 0; i < rounds; i++) {
		if (first && write(wfd, &b, 1) != 1)
			return -1;
		if (read(rfd, &b, 1) != 1)
			return -1;
		if (!first && write(wfd, &b, 1) != 1)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long rounds = 200000;
	int cpu = 0, ab[2], ba[2], st;
	unsigned long long t0, t1, used;
	struct rusage self, child;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
			cpu = atoi(argv[++i]);
		else {
			fprintf(stderr, "usage: pingpong [--rounds N] [--cpu C]\n");
			return 2;
		}
	}
	if (pipe(ab) || pipe(ba)) {
		perror("pipe");
		return 1;
	}
	/* never outlive the harness either: the benchmark must not leave load running */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	pin(cpu); /* before fork, so the child starts on the same CPU */
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		/* never outlive the driver: the benchmark must not leave load running */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		_exit(xfer(ab[0], ba[1], rounds, 0) ? 1 : 0);
	}
	t0 = now_ns();
	if (xfer(ba[0], ab[1], rounds, 1)) {
		perror("pingpong");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return 1;
	}
	t1 = now_ns();
	if (wait4(pid, &st, 0, &child) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "pingpong: partner failed\n");
		return 1;
	}
	getrusage(RUSAGE_SELF, &self);
	/* CPU time of the pair (the kernel sums exact run time, so this is ns-precise in total): unlike the
	 * elapsed time it leaves out whatever else the shared machine ran on this CPU in between */
	used = tv_ns(&self.ru_utime) + tv_ns(&self.ru_stime) + tv_ns(&child.ru_utime) + tv_ns(&child.ru_stime);
	printf(
	    "rounds=%lu switches=%lu elapsed_ns=%llu ns_per_switch=%.1f cpu_ns_per_switch=%.1f switches_per_s=%.0f\n",
	    rounds, 2 * rounds, t1 - t0, (double)(t1 - t0) / (2.0 * rounds), (double)used / (2.0 * rounds),
	    2.0 * rounds * 1e9 / (double)(t1 - t0));
	return 0;
}
