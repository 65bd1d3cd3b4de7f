/* SPDX-License-Identifier: GPL-2.0 */
/* What the collector stores, and the promise an Ack makes: an acknowledged event is on disk (fdatasync).
 *
 * Group commit: the batches a loop turn reads, from every agent, are deduplicated and written as one group; at
 * the end of the turn the group is made durable with one fdatasync, and only then are its Acks handed out. One
 * sync serves every agent of the turn, so it costs per turn, not per batch. A group that cannot be written or
 * synced (a full disk) is taken back whole: the file is cut back to the last synced length, the group's events are
 * forgotten by the dedup state (the agents still hold them and send them again), no Ack goes out, and each
 * connection of the group is told why. The error is logged and counted, and the collector keeps serving. */
#ifndef CGP_COLLECTOR_STORE_H
#define CGP_COLLECTOR_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/wire.h"

struct cgp_store_stats {
	uint64_t batches, events_stored, duplicates; /* kept (of groups made durable) */
	uint64_t groups, syncs;			     /* groups committed; fdatasync calls */
	uint64_t failed_groups, failed_events;	     /* taken back: not acknowledged */
	uint64_t replayed;			     /* events read back from the file at start */
	uint64_t trimmed;			     /* bytes of a cut-short last record trimmed at start */
	uint64_t refused_floor;			     /* batches refused: base_seq past the events they carry */
	size_t instances;
	bool durable; /* acks promise the disk (false: stdout to a pipe) */
};

/* What commit hands out, per connection (owner) of the group: its Acks, or why nothing of it was stored. */
struct cgp_store_sink {
	void (*ack)(void *owner, const char *instance_id, uint64_t acked_seq, void *ctx);
	void (*fail)(void *owner, const char *why, void *ctx);
	void *ctx;
};

struct cgp_store;

/* path NULL or "-": JSON lines on stdout. An existing file is read back (dedup state). 0 or -errno + why. */
int cgp_store_open(struct cgp_store **out, const char *path, char *why, size_t whylen);
void cgp_store_close(struct cgp_store *st); /* commits what is pending (nobody is acknowledged) */

/* Adds one decoded batch from owner to the open group: its new events are written, duplicates skipped, and an
 * Ack for its instance is due at commit. NULL, or why the connection must be closed (a batch that breaks the
 * protocol; nothing of it is kept). *stored and *dups count this batch's events. */
const char *cgp_store_batch(struct cgp_store *st, const struct cgp_wire_batch *b, void *owner, uint64_t *stored,
			    uint64_t *dups, char *why, size_t whylen);
/* Makes the open group durable and hands out its Acks (or its failure) through sink. */
void cgp_store_commit(struct cgp_store *st, const struct cgp_store_sink *sink);
/* owner's connection is gone: nothing is handed to it any more. */
void cgp_store_forget(struct cgp_store *st, const void *owner);
void cgp_store_get_stats(const struct cgp_store *st, struct cgp_store_stats *out);

#endif
