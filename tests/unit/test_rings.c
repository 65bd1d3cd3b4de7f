// SPDX-License-Identifier: GPL-2.0
/* The ring readers' decoding of the kernel's records (collect/rings.c): whole records only, the kernel's clock
 * turned into wall time, a path cut by the kernel side terminated, the root's empty path named "/". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collect/rings.h"

static void test_cgroup_record(void **state)
{
	struct cgp_cgroup_event e = {.ts_boot_ns = 100, .cgroup_id = 42, .kind = CGP_CGROUP_MKDIR, .level = 2};
	struct cgp_cgroup_change c;

	(void)state;
	memset(e.path, 'a', sizeof(e.path)); /* cut at CGP_PATH_LEN, no NUL from the kernel side */
	assert_true(cgp_ring_decode_cgroup(&e, sizeof(e), 1000, &c));
	assert_int_equal(c.kind, CGP_CGROUP_MKDIR);
	assert_int_equal(c.cgroup_id, 42);
	assert_int_equal(c.ts_ns, 1100);
	assert_int_equal(strlen(c.path), CGP_PATH_LEN - 1);
	/* the root */
	memset(e.path, 0, sizeof(e.path));
	e.kind = CGP_CGROUP_RMDIR;
	assert_true(cgp_ring_decode_cgroup(&e, sizeof(e), 0, &c));
	assert_string_equal(c.path, "/");
	/* short, or of no kind we know: skipped (the reader counts it) */
	assert_false(cgp_ring_decode_cgroup(&e, sizeof(e) - 1, 0, &c));
	e.kind = 7;
	assert_false(cgp_ring_decode_cgroup(&e, sizeof(e), 0, &c));
}

static void test_oom_record(void **state)
{
	struct cgp_oom_rec r = {.ts_boot_ns = 5,
				.cgroup_id = 77,
				.memcg_id = 31,
				.pid = 4242,
				.tgid = 4240,
				.rss_anon_bytes = 1 << 20,
				.oom_score_adj = -999,
				.mem_limit_bytes = 16 << 20};
	struct cgp_oom_event e;

	(void)state;
	memcpy(r.comm, "0123456789abcdef", 16); /* all 16 bytes, no NUL */
	assert_true(cgp_ring_decode_oom(&r, sizeof(r), 10, &e));
	assert_int_equal(e.ts_ns, 15);
	assert_int_equal(e.cgroup_id, 77);
	assert_int_equal(e.memcg_id, 31);
	assert_int_equal(e.pid, 4242);
	assert_int_equal(e.tgid, 4240);
	assert_int_equal(e.rss_anon_bytes, 1 << 20);
	assert_int_equal(e.oom_score_adj, -999);
	assert_int_equal(e.mem_limit_bytes, 16 << 20);
	assert_string_equal(e.comm, "0123456789abcde");
	assert_false(e.container_running); /* the reader does not know: the loop asks the cgroup */
	assert_false(cgp_ring_decode_oom(&r, sizeof(r) - 8, 10, &e));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cgroup_record),
	    cmocka_unit_test(test_oom_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
