// SPDX-License-Identifier: GPL-2.0
/* What the rings' reader takes for a second copy of a record (collect/ring_repeats.h): the same key within 10 ms
 * of boot time, either way round; not a key that differs in either half, nor the same key 10 ms and 1 ns apart;
 * and the memory is the last CGP_REPEAT_KEEP records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collect/ring_repeats.h"

#define T0 5000000000ULL /* 5 s after boot */

static void test_copy_within_window(void **state)
{
	struct cgp_ring_repeats r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_false(cgp_ring_repeat(&r, 42, 7, T0));
	assert_true(cgp_ring_repeat(&r, 42, 7, T0 + 3000));		    /* the other program, 3 µs later */
	assert_true(cgp_ring_repeat(&r, 42, 7, T0 - 3000));		    /* read in the other order */
	assert_true(cgp_ring_repeat(&r, 42, 7, T0 + CGP_REPEAT_WINDOW_NS)); /* the window's edge */
	assert_false(cgp_ring_repeat(&r, 42, 8, T0));			    /* another cgroup */
	assert_false(cgp_ring_repeat(&r, 43, 7, T0));			    /* another victim */
}

static void test_same_key_later_is_new(void **state)
{
	struct cgp_ring_repeats r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_false(cgp_ring_repeat(&r, 42, 7, T0));
	assert_false(cgp_ring_repeat(&r, 42, 7, T0 + CGP_REPEAT_WINDOW_NS + 1));
	/* the second is remembered too: its own copy is one */
	assert_true(cgp_ring_repeat(&r, 42, 7, T0 + CGP_REPEAT_WINDOW_NS + 2));
}

static void test_memory_is_last_records(void **state)
{
	struct cgp_ring_repeats r;

	(void)state;
	memset(&r, 0, sizeof(r));
	assert_false(cgp_ring_repeat(&r, 1, 0, T0));
	for (uint64_t k = 2; k <= CGP_REPEAT_KEEP; k++) /* 31 others: the first is still remembered */
		assert_false(cgp_ring_repeat(&r, k, 0, T0));
	assert_true(cgp_ring_repeat(&r, 1, 0, T0));
	assert_false(cgp_ring_repeat(&r, 100, 0, T0)); /* the 33rd record takes the first's place */
	assert_false(cgp_ring_repeat(&r, 1, 0, T0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_copy_within_window),
	    cmocka_unit_test(test_same_key_later_is_new),
	    cmocka_unit_test(test_memory_is_last_records),
	};

	return cmocka_run_group_tests_name("ring_repeats", tests, NULL, NULL);
}
