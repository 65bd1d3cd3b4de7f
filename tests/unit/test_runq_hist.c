// SPDX-License-Identifier: GPL-2.0
/* Quantiles of the log2 run-queue histogram. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "collect/runq_hist.h"
#include "collect/sample.h"

static void test_empty_is_zero(void **state)
{
	uint64_t h[CGP_RUNQ_SLOTS] = {};

	(void)state;
	assert_true(cgp_runq_quantile_us(h, CGP_RUNQ_SLOTS, 0.99) == 0);
}

static void test_quantiles_interpolate_inside_slot(void **state)
{
	uint64_t h[CGP_RUNQ_SLOTS] = {};

	(void)state;
	h[0] = 50; /* < 1 us */
	h[4] = 49; /* [8, 16) us */
	h[10] = 1; /* [512, 1024) us */
	/* p50: the 50th of 100 is the last in slot 0 */
	assert_true(cgp_runq_quantile_us(h, CGP_RUNQ_SLOTS, 0.50) <= 1.0);
	/* p90: rank 90 = 40th of 49 in [8, 16) */
	assert_float_equal(cgp_runq_quantile_us(h, CGP_RUNQ_SLOTS, 0.90), 8 + 8 * 40.0 / 49, 1e-9);
	/* p99: rank 99 is the last of slot 4; p100 reaches the top of slot 10 */
	assert_float_equal(cgp_runq_quantile_us(h, CGP_RUNQ_SLOTS, 0.99), 16, 1e-9);
	assert_float_equal(cgp_runq_quantile_us(h, CGP_RUNQ_SLOTS, 1.0), 1024, 1e-9);
}

static void test_slot_bounds(void **state)
{
	double lo, hi;

	(void)state;
	cgp_runq_slot_bounds(0, &lo, &hi);
	assert_float_equal(lo, 0, 0);
	assert_float_equal(hi, 1, 0);
	cgp_runq_slot_bounds(11, &lo, &hi);
	assert_float_equal(lo, 1024, 0);
	assert_float_equal(hi, 2048, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_is_zero),
	    cmocka_unit_test(test_quantiles_interpolate_inside_slot),
	    cmocka_unit_test(test_slot_bounds),
	};

	return cmocka_run_group_tests_name("runq_hist", tests, NULL, NULL);
}
