// SPDX-License-Identifier: GPL-2.0
/* `cgpulse top`'s table from the agent's own events: rows named by their attribution, alerts firing and
 * resolved, OOM kills counted, removed or silent cgroups leaving, sorting and filtering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_encode.h"
#include "top/model.h"

#define S 1000000000ULL

static const struct cgp_event_meta meta = {.node = "node-1", .instance_id = "i-1", .seq = 1};

static struct cgp_attribution who(const char *path, const char *pod, const char *ctr)
{
	struct cgp_attribution a = cgp_attribution_unknown;

	a.path = path;
	if (ctr) {
		a.is_container = true;
		a.container_id = "0123456789abcdef0123";
		a.pod = pod;
		a.pod_namespace = "shop";
		a.container_name = ctr;
	}
	return a;
}

static void sample(struct top_model *m, uint64_t id, const struct cgp_attribution *a, double cores, uint64_t mem,
		   uint64_t now)
{
	struct cgp_sample s = {.cgroup_id = id,
			       .window_s = 1,
			       .cpu_cores = cores,
			       .has_mem = true,
			       .mem_bytes = mem,
			       .mem_limit_bytes = 1ULL << 30};
	static struct cgp_event_build b;

	cgp_measure_sample(&s, &(struct cgp_node){.cpus = 4, .mem_bytes = 8ULL << 30});
	cgp_event_build_sample(&b, &meta, &s, a);
	top_model_event(m, &b.ev, now);
}

static void alert(struct top_model *m, uint64_t id, const struct cgp_attribution *a, const char *rule, int sev,
		  bool firing)
{
	struct cgp_alert al = {.cgroup_id = id,
			       .path = a->path,
			       .rule = rule,
			       .severity = sev,
			       .state = firing ? CGP_ALERT_FIRING : CGP_ALERT_RESOLVED,
			       .metric = "cpu_pct",
			       .action = "",
			       .runbook = "",
			       .reason = "threshold"};
	static struct cgp_event_build b;

	cgp_event_build_alert(&b, &meta, &al, a);
	top_model_event(m, &b.ev, 1);
}

static void test_rows_alerts_sorting(void **state)
{
	struct cgp_attribution web = who("/kubepods/pod1/c1", "web-1", "nginx");
	struct cgp_attribution db = who("/kubepods/pod2/c2", "db-0", "postgres");
	struct cgp_attribution sys = who("/system.slice/cron.service", NULL, NULL);
	struct top_view_opts o = {.sort = TOP_COL_CPU};
	const struct top_row *rows[8];
	struct top_model m;

	(void)state;
	assert_int_equal(top_model_init(&m), 0);
	sample(&m, 1, &web, 1.5, 100 << 20, 1 * S);
	sample(&m, 2, &db, 0.5, 900 << 20, 1 * S);
	sample(&m, 3, &sys, 3.0, 10 << 20, 1 * S);
	/* containers only by default, largest CPU first, named namespace/pod/container */
	assert_int_equal(top_model_select(&m, &o, rows, 8), 2);
	assert_string_equal(rows[0]->name, "shop/web-1/nginx");
	assert_true(rows[0]->cpu_cores == 1.5);
	assert_true(rows[0]->cpu_pct_of_node);
	assert_string_equal(rows[1]->name, "shop/db-0/postgres");
	/* every cgroup, by memory; then reversed */
	o.all = true;
	o.sort = TOP_COL_MEM;
	assert_int_equal(top_model_select(&m, &o, rows, 8), 3);
	assert_int_equal(rows[0]->cgroup_id, 2);
	assert_string_equal(rows[2]->name, "/system.slice/cron.service");
	o.ascending = true;
	top_model_select(&m, &o, rows, 8);
	assert_int_equal(rows[0]->cgroup_id, 3);
	/* a filter on name or path */
	o.filter = "pod2";
	assert_int_equal(top_model_select(&m, &o, rows, 8), 1);
	assert_int_equal(rows[0]->cgroup_id, 2);
	o.filter = NULL;

	/* alerts: worst first, resolved ones leave, counted */
	alert(&m, 2, &db, "memory_high", CGP_SEV_WARNING, true);
	alert(&m, 2, &db, "memory_critical", CGP_SEV_CRITICAL, true);
	alert(&m, 2, &db, "memory_critical", CGP_SEV_CRITICAL, true); /* again (a reload): once */
	assert_int_equal(m.alerts_firing, 2);
	o.sort = TOP_COL_ALERTS;
	o.ascending = false;
	top_model_select(&m, &o, rows, 8);
	assert_int_equal(rows[0]->cgroup_id, 2);
	assert_int_equal(rows[0]->n_firing, 2);
	assert_string_equal(rows[0]->firing[0].rule, "memory_critical");
	alert(&m, 2, &db, "memory_critical", CGP_SEV_CRITICAL, false);
	assert_int_equal(m.alerts_firing, 1);
	assert_string_equal(rows[0]->firing[0].rule, "memory_high");
	top_model_free(&m);
}

static void test_rows_leave(void **state)
{
	struct cgp_attribution web = who("/kubepods/pod1/c1", "web-1", "nginx");
	struct cgp_attribution db = who("/kubepods/pod2/c2", "db-0", "postgres");
	static struct cgp_event_build b;
	struct top_model m;

	(void)state;
	assert_int_equal(top_model_init(&m), 0);
	sample(&m, 1, &web, 1, 1, 1 * S);
	sample(&m, 2, &db, 1, 1, 1 * S);
	alert(&m, 1, &web, "cpu_high", CGP_SEV_WARNING, true);
	/* removed: its row and its firing rule leave */
	cgp_event_build_cgroup(&b, &meta, false, 2, 1, &web);
	top_model_event(&m, &b.ev, 2 * S);
	assert_int_equal(m.rows.len, 1);
	assert_int_equal(m.alerts_firing, 0);
	/* silent for three intervals (its rmdir lost): it leaves too */
	top_model_expire(&m, 3 * S, 3);
	assert_int_equal(m.rows.len, 1);
	top_model_expire(&m, 5 * S, 3);
	assert_int_equal(m.rows.len, 0);
	top_model_free(&m);
}

/* The columns from the figures operators judge by: MEM is the working set (not usage, which page cache fills),
 * THR% the window's throttled periods, PSI the window's stall shares; a cgroup's first sample has no window, so
 * those are absent (-), never 0; a kernel without memory.stat figures shows usage. */
static void test_figures(void **state)
{
	struct cgp_attribution web = who("/kubepods/pod1/c1", "web-1", "nginx");
	struct cgp_sample s = {.cgroup_id = 1,
			       .window_s = 2,
			       .cpu_cores = 0.2,
			       .has_mem = true,
			       .mem_bytes = 900 << 20,
			       .mem_limit_bytes = 1ULL << 30,
			       .has_mem_stat = true,
			       .mem_working_set_bytes = 256 << 20,
			       .has_cpu_bandwidth = true,
			       .cpu_periods_window = 20,
			       .cpu_throttled_periods_window = 15,
			       .has_psi = true,
			       .first_window = true};
	static struct cgp_event_build b;
	const struct top_row *r;
	struct top_model m;

	(void)state;
	s.psi_window_ns[CGP_PSI_MEM_SOME] = 500000000ULL; /* 0.5 s of 2 s */
	s.psi_window_ns[CGP_PSI_CPU_SOME] = 100000000ULL; /* 0.1 s of 2 s */
	assert_int_equal(top_model_init(&m), 0);
	cgp_measure_sample(&s, &(struct cgp_node){.cpus = 4, .mem_bytes = 8ULL << 30});
	cgp_event_build_sample(&b, &meta, &s, &web);
	top_model_event(&m, &b.ev, 1 * S);
	r = cgp_idmap_get(&m.rows, 1);
	assert_non_null(r);
	assert_true(r->mem_is_working_set);
	assert_int_equal(r->mem_bytes, 256 << 20);
	assert_true(r->mem_pct == 25.0);
	assert_false(r->has_thr);
	assert_false(r->has_psi_mem);
	assert_false(r->has_psi_cpu);

	s.first_window = false;
	cgp_measure_sample(&s, &(struct cgp_node){.cpus = 4, .mem_bytes = 8ULL << 30});
	cgp_event_build_sample(&b, &meta, &s, &web);
	top_model_event(&m, &b.ev, 2 * S);
	assert_true(r->has_thr);
	assert_true(r->thr_pct == 75.0);
	assert_true(r->has_psi_mem && r->has_psi_cpu);
	assert_true(r->psi_mem_pct == 25.0);
	assert_true(r->psi_cpu_pct == 5.0);

	/* no memory.stat figures (an unknown memcg layout): usage, and said so */
	s.has_mem_stat = false;
	cgp_measure_sample(&s, &(struct cgp_node){.cpus = 4, .mem_bytes = 8ULL << 30});
	cgp_event_build_sample(&b, &meta, &s, &web);
	top_model_event(&m, &b.ev, 3 * S);
	assert_false(r->mem_is_working_set);
	assert_int_equal(r->mem_bytes, 900 << 20);
	top_model_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rows_alerts_sorting),
	    cmocka_unit_test(test_rows_leave),
	    cmocka_unit_test(test_figures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
