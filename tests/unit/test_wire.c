// SPDX-License-Identifier: GPL-2.0
/* Collector protocol messages: a batch of pre-serialized events, plain and zlib, and an ack, through the frame
 * decoder and back; the Batch walk against protobuf-c's own unpack; and the refusals a collector logs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "events/event_encode.h"
#include "events/frame.h"
#include "events/wire.h"

/* The compressor's state is mapped: count the mappings made (glibc's own mmap does the work). */
static unsigned long maps;
extern void *__mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	maps++;
	return __mmap(addr, len, prot, flags, fd, off);
}

static void add_sample(struct cgp_batch *b, uint64_t seq)
{
	struct cgp_event_meta m = {.node = "n", .instance_id = "inst-1", .seq = seq};
	struct cgp_sample s = {.cgroup_id = seq * 10, .ts_ns = seq, .window_s = 1};
	struct cgp_attribution a = cgp_attribution_unknown;
	struct cgp_event_build eb;
	struct cgp_buf ev = CGP_BUF_INIT;

	a.path = "/kubepods/pod/ctr";
	cgp_event_build_sample(&eb, &m, &s, &a);
	assert_int_equal(cgp_event_pack(&eb, &ev), 0);
	assert_int_equal(cgp_batch_add(b, cgp_buf_head(&ev), cgp_buf_size(&ev)), 0);
	cgp_buf_free(&ev);
}

/* An uncompressed batch's bytes point into the decoder's buffer, so it lives until the next decode_one. */
static struct cgp_frame_decoder d;

/* Decodes the single frame in stream. */
static int decode_one(struct cgp_buf *stream, struct cgp_buf *scratch, struct cgp_wire_msg *m, char *why, size_t n)
{
	const uint8_t *f;
	size_t len;
	int r;

	cgp_frame_decoder_free(&d);
	cgp_frame_decoder_init(&d, CGP_FRAME_MAX_DEFAULT);
	assert_int_equal(cgp_frame_decoder_feed(&d, cgp_buf_head(stream), cgp_buf_size(stream)), 0);
	assert_int_equal(cgp_frame_decoder_next(&d, &f, &len), 1);
	r = cgp_wire_decode(f, len, 1 << 20, scratch, m, why, n);
	assert_int_equal(cgp_frame_decoder_pending(&d), 0);
	return r;
}

static void test_batch_roundtrip(void **state)
{
	(void)state;
	for (int zlevel = 0; zlevel <= 1; zlevel++) {
		struct cgp_buf stream = CGP_BUF_INIT, scratch = CGP_BUF_INIT;
		struct cgp_batch b;
		struct cgp_wire_msg m;
		char why[128];

		cgp_batch_init(&b);
		for (uint64_t s = 5; s < 105; s++)
			add_sample(&b, s);
		assert_int_equal(b.events, 100);
		assert_int_equal(cgp_batch_finish(&b, "inst-1", 5, zlevel, &stream), 0);
		assert_int_equal(b.events, 0);
		assert_int_equal(decode_one(&stream, &scratch, &m, why, sizeof(why)), 0);
		assert_non_null(m.batch);
		assert_null(m.ack);
		assert_int_equal(m.compressed, zlevel > 0);
		assert_string_equal(m.batch->instance_id, "inst-1");
		assert_int_equal(m.batch->base_seq, 5);
		assert_int_equal(m.batch->n_events, 100);
		for (size_t i = 0; i < 100; i++) {
			assert_int_equal(m.batch->events[i]->seq, 5 + i);
			assert_int_equal(m.batch->events[i]->sample->cgroup_id, (5 + i) * 10);
		}
		/* each event's bytes as the agent sent them (what a .pb log stores) unpack to the same event */
		for (size_t i = 0; i < 100; i++) {
			Cgpulse__V1__Event *ev =
			    cgpulse__v1__event__unpack(NULL, m.batch->raw[i].len, m.batch->raw[i].data);

			assert_non_null(ev);
			assert_int_equal(ev->seq, 5 + i);
			cgpulse__v1__event__free_unpacked(ev, NULL);
		}
		cgp_wire_msg_free(&m);
		cgp_batch_free(&b);
		cgp_buf_free(&stream);
		cgp_buf_free(&scratch);
	}
}

static void test_ack_and_empty_batch(void **state)
{
	struct cgp_buf stream = CGP_BUF_INIT, scratch = CGP_BUF_INIT;
	struct cgp_batch b;
	struct cgp_wire_msg m;
	char why[128];

	(void)state;
	assert_int_equal(cgp_wire_append_ack(&stream, "inst-9", 123456789), 0);
	assert_int_equal(decode_one(&stream, &scratch, &m, why, sizeof(why)), 0);
	assert_null(m.batch);
	assert_non_null(m.ack);
	assert_string_equal(m.ack->instance_id, "inst-9");
	assert_int_equal(m.ack->acked_seq, 123456789);
	cgp_wire_msg_free(&m);

	/* a batch with no events still says who is speaking and where its sequence stands */
	cgp_buf_clear(&stream);
	cgp_batch_init(&b);
	assert_int_equal(cgp_batch_finish(&b, "inst-9", 77, 0, &stream), 0);
	assert_int_equal(decode_one(&stream, &scratch, &m, why, sizeof(why)), 0);
	assert_int_equal(m.batch->n_events, 0);
	assert_int_equal(m.batch->base_seq, 77);
	cgp_wire_msg_free(&m);
	cgp_batch_free(&b);
	cgp_buf_free(&stream);
	cgp_buf_free(&scratch);
}

/* Frame.batch around the Batch bytes b[0..n). */
static void batch_frame(struct cgp_buf *out, const void *b, size_t n)
{
	uint8_t hdr[1 + CGP_VARINT_MAX];

	cgp_buf_clear(out);
	hdr[0] = 0x0a;
	assert_int_equal(cgp_buf_append(out, hdr, 1 + cgp_varint_put(hdr + 1, n)), 0);
	assert_int_equal(cgp_buf_append(out, b, n), 0);
}

/* The one-pass Batch walk takes and refuses what protobuf-c's own Batch unpack does, and reads the same fields. */
static void test_batch_walk_matches_protobuf_c(void **state)
{
	static const struct {
		const char *what;
		const char *bytes;
		size_t len;
	} cases[] = {
#define C(what, s) {what, s, sizeof(s) - 1}
	    C("empty batch", ""),
	    C("id only", "\x12\x02"
			 "ab"),
	    C("id and base_seq", "\x12\x02"
				 "ab\x18\x07"),
	    C("an event, then the id (as the agent writes it)", "\x0a\x06\x12\x02"
								"ab\x18\x03\x12\x02"
								"ab"),
	    C("the last id wins", "\x12\x02"
				  "ab\x12\x02"
				  "cd"),
	    C("the last base_seq wins", "\x18\x07\x18\x09"),
	    C("unknown fields of every wire type are skipped",
	      "\x20\x01\x2a\x01x\x31\x01\x02\x03\x04\x05\x06\x07\x08\x3d\x01\x02\x03\x04\x12\x01z"),
	    C("an empty event", "\x0a\x00\x12\x01z"),
	    C("events as a varint", "\x08\x01"),
	    C("instance_id as a varint", "\x10\x01"),
	    C("base_seq as bytes", "\x1a\x00"),
	    C("base_seq as fixed64", "\x19\x01\x02\x03\x04\x05\x06\x07\x08"),
	    C("an event that is not an Event (node as a varint)", "\x0a\x02\x08\x01"),
	    C("an event cut short", "\x0a\x04\x12\x05"
				    "abc"),
	    C("a length past the end", "\x12\x05"
				       "ab"),
	    C("a group", "\x23\x24"),
	    C("field number 0", "\x02\x00"),
#undef C
	};
	struct cgp_buf frame = CGP_BUF_INIT, scratch = CGP_BUF_INIT;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		Cgpulse__V1__Batch *want =
		    cgpulse__v1__batch__unpack(NULL, cases[i].len, (const uint8_t *)cases[i].bytes);
		struct cgp_wire_msg m;
		char why[128];
		int r;

		batch_frame(&frame, cases[i].bytes, cases[i].len);
		r = cgp_wire_decode(cgp_buf_head(&frame), cgp_buf_size(&frame), 1 << 20, &scratch, &m, why,
				    sizeof(why));
		if (!want != !!r)
			fail_msg("%s: protobuf-c %s, ours returned %d", cases[i].what, want ? "takes it" : "refuses it",
				 r);
		if (!want) {
			assert_int_equal(r, -EBADMSG);
			assert_non_null(strstr(why, "Batch is not a valid"));
			continue;
		}
		assert_int_equal(r, 0);
		assert_string_equal(m.batch->instance_id, want->instance_id);
		assert_int_equal(m.batch->base_seq, want->base_seq);
		assert_int_equal(m.batch->n_events, want->n_events);
		for (size_t k = 0; k < want->n_events; k++) {
			assert_string_equal(m.batch->events[k]->instance_id, want->events[k]->instance_id);
			assert_int_equal(m.batch->events[k]->seq, want->events[k]->seq);
		}
		cgp_wire_msg_free(&m);
		cgpulse__v1__batch__free_unpacked(want, NULL);
	}
	cgp_buf_free(&frame);
	cgp_buf_free(&scratch);
}

static void test_refusals(void **state)
{
	struct cgp_buf scratch = CGP_BUF_INIT;
	struct cgp_wire_msg m;
	char why[128];

	(void)state;
	/* an empty Frame */
	assert_int_equal(cgp_wire_decode((const uint8_t *)"", 0, 1 << 20, &scratch, &m, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "no batch"));
	/* not protobuf: wire type 7 does not exist */
	assert_int_equal(cgp_wire_decode((const uint8_t *)"\x0f\x01", 2, 1 << 20, &scratch, &m, why, sizeof(why)),
			 -EBADMSG);
	/* a length past the end */
	assert_int_equal(cgp_wire_decode((const uint8_t *)"\x0a\x05"
							  "ab",
					 4, 1 << 20, &scratch, &m, why, sizeof(why)),
			 -EBADMSG);
	/* a Batch field holding something that is not a Batch (events with wire type 0) */
	assert_int_equal(
	    cgp_wire_decode((const uint8_t *)"\x0a\x02\x08\x01", 4, 1 << 20, &scratch, &m, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "Batch"));
	/* batch_zlib that is not zlib */
	assert_int_equal(cgp_wire_decode((const uint8_t *)"\x12\x03xyz", 5, 1 << 20, &scratch, &m, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "zlib"));

	/* a zlib bomb */
	struct cgp_buf frame = CGP_BUF_INIT, z = CGP_BUF_INIT;
	static uint8_t zeros[4 << 20];

	assert_int_equal(cgp_zlib_compress(zeros, sizeof(zeros), 9, &z), 0);
	uint8_t hdr[1 + CGP_VARINT_MAX];

	hdr[0] = 0x12;
	assert_int_equal(cgp_buf_append(&frame, hdr, 1 + cgp_varint_put(hdr + 1, cgp_buf_size(&z))), 0);
	assert_int_equal(cgp_buf_append(&frame, cgp_buf_head(&z), cgp_buf_size(&z)), 0);
	assert_int_equal(
	    cgp_wire_decode(cgp_buf_head(&frame), cgp_buf_size(&frame), 1 << 20, &scratch, &m, why, sizeof(why)),
	    -EMSGSIZE);
	assert_non_null(strstr(why, "inflates past"));
	cgp_buf_free(&frame);
	cgp_buf_free(&z);
	cgp_buf_free(&scratch);
}

/* A burst of compressed batches (an interval at 10,000 containers is ~10 of them) maps the compressor's ~276 KiB
 * once, not once a batch: each mapping was ~70 page faults. cgp_batch_release gives it back. Every batch still
 * inflates to what was put in. */
static void test_burst_maps_compressor_once(void **state)
{
	struct cgp_buf stream = CGP_BUF_INIT, scratch = CGP_BUF_INIT;
	struct cgp_batch b;
	struct cgp_wire_msg m;
	char why[128];
	unsigned long before;

	(void)state;
	cgp_batch_init(&b);
	before = maps;
	for (int i = 0; i < 10; i++) {
		for (uint64_t seq = 1; seq <= 50; seq++)
			add_sample(&b, 100 * (uint64_t)i + seq);
		cgp_buf_clear(&stream);
		assert_int_equal(cgp_batch_finish(&b, "inst-1", 1, 1, &stream), 0);
		assert_int_equal(decode_one(&stream, &scratch, &m, why, sizeof(why)), 0);
		assert_true(m.compressed);
		assert_int_equal(m.batch->n_events, 50);
		assert_int_equal(m.batch->events[49]->seq, 100 * (uint64_t)i + 50);
		cgp_wire_msg_free(&m);
	}
	printf("# 10 compressed batches: %lu mappings\n", maps - before);
	assert_int_equal(maps - before, 1);
	cgp_batch_release(&b);
	assert_null(b.zstate);
	add_sample(&b, 1001);
	cgp_buf_clear(&stream);
	assert_int_equal(cgp_batch_finish(&b, "inst-1", 1, 1, &stream), 0);
	assert_int_equal(maps - before, 2); /* after a release, the next batch maps it again */
	cgp_batch_free(&b);
	assert_null(b.zstate);
	cgp_buf_free(&stream);
	cgp_buf_free(&scratch);
	cgp_frame_decoder_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_roundtrip),
	    cmocka_unit_test(test_ack_and_empty_batch),
	    cmocka_unit_test(test_batch_walk_matches_protobuf_c),
	    cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_burst_maps_compressor_once),
	};

	int r = cmocka_run_group_tests(tests, NULL, NULL);

	cgp_frame_decoder_free(&d);
	return r;
}
