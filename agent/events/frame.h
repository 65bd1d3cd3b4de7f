/* SPDX-License-Identifier: GPL-2.0 */
/* Varint-delimited framing (protobuf's delimited form: varint length, then the message), zlib for batches,
 * and an incremental decoder that takes a byte stream in arbitrary chunks and yields whole frames. */
#ifndef CGP_FRAME_H
#define CGP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/bytebuf.h"

#define CGP_VARINT_MAX		10	    /* a 64-bit varint takes at most 10 bytes */
#define CGP_FRAME_MAX_DEFAULT	(16u << 20) /* largest frame a collector accepts by default */
#define CGP_INFLATE_MAX_DEFAULT (64u << 20) /* largest inflated batch accepted by default */

size_t cgp_varint_len(uint64_t v);
size_t cgp_varint_put(uint8_t *out, uint64_t v); /* writes 1..10 bytes, returns how many */
/* Reads a varint from p[0..n): > 0 bytes used, 0 when more bytes are needed, -EBADMSG when malformed. */
int cgp_varint_get(const uint8_t *p, size_t n, uint64_t *v);

/* Appends one frame (varint length + msg) to out. 0 or -ENOMEM. */
int cgp_frame_append(struct cgp_buf *out, const void *msg, size_t len);

/* zlib (RFC 1950) of in, appended to out. 0, -ENOMEM or -EIO. Its ~276 KiB of state is mapped for the call and
 * unmapped after: nothing is held between calls. */
int cgp_zlib_compress(const void *in, size_t len, int level, struct cgp_buf *out);
/* The same, with the state kept in *state (NULL at first) for the next call, until cgp_zlib_release(state): for
 * several streams in a row (a burst of batches), mapped and faulted in once instead of once a stream. */
int cgp_zlib_compress_keep(const void *in, size_t len, int level, struct cgp_buf *out, void **state);
void cgp_zlib_release(void **state);
/* Inflates one complete zlib stream, appended to out; -EMSGSIZE when it would exceed max_out bytes
 * (a zlib bomb), -EBADMSG when corrupt or truncated or followed by trailing bytes, -ENOMEM. */
int cgp_zlib_inflate(const void *in, size_t len, size_t max_out, struct cgp_buf *out);

/* Incremental decoder. Errors are sticky: after one, the stream cannot be resynchronised. */
struct cgp_frame_decoder {
	struct cgp_buf buf;
	size_t max_frame;
	size_t consume; /* bytes of the frame handed out last, released on the next call */
	int err;
	char why[128];
};

void cgp_frame_decoder_init(struct cgp_frame_decoder *d, size_t max_frame);
void cgp_frame_decoder_free(struct cgp_frame_decoder *d);
/* Zero-copy input: space for at least want bytes (read() into it), then commit what was read. */
uint8_t *cgp_frame_decoder_space(struct cgp_frame_decoder *d, size_t want);
void cgp_frame_decoder_commit(struct cgp_frame_decoder *d, size_t n);
int cgp_frame_decoder_feed(struct cgp_frame_decoder *d, const void *data, size_t len); /* copies; 0 or -ENOMEM */
/* 1: (*frame, *len) is the next frame's message (valid until the next decoder call); 0: need more bytes;
 * -EMSGSIZE: length over max_frame; -EBADMSG: malformed varint. */
int cgp_frame_decoder_next(struct cgp_frame_decoder *d, const uint8_t **frame, size_t *len);
/* At end of stream: 0 when no partial frame is left, else -EPIPE (truncated frame). */
int cgp_frame_decoder_finish(struct cgp_frame_decoder *d);
size_t cgp_frame_decoder_pending(const struct cgp_frame_decoder *d); /* bytes buffered, not yet a frame */
/* Why the last error happened, for a log line. */
static inline const char *cgp_frame_decoder_error(const struct cgp_frame_decoder *d)
{
	return d->why;
}

#endif
