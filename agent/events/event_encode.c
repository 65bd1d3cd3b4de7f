// SPDX-License-Identifier: GPL-2.0
/* Agent structs → cgpulse.v1.Event. protobuf-c wants char * for strings; nothing here writes through them. */
#include "events/event_encode.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/utf8.h"

/* proto3 strings must be valid UTF-8 (Google's runtimes refuse the message otherwise); a comm or a cgroup path
 * may be any bytes, so those get a sanitized copy. */
static char *text(struct cgp_event_build *b, const char *s)
{
	size_t n, room = sizeof(b->fixed) - b->fixed_used;
	char *dst = b->fixed + b->fixed_used;

	if (!s)
		return (char *)"";
	n = strlen(s);
	if (cgp_utf8_valid(s, n))
		return (char *)s;
	if (room < 2)
		return (char *)"?";
	b->fixed_used += cgp_utf8_sanitize(dst, room, s, n) + 1;
	return dst;
}

static void envelope(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns)
{
	b->fixed_used = 0;
	cgpulse__v1__event__init(&b->ev);
	b->ev.node = text(b, m->node);
	b->ev.instance_id = text(b, m->instance_id);
	b->ev.seq = m->seq;
	b->ev.ts_ns = ts_ns;
}

/* Who the cgroup is: one record, filled here for every event type. The flat fields 32-39 repeat it for consumers
 * older than the Attribution message; a macro, because each message type is its own struct. */
static Cgpulse__V1__Attribution *attribution(struct cgp_event_build *b, const struct cgp_attribution *a)
{
	Cgpulse__V1__Attribution *p = &b->attribution;

	cgpulse__v1__attribution__init(p);
	p->container_id = text(b, a->container_id);
	p->runtime = text(b, a->runtime);
	p->pod = text(b, a->pod);
	p->namespace_ = text(b, a->pod_namespace);
	p->container_name = text(b, a->container_name);
	p->pod_uid = text(b, a->pod_uid);
	p->qos_class = text(b, a->qos_class);
	p->image = text(b, a->image);
	/* a cgroup that is nobody's container and no pod's carries none */
	if (!*p->container_id && !*p->pod && !*p->pod_uid && !*p->image)
		return NULL;
	return p;
}

#define SET_ATTRIBUTION(b, msg, a)                                                                                     \
	do {                                                                                                           \
		Cgpulse__V1__Attribution *at_ = attribution(b, a);                                                     \
		(msg)->attribution = at_;                                                                              \
		if (at_) {                                                                                             \
			(msg)->container_id = at_->container_id;                                                       \
			(msg)->runtime = at_->runtime;                                                                 \
			(msg)->pod = at_->pod;                                                                         \
			(msg)->namespace_ = at_->namespace_;                                                           \
			(msg)->container_name = at_->container_name;                                                   \
			(msg)->pod_uid = at_->pod_uid;                                                                 \
			(msg)->qos_class = at_->qos_class;                                                             \
			(msg)->image = at_->image;                                                                     \
		}                                                                                                      \
	} while (0)

/* Every group only under its has_ flag: an absent figure stays 0 on the wire, never a stale value. */
static void memory_figures(Cgpulse__V1__Sample *p, const struct cgp_sample *s)
{
	p->has_mem_stat = s->has_mem_stat;
	if (s->has_mem_stat) {
		p->mem_working_set_bytes = s->mem_working_set_bytes;
		p->mem_inactive_file_bytes = s->mem_inactive_file_bytes;
		p->mem_anon_bytes = s->mem_anon_bytes;
		p->mem_file_bytes = s->mem_file_bytes;
	}
	p->has_swap = s->has_swap;
	if (s->has_swap)
		p->mem_swap_bytes = s->mem_swap_bytes;
	p->has_mem_events = s->has_mem_events;
	if (s->has_mem_events) {
		p->mem_events_max = s->mem_events_max;
		p->mem_events_oom = s->mem_events_oom;
	}
	p->has_mem_events_high = s->has_mem_events_high;
	if (s->has_mem_events_high)
		p->mem_events_high = s->mem_events_high;
	p->has_mem_events_oom_group_kill = s->has_mem_events_oom_group_kill;
	if (s->has_mem_events_oom_group_kill)
		p->mem_events_oom_group_kill = s->mem_events_oom_group_kill;
}

/* The playbook metrics a sample adds: what is printed is what rules compare (s->m), 0 where not known. */
static void shares(Cgpulse__V1__Sample *p, const struct cgp_sample *s)
{
	const struct cgp_measure *m = s->m;

#define SHARE(field, metric) p->field = m[metric].known ? m[metric].value : 0
	SHARE(mem_working_set_pct, CGP_METRIC_MEM_WORKING_SET_PCT);
	SHARE(cpu_throttled_pct, CGP_METRIC_CPU_THROTTLED_PCT);
	SHARE(psi_cpu_some_pct, CGP_METRIC_PSI_CPU_SOME_PCT);
	SHARE(psi_memory_some_pct, CGP_METRIC_PSI_MEMORY_SOME_PCT);
	SHARE(psi_memory_full_pct, CGP_METRIC_PSI_MEMORY_FULL_PCT);
	SHARE(psi_io_some_pct, CGP_METRIC_PSI_IO_SOME_PCT);
#undef SHARE
}

static void cpu_figures(Cgpulse__V1__Sample *p, const struct cgp_sample *s)
{
	p->has_cpu_bandwidth = s->has_cpu_bandwidth;
	if (s->has_cpu_bandwidth) {
		p->cpu_periods = s->cpu_periods;
		p->cpu_throttled_periods = s->cpu_throttled_periods;
		p->cpu_throttled_ns = s->cpu_throttled_ns;
		if (!s->first_window) {
			p->cpu_periods_window = s->cpu_periods_window;
			p->cpu_throttled_periods_window = s->cpu_throttled_periods_window;
			p->cpu_throttled_ns_window = s->cpu_throttled_ns_window;
		}
	}
	p->has_cpu_user_system = s->has_cpu_user_system;
	if (s->has_cpu_user_system) {
		p->cpu_user_ns = s->cpu_user_ns;
		p->cpu_system_ns = s->cpu_system_ns;
	}
}

void cgp_event_build_sample(struct cgp_event_build *b, const struct cgp_event_meta *m, const struct cgp_sample *s,
			    const struct cgp_attribution *a)
{
	Cgpulse__V1__Sample *p = &b->body.sample;
	size_t n = CGP_RUNQ_SLOTS;

	envelope(b, m, s->ts_ns);
	cgpulse__v1__sample__init(p);
	p->cgroup_id = s->cgroup_id;
	p->path = text(b, a->path);
	p->window_s = s->window_s;
	p->cpu_ns_total = s->cpu_ns_total;
	p->cpu_ns_window = s->cpu_ns_window;
	p->cpu_cores = s->cpu_cores;
	p->voluntary_switches = s->voluntary_switches;
	p->involuntary_switches = s->involuntary_switches;
	p->runq_waits_window = s->runq_waits_window;
	p->runq_p50_us = s->runq_p50_us;
	p->runq_p99_us = s->runq_p99_us;
	p->has_mem = s->has_mem;
	if (s->has_mem) {
		p->mem_bytes = s->mem_bytes;
		p->mem_limit_bytes = s->mem_limit_bytes;
		p->oom_kills = s->oom_kills;
	}
	p->reclaim_ns_total = s->reclaim_ns_total;
	p->reclaims_total = s->reclaims_total;
	p->oom_kills_window = s->oom_kills_window;
	p->cpu_limit_cores = s->cpu_limit_cores;
	p->cpu_pct = s->m[CGP_METRIC_CPU_PCT].value;
	p->mem_pct = s->m[CGP_METRIC_MEM_PCT].value;
	p->cpu_pct_of = (char *)(s->m[CGP_METRIC_CPU_PCT].limit_kind == CGP_LIMIT_NODE ? "node" : "limit");
	p->mem_pct_of = (char *)(s->m[CGP_METRIC_MEM_PCT].limit_kind == CGP_LIMIT_NODE ? "node" : "limit");
	/* trailing empty slots carry nothing: leave them out (most windows touch only a few low slots) */
	while (n && !s->runq_hist_window[n - 1])
		n--;
	p->n_runq_hist_window = n;
	p->runq_hist_window = (uint64_t *)s->runq_hist_window;
	memory_figures(p, s);
	cpu_figures(p, s);
	p->has_kernel_windows = !s->first_window;
	shares(p, s);
	p->has_psi = s->has_psi;
	if (s->has_psi) {
		p->psi_cpu_some_ns = s->psi_total_ns[CGP_PSI_CPU_SOME];
		p->psi_cpu_full_ns = s->psi_total_ns[CGP_PSI_CPU_FULL];
		p->psi_memory_some_ns = s->psi_total_ns[CGP_PSI_MEM_SOME];
		p->psi_memory_full_ns = s->psi_total_ns[CGP_PSI_MEM_FULL];
		p->psi_io_some_ns = s->psi_total_ns[CGP_PSI_IO_SOME];
		p->psi_io_full_ns = s->psi_total_ns[CGP_PSI_IO_FULL];
	}
	SET_ATTRIBUTION(b, p, a);
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_SAMPLE;
	b->ev.sample = p;
}

void cgp_event_build_oom_kill(struct cgp_event_build *b, const struct cgp_event_meta *m, const struct cgp_oom_event *o,
			      const struct cgp_attribution *a)
{
	Cgpulse__V1__OomKill *p = &b->body.oom_kill;

	envelope(b, m, o->ts_ns);
	cgpulse__v1__oom_kill__init(p);
	p->cgroup_id = o->cgroup_id;
	p->path = text(b, a->path);
	p->memcg_id = o->memcg_id;
	p->pid = o->pid;
	p->tgid = o->tgid;
	cgp_utf8_sanitize(b->comm, sizeof(b->comm), o->comm, strnlen(o->comm, sizeof(o->comm)));
	p->comm = b->comm;
	p->rss_anon_bytes = o->rss_anon_bytes;
	p->rss_file_bytes = o->rss_file_bytes;
	p->rss_shmem_bytes = o->rss_shmem_bytes;
	p->pgtables_bytes = o->pgtables_bytes;
	p->oom_score_adj = o->oom_score_adj;
	p->container_running = o->container_running;
	p->mem_limit_bytes = o->mem_limit_bytes;
	SET_ATTRIBUTION(b, p, a);
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_OOM_KILL;
	b->ev.oom_kill = p;
}

void cgp_event_build_alert(struct cgp_event_build *b, const struct cgp_event_meta *m, const struct cgp_alert *al,
			   const struct cgp_attribution *a)
{
	Cgpulse__V1__Alert *p = &b->body.alert;

	envelope(b, m, al->ts_ns);
	cgpulse__v1__alert__init(p);
	p->cgroup_id = al->cgroup_id;
	p->path = text(b, al->path);
	p->rule = text(b, al->rule);
	/* the C enums and the proto enums share their numbers */
	p->severity = (Cgpulse__V1__Severity)al->severity;
	p->state = (Cgpulse__V1__AlertState)al->state;
	p->metric = text(b, al->metric);
	p->value = al->value;
	p->threshold = al->threshold;
	p->held_ns = al->held_ns;
	p->limit = al->limit;
	p->limit_kind = (Cgpulse__V1__LimitKind)al->limit_kind;
	p->n_evidence = al->evidence_len < CGP_EVIDENCE_MAX ? al->evidence_len : CGP_EVIDENCE_MAX;
	p->evidence = (double *)al->evidence;
	p->action = text(b, al->action);
	p->runbook = text(b, al->runbook);
	p->recommended_limit = al->recommended_limit;
	p->reason = text(b, al->reason);
	SET_ATTRIBUTION(b, p, a);
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_ALERT;
	b->ev.alert = p;
}

/* CgroupStarted and CgroupStopped are two messages of one shape */
#define CGROUP_BODY(b, p, init, cgroup_id, a)                                                                          \
	do {                                                                                                           \
		init(p);                                                                                               \
		(p)->cgroup_id = (cgroup_id);                                                                          \
		(p)->path = text(b, (a)->path);                                                                        \
		SET_ATTRIBUTION(b, p, a);                                                                              \
	} while (0)

void cgp_event_build_cgroup(struct cgp_event_build *b, const struct cgp_event_meta *m, bool started, uint64_t ts_ns,
			    uint64_t cgroup_id, const struct cgp_attribution *a)
{
	envelope(b, m, ts_ns);
	if (started) {
		CGROUP_BODY(b, &b->body.cgroup_started, cgpulse__v1__cgroup_started__init, cgroup_id, a);
		b->ev.body_case = CGPULSE__V1__EVENT__BODY_CGROUP_STARTED;
		b->ev.cgroup_started = &b->body.cgroup_started;
	} else {
		CGROUP_BODY(b, &b->body.cgroup_stopped, cgpulse__v1__cgroup_stopped__init, cgroup_id, a);
		b->ev.body_case = CGPULSE__V1__EVENT__BODY_CGROUP_STOPPED;
		b->ev.cgroup_stopped = &b->body.cgroup_stopped;
	}
}

int cgp_event_encode_gap(const char *node, const char *instance_id, uint64_t ts_ns, uint64_t first_missed_seq,
			 uint64_t last_missed_seq, struct cgp_buf *out)
{
	Cgpulse__V1__Event ev;
	Cgpulse__V1__Gap g;
	uint8_t *w;
	size_t n;

	cgpulse__v1__event__init(&ev);
	cgpulse__v1__gap__init(&g);
	/* node and instance id are the agent's own, valid UTF-8 */
	ev.node = (char *)node;
	ev.instance_id = (char *)instance_id;
	ev.ts_ns = ts_ns;
	g.first_missed_seq = first_missed_seq;
	g.last_missed_seq = last_missed_seq;
	g.missed = last_missed_seq >= first_missed_seq ? last_missed_seq - first_missed_seq + 1 : 0;
	ev.body_case = CGPULSE__V1__EVENT__BODY_GAP;
	ev.gap = &g;
	n = cgpulse__v1__event__get_packed_size(&ev);
	w = cgp_buf_reserve(out, n);
	if (!w)
		return -ENOMEM;
	out->len += cgpulse__v1__event__pack(&ev, w);
	return 0;
}

void cgp_event_build_dropped(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns,
			     const struct cgp_spool_drops *d)
{
	Cgpulse__V1__Dropped *p = &b->body.dropped;

	envelope(b, m, ts_ns);
	cgpulse__v1__dropped__init(p);
	p->samples_dropped = d->samples;
	p->others_dropped = d->others;
	p->first_dropped_seq = d->first_seq;
	p->last_dropped_seq = d->last_seq;
	p->reason = text(b, "spool_full");
	if (!d->own)
		p->dropped_instance_id =
		    text(b, d->instance_id); /* a previous instance's, replayed from the spool directory */
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_DROPPED;
	b->ev.dropped = p;
}

void cgp_event_build_agent_started(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns,
				   const char *version, const char *kernel, const struct cgp_bpf *bpf,
				   const struct cgp_previous_instance *prev)
{
	Cgpulse__V1__AgentStarted *p = &b->body.agent_started;

	envelope(b, m, ts_ns);
	cgpulse__v1__agent_started__init(p);
	p->version = text(b, version);
	p->kernel = text(b, kernel);
	p->cgroup_mode = (char *)(bpf->fs.hybrid ? "hybrid" : "v2");
	p->n_programs_attached = bpf->n_attached;
	p->programs_attached = (char **)bpf->attached;
	for (size_t i = 0; i < bpf->n_skipped; i++) {
		size_t room = sizeof(b->fixed) - b->fixed_used;
		int n = snprintf(b->fixed + b->fixed_used, room, "%s: %s", bpf->skipped[i].name, bpf->skipped[i].why);

		if (n < 0 || (size_t)n >= room)
			break;
		b->skipped[p->n_programs_skipped++] = b->fixed + b->fixed_used;
		b->fixed_used += (size_t)n + 1;
	}
	p->programs_skipped = b->skipped;
	p->max_cgroups = bpf->max_cgroups;
	if (prev) {
		p->previous_instance_id = text(b, prev->instance_id);
		p->previous_last_seq = prev->last_seq;
		p->previous_acked_seq = prev->acked_seq;
		p->previous_handed_over = prev->handed_over;
		p->spool_replayed = prev->spool_replayed;
		p->spool_corrupt_records = prev->spool_corrupt;
	}
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_AGENT_STARTED;
	b->ev.agent_started = p;
}

int cgp_event_pack(const struct cgp_event_build *b, struct cgp_buf *out)
{
	size_t n;
	uint8_t *w;

	n = cgpulse__v1__event__get_packed_size(&b->ev);
	w = cgp_buf_reserve(out, n);
	if (!w)
		return -ENOMEM;
	out->len += cgpulse__v1__event__pack(&b->ev, w);
	return 0;
}
