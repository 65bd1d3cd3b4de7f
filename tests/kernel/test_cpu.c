// SPDX-License-Identifier: GPL-2.0
/* CPU time per cgroup against the kernel's own accounting (cgroup2 cpu.stat usage_usec). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgtest.h"

static struct agentfx fx;
static struct cgt a, b;

static int setup(void **state)
{
	(void)state;
	return fx_open(&fx, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cgt_destroy(&a);
	cgt_destroy(&b);
	fx_close(&fx);
	return 0;
}

/* One burner for 2 s: cpu_ns_total within 1% of cpu.stat usage_usec. */
static void test_cpu_matches_kernel(void **state)
{
	const struct cgp_sample *s;
	uint64_t kernel;
	double err;

	(void)state;
	assert_int_equal(cgt_create(&a, "cpu"), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	assert_int_equal(cgt_wait(cgt_spawn_cpu_burner(&a, 2.0), NULL), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	kernel = cgt_cpu_usage_ns(&a);
	s = fx_find(&fx, a.id);
	assert_non_null(s);
	assert_string_equal(fx_path(&fx, a.id), a.rel);
	err = ((double)s->cpu_ns_total - (double)kernel) / (double)kernel;
	printf("# cpu: cgpulse %.6f s, kernel %.6f s, error %+.4f%%\n", s->cpu_ns_total / 1e9, kernel / 1e9, err * 100);
	assert_true(kernel > 1900000000ULL); /* the burner really burned its 2 s */
	assert_true(err < 0.01 && err > -0.01);
	/* the window holds what ran inside it */
	assert_true(s->cpu_ns_window == s->cpu_ns_total);
	assert_true(s->voluntary_switches + s->involuntary_switches > 0);
	cgt_destroy(&a);
}

/* Two cgroups burning on one CPU with CPU weights 2:1 (cpu.weight on v2, cpu.shares on a v1 cpu hierarchy):
 * the measured split is the kernel's own within 3%, and about 2:1. */
static void test_cpu_ratio_two_to_one(void **state)
{
	const struct cgp_sample *sa, *sb;
	pid_t p[3];
	double ratio, kratio;

	(void)state;
	assert_int_equal(cgt_create(&a, "two"), 0);
	assert_int_equal(cgt_create(&b, "one"), 0);
	assert_int_equal(cgt_set_cpu_weight(&a, 200), 0);
	assert_int_equal(cgt_set_cpu_weight(&b, 100), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	/* two tasks in a, so that a's tasks also wait for each other: its run-queue histogram must see it */
	p[0] = cgt_spawn_burner(&a, 0, 2.0);
	p[1] = cgt_spawn_burner(&a, 0, 2.0);
	p[2] = cgt_spawn_burner(&b, 0, 2.0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cgt_wait(p[i], NULL), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	sa = fx_find(&fx, a.id);
	sb = fx_find(&fx, b.id);
	assert_non_null(sa);
	assert_non_null(sb);
	ratio = (double)sa->cpu_ns_window / (double)sb->cpu_ns_window;
	kratio = (double)cgt_cpu_usage_ns(&a) / (double)cgt_cpu_usage_ns(&b);
	printf("# ratio: cgpulse %.4f, kernel %.4f\n", ratio, kratio);
	assert_true(ratio > kratio * 0.97 && ratio < kratio * 1.03);
	/* the kernel's own split, only roughly 2:1: under QEMU TCG it ranged 1.92..2.12 over 12 runs (equal to
	 * cgpulse's to 4 digits every time), so this bound checks the setup, the one above checks cgpulse */
	assert_true(kratio > 2.0 * 0.9 && kratio < 2.0 * 1.1);
	/* the two tasks of a waited for the CPU: the run-queue histogram saw it */
	assert_true(sa->runq_waits_window > 0);
	assert_true(sa->runq_p99_us > 0);
	assert_true(sa->involuntary_switches > 0);
	cgt_destroy(&a);
	cgt_destroy(&b);
}

/* A burner pinned alone to a CPU is rarely switched out, so it is charged at each sweep (cgp_tick): every 1 s
 * window holds what the kernel's own accounting (cpu.stat usage_usec) grew by over the same window, within 5%,
 * for 15 windows in a row; and over all of them nothing is counted twice (the totals agree within 1%). */
static void test_cpu_every_interval_pinned(void **state)
{
	const int windows = 15, cpu = (int)sysconf(_SC_NPROCESSORS_ONLN) - 1;
	const struct cgp_sample *s;
	uint64_t k0, k1, k_first, ours = 0;
	cpu_set_t mine, all;
	double err, worst = 0;
	pid_t burner;

	(void)state;
	if (cpu < 1) {
		printf("SKIP: needs 2 CPUs (one for the burner alone, one for the sweeps)\n");
		skip();
	}
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&mine); /* the sweeps, and this test, stay off the burner's CPU */
	CPU_SET(0, &mine);
	assert_int_equal(sched_setaffinity(0, sizeof(mine), &mine), 0);
	assert_int_equal(cgt_create(&a, "pinned"), 0);
	burner = cgt_spawn_burner(&a, cpu, windows + 3.0);
	assert_true(burner > 0);
	usleep(500000); /* the burner is pinned and burning */
	assert_int_equal(fx_sweep(&fx), 0);
	k_first = k0 = cgt_cpu_usage_ns(&a);
	for (int i = 0; i < windows; i++) {
		sleep(1);
		assert_int_equal(fx_sweep(&fx), 0);
		k1 = cgt_cpu_usage_ns(&a);
		s = fx_find(&fx, a.id);
		assert_non_null(s);
		err = ((double)s->cpu_ns_window - (double)(k1 - k0)) / (double)(k1 - k0);
		printf("# window %2d: cgpulse %.4f s, kernel %.4f s, error %+.3f%%\n", i + 1, s->cpu_ns_window / 1e9,
		       (k1 - k0) / 1e9, err * 100);
		if (err < 0 ? -err > worst : err > worst)
			worst = err < 0 ? -err : err;
		ours += s->cpu_ns_window;
		/* the burner really ran for most of the window (a busy shared machine may take some of it) */
		assert_true(k1 - k0 > 500000000ULL);
		assert_true(err < 0.05 && err > -0.05);
		k0 = k1;
	}
	err = ((double)ours - (double)(k1 - k_first)) / (double)(k1 - k_first);
	printf("# %d windows: cgpulse %.4f s, kernel %.4f s, error %+.4f%%, worst window %.3f%%\n", windows, ours / 1e9,
	       (k1 - k_first) / 1e9, err * 100, worst * 100);
	assert_true(err < 0.01 && err > -0.01);
	kill(burner, SIGKILL);
	cgt_wait(burner, NULL);
	sched_setaffinity(0, sizeof(all), &all);
	cgt_destroy(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpu_matches_kernel),
	    cmocka_unit_test(test_cpu_ratio_two_to_one),
	    cmocka_unit_test(test_cpu_every_interval_pinned),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_cpu", tests, setup, teardown);
}
