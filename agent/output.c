// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <jansson.h>
#include "output.h"

static void emit_json(FILE *f, json_t *o)
{
	json_dumpf(o, f, JSON_COMPACT | JSON_REAL_PRECISION(6));
	fputc('\n', f);
	fflush(f);
	json_decref(o);
}

void cgp_print_sample_header(FILE *f)
{
	fprintf(f, "%-12s %9s %6s %7s %9s %9s %10s %10s %6s %4s  %s\n", "CGROUP_ID", "CPU_CORES", "LIMIT", "CPU%",
		"RUNQ_P50", "RUNQ_P99", "MEM_MB", "LIMIT_MB", "MEM%", "OOM", "PATH");
}

void cgp_print_sample(FILE *f, const struct cgp_sample *s, bool json)
{
	json_t *o;

	if (!json) {
		char mem[16] = "-", lim[16] = "-", mpct[16] = "-", clim[16] = "-";

		if (s->has_mem) {
			snprintf(mem, sizeof(mem), "%.1f", s->mem_bytes / 1048576.0);
			snprintf(mpct, sizeof(mpct), "%.1f", s->mem_pct);
			if (s->mem_limit_bytes)
				snprintf(lim, sizeof(lim), "%.1f", s->mem_limit_bytes / 1048576.0);
		}
		if (s->cpu_limit_cores > 0)
			snprintf(clim, sizeof(clim), "%.2f", s->cpu_limit_cores);
		fprintf(f, "%-12" PRIu64 " %9.3f %6s %7.1f %7.0fus %7.0fus %10s %10s %6s %4" PRIu64 "  %s\n",
			s->cgroup_id, s->cpu_cores, clim, s->cpu_pct, s->runq_p50_us, s->runq_p99_us, mem, lim, mpct,
			s->oom_kills, s->path);
		return;
	}
	o = json_object();
	json_object_set_new(o, "type", json_string("sample"));
	json_object_set_new(o, "cgroup_id", json_integer(s->cgroup_id));
	json_object_set_new(o, "path", json_string(s->path));
	json_object_set_new(o, "ts_ns", json_integer(s->ts_ns));
	json_object_set_new(o, "window_s", json_real(s->window_s));
	json_object_set_new(o, "cpu_ns_total", json_integer(s->cpu_ns_total));
	json_object_set_new(o, "cpu_ns_window", json_integer(s->cpu_ns_window));
	json_object_set_new(o, "cpu_cores", json_real(s->cpu_cores));
	json_object_set_new(o, "cpu_limit_cores", json_real(s->cpu_limit_cores));
	json_object_set_new(o, "cpu_pct", json_real(s->cpu_pct));
	json_object_set_new(o, "cpu_pct_of", json_string(s->cpu_pct_of_node ? "node" : "limit"));
	json_object_set_new(o, "voluntary_switches", json_integer(s->voluntary_switches));
	json_object_set_new(o, "involuntary_switches", json_integer(s->involuntary_switches));
	json_object_set_new(o, "runq_waits_window", json_integer(s->runq_waits_window));
	json_object_set_new(o, "runq_p50_us", json_real(s->runq_p50_us));
	json_object_set_new(o, "runq_p99_us", json_real(s->runq_p99_us));
	if (s->has_mem) {
		json_object_set_new(o, "mem_bytes", json_integer(s->mem_bytes));
		json_object_set_new(o, "mem_limit_bytes", json_integer(s->mem_limit_bytes));
		json_object_set_new(o, "oom_kills", json_integer(s->oom_kills));
		json_object_set_new(o, "mem_pct", json_real(s->mem_pct));
		json_object_set_new(o, "mem_pct_of", json_string(s->mem_pct_of_node ? "node" : "limit"));
	}
	json_object_set_new(o, "reclaim_ns_total", json_integer(s->reclaim_ns_total));
	json_object_set_new(o, "reclaims_total", json_integer(s->reclaims_total));
	emit_json(f, o);
}

static const char *limit_kind(enum cgp_limit_kind k)
{
	return k == CGP_LIMIT_NODE ? "node" : "limit";
}

void cgp_print_alert(FILE *f, const struct cgp_alert *a, bool json)
{
	json_t *o, *ev;

	if (!json) {
		fprintf(f, "ALERT %s %s %s on %s [cgroup %" PRIu64 "]: %s %.1f (threshold %.1f, held %.1fs, limit %g of "
			   "%s, reason %s); recommended limit %g. %s\n",
			a->state == CGP_ALERT_FIRING ? "FIRING" : "RESOLVED", a->severity == CGP_SEV_CRITICAL ?
			"critical" : "warning", a->rule, a->path, a->cgroup_id, a->metric, a->value, a->threshold,
			a->held_ns / 1e9, a->limit, limit_kind(a->limit_kind), a->reason, a->recommended_limit, a->action);
		fflush(f);
		return;
	}
	o = json_object();
	json_object_set_new(o, "type", json_string("alert"));
	json_object_set_new(o, "rule", json_string(a->rule));
	json_object_set_new(o, "severity", json_string(a->severity == CGP_SEV_CRITICAL ? "critical" : "warning"));
	json_object_set_new(o, "state", json_string(a->state == CGP_ALERT_FIRING ? "firing" : "resolved"));
	json_object_set_new(o, "cgroup_id", json_integer(a->cgroup_id));
	json_object_set_new(o, "path", json_string(a->path));
	json_object_set_new(o, "metric", json_string(a->metric));
	json_object_set_new(o, "value", json_real(a->value));
	json_object_set_new(o, "threshold", json_real(a->threshold));
	json_object_set_new(o, "held_ns", json_integer(a->held_ns));
	json_object_set_new(o, "limit", json_real(a->limit));
	json_object_set_new(o, "limit_of", json_string(limit_kind(a->limit_kind)));
	ev = json_array();
	for (unsigned i = 0; i < a->evidence_len && i < CGP_EVIDENCE_MAX; i++)
		json_array_append_new(ev, json_real(a->evidence[i]));
	json_object_set_new(o, "evidence", ev);
	json_object_set_new(o, "action", json_string(a->action ? a->action : ""));
	json_object_set_new(o, "runbook", json_string(a->runbook ? a->runbook : ""));
	json_object_set_new(o, "recommended_limit", json_real(a->recommended_limit));
	json_object_set_new(o, "reason", json_string(a->reason ? a->reason : ""));
	json_object_set_new(o, "ts_ns", json_integer(a->ts_ns));
	emit_json(f, o);
}

void cgp_print_oom(FILE *f, const struct cgp_oom_event *e, bool json)
{
	json_t *o;

	if (!json) {
		fprintf(f, "OOM KILL pid %u (%s) tgid %u in %s [cgroup %" PRIu64 "]: anon %.1f MiB, file %.1f MiB, "
			   "shmem %.1f MiB, oom_score_adj %d\n",
			e->pid, e->comm, e->tgid, e->path, e->cgroup_id, e->rss_anon_bytes / 1048576.0,
			e->rss_file_bytes / 1048576.0, e->rss_shmem_bytes / 1048576.0, e->oom_score_adj);
		fflush(f);
		return;
	}
	o = json_object();
	json_object_set_new(o, "type", json_string("oom_kill"));
	json_object_set_new(o, "cgroup_id", json_integer(e->cgroup_id));
	json_object_set_new(o, "path", json_string(e->path));
	json_object_set_new(o, "memcg_id", json_integer(e->memcg_id));
	json_object_set_new(o, "pid", json_integer(e->pid));
	json_object_set_new(o, "tgid", json_integer(e->tgid));
	json_object_set_new(o, "comm", json_string(e->comm));
	json_object_set_new(o, "rss_anon_bytes", json_integer(e->rss_anon_bytes));
	json_object_set_new(o, "rss_file_bytes", json_integer(e->rss_file_bytes));
	json_object_set_new(o, "rss_shmem_bytes", json_integer(e->rss_shmem_bytes));
	json_object_set_new(o, "pgtables_bytes", json_integer(e->pgtables_bytes));
	json_object_set_new(o, "oom_score_adj", json_integer(e->oom_score_adj));
	json_object_set_new(o, "ts_ns", json_integer(e->ts_ns));
	emit_json(f, o);
}
