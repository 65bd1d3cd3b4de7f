// SPDX-License-Identifier: GPL-2.0
/* UTF-8 validation with its ASCII fast path (eight bytes at a time): a bad or a good multi-byte sequence is
 * seen wherever it sits, inside a word, across two words or in the tail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/utf8.h"

static void test_every_position(void **state)
{
	static const char *const bad[] = {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3", "\x80"};
	static const char *const good[] = {"\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
	char s[64];

	(void)state;
	memset(s, 'a', 40);
	assert_true(cgp_utf8_valid(s, 40));
	assert_true(cgp_utf8_valid(s, 0));
	for (size_t at = 0; at < 36; at++) {
		for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
			size_t n = strlen(bad[k]);

			memset(s, 'a', 40);
			memcpy(s + at, bad[k], n);
			assert_false(cgp_utf8_valid(s, 40));
			assert_false(cgp_utf8_valid(s, at + n)); /* at the very end */
		}
		for (size_t k = 0; k < sizeof(good) / sizeof(good[0]); k++) {
			size_t n = strlen(good[k]);

			memset(s, 'a', 40);
			memcpy(s + at, good[k], n);
			assert_true(cgp_utf8_valid(s, 40));
			assert_true(cgp_utf8_valid(s, at + n));
			assert_false(cgp_utf8_valid(s, at + n - 1)); /* cut short */
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_position),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
