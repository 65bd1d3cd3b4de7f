// SPDX-License-Identifier: GPL-2.0
/* The u64 → pointer hash the sampler keeps per-cgroup state in: every key found after heavy churn. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "lib/idmap.h"

static void test_put_get_del(void **state)
{
	struct cgp_idmap m;

	(void)state;
	assert_int_equal(cgp_idmap_init(&m, 4), 0);
	assert_int_equal(cgp_idmap_put(&m, 0, (void *)1), -22); /* 0 is reserved */
	for (uintptr_t k = 1; k <= 5000; k++)
		assert_int_equal(cgp_idmap_put(&m, k * 7919, (void *)k), 0);
	assert_int_equal(m.len, 5000);
	for (uintptr_t k = 1; k <= 5000; k++)
		assert_ptr_equal(cgp_idmap_get(&m, k * 7919), (void *)k);
	/* delete every other key: the rest must stay reachable across backward shifts */
	for (uintptr_t k = 1; k <= 5000; k += 2)
		assert_ptr_equal(cgp_idmap_del(&m, k * 7919), (void *)k);
	assert_int_equal(m.len, 2500);
	for (uintptr_t k = 1; k <= 5000; k++)
		assert_ptr_equal(cgp_idmap_get(&m, k * 7919), k % 2 ? NULL : (void *)k);
	assert_null(cgp_idmap_del(&m, 12345678));
	assert_int_equal(cgp_idmap_put(&m, 2 * 7919, (void *)9), 0); /* replace */
	assert_ptr_equal(cgp_idmap_get(&m, 2 * 7919), (void *)9);
	assert_int_equal(m.len, 2500);
	cgp_idmap_free(&m);
}

/* delete while walking the table, as the sampler does: no key is skipped or seen twice */
static void test_delete_during_walk(void **state)
{
	struct cgp_idmap m;
	size_t kept = 0;

	(void)state;
	assert_int_equal(cgp_idmap_init(&m, 16), 0);
	for (uintptr_t k = 1; k <= 1000; k++)
		cgp_idmap_put(&m, k, (void *)k);
	for (size_t i = 0; i < m.cap;) {
		if (m.keys[i] && m.keys[i] % 3 == 0)
			cgp_idmap_del(&m, m.keys[i]);
		else
			i++;
	}
	for (size_t i = 0; i < m.cap; i++)
		if (m.keys[i]) {
			assert_true(m.keys[i] % 3 != 0);
			kept++;
		}
	assert_int_equal(kept, 1000 - 333);
	cgp_idmap_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_get_del),
	    cmocka_unit_test(test_delete_during_walk),
	};

	return cmocka_run_group_tests_name("idmap", tests, NULL, NULL);
}
