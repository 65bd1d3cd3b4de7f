// SPDX-License-Identifier: GPL-2.0
#include "lib/fmt_double.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned __int128 u128;
typedef __int128 s128;

#define MAX_K 27 /* 5^27 is the largest power of five in 64 bits */

size_t cgp_fmt_double_slow(char out[CGP_FMT_DOUBLE_MAX], double v)
{
	int n = 0;

	for (int prec = 15;; prec++) {
		n = snprintf(out, CGP_FMT_DOUBLE_MAX, "%.*g", prec, v);
		if (prec == 17 || strtod(out, NULL) == v)
			break;
	}
	return (size_t)n;
}

static const uint64_t pow10_u64[18] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
};

static const uint64_t pow5_u64[MAX_K + 1] = {
    1ULL,
    5ULL,
    25ULL,
    125ULL,
    625ULL,
    3125ULL,
    15625ULL,
    78125ULL,
    390625ULL,
    1953125ULL,
    9765625ULL,
    48828125ULL,
    244140625ULL,
    1220703125ULL,
    6103515625ULL,
    30517578125ULL,
    152587890625ULL,
    762939453125ULL,
    3814697265625ULL,
    19073486328125ULL,
    95367431640625ULL,
    476837158203125ULL,
    2384185791015625ULL,
    11920928955078125ULL,
    59604644775390625ULL,
    298023223876953125ULL,
    1490116119384765625ULL,
    7450580596923828125ULL,
};

static uint64_t pow5(int k)
{
	return pow5_u64[k];
}

/* "%.<p>g" of the value digits × 10^(x - p + 1), digits having exactly p digits (glibc's rules: style e when the
 * exponent is below -4 or at least p; trailing zeros and a bare point dropped). */
static size_t format_g(char *out, bool neg, uint64_t digits, int p, int x)
{
	char d[20] = {0};
	char *o = out;
	int nd = p;

	for (int i = p - 1; i >= 0; i--) {
		d[i] = (char)('0' + digits % 10);
		digits /= 10;
	}
	while (nd > 1 && d[nd - 1] == '0') /* the significant digits left after dropping trailing zeros */
		nd--;
	if (neg)
		*o++ = '-';
	if (x < -4 || x >= p) {
		unsigned ax = (unsigned)(x < 0 ? -x : x);

		*o++ = d[0];
		if (nd > 1) {
			*o++ = '.';
			memcpy(o, d + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		*o++ = 'e';
		*o++ = x < 0 ? '-' : '+';
		if (ax >= 100)
			*o++ = (char)('0' + ax / 100);
		*o++ = (char)('0' + ax / 10 % 10);
		*o++ = (char)('0' + ax % 10);
	} else if (x >= 0) {
		memcpy(o, d, (size_t)x + 1); /* x < p: every integer digit is one of the p */
		o += x + 1;
		if (nd > x + 1) {
			*o++ = '.';
			memcpy(o, d + x + 1, (size_t)(nd - x - 1));
			o += nd - x - 1;
		}
	} else {
		*o++ = '0';
		*o++ = '.';
		for (int z = 0; z < -x - 1; z++)
			*o++ = '0';
		memcpy(o, d, (size_t)nd);
		o += nd;
	}
	*o = '\0';
	return (size_t)(o - out);
}

/* With v = m × 2^-s: n = floor(v × 10^k) has 17 digits, and v × 10^k = n + r / 2^sh (sh = s - k). */
struct scaled {
	uint64_t m, n;
	u128 r;
	int sh, k, x; /* x: v's decimal exponent, 10^x <= |v| < 10^(x+1) */
};

static bool scale(double v, struct scaled *sc)
{
	uint64_t bits;
	int be, s, x;

	memcpy(&bits, &v, sizeof(bits));
	be = (int)((bits >> 52) & 0x7ff);
	if (be == 0 || be == 0x7ff) /* zero, subnormal, infinite or NaN */
		return false;
	sc->m = (bits & ((1ULL << 52) - 1)) | (1ULL << 52);
	s = 1075 - be;
	if (s <= 0) /* an integer of 2^53 or more */
		return false;
	/* floor(e × log10 2) in integers (exact for |e| <= 1650, as Ryu's log10Pow2): v's decimal exponent or one
	 * less (the mantissa's [1, 2) adds up to 0.302), which the loop corrects; log10 touched 170 KiB of libm's
	 * pages, RSS the agent's 12 MiB target had no room for */
	x = be >= 1023 ? (be - 1023) * 78913 >> 18 : -(((1023 - be) * 78913 >> 18) + 1);
	for (int tries = 0; tries < 3; tries++) {
		int k = 16 - x, sh = s - k;
		u128 t;

		if (k < 0 || k > MAX_K || sh < 0 || sh > 100)
			return false;
		t = (u128)sc->m * pow5(k);
		t = sh ? t >> sh : t;
		if (t >= pow10_u64[17]) {
			if (t / 10 >= pow10_u64[17])
				return false;
			x++; /* the estimate was one too few */
			continue;
		}
		if (t < pow10_u64[16]) {
			x--;
			continue;
		}
		sc->n = (uint64_t)t;
		sc->r = sh ? ((u128)sc->m * pow5(k)) & (((u128)1 << sh) - 1) : 0;
		sc->sh = sh;
		sc->k = k;
		sc->x = x;
		return true;
	}
	return false;
}

/* v rounded to p significant digits as printf rounds (to nearest, exact ties to even): the digits (may be
 * 10^p after a carry) and whether strtod reads that decimal back as v (the distance from v under half the gap
 * to the neighbour on that side; an exact half goes to the even mantissa). */
static uint64_t round_to(const struct scaled *sc, int p, bool *reads_back)
{
	int drop = 17 - p;
	uint64_t div = pow10_u64[drop], q = sc->n / div, rem = sc->n % div, half = div / 2;
	u128 unit = (u128)1 << sc->sh; /* r is in units of 1/unit of the 17th digit */
	bool up;
	s128 diff, bound = (s128)pow5(sc->k), lhs;

	if (drop == 0)
		up = 2 * sc->r > unit || (2 * sc->r == unit && (q & 1));
	else if (rem != half)
		up = rem > half;
	else
		up = sc->r || (q & 1);
	q += up;
	/* (decimal - v) × 10^k × 2^sh = (q × div - n) × 2^sh - r */
	diff = ((s128)q * (s128)div - (s128)sc->n) * (s128)unit - (s128)sc->r;
	lhs = diff < 0 ? -diff : diff;
	if (diff < 0 && sc->m == 1ULL << 52)
		lhs *= 4; /* below a power of two the neighbour is half as far */
	else
		lhs *= 2;
	*reads_back = lhs < bound || (lhs == bound && !(sc->m & 1));
	return q;
}

size_t cgp_fmt_double_expo_slow(char out[CGP_FMT_DOUBLE_MAX], double v)
{
	int n = snprintf(out, CGP_FMT_DOUBLE_MAX, "%.15g", v);

	if (strtod(out, NULL) != v)
		n = snprintf(out, CGP_FMT_DOUBLE_MAX, "%.17g", v);
	return (size_t)n;
}

/* The shortest of the precisions from 15 to 17 (every one, or without 16) that reads back. */
static size_t fmt(char out[CGP_FMT_DOUBLE_MAX], double v, bool with16)
{
	struct scaled sc;

	if (!scale(v, &sc))
		return with16 ? cgp_fmt_double_slow(out, v) : cgp_fmt_double_expo_slow(out, v);
	for (int p = 15; p <= 17; p++) {
		bool back;
		uint64_t q;
		int x = sc.x;

		if (p == 16 && !with16)
			continue;
		q = round_to(&sc, p, &back);
		if (p < 17 && !back)
			continue;
		if (q == pow10_u64[p]) { /* 9.99… rounded up to 10.0… */
			q = pow10_u64[p - 1];
			x++;
		}
		return format_g(out, v < 0, q, p, x);
	}
	return cgp_fmt_double_slow(out, v); /* not reached: p = 17 always formats */
}

size_t cgp_fmt_double(char out[CGP_FMT_DOUBLE_MAX], double v)
{
	return fmt(out, v, true);
}

size_t cgp_fmt_double_expo(char out[CGP_FMT_DOUBLE_MAX], double v)
{
	return fmt(out, v, false);
}
