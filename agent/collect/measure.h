/* SPDX-License-Identifier: GPL-2.0 */
/* A sample's figures as the playbook's metrics: each a value, and for shares the limit it is a share of (the
 * cgroup's own, or the node's when it has none). Computed once per sample, below both the sampler (which
 * prints them) and the playbook (which compares them). Pure. */
#ifndef CGP_MEASURE_H
#define CGP_MEASURE_H

#include <stdbool.h>
#include <stdint.h>

enum cgp_metric {
	CGP_METRIC_NONE = 0,
	CGP_METRIC_CPU_PCT,	/* cpu_cores / limit cores * 100 (node online CPUs without a limit) */
	CGP_METRIC_MEM_PCT,	/* mem_bytes / limit bytes * 100 (node memory without a limit) */
	CGP_METRIC_OOM_KILLS,	/* OOM kills in the window (or 1 for an OOM event) */
	CGP_METRIC_RUNQ_P99_US, /* run-queue wait p99 in the window, microseconds */
	/* values are only added; a metric the sample cannot give is not known (rules leave it alone) */
	CGP_METRIC_MEM_WORKING_SET_PCT, /* working set / limit bytes * 100 (node memory without a limit) */
	CGP_METRIC_CPU_THROTTLED_PCT,	/* throttled periods / periods elapsed in the window * 100 */
	CGP_METRIC_PSI_CPU_SOME_PCT,	/* share of the window some task waited for a CPU, % */
	CGP_METRIC_PSI_MEMORY_SOME_PCT, /* share of the window some task stalled on memory, % */
	CGP_METRIC_PSI_MEMORY_FULL_PCT, /* share of the window all non-idle tasks stalled on memory, % */
	CGP_METRIC_PSI_IO_SOME_PCT,	/* share of the window some task stalled on I/O, % */
	CGP_METRIC_MAX,
};

enum cgp_limit_kind { CGP_LIMIT_CGROUP = 1, CGP_LIMIT_NODE = 2 }; /* of what the percentage is taken */

/* One metric of one cgroup: the value rules see, the limit it is a share of, and the raw figure (cores or
 * bytes) whose peak a recommendation grows from. known: false when the sample cannot give it. */
struct cgp_measure {
	bool known;
	double value;
	double limit; /* cores, bytes, or 0 for metrics that are not a share of a limit */
	enum cgp_limit_kind limit_kind;
	double raw;
};

/* What a share is of when a cgroup has no limit of its own. */
struct cgp_node {
	double cpus;	    /* online CPUs */
	uint64_t mem_bytes; /* total memory */
};

struct cgp_sample;
struct cgp_oom_event;

/* Fills s->m[] from the sample's figures. A limit above the node's size counts as no limit (cgroup v1 reports
 * "unlimited" as a huge number). */
void cgp_measure_sample(struct cgp_sample *s, const struct cgp_node *node);
/* The same, for a sample whose m[] is all zero already (cgp_window_sample's: it clears the whole sample first). */
void cgp_measure_zeroed(struct cgp_sample *s, const struct cgp_node *node);
/* An OOM kill as the oom_kills metric: value 1, against the limit the kill hit (the node's when none). */
void cgp_measure_oom(const struct cgp_oom_event *e, const struct cgp_node *node, struct cgp_measure *out);
/* The node as this machine reports it (sysconf, sysinfo). */
void cgp_node_read(struct cgp_node *node);

const char *cgp_metric_name(enum cgp_metric m);
/* Every metric name, ", "-separated, for messages that list them. */
const char *cgp_metric_names(void);
/* CGP_METRIC_NONE when name is no metric. */
enum cgp_metric cgp_metric_by_name(const char *name);

#endif
