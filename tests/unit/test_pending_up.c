// SPDX-License-Identifier: GPL-2.0
/* Each cgroup's CPU time not yet flushed, added to its ancestors' user and system time as a flush would
 * (collect/pending_up.h), through the sampler as the cgroup v2 walk feeds it: a pre-order tree, a cgroup written
 * twice in one walk, a record deeper than any ancestor taken, and the root left alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collect/loader.h"
#include "collect/sampler.h"

#define NS 1000000000ULL

/* A cgroup v2 record: flushed run/user/system time (ns) plus its own pending, at a level. */
static struct cgp_cgroup_rec rec(uint64_t id, uint32_t level, uint64_t r, uint64_t u, uint64_t s, uint64_t pr,
				 uint64_t pu, uint64_t ps)
{
	return (struct cgp_cgroup_rec){.cgroup_id = id,
				       .level = level,
				       .flags = CGP_REC_DFL | CGP_REC_CPU | CGP_REC_CPUTIME,
				       .cpu_rtime_ns = r + pr,
				       .cpu_utime_ns = u + pu,
				       .cpu_stime_ns = s + ps,
				       .cpu_pend_rtime_ns = pr,
				       .cpu_pend_utime_ns = pu,
				       .cpu_pend_stime_ns = ps};
}

static void sweep(struct cgp_sampler *sp, uint64_t t, const struct cgp_cgroup_rec *recs, size_t n)
{
	cgp_sampler_begin(sp, t, t);
	assert_int_equal(cgp_sampler_take_v2(sp, recs, n), 0);
	assert_int_equal(cgp_sampler_end(sp), 0);
}

/* The cgroup's user and system time in the last sweep (user + system is the run time given). */
static void expect(const struct cgp_sampler *sp, uint64_t id, uint64_t user, uint64_t sys)
{
	struct cgp_sample s;
	size_t it = 0;

	while (cgp_sampler_next(sp, &it, &s))
		if (s.cgroup_id == id) {
			assert_true(s.has_cpu_user_system);
			assert_int_equal(s.cpu_user_ns, user);
			assert_int_equal(s.cpu_system_ns, sys);
			return;
		}
	fail_msg("cgroup %llu not sampled", (unsigned long long)id);
}

/*   root(1) ── a(2) ── b(3) ── c(4)
 *           │       └─ d(5)
 *           └─ e(6)                     pending: a 1u, b 10u, c 60u + 40s, d 5s, e 7u */
static void test_tree(void **state)
{
	struct cgp_cgroup_rec r[] = {
	    {.cgroup_id = 1, .level = 0, .flags = CGP_REC_DFL | CGP_REC_CPU, .cpu_pend_rtime_ns = 99},
	    rec(2, 1, 1000, 600, 400, 1, 1, 0),
	    rec(3, 2, 500, 300, 200, 10, 10, 0),
	    rec(4, 3, 50, 30, 20, 100, 60, 40),
	    rec(5, 2, 200, 100, 100, 5, 0, 5),
	    rec(6, 1, 300, 150, 150, 7, 7, 0),
	};
	struct cgp_sampler sp;

	(void)state;
	assert_int_equal(cgp_sampler_init(&sp, NULL), 0);
	sweep(&sp, NS, r, sizeof(r) / sizeof(r[0]));
	/* a: its own, and all three below it */
	expect(&sp, 2, 601 + 10 + 60, 400 + 40 + 5);
	/* b: its own and c's, not its sibling d's */
	expect(&sp, 3, 310 + 60, 200 + 40);
	/* the leaves and e: their own only (e comes after a's subtree, at a's level) */
	expect(&sp, 4, 90, 60);
	expect(&sp, 5, 100, 105);
	expect(&sp, 6, 157, 150);

	/* the next sweep: c written twice in the walk (deeper than the place a pass keeps), with more pending the
	 * second time: its ancestors have the later copy's, not both */
	{
		struct cgp_cgroup_rec r2[] = {
		    r[0],
		    rec(2, 1, 2000, 1200, 800, 0, 0, 0),
		    rec(3, 2, 1000, 600, 400, 0, 0, 0),
		    rec(4, 3, 200, 120, 80, 10, 10, 0),
		    rec(4, 3, 200, 120, 80, 30, 20, 10),
		};

		sweep(&sp, 2 * NS, r2, sizeof(r2) / sizeof(r2[0]));
		expect(&sp, 2, 1200 + 20, 800 + 10);
		expect(&sp, 3, 600 + 20, 400 + 10);
		expect(&sp, 4, 140, 90);
	}

	/* a walk that begins below any ancestor it has taken (a first record deeper than level 1): nothing is
	 * added anywhere, and the last sweep's ancestors are not this one's */
	{
		struct cgp_cgroup_rec r3[] = {rec(4, 3, 300, 180, 120, 50, 50, 0), rec(6, 1, 400, 200, 200, 0, 0, 0)};

		sweep(&sp, 3 * NS, r3, sizeof(r3) / sizeof(r3[0]));
		expect(&sp, 4, 230, 120);
		expect(&sp, 6, 200, 200);
	}
	cgp_sampler_free(&sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree),
	};

	return cmocka_run_group_tests_name("pending_up", tests, NULL, NULL);
}
