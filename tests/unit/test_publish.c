// SPDX-License-Identifier: GPL-2.0
/* The publisher: one sequence for every event, the same in every place a sink reads (the collector's spool, the
 * HTTP stream's ring, JSON on stdout), even when one of them refuses an event; OOM kills and alerts marked
 * urgent; spool drops reported only while the collector listens, at most once per interval. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/publish.h"

static struct cgp_attribution at(const char *path)
{
	struct cgp_attribution a = cgp_attribution_unknown;

	a.path = path;
	return a;
}

/* the seq of every event in the ring, in order */
static size_t ring_seqs(const struct cgp_event_ring *r, uint64_t *out, size_t max)
{
	const struct cgp_ring_event *ev;
	uint64_t after = 0, first, last;
	size_t n = 0;

	while (n < max && cgp_event_ring_since(r, after, &ev, &first, &last) == CGP_RING_EVENT)
		after = out[n++] = ev->seq;
	return n;
}

static void test_one_sequence_everywhere(void **state)
{
	struct cgp_publisher p;
	struct cgp_attribution a = at("/kubepods/pod/c");
	struct cgp_sample s = {.cgroup_id = 5, .ts_ns = 1};
	struct cgp_oom_event o = {.cgroup_id = 5, .ts_ns = 2, .pid = 9};
	struct cgp_alert al = {.cgroup_id = 5,
			       .path = "/kubepods/pod/c",
			       .rule = "r",
			       .metric = "cpu_pct",
			       .action = "",
			       .runbook = "",
			       .reason = "threshold",
			       .severity = CGP_SEV_WARNING,
			       .state = CGP_ALERT_FIRING};
	const struct cgp_spool_entry *e;
	uint64_t seqs[16];
	char *json = NULL, *line, *save = NULL;
	size_t json_len = 0, n = 0;
	FILE *out = open_memstream(&json, &json_len);

	(void)state;
	assert_non_null(out);
	assert_int_equal(cgp_pub_init(&p, "node-1", true, out), 0);
	p.spool = cgp_spool_new(p.instance_id, 1 << 20, 0);
	p.ring = cgp_event_ring_new(64, 1 << 20);
	assert_non_null(p.spool);
	assert_non_null(p.ring);

	cgp_pub_sample(&p, &s, &a);
	assert_false(p.urgent); /* samples go in batches */
	cgp_pub_oom(&p, &o, &a);
	assert_true(p.urgent); /* an OOM kill leaves at once */
	p.urgent = false;
	cgp_pub_alert(&p, &al, &a);
	assert_true(p.urgent);
	cgp_pub_cgroup(&p, true, 6, 3, &a);
	cgp_pub_cgroup(&p, false, 6, 4, &a);
	assert_int_equal(p.seq, 5);
	assert_int_equal(p.published, 5);

	/* the spool: 1..5 */
	while ((e = cgp_spool_peek_unsent(p.spool))) {
		assert_int_equal(e->seq, ++n);
		cgp_spool_mark_sent(p.spool);
	}
	assert_int_equal(n, 5);
	/* the ring: 1..5 */
	assert_int_equal(ring_seqs(p.ring, seqs, 16), 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(seqs[i], i + 1);
	/* stdout: one JSON line each, 1..5, with the node and instance */
	fflush(out);
	n = 0;
	for (line = strtok_r(json, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char want[64];

		snprintf(want, sizeof(want), "\"seq\":%zu,", ++n);
		assert_non_null(strstr(line, want));
		assert_non_null(strstr(line, "\"node\":\"node-1\""));
		assert_non_null(strstr(line, p.instance_id));
	}
	assert_int_equal(n, 5);
	fclose(out);
	free(json);
	cgp_spool_free(p.spool);
	cgp_event_ring_free(p.ring);
	cgp_pub_free(&p);
}

/* A sink that refuses an event (a spool smaller than it) leaves no hole elsewhere: the seq is used, counted. */
static void test_refused_is_counted_not_skipped(void **state)
{
	struct cgp_publisher p;
	struct cgp_attribution a = at("/x");
	struct cgp_sample s = {.cgroup_id = 5};
	uint64_t seqs[8];

	(void)state;
	assert_int_equal(cgp_pub_init(&p, "n", false, NULL), 0);
	p.spool = cgp_spool_new(p.instance_id, 8, 0); /* no event fits */
	p.ring = cgp_event_ring_new(8, 1 << 20);
	cgp_pub_sample(&p, &s, &a);
	cgp_pub_sample(&p, &s, &a);
	assert_int_equal(p.spool_refused, 2);
	assert_int_equal(ring_seqs(p.ring, seqs, 8), 2);
	assert_int_equal(seqs[1], 2);
	cgp_spool_free(p.spool);
	cgp_event_ring_free(p.ring);
	cgp_pub_free(&p);
}

static void test_drop_reports(void **state)
{
	struct cgp_publisher p;
	struct cgp_attribution a = at("/x");
	struct cgp_sample s = {.cgroup_id = 5};
	struct cgp_spool_stats st;

	(void)state;
	assert_int_equal(cgp_pub_init(&p, "n", false, NULL), 0);
	p.spool = cgp_spool_new(p.instance_id, 0, 3); /* three events */
	for (int i = 0; i < 5; i++)
		cgp_pub_sample(&p, &s, &a);
	assert_true(cgp_spool_has_drops(p.spool));
	/* nobody listens: no report (each would push out one more sample) */
	assert_false(cgp_pub_report_drops(&p, false, 10, 1000));
	assert_true(cgp_pub_report_drops(&p, true, 10, 1000));
	assert_int_equal(p.seq, 6); /* the Dropped event took the next seq */
	assert_true(p.urgent);
	/* it went into the full spool and pushed out one more sample: due again only after the interval */
	assert_true(cgp_spool_has_drops(p.spool));
	assert_false(cgp_pub_report_drops(&p, true, 500, 1000));
	assert_true(cgp_pub_report_drops(&p, true, 1010, 1000));
	cgp_spool_get_stats(p.spool, &st);
	assert_int_equal(st.dropped_samples_total, 4);
	assert_int_equal(st.dropped_others_total, 0); /* never the reports */
	cgp_spool_free(p.spool);
	cgp_pub_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_sequence_everywhere),
	    cmocka_unit_test(test_refused_is_counted_not_skipped),
	    cmocka_unit_test(test_drop_reports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
