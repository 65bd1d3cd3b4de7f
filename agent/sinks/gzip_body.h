/* SPDX-License-Identifier: GPL-2.0 */
/* gzip of an HTTP body written a piece at a time (metrics pages, event streams): one deflate stream per response,
 * its settings chosen here for both. Intel's ISA-L (igzip) level 1: ~4x faster than zlib's level 1 on a metrics
 * page here, with smaller output, and the same gzip any client decodes. No I/O. */
#ifndef CGP_GZIP_BODY_H
#define CGP_GZIP_BODY_H

#include <stddef.h>

#include "lib/bytebuf.h"

enum cgp_gzip_flush {
	CGP_GZIP_MORE, /* more input follows; output as the compressor sees fit */
	CGP_GZIP_SYNC, /* everything given so far decodable now (a deflate sync flush) */
	CGP_GZIP_END,  /* the last input: the stream's end and the gzip trailer */
};

struct cgp_gzip;

/* A gzip stream (16 KiB window, ~120 KiB of state); NULL when out of memory. */
struct cgp_gzip *cgp_gzip_new(void);
/* Appends the compressed form of in[0..len) to out. 0, -ENOMEM, or -EIO (the compressor refused: a bug). */
int cgp_gzip_put(struct cgp_gzip *g, const void *in, size_t len, enum cgp_gzip_flush flush, struct cgp_buf *out);
void cgp_gzip_free(struct cgp_gzip *g);

#endif
