/* SPDX-License-Identifier: GPL-2.0 */
/* `cgpulse top`'s table: one row per cgroup, kept from the agent's own events (the /v1/events stream, or the
 * events of a sampler top runs itself), so it shows exactly what the agent measured and the alerts it raised.
 * Rows sort by any column and filter by name; a cgroup that is removed, or that no sample mentions for a few
 * intervals, leaves the table. Pure: no I/O, no clock (the caller passes the time). */
#ifndef CGP_TOP_MODEL_H
#define CGP_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgpulse/v1/event.pb-c.h"
#include "lib/idmap.h"

#define TOP_MAX_FIRING 4 /* firing rules shown per row; more are counted */

enum top_col {
	TOP_COL_NAME = 0,
	TOP_COL_CPU,	 /* cores */
	TOP_COL_CPU_PCT, /* of the limit, or of the node */
	TOP_COL_THR_PCT, /* throttled periods, % of the window's periods */
	TOP_COL_MEM,	 /* working set when the agent reports it, else usage */
	TOP_COL_MEM_PCT,
	TOP_COL_PSI_MEM, /* memory some, % of the window stalled */
	TOP_COL_PSI_CPU, /* cpu some */
	TOP_COL_OOM,	 /* OOM kills, total */
	TOP_COL_ALERTS,	 /* firing rules, worst severity first */
	TOP_COL_MAX,
};

struct top_firing {
	char rule[48];
	int severity; /* cgpulse.v1.Severity */
};

struct top_row {
	uint64_t cgroup_id;
	char name[128]; /* namespace/pod/container, the container's name, or the cgroup path */
	char path[256];
	bool is_container;
	bool has_cpu;
	double cpu_cores, cpu_pct;
	bool cpu_pct_of_node;
	bool has_thr;
	double thr_pct;
	bool has_mem;
	uint64_t mem_bytes; /* the figure the playbook judges memory by */
	double mem_pct;
	bool mem_is_working_set;
	bool has_psi_mem, has_psi_cpu;
	double psi_mem_pct, psi_cpu_pct;
	uint64_t oom_kills;
	struct top_firing firing[TOP_MAX_FIRING];
	unsigned n_firing, n_firing_more;
	uint64_t seen_ns; /* the last event that named it, caller's clock */
};

struct top_model {
	struct cgp_idmap rows; /* cgroup id → struct top_row */
	uint64_t events, samples, alerts_firing, gaps, missed;
	uint64_t last_sample_ts_ns;
	double window_s; /* of the last sample: how often the table changes */
	char instance_id[64], node[256];
};

int top_model_init(struct top_model *m);
void top_model_free(struct top_model *m);
/* One event of the agent's (now: the caller's clock). Samples fill rows, alerts mark rules firing or resolved,
 * OOM kills count, a removed cgroup leaves, a Gap is counted. */
void top_model_event(struct top_model *m, const Cgpulse__V1__Event *ev, uint64_t now_ns);
/* Rows no event named for `intervals` windows of the last sample leave the table (a missed rmdir). */
void top_model_expire(struct top_model *m, uint64_t now_ns, unsigned intervals);

struct top_view_opts {
	enum top_col sort;
	bool ascending;	    /* default: largest first; names A→Z */
	bool all;	    /* every cgroup, not only containers */
	const char *filter; /* substring of name or path; NULL or "": none */
};

/* The rows to show, sorted; out has room for max. Returns how many. */
size_t top_model_select(const struct top_model *m, const struct top_view_opts *o, const struct top_row **out,
			size_t max);
/* A column's heading and the key that sorts by it. */
const char *top_col_title(enum top_col c);
char top_col_key(enum top_col c);

#endif
