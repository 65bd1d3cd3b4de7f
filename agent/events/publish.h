/* SPDX-License-Identifier: GPL-2.0 */
/* Every event the agent emits goes through here once: it gets the next sequence number of this agent
 * instance, is encoded once (protobuf), and goes to each sink: stdout (text or JSON, the proto's field names),
 * the collector's spool (at-least-once), and a hook for the HTTP stream. */
#ifndef CGP_PUBLISH_H
#define CGP_PUBLISH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "playbook/alert.h"
#include "lib/bytebuf.h"
#include "names/cgroup_names.h"
#include "events/event_encode.h"
#include "collect/sample.h"

struct cgp_spool;
struct cgp_cc;

typedef void (*cgp_event_hook)(void *arg, uint64_t seq, const void *pb, size_t len);

struct cgp_publisher {
	char node[256];
	char instance_id[40]; /* a random UUID, new on each start */
	uint64_t seq;	      /* of the last event */
	bool json;
	bool text_samples; /* text mode prints sample rows (run) */
	FILE *out;	   /* NULL: nothing on stdout */
	struct cgp_spool *spool;
	struct cgp_cc *cc;
	cgp_event_hook hook;
	void *hook_arg;
	struct cgp_buf pb, js;
	struct cgp_event_build b; /* large: kept here, not on the stack */
	uint64_t published, spool_refused;
};

/* node NULL: $NODE_NAME, else the host name. */
int cgp_pub_init(struct cgp_publisher *p, const char *node, bool json, FILE *out);
void cgp_pub_free(struct cgp_publisher *p);

void cgp_pub_sample(struct cgp_publisher *p, const struct cgp_sample *s);
void cgp_pub_oom(struct cgp_publisher *p, const struct cgp_oom_event *e);
/* n: the cgroup's identity for the container fields (NULL when unknown) */
void cgp_pub_alert(struct cgp_publisher *p, const struct cgp_alert *a, const struct cgp_cgname *n);
void cgp_pub_cgroup(struct cgp_publisher *p, bool started, uint64_t cgroup_id, uint64_t ts_ns,
		    const struct cgp_cgname *n);
struct cgp_bpf;
/* The first event of an instance: programs attached and skipped (and why), kernel, cgroup layout. */
void cgp_pub_agent_started(struct cgp_publisher *p, const struct cgp_bpf *b);
/* The spool dropped events: report how many, as an event of its own. */
void cgp_pub_dropped(struct cgp_publisher *p);

#endif
