// SPDX-License-Identifier: GPL-2.0
/* Every event type: agent struct → build → pack → protobuf-c unpack → the same figures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_encode.h"
#include "fixtures.h"

static const struct cgp_event_meta meta = {.node = "node-a", .instance_id = "0123456789abcdef", .seq = 42};
static const char *const CTR_PATH = "/kubepods/burstable/pod0b6e9a52/3f4e5d6c";

/* a container's cgroup at path (the fixture's container) */
static struct cgp_attribution attr_at(const char *path)
{
	return fx_attribution(path);
}

static struct cgp_attribution nobody(const char *path)
{
	struct cgp_attribution a = cgp_attribution_unknown;

	a.path = path;
	return a;
}

/* Packs the built event and unpacks it again with protobuf-c. */
static Cgpulse__V1__Event *roundtrip(const struct cgp_event_build *b)
{
	struct cgp_buf out = CGP_BUF_INIT;
	Cgpulse__V1__Event *ev;

	assert_int_equal(cgp_event_pack(b, &out), 0);
	assert_int_equal(cgp_buf_size(&out), cgpulse__v1__event__get_packed_size(&b->ev));
	ev = cgpulse__v1__event__unpack(NULL, cgp_buf_size(&out), cgp_buf_head(&out));
	assert_non_null(ev);
	cgp_buf_free(&out);
	assert_string_equal(ev->node, "node-a");
	assert_string_equal(ev->instance_id, "0123456789abcdef");
	return ev;
}

/* All eight fields, in the one Attribution record and in the flat fields older consumers read. */
#define ASSERT_EIGHT(m)                                                                                                \
	do {                                                                                                           \
		assert_string_equal((m)->container_id,                                                                 \
				    "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa99887766554433221100");               \
		assert_string_equal((m)->runtime, "containerd");                                                       \
		assert_string_equal((m)->pod, "web-7d9f8-abcde");                                                      \
		assert_string_equal((m)->namespace_, "shop");                                                          \
		assert_string_equal((m)->container_name, "nginx");                                                     \
		assert_string_equal((m)->image, "registry.example/shop/nginx:1.25");                                   \
		assert_string_equal((m)->pod_uid, "0b6e9a52-7c1d-4e3f-9a8b-1c2d3e4f5a6b");                             \
		assert_string_equal((m)->qos_class, "burstable");                                                      \
	} while (0)
#define ASSERT_ATTRIBUTION(m)                                                                                          \
	do {                                                                                                           \
		assert_non_null((m)->attribution);                                                                     \
		ASSERT_EIGHT((m)->attribution);                                                                        \
		ASSERT_EIGHT(m);                                                                                       \
	} while (0)

static void test_sample(void **state)
{
	struct cgp_sample s = fx_sample();
	struct cgp_event_build b;
	struct cgp_attribution none = nobody("/system.slice/cron.service"), ctr = attr_at(CTR_PATH);
	Cgpulse__V1__Event *ev;

	(void)state;
	cgp_event_build_sample(&b, &meta, &s, &ctr);
	assert_true(cgp_event_is_sample(&b.ev));
	ev = roundtrip(&b);
	assert_int_equal(ev->seq, 42);
	assert_true(ev->ts_ns == s.ts_ns);
	assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_SAMPLE);
	Cgpulse__V1__Sample *p = ev->sample;

	assert_int_equal(p->cgroup_id, 4026531835ull);
	assert_string_equal(p->path, CTR_PATH);
	assert_true(p->window_s == 1.0);
	assert_true(p->cpu_ns_total == s.cpu_ns_total);
	assert_int_equal(p->cpu_ns_window, 750000000);
	assert_true(p->cpu_cores == 0.75);
	assert_int_equal(p->voluntary_switches, 1000);
	assert_int_equal(p->involuntary_switches, 20);
	assert_int_equal(p->runq_waits_window, 321);
	assert_true(p->runq_p50_us == 3.5);
	assert_true(p->runq_p99_us == 812.25);
	assert_true(p->has_mem);
	assert_int_equal(p->mem_bytes, 104857600);
	assert_int_equal(p->mem_limit_bytes, 268435456);
	assert_int_equal(p->oom_kills, 2);
	assert_int_equal(p->reclaim_ns_total, 5555);
	assert_int_equal(p->reclaims_total, 7);
	assert_true(p->has_mem_stat);
	assert_int_equal(p->mem_working_set_bytes, 73400320);
	assert_int_equal(p->mem_inactive_file_bytes, 31457280);
	assert_int_equal(p->mem_anon_bytes, 62914560);
	assert_int_equal(p->mem_file_bytes, 41943040);
	assert_true(p->has_swap);
	assert_int_equal(p->mem_swap_bytes, 4096);
	assert_true(p->has_mem_events);
	assert_int_equal(p->mem_events_max, 17);
	assert_int_equal(p->mem_events_oom, 3);
	assert_true(p->has_mem_events_high);
	assert_int_equal(p->mem_events_high, 5);
	assert_false(p->has_mem_events_oom_group_kill);
	assert_true(p->has_cpu_bandwidth);
	assert_int_equal(p->cpu_periods, 1200);
	assert_int_equal(p->cpu_throttled_periods, 300);
	assert_int_equal(p->cpu_throttled_ns, 4500000000ull);
	assert_int_equal(p->cpu_periods_window, 10);
	assert_int_equal(p->cpu_throttled_periods_window, 6);
	assert_int_equal(p->cpu_throttled_ns_window, 120000000);
	assert_true(p->has_cpu_user_system);
	assert_int_equal(p->cpu_user_ns, 900000000000ull);
	assert_int_equal(p->cpu_system_ns, 87654321012ull);
	assert_true(p->has_psi);
	assert_int_equal(p->psi_cpu_some_ns, 11000);
	assert_int_equal(p->psi_cpu_full_ns, 22000);
	assert_int_equal(p->psi_memory_some_ns, 33000);
	assert_int_equal(p->psi_memory_full_ns, 44000);
	assert_int_equal(p->psi_io_some_ns, 55000);
	assert_int_equal(p->psi_io_full_ns, 66000);
	assert_true(p->has_kernel_windows);
	assert_true(p->mem_working_set_pct == 27.34375);
	assert_true(p->cpu_throttled_pct == 60.0);
	assert_true(p->psi_cpu_some_pct == 12.5);
	assert_true(p->psi_memory_some_pct == 3.25);
	assert_true(p->psi_memory_full_pct == 1.5);
	assert_true(p->psi_io_some_pct == 0); /* a metric not known goes out as nothing */
	/* trailing empty slots are left out */
	assert_int_equal(p->n_runq_hist_window, 11);
	assert_int_equal(p->runq_hist_window[0], 100);
	assert_int_equal(p->runq_hist_window[2], 5);
	assert_int_equal(p->runq_hist_window[3], 200);
	assert_int_equal(p->runq_hist_window[10], 21);
	ASSERT_ATTRIBUTION(p);
	cgpulse__v1__event__free_unpacked(ev, NULL);

	/* no memory figures, no attribution, no waits; a figure under a false flag goes out as nothing */
	s.has_mem = false;
	s.has_mem_stat = s.has_swap = s.has_mem_events = s.has_mem_events_high = false;
	memset(s.runq_hist_window, 0, sizeof(s.runq_hist_window));
	cgp_event_build_sample(&b, &meta, &s, &none);
	ev = roundtrip(&b);
	assert_false(ev->sample->has_mem);
	assert_int_equal(ev->sample->mem_bytes, 0);
	assert_false(ev->sample->has_mem_stat);
	assert_int_equal(ev->sample->mem_working_set_bytes, 0);
	assert_int_equal(ev->sample->mem_swap_bytes, 0);
	assert_int_equal(ev->sample->mem_events_max, 0);
	assert_int_equal(ev->sample->n_runq_hist_window, 0);
	assert_string_equal(ev->sample->path, "/system.slice/cron.service");
	assert_string_equal(ev->sample->container_id, "");
	assert_null(ev->sample->attribution); /* nobody's container, no pod's */
	cgpulse__v1__event__free_unpacked(ev, NULL);
}

static void test_oom_kill(void **state)
{
	struct cgp_oom_event o = {
	    .ts_ns = 1700000000999999999ull,
	    .cgroup_id = 777,
	    .memcg_id = 31,
	    .pid = 4242,
	    .tgid = 4240,
	    .rss_anon_bytes = 1 << 20,
	    .rss_file_bytes = 2 << 20,
	    .rss_shmem_bytes = 3 << 20,
	    .pgtables_bytes = 4096,
	    .oom_score_adj = -999,
	};
	struct cgp_event_build b;
	struct cgp_attribution at = attr_at("/test/oom");
	Cgpulse__V1__Event *ev;

	(void)state;
	/* all 16 bytes used, no NUL: the kernel's comm need not be terminated */
	memcpy(o.comm, "0123456789abcdef", 16);
	cgp_event_build_oom_kill(&b, &meta, &o, &at);
	assert_false(cgp_event_is_sample(&b.ev));
	ev = roundtrip(&b);
	assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_OOM_KILL);
	assert_true(ev->ts_ns == o.ts_ns);
	Cgpulse__V1__OomKill *p = ev->oom_kill;

	assert_int_equal(p->cgroup_id, 777);
	assert_string_equal(p->path, "/test/oom");
	assert_int_equal(p->memcg_id, 31);
	assert_int_equal(p->pid, 4242);
	assert_int_equal(p->tgid, 4240);
	assert_string_equal(p->comm, "0123456789abcdef");
	assert_int_equal(p->rss_anon_bytes, 1 << 20);
	assert_int_equal(p->rss_file_bytes, 2 << 20);
	assert_int_equal(p->rss_shmem_bytes, 3 << 20);
	assert_int_equal(p->pgtables_bytes, 4096);
	assert_int_equal(p->oom_score_adj, -999);
	ASSERT_ATTRIBUTION(p);
	cgpulse__v1__event__free_unpacked(ev, NULL);
}

static void test_alert(void **state)
{
	struct cgp_alert a = fx_alert();
	struct cgp_event_build b;
	struct cgp_attribution at = attr_at(FX_WEB);
	Cgpulse__V1__Event *ev;

	(void)state;
	cgp_event_build_alert(&b, &meta, &a, &at);
	ev = roundtrip(&b);
	assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_ALERT);
	assert_true(ev->ts_ns == a.ts_ns);
	Cgpulse__V1__Alert *p = ev->alert;

	assert_int_equal(p->cgroup_id, 4026531835ull);
	assert_string_equal(p->path, FX_WEB);
	assert_string_equal(p->rule, "cpu_critical");
	assert_int_equal(p->severity, CGPULSE__V1__SEVERITY__SEVERITY_CRITICAL);
	assert_int_equal(p->state, CGPULSE__V1__ALERT_STATE__ALERT_STATE_FIRING);
	assert_string_equal(p->metric, "cpu_pct");
	assert_true(p->value == 97.5);
	assert_true(p->threshold == 95);
	assert_true(p->held_ns == 300000000000ull);
	assert_true(p->limit == 1.0);
	assert_int_equal(p->limit_kind, CGPULSE__V1__LIMIT_KIND__LIMIT_KIND_CGROUP);
	assert_int_equal(p->n_evidence, 3);
	assert_true(p->evidence[2] == 97.5);
	assert_string_equal(p->action, "scale up CPU (limit 1.0 -> 2.0) or scale out");
	assert_string_equal(p->runbook, "https://runbooks.example/cpu");
	assert_true(p->recommended_limit == 2.0);
	assert_string_equal(p->reason, "threshold");
	ASSERT_ATTRIBUTION(p);
	cgpulse__v1__event__free_unpacked(ev, NULL);

	/* the C enums and the proto enums must keep the same numbers */
	assert_int_equal(CGP_SEV_WARNING, CGPULSE__V1__SEVERITY__SEVERITY_WARNING);
	assert_int_equal(CGP_ALERT_RESOLVED, CGPULSE__V1__ALERT_STATE__ALERT_STATE_RESOLVED);
	assert_int_equal(CGP_LIMIT_NODE, CGPULSE__V1__LIMIT_KIND__LIMIT_KIND_NODE);
}

static void test_cgroup_gap_dropped(void **state)
{
	struct cgp_spool_drops d = {.samples = 10, .others = 1, .first_seq = 5, .last_seq = 20};
	struct cgp_attribution at = attr_at("/a/b");
	struct cgp_event_build b;
	struct cgp_buf gap = CGP_BUF_INIT;
	Cgpulse__V1__Event *ev;

	(void)state;
	cgp_event_build_cgroup(&b, &meta, true, 111, 5, &at);
	ev = roundtrip(&b);
	assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_CGROUP_STARTED);
	assert_int_equal(ev->ts_ns, 111);
	assert_int_equal(ev->cgroup_started->cgroup_id, 5);
	assert_string_equal(ev->cgroup_started->path, "/a/b");
	ASSERT_ATTRIBUTION(ev->cgroup_started);
	cgpulse__v1__event__free_unpacked(ev, NULL);

	cgp_event_build_cgroup(&b, &meta, false, 222, 5, &at);
	ev = roundtrip(&b);
	assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_CGROUP_STOPPED);
	assert_int_equal(ev->ts_ns, 222);
	assert_int_equal(ev->cgroup_stopped->cgroup_id, 5);
	ASSERT_ATTRIBUTION(ev->cgroup_stopped);
	cgpulse__v1__event__free_unpacked(ev, NULL);

	assert_int_equal(cgp_event_encode_gap("node-a", "0123456789abcdef", 333, 100, 149, &gap), 0);
	ev = cgpulse__v1__event__unpack(NULL, cgp_buf_size(&gap), cgp_buf_head(&gap));
	cgp_buf_free(&gap);
	assert_non_null(ev);
	assert_string_equal(ev->node, "node-a");
	assert_int_equal(ev->ts_ns, 333);
	assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_GAP);
	assert_int_equal(ev->seq, 0); /* outside the sequence */
	assert_int_equal(ev->gap->first_missed_seq, 100);
	assert_int_equal(ev->gap->last_missed_seq, 149);
	assert_int_equal(ev->gap->missed, 50);
	cgpulse__v1__event__free_unpacked(ev, NULL);

	cgp_event_build_dropped(&b, &meta, 444, &d);
	ev = roundtrip(&b);
	assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_DROPPED);
	assert_int_equal(ev->seq, 42);
	assert_int_equal(ev->dropped->samples_dropped, 10);
	assert_int_equal(ev->dropped->others_dropped, 1);
	assert_int_equal(ev->dropped->first_dropped_seq, 5);
	assert_int_equal(ev->dropped->last_dropped_seq, 20);
	assert_string_equal(ev->dropped->reason, "spool_full");
	cgpulse__v1__event__free_unpacked(ev, NULL);
}

/* proto3 strings must be UTF-8: a comm or path of arbitrary bytes is sanitized, valid text is kept as is. */
static void test_invalid_utf8(void **state)
{
	struct cgp_oom_event o = {0};
	struct cgp_attribution at = nobody("/bad\xff\xfe/p\xc3\xa9");
	struct cgp_event_build b;
	Cgpulse__V1__Event *ev;

	(void)state;
	memcpy(o.comm, "x\x80y\xe2\x82\xac", 7);
	cgp_event_build_oom_kill(&b, &meta, &o, &at);
	ev = roundtrip(&b);
	assert_string_equal(ev->oom_kill->path, "/bad?"
						"?/p\xc3\xa9");
	assert_string_equal(ev->oom_kill->comm, "x?y\xe2\x82\xac");
	cgpulse__v1__event__free_unpacked(ev, NULL);
}

/* What the loader attached and skipped, by name and reason, as the first event of an instance. */
static void test_agent_started(void **state)
{
	struct cgp_bpf bpf = {.n_attached = 2, .n_skipped = 1, .max_cgroups = 8192};
	struct cgp_event_build b;
	Cgpulse__V1__Event *ev;

	(void)state;
	bpf.attached[0] = "cgp_switch";
	bpf.attached[1] = "cgp_oom_victim";
	bpf.skipped[0] = (struct cgp_prog_skip){"cgp_reclaim_in/out", "no vmscan memcg reclaim tracepoints"};
	bpf.fs.hybrid = true;
	cgp_event_build_agent_started(&b, &meta, 555, "1.2.3", "6.18.0", &bpf, NULL);
	ev = roundtrip(&b);
	assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_AGENT_STARTED);
	assert_string_equal(ev->agent_started->version, "1.2.3");
	assert_string_equal(ev->agent_started->cgroup_mode, "hybrid");
	assert_int_equal(ev->agent_started->n_programs_attached, 2);
	assert_string_equal(ev->agent_started->programs_attached[1], "cgp_oom_victim");
	assert_int_equal(ev->agent_started->n_programs_skipped, 1);
	assert_string_equal(ev->agent_started->programs_skipped[0],
			    "cgp_reclaim_in/out: no vmscan memcg reclaim tracepoints");
	assert_int_equal(ev->agent_started->max_cgroups, 8192);
	cgpulse__v1__event__free_unpacked(ev, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sample),	 cmocka_unit_test(test_oom_kill),
	    cmocka_unit_test(test_alert),	 cmocka_unit_test(test_cgroup_gap_dropped),
	    cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_agent_started),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
