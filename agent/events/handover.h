/* SPDX-License-Identifier: GPL-2.0 */
/* What one agent instance on a node hands to the next. The pinned agent_state map (bpf/cgpulse.h) says which
 * instance ran before, what it published and what the collector acknowledged, even when it was killed without
 * warning; the spool directory says whether its unacknowledged events are there to be sent. The new instance's
 * agent_started event carries the result, so a restart that could not hand over shows as a hole with a name
 * instead of a silent jump. */
#ifndef CGP_HANDOVER_H
#define CGP_HANDOVER_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>

#include "cgpulse.h"
#include "events/spool.h"

/* The instance before this one, as agent_started reports it. */
struct cgp_previous_instance {
	char instance_id[CGP_JOURNAL_ID_MAX]; /* "" when none is known */
	uint64_t last_seq, acked_seq;
	bool handed_over;	 /* its unacknowledged events are being sent, or it owed none */
	uint64_t spool_replayed; /* events of earlier instances taken from the spool directory */
	uint64_t spool_corrupt;	 /* torn or corrupt records found there, skipped */
};

struct cgp_handover {
	struct cgp_agent_state *pinned; /* NULL without pins */
	struct cgp_previous_instance prev;
};

/* Works out what the instance before this one left, from the pinned state (may be NULL) and the spool (NULL
 * without a collector; its directory, if any, already replayed), then claims the pinned state for instance_id.
 * flags: enum cgp_agent_flags of this instance. */
void cgp_handover_begin(struct cgp_handover *h, struct cgp_agent_state *pinned, const char *instance_id, unsigned flags,
			const struct cgp_spool *sp);
/* Keeps the pinned state current: call once per loop turn, after the spool's flush. */
void cgp_handover_note(struct cgp_handover *h, uint64_t last_seq, uint64_t acked_seq);

#endif
