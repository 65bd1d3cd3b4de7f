// SPDX-License-Identifier: GPL-2.0
/* The annotations are sentences for the person paged; the labels are the alert's identity in Alertmanager (its
 * fingerprint), so they hold nothing that changes while it fires. */
#include "sinks/am_payload.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bytebuf.h"
#include "lib/utf8.h"

void cgp_am_time(uint64_t ns, char out[32])
{
	time_t s = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ns / 1000000ULL % 1000));
}

/* A JSON string of s, its bytes that are not UTF-8 shown as '?'. */
static json_t *str(const char *s)
{
	size_t n = strlen(s);
	json_t *j;
	char *fixed;

	if (cgp_utf8_valid(s, n))
		return json_stringn(s, n);
	fixed = malloc(n + 1);
	if (!fixed)
		return NULL;
	n = cgp_utf8_sanitize(fixed, n + 1, s, n);
	j = json_stringn(fixed, n);
	free(fixed);
	return j;
}

/* Sets key to s unless s is empty; false when out of memory. */
static bool put(json_t *obj, const char *key, const char *s)
{
	if (!s || !*s)
		return true;
	return !json_object_set_new(obj, key, str(s));
}

/* Sets key to the text written so far, and clears it for the next. */
static bool put_text(json_t *obj, const char *key, struct cgp_text *t)
{
	char *s;
	bool ok;

	if (t->err)
		return false;
	s = cgp_buf_take_string(t->b);
	if (!s)
		return false;
	ok = put(obj, key, s);
	free(s);
	return ok;
}

static bool is_metric(const struct cgp_alert *a, const char *m)
{
	return a->metric && !strcmp(a->metric, m);
}

/* A value of the alert's metric, with its unit. */
static void value(struct cgp_text *t, const struct cgp_alert *a, double v)
{
	if (is_metric(a, "cpu_pct") || is_metric(a, "mem_pct"))
		cgp_text_printf(t, "%.1f%%", v);
	else if (is_metric(a, "runq_p99_us"))
		cgp_text_printf(t, "%.0f us", v);
	else if (is_metric(a, "oom_kills"))
		cgp_text_printf(t, "%g OOM kill%s", v, v == 1 ? "" : "s");
	else
		cgp_text_printf(t, "%g", v);
}

/* A limit: cores for CPU, bytes for memory (what an OOM kill hit too). */
static void amount(struct cgp_text *t, const struct cgp_alert *a, double v)
{
	if (is_metric(a, "cpu_pct"))
		cgp_text_printf(t, "%g core%s", v, v == 1 ? "" : "s");
	else if (v >= 1024.0 * 1024 * 1024)
		cgp_text_printf(t, "%.2f GiB", v / (1024.0 * 1024 * 1024));
	else
		cgp_text_printf(t, "%.0f MiB", v / (1024.0 * 1024));
}

/* 850ms, 42s, 5m02s, 1h30m */
static void duration(struct cgp_text *t, uint64_t ns)
{
	uint64_t s = ns / 1000000000;

	if (s < 1)
		cgp_text_printf(t, "%" PRIu64 "ms", ns / 1000000);
	else if (s < 60)
		cgp_text_printf(t, "%" PRIu64 "s", s);
	else if (s < 3600)
		cgp_text_printf(t, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else
		cgp_text_printf(t, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
}

/* Who the cgroup is, for people: namespace/pod/container, the container's name or id, else its path. */
static void who(struct cgp_text *t, const struct cgp_attribution *at)
{
	if (*at->pod)
		cgp_text_printf(t, "%s/%s/%s", *at->pod_namespace ? at->pod_namespace : "-", at->pod,
				*at->container_name ? at->container_name : "-");
	else if (*at->container_name)
		cgp_text_puts(t, at->container_name);
	else if (*at->container_id)
		cgp_text_printf(t, "container %.12s", at->container_id);
	else
		cgp_text_puts(t, at->path);
}

static json_t *labels(const struct cgp_alert *a, const struct cgp_attribution *at, const char *node)
{
	json_t *l = json_object();

	if (!l || !put(l, "alertname", a->rule) ||
	    !put(l, "severity", a->severity == CGP_SEV_CRITICAL ? "critical" : "warning") || !put(l, "node", node) ||
	    !put(l, "namespace", at->pod_namespace) || !put(l, "pod", at->pod) ||
	    !put(l, "container", at->container_name) || !put(l, "cgroup", a->path)) {
		json_decref(l);
		return NULL;
	}
	return l;
}

static bool annotations(json_t *an, const struct cgp_alert *a, const struct cgp_attribution *at)
{
	bool firing = a->state == CGP_ALERT_FIRING;
	struct cgp_buf b = CGP_BUF_INIT;
	struct cgp_text t = {.b = &b};
	bool ok;

	cgp_text_printf(&t, "%s %s on ", a->rule, firing ? "firing" : "resolved");
	who(&t, at);
	cgp_text_printf(&t, ": %s ", a->metric);
	value(&t, a, a->value);
	ok = put_text(an, "summary", &t);

	cgp_text_printf(&t, "%s was ", a->metric);
	value(&t, a, a->value);
	if (firing)
		cgp_text_printf(&t, ", above the threshold %g, ", a->threshold);
	else
		cgp_text_printf(&t, ", below %g, after the alert fired for ", a->threshold);
	if (firing && !a->held_ns) {
		cgp_text_puts(&t, "at once");
	} else {
		cgp_text_puts(&t, firing ? "for " : "");
		duration(&t, a->held_ns);
	}
	if (a->limit > 0) {
		cgp_text_puts(&t, "; judged against ");
		amount(&t, a, a->limit);
		cgp_text_puts(&t, a->limit_kind == CGP_LIMIT_NODE ? ", the node's (the cgroup has no limit of its own)"
								  : ", the cgroup's own limit");
	}
	cgp_text_printf(&t, "; reason: %s; cgroup %s (id %" PRIu64 ")", a->reason ? a->reason : "", a->path,
			a->cgroup_id);
	ok = ok && put_text(an, "description", &t);

	if (a->recommended_limit > 0) {
		amount(&t, a, a->recommended_limit);
		ok = ok && put_text(an, "recommended_limit", &t);
	}
	for (unsigned i = 0; i < a->evidence_len && i < CGP_EVIDENCE_MAX; i++) {
		if (i)
			cgp_text_puts(&t, ", ");
		value(&t, a, a->evidence[i]);
	}
	if (a->evidence_len)
		ok = ok && put_text(an, "evidence", &t);
	ok = ok && put(an, "action", a->action) && put(an, "runbook_url", a->runbook);
	cgp_buf_free(&b);
	return ok;
}

static bool put_time(json_t *obj, const char *key, uint64_t ns)
{
	char s[32];

	cgp_am_time(ns, s);
	return !json_object_set_new(obj, key, json_string(s));
}

json_t *cgp_am_payload(const struct cgp_alert *a, const struct cgp_attribution *at, const struct cgp_am_origin *o,
		       const json_t *fired)
{
	json_t *j = json_object(), *an = json_object(), *l;
	bool ok = j && an;

	if (fired) { /* the same identity and start as what fired */
		l = json_deep_copy(json_object_get(fired, "labels"));
		ok = ok && l && !json_object_set_new(j, "labels", l);
		ok = ok && !json_object_set(j, "startsAt", json_object_get(fired, "startsAt"));
		if (json_object_get(fired, "generatorURL"))
			ok = ok && !json_object_set(j, "generatorURL", json_object_get(fired, "generatorURL"));
	} else {
		l = labels(a, at, o->node);
		ok = ok && l && !json_object_set_new(j, "labels", l);
		ok = ok &&
		     put_time(j, "startsAt",
			      a->state == CGP_ALERT_FIRING || a->held_ns > a->ts_ns ? a->ts_ns : a->ts_ns - a->held_ns);
		ok = ok && put(j, "generatorURL", o->generator_url);
	}
	ok = ok && annotations(an, a, at) && !json_object_set(j, "annotations", an);
	if (a->state == CGP_ALERT_RESOLVED)
		ok = ok && put_time(j, "endsAt", a->ts_ns);
	json_decref(an);
	if (!ok) {
		json_decref(j);
		return NULL;
	}
	return j;
}
