// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/sysinfo.h>

#include "collect/measure.h"
#include "collect/sample.h"

static const char *const metric_names[CGP_METRIC_MAX] = {
    [CGP_METRIC_CPU_PCT] = "cpu_pct",
    [CGP_METRIC_MEM_PCT] = "mem_pct",
    [CGP_METRIC_OOM_KILLS] = "oom_kills",
    [CGP_METRIC_RUNQ_P99_US] = "runq_p99_us",
    [CGP_METRIC_MEM_WORKING_SET_PCT] = "mem_working_set_pct",
    [CGP_METRIC_CPU_THROTTLED_PCT] = "cpu_throttled_pct",
    [CGP_METRIC_PSI_CPU_SOME_PCT] = "psi_cpu_some_pct",
    [CGP_METRIC_PSI_MEMORY_SOME_PCT] = "psi_memory_some_pct",
    [CGP_METRIC_PSI_MEMORY_FULL_PCT] = "psi_memory_full_pct",
    [CGP_METRIC_PSI_IO_SOME_PCT] = "psi_io_some_pct",
};

const char *cgp_metric_name(enum cgp_metric m)
{
	if ((unsigned)m < CGP_METRIC_MAX && metric_names[m])
		return metric_names[m];
	return "unknown";
}

const char *cgp_metric_names(void)
{
	static char list[512];

	if (!list[0])
		for (unsigned m = CGP_METRIC_NONE + 1; m < CGP_METRIC_MAX; m++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", list[0] ? ", " : "",
				 metric_names[m]);
	return list;
}

enum cgp_metric cgp_metric_by_name(const char *name)
{
	for (unsigned m = CGP_METRIC_NONE + 1; m < CGP_METRIC_MAX; m++)
		if (metric_names[m] && !strcmp(name, metric_names[m]))
			return (enum cgp_metric)m;
	return CGP_METRIC_NONE;
}

void cgp_node_read(struct cgp_node *node)
{
	struct sysinfo si;

	node->cpus = (double)sysconf(_SC_NPROCESSORS_ONLN);
	node->mem_bytes = sysinfo(&si) ? 0 : (uint64_t)si.totalram * si.mem_unit;
}

/* The limit a share is of: the cgroup's own, or the node's capacity when it has none or one above the node's. */
static double limit_of(double limit, double node, enum cgp_limit_kind *kind)
{
	*kind = CGP_LIMIT_CGROUP;
	if (limit <= 0 || (node > 0 && limit > node)) {
		*kind = CGP_LIMIT_NODE;
		return node > 0 ? node : 0;
	}
	return limit;
}

static void share(struct cgp_measure *m, double raw, double limit, double node)
{
	m->limit = limit_of(limit, node, &m->limit_kind);
	m->known = m->limit > 0;
	m->raw = raw;
	m->value = m->known ? raw / m->limit * 100.0 : 0;
}

/* A count, not a share: the limit carried is the one an OOM kill hits, for the recommendation. */
static void count(struct cgp_measure *m, double v, double mem_limit, double node_mem)
{
	m->known = true;
	m->value = m->raw = v;
	m->limit = limit_of(mem_limit, node_mem, &m->limit_kind);
}

/* A share of the window: PSI stall time. Not a share of any limit (limit 0, no limit kind). Unknown in a cgroup's
 * first sample: the kernel's totals run since the cgroup was made. */
static void of_window(struct cgp_measure *m, bool has, const struct cgp_sample *s, uint64_t window_ns)
{
	if (!has || s->first_window || s->window_s <= 0)
		return;
	m->known = true;
	m->raw = (double)window_ns;
	m->value = (double)window_ns / (s->window_s * 1e9) * 100.0;
}

/* Throttled periods among the periods that elapsed in the window; 0 when none elapsed (an idle cgroup, or one
 * without a quota: nothing to throttle). Against the CPU limit, for the recommendation. */
static void throttled(struct cgp_measure *m, const struct cgp_sample *s, double node_cpus)
{
	if (!s->has_cpu_bandwidth || s->first_window)
		return;
	m->known = true;
	m->value =
	    s->cpu_periods_window ? (double)s->cpu_throttled_periods_window / (double)s->cpu_periods_window * 100.0 : 0;
	m->raw = s->cpu_cores;
	m->limit = limit_of(s->cpu_limit_cores, node_cpus, &m->limit_kind);
}

void cgp_measure_sample(struct cgp_sample *s, const struct cgp_node *node)
{
	memset(s->m, 0, sizeof(s->m));
	cgp_measure_zeroed(s, node);
}

void cgp_measure_zeroed(struct cgp_sample *s, const struct cgp_node *node)
{
	struct cgp_measure *m = s->m;
	double mem_limit = s->has_mem ? (double)s->mem_limit_bytes : 0;

	share(&m[CGP_METRIC_CPU_PCT], s->cpu_cores, s->cpu_limit_cores, node->cpus);
	if (s->has_mem)
		share(&m[CGP_METRIC_MEM_PCT], (double)s->mem_bytes, mem_limit, (double)node->mem_bytes);
	count(&m[CGP_METRIC_OOM_KILLS], (double)s->oom_kills_window, mem_limit, (double)node->mem_bytes);
	m[CGP_METRIC_RUNQ_P99_US] = (struct cgp_measure){
	    .known = true, .value = s->runq_p99_us, .raw = s->runq_p99_us, .limit_kind = CGP_LIMIT_CGROUP};
	if (s->has_mem && s->has_mem_stat)
		share(&m[CGP_METRIC_MEM_WORKING_SET_PCT], (double)s->mem_working_set_bytes, mem_limit,
		      (double)node->mem_bytes);
	throttled(&m[CGP_METRIC_CPU_THROTTLED_PCT], s, node->cpus);
	of_window(&m[CGP_METRIC_PSI_CPU_SOME_PCT], s->has_psi, s, s->psi_window_ns[CGP_PSI_CPU_SOME]);
	of_window(&m[CGP_METRIC_PSI_MEMORY_SOME_PCT], s->has_psi, s, s->psi_window_ns[CGP_PSI_MEM_SOME]);
	of_window(&m[CGP_METRIC_PSI_MEMORY_FULL_PCT], s->has_psi, s, s->psi_window_ns[CGP_PSI_MEM_FULL]);
	of_window(&m[CGP_METRIC_PSI_IO_SOME_PCT], s->has_psi, s, s->psi_window_ns[CGP_PSI_IO_SOME]);
}

void cgp_measure_oom(const struct cgp_oom_event *e, const struct cgp_node *node, struct cgp_measure *out)
{
	count(out, 1, (double)e->mem_limit_bytes, (double)node->mem_bytes);
}
