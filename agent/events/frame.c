// SPDX-License-Identifier: GPL-2.0
/* Varint-delimited frames, zlib, and the incremental frame decoder. */
#include "events/frame.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

size_t cgp_varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

size_t cgp_varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

int cgp_varint_get(const uint8_t *p, size_t n, uint64_t *v)
{
	uint64_t r = 0;

	for (size_t i = 0; i < CGP_VARINT_MAX; i++) {
		if (i == n)
			return 0;
		/* the tenth byte may only hold bit 63 */
		if (i == CGP_VARINT_MAX - 1 && p[i] > 1)
			return -EBADMSG;
		r |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = r;
			return (int)i + 1;
		}
	}
	return -EBADMSG;
}

int cgp_frame_append(struct cgp_buf *out, const void *msg, size_t len)
{
	uint8_t *w = cgp_buf_reserve(out, CGP_VARINT_MAX + len);

	if (!w)
		return -ENOMEM;
	size_t h = cgp_varint_put(w, len);

	if (len)
		memcpy(w + h, msg, len);
	out->len += h + len;
	return 0;
}

/* ISA-L's igzip (the library the HTTP gzip uses), not libdeflate or zlib's compress2: the same RFC 1950 stream any
 * inflater reads. On the agent's real batches of samples (1,000 containers, three captures, callgrind): its level 2
 * takes 2.3-2.4k instructions an event against libdeflate level 1's 5.3-5.6k and compress2's 11k, for 3-3.5% more
 * bytes than libdeflate and 1% fewer than compress2. Its level 1 took ~1% more instructions for ~1% more bytes,
 * its level 3 2.6x the instructions for 1% fewer bytes: every zlib level asks for level 2 here. Level 2 wants a
 * 196 KiB hash and token buffer (smaller ones measured up to 2.5x slower) beside its 80 KiB stream state. Both are
 * mapped for the call and unmapped after, as compress2 made its state per call: freed to malloc they stayed in
 * the agent's heap (+240 KiB of steady RSS at 1,000 containers), and nothing is held between bursts of batches
 * (cgp_zlib_compress_keep: a burst maps it once; at 10,000 containers an interval is ~10 batches). */
#define ISAL_LEVEL     2
#define ISAL_LEVEL_BUF ISAL_DEF_LVL2_MEDIUM
#define ISAL_MAP_BYTES (sizeof(struct isal_zstream) + ISAL_LEVEL_BUF)

int cgp_zlib_compress_keep(const void *in, size_t len, int level, struct cgp_buf *out, void **state)
{
	struct isal_zstream *z = *state;
	size_t start = out->len;
	int ret = 0;

	if (level < 1 || level > 9 || len > UINT32_MAX)
		return -EIO;
	if (!z) {
		z = mmap(NULL, ISAL_MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (z == MAP_FAILED)
			return -ENOMEM;
		*state = z;
	}
	isal_deflate_init(z);
	z->level = ISAL_LEVEL;
	z->level_buf = (uint8_t *)(z + 1);
	z->level_buf_size = ISAL_LEVEL_BUF;
	z->gzip_flag = IGZIP_ZLIB;
	z->next_in = (uint8_t *)in;
	z->avail_in = (uint32_t)len;
	z->end_of_stream = 1;
	z->flush = NO_FLUSH;
	do {
		/* stored blocks cost 5 bytes in 64 KiB: room for all of it at once, in the first round */
		size_t room = len + len / 8192 + 64;
		uint8_t *w = cgp_buf_reserve(out, room);

		if (!w) {
			ret = -ENOMEM;
			break;
		}
		z->next_out = w;
		z->avail_out = (uint32_t)room;
		if (isal_deflate(z) != COMP_OK) {
			ret = -EIO;
			break;
		}
		out->len += room - z->avail_out;
	} while (z->internal_state.state != ZSTATE_END);
	if (ret)
		out->len = start;
	return ret;
}

void cgp_zlib_release(void **state)
{
	if (*state)
		munmap(*state, ISAL_MAP_BYTES);
	*state = NULL;
}

int cgp_zlib_compress(const void *in, size_t len, int level, struct cgp_buf *out)
{
	void *state = NULL;
	int ret = cgp_zlib_compress_keep(in, len, level, out, &state);

	cgp_zlib_release(&state);
	return ret;
}

/* Inflated by ISA-L's igzip, the zlib wrapper and its Adler-32 checked (ISAL_ZLIB): a third of the instructions
 * of zlib's inflate an event at the collector (zlib's scalar Adler-32 alone was 2,100 a sample event). */
int cgp_zlib_inflate(const void *in, size_t len, size_t max_out, struct cgp_buf *out)
{
	struct inflate_state *st;
	size_t start = out->len, produced = 0;
	int ret = -EBADMSG, r;

	if (len > UINT32_MAX)
		return -EMSGSIZE;
	st = malloc(sizeof(*st)); /* ~40 KiB with its window: not on the stack */
	if (!st)
		return -ENOMEM;
	isal_inflate_init(st);
	st->crc_flag = ISAL_ZLIB;
	st->next_in = (uint8_t *)in;
	st->avail_in = (uint32_t)len;
	do {
		/* grow geometrically from a guess, never past what max_out allows (+1 to see excess) */
		size_t room = produced < 16384 ? 16384 : produced;

		if (room > max_out + 1 - produced)
			room = max_out + 1 - produced;
		if (room > UINT32_MAX)
			room = UINT32_MAX;
		uint8_t *w = cgp_buf_reserve(out, room);

		if (!w) {
			ret = -ENOMEM;
			goto out;
		}
		st->next_out = w;
		st->avail_out = (uint32_t)room;
		r = isal_inflate(st);
		out->len += room - st->avail_out;
		produced += room - st->avail_out;
		if (produced > max_out) {
			ret = -EMSGSIZE;
			goto out;
		}
		if (r != ISAL_DECOMP_OK && r != ISAL_END_INPUT && r != ISAL_OUT_OVERFLOW)
			goto out; /* not deflate, a bad checksum, a dictionary asked for */
		if (st->block_state == ISAL_BLOCK_FINISH) {
			/* trailing bytes: igzip reads ahead into its bit buffer, so what it holds there was not used */
			ret = st->avail_in || st->read_in_length >= 8 ? -EBADMSG : 0;
			goto out;
		}
		/* all input taken with room left over, and not finished: the stream is cut short */
		if (st->avail_in == 0 && st->avail_out != 0)
			goto out;
	} while (1);
out:
	free(st);
	if (ret)
		out->len = start;
	return ret;
}

void cgp_frame_decoder_init(struct cgp_frame_decoder *d, size_t max_frame)
{
	memset(d, 0, sizeof(*d));
	d->max_frame = max_frame;
}

void cgp_frame_decoder_free(struct cgp_frame_decoder *d)
{
	cgp_buf_free(&d->buf);
}

static void release(struct cgp_frame_decoder *d)
{
	if (d->consume) {
		cgp_buf_consume(&d->buf, d->consume);
		d->consume = 0;
	}
}

uint8_t *cgp_frame_decoder_space(struct cgp_frame_decoder *d, size_t want)
{
	release(d);
	return cgp_buf_reserve(&d->buf, want);
}

void cgp_frame_decoder_commit(struct cgp_frame_decoder *d, size_t n)
{
	d->buf.len += n;
}

int cgp_frame_decoder_feed(struct cgp_frame_decoder *d, const void *data, size_t len)
{
	release(d);
	return cgp_buf_append(&d->buf, data, len);
}

int cgp_frame_decoder_next(struct cgp_frame_decoder *d, const uint8_t **frame, size_t *len)
{
	uint64_t n;
	int h;

	if (d->err)
		return d->err;
	release(d);
	const uint8_t *p = cgp_buf_head(&d->buf);
	size_t avail = cgp_buf_size(&d->buf);

	h = cgp_varint_get(p, avail, &n);
	if (h < 0) {
		snprintf(d->why, sizeof(d->why), "malformed frame length (varint longer than %d bytes)",
			 CGP_VARINT_MAX);
		return d->err = -EBADMSG;
	}
	if (h == 0) {
		/* reject a huge length as soon as its known bytes already exceed the limit */
		uint64_t partial = 0;

		for (size_t i = 0; i < avail; i++)
			partial |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if (partial > d->max_frame) {
			n = partial;
			goto too_big;
		}
		return 0;
	}
	if (n > d->max_frame)
		goto too_big;
	if (avail - (size_t)h < n)
		return 0;
	*frame = p + h;
	*len = (size_t)n;
	d->consume = (size_t)h + (size_t)n;
	return 1;
too_big:
	snprintf(d->why, sizeof(d->why), "frame length %s%" PRIu64 " exceeds the limit of %zu bytes",
		 h ? "" : "at least ", n, d->max_frame);
	return d->err = -EMSGSIZE;
}

int cgp_frame_decoder_finish(struct cgp_frame_decoder *d)
{
	release(d);
	if (d->err)
		return d->err;
	if (cgp_buf_size(&d->buf)) {
		snprintf(d->why, sizeof(d->why), "stream ended inside a frame (%zu bytes of it received)",
			 cgp_buf_size(&d->buf));
		return d->err = -EPIPE;
	}
	return 0;
}

size_t cgp_frame_decoder_pending(const struct cgp_frame_decoder *d)
{
	return cgp_buf_size(&d->buf) - d->consume;
}
