// SPDX-License-Identifier: GPL-2.0
/* User/system time scaled as the kernel's cputime_adjust() does: proportional to the tick samples, adding up to
 * the run time, all to one side without samples of the other, and never backwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collect/cputime.h"

static void test_scaled_to_run_time(void **state)
{
	struct cgp_cputime prev = {0}, r;

	(void)state;
	/* 3:1 in tick samples, 1 s of run time */
	r = cgp_cputime_adjust(1000000000, 30, 10, &prev);
	assert_int_equal(r.system_ns, 250000000);
	assert_int_equal(r.user_ns, 750000000);
	/* no system sample yet: all user; no user sample: all system */
	r = cgp_cputime_adjust(5000, 0, 0, &prev);
	assert_int_equal(r.user_ns, 5000);
	assert_int_equal(r.system_ns, 0);
	r = cgp_cputime_adjust(5000, 0, 4, &prev);
	assert_int_equal(r.system_ns, 5000);
	assert_int_equal(r.user_ns, 0);
	/* large figures: the product does not overflow */
	r = cgp_cputime_adjust(UINT64_MAX / 2, UINT64_MAX / 4, UINT64_MAX / 4, &prev);
	assert_int_equal(r.user_ns + r.system_ns, UINT64_MAX / 2);
	assert_true(r.system_ns >= UINT64_MAX / 4 - 1 && r.system_ns <= UINT64_MAX / 4 + 1);
}

static void test_never_backwards(void **state)
{
	struct cgp_cputime prev = {.user_ns = 600, .system_ns = 400}, r;

	(void)state;
	/* the run time did not grow: the same report */
	r = cgp_cputime_adjust(1000, 1, 9, &prev);
	assert_int_equal(r.user_ns, 600);
	assert_int_equal(r.system_ns, 400);
	/* the samples' ratio would cut user time below what was reported: system takes only the growth */
	r = cgp_cputime_adjust(1100, 1, 9, &prev);
	assert_int_equal(r.user_ns, 600);
	assert_int_equal(r.system_ns, 500);
	/* and the other way round */
	r = cgp_cputime_adjust(1100, 9, 1, &prev);
	assert_int_equal(r.system_ns, 400);
	assert_int_equal(r.user_ns, 700);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scaled_to_run_time),
	    cmocka_unit_test(test_never_backwards),
	};

	return cmocka_run_group_tests_name("cputime", tests, NULL, NULL);
}
