// SPDX-License-Identifier: GPL-2.0
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
};

const char *cgp_metric_name(enum cgp_metric m)
{
	if ((unsigned)m < CGP_METRIC_MAX && metric_names[m])
		return metric_names[m];
	return "unknown";
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

void cgp_measure_sample(struct cgp_sample *s, const struct cgp_node *node)
{
	struct cgp_measure *m = s->m;
	double mem_limit = s->has_mem ? (double)s->mem_limit_bytes : 0;

	memset(s->m, 0, sizeof(s->m));
	share(&m[CGP_METRIC_CPU_PCT], s->cpu_cores, s->cpu_limit_cores, node->cpus);
	if (s->has_mem)
		share(&m[CGP_METRIC_MEM_PCT], (double)s->mem_bytes, mem_limit, (double)node->mem_bytes);
	count(&m[CGP_METRIC_OOM_KILLS], (double)s->oom_kills_window, mem_limit, (double)node->mem_bytes);
	m[CGP_METRIC_RUNQ_P99_US] = (struct cgp_measure){
	    .known = true, .value = s->runq_p99_us, .raw = s->runq_p99_us, .limit_kind = CGP_LIMIT_CGROUP};
}

void cgp_measure_oom(const struct cgp_oom_event *e, const struct cgp_node *node, struct cgp_measure *out)
{
	count(out, 1, (double)e->mem_limit_bytes, (double)node->mem_bytes);
}
