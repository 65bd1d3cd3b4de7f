// SPDX-License-Identifier: GPL-2.0
/* gzip of HTTP bodies: ISA-L's igzip into a growable buffer. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include <isa-l/igzip_lib.h>

#include "sinks/gzip_body.h"

#define HIST_BITS 14	      /* a 16 KiB window: a metrics page compresses as well as with 32 KiB */
#define LEVEL_BUF (40 * 1024) /* level 1's hash and token buffer; smaller ones measured slower */

struct cgp_gzip {
	struct isal_zstream z;
	uint8_t level_buf[LEVEL_BUF];
};

struct cgp_gzip *cgp_gzip_new(void)
{
	struct cgp_gzip *g = malloc(sizeof(*g));

	if (!g)
		return NULL;
	isal_deflate_init(&g->z);
	g->z.level = 1;
	g->z.level_buf = g->level_buf;
	g->z.level_buf_size = sizeof(g->level_buf);
	g->z.hist_bits = HIST_BITS;
	g->z.gzip_flag = IGZIP_GZIP;
	return g;
}

int cgp_gzip_put(struct cgp_gzip *g, const void *in, size_t len, enum cgp_gzip_flush flush, struct cgp_buf *out)
{
	struct isal_zstream *z = &g->z;

	z->next_in = (uint8_t *)in;
	z->avail_in = (uint32_t)len;
	z->flush = flush == CGP_GZIP_SYNC ? SYNC_FLUSH : NO_FLUSH;
	z->end_of_stream = flush == CGP_GZIP_END;
	do {
		size_t room = 4096 + len / 2;
		uint8_t *w = cgp_buf_reserve(out, room);

		if (!w)
			return -ENOMEM;
		z->next_out = w;
		z->avail_out = (uint32_t)room;
		if (isal_deflate(z) != COMP_OK)
			return -EIO;
		out->len += room - z->avail_out;
	} while (z->avail_out == 0 || z->avail_in || (flush == CGP_GZIP_END && z->internal_state.state != ZSTATE_END));
	return 0;
}

void cgp_gzip_free(struct cgp_gzip *g)
{
	free(g);
}
