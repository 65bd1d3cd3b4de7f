// SPDX-License-Identifier: GPL-2.0
/* Collector protocol messages, assembled by hand from protobuf's wire format where that saves a copy or a
 * re-encode, and unpacked with protobuf-c where fields are needed. */
#include "events/wire.h"

#include <errno.h>
#include <stdio.h>
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
		err = cgp_zlib_compress(payload, n, zlevel, &b->z);
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

int cgp_wire_append_ack(struct cgp_buf *out, const char *instance_id, uint64_t acked_seq)
{
	Cgpulse__V1__Ack ack = CGPULSE__V1__ACK__INIT;
	Cgpulse__V1__Frame f = CGPULSE__V1__FRAME__INIT;

	ack.instance_id = (char *)instance_id;
	ack.acked_seq = acked_seq;
	f.kind_case = CGPULSE__V1__FRAME__KIND_ACK;
	f.ack = &ack;
	size_t n = cgpulse__v1__frame__get_packed_size(&f);
	uint8_t *w = cgp_buf_reserve(out, CGP_VARINT_MAX + n);

	if (!w)
		return -ENOMEM;
	size_t h = cgp_varint_put(w, n);

	out->len += h + cgpulse__v1__frame__pack(&f, w + h);
	return 0;
}

int cgp_pb_next_field(const uint8_t **p, const uint8_t *end, struct cgp_pb_field *f)
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

int cgp_wire_decode(const uint8_t *msg, size_t len, size_t max_inflate, struct cgp_buf *scratch,
		    struct cgp_wire_msg *out, char *why, size_t whylen)
{
	const uint8_t *p = msg, *end = msg + len;
	struct cgp_pb_field f, kind = {0};
	int r;

	memset(out, 0, sizeof(*out));
	/* walk the Frame by hand: unpacking it with protobuf-c would copy a compressed batch once more */
	while ((r = cgp_pb_next_field(&p, end, &f)) > 0)
		if (f.number >= 1 && f.number <= 3 && f.wire_type == WT_LEN)
			kind = f; /* a oneof: the last one wins, as protobuf parsers do */
	if (r < 0) {
		snprintf(why, whylen, "frame is not a valid protobuf Frame message");
		return -EBADMSG;
	}
	switch (kind.number) {
	case 1:
		out->batch_bytes = kind.data;
		out->batch_len = kind.len;
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
		out->batch_bytes = cgp_buf_head(scratch);
		out->batch_len = cgp_buf_size(scratch);
		out->compressed = true;
		break;
	case 3:
		out->ack = cgpulse__v1__ack__unpack(NULL, kind.len, kind.data);
		if (!out->ack) {
			snprintf(why, whylen, "frame's Ack is not a valid protobuf message");
			return -EBADMSG;
		}
		return 0;
	default:
		snprintf(why, whylen, "frame carries no batch and no ack (unknown or empty Frame)");
		return -EBADMSG;
	}
	out->batch = cgpulse__v1__batch__unpack(NULL, out->batch_len, out->batch_bytes);
	if (!out->batch) {
		snprintf(why, whylen, "frame's Batch is not a valid protobuf message");
		return -EBADMSG;
	}
	return 0;
}

void cgp_wire_msg_free(struct cgp_wire_msg *m)
{
	if (m->batch)
		cgpulse__v1__batch__free_unpacked(m->batch, NULL);
	if (m->ack)
		cgpulse__v1__ack__free_unpacked(m->ack, NULL);
	memset(m, 0, sizeof(*m));
}
