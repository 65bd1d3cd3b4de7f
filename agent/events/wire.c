// SPDX-License-Identifier: GPL-2.0
/* Collector protocol messages, assembled and walked by hand in protobuf's wire format where that saves a copy, a
 * re-encode or a second pass, and unpacked with protobuf-c where fields are needed (each Event, an Ack). */
#include "events/wire.h"
#include "events/pb_unpack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events/frame.h"

/* protobuf keys: field number << 3 | wire type (0 varint, 2 length-delimited) */
#define KEY(field, wt) ((uint8_t)((field) << 3 | (wt)))
#define WT_VARINT      0
#define WT_I64	       1
#define WT_LEN	       2
#define WT_I32	       5

static int put_len_field(struct cgp_buf *out, uint8_t key, const void *p, size_t n)
{
	uint8_t *w = cgp_buf_reserve(out, 1 + CGP_VARINT_MAX + n);

	if (!w)
		return -ENOMEM;
	w[0] = key;
	size_t h = 1 + cgp_varint_put(w + 1, n);

	if (n)
		memcpy(w + h, p, n);
	out->len += h + n;
	return 0;
}

void cgp_batch_init(struct cgp_batch *b)
{
	memset(b, 0, sizeof(*b));
}

void cgp_batch_free(struct cgp_batch *b)
{
	cgp_buf_free(&b->body);
	cgp_buf_free(&b->z);
	cgp_batch_release(b);
}

void cgp_batch_release(struct cgp_batch *b)
{
	cgp_zlib_release(&b->zstate);
}

int cgp_batch_add(struct cgp_batch *b, const void *event, size_t len)
{
	int err = put_len_field(&b->body, KEY(1, WT_LEN), event, len); /* Batch.events */

	if (!err)
		b->events++;
	return err;
}

void cgp_batch_reset(struct cgp_batch *b)
{
	cgp_buf_clear(&b->body);
	b->events = 0;
}

int cgp_batch_finish(struct cgp_batch *b, const char *instance_id, uint64_t base_seq, int zlevel, struct cgp_buf *out)
{
	uint8_t v[1 + CGP_VARINT_MAX];
	int err;

	err = put_len_field(&b->body, KEY(2, WT_LEN), instance_id, strlen(instance_id)); /* Batch.instance_id */
	if (err)
		goto out;
	v[0] = KEY(3, WT_VARINT); /* Batch.base_seq */
	err = cgp_buf_append(&b->body, v, 1 + cgp_varint_put(v + 1, base_seq));
	if (err)
		goto out;
	const uint8_t *payload = cgp_buf_head(&b->body);
	size_t n = cgp_buf_size(&b->body);
	uint8_t key = KEY(1, WT_LEN); /* Frame.batch */

	if (zlevel > 0) {
		cgp_buf_clear(&b->z);
		err = cgp_zlib_compress_keep(payload, n, zlevel, &b->z, &b->zstate);
		if (err)
			goto out;
		payload = cgp_buf_head(&b->z);
		n = cgp_buf_size(&b->z);
		key = KEY(2, WT_LEN); /* Frame.batch_zlib */
	}
	/* frame = varint(len(Frame)) + Frame, and Frame = key + varint(n) + payload */
	uint8_t *w = cgp_buf_reserve(out, 2 * CGP_VARINT_MAX + 1 + n);

	if (!w) {
		err = -ENOMEM;
		goto out;
	}
	size_t h = cgp_varint_put(w, 1 + cgp_varint_len(n) + n);

	w[h++] = key;
	h += cgp_varint_put(w + h, n);
	memcpy(w + h, payload, n);
	out->len += h + n;
out:
	cgp_batch_reset(b);
	return err;
}

/* Appends f as one frame. */
static int append_frame(struct cgp_buf *out, const Cgpulse__V1__Frame *f)
{
	size_t n = cgpulse__v1__frame__get_packed_size(f);
	uint8_t *w = cgp_buf_reserve(out, CGP_VARINT_MAX + n);

	if (!w)
		return -ENOMEM;
	size_t h = cgp_varint_put(w, n);

	out->len += h + cgpulse__v1__frame__pack(f, w + h);
	return 0;
}

int cgp_wire_append_ack(struct cgp_buf *out, const char *instance_id, uint64_t acked_seq)
{
	Cgpulse__V1__Ack ack = CGPULSE__V1__ACK__INIT;
	Cgpulse__V1__Frame f = CGPULSE__V1__FRAME__INIT;

	ack.instance_id = (char *)instance_id;
	ack.acked_seq = acked_seq;
	f.kind_case = CGPULSE__V1__FRAME__KIND_ACK;
	f.ack = &ack;
	return append_frame(out, &f);
}

int cgp_wire_append_hello(struct cgp_buf *out, const char *token)
{
	Cgpulse__V1__Hello hello = CGPULSE__V1__HELLO__INIT;
	Cgpulse__V1__Frame f = CGPULSE__V1__FRAME__INIT;

	hello.token = (char *)token;
	f.kind_case = CGPULSE__V1__FRAME__KIND_HELLO;
	f.hello = &hello;
	return append_frame(out, &f);
}

/* Walks the top-level fields of a serialized message: 1 and the field's number, wire type and value (a byte
 * range for length-delimited fields, *num for varints), 0 at the end, -EBADMSG when malformed. */
struct cgp_pb_field {
	uint32_t number;
	int wire_type;
	const uint8_t *data;
	size_t len;
	uint64_t num;
};
static int pb_next_field(const uint8_t **p, const uint8_t *end, struct cgp_pb_field *f)
{
	uint64_t key, v;
	int h;

	if (*p == end)
		return 0;
	h = cgp_varint_get(*p, (size_t)(end - *p), &key);
	if (h <= 0 || key >> 3 == 0 || key >> 3 > 0x1fffffff)
		return -EBADMSG;
	*p += h;
	f->number = (uint32_t)(key >> 3);
	f->wire_type = (int)(key & 7);
	f->data = NULL;
	f->len = 0;
	f->num = 0;
	switch (f->wire_type) {
	case WT_VARINT:
		h = cgp_varint_get(*p, (size_t)(end - *p), &f->num);
		if (h <= 0)
			return -EBADMSG;
		*p += h;
		return 1;
	case WT_LEN:
		h = cgp_varint_get(*p, (size_t)(end - *p), &v);
		if (h <= 0 || v > (uint64_t)(end - *p - h))
			return -EBADMSG;
		f->data = *p + h;
		f->len = (size_t)v;
		*p += h + v;
		return 1;
	case WT_I64:
	case WT_I32:
		f->len = f->wire_type == WT_I64 ? 8 : 4;
		if ((size_t)(end - *p) < f->len)
			return -EBADMSG;
		f->data = *p;
		*p += f->len;
		return 1;
	default:
		return -EBADMSG;
	}
}

static void batch_free(struct cgp_wire_batch *b)
{
	if (!b)
		return;
	cgp_arena_free(&b->mem); /* every event's memory */
	free(b->events);
	free(b->raw);
	free(b);
}

/* Room for the events of a typical batch (each ~1.5 KiB unpacked) in a few chunks, under malloc's mmap
 * threshold so that a chunk is recycled from the heap, not mapped and faulted in again. */
#define BATCH_ARENA_CHUNK (64 * 1024 - 64)

static int batch_add_event(struct cgp_wire_batch *b, const uint8_t *data, size_t len)
{
	/* one bump a field, and nothing to walk when the batch goes (a malloc and a free a field were a quarter of the
	 * collector's instructions a sample event) */
	ProtobufCAllocator pa = cgp_pb_arena_allocator(&b->mem);
	Cgpulse__V1__Event *ev;

	if (b->n_events == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		Cgpulse__V1__Event **events = realloc(b->events, cap * sizeof(*events));

		if (!events)
			return -ENOMEM;
		b->events = events;
		struct cgp_wire_raw *raw = realloc(b->raw, cap * sizeof(*raw));

		if (!raw)
			return -ENOMEM;
		b->raw = raw;
		b->cap = cap;
	}
	/* the shapes the agent sends in one pass; anything else by protobuf-c's rules (pb_unpack.h) */
	ev = (Cgpulse__V1__Event *)cgp_pb_unpack(&cgpulse__v1__event__descriptor, data, len, &pa);
	if (!ev)
		ev = cgpulse__v1__event__unpack(&pa, len, data);
	if (!ev)
		return -EBADMSG;
	b->events[b->n_events] = ev;
	b->raw[b->n_events].data = data;
	b->raw[b->n_events].len = len;
	b->n_events++;
	return 0;
}

/* One walk over a serialized Batch, by the rules protobuf-c's Batch unpack applies (test_wire checks them side by
 * side): a known field with another wire type, or an event that is not a valid Event, makes the whole Batch
 * invalid; unknown fields are skipped; a scalar given twice keeps the last. */
static int batch_decode(const uint8_t *p, size_t len, struct cgp_wire_batch **out)
{
	const uint8_t *end = p + len;
	struct cgp_wire_batch *b = calloc(1, sizeof(*b)), *nb;
	struct cgp_pb_field f, id = {0};
	int r;

	*out = NULL;
	if (!b)
		return -ENOMEM;
	cgp_arena_init(&b->mem, BATCH_ARENA_CHUNK);
	while ((r = pb_next_field(&p, end, &f)) > 0) {
		if (f.number == 1 && f.wire_type == WT_LEN) /* events */
			r = batch_add_event(b, f.data, f.len);
		else if (f.number == 2 && f.wire_type == WT_LEN) /* instance_id; the agent writes it after the events */
			id = f;
		else if (f.number == 3 && f.wire_type == WT_VARINT) /* base_seq */
			b->base_seq = f.num;
		else if (f.number <= 3)
			r = -EBADMSG;
		if (r < 0)
			break;
	}
	if (r < 0)
		goto fail;
	nb = realloc(b, sizeof(*b) + id.len + 1);
	if (!nb) {
		r = -ENOMEM;
		goto fail;
	}
	b = nb;
	if (id.len)
		memcpy(b->id, id.data, id.len);
	b->id[id.len] = '\0';
	b->instance_id = b->id;
	*out = b;
	return 0;
fail:
	batch_free(b);
	return r;
}

int cgp_wire_decode(const uint8_t *msg, size_t len, size_t max_inflate, struct cgp_buf *scratch,
		    struct cgp_wire_msg *out, char *why, size_t whylen)
{
	const uint8_t *p = msg, *end = msg + len;
	struct cgp_pb_field f, kind = {0};
	const uint8_t *batch;
	size_t batch_len;
	int r;

	memset(out, 0, sizeof(*out));
	/* walk the Frame by hand: unpacking it with protobuf-c would copy a compressed batch once more */
	while ((r = pb_next_field(&p, end, &f)) > 0)
		if (f.number >= 1 && f.number <= 4 && f.wire_type == WT_LEN)
			kind = f; /* a oneof: the last one wins, as protobuf parsers do */
	if (r < 0) {
		snprintf(why, whylen, "frame is not a valid protobuf Frame message");
		return -EBADMSG;
	}
	switch (kind.number) {
	case 1:
		batch = kind.data;
		batch_len = kind.len;
		break;
	case 2:
		cgp_buf_clear(scratch);
		r = cgp_zlib_inflate(kind.data, kind.len, max_inflate, scratch);
		if (r) {
			if (r == -EMSGSIZE)
				snprintf(why, whylen, "compressed batch inflates past %zu bytes", max_inflate);
			else
				snprintf(why, whylen, "compressed batch is not a valid zlib stream");
			return r;
		}
		batch = cgp_buf_head(scratch);
		batch_len = cgp_buf_size(scratch);
		out->compressed = true;
		break;
	case 3:
		out->ack = cgpulse__v1__ack__unpack(NULL, kind.len, kind.data);
		if (!out->ack) {
			snprintf(why, whylen, "frame's Ack is not a valid protobuf message");
			return -EBADMSG;
		}
		return 0;
	case 4:
		out->hello = cgpulse__v1__hello__unpack(NULL, kind.len, kind.data);
		if (!out->hello) {
			snprintf(why, whylen, "frame's Hello is not a valid protobuf message");
			return -EBADMSG;
		}
		return 0;
	default:
		snprintf(why, whylen, "frame carries no batch and no ack (unknown or empty Frame)");
		return -EBADMSG;
	}
	r = batch_decode(batch, batch_len, &out->batch);
	if (r == -ENOMEM)
		snprintf(why, whylen, "out of memory decoding a batch");
	else if (r)
		snprintf(why, whylen, "frame's Batch is not a valid protobuf message");
	return r;
}

void cgp_wire_msg_free(struct cgp_wire_msg *m)
{
	batch_free(m->batch);
	if (m->ack)
		cgpulse__v1__ack__free_unpacked(m->ack, NULL);
	if (m->hello)
		cgpulse__v1__hello__free_unpacked(m->hello, NULL);
	memset(m, 0, sizeof(*m));
}
