// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include "events/event_text.h"

/* "pod/container", "container", or the container id's first 12 characters; "-" when not a container */
static void who(char *buf, size_t len, const struct cgp_attribution *a)
{
	if (*a->pod)
		snprintf(buf, len, "%s/%s/%s", *a->pod_namespace ? a->pod_namespace : "-", a->pod,
			 *a->container_name ? a->container_name : "?");
	else if (*a->container_name)
		snprintf(buf, len, "%s", a->container_name);
	else if (*a->container_id)
		snprintf(buf, len, "%.12s", a->container_id);
	else
		snprintf(buf, len, "-");
}

void cgp_print_sample_header(FILE *f)
{
	fprintf(f, "%-12s %9s %6s %7s %9s %9s %10s %10s %6s %4s  %-30s %s\n", "CGROUP_ID", "CPU_CORES", "LIMIT", "CPU%",
		"RUNQ_P50", "RUNQ_P99", "MEM_MB", "LIMIT_MB", "MEM%", "OOM", "CONTAINER", "PATH");
}

void cgp_print_sample(FILE *f, const struct cgp_sample *s, const struct cgp_attribution *a)
{
	char mem[16] = "-", lim[16] = "-", mpct[16] = "-", clim[16] = "-", c[256];

	if (s->has_mem) {
		snprintf(mem, sizeof(mem), "%.1f", s->mem_bytes / 1048576.0);
		snprintf(mpct, sizeof(mpct), "%.1f", s->m[CGP_METRIC_MEM_PCT].value);
		if (s->mem_limit_bytes)
			snprintf(lim, sizeof(lim), "%.1f", s->mem_limit_bytes / 1048576.0);
	}
	if (s->cpu_limit_cores > 0)
		snprintf(clim, sizeof(clim), "%.2f", s->cpu_limit_cores);
	who(c, sizeof(c), a);
	fprintf(f, "%-12" PRIu64 " %9.3f %6s %7.1f %7.0fus %7.0fus %10s %10s %6s %4" PRIu64 "  %-30s %s\n",
		s->cgroup_id, s->cpu_cores, clim, s->m[CGP_METRIC_CPU_PCT].value, s->runq_p50_us, s->runq_p99_us, mem,
		lim, mpct, s->oom_kills, c, a->path);
}

void cgp_print_oom(FILE *f, const struct cgp_oom_event *e, const struct cgp_attribution *a)
{
	char c[256];

	who(c, sizeof(c), a);
	fprintf(f,
		"OOM KILL pid %u (%s) tgid %u in %s%s container %s [cgroup %" PRIu64 "]: anon %.1f MiB, file %.1f MiB, "
		"shmem %.1f MiB, oom_score_adj %d\n",
		e->pid, e->comm, e->tgid, a->path, e->container_running ? " (still running)" : "", c, e->cgroup_id,
		e->rss_anon_bytes / 1048576.0, e->rss_file_bytes / 1048576.0, e->rss_shmem_bytes / 1048576.0,
		e->oom_score_adj);
	fflush(f);
}

void cgp_print_alert(FILE *f, const struct cgp_alert *al, const struct cgp_attribution *at)
{
	const char *container = *at->container_name ? at->container_name : NULL;
	const struct cgp_alert *a = al;

	fprintf(f,
		"ALERT %s %s %s on %s%s%s [cgroup %" PRIu64 "]: %s %.1f (threshold %.1f, held %.1fs, limit %g of "
		"%s, reason %s); recommended limit %g. %s\n",
		a->state == CGP_ALERT_FIRING ? "FIRING" : "RESOLVED",
		a->severity == CGP_SEV_CRITICAL ? "critical" : "warning", a->rule, a->path,
		container ? " container " : "", container ? container : "", a->cgroup_id, a->metric, a->value,
		a->threshold, a->held_ns / 1e9, a->limit, a->limit_kind == CGP_LIMIT_NODE ? "node" : "limit",
		a->reason ? a->reason : "", a->recommended_limit, a->action ? a->action : "");
	fflush(f);
}
