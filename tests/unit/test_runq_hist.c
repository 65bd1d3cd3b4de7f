// SPDX-License-Identifier: GPL-2.0
/* Quantiles of the log2 run-queue histogram. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
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

/* The one-pass quantiles and the table-free bounds are the same doubles as before, bit for bit. */
static void test_one_pass_is_the_same(void **state)
{
	static const double q[] = {0.0001, 0.25, 0.50, 0.90, 0.99, 1.0};
	uint64_t h[CGP_RUNQ_SLOTS], seed = 88172645463325252ULL;
	double lo, hi, out[6];

	(void)state;
	for (unsigned i = 0; i < 64; i++) {
		cgp_runq_slot_bounds(i, &lo, &hi);
		assert_true(lo == (i ? ldexp(1.0, (int)i - 1) : 0.0) && hi == ldexp(1.0, (int)i));
	}
	for (int round = 0; round < 20000; round++) {
		uint64_t total = 0;

		for (unsigned i = 0; i < CGP_RUNQ_SLOTS; i++) {
			seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
			/* mostly empty slots, some small counts, now and then a huge one */
			h[i] = seed % 4 ? 0 : seed % 1000 ? (seed >> 20) % 50 : seed >> 12;
			total += h[i];
		}
		cgp_runq_quantiles_us(h, CGP_RUNQ_SLOTS, total, q, out, 6);
		for (unsigned k = 0; k < 6; k++)
			assert_true(out[k] == cgp_runq_quantile_us(h, CGP_RUNQ_SLOTS, q[k]));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_is_zero),
	    cmocka_unit_test(test_quantiles_interpolate_inside_slot),
	    cmocka_unit_test(test_slot_bounds),
	    cmocka_unit_test(test_one_pass_is_the_same),
	};

	return cmocka_run_group_tests_name("runq_hist", tests, NULL, NULL);
}
