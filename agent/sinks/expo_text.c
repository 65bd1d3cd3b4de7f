// SPDX-License-Identifier: GPL-2.0
/* Series lines of the text exposition, copied together instead of printed. */
#include <errno.h>
#include <string.h>

#include "lib/fmt_double.h"
#include "lib/fmt_u64.h"
#include "sinks/expo_text.h"

size_t cgp_expo_seconds(char *p, uint64_t ns)
{
	size_t n = cgp_fmt_u64(p, ns / 1000000000u);
	uint32_t frac = (uint32_t)(ns % 1000000000u);
	int last = 8;

	if (!frac)
		return n;
	p[n++] = '.';
	while (frac % 10 == 0) { /* 9 digits, zero-padded, without the trailing zeros */
		frac /= 10;
		last--;
	}
	for (int k = last; k >= 0; k--) {
		p[n + (size_t)k] = (char)('0' + frac % 10);
		frac /= 10;
	}
	return n + (size_t)last + 1;
}

/* Room for n more bytes: at the end of a buffer that has it (a page's piece, reserved once), without a call. */
static inline char *room(struct cgp_buf *b, size_t n)
{
	if (!b->off && b->cap - b->len >= n)
		return (char *)b->data + b->len;
	return (char *)cgp_buf_reserve(b, n);
}

void cgp_expo_series(struct cgp_text *w, struct cgp_str name, struct cgp_str labels, struct cgp_str extra,
		     enum cgp_expo_unit unit, uint64_t v)
{
	size_t n = name.len + labels.len + extra.len + 4 + 32;
	char *p;

	if (w->err)
		return;
	p = room(w->b, n);
	if (!p) {
		w->err = -ENOMEM;
		return;
	}
	n = 0;
	memcpy(p, name.s, name.len);
	n += name.len;
	p[n++] = '{';
	memcpy(p + n, labels.s, labels.len);
	n += labels.len;
	memcpy(p + n, extra.s, extra.len);
	n += extra.len;
	p[n++] = '}';
	p[n++] = ' ';
	n += unit == CGP_EXPO_SECONDS ? cgp_expo_seconds(p + n, v) : cgp_fmt_u64(p + n, v);
	p[n++] = '\n';
	w->b->len += n;
}

void cgp_expo_series_double(struct cgp_text *w, struct cgp_str name, struct cgp_str labels, double v)
{
	char *p;
	size_t n;

	if (w->err)
		return;
	p = room(w->b, name.len + labels.len + 4 + CGP_FMT_DOUBLE_MAX);
	if (!p) {
		w->err = -ENOMEM;
		return;
	}
	memcpy(p, name.s, name.len);
	n = name.len;
	p[n++] = '{';
	memcpy(p + n, labels.s, labels.len);
	n += labels.len;
	p[n++] = '}';
	p[n++] = ' ';
	n += cgp_fmt_double_expo(p + n, v); /* its NUL is overwritten by the newline */
	p[n++] = '\n';
	w->b->len += n;
}
