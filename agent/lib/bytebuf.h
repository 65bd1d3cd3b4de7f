/* SPDX-License-Identifier: GPL-2.0 */
/* A growable byte buffer with a consumed prefix: what a socket writer, a frame decoder and an encoder need. */
#ifndef CGP_BYTEBUF_H
#define CGP_BYTEBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes [off, len) of data are live; [0, off) were consumed and are reclaimed on the next reserve. */
struct cgp_buf {
	uint8_t *data;
	size_t off, len, cap;
};

#define CGP_BUF_INIT                                                                                                   \
	{                                                                                                              \
		0                                                                                                      \
	}

static inline const uint8_t *cgp_buf_head(const struct cgp_buf *b)
{
	return b->data + b->off;
}
static inline size_t cgp_buf_size(const struct cgp_buf *b)
{
	return b->len - b->off;
}

/* Makes room for n more bytes after len; returns the write pointer or NULL (out of memory). */
uint8_t *cgp_buf_reserve(struct cgp_buf *b, size_t n);
int cgp_buf_append(struct cgp_buf *b, const void *p, size_t n); /* 0 or -ENOMEM */
/* Appends formatted text (no NUL); 0, -ENOMEM, or -EINVAL for a format vsnprintf refuses. */
int cgp_buf_vprintf(struct cgp_buf *b, const char *fmt, va_list ap);
/* A text being written into a buffer with a sticky error, so formatting code reads as a list of lines: after the
 * first failure nothing more is written and err says why (-ENOMEM). */
struct cgp_text {
	struct cgp_buf *b;
	int err;
};
void cgp_text_printf(struct cgp_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cgp_text_puts(struct cgp_text *t, const char *s);

/* Appends a NUL and hands the bytes over as a C string (the buffer is left empty); NULL when out of memory. */
char *cgp_buf_take_string(struct cgp_buf *b);
void cgp_buf_consume(struct cgp_buf *b, size_t n); /* drops n bytes from the front */
void cgp_buf_clear(struct cgp_buf *b);		   /* keeps the memory */
void cgp_buf_free(struct cgp_buf *b);

#endif
