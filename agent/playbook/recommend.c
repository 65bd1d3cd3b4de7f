/* SPDX-License-Identifier: GPL-2.0 */
/* The concrete new limit an alert recommends.
 *
 * CPU (cores), critical: max(limit x 2, peak x 1.25), rounded up to 0.5 core: doubling is the playbook's
 *   "1.0 -> 2.0"; the peak term covers a cgroup that already bursts past twice its limit (it cannot with a
 *   quota, but the limit may have been raised since), with 25% headroom.
 * CPU, warning, and CPU throttling (either severity): limit x 1.5, rounded up to 0.5 core (the playbook's moderate
 *   "1.0 -> 1.5").
 * Memory (bytes), usage or working set, either severity: peak x 1.25, rounded up to a MiB: the peak is what the
 *   workload needs,
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
	case CGP_METRIC_CPU_THROTTLED_PCT: /* held back by its quota: more quota, as for a CPU warning */
		return round_up(limit * 1.5, CPU_STEP_CORES);
	case CGP_METRIC_MEM_PCT:
	case CGP_METRIC_MEM_WORKING_SET_PCT:
		return round_up(fmax(peak_raw, 0) * HEADROOM, MEM_STEP_BYTES);
	case CGP_METRIC_OOM_KILLS:
		return round_up(limit * HEADROOM, MEM_STEP_BYTES);
	default: /* not a share of a limit: no limit to recommend */
		break;
	}
	return 0;
}
