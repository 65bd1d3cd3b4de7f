// SPDX-License-Identifier: GPL-2.0
/* /metrics/cadvisor from synthetic samples: the kubelet's exact label set, a pod's cgroup named by its
 * containers, which cgroups --metrics-cgroups selects, the cap and its counted overflow, and cAdvisor's rules
 * for when a family is written. (promtool and a real Prometheus check the real agent's output in
 * tests/scripts/test_cadvisor.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>

#include "sinks/cadvisor.h"

#define POD_UID "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"

static const struct cgp_attribution container = {
    .path = "/kubepods/burstable/pod" POD_UID "/3f4e5d6c",
    .is_container = true,
    .container_id = "3f4e5d6c",
    .runtime = "containerd",
    .pod = "web-7d9f8",
    .pod_namespace = "shop",
    .container_name = "nginx",
    .image = "docker.io/library/nginx:1.25",
    .pod_uid = POD_UID,
    .qos_class = "burstable",
};

static const struct cgp_attribution pod = {
    .path = "/kubepods/burstable/pod" POD_UID,
    .container_id = "",
    .runtime = "",
    .pod = "",
    .pod_namespace = "",
    .container_name = "",
    .image = "",
    .pod_uid = POD_UID,
    .qos_class = "burstable",
};

static struct cgp_attribution plain(const char *path)
{
	struct cgp_attribution a = cgp_attribution_unknown;

	a.path = path;
	return a;
}

static struct cgp_sample sample(uint64_t id)
{
	struct cgp_sample s = {
	    .cgroup_id = id,
	    .ts_ns = 1700000000500000000ULL,
	    .cpu_ns_total = 5000000000ULL,
	    .has_mem = true,
	    .mem_bytes = 104857600,
	    .mem_limit_bytes = 268435456,
	    .oom_kills = 2,
	    .has_mem_stat = true,
	    .mem_working_set_bytes = 73400320,
	    .mem_anon_bytes = 62914560,
	    .mem_file_bytes = 41943040,
	    .has_cpu_bandwidth = true,
	    .cpu_periods = 1200,
	    .cpu_throttled_periods = 300,
	    .cpu_throttled_ns = 4500000000ULL,
	    .has_cpu_spec = true,
	    .cpu_quota_us = 20000,
	    .cpu_period_us = 100000,
	    .cpu_shares = 204,
	    .has_cpu_user_system = true,
	    .cpu_user_ns = 3000000000ULL,
	    .cpu_system_ns = 1250000000ULL,
	    .has_psi = true,
	    .psi_total_ns = {[CGP_PSI_CPU_SOME] = 1500000000ULL, [CGP_PSI_CPU_FULL] = 250000000ULL},
	};

	return s;
}

static char *render(const struct cgp_cadvisor *c)
{
	struct cgp_buf b = CGP_BUF_INIT;

	assert_int_equal(cgp_cadvisor_render(c, &b), 0);
	return cgp_buf_take_string(&b);
}

static struct cgp_cadvisor *store(enum cgp_cadvisor_select sel, const char *glob, size_t cap)
{
	struct cgp_cadvisor_cfg cfg = {.select = sel, .glob = glob, .max_cgroups = cap};
	struct cgp_cadvisor *c = cgp_cadvisor_new(&cfg);

	assert_non_null(c);
	return c;
}

#define C_LABELS                                                                                                       \
	"container=\"nginx\",id=\"/kubepods/burstable/pod" POD_UID                                                     \
	"/3f4e5d6c\",image=\"docker.io/library/nginx:1.25\","                                                          \
	"name=\"3f4e5d6c\",namespace=\"shop\",pod=\"web-7d9f8\""

static void test_container_series(void **state)
{
	struct cgp_cadvisor *c = store(CGP_CADVISOR_CONTAINERS, NULL, 0);
	struct cgp_sample s = sample(100);
	char *t;

	(void)state;
	assert_int_equal(cgp_cadvisor_sample(c, &s, &container, 1699999000250000000ULL), 0);
	t = render(c);
	/* usage is cpu.stat's (user + system), not cgpulse's own total since it first saw the cgroup */
	assert_non_null(strstr(t, "# TYPE container_cpu_usage_seconds_total counter\n"
				  "container_cpu_usage_seconds_total{" C_LABELS ",cpu=\"total\"} 4.25\n"));
	assert_non_null(strstr(t, "container_cpu_user_seconds_total{" C_LABELS "} 3\n"));
	assert_non_null(strstr(t, "container_cpu_system_seconds_total{" C_LABELS "} 1.25\n"));
	assert_non_null(strstr(t, "container_cpu_cfs_periods_total{" C_LABELS "} 1200\n"));
	assert_non_null(strstr(t, "container_cpu_cfs_throttled_periods_total{" C_LABELS "} 300\n"));
	assert_non_null(strstr(t, "container_cpu_cfs_throttled_seconds_total{" C_LABELS "} 4.5\n"));
	assert_non_null(strstr(t, "container_memory_working_set_bytes{" C_LABELS "} 73400320\n"));
	assert_non_null(strstr(t, "container_memory_rss{" C_LABELS "} 62914560\n"));
	assert_non_null(strstr(t, "container_memory_cache{" C_LABELS "} 41943040\n"));
	assert_non_null(strstr(t, "container_memory_usage_bytes{" C_LABELS "} 104857600\n"));
	assert_non_null(strstr(t, "container_oom_events_total{" C_LABELS "} 2\n"));
	assert_non_null(strstr(t, "container_spec_cpu_quota{" C_LABELS "} 20000\n"));
	assert_non_null(strstr(t, "container_spec_cpu_period{" C_LABELS "} 100000\n"));
	assert_non_null(strstr(t, "container_spec_cpu_shares{" C_LABELS "} 204\n"));
	assert_non_null(strstr(t, "container_spec_memory_limit_bytes{" C_LABELS "} 268435456\n"));
	assert_non_null(strstr(t, "container_pressure_cpu_waiting_seconds_total{" C_LABELS "} 1.5\n"));
	assert_non_null(strstr(t, "container_pressure_cpu_stalled_seconds_total{" C_LABELS "} 0.25\n"));
	assert_non_null(strstr(t, "container_start_time_seconds{" C_LABELS "} 1699999000.25\n"));
	assert_non_null(strstr(t, "container_last_seen{" C_LABELS "} 1700000000.5\n"));
	assert_null(strstr(t, "container_memory_swap")); /* swap not accounted: absent, not 0 */
	free(t);
	cgp_cadvisor_free(c);
}

static void test_peak_and_limits(void **state)
{
	struct cgp_cadvisor *c = store(CGP_CADVISOR_CONTAINERS, NULL, 0);
	struct cgp_sample s = sample(100);
	char *t;

	(void)state;
	assert_int_equal(cgp_cadvisor_sample(c, &s, &container, 1), 0);
	s.mem_bytes = 1000;
	s.mem_limit_bytes = 0x7FFFFFFFFFFFF000ULL; /* v1's "unlimited" */
	s.cpu_quota_us = 0;			   /* no quota: no bandwidth families, as cAdvisor */
	assert_int_equal(cgp_cadvisor_sample(c, &s, &container, 1), 0);
	t = render(c);
	assert_non_null(strstr(t, "container_memory_max_usage_bytes{" C_LABELS "} 104857600\n"));
	assert_non_null(strstr(t, "container_memory_usage_bytes{" C_LABELS "} 1000\n"));
	assert_non_null(strstr(t, "container_spec_memory_limit_bytes{" C_LABELS "} 0\n"));
	assert_null(strstr(t, "container_cpu_cfs_"));
	assert_null(strstr(t, "container_spec_cpu_quota"));
	assert_non_null(strstr(t, "container_spec_cpu_period{"));
	free(t);
	cgp_cadvisor_free(c);
}

/* Default selection: the container, its pod's cgroup (container="", named by its container) and the root. */
static void test_selection(void **state)
{
	struct cgp_attribution root = plain("/"), svc = plain("/system.slice/cron.service"),
			       user = plain("/user.slice/user-0.slice");
	struct cgp_sample s;
	struct cgp_cadvisor *c[3] = {store(CGP_CADVISOR_CONTAINERS, NULL, 0), store(CGP_CADVISOR_ALL, NULL, 0),
				     store(CGP_CADVISOR_GLOB, "/system.slice/*", 0)};
	char *t;

	(void)state;
	for (int i = 0; i < 3; i++) {
		s = sample(1);
		assert_int_equal(cgp_cadvisor_sample(c[i], &s, &root, 1), 0);
		s = sample(2);
		assert_int_equal(cgp_cadvisor_sample(c[i], &s, &svc, 1), 0);
		s = sample(3);
		assert_int_equal(cgp_cadvisor_sample(c[i], &s, &user, 1), 0);
		s = sample(100);
		assert_int_equal(cgp_cadvisor_sample(c[i], &s, &container, 1), 0);
		s = sample(50); /* the pod's cgroup: named after its container was seen */
		assert_int_equal(cgp_cadvisor_sample(c[i], &s, &pod, 1), 0);
		t = render(c[i]);
		assert_non_null(strstr(t, "container_memory_usage_bytes{container=\"\",id=\"/\",image=\"\",name=\"\","
					  "namespace=\"\",pod=\"\"} 104857600\n"));
		assert_non_null(strstr(t,
				       "container_memory_usage_bytes{container=\"\",id=\"/kubepods/burstable/"
				       "pod" POD_UID "\",image=\"\",name=\"\",namespace=\"shop\",pod=\"web-7d9f8\"} "));
		assert_non_null(strstr(t, "container_memory_usage_bytes{" C_LABELS "} "));
		assert_true((strstr(t, "id=\"/system.slice/cron.service\"") != NULL) == (i != 0));
		assert_true((strstr(t, "id=\"/user.slice/user-0.slice\"") != NULL) == (i == 1));
		free(t);
		cgp_cadvisor_gone(c[i], 100);
		cgp_cadvisor_gone(c[i], 50);
		t = render(c[i]);
		assert_null(strstr(t, "kubepods"));
		free(t);
		cgp_cadvisor_free(c[i]);
	}
}

/* Runtimes write their state after making the cgroup: a pod's cgroup is named once its container is. */
static void test_pod_named_late(void **state)
{
	struct cgp_cadvisor *c = store(CGP_CADVISOR_CONTAINERS, NULL, 0);
	struct cgp_attribution early = container;
	struct cgp_sample s;
	char *t;

	(void)state;
	early.pod = early.pod_namespace = early.container_name = early.image = "";
	s = sample(100);
	assert_int_equal(cgp_cadvisor_sample(c, &s, &early, 1), 0);
	s = sample(50);
	assert_int_equal(cgp_cadvisor_sample(c, &s, &pod, 1), 0);
	t = render(c);
	assert_non_null(strstr(t, "pod" POD_UID "\",image=\"\",name=\"\",namespace=\"\",pod=\"\"} "));
	free(t);
	s = sample(100);
	assert_int_equal(cgp_cadvisor_sample(c, &s, &container, 1), 0);
	s = sample(50);
	assert_int_equal(cgp_cadvisor_sample(c, &s, &pod, 1), 0);
	t = render(c);
	assert_non_null(strstr(t, "pod" POD_UID "\",image=\"\",name=\"\",namespace=\"shop\",pod=\"web-7d9f8\"} "));
	assert_non_null(strstr(t, "container_memory_usage_bytes{" C_LABELS "} "));
	free(t);
	cgp_cadvisor_free(c);
}

static size_t count(const char *t, const char *needle)
{
	size_t n = 0;

	for (const char *p = t; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

static void test_cap(void **state)
{
	struct cgp_cadvisor *c = store(CGP_CADVISOR_ALL, NULL, 3);
	struct cgp_cadvisor_stats st;
	struct cgp_attribution a[5];
	char paths[5][32];
	struct cgp_sample s;
	char *t;

	(void)state;
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 5; i++) {
			snprintf(paths[i], sizeof(paths[i]), "/cgpulse-test-%d", i);
			a[i] = plain(paths[i]);
			s = sample(10 + (uint64_t)i);
			assert_int_equal(cgp_cadvisor_sample(c, &s, &a[i], 1), 0);
		}
	t = render(c);
	assert_int_equal(count(t, "container_memory_usage_bytes{"), 3);
	assert_null(strstr(t, "cgpulse-test-3"));
	free(t);
	cgp_cadvisor_get_stats(c, &st);
	assert_int_equal(st.cgroups, 3);
	assert_int_equal(st.over_cap, 2);
	assert_int_equal(st.refused_total, 2); /* once per cgroup, not per sample */
	cgp_cadvisor_gone(c, 11);
	s = sample(13);
	assert_int_equal(cgp_cadvisor_sample(c, &s, &a[3], 1), 0);
	cgp_cadvisor_get_stats(c, &st);
	assert_int_equal(st.cgroups, 3);
	assert_int_equal(st.over_cap, 1);
	assert_int_equal(st.refused_total, 2);
	t = render(c);
	assert_non_null(strstr(t, "cgpulse-test-3"));
	free(t);
	cgp_cadvisor_free(c);
}

static void test_parse_select(void **state)
{
	struct cgp_cadvisor_cfg cfg = {0};
	char why[256];

	(void)state;
	assert_int_equal(cgp_cadvisor_parse_select("all", &cfg, why, sizeof(why)), 0);
	assert_int_equal(cfg.select, CGP_CADVISOR_ALL);
	assert_int_equal(cgp_cadvisor_parse_select("containers", &cfg, why, sizeof(why)), 0);
	assert_int_equal(cfg.select, CGP_CADVISOR_CONTAINERS);
	assert_int_equal(cgp_cadvisor_parse_select("/system.slice/*", &cfg, why, sizeof(why)), 0);
	assert_int_equal(cfg.select, CGP_CADVISOR_GLOB);
	assert_string_equal(cfg.glob, "/system.slice/*");
	assert_int_equal(cgp_cadvisor_parse_select("pods", &cfg, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "'pods'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_container_series), cmocka_unit_test(test_peak_and_limits),
	    cmocka_unit_test(test_selection),	     cmocka_unit_test(test_cap),
	    cmocka_unit_test(test_parse_select),     cmocka_unit_test(test_pod_named_late),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
