/* SPDX-License-Identifier: GPL-2.0 */
/* What collection hands up the stream: one cgroup's figures for one interval, and one OOM kill. Figures only:
 * who the cgroup is (path, container, pod) is the names stage's record (names/attribution.h), carried beside
 * it. Pure data, no I/O. */
#ifndef CGP_SAMPLE_H
#define CGP_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "cgpulse.h" /* CGP_RUNQ_SLOTS */
#include "collect/measure.h"

struct cgp_sample {
	uint64_t cgroup_id; /* cgroup v2 id (inode number of the cgroup2 directory) */
	uint64_t ts_ns;	    /* wall clock (CLOCK_REALTIME) at the end of the window */
	double window_s;    /* length of the window this sample covers */
	bool first_window;  /* the cgroup's first sweep: windows of the kernel's own totals (throttling, PSI) are 0 */
	uint64_t cpu_ns_total;			   /* on-CPU time since the cgroup's first event after attach */
	uint64_t cpu_ns_window;			   /* on-CPU time within the window */
	double cpu_cores;			   /* cpu_ns_window / window: 1.0 = one CPU busy */
	uint64_t voluntary_switches;		   /* totals */
	uint64_t involuntary_switches;		   /* totals */
	uint64_t runq_waits_window;		   /* run-queue waits ended in the window */
	uint64_t runq_hist_window[CGP_RUNQ_SLOTS]; /* slot i: wait in [2^(i-1), 2^i) us; slot 0: < 1 us */
	double runq_p50_us, runq_p99_us;	   /* from the window's histogram; 0 when no waits */
	bool has_mem;				   /* memory figures known for this cgroup */
	uint64_t mem_bytes;			   /* memory.current / memory.usage_in_bytes */
	uint64_t mem_limit_bytes;		   /* memory.max / memory.limit_in_bytes; 0 = no limit */
	uint64_t oom_kills;			   /* the kernel's own count (memory.events oom_kill) */
	uint64_t reclaim_ns_total;		   /* time tasks of this cgroup spent in memcg reclaim */
	uint64_t reclaims_total;
	uint64_t oom_kills_window; /* growth of oom_kills within the window (playbook oom_kills rules) */
	double cpu_limit_cores;	   /* CFS quota ÷ period (cpu.max); 0 = no limit */
	/* Memory beyond usage. Each group is present only where its has_ flag says so: a v1 hierarchy, an older
	 * kernel or an unaccounted swap leaves it absent, never a made-up 0. Bytes; counters are totals. */
	bool has_mem_stat;		    /* memory.stat figures below (needs has_mem) */
	uint64_t mem_working_set_bytes;	    /* mem_bytes - inactive_file, floored at 0 (as the kubelet judges) */
	uint64_t mem_inactive_file_bytes;   /* memory.stat inactive_file (v1 total_inactive_file) */
	uint64_t mem_anon_bytes;	    /* memory.stat anon (v1 total_rss) */
	uint64_t mem_file_bytes;	    /* memory.stat file: page cache (v1 total_cache) */
	bool has_swap;			    /* swap accounting on (v2 memory.swap.*, v1 memory.memsw.*) */
	uint64_t mem_swap_bytes;	    /* memory.swap.current; v1 memory.memsw.usage - memory.usage */
	bool has_mem_events;		    /* memory.events max and oom (oom_kill is oom_kills above) */
	uint64_t mem_events_max;	    /* a charge hit the limit */
	uint64_t mem_events_oom;	    /* the OOM killer was invoked */
	bool has_mem_events_high;	    /* v2 only: v1 has no memory.high */
	uint64_t mem_events_high;	    /* usage went over memory.high (reclaim was forced) */
	bool has_mem_events_oom_group_kill; /* v2 on kernels since 5.16 */
	uint64_t mem_events_oom_group_kill; /* the whole cgroup was OOM-killed (memory.oom.group) */
	/* CPU bandwidth (cpu.stat), where the cpu controller is on the cgroup */
	bool has_cpu_bandwidth;
	uint64_t cpu_periods;		/* nr_periods: CFS periods with the cgroup runnable under a quota, total */
	uint64_t cpu_throttled_periods; /* nr_throttled: periods in which it hit its quota, total */
	uint64_t cpu_throttled_ns;	/* throttled_time: time its runnable tasks were held back, total */
	uint64_t cpu_periods_window;	/* growth of cpu_periods within the window */
	uint64_t cpu_throttled_periods_window; /* growth of cpu_throttled_periods within the window */
	uint64_t cpu_throttled_ns_window;      /* growth of cpu_throttled_ns within the window */
	/* user and system time as cpu.stat has them (not for the root cgroup: its cpu.stat is the system's) */
	bool has_cpu_user_system;
	uint64_t cpu_user_ns;	/* cpu.stat user_usec, as ns, total since the cgroup was made */
	uint64_t cpu_system_ns; /* cpu.stat system_usec, as ns, total since the cgroup was made */
	/* PSI (cpu/memory/io.pressure), where the kernel has PSI on: stall time in ns, indexed by enum cgp_psi
	 * (bpf/cgpulse.h: CGP_PSI_CPU_SOME, _CPU_FULL, _MEM_SOME, _MEM_FULL, _IO_SOME, _IO_FULL). For the root
	 * cgroup, the whole system's (/proc/pressure). */
	bool has_psi;
	uint64_t psi_total_ns[CGP_PSI_MAX];  /* total= of the *.pressure files, as ns; never goes backwards */
	uint64_t psi_window_ns[CGP_PSI_MAX]; /* growth within the window */
	/* every playbook metric of this sample, measured once (collect/measure.c): what is printed is what
	 * rules compare */
	struct cgp_measure m[CGP_METRIC_MAX];
};

struct cgp_oom_event {
	uint64_t ts_ns;	    /* wall clock when the kernel chose the victim */
	uint64_t cgroup_id; /* victim's cgroup v2 id */
	uint64_t memcg_id;  /* id of the victim's memory cgroup in its own hierarchy (v1 on a hybrid host) */
	uint32_t pid, tgid;
	char comm[16];
	uint64_t rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, pgtables_bytes;
	int32_t oom_score_adj;
	bool container_running;	  /* other processes of the cgroup live on after the kill (init survived) */
	uint64_t mem_limit_bytes; /* the victim's memory cgroup's limit at the kill; 0 = none */
};

#endif
