// SPDX-License-Identifier: GPL-2.0
/* The integer formatting of doubles must give, byte for byte, the text of its definition (glibc's "%.15g",
 * "%.16g", "%.17g" with strtod reading it back; for the exposition's variant "%.15g", else "%.17g"): random doubles
 * over every exponent, the figures a sample carries (ratios of counters), exact decimal ties, powers of two, and the
 * edges of each decimal decade. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <math.h>
#include "lib/fmt_double.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* the definition, written here again rather than taken from the file under test */
static void check(double v)
{
	char want[64], got[CGP_FMT_DOUBLE_MAX];
	size_t n;
	int wn = 0;

	if (!isfinite(v))
		return;
	for (int prec = 15;; prec++) {
		wn = snprintf(want, sizeof(want), "%.*g", prec, v);
		if (prec == 17 || strtod(want, NULL) == v)
			break;
	}
	n = cgp_fmt_double(got, v);
	if (n != (size_t)wn || strcmp(got, want))
		fail_msg("%a: got \"%s\" (%zu), want \"%s\"", v, got, n, want);
	/* the exposition's: 15 digits, else 17 (never 16) */
	wn = snprintf(want, sizeof(want), "%.15g", v);
	if (strtod(want, NULL) != v)
		wn = snprintf(want, sizeof(want), "%.17g", v);
	n = cgp_fmt_double_expo(got, v);
	if (n != (size_t)wn || strcmp(got, want))
		fail_msg("%a (expo): got \"%s\" (%zu), want \"%s\"", v, got, n, want);
}

static void test_random_bits(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t b = next();
		double v;

		memcpy(&v, &b, sizeof(v));
		check(v);
	}
}

/* every exponent the fast path takes, and around it, with random mantissas */
static void test_exponents(void **state)
{
	(void)state;
	for (int e = -60; e <= 60; e++)
		for (int i = 0; i < 3000; i++) {
			double v = ldexp(1.0 + (double)(next() >> 11) / 9007199254740992.0, e);

			check(v);
			check(-v);
		}
}

/* what samples carry: ratios of counters (cores, percentages, seconds) */
static void test_ratios(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		double a = (double)(next() % 4000000000ULL), b = (double)(next() % 4000000000ULL + 1);

		check(a / b);
		check(a / b * 100.0);
		check(a / 1e9 / (1.0 + (double)(next() % 1000) / 1e6));
		check((double)(next() % 100000) / 1000.0);
	}
}

/* exact decimal ties at the 16th and 17th digit (dyadic values with few fraction bits), powers of two and the
 * decades' edges */
static void test_edges(void **state)
{
	(void)state;
	for (int bits = 1; bits <= 12; bits++)
		for (int i = 0; i < 20000; i++) {
			uint64_t ip = next() % (1ULL << (52 - bits));

			check((double)ip + (double)(next() % (1ULL << bits)) / (double)(1ULL << bits));
		}
	for (int e = -1074; e <= 1023; e++) {
		double p = ldexp(1.0, e);

		check(p);
		check(nextafter(p, 0));
		check(nextafter(p, INFINITY));
	}
	for (int d = -320; d <= 308; d++) {
		double p = pow(10.0, d);

		check(p);
		for (int k = 1; k <= 40; k++) {
			p = nextafter(p, 0);
			check(p);
		}
		p = pow(10.0, d);
		for (int k = 1; k <= 40; k++) {
			p = nextafter(p, INFINITY);
			check(p);
		}
		check(9.5 * pow(10.0, d));
		check(0.5 * pow(10.0, d));
	}
	check(0.1);
	check(1.0 / 3.0);
	check(2.0 / 3.0);
	check(0.30000000000000004);
	check(1234567890123.125);
	check(4503599627370495.5);
	check(-0.0);
	check(1e-5);
	check(9.99999999999999e-5);
	check(0.7999999999999999); /* 16 digits read back: the two definitions differ */
	{
		char a[CGP_FMT_DOUBLE_MAX], b[CGP_FMT_DOUBLE_MAX];

		cgp_fmt_double(a, 0.1 + 0.7);
		cgp_fmt_double_expo(b, 0.1 + 0.7);
		assert_string_equal(a, "0.7999999999999999");
		assert_string_equal(b, "0.79999999999999993");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_random_bits),
	    cmocka_unit_test(test_exponents),
	    cmocka_unit_test(test_ratios),
	    cmocka_unit_test(test_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
