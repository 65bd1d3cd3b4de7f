// SPDX-License-Identifier: GPL-2.0
/* Alerts as Alertmanager's API v2 takes them, from the shared fixtures: the exact labels and annotations of a
 * firing alert, only the labels that are known, a resolve that keeps the labels and startsAt of what fired, the
 * times in RFC 3339, and strings that need escaping or are not UTF-8 (a cgroup path is any bytes) read back by
 * jansson's own parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixtures.h"
#include "sinks/am_payload.h"

static const struct cgp_am_origin ORIGIN = {.node = "node-1", .generator_url = "http://node-1:24785/metrics"};

/* The object as it goes on the wire, parsed back: what Alertmanager reads. */
static json_t *wire(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_error_t err;
	json_t *back;

	assert_non_null(s);
	back = json_loads(s, 0, &err);
	free(s);
	assert_non_null(back);
	return back;
}

static const char *get(const json_t *obj, const char *path1, const char *key)
{
	const json_t *o = path1 ? json_object_get(obj, path1) : obj;

	return json_string_value(json_object_get(o, key));
}

static void test_time(void **state)
{
	char s[32];

	(void)state;
	cgp_am_time(1700000000123456789ULL, s);
	assert_string_equal(s, "2023-11-14T22:13:20.123Z");
	cgp_am_time(0, s);
	assert_string_equal(s, "1970-01-01T00:00:00.000Z");
}

static void test_firing(void **state)
{
	struct cgp_alert a = fx_alert();
	struct cgp_attribution at = fx_attribution(FX_WEB);
	json_t *j, *w, *want;

	(void)state;
	j = cgp_am_payload(&a, &at, &ORIGIN, NULL);
	assert_non_null(j);
	w = wire(j);
	want = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "alertname", "cpu_critical", "severity", "critical",
			 "node", "node-1", "namespace", "shop", "pod", "web-7d9f8-abcde", "container", "nginx",
			 "cgroup", FX_WEB);
	assert_true(json_equal(json_object_get(w, "labels"), want));
	assert_string_equal(get(w, NULL, "startsAt"), "2023-11-14T22:18:20.000Z");
	assert_null(json_object_get(w, "endsAt")); /* firing: Alertmanager keeps it until resolve_timeout */
	assert_string_equal(get(w, NULL, "generatorURL"), "http://node-1:24785/metrics");
	assert_string_equal(get(w, "annotations", "summary"),
			    "cpu_critical firing on shop/web-7d9f8-abcde/nginx: cpu_pct 97.5%");
	assert_string_equal(get(w, "annotations", "description"),
			    "cpu_pct was 97.5%, above the threshold 95, for 5m00s; judged against 1 core, the cgroup's "
			    "own limit; reason: threshold; cgroup " FX_WEB " (id 4026531835)");
	assert_string_equal(get(w, "annotations", "recommended_limit"), "2 cores");
	assert_string_equal(get(w, "annotations", "evidence"), "96.0%, 97.0%, 97.5%");
	assert_string_equal(get(w, "annotations", "action"), "scale up CPU (limit 1.0 -> 2.0) or scale out");
	assert_string_equal(get(w, "annotations", "runbook_url"), "https://runbooks.example/cpu");
	assert_int_equal(json_object_size(json_object_get(w, "annotations")), 6);
	assert_int_equal(json_object_size(w), 4);
	json_decref(want);
	json_decref(w);
	json_decref(j);
}

/* Labels that are not known are left out, as are an empty runbook, a recommendation of none and a missing
 * generatorURL; a node's limit and an OOM kill read as such. */
static void test_unknown_and_oom(void **state)
{
	struct cgp_alert a = fx_alert();
	struct cgp_attribution at = cgp_attribution_unknown;
	struct cgp_am_origin o = {.node = "node-1"};
	json_t *j, *want;

	(void)state;
	at.path = "/system.slice/cron.service";
	a.path = at.path;
	a.rule = "oom_kill";
	a.metric = "oom_kills";
	a.value = 1;
	a.threshold = 0;
	a.held_ns = 0;
	a.limit = 16 << 20;
	a.evidence[0] = 1;
	a.evidence_len = 1;
	a.runbook = "";
	a.recommended_limit = 20 << 20;
	a.reason = "oom_kill";
	j = cgp_am_payload(&a, &at, &o, NULL);
	want = json_pack("{s:s, s:s, s:s, s:s}", "alertname", "oom_kill", "severity", "critical", "node", "node-1",
			 "cgroup", "/system.slice/cron.service");
	assert_true(json_equal(json_object_get(j, "labels"), want));
	assert_null(json_object_get(j, "generatorURL"));
	assert_null(json_object_get(json_object_get(j, "annotations"), "runbook_url"));
	assert_string_equal(get(j, "annotations", "summary"),
			    "oom_kill firing on /system.slice/cron.service: oom_kills 1 OOM kill");
	assert_string_equal(get(j, "annotations", "description"),
			    "oom_kills was 1 OOM kill, above the threshold 0, at once; judged against 16 MiB, the "
			    "cgroup's own limit; reason: oom_kill; cgroup /system.slice/cron.service (id 4026531835)");
	assert_string_equal(get(j, "annotations", "recommended_limit"), "20 MiB");
	json_decref(j);
	json_decref(want);

	a = fx_alert();
	a.limit = 2;
	a.limit_kind = CGP_LIMIT_NODE;
	a.recommended_limit = 0;
	j = cgp_am_payload(&a, &at, &o, NULL);
	assert_non_null(strstr(get(j, "annotations", "description"),
			       "judged against 2 cores, the node's (the cgroup has no limit of its own)"));
	assert_null(json_object_get(json_object_get(j, "annotations"), "recommended_limit"));
	json_decref(j);
}

/* A resolve is the same alert to Alertmanager: the labels and startsAt it fired with (even when the names are
 * gone by then), endsAt when it resolved. */
static void test_resolved(void **state)
{
	struct cgp_alert a = fx_alert(), r;
	struct cgp_attribution at = fx_attribution(FX_WEB), gone = cgp_attribution_unknown;
	json_t *fired, *j;

	(void)state;
	fired = cgp_am_payload(&a, &at, &ORIGIN, NULL);
	r = a;
	r.state = CGP_ALERT_RESOLVED;
	r.ts_ns = a.ts_ns + 90000000000ULL;
	r.value = 41.5;
	r.threshold = 70;
	r.held_ns = 90000000000ULL;
	r.recommended_limit = 0;
	r.reason = "recovered";
	gone.path = FX_WEB;
	j = cgp_am_payload(&r, &gone, &ORIGIN, fired);
	assert_true(json_equal(json_object_get(j, "labels"), json_object_get(fired, "labels")));
	assert_string_equal(get(j, NULL, "startsAt"), get(fired, NULL, "startsAt"));
	assert_string_equal(get(j, NULL, "endsAt"), "2023-11-14T22:19:50.000Z");
	assert_string_equal(get(j, NULL, "generatorURL"), "http://node-1:24785/metrics");
	assert_string_equal(get(j, "annotations", "description"),
			    "cpu_pct was 41.5%, below 70, after the alert fired for 1m30s; judged against 1 core, the "
			    "cgroup's own limit; reason: recovered; cgroup " FX_WEB " (id 4026531835)");
	json_decref(j);
	/* no record of the firing (the agent restarted in between): it began held_ns before the resolve */
	j = cgp_am_payload(&r, &at, &ORIGIN, NULL);
	assert_string_equal(get(j, NULL, "startsAt"), "2023-11-14T22:18:20.000Z");
	assert_string_equal(get(j, "labels", "pod"), "web-7d9f8-abcde");
	json_decref(j);
	json_decref(fired);
}

/* Quotes, backslashes, control characters and bytes that are not UTF-8 in a path, a name and the action. */
static void test_escaping(void **state)
{
	static const char path[] = "/kube\"pods\\odd\nname\x01\x7f/\xff\xfe-\xc3\xa9t\xc3";
	struct cgp_alert a = fx_alert();
	struct cgp_attribution at = fx_attribution(path);
	json_t *j, *w;
	char *s;

	(void)state;
	a.path = path;
	a.action = "say \"hi\"\tthen\\leave \xe2\x82";
	at.pod = "p\xc0\xafod";
	j = cgp_am_payload(&a, &at, &ORIGIN, NULL);
	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
	assert_non_null(s);
	for (const char *p = s; *p; p++)
		assert_true(*p >= 0x20 && *p <= 0x7f); /* no raw control character, all ASCII */
	free(s);
	w = wire(j);
	assert_string_equal(get(w, "labels", "cgroup"), "/kube\"pods\\odd\nname\x01\x7f/?"
							"?-\xc3\xa9t?");
	assert_string_equal(get(w, "labels", "pod"), "p??od");
	assert_string_equal(get(w, "annotations", "action"), "say \"hi\"\tthen\\leave ??");
	json_decref(w);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_time),     cmocka_unit_test(test_firing),   cmocka_unit_test(test_unknown_and_oom),
	    cmocka_unit_test(test_resolved), cmocka_unit_test(test_escaping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
