// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: what the HTTP server reads from clients (agent/sinks/http_parse.c): since=, Accept-Encoding, the
 * Authorization header, the token file and the token check, the client key of any socket address. The input's
 * first byte picks the function; the answers are checked against what each promises. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sinks/http_parse.h"

static char *cstr(const uint8_t *p, size_t n)
{
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

static void since(const char *s)
{
	uint64_t v;

	if (!cgp_http_parse_since(s, &v)) { /* only digits, and they read back */
		for (const char *p = s; *p; p++)
			if (*p < '0' || *p > '9')
				abort();
		if (!*s || strtoull(s, NULL, 10) != v)
			abort();
	}
}

static void bearer(const char *s)
{
	size_t off, len;

	if (cgp_http_bearer(s, &off, &len) && (!len || off + len > strlen(s) || off < 7))
		abort();
}

static void token_equal(const uint8_t *p, size_t n)
{
	size_t half = n / 2;
	bool want = half == n - half && !memcmp(p, p + half, half);

	if (cgp_http_token_equal(p, half, p + half, n - half) != want)
		abort();
}

static void token_file(const uint8_t *p, size_t n)
{
	size_t off, len;

	if (!cgp_http_token_from_file((const char *)p, n, &off, &len)) {
		if (!len || len > 4096 || off + len > n)
			abort();
		for (size_t i = off; i < off + len; i++)
			if (p[i] <= ' ' || p[i] >= 0x7f)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (!size)
		return 0;
	s = cstr(data + 1, size - 1);
	switch (data[0] % 6) {
	case 0:
		since(s);
		break;
	case 1:
		cgp_http_accepts_gzip(s);
		break;
	case 2:
		bearer(s);
		break;
	case 3:
		token_equal(data + 1, size - 1);
		break;
	case 4:
		token_file(data + 1, size - 1);
		break;
	default: {
		struct sockaddr_storage ss;
		size_t n = size - 1 < sizeof(ss) ? size - 1 : sizeof(ss);

		memset(&ss, 0, sizeof(ss));
		memcpy(&ss, data + 1, n);
		if (!cgp_http_client_key((struct sockaddr *)&ss, (socklen_t)n))
			abort();
	}
	}
	free(s);
	return 0;
}
