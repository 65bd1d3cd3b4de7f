/* SPDX-License-Identifier: GPL-2.0 */
/* Builds a cgpulse.v1.Event from the agent's own structs (sample, OOM kill, alert, cgroup start/stop, gap,
 * dropped) and serializes it. Building fills protobuf-c structs that point into the inputs: no allocation,
 * so the inputs must outlive the build. The same built Event feeds the JSON output (event_json.h). */
#ifndef CGP_EVENT_ENCODE_H
#define CGP_EVENT_ENCODE_H

#include <stdbool.h>
#include <stdint.h>

#include "cgpulse/v1/event.pb-c.h"
#include "collect/loader.h"
#include "collect/sample.h"
#include "events/handover.h"
#include "events/spool.h"
#include "lib/bytebuf.h"
#include "names/attribution.h"
#include "playbook/alert.h"

/* Envelope of every event. */
struct cgp_event_meta {
	const char *node;
	const char *instance_id;
	uint64_t seq; /* 0 only for a Gap */
};

/* One event being built. Points into itself, so it must not be copied or moved once built. */
struct cgp_event_build {
	Cgpulse__V1__Event ev;
	union {
		Cgpulse__V1__Sample sample;
		Cgpulse__V1__OomKill oom_kill;
		Cgpulse__V1__Alert alert;
		Cgpulse__V1__CgroupStarted cgroup_started;
		Cgpulse__V1__CgroupStopped cgroup_stopped;
		Cgpulse__V1__Gap gap;
		Cgpulse__V1__Dropped dropped;
		Cgpulse__V1__AgentStarted agent_started;
	} body;
	Cgpulse__V1__Attribution attribution;
	char *skipped[CGP_MAX_PROGS]; /* AgentStarted's "name: reason" strings, in fixed */
	char comm[17];		      /* the kernel's comm need not be NUL-terminated */
	char fixed[4096];	      /* strings that were not valid UTF-8, with the bad bytes replaced by '?' */
	size_t fixed_used;
};

/* a: who the cgroup is (never NULL: cgp_attribution_unknown when nobody knows). Every event that names a cgroup
 * carries a, whole, as its Attribution (and, for older consumers, as the flat fields 32-39). */
void cgp_event_build_sample(struct cgp_event_build *b, const struct cgp_event_meta *m, const struct cgp_sample *s,
			    const struct cgp_attribution *a);
void cgp_event_build_oom_kill(struct cgp_event_build *b, const struct cgp_event_meta *m, const struct cgp_oom_event *o,
			      const struct cgp_attribution *a);
void cgp_event_build_alert(struct cgp_event_build *b, const struct cgp_event_meta *m, const struct cgp_alert *al,
			   const struct cgp_attribution *a);
void cgp_event_build_cgroup(struct cgp_event_build *b, const struct cgp_event_meta *m, bool started, uint64_t ts_ns,
			    uint64_t cgroup_id, const struct cgp_attribution *a);
void cgp_event_build_dropped(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns,
			     const struct cgp_spool_drops *d);
/* The loader's account of this kernel: programs attached, and skipped with why; and the instance that ran
 * before (prev may be NULL: none known). */
void cgp_event_build_agent_started(struct cgp_event_build *b, const struct cgp_event_meta *m, uint64_t ts_ns,
				   const char *version, const char *kernel, const struct cgp_bpf *bpf,
				   const struct cgp_previous_instance *prev);
/* A Gap (outside the sequence: seq 0) for one stream consumer, serialized and appended to out; 0 or -ENOMEM. */
int cgp_event_encode_gap(const char *node, const char *instance_id, uint64_t ts_ns, uint64_t first_missed_seq,
			 uint64_t last_missed_seq, struct cgp_buf *out);
/* True for the events the spool may drop first. */
static inline bool cgp_event_is_sample(const Cgpulse__V1__Event *ev)
{
	return ev->body_case == CGPULSE__V1__EVENT__BODY_SAMPLE;
}

/* Appends the serialized Event to out; 0 or -ENOMEM. */
int cgp_event_pack(const struct cgp_event_build *b, struct cgp_buf *out);

#endif
