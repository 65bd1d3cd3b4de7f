// SPDX-License-Identifier: GPL-2.0
/* UTF-8 validation as RFC 3629 defines it: no overlongs, no surrogates, nothing above U+10FFFF. */
#include "lib/utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the valid sequence at s[0..n), or 0 if s does not start one. */
static size_t seq_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* All ASCII: the high bits of every byte, or-ed together a word at a time, are clear. */
static bool all_ascii(const unsigned char *p, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, p + i, sizeof(w));
		acc |= w;
	}
	for (; i < n; i++)
		acc |= p[i];
	return !(acc & 0x8080808080808080ull);
}

bool cgp_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	/* paths, ids and names are nearly all ASCII, and every event checks them: one pass without a branch a
	 * character first */
	if (all_ascii(p, n))
		return true;
	for (size_t i = 0; i < n;) {
		uint64_t w;
		size_t l;

		/* ASCII eight bytes at a time: paths, ids and names are nearly all ASCII, and every event checks them
		 */
		if (n - i >= sizeof(w)) {
			memcpy(&w, p + i, sizeof(w));
			if (!(w & 0x8080808080808080ull)) {
				i += sizeof(w);
				continue;
			}
		}
		l = seq_len(p + i, n - i);
		if (!l)
			return false;
		i += l;
	}
	return true;
}

size_t cgp_utf8_sanitize(char *dst, size_t cap, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	size_t o = 0;

	if (!cap)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t l = seq_len(p + i, n - i);

		if (o + (l ? l : 1) >= cap)
			break;
		if (!l) {
			dst[o++] = '?';
			i++;
			continue;
		}
		for (size_t k = 0; k < l; k++)
			dst[o++] = (char)p[i + k];
		i += l;
	}
	dst[o] = '\0';
	return o;
}
