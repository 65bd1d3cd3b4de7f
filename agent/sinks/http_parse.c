// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#include "sinks/http_parse.h"

#include "lib/token.h"

int cgp_http_parse_since(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* q=0, q=0.0, q=0.000 (RFC 9110's qvalue): the coding is refused. Anything unparsable counts as accepted. */
static bool q_is_zero(const char *q, size_t n)
{
	size_t i = 0;

	if (n < 3 || (q[0] != 'q' && q[0] != 'Q') || q[1] != '=' || q[2] != '0')
		return false;
	for (i = 3; i < n && is_ows(q[i]); i++)
		;
	if (i == n)
		return true;
	if (q[3] != '.')
		return false;
	for (i = 4; i < n && q[i] == '0'; i++)
		;
	while (i < n && is_ows(q[i]))
		i++;
	return i == n;
}

bool cgp_http_accepts_gzip(const char *v)
{
	while (v && *v) {
		size_t n = strcspn(v, ",");
		const char *tok = v, *semi;
		size_t tl;

		v += n + (v[n] == ',');
		while (n && is_ows(*tok))
			tok++, n--;
		semi = memchr(tok, ';', n);
		tl = semi ? (size_t)(semi - tok) : n;
		while (tl && is_ows(tok[tl - 1]))
			tl--;
		if (!((tl == 4 && !strncasecmp(tok, "gzip", 4)) || (tl == 6 && !strncasecmp(tok, "x-gzip", 6))))
			continue;
		if (semi) {
			const char *q = semi + 1;
			size_t ql = n - (size_t)(q - tok);

			while (ql && is_ows(*q))
				q++, ql--;
			if (q_is_zero(q, ql))
				return false;
		}
		return true;
	}
	return false;
}

static bool token68_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
	       c == '_' || c == '~' || c == '+' || c == '/';
}

bool cgp_http_bearer(const char *a, size_t *off, size_t *len)
{
	size_t i = 6, start, end;

	if (!a || strncasecmp(a, "Bearer", 6) || !is_ows(a[6]))
		return false;
	while (is_ows(a[i]))
		i++;
	start = i;
	while (token68_char(a[i]))
		i++;
	while (a[i] == '=') /* token68 may end in padding */
		i++;
	end = i;
	while (is_ows(a[i]))
		i++;
	if (a[i] || end == start)
		return false;
	*off = start;
	*len = end - start;
	return true;
}

bool cgp_http_token_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	return cgp_token_equal(a, alen, b, blen);
}

int cgp_http_token_from_file(const char *buf, size_t n, size_t *off, size_t *len)
{
	return cgp_token_span(buf, n, off, len);
}

uint64_t cgp_http_client_key(const struct sockaddr *sa, socklen_t len)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	uint64_t k = 0;

	if (sa && sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		return (1ULL << 32) | ntohl(in->sin_addr.s_addr);
	}
	if (sa && sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const uint8_t *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;

		if (!memcmp(b, mapped, sizeof(mapped)))
			return (1ULL << 32) | ((uint64_t)b[12] << 24) | ((uint64_t)b[13] << 16) |
			       ((uint64_t)b[14] << 8) | b[15];
		for (int i = 0; i < 8; i++)
			k = k << 8 | b[i];
		/* apart from IPv4's keys (bit 32 set, upper bits clear) and from 0 */
		return k | (1ULL << 63);
	}
	return 1; /* another family (unix socket): one client */
}
