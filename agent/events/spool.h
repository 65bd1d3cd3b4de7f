/* SPDX-License-Identifier: GPL-2.0 */
/* Bounded spool of encoded events not yet acknowledged by the collector. Sent in seq order, resent from the
 * oldest after a reconnect, released by an ack. When full, the oldest samples go first: OOM kills, alerts and
 * the rest go only when no sample is left. Drops are counted for a later Dropped event. */
#ifndef CGP_SPOOL_H
#define CGP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgp_spool_entry {
	uint64_t seq;
	uint8_t *data; /* one serialized cgpulse.v1.Event */
	size_t len;
};

/* What was dropped since the last cgp_spool_take_drops(). */
struct cgp_spool_drops {
	uint64_t samples, others;
	uint64_t first_seq, last_seq; /* lowest and highest seq dropped */
};

struct cgp_spool_stats {
	size_t events, bytes; /* held now */
	uint64_t pushed_total, acked_total;
	uint64_t dropped_samples_total, dropped_others_total;
	uint64_t acked_seq; /* highest ack seen */
};

struct cgp_spool;

/* Limits by bytes of event data and by event count; 0 means no limit of that kind (not both). */
struct cgp_spool *cgp_spool_new(size_t max_bytes, size_t max_events);
void cgp_spool_free(struct cgp_spool *sp);

/* Copies one encoded event. seq must be above every seq pushed before (-EINVAL); an event larger than
 * max_bytes can never fit (-E2BIG); -ENOMEM. A sample is droppable; everything else is kept longer. */
int cgp_spool_push(struct cgp_spool *sp, uint64_t seq, bool is_sample, const void *data, size_t len);
/* Releases every event with seq <= acked_seq; returns how many. */
size_t cgp_spool_ack(struct cgp_spool *sp, uint64_t acked_seq);
/* After a reconnect: the next unsent event is the oldest held one again. */
void cgp_spool_rewind(struct cgp_spool *sp);
/* The oldest event not yet handed out since the last rewind, or NULL. Valid until the next spool call. */
const struct cgp_spool_entry *cgp_spool_peek_unsent(const struct cgp_spool *sp);
void cgp_spool_mark_sent(struct cgp_spool *sp); /* hands out the peeked event */
/* Every seq below this was acknowledged or dropped: the Batch.base_seq to send. */
uint64_t cgp_spool_base_seq(const struct cgp_spool *sp);
/* True when events were dropped since the last cgp_spool_take_drops(). */
bool cgp_spool_has_drops(const struct cgp_spool *sp);
/* True (and the counts, then reset) when events were dropped since the last call. */
bool cgp_spool_take_drops(struct cgp_spool *sp, struct cgp_spool_drops *out);
void cgp_spool_get_stats(const struct cgp_spool *sp, struct cgp_spool_stats *st);

#endif
