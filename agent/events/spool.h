/* SPDX-License-Identifier: GPL-2.0 */
/* Bounded spool of encoded events not yet acknowledged by the collector. Sent in seq order, resent from the
 * oldest after a reconnect, released by an ack. When full, the oldest samples go first: OOM kills, alerts and
 * the rest go only when no sample is left. Drops are counted for a later Dropped event.
 *
 * The spool holds the events of this agent instance and, after a restart with a spool directory
 * (cgp_spool_open_dir), those a previous instance left unacknowledged, under their own instance ids and
 * sequence numbers: they are sent first, and dropped first when it is full. With a directory every event is also
 * journaled there (spool_disk.h), and the bound holds on disk as in memory. In memory the spool costs what it
 * holds (records in mapped chunks, spool_queue.h) plus a few partly used chunks. */
#ifndef CGP_SPOOL_H
#define CGP_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/spool_disk.h"

struct cgp_spool_entry {
	const char *instance_id; /* whose event: ours, or a previous instance's replayed from the spool directory */
	uint64_t seq;
	const uint8_t *data; /* one serialized cgpulse.v1.Event */
	size_t len;
};

/* What was dropped of one instance since its last cgp_spool_take_drops(). */
struct cgp_spool_drops {
	char instance_id[CGP_JOURNAL_ID_MAX];
	bool own; /* this instance's own events */
	uint64_t samples, others;
	uint64_t first_seq, last_seq; /* lowest and highest seq dropped */
};

struct cgp_spool_stats {
	size_t events, bytes; /* held now (every instance); bytes as the bound counts them */
	size_t mapped;	      /* memory the held events take */
	size_t spare;	      /* emptied chunks kept for the next events (a queue of many chunks a round only) */
	size_t instances;     /* instances with events held, ours included */
	uint64_t pushed_total, acked_total;
	uint64_t dropped_samples_total, dropped_others_total;
	uint64_t last_seq;  /* ours: highest seq pushed */
	uint64_t acked_seq; /* ours: highest ack seen */
	uint64_t replayed;  /* events of previous instances taken from the spool directory at start */
	bool disk;	    /* a spool directory is in use: the journal figures are valid */
	struct cgp_journal_stats journal;
};

/* What the spool directory held at start, for the handover report. */
struct cgp_spool_previous {
	char instance_id[CGP_JOURNAL_ID_MAX]; /* the newest instance before ours ("" when the directory was new) */
	uint64_t last_seq, acked_seq;
	uint64_t covered_seq; /* every seq up to this is on disk, acknowledged, or counted as dropped */
	bool lost;	      /* some of its events never reached the disk */
	bool found;	      /* the directory knows it */
};

struct cgp_spool;

/* instance_id: ours (cgp_spool_push goes to it). Limits by bytes of records (an event plus 16 to 23 bytes) and
 * by event count; 0 means no limit of that kind (not both). */
struct cgp_spool *cgp_spool_new(const char *instance_id, size_t max_bytes, size_t max_events);
void cgp_spool_free(struct cgp_spool *sp);
/* Journals into dir from now on, after taking back what earlier instances left there (they are sent before
 * ours). max_bytes bounds the directory too, and must be set. 0, or -errno with the reason in why. */
int cgp_spool_open_dir(struct cgp_spool *sp, const char *dir, char *why, size_t whylen);
/* What the directory said of the instance before ours (all zero without a directory). */
void cgp_spool_previous(const struct cgp_spool *sp, struct cgp_spool_previous *prev);

/* Copies one encoded event of ours. seq must be above every seq pushed before (-EINVAL); an event larger than
 * the bound can never fit (-E2BIG); -ENOMEM. A sample is droppable; everything else is kept longer and, with a
 * directory, written to it at once. */
int cgp_spool_push(struct cgp_spool *sp, uint64_t seq, bool is_sample, const void *data, size_t len);
/* Releases every event of instance_id with seq <= acked_seq; returns how many (0 for an unknown instance). */
size_t cgp_spool_ack(struct cgp_spool *sp, const char *instance_id, uint64_t acked_seq);
/* After a reconnect: the next unsent event is the oldest held one again. */
void cgp_spool_rewind(struct cgp_spool *sp);
/* The oldest event not yet handed out since the last rewind, or NULL: a previous instance's before ours, and
 * each instance's in seq order. Valid until the next spool call. */
const struct cgp_spool_entry *cgp_spool_peek_unsent(struct cgp_spool *sp);
void cgp_spool_mark_sent(struct cgp_spool *sp); /* hands out the peeked event */
/* Events handed out since the last rewind and not yet acknowledged. */
size_t cgp_spool_in_flight(const struct cgp_spool *sp);
/* Every seq of instance_id below this was acknowledged or dropped: the Batch.base_seq to send. */
uint64_t cgp_spool_base_seq(const struct cgp_spool *sp, const char *instance_id);
/* True when events were dropped since the last cgp_spool_take_drops(). */
bool cgp_spool_has_drops(const struct cgp_spool *sp);
/* True (and one instance's counts, then reset) when events of some instance were dropped since its last call. */
bool cgp_spool_take_drops(struct cgp_spool *sp, struct cgp_spool_drops *out);
void cgp_spool_get_stats(const struct cgp_spool *sp, struct cgp_spool_stats *st);

/* With a directory: writes what is buffered and saves the state that changed (at once when drops changed it,
 * else at most once a second). Call once per loop turn, before sending. */
void cgp_spool_flush(struct cgp_spool *sp, uint64_t now_ns);
/* With a directory: makes what was written durable (fdatasync): at once after OOM kills, alerts and the other
 * urgent events, otherwise once a second. */
void cgp_spool_sync(struct cgp_spool *sp, uint64_t now_ns);

#endif
