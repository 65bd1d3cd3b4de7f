// SPDX-License-Identifier: GPL-2.0
/* JSON form: the keys the agent's --json output and the collector's .jsonl promise, with the proto's names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_encode.h"
#include "events/event_json.h"

static const struct cgp_event_meta meta = {.node = "n1", .instance_id = "inst", .seq = 7};

/* Asserts that obj has exactly the keys in want, in that order. */
static void assert_keys(json_t *obj, const char *const *want, size_t n)
{
	const char *k;
	json_t *v;
	size_t i = 0;

	json_object_foreach(obj, k, v)
	{
		assert_true(i < n);
		assert_string_equal(k, want[i]);
		i++;
	}
	assert_int_equal(i, n);
}

static void test_sample_keys(void **state)
{
	static const char *const keys[] = {
	    "type",
	    "cgroup_id",
	    "path",
	    "ts_ns",
	    "window_s",
	    "cpu_ns_total",
	    "cpu_ns_window",
	    "cpu_cores",
	    "voluntary_switches",
	    "involuntary_switches",
	    "runq_waits_window",
	    "runq_p50_us",
	    "runq_p99_us",
	    "mem_bytes",
	    "mem_limit_bytes",
	    "oom_kills",
	    "reclaim_ns_total",
	    "reclaims_total",
	    "oom_kills_window",
	    "cpu_limit_cores",
	    "cpu_pct",
	    "cpu_pct_of",
	    "mem_pct",
	    "mem_pct_of",
	    "runq_hist_window",
	    "mem_working_set_bytes",
	    "mem_inactive_file_bytes",
	    "mem_anon_bytes",
	    "mem_file_bytes",
	    "mem_swap_bytes",
	    "mem_events_max",
	    "mem_events_oom",
	    "mem_events_high",
	    "mem_events_oom_group_kill",
	    "cpu_periods",
	    "cpu_throttled_periods",
	    "cpu_throttled_ns",
	    "cpu_periods_window",
	    "cpu_throttled_periods_window",
	    "cpu_throttled_ns_window",
	    "cpu_user_ns",
	    "cpu_system_ns",
	    "psi_cpu_some_ns",
	    "psi_cpu_full_ns",
	    "psi_memory_some_ns",
	    "psi_memory_full_ns",
	    "psi_io_some_ns",
	    "psi_io_full_ns",
	    "mem_working_set_pct",
	    "cpu_throttled_pct",
	    "psi_cpu_some_pct",
	    "psi_memory_some_pct",
	    "psi_memory_full_pct",
	    "psi_io_some_pct",
	};
	struct cgp_sample s = {.cgroup_id = 3,
			       .ts_ns = 5,
			       .window_s = 1,
			       .cpu_cores = 0.5,
			       .has_mem = true,
			       .mem_bytes = 4096,
			       .mem_limit_bytes = 0};
	struct cgp_attribution at = cgp_attribution_unknown;
	struct cgp_event_build b;
	json_t *j;

	(void)state;
	at.path = "/x";
	s.runq_hist_window[1] = 9;
	cgp_event_build_sample(&b, &meta, &s, &at);
	j = cgp_event_json(&b.ev, 0);
	assert_non_null(j);
	assert_keys(j, keys, sizeof(keys) / sizeof(keys[0]));
	assert_string_equal(json_string_value(json_object_get(j, "type")), "sample");
	assert_int_equal(json_integer_value(json_object_get(j, "mem_bytes")), 4096);
	assert_int_equal(json_integer_value(json_object_get(j, "mem_limit_bytes")), 0);
	assert_true(json_real_value(json_object_get(j, "cpu_cores")) == 0.5);
	assert_int_equal(json_array_size(json_object_get(j, "runq_hist_window")), 2);
	/* a figure the kernel does not give is null, never 0 */
	assert_true(json_is_null(json_object_get(j, "mem_working_set_bytes")));
	assert_true(json_is_null(json_object_get(j, "mem_events_oom_group_kill")));
	json_decref(j);
	s.has_mem_stat = true;
	s.mem_working_set_bytes = 0;
	s.has_mem_events_oom_group_kill = true;
	s.mem_events_oom_group_kill = 2;
	cgp_event_build_sample(&b, &meta, &s, &at);
	j = cgp_event_json(&b.ev, 0);
	assert_non_null(j);
	assert_true(json_is_integer(json_object_get(j, "mem_working_set_bytes"))); /* a measured 0 is a 0 */
	assert_int_equal(json_integer_value(json_object_get(j, "mem_working_set_bytes")), 0);
	assert_int_equal(json_integer_value(json_object_get(j, "mem_events_oom_group_kill")), 2);
	json_decref(j);

	/* unknown memory is null, not 0; the envelope comes right after type */
	s.has_mem = false;
	s.cpu_cores = 1.0 / 0.0;
	cgp_event_build_sample(&b, &meta, &s, &at);
	j = cgp_event_json(&b.ev, CGP_JSON_ENVELOPE);
	assert_non_null(j);
	assert_true(json_is_null(json_object_get(j, "mem_bytes")));
	assert_true(json_is_null(json_object_get(j, "oom_kills")));
	assert_true(json_is_null(json_object_get(j, "cpu_cores")));
	char *line = json_dumps(j, JSON_COMPACT);

	assert_non_null(strstr(line, "{\"type\":\"sample\",\"node\":\"n1\",\"instance_id\":\"inst\",\"seq\":7,"));
	free(line);
	json_decref(j);
}

static void test_oom_keys(void **state)
{
	static const char *const keys[] = {
	    "type",
	    "cgroup_id",
	    "path",
	    "memcg_id",
	    "pid",
	    "tgid",
	    "comm",
	    "rss_anon_bytes",
	    "rss_file_bytes",
	    "rss_shmem_bytes",
	    "pgtables_bytes",
	    "oom_score_adj",
	    "container_running",
	    "mem_limit_bytes",
	    "ts_ns",
	    "container_id",
	    "pod",
	};
	struct cgp_oom_event o = {.pid = 1, .comm = "stress", .oom_score_adj = -500, .ts_ns = 9};
	struct cgp_attribution a = cgp_attribution_unknown;
	struct cgp_event_build b;
	json_t *j;

	(void)state;
	a.path = "/p";
	a.container_id = "abc";
	a.pod = "web";
	cgp_event_build_oom_kill(&b, &meta, &o, &a);
	j = cgp_event_json(&b.ev, 0);
	assert_non_null(j);
	/* only the attribution that is known */
	assert_keys(j, keys, sizeof(keys) / sizeof(keys[0]));
	assert_string_equal(json_string_value(json_object_get(j, "type")), "oom_kill");
	assert_string_equal(json_string_value(json_object_get(j, "comm")), "stress");
	assert_int_equal(json_integer_value(json_object_get(j, "oom_score_adj")), -500);
	json_decref(j);
}

static void test_alert_and_others(void **state)
{
	struct cgp_alert a = {.path = "/p",
			      .rule = "memory_high",
			      .severity = CGP_SEV_WARNING,
			      .state = CGP_ALERT_RESOLVED,
			      .metric = "mem_pct",
			      .limit_kind = CGP_LIMIT_NODE,
			      .evidence = {1, 2},
			      .evidence_len = 2,
			      .action = "a",
			      .runbook = "",
			      .reason = "threshold"};
	struct cgp_spool_drops d = {.samples = 3, .first_seq = 1, .last_seq = 3};
	struct cgp_attribution at = cgp_attribution_unknown;
	struct cgp_event_build b;
	struct cgp_buf gap = CGP_BUF_INIT;
	Cgpulse__V1__Event *g;
	json_t *j;

	(void)state;
	at.path = "/c";
	cgp_event_build_alert(&b, &meta, &a, &at);
	j = cgp_event_json(&b.ev, 0);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "alert");
	assert_string_equal(json_string_value(json_object_get(j, "severity")), "warning");
	assert_string_equal(json_string_value(json_object_get(j, "state")), "resolved");
	assert_string_equal(json_string_value(json_object_get(j, "limit_kind")), "node");
	assert_int_equal(json_array_size(json_object_get(j, "evidence")), 2);
	json_decref(j);

	cgp_event_build_dropped(&b, &meta, 1, &d);
	j = cgp_event_json(&b.ev, CGP_JSON_ENVELOPE);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "dropped");
	assert_int_equal(json_integer_value(json_object_get(j, "samples_dropped")), 3);
	assert_int_equal(json_integer_value(json_object_get(j, "seq")), 7);
	json_decref(j);

	assert_int_equal(cgp_event_encode_gap("n1", "inst", 1, 10, 19, &gap), 0);
	g = cgpulse__v1__event__unpack(NULL, cgp_buf_size(&gap), cgp_buf_head(&gap));
	assert_non_null(g);
	j = cgp_event_json(g, CGP_JSON_ENVELOPE);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "gap");
	assert_int_equal(json_integer_value(json_object_get(j, "missed")), 10);
	json_decref(j);
	cgpulse__v1__event__free_unpacked(g, NULL);
	cgp_buf_free(&gap);

	cgp_event_build_cgroup(&b, &meta, true, 1, 2, &at);
	j = cgp_event_json(&b.ev, 0);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "cgroup_started");
	json_decref(j);
	cgp_event_build_cgroup(&b, &meta, false, 1, 2, &at);
	j = cgp_event_json(&b.ev, 0);
	assert_string_equal(json_string_value(json_object_get(j, "type")), "cgroup_stopped");
	json_decref(j);

	/* an event with no body has no JSON form */
	Cgpulse__V1__Event empty = CGPULSE__V1__EVENT__INIT;

	assert_null(cgp_event_json(&empty, 0));
}

/* A foreign sender's invalid UTF-8 still gives a JSON line. */
static void test_invalid_utf8_from_wire(void **state)
{
	Cgpulse__V1__Event ev = CGPULSE__V1__EVENT__INIT;
	Cgpulse__V1__CgroupStarted cs = CGPULSE__V1__CGROUP_STARTED__INIT;
	json_t *j;

	(void)state;
	cs.path = "/a\xff";
	ev.body_case = CGPULSE__V1__EVENT__BODY_CGROUP_STARTED;
	ev.cgroup_started = &cs;
	j = cgp_event_json(&ev, 0);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "path")), "/a?");
	json_decref(j);
}

/* One string's JSON text, read back by jansson: what the writer put between the quotes. */
static char *path_through_json(const char *path, struct cgp_buf *b)
{
	Cgpulse__V1__Event ev = CGPULSE__V1__EVENT__INIT;
	Cgpulse__V1__CgroupStarted cs = CGPULSE__V1__CGROUP_STARTED__INIT;
	json_t *j;
	char *out;
	size_t at = cgp_buf_size(b);

	cs.path = (char *)path;
	ev.body_case = CGPULSE__V1__EVENT__BODY_CGROUP_STARTED;
	ev.cgroup_started = &cs;
	assert_int_equal(cgp_event_json_append(&ev, 0, b), 0);
	j = json_loadb((const char *)cgp_buf_head(b) + at, cgp_buf_size(b) - at, 0, NULL);
	assert_non_null(j);
	out = strdup(json_string_value(json_object_get(j, "path")));
	json_decref(j);
	return out;
}

/* Plain bytes go eight at a time, the rest one by one: every byte that must be escaped, at every place in and
 * around a word, comes back as it was, and so do the bytes just beside the escaped ranges. */
static void test_escapes_at_every_place(void **state)
{
	static const char specials[] = {'"', '\\', '\n', 0x01, 0x1f, 0x20, '!', '#', '[', ']', 0x7f};
	struct cgp_buf b = CGP_BUF_INIT;
	char s[40];

	(void)state;
	for (size_t len = 1; len < sizeof(s); len++)
		for (size_t at = 0; at < len; at++)
			for (size_t k = 0; k < sizeof(specials); k++) {
				char *back;

				memset(s, 'a' + (int)(len % 26), len);
				s[len] = 0;
				s[at] = specials[k];
				if (k % 2) /* and a quote at a second place, elsewhere in the string */
					s[len - 1 - (at * 7) % len] = '"';
				cgp_buf_clear(&b);
				back = path_through_json(s, &b);
				assert_string_equal(back, s);
				free(back);
			}
	cgp_buf_free(&b);
}

/* A line longer than the writer's step grows the buffer as it goes, after bytes already consumed from its front
 * (a socket buffer): the line starts where the live bytes end and is whole. */
static void test_long_line_after_consumed_bytes(void **state)
{
	struct cgp_buf b = CGP_BUF_INIT;
	size_t n = 20000;
	char *path = malloc(n + 1), *back;

	(void)state;
	for (size_t i = 0; i < n; i++)
		path[i] = i % 97 == 3 ? '"' : (char)('a' + i % 26);
	path[n] = 0;
	assert_int_equal(cgp_buf_append(&b, "0123456789", 10), 0);
	cgp_buf_consume(&b, 4); /* "456789" live, 4 bytes consumed before them */
	back = path_through_json(path, &b);
	assert_string_equal(back, path);
	assert_memory_equal(cgp_buf_head(&b), "456789{", 7);
	free(back);
	free(path);
	cgp_buf_free(&b);
}

/* A foreign sender's figure past 2^63 is written as a real (its integral test must not cast it first: undefined,
 * and refused by UBSan in `make test`), and reads back as itself. */
static void test_huge_reals(void **state)
{
	static const double v[] = {8.00353e+115, -1e300, 9223372036854775808.0, 4503599627370497.0};
	Cgpulse__V1__Event ev = CGPULSE__V1__EVENT__INIT;
	Cgpulse__V1__Sample s = CGPULSE__V1__SAMPLE__INIT;

	(void)state;
	ev.body_case = CGPULSE__V1__EVENT__BODY_SAMPLE;
	ev.sample = &s;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		json_t *j;

		s.cpu_cores = v[i];
		j = cgp_event_json(&ev, 0);
		assert_non_null(j);
		assert_true(json_real_value(json_object_get(j, "cpu_cores")) == v[i]);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample_keys),
	    cmocka_unit_test(test_oom_keys),
	    cmocka_unit_test(test_alert_and_others),
	    cmocka_unit_test(test_invalid_utf8_from_wire),
	    cmocka_unit_test(test_escapes_at_every_place),
	    cmocka_unit_test(test_long_line_after_consumed_bytes),
	    cmocka_unit_test(test_huge_reals),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
