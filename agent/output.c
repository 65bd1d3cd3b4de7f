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
	fprintf(f, "%-12s %9s %7s %9s %9s %10s %10s %4s  %s\n", "CGROUP_ID", "CPU_CORES", "CPU_MS", "RUNQ_P50",
		"RUNQ_P99", "MEM_MB", "LIMIT_MB", "OOM", "PATH");
}

void cgp_print_sample(FILE *f, const struct cgp_sample *s, bool json)
{
	json_t *o;

	if (!json) {
		char mem[16] = "-", lim[16] = "-";

		if (s->has_mem) {
			snprintf(mem, sizeof(mem), "%.1f", s->mem_bytes / 1048576.0);
			if (s->mem_limit_bytes)
				snprintf(lim, sizeof(lim), "%.1f", s->mem_limit_bytes / 1048576.0);
		}
		fprintf(f, "%-12" PRIu64 " %9.3f %7.1f %7.0fus %7.0fus %10s %10s %4" PRIu64 "  %s\n", s->cgroup_id,
			s->cpu_cores, s->cpu_ns_window / 1e6, s->runq_p50_us, s->runq_p99_us, mem, lim, s->oom_kills,
			s->path);
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
	json_object_set_new(o, "voluntary_switches", json_integer(s->voluntary_switches));
	json_object_set_new(o, "involuntary_switches", json_integer(s->involuntary_switches));
	json_object_set_new(o, "runq_waits_window", json_integer(s->runq_waits_window));
	json_object_set_new(o, "runq_p50_us", json_real(s->runq_p50_us));
	json_object_set_new(o, "runq_p99_us", json_real(s->runq_p99_us));
	if (s->has_mem) {
		json_object_set_new(o, "mem_bytes", json_integer(s->mem_bytes));
		json_object_set_new(o, "mem_limit_bytes", json_integer(s->mem_limit_bytes));
		json_object_set_new(o, "oom_kills", json_integer(s->oom_kills));
	}
	json_object_set_new(o, "reclaim_ns_total", json_integer(s->reclaim_ns_total));
	json_object_set_new(o, "reclaims_total", json_integer(s->reclaims_total));
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
