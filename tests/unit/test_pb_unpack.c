// SPDX-License-Identifier: GPL-2.0
/* The collector's one-pass unpack (events/pb_unpack.c) against protobuf-c's: every field of every event body,
 * filled by walking the generated descriptors (so a field added to the proto is tested without a line here),
 * packed by protobuf-c, unpacked here, and packed again to the same bytes; and each shape it leaves to protobuf-c
 * (unknown field, a field twice, a second oneof member, a wrong wire type, truncated bytes) refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/pb_unpack.h"
#include "lib/arena.h"
#include "cgpulse/v1/event.pb-c.h"

static struct cgp_arena mem;
static ProtobufCAllocator pa;

/* Every field of msg set to a value that is not its default (k makes values differ between fields); a oneof's
 * members are left to the caller. True when a field of a shape the fast path leaves out was set (a repeated
 * string). */
static bool fill(const ProtobufCMessageDescriptor *d, ProtobufCMessage *msg, unsigned k)
{
	bool leaves_out = false;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		char *m = (char *)msg + f->offset;
		unsigned v = k * 131 + i + 1;

		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = 3;

			*(size_t *)((char *)msg + f->quantifier_offset) = n;
			if (f->type == PROTOBUF_C_TYPE_UINT64) {
				uint64_t *a = cgp_arena_alloc(&mem, n * sizeof(*a));

				for (size_t j = 0; j < n; j++)
					a[j] = j == 1 ? 0
						      : (uint64_t)v << (20 * j); /* a 0 and a 10-byte-long varint too */
				*(uint64_t **)m = a;
			} else if (f->type == PROTOBUF_C_TYPE_DOUBLE) {
				double *a = cgp_arena_alloc(&mem, n * sizeof(*a));

				for (size_t j = 0; j < n; j++)
					a[j] = v * 0.25 - (double)j;
				*(double **)m = a;
			} else if (f->type == PROTOBUF_C_TYPE_STRING) {
				char **a = cgp_arena_alloc(&mem, n * sizeof(*a));

				for (size_t j = 0; j < n; j++)
					a[j] = "rep";
				*(char ***)m = a;
				leaves_out = true;
			} else {
				fail_msg("%s.%s: a repeated type this test does not fill", d->name, f->name);
			}
			continue;
		}
		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT64:
			*(uint64_t *)m = (uint64_t)v << (v % 57);
			break;
		case PROTOBUF_C_TYPE_UINT32:
			*(uint32_t *)m = v << (v % 25);
			break;
		case PROTOBUF_C_TYPE_SINT32:
			*(int32_t *)m = v % 2 ? -(int32_t)v : (int32_t)v;
			break;
		case PROTOBUF_C_TYPE_ENUM:
			*(int32_t *)m = ((const ProtobufCEnumDescriptor *)f->descriptor)
					    ->values[1 % ((const ProtobufCEnumDescriptor *)f->descriptor)->n_values]
					    .value;
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)m = 1;
			break;
		case PROTOBUF_C_TYPE_DOUBLE:
			*(double *)m = v * 1.125e-3;
			break;
		case PROTOBUF_C_TYPE_STRING: {
			char *s = cgp_arena_alloc(&mem, 32);

			snprintf(s, 32, "%s-%u\"\\", f->name, v);
			*(char **)m = s;
			break;
		}
		case PROTOBUF_C_TYPE_BYTES:
			((ProtobufCBinaryData *)m)->data = (uint8_t *)"\x00\x01\x02";
			((ProtobufCBinaryData *)m)->len = 3;
			break;
		case PROTOBUF_C_TYPE_MESSAGE: {
			const ProtobufCMessageDescriptor *sd = f->descriptor;
			ProtobufCMessage *sub = cgp_arena_alloc(&mem, sd->sizeof_message);

			sd->message_init(sub);
			leaves_out |= fill(sd, sub, k + i + 1);
			*(ProtobufCMessage **)m = sub;
			break;
		}
		default:
			fail_msg("%s.%s: a type this test does not fill", d->name, f->name);
		}
	}
	return leaves_out;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *p = cgp_arena_alloc(&mem, protobuf_c_message_get_packed_size(m) + 1);

	*len = protobuf_c_message_pack(m, p);
	return p;
}

static void test_every_field_of_every_body(void **state)
{
	const ProtobufCMessageDescriptor *d = &cgpulse__v1__event__descriptor;
	unsigned bodies = 0;

	(void)state;
	cgp_arena_init(&mem, 1 << 16);
	pa = cgp_pb_arena_allocator(&mem);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		Cgpulse__V1__Event ev = CGPULSE__V1__EVENT__INIT;
		const ProtobufCMessageDescriptor *bd = f->descriptor;
		ProtobufCMessage *body, *back;
		uint8_t *p, *q;
		size_t n, m;
		bool leaves_out;

		if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		fill(d, &ev.base, 1);
		body = cgp_arena_alloc(&mem, bd->sizeof_message);
		bd->message_init(body);
		leaves_out = fill(bd, body, 7);
		*(ProtobufCMessage **)((char *)&ev + f->offset) = body;
		*(uint32_t *)((char *)&ev + f->quantifier_offset) = f->id;
		p = pack(&ev.base, &n);
		back = cgp_pb_unpack(d, p, n, &pa);
		if (leaves_out) { /* AgentStarted's repeated strings: protobuf-c's */
			assert_null(back);
			continue;
		}
		assert_non_null(back);
		q = pack(back, &m);
		assert_int_equal(m, n);
		assert_memory_equal(q, p, n);
		assert_int_equal(((Cgpulse__V1__Event *)back)->body_case, f->id);
		bodies++;
	}
	assert_true(bodies >= 7); /* sample, oom_kill, alert, started, stopped, gap, dropped */
	cgp_arena_free(&mem);
}

/* A sample as bytes, and the same with something appended. */
static size_t sample_bytes(uint8_t *out, size_t cap)
{
	Cgpulse__V1__Event ev = CGPULSE__V1__EVENT__INIT;
	Cgpulse__V1__Sample s = CGPULSE__V1__SAMPLE__INIT;

	s.cgroup_id = 42;
	s.path = "/a";
	ev.seq = 9;
	ev.body_case = CGPULSE__V1__EVENT__BODY_SAMPLE;
	ev.sample = &s;
	assert_true(cgpulse__v1__event__get_packed_size(&ev) <= cap);
	return cgpulse__v1__event__pack(&ev, out);
}

static void test_left_to_protobuf_c(void **state)
{
	static const struct {
		const char *what;
		uint8_t add[8];
		size_t n;
		bool valid; /* what protobuf-c makes of it */
	} cases[] = {
	    {"an unknown field (kept by protobuf-c)", {0xc0, 0x3e, 0x01}, 3, true}, /* field 1000, varint */
	    {"seq given twice (the last wins)", {0x18, 0x05}, 2, true},
	    {"a second member of the oneof (the last wins)", {0x32, 0x00}, 2, true}, /* oom_kill = 6 */
	    {"seq with the wrong wire type", {0x1d, 1, 2, 3, 4}, 5, false},	     /* 32-bit */
	    {"a length past the end", {0x12, 0x09, 'x'}, 3, false},
	    {"a varint that does not end", {0x18, 0xff}, 2, false},
	};
	uint8_t buf[256];
	size_t n;

	(void)state;
	cgp_arena_init(&mem, 1 << 16);
	pa = cgp_pb_arena_allocator(&mem);
	n = sample_bytes(buf, sizeof(buf));
	assert_non_null(cgp_pb_unpack(&cgpulse__v1__event__descriptor, buf, n, &pa)); /* as it is */
	assert_null(cgp_pb_unpack(&cgpulse__v1__event__descriptor, buf, n - 1, &pa)); /* cut short */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Cgpulse__V1__Event *slow;

		memcpy(buf + n, cases[i].add, cases[i].n);
		print_message("%s\n", cases[i].what);
		assert_null(cgp_pb_unpack(&cgpulse__v1__event__descriptor, buf, n + cases[i].n, &pa));
		slow = cgpulse__v1__event__unpack(NULL, n + cases[i].n, buf);
		assert_int_equal(slow != NULL, cases[i].valid);
		if (slow)
			cgpulse__v1__event__free_unpacked(slow, NULL);
	}
	cgp_arena_free(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_field_of_every_body),
	    cmocka_unit_test(test_left_to_protobuf_c),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
