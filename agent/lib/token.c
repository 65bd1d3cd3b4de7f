// SPDX-License-Identifier: GPL-2.0
/* Token files and the constant-time comparison. */
#include "lib/token.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool cgp_token_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = alen != blen;

	/* every byte of the secret is looked at, whatever the guess holds */
	for (size_t i = 0; i < blen; i++)
		diff |= (unsigned char)((i < alen ? x[i] : 0) ^ y[i]);
	return !diff;
}

static bool space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int cgp_token_span(const char *buf, size_t n, size_t *off, size_t *len)
{
	size_t s = 0, e = n;

	while (s < e && space(buf[s]))
		s++;
	while (e > s && space(buf[e - 1]))
		e--;
	if (e == s || e - s > CGP_TOKEN_MAX)
		return -EINVAL;
	for (size_t i = s; i < e; i++)
		if ((unsigned char)buf[i] <= ' ' || (unsigned char)buf[i] >= 0x7f)
			return -EINVAL;
	*off = s;
	*len = e - s;
	return 0;
}

int cgp_token_load(const char *path, char *out, char *why, size_t whylen)
{
	char buf[CGP_TOKEN_MAX + 64];
	size_t n = 0, off, len;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", path, strerror(-err));
		return err;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, sizeof(buf) - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			err = -errno;
		if (r <= 0 || (n += (size_t)r) == sizeof(buf))
			break;
	}
	close(fd);
	if (err) {
		snprintf(why, whylen, "%s: %s", path, strerror(-err));
		return err;
	}
	if (n == sizeof(buf) || cgp_token_span(buf, n, &off, &len)) {
		snprintf(why, whylen, "%s: not a token (1 to %d visible ASCII characters, white space around them)",
			 path, CGP_TOKEN_MAX);
		return -EINVAL;
	}
	memcpy(out, buf + off, len);
	out[len] = 0;
	return 0;
}
