/* SPDX-License-Identifier: GPL-2.0 */
/* What the HTTP server reads from clients (sinks/http_parse.c): since=, Accept-Encoding, the bearer token, the
 * token check and the token file, and which connections count as one client. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "sinks/http_parse.h"

static void test_since(void **state)
{
	static const struct {
		const char *s;
		int ret;
		uint64_t v;
	} cases[] = {
	    {"0", 0, 0},
	    {"42", 0, 42},
	    {"18446744073709551615", 0, UINT64_MAX},
	    {"18446744073709551616", -EINVAL, 0},
	    {"99999999999999999999", -EINVAL, 0},
	    {"", -EINVAL, 0},
	    {"-1", -EINVAL, 0},
	    {"+1", -EINVAL, 0},
	    {" 1", -EINVAL, 0},
	    {"1 ", -EINVAL, 0},
	    {"0x10", -EINVAL, 0},
	    {"1e3", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t v = 7;
		int ret = cgp_http_parse_since(cases[i].s, &v);

		if (ret != cases[i].ret || (!ret && v != cases[i].v))
			fail_msg("'%s': got %d %llu", cases[i].s, ret, (unsigned long long)v);
	}
	assert_int_equal(cgp_http_parse_since(NULL, &(uint64_t){0}), -EINVAL);
}

static void test_accept_encoding(void **state)
{
	static const struct {
		const char *v;
		bool gzip;
	} cases[] = {
	    {"gzip", true},
	    {"GZIP", true},
	    {"x-gzip", true},
	    {"deflate, gzip;q=0.5", true},
	    {" br ,  gzip ; q=1", true},
	    {"gzip;q=0", false},
	    {"gzip;q=0.000", false},
	    {"gzip; q=0.0 ", false},
	    {"gzip;q=0.01", true},
	    {"deflate, br", false},
	    {"gzipx", false},
	    {"*", false},
	    {"", false},
	    {",,,", false},
	    {"gzip;q=", true},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (cgp_http_accepts_gzip(cases[i].v) != cases[i].gzip)
			fail_msg("'%s': want %d", cases[i].v, cases[i].gzip);
	assert_false(cgp_http_accepts_gzip(NULL));
}

static void test_bearer(void **state)
{
	static const struct {
		const char *h;
		const char *tok; /* NULL: refused */
	} cases[] = {
	    {"Bearer abc", "abc"},
	    {"bearer abc", "abc"},
	    {"BEARER  a.b-c_d~e+f/g==", "a.b-c_d~e+f/g=="},
	    {"Bearer abc  ", "abc"},
	    {"Bearer\tabc", "abc"},
	    {"Bearer", NULL},
	    {"Bearer ", NULL},
	    {"Bearerabc", NULL},
	    {"Basic dXNlcjpwYXNz", NULL},
	    {"Bearer a b", NULL},
	    {"Bearer a=b", NULL},
	    {"Bearer ab\x01", NULL},
	    {"", NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t off = 99, len = 99;
		bool ok = cgp_http_bearer(cases[i].h, &off, &len);

		if (ok != (cases[i].tok != NULL) ||
		    (ok && (len != strlen(cases[i].tok) || memcmp(cases[i].h + off, cases[i].tok, len))))
			fail_msg("'%s': got %d [%zu, %zu)", cases[i].h, ok, off, off + len);
	}
	assert_false(cgp_http_bearer(NULL, &(size_t){0}, &(size_t){0}));
}

static void test_token_equal(void **state)
{
	(void)state;
	assert_true(cgp_http_token_equal("secret", 6, "secret", 6));
	assert_false(cgp_http_token_equal("secreT", 6, "secret", 6));
	assert_false(cgp_http_token_equal("secre", 5, "secret", 6));
	assert_false(cgp_http_token_equal("secrets", 7, "secret", 6));
	assert_false(cgp_http_token_equal("", 0, "secret", 6));
	/* a guess that is the secret followed by NULs is not the secret */
	assert_false(cgp_http_token_equal("secret\0\0", 8, "secret", 6));
}

static void test_token_file(void **state)
{
	static const struct {
		const char *buf;
		const char *tok; /* NULL: refused */
	} cases[] = {
	    {"abc\n", "abc"}, {"  abc \r\n\n", "abc"}, {"a-b.c_d~", "a-b.c_d~"}, {"", NULL},
	    {"\n\n", NULL},   {"a b\n", NULL},	       {"ab\x7f", NULL},	 {"\xc3\xa9t\xc3\xa9", NULL},
	};
	char big[5000];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t off = 0, len = 0;
		int ret = cgp_http_token_from_file(cases[i].buf, strlen(cases[i].buf), &off, &len);

		if ((ret == 0) != (cases[i].tok != NULL) ||
		    (!ret && (len != strlen(cases[i].tok) || memcmp(cases[i].buf + off, cases[i].tok, len))))
			fail_msg("case %zu: got %d", i, ret);
	}
	memset(big, 'x', sizeof(big));
	assert_int_equal(cgp_http_token_from_file(big, 4096, &(size_t){0}, &(size_t){0}), 0);
	assert_int_equal(cgp_http_token_from_file(big, 4097, &(size_t){0}, &(size_t){0}), -EINVAL);
}

static void test_client_key(void **state)
{
	struct sockaddr_in a = {.sin_family = AF_INET}, b = a;
	struct sockaddr_in6 x = {.sin6_family = AF_INET6}, y = x, m = x;

	(void)state;
	inet_pton(AF_INET, "10.1.2.3", &a.sin_addr);
	inet_pton(AF_INET, "10.1.2.4", &b.sin_addr);
	b.sin_port = htons(4000);
	assert_int_not_equal(cgp_http_client_key((struct sockaddr *)&a, sizeof(a)),
			     cgp_http_client_key((struct sockaddr *)&b, sizeof(b)));
	b.sin_addr = a.sin_addr; /* the port does not matter */
	assert_int_equal(cgp_http_client_key((struct sockaddr *)&a, sizeof(a)),
			 cgp_http_client_key((struct sockaddr *)&b, sizeof(b)));
	/* one /64 is one client; another /64 is another */
	inet_pton(AF_INET6, "2001:db8:1:2::1", &x.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &y.sin6_addr);
	assert_int_equal(cgp_http_client_key((struct sockaddr *)&x, sizeof(x)),
			 cgp_http_client_key((struct sockaddr *)&y, sizeof(y)));
	inet_pton(AF_INET6, "2001:db8:1:3::1", &y.sin6_addr);
	assert_int_not_equal(cgp_http_client_key((struct sockaddr *)&x, sizeof(x)),
			     cgp_http_client_key((struct sockaddr *)&y, sizeof(y)));
	/* an IPv4-mapped address is the IPv4 client */
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &m.sin6_addr);
	assert_int_equal(cgp_http_client_key((struct sockaddr *)&m, sizeof(m)),
			 cgp_http_client_key((struct sockaddr *)&a, sizeof(a)));
	assert_int_not_equal(cgp_http_client_key((struct sockaddr *)&a, 2), 0);
	assert_int_not_equal(cgp_http_client_key(NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_since),      cmocka_unit_test(test_accept_encoding),
	    cmocka_unit_test(test_bearer),     cmocka_unit_test(test_token_equal),
	    cmocka_unit_test(test_token_file), cmocka_unit_test(test_client_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
