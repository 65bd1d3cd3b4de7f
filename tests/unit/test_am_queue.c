// SPDX-License-Identifier: GPL-2.0
/* The Alertmanager queue on a fake clock: first post and re-sends on the period, a resolve held back until
 * min_firing and then posted until every target took it, backoff with jitter within [b/2, b] doubling to its
 * bound and reset by a success, retries counted, refusals, the bound on alerts (resolves give way, firing alerts
 * are never pushed out), batches, and a change while a post is in flight. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sinks/am_queue.h"

#define S 1000000000ULL /* one second of the fake clock */

static const struct cgp_amq_cfg CFG = {
    .n_targets = 2,
    .max_alerts = 4,
    .batch_max = 64,
    .resend_ns = 60 * S,
    .min_firing_ns = 10 * S,
    .backoff_min_ns = S / 2,
    .backoff_max_ns = 8 * S,
    .seed = 42,
};

/* An alert object whose "id" says which one it is and "state" what it is now. */
static json_t *alert(const char *id, const char *state)
{
	return json_pack("{s:s, s:s}", "id", id, "state", state);
}

/* What target i posts at now, as "id:state id:state ..." ("" for nothing). */
static const char *take(struct cgp_amq *q, unsigned i, uint64_t now)
{
	static char out[512];
	json_t *batch = json_array(), *a;
	size_t k, n = cgp_amq_take(q, i, now, batch);

	out[0] = 0;
	assert_int_equal(n, json_array_size(batch));
	json_array_foreach(batch, k, a)
	{
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s:%s", k ? " " : "",
			 json_string_value(json_object_get(a, "id")), json_string_value(json_object_get(a, "state")));
	}
	json_decref(batch);
	return out;
}

/* A queue of CFG with these changes. */
static struct cgp_amq *queue(unsigned n_targets, uint64_t min_firing_ns, size_t max_alerts, size_t batch_max)
{
	struct cgp_amq_cfg c = CFG;
	struct cgp_amq *q;

	c.n_targets = n_targets;
	c.min_firing_ns = min_firing_ns;
	c.max_alerts = max_alerts;
	c.batch_max = batch_max;
	q = cgp_amq_new(&c);
	assert_non_null(q);
	return q;
}

static struct cgp_amq_stats stats(const struct cgp_amq *q)
{
	struct cgp_amq_stats st;

	cgp_amq_get_stats(q, &st);
	return st;
}

static void test_fire_resend_resolve(void **state)
{
	struct cgp_amq *q = cgp_amq_new(&CFG);
	uint64_t t = 1000 * S;

	(void)state;
	assert_non_null(q);
	assert_int_equal(cgp_amq_next(q, 0), UINT64_MAX);
	assert_int_equal(cgp_amq_fire(q, "cpu_critical", 7, alert("a", "firing"), t), 0);
	assert_int_equal(cgp_amq_next(q, 0), t);
	assert_string_equal(take(q, 0, t), "a:firing");
	assert_string_equal(take(q, 0, t), ""); /* one batch in flight per target */
	assert_int_equal(cgp_amq_next(q, 0), UINT64_MAX);
	cgp_amq_done(q, 0, CGP_AMQ_OK, t + S);
	/* the other target is independent: still due */
	assert_string_equal(take(q, 1, t + S), "a:firing");
	cgp_amq_done(q, 1, CGP_AMQ_OK, t + S);
	/* re-sent one period after the acknowledgement, not before */
	assert_int_equal(cgp_amq_next(q, 0), t + 61 * S);
	assert_string_equal(take(q, 0, t + 60 * S), "");
	assert_string_equal(take(q, 0, t + 61 * S), "a:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, t + 61 * S);
	assert_int_equal(stats(q).t[0].sent_firing, 2);
	assert_int_equal(stats(q).firing, 1);
	assert_non_null(cgp_amq_fired(q, "cpu_critical", 7));
	assert_null(cgp_amq_fired(q, "cpu_critical", 8));
	assert_null(cgp_amq_fired(q, "cpu_high", 7));

	/* resolved after 70 s active: no hold; posted to both until each acknowledged it, then forgotten */
	assert_int_equal(cgp_amq_resolve(q, "cpu_critical", 7, alert("a", "resolved"), t + 70 * S), 0);
	assert_int_equal(stats(q).firing, 0);
	assert_true(cgp_amq_resolves_pending(q));
	assert_string_equal(take(q, 0, t + 70 * S), "a:resolved");
	assert_string_equal(take(q, 1, t + 70 * S), "a:resolved");
	cgp_amq_done(q, 0, CGP_AMQ_OK, t + 71 * S);
	assert_int_equal(stats(q).alerts, 1); /* target 1 has not acknowledged it yet */
	assert_int_equal(cgp_amq_next(q, 0), UINT64_MAX);
	cgp_amq_done(q, 1, CGP_AMQ_FAILED, t + 71 * S);
	assert_int_equal(stats(q).alerts, 1);
	assert_true(cgp_amq_next(q, 1) > t + 71 * S);
	assert_string_equal(take(q, 1, cgp_amq_next(q, 1)), "a:resolved");
	cgp_amq_done(q, 1, CGP_AMQ_OK, t + 72 * S);
	assert_int_equal(stats(q).alerts, 0);
	assert_false(cgp_amq_resolves_pending(q));
	assert_int_equal(stats(q).t[1].sent_resolved, 1);
	assert_int_equal(stats(q).t[1].retries, 1);
	assert_int_equal(cgp_amq_next(q, 1), UINT64_MAX);
	cgp_amq_free(q);
}

/* An alert resolved before it was active min_firing stays firing there until then (so that someone was
 * notified), then its resolve goes out. */
static void test_resolve_held(void **state)
{
	struct cgp_amq *q = queue(1, CFG.min_firing_ns, CFG.max_alerts, CFG.batch_max);
	uint64_t t = 50 * S;

	(void)state;
	cgp_amq_fire(q, "oom_kill", 9, alert("o", "firing"), t);
	assert_string_equal(take(q, 0, t), "o:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, t);
	assert_int_equal(cgp_amq_resolve(q, "oom_kill", 9, alert("o", "resolved"), t + 2 * S), 0);
	assert_false(cgp_amq_resolves_pending(q)); /* held: not worth waiting for at exit */
	assert_non_null(cgp_amq_fired(q, "oom_kill", 9));
	assert_int_equal(cgp_amq_next(q, 0), t + 10 * S);
	assert_string_equal(take(q, 0, t + 9 * S), "");
	assert_string_equal(take(q, 0, t + 10 * S), "o:resolved");
	assert_true(cgp_amq_resolves_pending(q));
	cgp_amq_done(q, 0, CGP_AMQ_OK, t + 10 * S);
	assert_int_equal(stats(q).alerts, 0);

	/* fired again while its resolve was held: it simply goes on firing there */
	cgp_amq_fire(q, "oom_kill", 9, alert("p", "firing"), t + 20 * S);
	take(q, 0, t + 20 * S);
	cgp_amq_done(q, 0, CGP_AMQ_OK, t + 20 * S);
	cgp_amq_resolve(q, "oom_kill", 9, alert("p", "resolved"), t + 21 * S);
	cgp_amq_fire(q, "oom_kill", 9, alert("p2", "firing"), t + 22 * S);
	assert_string_equal(take(q, 0, t + 22 * S), "p2:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, t + 22 * S);
	assert_int_equal(cgp_amq_next(q, 0), t + 82 * S);
	assert_int_equal(stats(q).firing, 1);
	cgp_amq_free(q);
}

/* A target that fails waits [b/2, b], b doubling from min up to max; retries counted; a success resets it. */
static void test_backoff(void **state)
{
	struct cgp_amq *q = queue(1, CFG.min_firing_ns, CFG.max_alerts, CFG.batch_max);
	uint64_t t = 0, b = CFG.backoff_min_ns;

	(void)state;
	cgp_amq_fire(q, "r", 1, alert("a", "firing"), t);
	for (int k = 0; k < 8; k++) {
		uint64_t next;

		assert_string_equal(take(q, 0, t), "a:firing");
		cgp_amq_done(q, 0, CGP_AMQ_FAILED, t);
		next = cgp_amq_next(q, 0);
		assert_true(next >= t + b / 2 && next <= t + b);
		assert_string_equal(take(q, 0, next - 1), ""); /* not before */
		t = next;
		b = b * 2 > CFG.backoff_max_ns ? CFG.backoff_max_ns : b * 2;
	}
	assert_int_equal(stats(q).t[0].posts_failed, 8);
	assert_int_equal(stats(q).t[0].retries, 7);
	assert_false(stats(q).t[0].up);
	assert_string_equal(take(q, 0, t), "a:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, t);
	assert_true(stats(q).t[0].up);
	assert_int_equal(stats(q).t[0].retries, 8);
	/* the next failure starts from min again */
	t += CFG.resend_ns;
	take(q, 0, t);
	cgp_amq_done(q, 0, CGP_AMQ_FAILED, t);
	assert_true(cgp_amq_next(q, 0) <= t + CFG.backoff_min_ns);
	cgp_amq_free(q);
}

/* A 4xx refusal is not retried at once: counted, firing alerts wait for the period, resolves are given up. */
static void test_rejected(void **state)
{
	struct cgp_amq *q = queue(1, 0, CFG.max_alerts, CFG.batch_max);

	(void)state;
	cgp_amq_fire(q, "r", 1, alert("a", "firing"), 0);
	take(q, 0, 0);
	cgp_amq_done(q, 0, CGP_AMQ_REJECTED, S);
	assert_int_equal(cgp_amq_next(q, 0), 61 * S);
	cgp_amq_resolve(q, "r", 1, alert("a", "resolved"), 2 * S);
	assert_string_equal(take(q, 0, 2 * S), "a:resolved");
	cgp_amq_done(q, 0, CGP_AMQ_REJECTED, 2 * S);
	assert_int_equal(stats(q).alerts, 0);
	assert_int_equal(stats(q).t[0].posts_rejected, 2);
	assert_int_equal(stats(q).t[0].rejected, 2);
	assert_int_equal(stats(q).t[0].posts_ok, 0);
	assert_int_equal(stats(q).t[0].sent_firing + stats(q).t[0].sent_resolved, 0);
	cgp_amq_free(q);
}

/* Bounded: resolves not yet delivered give way (oldest first), firing alerts never; each loss counted. */
static void test_bound(void **state)
{
	struct cgp_amq *q = queue(1, 0, 3, CFG.batch_max);

	(void)state;
	for (int i = 1; i <= 3; i++)
		assert_int_equal(cgp_amq_fire(q, "r", (uint64_t)i, alert("f", "firing"), 0), 0);
	assert_int_equal(cgp_amq_fire(q, "r", 4, alert("x", "firing"), 0), -ENOSPC);
	assert_int_equal(stats(q).dropped_full, 1);
	assert_int_equal(stats(q).alerts, 3);
	/* its resolve has nothing to resolve */
	assert_int_equal(cgp_amq_resolve(q, "r", 4, alert("x", "resolved"), S), -ENOENT);
	assert_int_equal(stats(q).resolves_lost, 1);
	/* two resolves wait for a target that is away; a new alert pushes out the older one */
	cgp_amq_resolve(q, "r", 2, alert("2", "resolved"), S);
	cgp_amq_resolve(q, "r", 3, alert("3", "resolved"), 2 * S);
	assert_int_equal(cgp_amq_fire(q, "r", 5, alert("5", "firing"), 3 * S), 0);
	assert_int_equal(stats(q).dropped_full, 2);
	assert_string_equal(take(q, 0, 3 * S), "f:firing 3:resolved 5:firing");
	/* the same rule on the same cgroup is one alert: firing again takes no room */
	cgp_amq_done(q, 0, CGP_AMQ_OK, 3 * S);
	assert_int_equal(cgp_amq_fire(q, "r", 5, alert("5b", "firing"), 4 * S), 0);
	assert_int_equal(stats(q).alerts, 2);
	/* another rule on the same cgroup is another alert */
	assert_int_equal(cgp_amq_fire(q, "s", 5, alert("s5", "firing"), 4 * S), 0);
	assert_int_equal(cgp_amq_fire(q, "t", 5, alert("t5", "firing"), 4 * S), -ENOSPC);
	assert_int_equal(stats(q).firing, 3);
	cgp_amq_free(q);
}

/* Posts carry at most batch_max alerts; re-sends due within half a period join a post that goes anyway. */
static void test_batches(void **state)
{
	struct cgp_amq *q = queue(1, CFG.min_firing_ns, 16, 2);

	(void)state;
	cgp_amq_fire(q, "r", 1, alert("1", "firing"), 0);
	cgp_amq_fire(q, "r", 2, alert("2", "firing"), 0);
	cgp_amq_fire(q, "r", 3, alert("3", "firing"), 0);
	assert_string_equal(take(q, 0, 0), "1:firing 2:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, 0);
	assert_string_equal(take(q, 0, 0), "3:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, 0);
	cgp_amq_free(q);

	q = queue(1, CFG.min_firing_ns, 16, 64);
	cgp_amq_fire(q, "r", 1, alert("1", "firing"), 0);
	take(q, 0, 0);
	cgp_amq_done(q, 0, CGP_AMQ_OK, 0);
	cgp_amq_fire(q, "r", 2, alert("2", "firing"), 20 * S);
	take(q, 0, 20 * S);
	cgp_amq_done(q, 0, CGP_AMQ_OK, 20 * S);
	/* 1 is due at 60 s, 2 at 80 s: within half a period, so it goes along */
	assert_string_equal(take(q, 0, 59 * S), "");
	assert_string_equal(take(q, 0, 60 * S), "1:firing 2:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, 60 * S);
	assert_int_equal(cgp_amq_next(q, 0), 120 * S); /* from now on, one post per period */
	/* a re-send due later than half a period waits for its own time */
	cgp_amq_fire(q, "r", 3, alert("3", "firing"), 61 * S);
	assert_string_equal(take(q, 0, 61 * S), "3:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, 61 * S);
	assert_string_equal(take(q, 0, 120 * S), "1:firing 2:firing 3:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, 120 * S);
	/* a new alert's first post takes along only re-sends due within half a period */
	cgp_amq_fire(q, "r", 4, alert("4", "firing"), 140 * S);
	assert_string_equal(take(q, 0, 140 * S), "4:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, 140 * S);
	assert_string_equal(take(q, 0, 180 * S), "1:firing 2:firing 3:firing 4:firing");
	cgp_amq_done(q, 0, CGP_AMQ_OK, 180 * S);
	cgp_amq_fire(q, "r", 5, alert("5", "firing"), 211 * S);
	assert_string_equal(take(q, 0, 211 * S), "5:firing 1:firing 2:firing 3:firing 4:firing");
	cgp_amq_free(q);
}

/* A resolve that comes while the firing alert is in flight is posted right after that post ends. */
static void test_change_in_flight(void **state)
{
	struct cgp_amq *q = queue(1, 0, CFG.max_alerts, CFG.batch_max);

	(void)state;
	cgp_amq_fire(q, "r", 1, alert("a", "firing"), 0);
	assert_string_equal(take(q, 0, 0), "a:firing");
	cgp_amq_resolve(q, "r", 1, alert("a", "resolved"), S);
	assert_int_equal(stats(q).alerts, 1);
	cgp_amq_done(q, 0, CGP_AMQ_OK, 2 * S);
	assert_int_equal(stats(q).t[0].sent_firing, 1);
	assert_int_equal(cgp_amq_next(q, 0), 2 * S);
	assert_string_equal(take(q, 0, 2 * S), "a:resolved");
	cgp_amq_done(q, 0, CGP_AMQ_OK, 2 * S);
	assert_int_equal(stats(q).alerts, 0);
	cgp_amq_free(q);
}

static void test_bad_cfg(void **state)
{
	struct cgp_amq_cfg c = CFG;

	(void)state;
	c.n_targets = 0;
	assert_null(cgp_amq_new(&c));
	c.n_targets = CGP_AMQ_MAX_TARGETS + 1;
	assert_null(cgp_amq_new(&c));
	c = CFG;
	c.max_alerts = 0;
	assert_null(cgp_amq_new(&c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fire_resend_resolve),
	    cmocka_unit_test(test_resolve_held),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_rejected),
	    cmocka_unit_test(test_bound),
	    cmocka_unit_test(test_batches),
	    cmocka_unit_test(test_change_in_flight),
	    cmocka_unit_test(test_bad_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
