// SPDX-License-Identifier: GPL-2.0
/* Growable byte buffer. */
#include "lib/bytebuf.h"

#include <errno.h>
#include <stdio.h>
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

int cgp_buf_vprintf(struct cgp_buf *b, const char *fmt, va_list ap)
{
	size_t room = 128;

	for (int tries = 0; tries < 2; tries++) {
		char *w = (char *)cgp_buf_reserve(b, room);
		va_list aq;
		int n;

		if (!w)
			return -ENOMEM;
		va_copy(aq, ap);
		n = vsnprintf(w, room, fmt, aq);
		va_end(aq);
		if (n < 0)
			return -EINVAL;
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return 0;
		}
		room = (size_t)n + 1; /* the exact size, known now */
	}
	return -EINVAL;
}

void cgp_text_printf(struct cgp_text *t, const char *fmt, ...)
{
	va_list ap;

	if (t->err)
		return;
	va_start(ap, fmt);
	t->err = cgp_buf_vprintf(t->b, fmt, ap);
	va_end(ap);
}

void cgp_text_puts(struct cgp_text *t, const char *s)
{
	if (!t->err)
		t->err = cgp_buf_append(t->b, s, strlen(s));
}

char *cgp_buf_take_string(struct cgp_buf *b)
{
	char *s;

	if (cgp_buf_append(b, "", 1))
		return NULL;
	if (b->off)
		memmove(b->data, b->data + b->off, b->len - b->off);
	s = (char *)b->data;
	*b = (struct cgp_buf)CGP_BUF_INIT;
	return s;
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
