/* SPDX-License-Identifier: GPL-2.0 */
/* Every event the agent emits goes through here once: it gets the next sequence number of this agent
 * instance, is encoded once (protobuf), and is written to each place that holds events for a sink: stdout (text
 * or JSON, the proto's field names), the collector's spool (at-least-once), and the ring of recent events that
 * HTTP streams read. The sinks (sinks/) read those; nothing here calls them. */
#ifndef CGP_PUBLISH_H
#define CGP_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "collect/loader.h"
#include "collect/sample.h"
#include "events/event_encode.h"
#include "events/event_ring.h"
#include "events/sample_pack.h"
#include "events/spool.h"
#include "lib/bytebuf.h"
#include "names/attribution.h"
#include "playbook/alert.h"

struct cgp_publisher {
	char node[256];
	char instance_id[64]; /* a random UUID, new on each start */
	uint64_t seq;	      /* of the last event */
	bool json;
	bool text_samples;	     /* text mode prints sample rows (run) */
	bool no_out_samples;	     /* samples do not go to out, as JSON or text (run --stdout events) */
	FILE *out;		     /* NULL: nothing on stdout */
	struct cgp_spool *spool;     /* NULL: no collector */
	struct cgp_event_ring *ring; /* NULL: no HTTP stream */
	bool urgent;		     /* an OOM kill, alert or report was spooled: the collector should send now */
	uint64_t drops_reported_ns;  /* when the last Dropped event was published */
	struct cgp_buf pb, js;
	struct cgp_event_build b;	    /* large: kept here, not on the stack */
	struct cgp_sample_head sample_head; /* node and instance id as every Sample starts, made at the first */
	bool sample_head_made;
	uint64_t published;	/* events given a seq */
	uint64_t spool_refused; /* not taken by the spool (counted by its own drop figures too) */
	uint64_t ring_refused;	/* not taken by the ring: streams get a Gap for them */
	uint64_t encode_failed; /* out of memory encoding: the seq is lost to every sink, consumers see a gap */
};

/* node NULL: $NODE_NAME, else the host name. */
int cgp_pub_init(struct cgp_publisher *p, const char *node, bool json, FILE *out);
void cgp_pub_free(struct cgp_publisher *p);

void cgp_pub_sample(struct cgp_publisher *p, const struct cgp_sample *s, const struct cgp_attribution *a);
void cgp_pub_oom(struct cgp_publisher *p, const struct cgp_oom_event *e, const struct cgp_attribution *a);
void cgp_pub_alert(struct cgp_publisher *p, const struct cgp_alert *al, const struct cgp_attribution *a);
void cgp_pub_cgroup(struct cgp_publisher *p, bool started, uint64_t cgroup_id, uint64_t ts_ns,
		    const struct cgp_attribution *a);
/* The first event of an instance: programs attached and skipped (and why), kernel, cgroup layout, and the
 * instance before it (prev may be NULL). */
void cgp_pub_agent_started(struct cgp_publisher *p, const struct cgp_bpf *b, const struct cgp_previous_instance *prev);
/* Reports the spool's drops when it is due: only while the collector is connected (live) and at most once per
 * interval_ns, since pushing the report into a full spool drops one more sample, which must not turn into a
 * report per batch. One Dropped event per instance whose events were dropped (a previous instance's replayed
 * ones are named by Dropped.instance_id). True when it published any. */
bool cgp_pub_report_drops(struct cgp_publisher *p, bool live, uint64_t now_ns, uint64_t interval_ns);

#endif
