// SPDX-License-Identifier: GPL-2.0
/* /metrics rendering from synthetic samples: exact series lines, label escaping, the cumulative run-queue
 * histogram, cgroups that go away, and the agent's own families. (promtool checks the format in
 * tests/scripts/test_http.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "sinks/metrics.h"

static const char *WEB_LABELS = "cgroup_id=\"4026531835\",path=\"/kubepods.slice/web.scope\","
				"container_id=\"3f4e5d6c\",pod=\"web-7d9f8\",namespace=\"shop\",container=\"nginx\"";

/* a sample and who its cgroup is, as the agent hands them to the metrics sink */
struct row {
	struct cgp_sample s;
	struct cgp_attribution a;
};

static struct row web(void)
{
	struct row r = {0};
	struct cgp_sample s = {
	    .cgroup_id = 4026531835ULL,
	    .cpu_ns_total = 987654321012ULL,
	    .cpu_limit_cores = 1.5,
	    .has_mem = true,
	    .mem_bytes = 104857600,
	    .mem_limit_bytes = 268435456,
	    .oom_kills = 2,
	    .voluntary_switches = 1000,
	    .involuntary_switches = 20,
	    .runq_hist_window = {[0] = 100, [2] = 5, [3] = 200, [10] = 21, [23] = 1},
	    .has_mem_stat = true,
	    .mem_working_set_bytes = 73400320,
	    .mem_inactive_file_bytes = 31457280,
	    .mem_anon_bytes = 62914560,
	    .mem_file_bytes = 41943040,
	    .has_mem_events = true,
	    .mem_events_max = 17,
	    .mem_events_oom = 3,
	    .has_mem_events_high = false, /* as on a v1 hierarchy */
	    .has_mem_events_oom_group_kill = true,
	    .mem_events_oom_group_kill = 1,
	    .has_cpu_bandwidth = true,
	    .cpu_periods = 1200,
	    .cpu_throttled_periods = 300,
	    .cpu_throttled_ns = 4500000000ULL,
	    .has_cpu_user_system = true,
	    .cpu_user_ns = 900000000000ULL,
	    .cpu_system_ns = 87654321012ULL,
	    .has_psi = true,
	    .psi_total_ns = {[CGP_PSI_CPU_SOME] = 1500000000ULL, [CGP_PSI_MEM_FULL] = 250000000ULL},
	};

	r.s = s;
	r.a = cgp_attribution_unknown;
	r.a.path = "/kubepods.slice/web.scope";
	r.a.is_container = true;
	r.a.container_id = "3f4e5d6c";
	r.a.runtime = "containerd";
	r.a.pod = "web-7d9f8";
	r.a.pod_namespace = "shop";
	r.a.container_name = "nginx";
	return r;
}

static int sample(struct cgp_metrics *m, const struct row *r)
{
	return cgp_metrics_sample(m, &r->s, &r->a);
}

/* c: the agent's counters, handed down before the render (NULL: none yet); http: the server's own */
static char *render(struct cgp_metrics *m, const struct cgp_agent_counters *c, const struct cgp_http_stats *http)
{
	struct cgp_buf b = CGP_BUF_INIT;

	if (c)
		cgp_metrics_set_agent(m, c);
	assert_int_equal(cgp_metrics_render(m, http, &b), 0);
	assert_int_equal(cgp_buf_append(&b, "", 1), 0);
	return (char *)b.data;
}

/* The text holds exactly this line. */
static void has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return;
	}
	fail_msg("missing line: %s", line);
}

static void has_linef(const char *text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void has_linef(const char *text, const char *fmt, ...)
{
	char line[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	has_line(text, line);
}

static void test_cgroup_series(void **state)
{
	struct cgp_metrics *m = cgp_metrics_new();
	struct row r = web();
	struct cgp_sample *s = &r.s;
	char *t;

	(void)state;
	assert_non_null(m);
	assert_int_equal(sample(m, &r), 0);
	t = render(m, NULL, NULL);
	has_line(t, "# HELP cgpulse_cgroup_cpu_seconds_total CPU time of the cgroup's tasks since this agent instance "
		    "first saw the cgroup.");
	has_line(t, "# TYPE cgpulse_cgroup_cpu_seconds_total counter");
	has_linef(t, "cgpulse_cgroup_cpu_seconds_total{%s} 987.654321012", WEB_LABELS);
	has_line(t, "# TYPE cgpulse_cgroup_cpu_limit_cores gauge");
	has_linef(t, "cgpulse_cgroup_cpu_limit_cores{%s} 1.5", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_bytes{%s} 104857600", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_limit_bytes{%s} 268435456", WEB_LABELS);
	has_line(t, "# TYPE cgpulse_cgroup_oom_kills_total counter");
	has_linef(t, "cgpulse_cgroup_oom_kills_total{%s} 2", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_context_switches_total{%s,kind=\"voluntary\"} 1000", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_context_switches_total{%s,kind=\"involuntary\"} 20", WEB_LABELS);
	/* memory beyond usage: each figure where the kernel gives it, and nothing where it does not */
	has_line(t, "# TYPE cgpulse_cgroup_memory_working_set_bytes gauge");
	has_linef(t, "cgpulse_cgroup_memory_working_set_bytes{%s} 73400320", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_inactive_file_bytes{%s} 31457280", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_anon_bytes{%s} 62914560", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_file_bytes{%s} 41943040", WEB_LABELS);
	assert_null(strstr(t, "cgpulse_cgroup_memory_swap_bytes")); /* swap not accounted: no family at all */
	has_line(t, "# TYPE cgpulse_cgroup_memory_events_total counter");
	has_linef(t, "cgpulse_cgroup_memory_events_total{%s,event=\"max\"} 17", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_events_total{%s,event=\"oom\"} 3", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_events_total{%s,event=\"oom_kill\"} 2", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_events_total{%s,event=\"oom_group_kill\"} 1", WEB_LABELS);
	assert_null(strstr(t, "event=\"high\""));
	has_line(t, "# TYPE cgpulse_cgroup_cpu_periods_total counter");
	has_linef(t, "cgpulse_cgroup_cpu_periods_total{%s} 1200", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_cpu_throttled_periods_total{%s} 300", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_cpu_throttled_seconds_total{%s} 4.5", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_cpu_user_seconds_total{%s} 900", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_cpu_system_seconds_total{%s} 87.654321012", WEB_LABELS);
	has_line(t, "# TYPE cgpulse_cgroup_pressure_seconds_total counter");
	has_linef(t, "cgpulse_cgroup_pressure_seconds_total{%s,resource=\"cpu\",kind=\"some\"} 1.5", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_pressure_seconds_total{%s,resource=\"memory\",kind=\"full\"} 0.25", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_pressure_seconds_total{%s,resource=\"io\",kind=\"some\"} 0", WEB_LABELS);
	/* one HELP and TYPE for the family, however many counters */
	assert_null(strstr(strstr(t, "# TYPE cgpulse_cgroup_memory_events_total") + 1,
			   "# TYPE cgpulse_cgroup_memory_events_total"));

	/* histogram: slot i ends at 2^i us; cumulative; the open last slot only in +Inf */
	has_line(t, "# TYPE cgpulse_cgroup_runq_wait_seconds histogram");
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"1e-06\"} 100", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"2e-06\"} 100", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"4e-06\"} 105", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"8e-06\"} 305", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"0.000512\"} 305", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"0.001024\"} 326", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"4.194304\"} 326", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"+Inf\"} 327", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_count{%s} 327", WEB_LABELS);
	/* midpoints: 100*0.5 + 5*3 + 200*6 + 21*768 us, and the open slot at its lower bound 2^22 us */
	{
		char key[512];
		const char *p;
		double sum;

		snprintf(key, sizeof(key), "\ncgpulse_cgroup_runq_wait_seconds_sum{%s} ", WEB_LABELS);
		p = strstr(t, key);
		assert_non_null(p);
		sum = strtod(p + strlen(key), NULL);
		assert_true(fabs(sum - (100 * 0.5 + 5 * 3.0 + 200 * 6.0 + 21 * 768.0 + 4194304.0) / 1e6) < 1e-12);
	}
	assert_null(strstr(t, "le=\"8.388608\""));
	/* no agent families without counters */
	assert_null(strstr(t, "cgpulse_events_published_total"));
	free(t);

	/* the histogram accumulates window after window; the other figures are the latest */
	s->cpu_ns_total = 1000000000000ULL;
	s->mem_bytes = 1;
	memset(s->runq_hist_window, 0, sizeof(s->runq_hist_window));
	s->runq_hist_window[0] = 1;
	assert_int_equal(sample(m, &r), 0);
	t = render(m, NULL, NULL);
	has_linef(t, "cgpulse_cgroup_cpu_seconds_total{%s} 1000", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_memory_bytes{%s} 1", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_bucket{%s,le=\"1e-06\"} 101", WEB_LABELS);
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_count{%s} 328", WEB_LABELS);
	free(t);
	cgp_metrics_free(m);
}

/* Families hold every cgroup's series together, cgroups in id order; optional series stay out. */
static void test_order_optional_and_gone(void **state)
{
	struct cgp_metrics *m = cgp_metrics_new();
	struct row a = web(), b = web();
	const char *b_labels = "cgroup_id=\"7\",path=\"/system.slice/cron.service\",container_id=\"\",pod=\"\","
			       "namespace=\"\",container=\"\"";
	char *t, *pa, *pb;

	(void)state;
	b.s.cgroup_id = 7;
	b.a = cgp_attribution_unknown;
	b.a.path = "/system.slice/cron.service";
	b.s.cpu_limit_cores = 0;
	b.s.has_mem = false;
	b.s.cpu_ns_total = 5;
	memset(b.s.runq_hist_window, 0, sizeof(b.s.runq_hist_window));
	assert_int_equal(sample(m, &a), 0);
	assert_int_equal(sample(m, &b), 0);
	t = render(m, NULL, NULL);
	has_linef(t, "cgpulse_cgroup_cpu_seconds_total{%s} 0.000000005", b_labels);
	pa = strstr(t, "cgpulse_cgroup_cpu_seconds_total{cgroup_id=\"4026531835\"");
	pb = strstr(t, "cgpulse_cgroup_cpu_seconds_total{cgroup_id=\"7\"");
	assert_true(pb && pa && pb < pa);
	/* one HELP and TYPE per family, all its series after it, before the next family */
	assert_null(strstr(strstr(t, "# TYPE cgpulse_cgroup_cpu_seconds_total") + 1,
			   "# TYPE cgpulse_cgroup_cpu_seconds_total"));
	assert_true(strstr(t, "# TYPE cgpulse_cgroup_cpu_limit_cores") > pa);
	/* no limit, no memory: no such series for b */
	assert_null(strstr(t, "cgpulse_cgroup_cpu_limit_cores{cgroup_id=\"7\""));
	assert_null(strstr(t, "cgpulse_cgroup_memory_bytes{cgroup_id=\"7\""));
	assert_null(strstr(t, "cgpulse_cgroup_oom_kills_total{cgroup_id=\"7\""));
	has_linef(t, "cgpulse_cgroup_runq_wait_seconds_count{%s} 0", b_labels);
	free(t);

	cgp_metrics_gone(m, a.s.cgroup_id);
	cgp_metrics_gone(m, 12345); /* unknown: nothing happens */
	t = render(m, NULL, NULL);
	assert_null(strstr(t, "4026531835"));
	/* the only cgroup has no memory figures: those families are left out entirely */
	assert_null(strstr(t, "cgpulse_cgroup_memory_bytes"));
	assert_null(strstr(t, "cgpulse_cgroup_cpu_limit_cores"));
	has_linef(t, "cgpulse_cgroup_cpu_seconds_total{%s} 0.000000005", b_labels);
	free(t);

	cgp_metrics_gone(m, b.s.cgroup_id);
	t = render(m, NULL, NULL);
	assert_string_equal(t, "");
	free(t);
	cgp_metrics_free(m);
}

static void test_escaping(void **state)
{
	struct cgp_metrics *m = cgp_metrics_new();
	struct row s = web();
	struct cgp_buf b = CGP_BUF_INIT;
	char *t;

	(void)state;
	assert_int_equal(cgp_metrics_escape_label(&b, "a\\b\"c\nd\te"), 0);
	assert_int_equal(cgp_buf_append(&b, "", 1), 0);
	assert_string_equal((char *)b.data, "a\\\\b\\\"c\\nd\te");
	cgp_buf_clear(&b);
	assert_int_equal(cgp_metrics_escape_label(&b, "caf\xc3\xa9 \xff\xfe"), 0); /* valid é kept, bad bytes not */
	assert_int_equal(cgp_buf_append(&b, "", 1), 0);
	assert_string_equal((char *)b.data, "caf\xc3\xa9 ??");
	cgp_buf_free(&b);

	s.a.path = "/odd\\path/\"quoted\"\nnext";
	s.a.pod = "p\xff";
	t = render(m, NULL, NULL);
	free(t);
	assert_int_equal(sample(m, &s), 0);
	t = render(m, NULL, NULL);
	has_line(t, "cgpulse_cgroup_memory_bytes{cgroup_id=\"4026531835\",path=\"/odd\\\\path/\\\"quoted\\\"\\nnext\","
		    "container_id=\"3f4e5d6c\",pod=\"p?\",namespace=\"shop\",container=\"nginx\"} 104857600");
	free(t);
	cgp_metrics_free(m);
}

static void test_agent_families(void **state)
{
	struct cgp_metrics *m = cgp_metrics_new();
	struct cgp_bpf_prog_stat progs[] = {
	    {"cgp_sched_switch", 1500000000ULL, 3000000},
	    {"cgp_oom_\"victim\"", 250, 2},
	};
	struct cgp_http_stats hs = {
	    .requests = {[CGP_HTTP_EP_METRICS] = 3, [CGP_HTTP_EP_EVENTS] = 2, [CGP_HTTP_EP_OTHER] = 1},
	    .errors = {[CGP_HTTP_EP_OTHER] = 1},
	    .streams_open = 1,
	    .events_streamed = 99,
	    .gaps_sent = 2,
	    .events_missed = 40,
	    .ring_events = 10,
	    .ring_bytes = 2000,
	};
	struct cgp_agent_counters c = {
	    .events_published = 1234,
	    .events_sent = 1200,
	    .spool_dropped_samples = 7,
	    .spool_dropped_others = 1,
	    .spool_events = 34,
	    .spool_bytes = 5678,
	    .records_lost = {[CGP_DROP_SLOTS_FULL] = 3, [CGP_DROP_CGROUP_EVENT] = 9},
	    .cgroups_tracked = 42,
	    .sweeps = 10,
	    .sweep_seconds_total = 0.25,
	    .last_sweep_seconds = 0.0125,
	    .bpf_stats_enabled = true,
	    .n_progs = 2,
	};
	char *t;

	(void)state;
	memcpy(c.progs, progs, sizeof(progs));
	t = render(m, &c, &hs);
	has_line(t, "# TYPE cgpulse_events_published_total counter");
	has_line(t, "cgpulse_events_published_total 1234");
	has_line(t, "cgpulse_collector_events_sent_total 1200");
	has_line(t, "cgpulse_spool_events_dropped_total{kind=\"sample\"} 7");
	has_line(t, "cgpulse_spool_events_dropped_total{kind=\"other\"} 1");
	has_line(t, "# TYPE cgpulse_spool_events gauge");
	has_line(t, "cgpulse_spool_events 34");
	has_line(t, "cgpulse_spool_bytes 5678");
	has_line(t, "cgpulse_kernel_records_lost_total{reason=\"slots_full\"} 3");
	has_line(t, "cgpulse_kernel_records_lost_total{reason=\"task_storage\"} 0");
	has_line(t, "cgpulse_kernel_records_lost_total{reason=\"oom_ringbuf\"} 0");
	has_line(t, "cgpulse_kernel_records_lost_total{reason=\"sweep_full\"} 0");
	has_line(t, "cgpulse_kernel_records_lost_total{reason=\"cgroup_event\"} 9");
	has_line(t, "cgpulse_cgroups_tracked 42");
	has_line(t, "# TYPE cgpulse_sweep_duration_seconds summary");
	has_line(t, "cgpulse_sweep_duration_seconds_sum 0.25");
	has_line(t, "cgpulse_sweep_duration_seconds_count 10");
	has_line(t, "cgpulse_sweep_last_duration_seconds 0.0125");
	has_line(t, "cgpulse_bpf_stats_enabled 1");
	has_line(t, "cgpulse_bpf_prog_run_time_seconds_total{prog=\"cgp_sched_switch\"} 1.5");
	has_line(t, "cgpulse_bpf_prog_runs_total{prog=\"cgp_sched_switch\"} 3000000");
	has_line(t, "cgpulse_bpf_prog_run_time_seconds_total{prog=\"cgp_oom_\\\"victim\\\"\"} 0.00000025");
	has_line(t, "cgpulse_bpf_prog_runs_total{prog=\"cgp_oom_\\\"victim\\\"\"} 2");
	has_line(t, "cgpulse_http_requests_total{endpoint=\"/metrics\"} 3");
	has_line(t, "cgpulse_http_requests_total{endpoint=\"/healthz\"} 0");
	has_line(t, "cgpulse_http_requests_total{endpoint=\"/v1/events\"} 2");
	has_line(t, "cgpulse_http_requests_total{endpoint=\"other\"} 1");
	has_line(t, "cgpulse_http_request_errors_total{endpoint=\"other\"} 1");
	has_line(t, "cgpulse_http_event_streams 1");
	has_line(t, "cgpulse_http_events_streamed_total 99");
	has_line(t, "cgpulse_http_gaps_sent_total 2");
	has_line(t, "cgpulse_http_events_missed_total 40");
	has_line(t, "cgpulse_http_ring_events 10");
	/* read from /proc/self at render time */
	assert_non_null(strstr(t, "\ncgpulse_agent_cpu_seconds_total "));
	assert_non_null(strstr(t, "\ncgpulse_agent_resident_memory_bytes "));
	assert_null(strstr(t, "\ncgpulse_agent_resident_memory_bytes 0\n"));
	free(t);

	/* without bpf stats: no per-program families, and no HTTP families without HTTP */
	c.bpf_stats_enabled = false;
	c.n_progs = 0;
	t = render(m, &c, NULL);
	has_line(t, "cgpulse_bpf_stats_enabled 0");
	assert_null(strstr(t, "cgpulse_bpf_prog_"));
	assert_null(strstr(t, "cgpulse_http_"));
	free(t);
	cgp_metrics_free(m);
}

/* Per Alertmanager (its URL as shown, escaped), and the queue they share; none without --alertmanager. */
static void test_alertmanager_families(void **state)
{
	struct cgp_metrics *m = cgp_metrics_new();
	struct cgp_agent_counters c = {.alertmanager = true};
	char *t;

	(void)state;
	c.am.n_targets = 2;
	snprintf(c.am.url[0], sizeof(c.am.url[0]), "http://am-0:9093");
	snprintf(c.am.url[1], sizeof(c.am.url[1]), "https://am-1:9093/\"x\"");
	c.am.q.alerts = 3;
	c.am.q.firing = 2;
	c.am.q.dropped_full = 4;
	c.am.q.resolves_lost = 1;
	c.am.q.t[0] = (struct cgp_amq_target_stats){.up = true, .posts_ok = 10, .sent_firing = 12, .sent_resolved = 3};
	c.am.q.t[1] = (struct cgp_amq_target_stats){
	    .posts_ok = 8, .posts_failed = 5, .posts_rejected = 1, .retries = 4, .sent_firing = 9, .rejected = 2};
	t = render(m, &c, NULL);
	has_line(t, "# TYPE cgpulse_alertmanager_up gauge");
	has_line(t, "cgpulse_alertmanager_up{alertmanager=\"http://am-0:9093\"} 1");
	has_line(t, "cgpulse_alertmanager_up{alertmanager=\"https://am-1:9093/\\\"x\\\"\"} 0");
	has_line(t, "cgpulse_alertmanager_posts_total{alertmanager=\"http://am-0:9093\",result=\"ok\"} 10");
	has_line(t, "cgpulse_alertmanager_posts_total{alertmanager=\"http://am-0:9093\",result=\"failed\"} 0");
	has_line(t,
		 "cgpulse_alertmanager_posts_total{alertmanager=\"https://am-1:9093/\\\"x\\\"\",result=\"failed\"} 5");
	has_line(
	    t, "cgpulse_alertmanager_posts_total{alertmanager=\"https://am-1:9093/\\\"x\\\"\",result=\"rejected\"} 1");
	has_line(t, "cgpulse_alertmanager_retries_total{alertmanager=\"https://am-1:9093/\\\"x\\\"\"} 4");
	has_line(t, "cgpulse_alertmanager_alerts_sent_total{alertmanager=\"http://am-0:9093\",state=\"firing\"} 12");
	has_line(t, "cgpulse_alertmanager_alerts_sent_total{alertmanager=\"http://am-0:9093\",state=\"resolved\"} 3");
	has_line(t, "cgpulse_alertmanager_alerts_rejected_total{alertmanager=\"https://am-1:9093/\\\"x\\\"\"} 2");
	has_line(t, "cgpulse_alertmanager_alerts_dropped_total 4");
	has_line(t, "cgpulse_alertmanager_resolves_unmatched_total 1");
	has_line(t, "cgpulse_alertmanager_queue_alerts 3");
	has_line(t, "cgpulse_alertmanager_firing_alerts 2");
	free(t);
	c.alertmanager = false;
	t = render(m, &c, NULL);
	assert_null(strstr(t, "cgpulse_alertmanager_"));
	free(t);
	cgp_metrics_free(m);
}

/* Every counter family ends in _total, every family has HELP and TYPE, every name is cgpulse_. */
static void test_naming(void **state)
{
	struct cgp_metrics *m = cgp_metrics_new();
	struct row s = web();
	struct cgp_http_stats hs = {0};
	struct cgp_agent_counters c = {
	    .progs = {{"x", 1, 1}}, .n_progs = 1, .collector = true, .alertmanager = true, .am = {.n_targets = 1}};
	char *t, *line, *save = NULL;
	char help[128] = "", type[128] = "";

	(void)state;
	assert_int_equal(sample(m, &s), 0);
	t = render(m, &c, &hs);
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char name[128], kind[32];

		if (sscanf(line, "# HELP %127s", name) == 1) {
			snprintf(help, sizeof(help), "%s", name);
			continue;
		}
		if (sscanf(line, "# TYPE %127s %31s", name, kind) == 2) {
			assert_string_equal(name, help);
			snprintf(type, sizeof(type), "%s", name);
			if (!strcmp(kind, "counter"))
				assert_string_equal(name + strlen(name) - 6, "_total");
			continue;
		}
		assert_int_equal(strncmp(line, "cgpulse_", 8), 0);
		assert_int_equal(strncmp(line, type, strlen(type)), 0); /* a series of the family just declared */
	}
	free(t);
	cgp_metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgroup_series), cmocka_unit_test(test_order_optional_and_gone),
	    cmocka_unit_test(test_escaping),	  cmocka_unit_test(test_agent_families),
	    cmocka_unit_test(test_naming),	  cmocka_unit_test(test_alertmanager_families),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
