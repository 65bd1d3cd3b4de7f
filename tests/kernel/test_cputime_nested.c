// SPDX-License-Identifier: GPL-2.0
/* User and system time of nested cgroups against cpu.stat: a parent's figures hold its children's, which reach it
 * only by the rstat flush the agent runs before each sweep (bpf/flush.bpf.c). cpu.stat is read only after the
 * sweep (reading it flushes), so nothing but the agent's own flush folded the burners' time into the parents'. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgtest.h"

static struct agentfx fx;
static struct cgt top, mid, leaf, other;

static int setup(void **state)
{
	(void)state;
	return fx_open(&fx, NULL);
}

static int teardown(void **state)
{
	(void)state;
	fx_close(&fx);
	return 0;
}

/* After every test, passed or failed (a failed assertion leaves the test early). */
static int after(void **state)
{
	(void)state;
	cgt_destroy(&leaf);
	cgt_destroy(&mid);
	cgt_destroy(&other);
	cgt_destroy(&top);
	return 0;
}

/* One cgroup of the last sweep against its cpu.stat, read now: user + system its usage to the microsecond
 * (the file's unit), each of them within 2% of the usage (the kernel scales its own split with its own history);
 * the usage at least at_least_ns, and sum_ns (its children's, unless 0) to the microsecond. */
static void check(const struct agentfx *f, const struct cgt *cg, const char *what, uint64_t at_least_ns,
		  uint64_t sum_ns)
{
	const struct cgp_sample *s = fx_find(f, cg->id);
	uint64_t usage = cgt_cpu_usage_ns(cg), user = cgt_cpu_stat(cg, "user_usec"),
		 sys = cgt_cpu_stat(cg, "system_usec");

	assert_non_null(s);
	printf("# %-5s cgpulse user %.6f + system %.6f = %.6f s; kernel %.6f + %.6f, usage %.6f s\n", what,
	       s->cpu_user_ns / 1e9, s->cpu_system_ns / 1e9, (s->cpu_user_ns + s->cpu_system_ns) / 1e9, user / 1e9,
	       sys / 1e9, usage / 1e9);
	assert_true(s->has_cpu_user_system);
	assert_true(user != UINT64_MAX && sys != UINT64_MAX);
	assert_true(usage >= at_least_ns);
	if (sum_ns)
		assert_true(llabs((long long)sum_ns - (long long)usage) < 2000);
	assert_true(llabs((long long)(s->cpu_user_ns + s->cpu_system_ns) - (long long)usage) < 1000);
	assert_true(fabs((double)s->cpu_user_ns - (double)user) < 0.02 * usage);
	assert_true(fabs((double)s->cpu_system_ns - (double)sys) < 0.02 * usage);
}

/* top/mid/leaf and top/other, each new (tasks only in leaves: cgroup v2 keeps them out of a cgroup whose children
 * have controllers); a user + system burner in leaf and a CPU burner in other, both waited for; one sweep, then
 * every level against its cpu.stat, read only now (a read flushes): the kernel's figures, the parents' holding
 * their children's and no more. */
static void test_nested_user_system(void **state)
{
	(void)state;
	assert_non_null(fx.bpf.iter_flush); /* every kernel cgpulse supports (6.1 to 6.18) has the flush kfunc */
	assert_int_equal(cgt_create(&top, "nested-top"), 0);
	assert_int_equal(cgt_create_in(&mid, &top, "mid"), 0);
	assert_int_equal(cgt_create_in(&leaf, &mid, "leaf"), 0);
	assert_int_equal(cgt_create_in(&other, &top, "other"), 0);
	assert_int_equal(fx_sweep(&fx), 0); /* each seen at 0 first */
	assert_int_equal(cgt_wait(cgt_spawn_user_sys_burner(&leaf, 0.3, 0.3), NULL), 0);
	assert_int_equal(cgt_wait(cgt_spawn_cpu_burner(&other, 0.2), NULL), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	check(&fx, &leaf, "leaf", 550000000ULL, 0);
	check(&fx, &mid, "mid", 550000000ULL, 0);
	check(&fx, &other, "other", 150000000ULL, 0);
	/* all of it, and its children's sum: nothing of one counted in the other */
	check(&fx, &top, "top", 750000000ULL, cgt_cpu_usage_ns(&mid) + cgt_cpu_usage_ns(&other));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_nested_user_system, after),
	};

	if (!cgt_can_run()) {
		printf("# skipped: needs root, BPF and cgroups\n");
		return 0;
	}
	return cmocka_run_group_tests_name("kernel_cputime_nested", tests, setup, teardown);
}
