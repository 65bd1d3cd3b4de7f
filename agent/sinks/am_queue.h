/* SPDX-License-Identifier: GPL-2.0 */
/* The Alertmanager sink's alerts, and when each Alertmanager gets them. Pure: no I/O, and the caller passes the
 * time (a monotonic clock), so the schedule is tested with a fake one.
 *
 * One entry per (rule, cgroup id) while its alert fires, and after it resolved until every Alertmanager
 * acknowledged the resolve. For each Alertmanager (a target) an entry is due when it is new or changed, and a
 * firing one again resend_ns after each acknowledgement, so no Alertmanager times it out while it holds. A
 * resolve is held back until the alert has been active min_firing_ns (an Alertmanager notifies only after its
 * group_wait: an alert resolved before that would page nobody), then sent with its true endsAt. A target has one
 * batch in flight at a time; a failed batch leaves its alerts due and the target waits a jittered, doubling
 * backoff. The entries are bounded: when full, the oldest resolved entry still waiting for delivery makes room,
 * else the new alert is dropped; both are counted. */
#ifndef CGP_AM_QUEUE_H
#define CGP_AM_QUEUE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGP_AMQ_MAX_TARGETS 8

enum cgp_amq_outcome {
	CGP_AMQ_OK,	  /* 2xx: the batch is acknowledged */
	CGP_AMQ_FAILED,	  /* unreachable, timed out, 5xx, 408, 429: retried after a backoff */
	CGP_AMQ_REJECTED, /* another 4xx: the Alertmanager refuses these alerts; not retried before they are due */
};

struct cgp_amq_cfg {
	unsigned n_targets;	 /* 1..CGP_AMQ_MAX_TARGETS */
	size_t max_alerts;	 /* bound of the entries held */
	size_t batch_max;	 /* alerts in one post */
	uint64_t resend_ns;	 /* a firing alert is posted again this long after its last acknowledgement */
	uint64_t min_firing_ns;	 /* a resolve waits until the alert has been active this long */
	uint64_t backoff_min_ns; /* a failed post waits [b/2, b] before the next, b doubling from min ... */
	uint64_t backoff_max_ns; /* ... up to max */
	uint64_t seed;		 /* jitter: differs between agents that must not retry in lockstep */
};

struct cgp_amq_target_stats {
	bool up;			 /* the last post was answered (2xx or a refusal) */
	uint64_t posts_ok, posts_failed; /* batches acknowledged; batches that failed */
	uint64_t posts_rejected;	 /* batches refused with a 4xx */
	uint64_t retries;		 /* posts made while the previous one to this target had failed */
	uint64_t sent_firing;		 /* firing alerts acknowledged, re-sends included */
	uint64_t sent_resolved;		 /* resolved alerts acknowledged */
	uint64_t rejected;		 /* alerts in refused batches */
};

struct cgp_amq_stats {
	size_t alerts;		/* entries held: firing, or resolved and not yet delivered everywhere */
	size_t firing;		/* of those, firing */
	uint64_t dropped_full;	/* alerts lost to the bound (a new one refused, or an undelivered resolve evicted) */
	uint64_t resolves_lost; /* resolves of an alert the queue did not hold (it was dropped) */
	struct cgp_amq_target_stats t[CGP_AMQ_MAX_TARGETS];
};

struct cgp_amq;

/* NULL on a bad cfg or out of memory. */
struct cgp_amq *cgp_amq_new(const struct cgp_amq_cfg *cfg);
void cgp_amq_free(struct cgp_amq *q);

/* (rule, cgroup_id) fires; alert is the object posted to Alertmanager, taken over (also on error). Replaces the
 * entry's alert if it had one (a rule that fired again before its resolve was delivered). 0, -ENOSPC (dropped:
 * full of firing alerts) or -ENOMEM. */
int cgp_amq_fire(struct cgp_amq *q, const char *rule, uint64_t cgroup_id, json_t *alert, uint64_t now);
/* (rule, cgroup_id) resolved; alert (taken over) is the object with its endsAt. 0, or -ENOENT when the queue
 * holds no such alert (its firing was dropped). */
int cgp_amq_resolve(struct cgp_amq *q, const char *rule, uint64_t cgroup_id, json_t *alert, uint64_t now);
/* The object the entry fired with (borrowed), or NULL: a resolve keeps its labels and startsAt. */
const json_t *cgp_amq_fired(const struct cgp_amq *q, const char *rule, uint64_t cgroup_id);

/* What target should post now, appended to batch (a JSON array; new references): how many alerts, 0 when
 * nothing is due, the target backs off, or its previous batch has not ended. */
size_t cgp_amq_take(struct cgp_amq *q, unsigned target, uint64_t now, json_t *batch);
/* The target's batch ended so. */
void cgp_amq_done(struct cgp_amq *q, unsigned target, enum cgp_amq_outcome o, uint64_t now);
/* When target next has something to post (a time <= now: at once), or UINT64_MAX: nothing, or a batch in flight. */
uint64_t cgp_amq_next(const struct cgp_amq *q, unsigned target);
/* True while a resolve waits for delivery to some target, held ones aside (the agent's exit gives them a
 * moment; a held one stays unsent: the Alertmanager times the alert out itself, after notifying). */
bool cgp_amq_resolves_pending(const struct cgp_amq *q);

void cgp_amq_get_stats(const struct cgp_amq *q, struct cgp_amq_stats *st);

#endif
