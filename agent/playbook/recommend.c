/* SPDX-License-Identifier: GPL-2.0 */
/* The concrete new limit an alert recommends, and how a metric is measured against its limit.
 *
 * CPU (cores), critical: max(limit x 2, peak x 1.25), rounded up to 0.5 core: doubling is the playbook's
 *   "1.0 -> 2.0"; the peak term covers a cgroup that already bursts past twice its limit (it cannot with a
 *   quota, but the limit may have been raised since), with 25% headroom.
 * CPU, warning: limit x 1.5, rounded up to 0.5 core (the playbook's moderate "1.0 -> 1.5").
 * Memory (bytes), either severity: peak x 1.25, rounded up to a MiB: the peak is what the workload needs,
 *   25% is headroom against the next peak. An OOM kill: the peak was the limit itself, so limit x 1.25.
 * Without a limit of its own the cgroup is measured against the node: no container limit would give it more,
 *   so there is no number to recommend (0); the action text says what to do (scale out, bigger node). */
#include <math.h>

#include "playbook/playbook.h"

#define CPU_STEP_CORES 0.5
#define MEM_STEP_BYTES (1024.0 * 1024.0)
#define HEADROOM       1.25

/* The epsilon keeps 1.5 / 0.5 from rounding up to 2.0 steps through a stray last bit. */
static double round_up(double v, double step)
{
	return ceil(v / step - 1e-9) * step;
}

double cgp_recommend_limit(enum cgp_metric m, enum cgp_severity sev, enum cgp_limit_kind kind, double limit,
			   double peak_raw)
{
	double v;

	if (kind != CGP_LIMIT_CGROUP || limit <= 0)
		return 0;
	switch (m) {
	case CGP_METRIC_CPU_PCT:
		if (sev == CGP_SEV_CRITICAL)
			v = fmax(limit * 2, peak_raw * HEADROOM);
		else
			v = limit * 1.5;
		return round_up(v, CPU_STEP_CORES);
	case CGP_METRIC_MEM_PCT:
		return round_up(fmax(peak_raw, 0) * HEADROOM, MEM_STEP_BYTES);
	case CGP_METRIC_OOM_KILLS:
		return round_up(limit * HEADROOM, MEM_STEP_BYTES);
	case CGP_METRIC_RUNQ_P99_US:
		break;
	}
	return 0;
}

bool cgp_measure(enum cgp_metric m, const struct cgp_sample *s, const struct cgp_limits *lim, struct cgp_measure *out)
{
	double limit;

	out->limit = 0;
	out->limit_kind = CGP_LIMIT_CGROUP;
	switch (m) {
	case CGP_METRIC_CPU_PCT:
		limit = lim->cpu_limit_cores;
		if (limit <= 0 || (lim->node_cpus > 0 && limit > lim->node_cpus)) {
			limit = lim->node_cpus;
			out->limit_kind = CGP_LIMIT_NODE;
		}
		if (limit <= 0)
			return false;
		out->raw = s->cpu_cores;
		break;
	case CGP_METRIC_MEM_PCT:
		if (!s->has_mem)
			return false;
		limit = (double)s->mem_limit_bytes;
		if (limit <= 0 || (lim->node_mem_bytes && limit > (double)lim->node_mem_bytes)) {
			limit = (double)lim->node_mem_bytes;
			out->limit_kind = CGP_LIMIT_NODE;
		}
		if (limit <= 0)
			return false;
		out->raw = (double)s->mem_bytes;
		break;
	case CGP_METRIC_OOM_KILLS:
		out->value = out->raw = (double)s->oom_kills_window;
		/* the limit an OOM kill hit, for the memory recommendation */
		if (s->has_mem && s->mem_limit_bytes &&
		    !(lim->node_mem_bytes && s->mem_limit_bytes > lim->node_mem_bytes)) {
			out->limit = (double)s->mem_limit_bytes;
		} else {
			out->limit = (double)lim->node_mem_bytes;
			out->limit_kind = CGP_LIMIT_NODE;
		}
		return true;
	case CGP_METRIC_RUNQ_P99_US:
		out->value = out->raw = s->runq_p99_us;
		return true;
	default:
		return false;
	}
	out->limit = limit;
	out->value = out->raw / limit * 100.0;
	return true;
}
