// SPDX-License-Identifier: GPL-2.0
/* Fast path of a message unpack (pb_unpack.h). Each value is stored as protobuf-c stores it (parse_uint32 and its
 * kin in protobuf-c.c): tests/fuzz/fuzz_frame.c packs both results of every event it accepts and compares. */
#include "events/pb_unpack.h"

#include <stdbool.h>
#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 }; /* the wire types of the proto's fields (no 32-bit ones) */

#define MAX_DEPTH  8   /* Event → Sample → Attribution is 3 */
#define MAX_FIELDS 128 /* fields a message may have for the seen-once check (Sample has ~80) */

/* A varint of at most 10 bytes whose value fits 64 bits (protobuf-c keeps other bits in a few types: not here).
 * Its length, or 0. */
static inline size_t varint(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;

	if (p < end && p[0] < 0x80) { /* tags and most small figures: one byte */
		*v = p[0];
		return 1;
	}

	for (size_t i = 0; i < 10 && p + i < end; i++) {
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (p[i] < 0x80) {
			if (i == 9 && p[i] > 1)
				return 0;
			*v = r;
			return i + 1;
		}
	}
	return 0;
}

static void *take(ProtobufCAllocator *a, size_t n)
{
	return a->alloc(a->allocator_data, n);
}

/* A packed repeated uint64 or double, given once. */
static bool packed(const ProtobufCFieldDescriptor *f, void *msg, const uint8_t *p, size_t len, ProtobufCAllocator *a)
{
	const uint8_t *end = p + len;
	size_t n = 0;

	if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
		double *v;

		if (len % 8)
			return false;
		n = len / 8;
		if (n && !(v = take(a, len)))
			return false;
		if (n) {
			memcpy(v, p, len);
			*(double **)((char *)msg + f->offset) = v;
		}
	} else {
		uint64_t *v, x;

		for (size_t i = 0; i < len; i++)
			n += p[i] < 0x80;
		if (len && p[len - 1] >= 0x80)
			return false;
		if (n && !(v = take(a, n * sizeof(*v))))
			return false;
		for (size_t i = 0; i < n; i++) {
			size_t h = varint(p, end, &x);

			if (!h)
				return false;
			v[i] = x;
			p += h;
		}
		if (n)
			*(uint64_t **)((char *)msg + f->offset) = v;
	}
	*(size_t *)((char *)msg + f->quantifier_offset) = n;
	return true;
}

static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
				ProtobufCAllocator *a, int depth);

/* One field's value at p (its wire type wt, its bytes up to end); how many bytes it took, or 0. */
static size_t field(const ProtobufCFieldDescriptor *f, void *msg, int wt, const uint8_t *p, const uint8_t *end,
		    ProtobufCAllocator *a, int depth)
{
	char *m = (char *)msg + f->offset;
	uint64_t v;
	size_t h;

	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (wt != WT_LEN || (f->type != PROTOBUF_C_TYPE_UINT64 && f->type != PROTOBUF_C_TYPE_DOUBLE) ||
		    !(h = varint(p, end, &v)) || v > (uint64_t)(end - p - h) || !packed(f, msg, p + h, v, a))
			return 0;
		return h + v;
	}
	switch (f->type) {
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_ENUM:
	case PROTOBUF_C_TYPE_BOOL:
		if (wt != WT_VARINT || !(h = varint(p, end, &v)))
			return 0;
		if (f->type == PROTOBUF_C_TYPE_UINT64)
			memcpy(m, &v, 8);
		else if (f->type == PROTOBUF_C_TYPE_UINT32)
			*(uint32_t *)m = (uint32_t)v;
		else if (f->type == PROTOBUF_C_TYPE_SINT32)
			*(int32_t *)m = (int32_t)(((uint32_t)v >> 1) ^ (0u - ((uint32_t)v & 1)));
		else if (f->type == PROTOBUF_C_TYPE_ENUM)
			*(int32_t *)m = (int32_t)(uint32_t)v;
		else
			*(protobuf_c_boolean *)m = v != 0;
		return h;
	case PROTOBUF_C_TYPE_DOUBLE:
		if (wt != WT_I64 || end - p < 8)
			return 0;
		memcpy(m, p, 8);
		return 8;
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		if (wt != WT_LEN || !(h = varint(p, end, &v)) || v > (uint64_t)(end - p - h))
			return 0;
		p += h;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			char *s = take(a, v + 1);

			if (!s)
				return 0;
			memcpy(s, p, v);
			s[v] = 0;
			*(char **)m = s;
		} else if (f->type == PROTOBUF_C_TYPE_BYTES) {
			ProtobufCBinaryData *b = (ProtobufCBinaryData *)m;

			b->data = v ? take(a, v) : NULL;
			if (v && !b->data)
				return 0;
			if (v)
				memcpy(b->data, p, v);
			b->len = v;
		} else {
			ProtobufCMessage *sub = unpack(f->descriptor, p, v, a, depth + 1);

			if (!sub)
				return 0;
			*(ProtobufCMessage **)m = sub;
		}
		return h + v;
	default:
		return 0;
	}
}

/* The field of that number, without a search: each range of numbers without holes maps straight onto the
 * fields array (sorted by number; the ranges end with one whose orig_index is n_fields), and ours have 1 or 2. */
static inline const ProtobufCFieldDescriptor *lookup(const ProtobufCMessageDescriptor *d, uint64_t id)
{
	const ProtobufCIntRange *r = d->field_ranges;

	for (unsigned i = 0; i < d->n_field_ranges && i < 4; i++)
		if (id >= (uint64_t)r[i].start_value &&
		    id - (uint64_t)r[i].start_value < (uint64_t)(r[i + 1].orig_index - r[i].orig_index))
			return &d->fields[r[i].orig_index + (id - (uint64_t)r[i].start_value)];
	return id > UINT32_MAX || d->n_field_ranges <= 4 ? NULL
							 : protobuf_c_message_descriptor_get_field(d, (unsigned)id);
}

static ProtobufCMessage *unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
				ProtobufCAllocator *a, int depth)
{
	const uint8_t *end = p + len;
	uint64_t seen[MAX_FIELDS / 64] = {0}, tag;
	ProtobufCMessage *msg;

	if (depth > MAX_DEPTH || d->n_fields > MAX_FIELDS || !(msg = take(a, d->sizeof_message)))
		return NULL;
	d->message_init(msg);
	while (p < end) {
		const ProtobufCFieldDescriptor *f;
		size_t h = varint(p, end, &tag), i, n;

		if (!h || !(f = lookup(d, tag >> 3)))
			return NULL; /* not valid, or a field this side does not know: protobuf-c keeps those */
		i = (size_t)(f - d->fields);
		if (f->label == PROTOBUF_C_LABEL_REQUIRED || seen[i / 64] >> (i % 64) & 1)
			return NULL; /* given twice: a merge or a last-one-wins, protobuf-c's to do */
		seen[i / 64] |= 1ull << (i % 64);
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
			uint32_t *which = (uint32_t *)((char *)msg + f->quantifier_offset);

			if (*which)
				return NULL; /* a second member of the oneof */
			*which = f->id;
		} else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset) {
			*(protobuf_c_boolean *)((char *)msg + f->quantifier_offset) = 1;
		}
		p += h;
		n = field(f, msg, (int)(tag & 7), p, end, a, depth);
		if (!n)
			return NULL;
		p += n;
	}
	return msg;
}

ProtobufCMessage *cgp_pb_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
				ProtobufCAllocator *a)
{
	return unpack(d, p, len, a, 0);
}

static void *arena_alloc(void *a, size_t n)
{
	return cgp_arena_alloc(a, n);
}

static void arena_free(void *a, void *p)
{
	(void)a; /* let go with the whole arena */
	(void)p;
}

ProtobufCAllocator cgp_pb_arena_allocator(struct cgp_arena *a)
{
	return (ProtobufCAllocator){.alloc = arena_alloc, .free = arena_free, .allocator_data = a};
}
