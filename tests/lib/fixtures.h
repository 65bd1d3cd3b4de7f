/* SPDX-License-Identifier: GPL-2.0 */
/* The events the encoding tests use, with the values tests/scripts/test_proto_roundtrip.sh expects of
 * tools/cgpulse-encode-samples: one definition, so the C tests and the independent decoder check the same. */
#ifndef CGP_FIXTURES_H
#define CGP_FIXTURES_H

#include "collect/sample.h"
#include "names/attribution.h"
#include "playbook/alert.h"

#define FX_WEB "/kubepods.slice/kubepods-burstable.slice/web.scope"

/* a container's cgroup, at path */
static inline struct cgp_attribution fx_attribution(const char *path)
{
	return (struct cgp_attribution){
	    .path = path,
	    .is_container = true,
	    .container_id = "3f4e5d6c7b8a99887766554433221100ffeeddccbbaa99887766554433221100",
	    .runtime = "containerd",
	    .pod = "web-7d9f8-abcde",
	    .pod_namespace = "shop",
	    .container_name = "nginx",
	    .image = "registry.example/shop/nginx:1.25",
	    .pod_uid = "0b6e9a52-7c1d-4e3f-9a8b-1c2d3e4f5a6b",
	    .qos_class = "burstable",
	};
}

static inline struct cgp_sample fx_sample(void)
{
	return (struct cgp_sample){
	    .cgroup_id = 4026531835ull,
	    .ts_ns = 1700000000123456789ull,
	    .window_s = 1.0,
	    .cpu_ns_total = 987654321012ull,
	    .cpu_ns_window = 750000000,
	    .cpu_cores = 0.75,
	    .voluntary_switches = 1000,
	    .involuntary_switches = 20,
	    .runq_waits_window = 321,
	    .runq_p50_us = 3.5,
	    .runq_p99_us = 812.25,
	    .has_mem = true,
	    .mem_bytes = 104857600,
	    .mem_limit_bytes = 268435456,
	    .oom_kills = 2,
	    .reclaim_ns_total = 5555,
	    .reclaims_total = 7,
	    .runq_hist_window = {100, 0, 5, 200, 0, 0, 0, 0, 0, 0, 21},
	    .has_mem_stat = true,
	    .mem_working_set_bytes = 73400320,
	    .mem_inactive_file_bytes = 31457280,
	    .mem_anon_bytes = 62914560,
	    .mem_file_bytes = 41943040,
	    .has_swap = true,
	    .mem_swap_bytes = 4096,
	    .has_mem_events = true,
	    .mem_events_max = 17,
	    .mem_events_oom = 3,
	    .has_mem_events_high = true,
	    .mem_events_high = 5,
	    .has_mem_events_oom_group_kill = false, /* an older kernel's: absent */
	    .has_cpu_bandwidth = true,
	    .cpu_periods = 1200,
	    .cpu_throttled_periods = 300,
	    .cpu_throttled_ns = 4500000000ull,
	    .cpu_periods_window = 10,
	    .cpu_throttled_periods_window = 6,
	    .cpu_throttled_ns_window = 120000000,
	    .has_cpu_user_system = true,
	    .cpu_user_ns = 900000000000ull,
	    .cpu_system_ns = 87654321012ull,
	    .has_psi = true,
	    .psi_total_ns = {[CGP_PSI_CPU_SOME] = 11000,
			     [CGP_PSI_CPU_FULL] = 22000,
			     [CGP_PSI_MEM_SOME] = 33000,
			     [CGP_PSI_MEM_FULL] = 44000,
			     [CGP_PSI_IO_SOME] = 55000,
			     [CGP_PSI_IO_FULL] = 66000},
	    /* the playbook metrics as collect/measure.c gave them */
	    .m = {[CGP_METRIC_MEM_WORKING_SET_PCT] = {.known = true, .value = 27.34375},
		  [CGP_METRIC_CPU_THROTTLED_PCT] = {.known = true, .value = 60.0},
		  [CGP_METRIC_PSI_CPU_SOME_PCT] = {.known = true, .value = 12.5},
		  [CGP_METRIC_PSI_MEMORY_SOME_PCT] = {.known = true, .value = 3.25},
		  [CGP_METRIC_PSI_MEMORY_FULL_PCT] = {.known = true, .value = 1.5},
		  [CGP_METRIC_PSI_IO_SOME_PCT] = {.known = false, .value = 99.0}}, /* not known: sent as 0 */
	};
}

static inline struct cgp_oom_event fx_oom(void)
{
	struct cgp_oom_event o = {
	    .ts_ns = 1700000002000000000ull,
	    .cgroup_id = 4026531900ull,
	    .memcg_id = 31,
	    .pid = 4242,
	    .tgid = 4240,
	    .rss_anon_bytes = 20971520,
	    .rss_file_bytes = 4096,
	    .rss_shmem_bytes = 8192,
	    .pgtables_bytes = 65536,
	    .oom_score_adj = -999,
	};

	__builtin_memcpy(o.comm, "stress-ng-vm-wk", 16); /* 15 characters and the NUL */
	return o;
}

static inline struct cgp_alert fx_alert(void)
{
	return (struct cgp_alert){
	    .ts_ns = 1700000300000000000ull,
	    .cgroup_id = 4026531835ull,
	    .path = FX_WEB,
	    .rule = "cpu_critical",
	    .severity = CGP_SEV_CRITICAL,
	    .state = CGP_ALERT_FIRING,
	    .metric = "cpu_pct",
	    .value = 97.5,
	    .threshold = 95,
	    .held_ns = 300000000000ull,
	    .limit = 1.0,
	    .limit_kind = CGP_LIMIT_CGROUP,
	    .evidence = {96.0, 97.0, 97.5},
	    .evidence_len = 3,
	    .action = "scale up CPU (limit 1.0 -> 2.0) or scale out",
	    .runbook = "https://runbooks.example/cpu",
	    .recommended_limit = 2.0,
	    .reason = "threshold",
	};
}

#endif
