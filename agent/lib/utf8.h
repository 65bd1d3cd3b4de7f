/* SPDX-License-Identifier: GPL-2.0 */
/* UTF-8 checks. proto3 strings and JSON must be valid UTF-8, but a comm or a cgroup path is any bytes. */
#ifndef CGP_UTF8_H
#define CGP_UTF8_H

#include <stdbool.h>
#include <stddef.h>

bool cgp_utf8_valid(const char *s, size_t n);
/* Copies src into dst (cap bytes, NUL-terminated, cut at a character boundary) with each byte that is not
 * part of a valid sequence replaced by '?'. Returns the length written. */
size_t cgp_utf8_sanitize(char *dst, size_t cap, const char *src, size_t n);

#endif
