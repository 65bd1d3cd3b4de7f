// SPDX-License-Identifier: GPL-2.0
/* `cgpulse playbook export --prometheus-rules`: the playbook as a Prometheus rule file. Each metric is the
 * PromQL over cAdvisor's series (as /metrics/cadvisor and the kubelet serve them) that measures what the agent
 * measures; select: becomes a label matcher on id (the cgroup path); resolve_below keeps a firing alert while the
 * value stays at or above it, through the rule's own ALERTS series. What cannot be said exactly is in README
 * ("Replacing cAdvisor"). Pure: text in, text out. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bytebuf.h"
#include "playbook/playbook.h"

/* The labels that name one cgroup's series on one agent: what a firing alert is matched on. */
#define CADV_ON	   "id, job, instance"
#define METRICS_ON "path, job, instance"

/* A PromQL string literal's body: \ and " escaped. */
static void promql_str(struct cgp_text *w, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			cgp_text_printf(w, "\\%c", *s);
		else
			cgp_text_printf(w, "%c", *s);
	}
}

/* fnmatch(3) without flags as an RE2 pattern (Prometheus anchors it): '*' any run of characters ('/' too),
 * '?' one, [...] a set ('!' negates), '\' quotes the next character. */
static void glob_to_re(struct cgp_text *w, const char *g)
{
	static const char meta[] = ".+*?()|[]{}^$\\";

	for (const char *p = g; *p; p++) {
		const char *end;

		switch (*p) {
		case '*':
			cgp_text_puts(w, ".*");
			continue;
		case '?':
			cgp_text_puts(w, ".");
			continue;
		case '[':
			end = p + 1;
			if (*end == '!' || *end == '^')
				end++;
			if (*end == ']')
				end++;
			end = strchr(end, ']');
			if (!end) /* no closing bracket: fnmatch takes '[' literally */
				break;
			cgp_text_puts(w, "[");
			p++;
			if (*p == '!' || *p == '^') {
				cgp_text_puts(w, "^");
				p++;
			}
			for (; p < end; p++)
				cgp_text_printf(w, *p == '\\' ? "\\\\" : "%c", *p);
			cgp_text_puts(w, "]");
			continue;
		case '\\':
			if (p[1])
				p++;
			break;
		}
		if (strchr(meta, *p))
			cgp_text_printf(w, "\\%c", *p);
		else
			cgp_text_printf(w, "%c", *p);
	}
}

/* The matcher of the rule's select: on cAdvisor's labels (id) or /metrics' (path). */
static void selector(struct cgp_text *w, const struct cgp_rule *r, bool cadvisor)
{
	switch (r->select) {
	case CGP_SELECT_ALL:
		cgp_text_puts(w, cadvisor ? "id!=\"\"" : "path!=\"\"");
		return;
	case CGP_SELECT_GLOB: {
		struct cgp_buf re = CGP_BUF_INIT;
		struct cgp_text t = {.b = &re};
		char *s;

		glob_to_re(&t, r->select_glob);
		s = t.err ? NULL : cgp_buf_take_string(&re);
		if (!s) {
			cgp_buf_free(&re);
			w->err = w->err ? w->err : -ENOMEM;
			return;
		}
		cgp_text_puts(w, cadvisor ? "id=~\"" : "path=~\"");
		promql_str(w, s);
		cgp_text_puts(w, "\"");
		free(s);
		return;
	}
	default: /* containers: a container's series carry its runtime's id */
		cgp_text_puts(w, cadvisor ? "name!=\"\"" : "container_id!=\"\"");
	}
}

/* name{SEL}, and name{SEL}[W] for range vectors */
static void series(struct cgp_text *w, const struct cgp_rule *r, const char *name, const char *window)
{
	cgp_text_printf(w, "%s{", name);
	selector(w, r, strncmp(name, "cgpulse_", 8) != 0);
	cgp_text_printf(w, "}%s%s%s", window ? "[" : "", window ? window : "", window ? "]" : "");
}

/* The PromQL whose value is the rule's metric, per cgroup, as the agent computes it. */
static void measure(struct cgp_text *w, const struct cgp_rule *r, const char *win)
{
	static const char *const psi[CGP_METRIC_MAX] = {
	    [CGP_METRIC_PSI_CPU_SOME_PCT] = "container_pressure_cpu_waiting_seconds_total",
	    [CGP_METRIC_PSI_MEMORY_SOME_PCT] = "container_pressure_memory_waiting_seconds_total",
	    [CGP_METRIC_PSI_MEMORY_FULL_PCT] = "container_pressure_memory_stalled_seconds_total",
	    [CGP_METRIC_PSI_IO_SOME_PCT] = "container_pressure_io_waiting_seconds_total",
	};

	switch (r->metric) {
	case CGP_METRIC_CPU_PCT:
		cgp_text_puts(w, "100 * rate(");
		series(w, r, "container_cpu_usage_seconds_total", win);
		cgp_text_puts(w, ") / ignoring(cpu) (");
		series(w, r, "container_spec_cpu_quota", NULL);
		cgp_text_puts(w, " / ");
		series(w, r, "container_spec_cpu_period", NULL);
		cgp_text_puts(w, ")");
		break;
	case CGP_METRIC_MEM_PCT:
	case CGP_METRIC_MEM_WORKING_SET_PCT:
		cgp_text_puts(w, "100 * ");
		series(w, r,
		       r->metric == CGP_METRIC_MEM_PCT ? "container_memory_usage_bytes"
						       : "container_memory_working_set_bytes",
		       NULL);
		cgp_text_puts(w, " / (");
		series(w, r, "container_spec_memory_limit_bytes", NULL);
		cgp_text_puts(w, " > 0)");
		break;
	case CGP_METRIC_OOM_KILLS:
		cgp_text_puts(w, "increase(");
		series(w, r, "container_oom_events_total", win);
		cgp_text_puts(w, ")");
		break;
	case CGP_METRIC_CPU_THROTTLED_PCT:
		cgp_text_puts(w, "100 * increase(");
		series(w, r, "container_cpu_cfs_throttled_periods_total", win);
		cgp_text_puts(w, ") / (increase(");
		series(w, r, "container_cpu_cfs_periods_total", win);
		cgp_text_puts(w, ") > 0)");
		break;
	case CGP_METRIC_RUNQ_P99_US:
		cgp_text_puts(w, "1e6 * histogram_quantile(0.99, rate(");
		series(w, r, "cgpulse_cgroup_runq_wait_seconds_bucket", win);
		cgp_text_puts(w, "))");
		break;
	default:
		if ((unsigned)r->metric < CGP_METRIC_MAX && psi[r->metric]) {
			cgp_text_puts(w, "100 * rate(");
			series(w, r, psi[r->metric], win);
			cgp_text_puts(w, ")");
		} else {
			cgp_text_puts(w, "vector(0) > 1"); /* a metric with no series: never true */
		}
	}
}

/* (M) > above, or (M) >= lo <= hi; with resolve_below R, "or" the firing alert while (M) >= R. */
static void expr(struct cgp_text *w, const struct cgp_rule *r, const char *win)
{
	cgp_text_puts(w, "(");
	measure(w, r, win);
	if (r->cmp == CGP_CMP_BETWEEN) {
		cgp_text_puts(w, ") >= ");
		cgp_playbook_put_number(w, r->lo);
		cgp_text_puts(w, " <= ");
		cgp_playbook_put_number(w, r->hi);
	} else {
		cgp_text_puts(w, ") > ");
		cgp_playbook_put_number(w, r->above);
	}
	if (!r->has_resolve_below)
		return;
	cgp_text_puts(w, " or ((");
	measure(w, r, win);
	cgp_text_puts(w, ") >= ");
	cgp_playbook_put_number(w, r->resolve_below);
	cgp_text_printf(w, " and on(%s) ALERTS{alertname=\"",
			r->metric == CGP_METRIC_RUNQ_P99_US ? METRICS_ON : CADV_ON);
	promql_str(w, r->name);
	cgp_text_puts(w, "\",alertstate=\"firing\"})");
}

static void condition(struct cgp_text *w, const struct cgp_rule *r)
{
	cgp_text_printf(w, "%s ", cgp_metric_name(r->metric));
	if (r->cmp == CGP_CMP_BETWEEN) {
		cgp_text_puts(w, "between ");
		cgp_playbook_put_number(w, r->lo);
		cgp_text_puts(w, " and ");
		cgp_playbook_put_number(w, r->hi);
	} else {
		cgp_text_puts(w, "above ");
		cgp_playbook_put_number(w, r->above);
	}
	if (r->for_ns) {
		cgp_text_puts(w, " for ");
		cgp_playbook_put_duration(w, r->for_ns);
	}
}

/* A YAML double-quoted value built by fn(w, r) */
static void quoted(struct cgp_text *w, void (*fn)(struct cgp_text *, const struct cgp_rule *, const char *),
		   const struct cgp_rule *r, const char *arg)
{
	struct cgp_buf b = CGP_BUF_INIT;
	struct cgp_text t = {.b = &b};
	char *s;

	fn(&t, r, arg);
	s = t.err ? NULL : cgp_buf_take_string(&b);
	if (!s) {
		cgp_buf_free(&b);
		w->err = w->err ? w->err : -ENOMEM;
		return;
	}
	cgp_playbook_put_quoted(w, s);
	free(s);
}

static void summary(struct cgp_text *w, const struct cgp_rule *r, const char *unused)
{
	(void)unused;
	cgp_text_puts(w, r->metric == CGP_METRIC_RUNQ_P99_US ? "{{ $labels.path }}" : "{{ $labels.id }}");
	cgp_text_puts(w, " ({{ $labels.namespace }}/{{ $labels.pod }} {{ $labels.container }}): ");
	cgp_text_printf(w, "%s {{ $value | printf \"%%.4g\" }}, playbook rule %s: ", cgp_metric_name(r->metric),
			r->name);
	condition(w, r);
	if (r->has_resolve_below) {
		cgp_text_puts(w, ", resolves below ");
		cgp_playbook_put_number(w, r->resolve_below);
	}
}

static void expr_of(struct cgp_text *w, const struct cgp_rule *r, const char *win)
{
	expr(w, r, win);
}

char *cgp_playbook_prometheus_rules(const struct cgp_playbook *pb, const char *rate_window)
{
	struct cgp_buf buf = CGP_BUF_INIT;
	struct cgp_text w = {.b = &buf};

	cgp_text_printf(
	    &w,
	    "# Prometheus rules from the cgpulse playbook %s (cgpulse playbook export --prometheus-rules):\n"
	    "# the same thresholds, for:, severities and actions, over the cAdvisor series of "
	    "/metrics/cadvisor;\n# rates over %s. See README, \"Replacing cAdvisor\", for what differs.\n"
	    "groups:\n  - name: cgpulse-playbook\n    rules:\n",
	    pb->source ? pb->source : "?", rate_window);
	for (size_t i = 0; i < pb->nrules; i++) {
		const struct cgp_rule *r = &pb->rules[i];

		cgp_text_puts(&w, "      - alert: ");
		cgp_playbook_put_quoted(&w, r->name);
		cgp_text_puts(&w, "\n        expr: ");
		quoted(&w, expr_of, r, rate_window);
		if (r->for_ns) {
			cgp_text_puts(&w, "\n        for: ");
			cgp_playbook_put_duration(&w, r->for_ns);
		}
		cgp_text_printf(&w,
				"\n        labels:\n          severity: %s\n        annotations:\n          summary: ",
				cgp_severity_name(r->severity));
		quoted(&w, summary, r, NULL);
		cgp_text_puts(&w, "\n          action: ");
		cgp_playbook_put_quoted(&w, r->action);
		if (r->runbook[0]) {
			cgp_text_puts(&w, "\n          runbook_url: ");
			cgp_playbook_put_quoted(&w, r->runbook);
		}
		cgp_text_puts(&w, "\n");
	}
	if (w.err) {
		cgp_buf_free(&buf);
		return NULL;
	}
	return cgp_buf_take_string(&buf);
}
