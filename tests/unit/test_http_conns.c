/* SPDX-License-Identifier: GPL-2.0 */
/* Who may hold an HTTP connection (sinks/http_conns.c), on a synthetic clock: the caps per client and in all,
 * the /healthz reserve and whom it evicts, the header deadline that a kept-alive connection meets again, and
 * the counts by reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sinks/http_conns.h"

#define MS 1000000ULL

static const struct cgp_conns_cfg cfg = {
    .max_main = 6,
    .max_per_client = 2,
    .reserve = 2,
    .header_ns = 3000 * MS,
    .reserve_header_ns = 1000 * MS,
    .reserve_min_age_ns = 50 * MS,
};

static int next_fd = 100;

static struct cgp_conn *admit(struct cgp_conns *s, uint64_t client, uint64_t now, struct cgp_conn **evict)
{
	bool oom;
	struct cgp_conn *c = cgp_conns_admit(s, next_fd++, client, now, evict, &oom);

	assert_false(oom);
	return c;
}

static void test_caps(void **state)
{
	struct cgp_conns s;
	struct cgp_conn *c[8], *ev;

	(void)state;
	assert_int_equal(cgp_conns_init(&s, &cfg), 0);
	/* client 1: two in the main pool, the third goes to the reserve */
	c[0] = admit(&s, 1, 10 * MS, &ev);
	c[1] = admit(&s, 1, 10 * MS, &ev);
	c[2] = admit(&s, 1, 10 * MS, &ev);
	assert_false(c[0]->reserve || c[1]->reserve);
	assert_true(c[2]->reserve);
	assert_null(ev);
	assert_int_equal(s.refused[CGP_REFUSED_CLIENT_LIMIT], 1);
	/* four more clients fill the main pool (6) */
	for (uint64_t k = 2; k <= 5; k++)
		assert_false(admit(&s, k, 10 * MS, &ev)->reserve);
	assert_int_equal(s.n_main, 6);
	/* pool full: a new client goes to the reserve; the reserve (2) is then full */
	c[3] = admit(&s, 7, 10 * MS, &ev);
	assert_true(c[3]->reserve);
	assert_int_equal(s.refused[CGP_REFUSED_CONNECTION_LIMIT], 1);
	/* same moment: nothing in the reserve may be evicted yet, so it is refused */
	assert_null(admit(&s, 8, 10 * MS, &ev));
	assert_int_equal(s.refused[CGP_REFUSED_RESERVE_FULL], 1);
	/* a client freeing a main slot lets the next one in the pool */
	cgp_conns_closed(&s, c[0]);
	assert_false(admit(&s, 9, 11 * MS, &ev)->reserve);
	cgp_conns_free(&s);
}

static void test_reserve_eviction(void **state)
{
	struct cgp_conns s;
	struct cgp_conn *busy[4] = {0}, *probe, *ev;

	(void)state;
	assert_int_equal(cgp_conns_init(&s, &cfg), 0);
	/* three clients fill the pool; client 1 then holds both reserve slots */
	for (uint64_t k = 10; k < 16; k++)
		assert_false(admit(&s, 10 + k % 3, 0, &ev)->reserve);
	for (int i = 2; i < 4; i++)
		busy[i] = admit(&s, 1, 0, &ev);
	assert_true(busy[2]->reserve && busy[3]->reserve);
	/* at once, the same client cannot push its own out: too young */
	assert_null(admit(&s, 1, 10 * MS, &ev));
	/* a quiet client evicts the busiest's reserve connection, however young */
	probe = admit(&s, 2, 1 * MS, &ev);
	assert_non_null(probe);
	assert_true(probe->reserve);
	assert_ptr_equal(ev, busy[2]);
	assert_true(ev->closing);
	assert_int_equal(s.refused[CGP_REFUSED_RESERVE_EVICTED], 1);
	/* another quiet client at the same moment takes busy[3]'s slot, never the probe's (admitted now) */
	assert_non_null(admit(&s, 3, 1 * MS, &ev));
	assert_ptr_equal(ev, busy[3]);
	/* and then nobody is left to evict: both were admitted at this moment */
	assert_null(admit(&s, 4, 1 * MS, &ev));
	assert_int_equal(s.refused[CGP_REFUSED_RESERVE_FULL], 2);
	cgp_conns_free(&s);
}

static void test_reserve_oldest(void **state)
{
	struct cgp_conns s;
	struct cgp_conn *a, *b, *c, *ev;

	(void)state;
	assert_int_equal(cgp_conns_init(&s, &cfg), 0);
	admit(&s, 1, 0, &ev);
	admit(&s, 1, 0, &ev);
	a = admit(&s, 1, 0, &ev);
	b = admit(&s, 1, 20 * MS, &ev);
	assert_true(a->reserve && b->reserve);
	/* the same client again: no busier client to evict, so the oldest old enough (a, 60 ms) */
	c = admit(&s, 1, 60 * MS, &ev);
	assert_non_null(c);
	assert_ptr_equal(ev, a);
	/* one being answered is never evicted; b is 40 ms old: not yet */
	cgp_conns_request_started(c);
	assert_null(admit(&s, 1, 60 * MS, &ev));
	assert_non_null(admit(&s, 1, 71 * MS, &ev));
	assert_ptr_equal(ev, b);
	cgp_conns_free(&s);
}

static void test_header_deadline(void **state)
{
	struct cgp_conns s;
	struct cgp_conn *m, *r, *ev;

	(void)state;
	assert_int_equal(cgp_conns_init(&s, &cfg), 0);
	m = admit(&s, 1, 0, &ev);
	admit(&s, 1, 0, &ev);
	r = admit(&s, 1, 0, &ev);
	assert_true(r->reserve);
	assert_int_equal(cgp_conns_next_deadline_ns(&s, 0), 1000 * MS);
	/* the reserve's deadline is the shorter */
	assert_null(cgp_conns_next_expired(&s, 999 * MS));
	assert_ptr_equal(cgp_conns_next_expired(&s, 1000 * MS), r);
	assert_null(cgp_conns_next_expired(&s, 1000 * MS));
	/* m sends its headers at 2.9 s: no deadline while answered; the next request waits from its end */
	cgp_conns_request_started(m);
	assert_ptr_not_equal(cgp_conns_next_expired(&s, 3000 * MS), m); /* the other one expires */
	assert_null(cgp_conns_next_expired(&s, 9000 * MS));
	cgp_conns_request_done(m, 9000 * MS);
	assert_int_equal(cgp_conns_next_deadline_ns(&s, 9000 * MS), 3000 * MS);
	assert_ptr_equal(cgp_conns_next_expired(&s, 12000 * MS), m);
	assert_int_equal(s.refused[CGP_REFUSED_HEADER_DEADLINE], 3);
	assert_int_equal(cgp_conns_next_deadline_ns(&s, 12000 * MS), UINT64_MAX);
	cgp_conns_free(&s);
}

static void test_close_bookkeeping(void **state)
{
	struct cgp_conns s;
	struct cgp_conn *c[3], *ev;

	(void)state;
	assert_int_equal(cgp_conns_init(&s, &cfg), 0);
	for (int i = 0; i < 3; i++)
		c[i] = admit(&s, 5, 0, &ev);
	assert_ptr_equal(cgp_conns_by_fd(&s, c[1]->fd), c[1]);
	cgp_conns_closed(&s, c[1]);
	cgp_conns_closed(&s, c[2]);
	assert_int_equal(s.n_main, 1);
	assert_int_equal(s.n_reserve, 0);
	/* the client's count went down with them: a second main connection is allowed again */
	assert_false(admit(&s, 5, 0, &ev)->reserve);
	assert_true(admit(&s, 5, 0, &ev)->reserve);
	int fd0 = c[0]->fd;

	cgp_conns_closed(&s, c[0]);
	assert_null(cgp_conns_by_fd(&s, fd0));
	cgp_conns_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_caps),
	    cmocka_unit_test(test_reserve_eviction),
	    cmocka_unit_test(test_reserve_oldest),
	    cmocka_unit_test(test_header_deadline),
	    cmocka_unit_test(test_close_bookkeeping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
