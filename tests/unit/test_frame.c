// SPDX-License-Identifier: GPL-2.0
/* Framing: varints, the incremental decoder fed in arbitrary chunks, its refusals, and zlib. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/frame.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

/* xorshift: reproducible "random" sizes without libc's rand state */
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_varint_roundtrip(void **state)
{
	const uint64_t vals[] = {0, 1, 127, 128, 300, 16383, 16384, UINT32_MAX, (uint64_t)1 << 63, UINT64_MAX};
	uint8_t b[CGP_VARINT_MAX];
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		size_t n = cgp_varint_put(b, vals[i]);

		assert_int_equal(n, cgp_varint_len(vals[i]));
		assert_int_equal(cgp_varint_get(b, n, &v), (int)n);
		assert_true(v == vals[i]);
		/* one byte short: needs more, not an error */
		assert_int_equal(cgp_varint_get(b, n - 1, &v), 0);
	}
	assert_int_equal(cgp_varint_len(UINT64_MAX), 10);
	assert_int_equal(b[0], 0xff);
}

static void test_varint_malformed(void **state)
{
	uint8_t eleven[11];
	uint8_t tenth_too_big[10];
	uint64_t v;

	(void)state;
	memset(eleven, 0xff, sizeof(eleven));
	assert_int_equal(cgp_varint_get(eleven, sizeof(eleven), &v), -EBADMSG);
	memset(tenth_too_big, 0x80, sizeof(tenth_too_big));
	tenth_too_big[9] = 0x02; /* bit 64 and above */
	assert_int_equal(cgp_varint_get(tenth_too_big, sizeof(tenth_too_big), &v), -EBADMSG);
}

/* Frames of random sizes, fed 1..97 bytes at a time, come out whole, in order, byte for byte. */
static void test_decoder_chunks(void **state)
{
	struct cgp_buf stream = CGP_BUF_INIT;
	struct cgp_frame_decoder d;
	enum { N = 300 };
	size_t sizes[N];
	uint8_t *msgs[N];
	size_t got = 0;

	(void)state;
	for (int i = 0; i < N; i++) {
		sizes[i] = i % 50 == 0 ? 0 : next_rand() % (i % 7 == 0 ? 40000 : 300);
		msgs[i] = malloc(sizes[i] + 1);
		for (size_t k = 0; k < sizes[i]; k++)
			msgs[i][k] = (uint8_t)next_rand();
		assert_int_equal(cgp_frame_append(&stream, msgs[i], sizes[i]), 0);
	}
	cgp_frame_decoder_init(&d, 1 << 20);
	for (size_t off = 0; off < cgp_buf_size(&stream);) {
		size_t chunk = 1 + next_rand() % 97, len;
		const uint8_t *f;
		int r;

		if (chunk > cgp_buf_size(&stream) - off)
			chunk = cgp_buf_size(&stream) - off;
		if (off % 2) {
			assert_int_equal(cgp_frame_decoder_feed(&d, cgp_buf_head(&stream) + off, chunk), 0);
		} else {
			uint8_t *w = cgp_frame_decoder_space(&d, chunk);

			assert_non_null(w);
			memcpy(w, cgp_buf_head(&stream) + off, chunk);
			cgp_frame_decoder_commit(&d, chunk);
		}
		off += chunk;
		while ((r = cgp_frame_decoder_next(&d, &f, &len)) == 1) {
			assert_true(got < N);
			assert_int_equal(len, sizes[got]);
			assert_memory_equal(f, msgs[got], len);
			got++;
		}
		assert_int_equal(r, 0);
	}
	assert_int_equal(got, N);
	assert_int_equal(cgp_frame_decoder_pending(&d), 0);
	assert_int_equal(cgp_frame_decoder_finish(&d), 0);
	cgp_frame_decoder_free(&d);
	cgp_buf_free(&stream);
	for (int i = 0; i < N; i++)
		free(msgs[i]);
}

/* A huge length is refused as soon as the bytes seen so far exceed the limit, before the varint ends. */
static void test_decoder_oversized(void **state)
{
	struct cgp_frame_decoder d;
	uint8_t b[CGP_VARINT_MAX];
	const uint8_t *f;
	size_t len, n = cgp_varint_put(b, ((uint64_t)1 << 40) - 1);

	(void)state;
	cgp_frame_decoder_init(&d, 1 << 20);
	assert_int_equal(cgp_frame_decoder_feed(&d, b, n - 1), 0);
	assert_int_equal(cgp_frame_decoder_next(&d, &f, &len), -EMSGSIZE);
	assert_non_null(strstr(cgp_frame_decoder_error(&d), "exceeds the limit"));
	/* sticky: more bytes do not resynchronise */
	assert_int_equal(cgp_frame_decoder_feed(&d, "abc", 3), 0);
	assert_int_equal(cgp_frame_decoder_next(&d, &f, &len), -EMSGSIZE);
	cgp_frame_decoder_free(&d);

	/* exactly the limit is fine, one more is not */
	cgp_frame_decoder_init(&d, 100);
	n = cgp_varint_put(b, 100);
	assert_int_equal(cgp_frame_decoder_feed(&d, b, n), 0);
	assert_int_equal(cgp_frame_decoder_next(&d, &f, &len), 0);
	cgp_frame_decoder_free(&d);
	cgp_frame_decoder_init(&d, 100);
	n = cgp_varint_put(b, 101);
	assert_int_equal(cgp_frame_decoder_feed(&d, b, n), 0);
	assert_int_equal(cgp_frame_decoder_next(&d, &f, &len), -EMSGSIZE);
	assert_non_null(strstr(cgp_frame_decoder_error(&d), "101"));
	cgp_frame_decoder_free(&d);
}

static void test_decoder_malformed_varint(void **state)
{
	struct cgp_frame_decoder d;
	uint8_t junk[12];
	const uint8_t *f;
	size_t len;

	(void)state;
	/* 0x80 bytes keep the value at 0 (within any limit) but never end the varint */
	memset(junk, 0x80, sizeof(junk));
	cgp_frame_decoder_init(&d, 1 << 20);
	assert_int_equal(cgp_frame_decoder_feed(&d, junk, sizeof(junk)), 0);
	assert_int_equal(cgp_frame_decoder_next(&d, &f, &len), -EBADMSG);
	assert_non_null(strstr(cgp_frame_decoder_error(&d), "malformed"));
	cgp_frame_decoder_free(&d);
}

static void test_decoder_truncated(void **state)
{
	struct cgp_buf s = CGP_BUF_INIT;
	struct cgp_frame_decoder d;
	const uint8_t *f;
	size_t len;

	(void)state;
	assert_int_equal(cgp_frame_append(&s, "hello", 5), 0);
	assert_int_equal(cgp_frame_append(&s, "world!", 6), 0);
	cgp_frame_decoder_init(&d, 1 << 20);
	assert_int_equal(cgp_frame_decoder_feed(&d, cgp_buf_head(&s), cgp_buf_size(&s) - 2), 0);
	assert_int_equal(cgp_frame_decoder_next(&d, &f, &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(f, "hello", 5);
	assert_int_equal(cgp_frame_decoder_next(&d, &f, &len), 0);
	assert_int_equal(cgp_frame_decoder_finish(&d), -EPIPE);
	assert_non_null(strstr(cgp_frame_decoder_error(&d), "ended inside a frame"));
	cgp_frame_decoder_free(&d);
	cgp_buf_free(&s);
}

static void test_zlib(void **state)
{
	struct cgp_buf z = CGP_BUF_INIT, out = CGP_BUF_INIT;
	size_t n = 200000;
	uint8_t *in = malloc(n);

	(void)state;
	for (size_t i = 0; i < n; i++)
		in[i] = (uint8_t)(i % 251 < 200 ? 'a' + i % 7 : next_rand());
	assert_int_equal(cgp_zlib_compress(in, n, 1, &z), 0);
	assert_true(cgp_buf_size(&z) < n);
	assert_int_equal(cgp_zlib_inflate(cgp_buf_head(&z), cgp_buf_size(&z), n, &out), 0);
	assert_int_equal(cgp_buf_size(&out), n);
	assert_memory_equal(cgp_buf_head(&out), in, n);

	/* one byte over the limit is a bomb, and out is left as it was */
	cgp_buf_clear(&out);
	assert_int_equal(cgp_zlib_inflate(cgp_buf_head(&z), cgp_buf_size(&z), n - 1, &out), -EMSGSIZE);
	assert_int_equal(cgp_buf_size(&out), 0);

	/* truncated, corrupt, trailing bytes */
	assert_int_equal(cgp_zlib_inflate(cgp_buf_head(&z), cgp_buf_size(&z) - 5, n, &out), -EBADMSG);
	z.data[z.off + cgp_buf_size(&z) / 2] ^= 0x55;
	assert_true(cgp_zlib_inflate(cgp_buf_head(&z), cgp_buf_size(&z), n, &out) == -EBADMSG);
	z.data[z.off + cgp_buf_size(&z) / 2] ^= 0x55;
	assert_int_equal(cgp_buf_append(&z, "x", 1), 0);
	assert_int_equal(cgp_zlib_inflate(cgp_buf_head(&z), cgp_buf_size(&z), n, &out), -EBADMSG);
	assert_int_equal(cgp_zlib_inflate("not zlib at all", 15, n, &out), -EBADMSG);
	assert_int_equal(cgp_zlib_inflate("", 0, n, &out), -EBADMSG);

	/* 64 MiB of zeros compress to ~64 KiB; a 1 MiB limit stops inflating early */
	free(in);
	n = 64u << 20;
	in = calloc(1, n);
	cgp_buf_clear(&z);
	assert_int_equal(cgp_zlib_compress(in, n, 9, &z), 0);
	assert_true(cgp_buf_size(&z) < (128u << 10));
	cgp_buf_free(&out);
	assert_int_equal(cgp_zlib_inflate(cgp_buf_head(&z), cgp_buf_size(&z), 1u << 20, &out), -EMSGSIZE);
	assert_true(out.cap <= (4u << 20));
	free(in);
	cgp_buf_free(&z);
	cgp_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_varint_roundtrip),
	    cmocka_unit_test(test_varint_malformed),
	    cmocka_unit_test(test_decoder_chunks),
	    cmocka_unit_test(test_decoder_oversized),
	    cmocka_unit_test(test_decoder_malformed_varint),
	    cmocka_unit_test(test_decoder_truncated),
	    cmocka_unit_test(test_zlib),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
