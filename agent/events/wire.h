/* SPDX-License-Identifier: GPL-2.0 */
/* The collector protocol's messages (proto/README.md): building a Batch frame from already-serialized events
 * without re-encoding them, building an Ack frame, and decoding a received frame into a Batch or an Ack. */
#ifndef CGP_WIRE_H
#define CGP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/arena.h"
#include "lib/bytebuf.h"
#include "cgpulse/v1/event.pb-c.h"

/* A Batch being assembled. A Batch's events field is "tag, length, bytes" per event, so serialized events are
 * appended as they are. */
struct cgp_batch {
	struct cgp_buf body;
	struct cgp_buf z; /* compression scratch */
	void *zstate;	  /* the compressor's state, kept from one batch to the next until cgp_batch_release */
	size_t events;
};

void cgp_batch_init(struct cgp_batch *b);
void cgp_batch_free(struct cgp_batch *b);
int cgp_batch_add(struct cgp_batch *b, const void *event, size_t len); /* 0 or -ENOMEM */
void cgp_batch_reset(struct cgp_batch *b);			       /* drops what was added */
/* Size the batch's frame would have uncompressed. */
static inline size_t cgp_batch_bytes(const struct cgp_batch *b)
{
	return cgp_buf_size(&b->body);
}
/* Appends one frame carrying the batch to out (Frame.batch_zlib when zlevel > 0, else Frame.batch), then
 * empties the batch. 0, -ENOMEM, -EIO. The compressor's state (~276 KiB, mapped) is kept for the next batch. */
int cgp_batch_finish(struct cgp_batch *b, const char *instance_id, uint64_t base_seq, int zlevel, struct cgp_buf *out);
/* Gives the compressor's state back to the system: after a burst of batches (cgp_batch_free does too). */
void cgp_batch_release(struct cgp_batch *b);

/* Appends one frame carrying Ack{instance_id, acked_seq}. */
int cgp_wire_append_ack(struct cgp_buf *out, const char *instance_id, uint64_t acked_seq);
/* Appends one frame carrying Hello{token}. */
int cgp_wire_append_hello(struct cgp_buf *out, const char *token);

/* One event's bytes as the agent serialized it (what a .pb log stores): they point into the frame, or into
 * scratch when the batch came compressed, so they live as long as those do. */
struct cgp_wire_raw {
	const uint8_t *data;
	size_t len;
};

/* A decoded Batch: its fields walked once, each event unpacked once. The names follow Cgpulse__V1__Batch, so it
 * reads as the generated struct would. */
struct cgp_wire_batch {
	const char *instance_id; /* "" when the Batch names none */
	uint64_t base_seq;
	size_t n_events;
	Cgpulse__V1__Event **events;
	struct cgp_wire_raw *raw; /* raw[i] is events[i] as sent */
	size_t cap;		  /* room in events and raw */
	struct cgp_arena mem;	  /* the unpacked events' memory: let go as one with the batch */
	char id[];		  /* instance_id's storage */
};

/* A decoded frame: exactly one of batch, ack and hello is set. */
struct cgp_wire_msg {
	struct cgp_wire_batch *batch;
	Cgpulse__V1__Ack *ack;
	Cgpulse__V1__Hello *hello;
	bool compressed;
};

/* Decodes the message of one frame. scratch holds the inflated batch (reused between calls); max_inflate
 * bounds it. 0, or -EBADMSG / -EMSGSIZE / -ENOMEM with a reason in why. */
int cgp_wire_decode(const uint8_t *msg, size_t len, size_t max_inflate, struct cgp_buf *scratch,
		    struct cgp_wire_msg *out, char *why, size_t whylen);
void cgp_wire_msg_free(struct cgp_wire_msg *m);

#endif
