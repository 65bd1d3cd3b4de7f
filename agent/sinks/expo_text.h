/* SPDX-License-Identifier: GPL-2.0 */
/* The pieces of a Prometheus text exposition line written without printf: a scrape writes ~50 series per cgroup,
 * and formatting each through vsnprintf (twice when a line is over its first 128 bytes) was most of a scrape's
 * CPU. A series line is reserved once and its pieces copied in; the bytes are those printf made. No I/O. */
#ifndef CGP_EXPO_TEXT_H
#define CGP_EXPO_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/bytebuf.h"

/* A piece of text and its length. */
struct cgp_str {
	const char *s;
	size_t len;
};

enum cgp_expo_unit {
	CGP_EXPO_COUNT,	  /* the whole number as is (%" PRIu64 ") */
	CGP_EXPO_SECONDS, /* nanoseconds as exact decimal seconds: 1.5, 2, 0.000000001 */
};

/* ns as exact decimal seconds at p (room for 30 bytes), trailing zeros of the fraction dropped; its length. */
size_t cgp_expo_seconds(char *p, uint64_t ns);

/* Appends "name{labels extra} value\n" (the parts' bytes as they are: labels and extra already escaped). */
void cgp_expo_series(struct cgp_text *w, struct cgp_str name, struct cgp_str labels, struct cgp_str extra,
		     enum cgp_expo_unit unit, uint64_t v);

/* Appends "name{labels} v\n", v as the shortest of %.15g / %.17g that reads back (lib/fmt_double.h). */
void cgp_expo_series_double(struct cgp_text *w, struct cgp_str name, struct cgp_str labels, double v);

#endif
