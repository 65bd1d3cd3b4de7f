/* SPDX-License-Identifier: GPL-2.0 */
/* /metrics in the Prometheus text exposition format (version 0.0.4): the latest sample of every cgroup and
 * the agent's own counters. Every name starts with cgpulse_, every family has HELP and TYPE, counters end in
 * _total; the output passes `promtool check metrics`. No I/O except /proc/self at render time. */
#ifndef CGP_METRICS_H
#define CGP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "lib/bytebuf.h"
#include "cgpulse.h" /* enum cgp_drop */
#include "sinks/http_server.h"
#include "collect/sample.h"

/* One BPF program's kernel-side cost, from bpf_prog_get_info_by_fd() (zero unless kernel.bpf_stats_enabled). */
struct cgp_bpf_prog_stat {
	const char *name;
	uint64_t run_time_ns, run_cnt;
};

/* What the agent knows about itself; filled by the agent before each render. */
struct cgp_agent_counters {
	uint64_t events_published;	     /* every event given a seq */
	uint64_t events_sent;		     /* acknowledged by the collector */
	uint64_t spool_dropped_samples;	     /* sample events the spool dropped unacknowledged */
	uint64_t spool_dropped_others;	     /* other events the spool dropped unacknowledged */
	uint64_t spool_events, spool_bytes;  /* spool depth now */
	uint64_t records_lost[CGP_DROP_MAX]; /* the kernel side's drops map, by enum cgp_drop */
	uint64_t cgroups_tracked;
	uint64_t sweeps;	    /* completed sweeps */
	double sweep_seconds_total; /* time spent in them */
	double last_sweep_seconds;
	bool bpf_stats_enabled; /* kernel.bpf_stats_enabled = 1 */
	const struct cgp_bpf_prog_stat *progs;
	size_t n_progs;
	const struct cgp_http_stats *http; /* NULL: no HTTP families */
};

struct cgp_metrics;

struct cgp_metrics *cgp_metrics_new(void);
void cgp_metrics_free(struct cgp_metrics *m);

/* Keeps the sample as its cgroup's latest (strings copied) and adds its window's run-queue histogram to the
 * cgroup's cumulative one. 0 or -ENOMEM. */
int cgp_metrics_sample(struct cgp_metrics *m, const struct cgp_sample *s);
/* The cgroup is gone: its series disappear from the next render. */
void cgp_metrics_gone(struct cgp_metrics *m, uint64_t cgroup_id);

/* Appends the whole exposition to out: per-cgroup families (cgroups in id order), then the agent's. c may be
 * NULL (no agent families); the agent's CPU time and RSS are read from /proc/self here. 0 or -ENOMEM. */
int cgp_metrics_render(const struct cgp_metrics *m, const struct cgp_agent_counters *c, struct cgp_buf *out);

/* Appends v as a label value, escaped for the text format (\\, \", \n) and with invalid UTF-8 replaced. */
int cgp_metrics_escape_label(struct cgp_buf *out, const char *v);

#endif
