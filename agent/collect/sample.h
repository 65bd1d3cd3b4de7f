/* SPDX-License-Identifier: GPL-2.0 */
/* What the agent hands to every consumer (text/JSON output, playbook, protobuf encoder): one cgroup's figures
 * for one interval, and one OOM kill. Pure data, no I/O. */
#ifndef CGP_SAMPLE_H
#define CGP_SAMPLE_H

#include <stdbool.h>
#include <stdint.h>

#define CGP_RUNQ_SLOTS 24 /* log2 microsecond buckets; mirrors bpf/cgpulse.h */

struct cgp_sample {
	uint64_t cgroup_id;			   /* cgroup v2 id (inode number of the cgroup2 directory) */
	const char *path;			   /* path relative to the cgroup root, "/" for the root; never NULL */
	uint64_t ts_ns;				   /* wall clock (CLOCK_REALTIME) at the end of the window */
	double window_s;			   /* length of the window this sample covers */
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
	uint64_t oom_kills_window;	       /* growth of oom_kills within the window (playbook oom_kills rules) */
	double cpu_limit_cores;		       /* CFS quota ÷ period (cpu.max); 0 = no limit */
	double cpu_pct;			       /* cpu_cores as % of the limit, or of the node's CPUs when none */
	double mem_pct;			       /* mem_bytes as % of the limit, or of the node's memory when none */
	bool cpu_pct_of_node, mem_pct_of_node; /* which: true = of the node */
	bool is_container;		       /* a container runtime made this cgroup (see container_path.h) */
	const char *container_id;	       /* "" when not a container; never NULL */
	const char *runtime;		       /* "docker", "containerd", ...; "" when unknown; never NULL */
	const char *pod, *pod_namespace, *container_name, *image; /* "" when unknown; never NULL */
	const char *pod_uid, *qos_class;			  /* from the kubepods path; "" when none */
};

struct cgp_oom_event {
	uint64_t ts_ns;	    /* wall clock when the kernel chose the victim */
	uint64_t cgroup_id; /* victim's cgroup v2 id */
	const char *path;   /* victim's cgroup path; never NULL */
	uint64_t memcg_id;  /* id of the victim's memory cgroup in its own hierarchy (v1 on a hybrid host) */
	uint32_t pid, tgid;
	char comm[16];
	uint64_t rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, pgtables_bytes;
	int32_t oom_score_adj;
	/* the container the victim belonged to ("" when none or unknown; never NULL) */
	const char *container_id, *runtime, *pod, *pod_namespace, *container_name, *image;
	bool container_running;	  /* other processes of the cgroup live on after the kill (init survived) */
	uint64_t mem_limit_bytes; /* the victim's memory cgroup's limit at the kill; 0 = none */
};

#endif
