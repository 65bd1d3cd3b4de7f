// SPDX-License-Identifier: GPL-2.0
/* Growable byte buffer. */
#include "lib/bytebuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint8_t *cgp_buf_reserve(struct cgp_buf *b, size_t n)
{
	if (b->off && (b->off == b->len || b->cap - b->len < n)) {
		/* slide the live bytes down before growing: a socket buffer then stays the size of its backlog */
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->cap - b->len < n) {
		size_t cap = b->cap ? b->cap : 256;

		if (n > SIZE_MAX / 2 - b->len)
			return NULL;
		while (cap - b->len < n)
			cap *= 2;
		uint8_t *d = realloc(b->data, cap);

		if (!d)
			return NULL;
		b->data = d;
		b->cap = cap;
	}
	return b->data + b->len;
}

int cgp_buf_append(struct cgp_buf *b, const void *p, size_t n)
{
	uint8_t *w = cgp_buf_reserve(b, n);

	if (!w)
		return -ENOMEM;
	if (n)
		memcpy(w, p, n);
	b->len += n;
	return 0;
}

void cgp_buf_consume(struct cgp_buf *b, size_t n)
{
	b->off += n;
	if (b->off >= b->len)
		b->off = b->len = 0;
}

void cgp_buf_clear(struct cgp_buf *b)
{
	b->off = b->len = 0;
}

void cgp_buf_free(struct cgp_buf *b)
{
	free(b->data);
	*b = (struct cgp_buf)CGP_BUF_INIT;
}
