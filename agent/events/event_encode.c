// SPDX-License-Identifier: GPL-2.0
/* Agent structs → cgpulse.v1.Event. protobuf-c wants char * for strings; nothing here writes through them. */
#include "events/event_encode.h"

#include <errno.h>
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

/* Every body that names a cgroup has the attribution fields at the same place; a macro keeps them in one line. */
#define SET_ATTRIBUTION(b, msg, a)                                                                                     \
	do {                                                                                                           \
		if (a) {                                                                                               \
			(msg)->container_id = text(b, (a)->container_id);                                              \
			(msg)->runtime = text(b, (a)->runtime);                                                        \
			(msg)->pod = text(b, (a)->pod);                                                                \
			(msg)->namespace_ = text(b, (a)->namespace_);                                                  \
			(msg)->container_name = text(b, (a)->container_name);                                          \
			(msg)->pod_uid = text(b, (a)->pod_uid);                                                        \
			(msg)->qos_class = text(b, (a)->qos_class);                                                    \
			(msg)->image = text(b, (a)->image);                                                            \
		}                                                                                                      \
	} while (0)

void cgp_event_build_sample(struct cgp_event_build *b, const struct cgp_event_meta *m, const struct cgp_sample *s,
			    const struct cgp_attribution *a)
{
	Cgpulse__V1__Sample *p = &b->body.sample;
	size_t n = CGP_RUNQ_SLOTS;

	envelope(b, m, s->ts_ns);
	cgpulse__v1__sample__init(p);
	p->cgroup_id = s->cgroup_id;
	p->path = text(b, s->path);
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
	p->cpu_pct = s->cpu_pct;
	p->mem_pct = s->mem_pct;
	p->cpu_pct_of = (char *)(s->cpu_pct_of_node ? "node" : "limit");
	p->mem_pct_of = (char *)(s->mem_pct_of_node ? "node" : "limit");
	/* trailing empty slots carry nothing: leave them out (most windows touch only a few low slots) */
	while (n && !s->runq_hist_window[n - 1])
		n--;
	p->n_runq_hist_window = n;
	p->runq_hist_window = (uint64_t *)s->runq_hist_window;
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
	p->path = text(b, o->path);
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

void cgp_event_build_cgroup_started(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns,
				    uint64_t cgroup_id, const char *path, const struct cgp_attribution *a)
{
	Cgpulse__V1__CgroupStarted *p = &b->body.cgroup_started;

	envelope(b, m, ts_ns);
	cgpulse__v1__cgroup_started__init(p);
	p->cgroup_id = cgroup_id;
	p->path = text(b, path);
	SET_ATTRIBUTION(b, p, a);
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_CGROUP_STARTED;
	b->ev.cgroup_started = p;
}

void cgp_event_build_cgroup_stopped(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns,
				    uint64_t cgroup_id, const char *path, const struct cgp_attribution *a)
{
	Cgpulse__V1__CgroupStopped *p = &b->body.cgroup_stopped;

	envelope(b, m, ts_ns);
	cgpulse__v1__cgroup_stopped__init(p);
	p->cgroup_id = cgroup_id;
	p->path = text(b, path);
	SET_ATTRIBUTION(b, p, a);
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_CGROUP_STOPPED;
	b->ev.cgroup_stopped = p;
}

void cgp_event_build_gap(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns,
			 uint64_t first_missed_seq, uint64_t last_missed_seq)
{
	Cgpulse__V1__Gap *p = &b->body.gap;

	envelope(b, m, ts_ns);
	b->ev.seq = 0;
	cgpulse__v1__gap__init(p);
	p->first_missed_seq = first_missed_seq;
	p->last_missed_seq = last_missed_seq;
	p->missed = last_missed_seq >= first_missed_seq ? last_missed_seq - first_missed_seq + 1 : 0;
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_GAP;
	b->ev.gap = p;
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
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_DROPPED;
	b->ev.dropped = p;
}

void cgp_event_build_agent_started(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns,
				   const char *version, const char *kernel, const char *cgroup_mode, char **attached,
				   size_t n_attached, char **skipped, size_t n_skipped, uint32_t max_cgroups)
{
	Cgpulse__V1__AgentStarted *p = &b->body.agent_started;

	envelope(b, m, ts_ns);
	cgpulse__v1__agent_started__init(p);
	p->version = text(b, version);
	p->kernel = text(b, kernel);
	p->cgroup_mode = text(b, cgroup_mode);
	p->n_programs_attached = n_attached;
	p->programs_attached = attached;
	p->n_programs_skipped = n_skipped;
	p->programs_skipped = skipped;
	p->max_cgroups = max_cgroups;
	b->ev.body_case = CGPULSE__V1__EVENT__BODY_AGENT_STARTED;
	b->ev.agent_started = p;
}

size_t cgp_event_packed_size(const struct cgp_event_build *b)
{
	return cgpulse__v1__event__get_packed_size(&b->ev);
}

int cgp_event_pack(const struct cgp_event_build *b, struct cgp_buf *out)
{
	size_t n = cgpulse__v1__event__get_packed_size(&b->ev);
	uint8_t *w = cgp_buf_reserve(out, n);

	if (!w)
		return -ENOMEM;
	out->len += cgpulse__v1__event__pack(&b->ev, w);
	return 0;
}
