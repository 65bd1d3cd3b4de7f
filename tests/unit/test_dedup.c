// SPDX-License-Identifier: GPL-2.0
/* Collector dedup: duplicates refused, the ack watermark only moves over contiguous seqs or a base_seq, and ids
 * that share a hash key kept apart. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

/* the file itself, for get_keyed: it takes the hash key as a parameter, so a test can put two ids under one key */
#include "collector/dedup.c"

static void test_in_order_and_duplicates(void **state)
{
	struct cgp_dedup *d = cgp_dedup_new();
	struct cgp_dedup_instance *a = cgp_dedup_get(d, "a"), *b = cgp_dedup_get(d, "b");

	(void)state;
	assert_ptr_equal(cgp_dedup_get(d, "a"), a);
	assert_ptr_not_equal(a, b);
	for (uint64_t s = 1; s <= 1000; s++)
		assert_int_equal(cgp_dedup_add(a, s), 1);
	assert_int_equal(cgp_dedup_acked(a), 1000);
	assert_int_equal(cgp_dedup_acked(b), 0);
	/* a resend after a reconnect: all duplicates */
	for (uint64_t s = 500; s <= 1000; s++)
		assert_int_equal(cgp_dedup_add(a, s), 0);
	assert_int_equal(cgp_dedup_add(a, 0), 0);
	/* the same seq of another instance is new */
	assert_int_equal(cgp_dedup_add(b, 1), 1);
	assert_string_equal(cgp_dedup_instance_id(b), "b");
	assert_int_equal(cgp_dedup_instances(d), 2);
	cgp_dedup_free(d);
}

/* Holes hold the watermark until filled, or until base_seq says they will never come. */
static void test_holes(void **state)
{
	struct cgp_dedup *d = cgp_dedup_new();
	struct cgp_dedup_instance *a = cgp_dedup_get(d, "a");

	(void)state;
	assert_int_equal(cgp_dedup_add(a, 1), 1);
	assert_int_equal(cgp_dedup_add(a, 4), 1);
	assert_int_equal(cgp_dedup_add(a, 5), 1);
	assert_int_equal(cgp_dedup_add(a, 5), 0);
	assert_int_equal(cgp_dedup_acked(a), 1);
	assert_int_equal(cgp_dedup_add(a, 2), 1);
	assert_int_equal(cgp_dedup_acked(a), 2);
	/* 3 was dropped by the agent: base_seq 4 moves the watermark past it and over 4 and 5 */
	cgp_dedup_floor(a, 4);
	assert_int_equal(cgp_dedup_acked(a), 5);
	assert_int_equal(cgp_dedup_add(a, 4), 0);
	assert_int_equal(cgp_dedup_add(a, 6), 1);
	assert_int_equal(cgp_dedup_acked(a), 6);
	/* a lower base_seq changes nothing */
	cgp_dedup_floor(a, 2);
	assert_int_equal(cgp_dedup_acked(a), 6);
	cgp_dedup_free(d);
}

/* A collector that starts with no state meets an agent resending from seq 1,000,000. */
static void test_fresh_collector_and_window(void **state)
{
	struct cgp_dedup *d = cgp_dedup_new();
	struct cgp_dedup_instance *a = cgp_dedup_get(d, "a");

	(void)state;
	assert_int_equal(cgp_dedup_add(a, 1000000 + CGP_DEDUP_WINDOW_MAX), -ERANGE);
	cgp_dedup_floor(a, 1000000);
	assert_int_equal(cgp_dedup_acked(a), 999999);
	/* out of order within a window that has to grow several times; stored seqs survive the growth */
	assert_int_equal(cgp_dedup_add(a, 1000000 + 3), 1);
	assert_int_equal(cgp_dedup_add(a, 1000000 + 100000), 1);
	assert_int_equal(cgp_dedup_add(a, 1000000 + 3), 0);
	assert_int_equal(cgp_dedup_add(a, 1000000 + 100000), 0);
	for (uint64_t s = 1000000; s < 1000000 + 100000; s++)
		assert_int_equal(cgp_dedup_add(a, s), s == 1000000 + 3 ? 0 : 1);
	assert_int_equal(cgp_dedup_acked(a), 1000000 + 100000);
	cgp_dedup_free(d);
}

static void test_many_instances(void **state)
{
	struct cgp_dedup *d = cgp_dedup_new();
	char id[32];

	(void)state;
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "inst-%d", i);
		assert_int_equal(cgp_dedup_add(cgp_dedup_get(d, id), (uint64_t)i + 1), 1);
	}
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "inst-%d", i);
		struct cgp_dedup_instance *in = cgp_dedup_get(d, id);

		/* seq i+1 on a fresh instance is a hole above 0, except for instance 0 */
		assert_int_equal(cgp_dedup_acked(in), i == 0 ? 1 : 0);
		assert_int_equal(cgp_dedup_add(in, (uint64_t)i + 1), 0);
	}
	assert_int_equal(cgp_dedup_instances(d), 5000);
	cgp_dedup_free(d);
}

/* Different ids under one hash key: each keeps its own state, told apart by comparing the id. */
static void test_ids_under_one_key(void **state)
{
	struct cgp_dedup *d = cgp_dedup_new();
	struct cgp_dedup_instance *in[20];
	char id[32];

	(void)state;
	for (int i = 0; i < 20; i++) {
		snprintf(id, sizeof(id), "inst-%d", i);
		in[i] = get_keyed(d, 42, id);
		assert_non_null(in[i]);
		assert_string_equal(cgp_dedup_instance_id(in[i]), id);
		assert_int_equal(cgp_dedup_add(in[i], (uint64_t)i + 1), 1);
	}
	assert_int_equal(cgp_dedup_instances(d), 20);
	assert_int_equal(d->ids.len, 1);
	/* back along the chain in another order: the same instances, each with its own seqs */
	for (int i = 19; i >= 0; i--) {
		snprintf(id, sizeof(id), "inst-%d", i);
		assert_ptr_equal(get_keyed(d, 42, id), in[i]);
		assert_int_equal(cgp_dedup_add(in[i], (uint64_t)i + 1), 0);
		assert_int_equal(cgp_dedup_acked(in[i]), i == 0 ? 1 : 0);
	}
	/* a prefix of a chained id is another id */
	assert_true(get_keyed(d, 42, "inst-1") != get_keyed(d, 42, "inst-"));
	assert_int_equal(cgp_dedup_instances(d), 21);
	assert_int_equal(d->ids.len, 1);
	cgp_dedup_free(d);
}

/* A group the collector could not write is taken back whole: its seqs are new again, holes and windows as
 * they were; a committed group stays. */
static void test_group_rollback(void **state)
{
	struct cgp_dedup *d = cgp_dedup_new();
	struct cgp_dedup_instance *a = cgp_dedup_get(d, "a"), *b;

	(void)state;
	for (uint64_t s = 1; s <= 10; s++)
		cgp_dedup_add(a, s);
	cgp_dedup_add(a, 15); /* a hole at 11..14 */
	cgp_dedup_begin(d);
	for (uint64_t s = 11; s <= 20; s++)
		cgp_dedup_add(a, s);
	cgp_dedup_add(a, 100000); /* grows the window */
	b = cgp_dedup_get(d, "b");
	cgp_dedup_add(b, 1);
	assert_int_equal(cgp_dedup_acked(a), 20);
	cgp_dedup_rollback(d);
	assert_int_equal(cgp_dedup_acked(a), 10);
	assert_int_equal(cgp_dedup_acked(b), 0);
	assert_int_equal(cgp_dedup_add(a, 15), 0); /* stored before the group: still a duplicate */
	assert_int_equal(cgp_dedup_add(a, 100000), 1);
	assert_int_equal(cgp_dedup_add(b, 1), 1);
	for (uint64_t s = 11; s <= 14; s++)
		assert_int_equal(cgp_dedup_add(a, s), 1);
	assert_int_equal(cgp_dedup_acked(a), 15);
	/* committed: kept */
	cgp_dedup_begin(d);
	assert_int_equal(cgp_dedup_floor(a, 50), 0);
	cgp_dedup_commit(d);
	cgp_dedup_begin(d);
	cgp_dedup_rollback(d);
	assert_int_equal(cgp_dedup_acked(a), 49);
	cgp_dedup_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order_and_duplicates),    cmocka_unit_test(test_holes),
	    cmocka_unit_test(test_fresh_collector_and_window), cmocka_unit_test(test_many_instances),
	    cmocka_unit_test(test_ids_under_one_key),	       cmocka_unit_test(test_group_rollback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
