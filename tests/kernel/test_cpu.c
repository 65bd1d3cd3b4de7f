// SPDX-License-Identifier: GPL-2.0
/* CPU time per cgroup against the kernel's own accounting (cgroup2 cpu.stat usage_usec). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cpu_matches_kernel),
	    cmocka_unit_test(test_cpu_ratio_two_to_one),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_cpu", tests, setup, teardown);
}
