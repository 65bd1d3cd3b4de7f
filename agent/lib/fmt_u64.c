// SPDX-License-Identifier: GPL-2.0
/* Two digits a step from a table: half the divisions of one digit a step. */
#include <string.h>

#include "lib/fmt_u64.h"

static const char digits2[201] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";

size_t cgp_fmt_u64(char *p, uint64_t v)
{
	char tmp[CGP_FMT_U64_MAX];
	size_t i = sizeof(tmp);

	while (v >= 100) {
		unsigned d = (unsigned)(v % 100) * 2;

		v /= 100;
		tmp[--i] = digits2[d + 1];
		tmp[--i] = digits2[d];
	}
	if (v >= 10) {
		tmp[--i] = digits2[v * 2 + 1];
		tmp[--i] = digits2[v * 2];
	} else {
		tmp[--i] = (char)('0' + v);
	}
	memcpy(p, tmp + i, sizeof(tmp) - i);
	return sizeof(tmp) - i;
}
