/* SPDX-License-Identifier: GPL-2.0 */
/* A double as the shortest of "%.15g", "%.16g", "%.17g" that reads back (strtod) as the same double: the text
 * event_json.c has always written. The snprintf + strtod loop that defines it cost ~10,000 instructions per
 * figure, most of the agent's CPU at 10,000 cgroups with --json; this computes the same text with integer
 * arithmetic for 1e-14 <= |v| < 2^52 and falls back to that loop for anything else. */
#ifndef CGP_FMT_DOUBLE_H
#define CGP_FMT_DOUBLE_H

#include <stddef.h>

#define CGP_FMT_DOUBLE_MAX 32 /* "-1.2345678901234567e-100" and its NUL fit */

/* v finite. Writes NUL-terminated text into out and returns its length. */
size_t cgp_fmt_double(char out[CGP_FMT_DOUBLE_MAX], double v);
/* The definition itself (the snprintf + strtod loop), for the fallback and for tests. */
size_t cgp_fmt_double_slow(char out[CGP_FMT_DOUBLE_MAX], double v);

/* The shortest of "%.15g" and "%.17g" (never 16 digits) that reads back as v: the text the Prometheus exposition
 * (sinks/metrics.c) has always written; integer arithmetic over the same range, the definition beyond it. */
size_t cgp_fmt_double_expo(char out[CGP_FMT_DOUBLE_MAX], double v);
/* Its definition: "%.15g", and "%.17g" when strtod does not read that back as v. */
size_t cgp_fmt_double_expo_slow(char out[CGP_FMT_DOUBLE_MAX], double v);

#endif
