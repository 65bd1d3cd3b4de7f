/* SPDX-License-Identifier: GPL-2.0 */
/* A FIFO of spooled event records kept in chunks mapped straight from the kernel, so that its memory follows its
 * content: a chunk goes back to the system as soon as its last record is released, and the queue costs the
 * records it holds plus at most one partly released chunk at the head (a malloc per event cost 1.6x the bytes it
 * held, and more as the heap fragmented). Records are appended at the tail and released at the head; a send
 * cursor walks them in between. */
#ifndef CGP_SPOOL_QUEUE_H
#define CGP_SPOOL_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGP_SQ_CHUNK (64u << 10) /* a record larger than this gets a chunk of its own size */

struct cgp_sq_rec {
	uint64_t seq;
	uint32_t len;
	uint32_t seg;	/* the spool_disk segment holding this record; 0: none */
	uint8_t data[]; /* one serialized cgpulse.v1.Event, padded to 8 bytes */
};

struct cgp_sq_chunk;

struct cgp_sq_pos {
	struct cgp_sq_chunk *c;
	size_t off;
};

struct cgp_sq {
	struct cgp_sq_chunk *head, *tail;
	size_t head_off;
	size_t n;	       /* records held */
	size_t bytes;	       /* their size as cgp_sq_rec_size counts it */
	size_t mapped;	       /* bytes of chunks mapped */
	struct cgp_sq_pos cur; /* the next record to send */
	size_t sent;	       /* records [head, cur) were handed out since the last rewind */
	/* Emptied chunks kept for the next records instead of unmapped and mapped again (16 page faults each), but
	 * only on a queue that goes through more than CGP_SQ_SPARE_FROM chunks between two moments it is down to one
	 * (an interval's samples of thousands of containers, acked): as many as the last such round used. */
	struct cgp_sq_chunk *spare;
	size_t spares, spare_max;
	size_t chunks, peak; /* chunks in the queue; the most since it was last down to one */
};

/* A queue whose rounds stay within this many chunks (1 MiB: ~4,000 samples) keeps no spare: what it holds is what it
 * maps. 1,000 containers take 4-5 chunks an interval, twice that when an ack comes an interval late. */
#define CGP_SQ_SPARE_FROM 16

/* What one record of len bytes of event costs in a queue. */
static inline size_t cgp_sq_rec_size(size_t len)
{
	return sizeof(struct cgp_sq_rec) + ((len + 7) & ~(size_t)7);
}

/* What a push of len bytes adds to bytes: the record, and the room it leaves unused in a full tail chunk. */
size_t cgp_sq_push_cost(const struct cgp_sq *q, size_t len);
/* 0 or -ENOMEM. */
int cgp_sq_push(struct cgp_sq *q, uint64_t seq, uint32_t seg, const void *data, size_t len);
/* The oldest record, or NULL. */
struct cgp_sq_rec *cgp_sq_head(const struct cgp_sq *q);
void cgp_sq_pop(struct cgp_sq *q); /* releases the oldest record */
/* The next record not yet handed out since the last rewind, or NULL; mark_sent hands it out. */
struct cgp_sq_rec *cgp_sq_unsent(struct cgp_sq *q);
void cgp_sq_mark_sent(struct cgp_sq *q);
void cgp_sq_rewind(struct cgp_sq *q);
void cgp_sq_free(struct cgp_sq *q); /* releases everything (spares too); the queue is empty and usable again */

#endif
