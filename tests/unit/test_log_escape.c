// SPDX-License-Identifier: GPL-2.0
/* cgp_log_escape: what a peer chose reaches a log line as printable ASCII only, cut to fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"

static void test_escape(void **state)
{
	char out[64], small[12];

	(void)state;
	assert_string_equal(cgp_log_escape(out, sizeof(out), "web-1 ok"), "web-1 ok");
	assert_string_equal(cgp_log_escape(out, sizeof(out), "a\nb\x1b[31m\\\xff"), "a\\x0ab\\x1b[31m\\x5c\\xff");
	assert_string_equal(cgp_log_escape(small, sizeof(small), "0123456789abcdef"), "01234567...");
	assert_string_equal(cgp_log_escape(small, sizeof(small), "\x01\x02\x03"), "\\x01\\x02...");
	assert_true(strlen(cgp_log_escape(small, sizeof(small), "\x01\x02\x03\x04\x05")) < sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
