// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the collector's side of the wire (agent/events/frame.c, wire.c), which tools/collector/ runs on
 * every byte an agent (or anyone) sends: the incremental frame decoder fed in chunks whose sizes come from the
 * input, and cgp_wire_decode on every frame it yields (zlib batches included, inflate bounded); each event it
 * accepts is then written as the JSON line the collector stores (events/event_json.c), which must parse, and
 * unpacked by protobuf-c as well: where the one-pass unpack (events/pb_unpack.c) took the bytes, both must pack
 * to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "events/event_json.h"
#include "events/frame.h"
#include "events/pb_unpack.h"
#include "events/wire.h"

#define MAX_FRAME   (1u << 20)
#define MAX_INFLATE (4u << 20)

/* zlib's inflate, the reference for igzip's (events/frame.c): 0 and the bytes in out, or -1 */
static int zlib_inflate(const uint8_t *in, size_t len, size_t max_out, struct cgp_buf *out)
{
	z_stream zs = {0};
	int zr;

	if (inflateInit(&zs) != Z_OK)
		abort();
	zs.next_in = (Bytef *)in;
	zs.avail_in = (uInt)len;
	do {
		uint8_t *w = cgp_buf_reserve(out, 65536);

		if (!w)
			abort();
		zs.next_out = w;
		zs.avail_out = 65536;
		zr = inflate(&zs, Z_NO_FLUSH);
		out->len += 65536 - zs.avail_out;
	} while (zr == Z_OK && cgp_buf_size(out) <= max_out && !(zs.avail_in == 0 && zs.avail_out != 0));
	inflateEnd(&zs);
	return zr == Z_STREAM_END && !zs.avail_in && cgp_buf_size(out) <= max_out ? 0 : -1;
}

/* igzip and zlib agree on the input as a zlib stream: both refuse it, or both give the same bytes. */
static void inflate_same_as_zlib(const uint8_t *in, size_t len)
{
	struct cgp_buf a = CGP_BUF_INIT, b = CGP_BUF_INIT;
	int ra = cgp_zlib_inflate(in, len, MAX_INFLATE, &a), rb = zlib_inflate(in, len, MAX_INFLATE, &b);

	if ((ra == 0) != (rb == 0) || (ra == 0 && (cgp_buf_size(&a) != cgp_buf_size(&b) ||
						   memcmp(cgp_buf_head(&a), cgp_buf_head(&b), cgp_buf_size(&a)))))
		abort();
	cgp_buf_free(&a);
	cgp_buf_free(&b);
}

/* The one-pass unpack and protobuf-c's agree on raw: both refuse it, or what each made packs to the same bytes
 * (the fast one may also leave it to protobuf-c: NULL). */
static void same_as_protobuf_c(const struct cgp_wire_raw *raw)
{
	struct cgp_arena mem;
	ProtobufCAllocator pa = cgp_pb_arena_allocator(&mem);
	ProtobufCMessage *fast;
	Cgpulse__V1__Event *slow;

	cgp_arena_init(&mem, 1 << 16);
	fast = cgp_pb_unpack(&cgpulse__v1__event__descriptor, raw->data, raw->len, &pa);
	slow = cgpulse__v1__event__unpack(NULL, raw->len, raw->data);
	if (fast) {
		size_t n;
		uint8_t *a, *b;

		if (!slow)
			abort(); /* taken here, refused by protobuf-c */
		n = protobuf_c_message_get_packed_size(fast);
		if (n != protobuf_c_message_get_packed_size(&slow->base))
			abort();
		a = malloc(n + 1);
		b = malloc(n + 1);
		if (!a || !b || protobuf_c_message_pack(fast, a) != n || protobuf_c_message_pack(&slow->base, b) != n ||
		    memcmp(a, b, n))
			abort();
		free(a);
		free(b);
	}
	if (slow)
		cgpulse__v1__event__free_unpacked(slow, NULL);
	cgp_arena_free(&mem);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgp_frame_decoder d;
	struct cgp_buf scratch = CGP_BUF_INIT, line = CGP_BUF_INIT;
	size_t pos = 1, chunk;
	int rc = 0;

	if (!size)
		return 0;
	{ /* the input itself as an Event, for the two unpacks (events in frames come only from valid batches) */
		struct cgp_wire_raw whole = {data + 1, size - 1};

		same_as_protobuf_c(&whole);
		inflate_same_as_zlib(data + 1, size - 1);
	}
	chunk = (size_t)data[0] % 64 + 1; /* how the bytes arrive: 1 to 64 at a time */
	cgp_frame_decoder_init(&d, MAX_FRAME);
	while (pos < size && rc >= 0) {
		size_t n = size - pos < chunk ? size - pos : chunk;
		const uint8_t *frame;
		size_t len;

		if (cgp_frame_decoder_feed(&d, data + pos, n))
			break;
		pos += n;
		while ((rc = cgp_frame_decoder_next(&d, &frame, &len)) == 1) {
			struct cgp_wire_msg m;
			char why[256];

			if (len > MAX_FRAME)
				abort();
			memset(&m, 0, sizeof(m));
			if (!cgp_wire_decode(frame, len, MAX_INFLATE, &scratch, &m, why, sizeof(why))) {
				if (!!m.batch + !!m.ack + !!m.hello != 1) /* exactly one of them */
					abort();
				if (m.batch)
					for (size_t i = 0; i < m.batch->n_events; i++) {
						const Cgpulse__V1__Event *ev = m.batch->events[i];
						json_t *j;

						if (!ev || m.batch->raw[i].len > len + MAX_INFLATE)
							abort();
						same_as_protobuf_c(&m.batch->raw[i]);
						cgp_buf_clear(&line);
						if (cgp_event_json_append(ev, CGP_JSON_ENVELOPE, &line))
							continue; /* no body: the collector refuses the batch */
						/* numbers as reals: a uint64 past int64 is valid JSON, and the
						 * collector reads such a line back so too (event_log.c) */
						j = json_loadb((const char *)cgp_buf_head(&line), cgp_buf_size(&line),
							       JSON_DECODE_INT_AS_REAL, NULL);
						if (!j)
							abort(); /* the collector would store a line nobody can read */
						json_decref(j);
					}
			} else if (!why[0]) {
				abort(); /* every refusal says why */
			}
			cgp_wire_msg_free(&m);
		}
	}
	if (rc >= 0)
		cgp_frame_decoder_finish(&d);
	cgp_frame_decoder_free(&d);
	cgp_buf_free(&scratch);
	cgp_buf_free(&line);
	return 0;
}
