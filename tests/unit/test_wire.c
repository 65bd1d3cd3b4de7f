// SPDX-License-Identifier: GPL-2.0
/* Collector protocol messages: a batch of pre-serialized events, plain and zlib, and an ack, through the frame
 * decoder and back; and the refusals a collector logs. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_encode.h"
#include "events/frame.h"
#include "events/wire.h"

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
		/* the raw events inside the batch can be walked without unpacking */
		const uint8_t *p = m.batch_bytes, *end = p + m.batch_len;
		struct cgp_pb_field f;
		size_t n = 0;

		while (cgp_pb_next_field(&p, end, &f) > 0)
			if (f.number == 1) {
				Cgpulse__V1__Event *ev = cgpulse__v1__event__unpack(NULL, f.len, f.data);

				assert_non_null(ev);
				assert_int_equal(ev->seq, 5 + n);
				cgpulse__v1__event__free_unpacked(ev, NULL);
				n++;
			}
		assert_int_equal(n, 100);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_batch_roundtrip),
	    cmocka_unit_test(test_ack_and_empty_batch),
	    cmocka_unit_test(test_refusals),
	};

	int r = cmocka_run_group_tests(tests, NULL, NULL);

	cgp_frame_decoder_free(&d);
	return r;
}
