/* SPDX-License-Identifier: GPL-2.0 */
/* The rule engine on synthetic samples with an injected clock: `for:` timing, hysteresis, bands, cgroup removal,
 * the no-limit case, OOM events, reload, and the recommended limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "playbook/playbook.h"

#define S(x)	 ((uint64_t)(x)*1000000000ull)
#define MIB	 (1024.0 * 1024.0)
#define GIB	 (1024.0 * MIB)
#define MAX_SEEN 128

/* The callback's copy of an alert: its strings are only valid during the call. */
struct seen {
	struct cgp_alert a;
	char path[64], rule[32], metric[32], reason[32], action[128];
};

struct log {
	struct seen al[MAX_SEEN];
	unsigned n;
};

static void collect(const struct cgp_alert *a, void *ctx)
{
	struct log *l = ctx;
	struct seen *s;

	assert_true(l->n < MAX_SEEN);
	s = &l->al[l->n++];
	s->a = *a;
	snprintf(s->path, sizeof(s->path), "%s", a->path);
	snprintf(s->rule, sizeof(s->rule), "%s", a->rule);
	snprintf(s->metric, sizeof(s->metric), "%s", a->metric);
	snprintf(s->reason, sizeof(s->reason), "%s", a->reason);
	snprintf(s->action, sizeof(s->action), "%s", a->action);
}

static struct cgp_playbook *parse(const char *yaml)
{
	struct cgp_playbook *pb = NULL;
	char err[256] = "";

	if (cgp_playbook_parse("test", yaml, strlen(yaml), &pb, err, sizeof(err)))
		fail_msg("%s", err);
	return pb;
}

/* What the agent knows of a cgroup beyond its figures: its CPU limit, the node, and whether it is a container. */
struct lim {
	double cpu_limit_cores;
	double node_cpus;
	uint64_t node_mem_bytes;
	bool is_container;
};

static const struct lim one_core = {
    .cpu_limit_cores = 1.0, .node_cpus = 4, .node_mem_bytes = 8 * GIB, .is_container = true};

static struct cgp_attribution who(const char *path, const struct lim *lim)
{
	struct cgp_attribution a = cgp_attribution_unknown;

	a.path = path;
	a.is_container = lim->is_container;
	return a;
}

/* As the agent does: the sample measured once (collect/measure.c), then judged with who its cgroup is. */
static int eval_at(struct cgp_engine *e, struct cgp_sample *s, const char *path, const struct lim *lim, uint64_t now,
		   cgp_alert_cb cb, void *ctx)
{
	struct cgp_node node = {lim->node_cpus, lim->node_mem_bytes};
	struct cgp_attribution a = who(path, lim);

	s->cpu_limit_cores = lim->cpu_limit_cores;
	cgp_measure_sample(s, &node);
	return cgp_engine_eval(e, s, &a, now, cb, ctx);
}

static int oom_at(struct cgp_engine *e, struct cgp_oom_event *oom, const char *path, const struct lim *lim,
		  uint64_t mem_limit_bytes, uint64_t now, cgp_alert_cb cb, void *ctx)
{
	struct cgp_node node = {lim->node_cpus, lim->node_mem_bytes};
	struct cgp_attribution a = who(path, lim);
	struct cgp_measure m;

	oom->mem_limit_bytes = mem_limit_bytes;
	cgp_measure_oom(oom, &node, &m);
	return cgp_engine_oom(e, oom->cgroup_id, &a, &m, now, cb, ctx);
}

static struct cgp_sample cpu_sample(uint64_t id, double cores, uint64_t t)
{
	return (struct cgp_sample){.cgroup_id = id, .ts_ns = t, .window_s = 1, .cpu_cores = cores};
}

/* Feed one CPU sample; returns how many alerts it produced. */
static unsigned feed(struct cgp_engine *e, struct log *l, uint64_t id, double cores, uint64_t t, const struct lim *lim)
{
	unsigned before = l->n;
	struct cgp_sample s = cpu_sample(id, cores, t);

	assert_int_equal(eval_at(e, &s, "/kubepods/pod1/c1", lim, t, collect, l), 0);
	return l->n - before;
}

#define CPU_RULE(extra) "version: 1\nrules:\n  - name: hot\n    metric: cpu_pct\n    severity: critical\n" extra

static void test_fires_exactly_at_for(void **state)
{
	struct cgp_playbook *pb = parse(CPU_RULE("    above: 90\n    for: 5s\n    action: do it\n"));
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};
	const struct cgp_alert *a;
	unsigned t, k;

	(void)state;
	/* pending from t=10; t=14 is 4 s in, one interval short */
	for (t = 10; t < 15; t++)
		assert_int_equal(feed(e, &l, 7, 0.95, S(t), &one_core), 0);
	assert_int_equal(cgp_engine_tracked(e), 1);
	assert_int_equal(feed(e, &l, 7, 0.95, S(15), &one_core), 1);
	a = &l.al[0].a;
	assert_int_equal(a->state, CGP_ALERT_FIRING);
	assert_string_equal(l.al[0].rule, "hot");
	assert_string_equal(l.al[0].metric, "cpu_pct");
	assert_string_equal(l.al[0].reason, "threshold");
	assert_string_equal(l.al[0].path, "/kubepods/pod1/c1");
	assert_string_equal(l.al[0].action, "do it");
	assert_int_equal(a->cgroup_id, 7);
	assert_int_equal(a->severity, CGP_SEV_CRITICAL);
	assert_int_equal(a->ts_ns, S(15));
	assert_int_equal(a->held_ns, S(5));
	assert_float_equal(a->value, 95.0, 1e-9);
	assert_float_equal(a->threshold, 90.0, 0);
	assert_float_equal(a->limit, 1.0, 0);
	assert_int_equal(a->limit_kind, CGP_LIMIT_CGROUP);
	assert_int_equal(a->evidence_len, 6);
	for (k = 0; k < a->evidence_len; k++)
		assert_float_equal(a->evidence[k], 95.0, 1e-9);
	/* firing is one event, not one per sample */
	for (t = 16; t < 40; t++)
		assert_int_equal(feed(e, &l, 7, 0.99, S(t), &one_core), 0);
	/* the evidence window keeps the newest values, oldest first */
	assert_int_equal(feed(e, &l, 7, 0.5, S(40), &one_core), 1);
	a = &l.al[1].a;
	assert_int_equal(a->state, CGP_ALERT_RESOLVED);
	assert_int_equal(a->evidence_len, CGP_EVIDENCE_MAX);
	assert_float_equal(a->evidence[CGP_EVIDENCE_MAX - 1], 50.0, 1e-9);
	assert_float_equal(a->evidence[CGP_EVIDENCE_MAX - 2], 99.0, 1e-9);
	assert_int_equal(a->held_ns, S(25));
	assert_int_equal(cgp_engine_tracked(e), 0);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_no_fire_when_broken_one_sample_early(void **state)
{
	struct cgp_playbook *pb = parse(CPU_RULE("    above: 90\n    for: 5s\n"));
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};
	unsigned t;

	(void)state;
	for (t = 0; t < 4; t++)
		assert_int_equal(feed(e, &l, 1, 0.95, S(t), &one_core), 0);
	/* t=4: one sample before `for:` is reached, the condition breaks (90 is not above 90) */
	assert_int_equal(feed(e, &l, 1, 0.90, S(4), &one_core), 0);
	assert_int_equal(cgp_engine_tracked(e), 0);
	/* the wait starts over at t=5, so t=5..9 stay pending and t=10 fires */
	for (t = 5; t < 10; t++)
		assert_int_equal(feed(e, &l, 1, 0.95, S(t), &one_core), 0);
	assert_int_equal(feed(e, &l, 1, 0.95, S(10), &one_core), 1);
	assert_int_equal(l.al[0].a.held_ns, S(5));
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_hysteresis(void **state)
{
	struct cgp_playbook *pb = parse(CPU_RULE("    above: 95\n    for: 2s\n    resolve_below: 70\n"));
	struct cgp_engine *e = cgp_engine_new(pb);
	/* between the resolve threshold and the fire threshold, and bouncing over the threshold */
	static const double band[] = {0.80, 0.96, 0.90, 0.97, 0.75, 0.70, 0.99, 0.71, 0.96, 0.96, 0.96, 0.80};
	struct log l = {0};
	unsigned t = 0, k;

	(void)state;
	feed(e, &l, 3, 0.97, S(t++), &one_core);
	feed(e, &l, 3, 0.97, S(t++), &one_core);
	assert_int_equal(feed(e, &l, 3, 0.97, S(t++), &one_core), 1); /* fired at t=2 */
	for (k = 0; k < sizeof(band) / sizeof(band[0]); k++)
		assert_int_equal(feed(e, &l, 3, band[k], S(t++), &one_core), 0);
	/* t=15: below 70 resolves */
	assert_int_equal(feed(e, &l, 3, 0.69, S(t++), &one_core), 1);
	assert_int_equal(l.al[1].a.state, CGP_ALERT_RESOLVED);
	assert_string_equal(l.al[1].reason, "recovered");
	assert_float_equal(l.al[1].a.threshold, 70.0, 0);
	assert_float_equal(l.al[1].a.value, 69.0, 1e-9);
	assert_int_equal(l.al[1].a.held_ns, S(13));
	assert_float_equal(l.al[1].a.recommended_limit, 0, 0);
	assert_int_equal(cgp_engine_tracked(e), 0);
	/* after resolving, a value above the threshold needs the whole `for:` again */
	assert_int_equal(feed(e, &l, 3, 0.96, S(t++), &one_core), 0);
	assert_int_equal(feed(e, &l, 3, 0.96, S(t++), &one_core), 0);
	assert_int_equal(feed(e, &l, 3, 0.96, S(t++), &one_core), 1);
	assert_int_equal(l.al[2].a.state, CGP_ALERT_FIRING);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_no_resolve_below_resolves_when_false(void **state)
{
	struct cgp_playbook *pb = parse(CPU_RULE("    above: 95\n    for: 0s\n"));
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};

	(void)state;
	assert_int_equal(feed(e, &l, 3, 0.96, S(1), &one_core), 1); /* for: 0s fires on the first sample */
	assert_int_equal(l.al[0].a.held_ns, 0);
	assert_int_equal(feed(e, &l, 3, 0.95, S(2), &one_core), 1);
	assert_int_equal(l.al[1].a.state, CGP_ALERT_RESOLVED);
	assert_float_equal(l.al[1].a.threshold, 95.0, 0);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_band(void **state)
{
	struct cgp_playbook *pb = parse("version: 1\nrules:\n  - name: busy\n    metric: cpu_pct\n"
					"    between: [80, 95]\n    for: 2s\n    severity: warning\n");
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};

	(void)state;
	/* outside the band: nothing, not even pending */
	assert_int_equal(feed(e, &l, 9, 0.799, S(0), &one_core), 0);
	assert_int_equal(feed(e, &l, 9, 0.951, S(1), &one_core), 0);
	assert_int_equal(cgp_engine_tracked(e), 0);
	/* both ends belong to the band */
	assert_int_equal(feed(e, &l, 9, 0.80, S(2), &one_core), 0);
	assert_int_equal(feed(e, &l, 9, 0.95, S(3), &one_core), 0);
	assert_int_equal(feed(e, &l, 9, 0.85, S(4), &one_core), 1);
	assert_int_equal(l.al[0].a.severity, CGP_SEV_WARNING);
	assert_float_equal(l.al[0].a.threshold, 80.0, 0);
	/* leaving the band upwards resolves the band rule (the critical rule takes over) */
	assert_int_equal(feed(e, &l, 9, 0.97, S(5), &one_core), 1);
	assert_int_equal(l.al[1].a.state, CGP_ALERT_RESOLVED);
	assert_string_equal(l.al[1].reason, "above_band");
	assert_float_equal(l.al[1].a.threshold, 95.0, 0);
	/* and downwards */
	feed(e, &l, 9, 0.90, S(6), &one_core);
	assert_int_equal(feed(e, &l, 9, 0.90, S(8), &one_core), 1);
	assert_int_equal(feed(e, &l, 9, 0.50, S(9), &one_core), 1);
	assert_string_equal(l.al[3].reason, "recovered");
	assert_float_equal(l.al[3].a.threshold, 80.0, 0);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_cgroup_removed(void **state)
{
	struct cgp_playbook *pb = parse(CPU_RULE("    above: 90\n    for: 1s\n"));
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};
	char path[32];
	struct cgp_sample s;

	(void)state;
	/* the path is the caller's and dies with the cgroup: the engine must keep its own copy */
	snprintf(path, sizeof(path), "/kubepods/pod9/c9");
	s = cpu_sample(42, 1.0, S(0));
	eval_at(e, &s, path, &one_core, S(0), collect, &l);
	s.ts_ns = S(1);
	eval_at(e, &s, path, &one_core, S(1), collect, &l);
	assert_int_equal(l.n, 1);
	/* another cgroup only pending: removed silently */
	feed(e, &l, 43, 1.0, S(1), &one_core);
	assert_int_equal(cgp_engine_tracked(e), 2);
	memset(path, 'x', sizeof(path) - 1);
	cgp_engine_cgroup_gone(e, 42, S(5), collect, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.al[1].a.state, CGP_ALERT_RESOLVED);
	assert_string_equal(l.al[1].reason, "cgroup_removed");
	assert_string_equal(l.al[1].path, "/kubepods/pod9/c9");
	assert_int_equal(l.al[1].a.cgroup_id, 42);
	assert_int_equal(l.al[1].a.held_ns, S(4));
	assert_float_equal(l.al[1].a.value, 100.0, 1e-9);
	cgp_engine_cgroup_gone(e, 43, S(5), collect, &l);
	cgp_engine_cgroup_gone(e, 44, S(5), collect, &l); /* never seen: nothing */
	assert_int_equal(l.n, 2);
	assert_int_equal(cgp_engine_tracked(e), 0);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_recommendation_arithmetic(void **state)
{
	(void)state;
	/* the playbook's own examples: a 1.0-core limit at 100% */
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_CPU_PCT, CGP_SEV_CRITICAL, CGP_LIMIT_CGROUP, 1.0, 1.0), 2.0,
			   0);
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_CPU_PCT, CGP_SEV_WARNING, CGP_LIMIT_CGROUP, 1.0, 0.9), 1.5,
			   0);
	/* critical: the peak with headroom when it beats doubling (3.0 x 1.25 = 3.75 -> 4.0) */
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_CPU_PCT, CGP_SEV_CRITICAL, CGP_LIMIT_CGROUP, 1.0, 3.0), 4.0,
			   0);
	/* rounded up to half cores: 0.3 x 2 = 0.6 -> 1.0; 0.25 x 1.5 = 0.375 -> 0.5; 2 x 1.5 = 3.0 stays */
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_CPU_PCT, CGP_SEV_CRITICAL, CGP_LIMIT_CGROUP, 0.3, 0.3), 1.0,
			   0);
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_CPU_PCT, CGP_SEV_WARNING, CGP_LIMIT_CGROUP, 0.25, 0.2), 0.5,
			   0);
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_CPU_PCT, CGP_SEV_WARNING, CGP_LIMIT_CGROUP, 2.0, 1.8), 3.0,
			   0);
	/* memory: peak x 1.25 rounded up to a MiB: 100 MiB + 1 B -> 125 MiB + 1.25 B -> 126 MiB */
	assert_float_equal(
	    cgp_recommend_limit(CGP_METRIC_MEM_PCT, CGP_SEV_CRITICAL, CGP_LIMIT_CGROUP, 104 * MIB, 100 * MIB + 1),
	    126 * MIB, 0);
	assert_float_equal(
	    cgp_recommend_limit(CGP_METRIC_MEM_PCT, CGP_SEV_WARNING, CGP_LIMIT_CGROUP, 1 * GIB, 0.8 * GIB), 1 * GIB, 0);
	/* an OOM kill: the peak was the limit */
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_OOM_KILLS, CGP_SEV_CRITICAL, CGP_LIMIT_CGROUP, 256 * MIB, 1),
			   320 * MIB, 0);
	/* no limit of its own, or nothing to limit: no number */
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_CPU_PCT, CGP_SEV_CRITICAL, CGP_LIMIT_NODE, 4.0, 3.9), 0, 0);
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_MEM_PCT, CGP_SEV_CRITICAL, CGP_LIMIT_NODE, 8 * GIB, 7 * GIB),
			   0, 0);
	assert_float_equal(cgp_recommend_limit(CGP_METRIC_RUNQ_P99_US, CGP_SEV_CRITICAL, CGP_LIMIT_CGROUP, 0, 900), 0,
			   0);
}

/* The default playbook end to end: cpu_critical on a 1.0-core limit at 100% for 5 minutes recommends 2.0. */
static void test_default_cpu_critical_recommends_two_cores(void **state)
{
	struct cgp_playbook *pb = NULL;
	struct cgp_engine *e;
	struct log l = {0};
	char err[256];
	unsigned t;

	(void)state;
	assert_int_equal(cgp_playbook_default(&pb, err, sizeof(err)), 0);
	e = cgp_engine_new(pb);
	for (t = 0; t < 300; t++)
		assert_int_equal(feed(e, &l, 5, 1.0, S(t), &one_core), 0);
	assert_int_equal(feed(e, &l, 5, 1.0, S(300), &one_core), 1);
	assert_string_equal(l.al[0].rule, "cpu_critical");
	assert_float_equal(l.al[0].a.value, 100.0, 0);
	assert_float_equal(l.al[0].a.limit, 1.0, 0);
	assert_float_equal(l.al[0].a.recommended_limit, 2.0, 0);
	assert_int_equal(l.al[0].a.held_ns, S(300));
	/* cpu_high at 90% for 2 minutes: 1.0 -> 1.5 */
	for (t = 0; t < 120; t++)
		assert_int_equal(feed(e, &l, 6, 0.9, S(t), &one_core), 0);
	assert_int_equal(feed(e, &l, 6, 0.9, S(120), &one_core), 1);
	assert_string_equal(l.al[1].rule, "cpu_high");
	assert_float_equal(l.al[1].a.recommended_limit, 1.5, 0);
	/* recovery: 75% keeps both firing (hysteresis), 69% resolves */
	assert_int_equal(feed(e, &l, 5, 0.75, S(301), &one_core), 0);
	assert_int_equal(feed(e, &l, 5, 0.69, S(302), &one_core), 1);
	assert_string_equal(l.al[2].rule, "cpu_critical");
	assert_int_equal(l.al[2].a.state, CGP_ALERT_RESOLVED);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_no_limit_measures_the_node(void **state)
{
	struct cgp_playbook *pb = NULL;
	struct cgp_engine *e;
	struct log l = {0};
	const struct lim unlimited = {
	    .cpu_limit_cores = 0, .node_cpus = 4, .node_mem_bytes = 8 * GIB, .is_container = true};
	const struct cgp_node node = {.cpus = 4, .mem_bytes = 8 * GIB};
	struct cgp_sample s = {.cgroup_id = 11,
			       .cpu_cores = 3.9,
			       .has_mem = true,
			       .mem_bytes = (uint64_t)(7.8 * GIB),
			       .mem_limit_bytes = 0,
			       .has_mem_stat = true,
			       .mem_working_set_bytes = (uint64_t)(7.8 * GIB)};
	const struct cgp_measure *m;
	char err[256];
	unsigned t;

	(void)state;
	/* cgroup v1 says "no limit" as a huge number; a CPU limit above the node is no limit either */
	s.cpu_limit_cores = 64;
	s.mem_limit_bytes = 0x7ffffffffffff000ull;
	cgp_measure_sample(&s, &node);
	m = &s.m[CGP_METRIC_CPU_PCT];
	assert_true(m->known);
	assert_int_equal(m->limit_kind, CGP_LIMIT_NODE);
	assert_float_equal(m->value, 97.5, 1e-9);
	m = &s.m[CGP_METRIC_MEM_PCT];
	assert_true(m->known);
	assert_int_equal(m->limit_kind, CGP_LIMIT_NODE);
	assert_float_equal(m->limit, 8 * GIB, 0);
	s.mem_limit_bytes = 0;
	s.cpu_limit_cores = 0;
	/* nothing to measure against */
	cgp_measure_sample(&s, &(struct cgp_node){0});
	assert_false(s.m[CGP_METRIC_CPU_PCT].known);
	s.has_mem = false;
	cgp_measure_sample(&s, &node);
	assert_false(s.m[CGP_METRIC_MEM_PCT].known);
	s.has_mem = true;

	assert_int_equal(cgp_playbook_default(&pb, err, sizeof(err)), 0);
	e = cgp_engine_new(pb);
	for (t = 0; t <= 300; t++) {
		s.ts_ns = S(t);
		assert_int_equal(eval_at(e, &s, "/c", &unlimited, S(t), collect, &l), 0);
	}
	assert_int_equal(l.n, 2);
	assert_string_equal(l.al[0].rule, "cpu_critical");
	assert_int_equal(l.al[0].a.limit_kind, CGP_LIMIT_NODE);
	assert_float_equal(l.al[0].a.limit, 4.0, 0);
	assert_float_equal(l.al[0].a.value, 97.5, 1e-9);
	assert_float_equal(l.al[0].a.recommended_limit, 0, 0);
	assert_string_equal(l.al[1].rule, "memory_critical");
	assert_string_equal(l.al[1].metric, "mem_working_set_pct");
	assert_int_equal(l.al[1].a.limit_kind, CGP_LIMIT_NODE);
	assert_float_equal(l.al[1].a.limit, 8 * GIB, 0);
	assert_float_equal(l.al[1].a.value, 97.5, 1e-6);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_memory_with_limit(void **state)
{
	struct cgp_playbook *pb = parse("version: 1\nrules:\n  - name: mem\n    metric: mem_pct\n    above: 95\n"
					"    for: 1s\n    severity: critical\n");
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};
	struct cgp_sample s = {.cgroup_id = 12,
			       .has_mem = true,
			       .mem_limit_bytes = (uint64_t)(100 * MIB),
			       .mem_bytes = (uint64_t)(96 * MIB)};

	(void)state;
	eval_at(e, &s, "/c", &one_core, S(0), collect, &l);
	s.mem_bytes = (uint64_t)(99 * MIB); /* the peak: 99 MiB x 1.25 = 123.75 -> 124 MiB */
	eval_at(e, &s, "/c", &one_core, S(1), collect, &l);
	assert_int_equal(l.n, 1);
	assert_float_equal(l.al[0].a.value, 99.0, 1e-9);
	assert_int_equal(l.al[0].a.limit_kind, CGP_LIMIT_CGROUP);
	assert_float_equal(l.al[0].a.recommended_limit, 124 * MIB, 0);
	/* memory figures missing for a while: the rule neither resolves nor fires again */
	s.has_mem = false;
	eval_at(e, &s, "/c", &one_core, S(2), collect, &l);
	assert_int_equal(l.n, 1);
	assert_int_equal(cgp_engine_tracked(e), 1);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

/* The default playbook judges memory by the working set: a container whose usage is nearly all page cache (99% of
 * its limit) raises nothing in 10 minutes; the same container with its working set at 97% is critical after
 * 5 minutes, and the alert says which figure it judged. Raw usage stays a metric of its own. */
static void test_default_judges_working_set(void **state)
{
	struct cgp_playbook *pb = NULL;
	struct cgp_engine *e;
	struct log l = {0};
	struct cgp_sample s = {.cgroup_id = 21,
			       .window_s = 1,
			       .has_mem = true,
			       .mem_limit_bytes = (uint64_t)(128 * MIB),
			       .mem_bytes = (uint64_t)(127 * MIB),
			       .has_mem_stat = true,
			       .mem_working_set_bytes = (uint64_t)(2 * MIB)};
	char err[256];
	unsigned t;

	(void)state;
	assert_int_equal(cgp_playbook_default(&pb, err, sizeof(err)), 0);
	e = cgp_engine_new(pb);
	for (t = 0; t <= 600; t++)
		assert_int_equal(eval_at(e, &s, "/c", &one_core, S(t), collect, &l), 0);
	assert_int_equal(l.n, 0);
	assert_true(s.m[CGP_METRIC_MEM_PCT].value > 99); /* what the old rule would have judged */
	s.mem_working_set_bytes = (uint64_t)(124 * MIB);
	for (; t <= 600 + 301; t++)
		assert_int_equal(eval_at(e, &s, "/c", &one_core, S(t), collect, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.al[0].rule, "memory_critical");
	assert_string_equal(l.al[0].metric, "mem_working_set_pct");
	assert_float_equal(l.al[0].a.value, 124.0 / 128 * 100, 1e-9);
	assert_float_equal(l.al[0].a.limit, 128 * MIB, 0);
	/* the working set's peak x 1.25, rounded up to a MiB: 155 MiB */
	assert_float_equal(l.al[0].a.recommended_limit, 155 * MIB, 0);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

/* Throttling and pressure in rules: shares of the window, unknown in a cgroup's first sample (the kernel's totals
 * run since it was made) and where the kernel lacks them; a throttled cgroup's recommendation is more quota. */
static void test_throttling_and_pressure_rules(void **state)
{
	struct cgp_playbook *pb = parse("version: 1\nrules:\n"
					"  - name: throttled\n    metric: cpu_throttled_pct\n    above: 50\n"
					"    for: 2s\n    severity: warning\n"
					"  - name: mem_stall\n    metric: psi_memory_some_pct\n    above: 20\n"
					"    for: 0s\n    severity: critical\n"
					"  - name: cpu_wait\n    metric: psi_cpu_some_pct\n    above: 90\n"
					"    for: 0s\n    severity: warning\n"
					"  - name: io_stall\n    metric: psi_io_some_pct\n    above: 10\n"
					"    for: 0s\n    severity: warning\n"
					"  - name: mem_full\n    metric: psi_memory_full_pct\n    above: 10\n"
					"    for: 0s\n    severity: critical\n");
	struct cgp_engine *e = cgp_engine_new(pb);
	const struct lim quarter = {
	    .cpu_limit_cores = 0.25, .node_cpus = 4, .node_mem_bytes = 8 * GIB, .is_container = true};
	struct log l = {0};
	struct cgp_sample s = {.cgroup_id = 22,
			       .window_s = 1,
			       .first_window = true,
			       .cpu_cores = 0.25,
			       .has_cpu_bandwidth = true,
			       .cpu_periods_window = 0,
			       .has_psi = true};

	(void)state;
	/* first sample: the window figures are not known, nothing is judged */
	s.psi_window_ns[CGP_PSI_MEM_SOME] = 900000000;
	assert_int_equal(eval_at(e, &s, "/c", &quarter, S(0), collect, &l), 0);
	assert_false(s.m[CGP_METRIC_PSI_MEMORY_SOME_PCT].known);
	assert_false(s.m[CGP_METRIC_CPU_THROTTLED_PCT].known);
	assert_int_equal(l.n, 0);
	s.first_window = false;
	/* 9 of 10 periods throttled, memory stalled 30% of the window, full 5%: throttling must hold for 2 s */
	s.cpu_periods_window = 10;
	s.cpu_throttled_periods_window = 9;
	s.psi_window_ns[CGP_PSI_MEM_SOME] = 300000000;
	s.psi_window_ns[CGP_PSI_MEM_FULL] = 50000000;
	s.psi_window_ns[CGP_PSI_CPU_SOME] = 500000000;
	for (unsigned t = 1; t <= 3; t++)
		assert_int_equal(eval_at(e, &s, "/c", &quarter, S(t), collect, &l), 0);
	assert_float_equal(s.m[CGP_METRIC_CPU_THROTTLED_PCT].value, 90, 1e-9);
	assert_float_equal(s.m[CGP_METRIC_PSI_MEMORY_SOME_PCT].value, 30, 1e-9);
	assert_float_equal(s.m[CGP_METRIC_PSI_MEMORY_FULL_PCT].value, 5, 1e-9);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.al[0].rule, "mem_stall");
	assert_string_equal(l.al[0].metric, "psi_memory_some_pct");
	assert_float_equal(l.al[0].a.recommended_limit, 0, 0); /* no limit makes a stall go away by itself */
	assert_string_equal(l.al[1].rule, "throttled");
	assert_string_equal(l.al[1].metric, "cpu_throttled_pct");
	assert_int_equal(l.al[1].a.limit_kind, CGP_LIMIT_CGROUP);
	assert_float_equal(l.al[1].a.limit, 0.25, 1e-12);
	assert_float_equal(l.al[1].a.recommended_limit, 0.5, 1e-12); /* 0.25 x 1.5, rounded up to 0.5 core */
	/* no periods elapsed (idle): nothing throttled, 0%; PSI off: unknown, the rules stay as they are */
	s.cpu_periods_window = 0;
	s.has_psi = false;
	assert_int_equal(eval_at(e, &s, "/c", &quarter, S(4), collect, &l), 0);
	assert_true(s.m[CGP_METRIC_CPU_THROTTLED_PCT].known);
	assert_float_equal(s.m[CGP_METRIC_CPU_THROTTLED_PCT].value, 0, 0);
	assert_false(s.m[CGP_METRIC_PSI_IO_SOME_PCT].known);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.al[2].rule, "throttled");
	assert_int_equal(l.al[2].a.state, CGP_ALERT_RESOLVED);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_oom_kill(void **state)
{
	struct cgp_playbook *pb = NULL;
	struct cgp_engine *e;
	struct log l = {0};
	struct cgp_oom_event oom = {.ts_ns = S(10), .cgroup_id = 77};
	const char *path = "/kubepods/pod/c";
	struct cgp_sample s = {.cgroup_id = 77,
			       .has_mem = true,
			       .mem_limit_bytes = (uint64_t)(256 * MIB),
			       .mem_bytes = (uint64_t)(10 * MIB)};
	char err[256];

	(void)state;
	assert_int_equal(cgp_playbook_default(&pb, err, sizeof(err)), 0);
	e = cgp_engine_new(pb);
	assert_int_equal(oom_at(e, &oom, path, &one_core, (uint64_t)(256 * MIB), S(10), collect, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.al[0].rule, "oom_kill");
	assert_string_equal(l.al[0].reason, "oom_kill");
	assert_string_equal(l.al[0].metric, "oom_kills");
	assert_int_equal(l.al[0].a.severity, CGP_SEV_CRITICAL);
	assert_float_equal(l.al[0].a.value, 1, 0);
	assert_float_equal(l.al[0].a.limit, 256 * MIB, 0);
	assert_float_equal(l.al[0].a.recommended_limit, 320 * MIB, 0);
	/* a second kill while firing, and the sample that counts the kills, fire nothing more */
	oom_at(e, &oom, path, &one_core, (uint64_t)(256 * MIB), S(10), collect, &l);
	s.oom_kills_window = 2;
	eval_at(e, &s, path, &one_core, S(11), collect, &l);
	assert_int_equal(l.n, 1);
	/* a window without kills resolves */
	s.oom_kills_window = 0;
	eval_at(e, &s, path, &one_core, S(12), collect, &l);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.al[1].a.state, CGP_ALERT_RESOLVED);
	/* a kill the ring buffer missed still fires from the sample's count */
	s.oom_kills_window = 1;
	eval_at(e, &s, path, &one_core, S(13), collect, &l);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.al[2].rule, "oom_kill");
	assert_float_equal(l.al[2].a.recommended_limit, 320 * MIB, 0);
	/* not a container: the default rules do not look */
	oom.cgroup_id = 78;
	oom_at(e, &oom, path, &(struct lim){.node_mem_bytes = 8 * GIB}, 0, S(14), collect, &l);
	assert_int_equal(l.n, 3);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_selectors(void **state)
{
	struct cgp_playbook *pb = parse("version: 1\nrules:\n"
					"  - name: c\n    metric: cpu_pct\n    above: 50\n    severity: warning\n"
					"  - name: a\n    metric: cpu_pct\n    above: 50\n    severity: warning\n"
					"    select: all\n"
					"  - name: g\n    metric: cpu_pct\n    above: 50\n    severity: warning\n"
					"    select: /kubepods/*\n");
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};
	struct lim host = one_core;
	const char *p1 = "/system.slice/sshd.service", *p2 = "/kubepods/burstable/pod1/c2";
	struct cgp_sample s1 = cpu_sample(1, 0.9, S(0));
	struct cgp_sample s2 = cpu_sample(2, 0.9, S(0));

	(void)state;
	host.is_container = false;
	eval_at(e, &s1, p1, &host, S(0), collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.al[0].rule, "a");
	eval_at(e, &s2, p2, &one_core, S(0), collect, &l);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.al[1].rule, "c");
	assert_string_equal(l.al[2].rule, "a");
	assert_string_equal(l.al[3].rule, "g");
	/* the same cgroup no longer a container: the containers rule lets go */
	eval_at(e, &s2, p2, &host, S(1), collect, &l);
	assert_int_equal(l.n, 5);
	assert_string_equal(l.al[4].rule, "c");
	assert_string_equal(l.al[4].reason, "deselected");
	/* and starts from scratch when it is one again */
	eval_at(e, &s2, p2, &one_core, S(2), collect, &l);
	assert_int_equal(l.n, 6);
	assert_string_equal(l.al[5].rule, "c");
	assert_int_equal(l.al[5].a.state, CGP_ALERT_FIRING);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

/* SIGHUP: rules that keep their name keep their state; removed rules resolve. */
static void test_reload_keeps_state_by_name(void **state)
{
	struct cgp_playbook *a = parse("version: 1\nrules:\n"
				       "  - name: slow\n    metric: cpu_pct\n    above: 90\n    for: 10s\n"
				       "    severity: warning\n"
				       "  - name: gone\n    metric: cpu_pct\n    above: 50\n    severity: critical\n");
	struct cgp_playbook *b = parse("version: 1\nrules:\n"
				       "  - name: new\n    metric: cpu_pct\n    above: 99\n    severity: warning\n"
				       "  - name: slow\n    metric: cpu_pct\n    above: 80\n    for: 10s\n"
				       "    severity: critical\n");
	struct cgp_engine *e = cgp_engine_new(a);
	struct log l = {0};
	unsigned t;

	(void)state;
	for (t = 0; t < 5; t++)
		feed(e, &l, 1, 0.95, S(t), &one_core);
	feed(e, &l, 2, 0.60, S(4), &one_core);
	assert_int_equal(l.n, 2); /* "gone" fired for both cgroups */
	assert_int_equal(cgp_engine_tracked(e), 2);
	assert_int_equal(cgp_engine_set_playbook(e, b, S(5), collect, &l), 0);
	cgp_playbook_free(a); /* the caller frees the old playbook after the swap */
	assert_int_equal(l.n, 4);
	assert_string_equal(l.al[2].rule, "gone");
	assert_string_equal(l.al[2].reason, "rule_removed");
	assert_string_equal(l.al[3].reason, "rule_removed");
	assert_int_equal(cgp_engine_tracked(e), 1); /* cgroup 2 had nothing left */
	/* "slow" keeps its pending start (t=0), so it fires at t=10, under the new severity */
	for (t = 5; t < 10; t++)
		assert_int_equal(feed(e, &l, 1, 0.95, S(t), &one_core), 0);
	assert_int_equal(feed(e, &l, 1, 0.95, S(10), &one_core), 1);
	assert_string_equal(l.al[4].rule, "slow");
	assert_int_equal(l.al[4].a.severity, CGP_SEV_CRITICAL);
	assert_int_equal(l.al[4].a.held_ns, S(10));
	cgp_engine_free(e);
	cgp_playbook_free(b);
}

static void test_clock_going_back_never_fires_early(void **state)
{
	struct cgp_playbook *pb = parse(CPU_RULE("    above: 90\n    for: 5s\n"));
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};

	(void)state;
	feed(e, &l, 1, 0.95, S(100), &one_core);
	assert_int_equal(feed(e, &l, 1, 0.95, S(50), &one_core), 0);
	assert_int_equal(feed(e, &l, 1, 0.95, S(54), &one_core), 0);
	assert_int_equal(feed(e, &l, 1, 0.95, S(55), &one_core), 1);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static void test_expire_unseen(void **state)
{
	struct cgp_playbook *pb = parse(CPU_RULE("    above: 90\n"));
	struct cgp_engine *e = cgp_engine_new(pb);
	struct log l = {0};
	uint64_t id;

	(void)state;
	for (id = 1; id <= 40; id++)
		feed(e, &l, id, 0.95, S(0), &one_core);
	assert_int_equal(l.n, 40);
	/* a sample of a firing cgroup counts as a sighting */
	for (id = 31; id <= 40; id++)
		assert_int_equal(feed(e, &l, id, 0.95, S(50), &one_core), 0);
	assert_int_equal(cgp_engine_tracked(e), 40);
	cgp_engine_expire(e, S(60), S(60), collect, &l);
	assert_int_equal(l.n, 40);
	cgp_engine_expire(e, S(30), S(60), collect, &l);
	assert_int_equal(l.n, 70);
	assert_string_equal(l.al[69].reason, "cgroup_unseen");
	assert_int_equal(cgp_engine_tracked(e), 10);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

static unsigned count_cb_n;
static void count_cb(const struct cgp_alert *a, void *ctx)
{
	(void)ctx;
	(void)a;
	count_cb_n++;
}

/* 10,000 cgroups: state appears while pending and is gone again afterwards; removals in the middle of probe
 * chains leave every other entry findable. */
static void test_state_is_bounded(void **state)
{
	struct cgp_playbook *pb = parse(CPU_RULE("    above: 90\n    for: 2s\n"));
	struct cgp_engine *e = cgp_engine_new(pb);
	struct cgp_sample s = cpu_sample(0, 0.95, 0);
	uint64_t id;

	(void)state;
	for (id = 1; id <= 10000; id++) {
		s.cgroup_id = id * 4096; /* ids that share low bits, to make probe chains */
		assert_int_equal(eval_at(e, &s, "/c", &one_core, S(0), count_cb, NULL), 0);
	}
	assert_int_equal(cgp_engine_tracked(e), 10000);
	for (id = 1; id <= 10000; id += 2)
		cgp_engine_cgroup_gone(e, id * 4096, S(1), count_cb, NULL);
	assert_int_equal(cgp_engine_tracked(e), 5000);
	for (id = 1; id <= 10000; id++) {
		s.cgroup_id = id * 4096;
		eval_at(e, &s, "/c", &one_core, S(2), count_cb, NULL);
	}
	/* the survivors fire at t=2; the removed ones are pending again from t=2 */
	assert_int_equal(count_cb_n, 5000);
	s.cpu_cores = 0.1;
	for (id = 1; id <= 10000; id++) {
		s.cgroup_id = id * 4096;
		eval_at(e, &s, "/c", &one_core, S(3), count_cb, NULL);
	}
	assert_int_equal(count_cb_n, 10000);
	assert_int_equal(cgp_engine_tracked(e), 0);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fires_exactly_at_for),
	    cmocka_unit_test(test_no_fire_when_broken_one_sample_early),
	    cmocka_unit_test(test_hysteresis),
	    cmocka_unit_test(test_no_resolve_below_resolves_when_false),
	    cmocka_unit_test(test_band),
	    cmocka_unit_test(test_cgroup_removed),
	    cmocka_unit_test(test_recommendation_arithmetic),
	    cmocka_unit_test(test_default_cpu_critical_recommends_two_cores),
	    cmocka_unit_test(test_no_limit_measures_the_node),
	    cmocka_unit_test(test_memory_with_limit),
	    cmocka_unit_test(test_default_judges_working_set),
	    cmocka_unit_test(test_throttling_and_pressure_rules),
	    cmocka_unit_test(test_oom_kill),
	    cmocka_unit_test(test_selectors),
	    cmocka_unit_test(test_reload_keeps_state_by_name),
	    cmocka_unit_test(test_clock_going_back_never_fires_early),
	    cmocka_unit_test(test_expire_unseen),
	    cmocka_unit_test(test_state_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
