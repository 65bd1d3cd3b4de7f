// SPDX-License-Identifier: GPL-2.0
/* /proc/pressure lines into ns, and a PSI total that never goes backwards from one window to the next. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "collect/pressure.h"
#include "collect/window.h"

static void test_parse(void **state)
{
	uint64_t some, full;

	(void)state;
	assert_int_equal(cgp_pressure_parse("some avg10=0.00 avg60=0.12 avg300=0.04 total=58574\n"
					    "full avg10=0.00 avg60=0.00 avg300=0.00 total=37805\n",
					    &some, &full),
			 0);
	assert_int_equal(some, 58574000);
	assert_int_equal(full, 37805000);
	/* cpu before 5.13 printed no full line */
	assert_int_equal(cgp_pressure_parse("some avg10=1.00 avg60=0.50 avg300=0.10 total=12\n", &some, &full), 0);
	assert_int_equal(some, 12000);
	assert_int_equal(full, 0);
	assert_int_equal(cgp_pressure_parse("", &some, &full), -EINVAL);
	assert_int_equal(cgp_pressure_parse("some avg10=1.00\n", &some, &full), -EINVAL);
	assert_int_equal(cgp_pressure_parse("tiresome total=5\n", &some, &full), -EINVAL);
}

/* A fresh total can run a little ahead of what the kernel then integrates: the next read may be lower. The
 * reported total holds, and the window counts only growth past it. */
static void test_never_backwards(void **state)
{
	const struct cgp_node node = {.cpus = 2, .mem_bytes = 1ULL << 30};
	struct cgp_cgroup_rec r = {.cgroup_id = 5, .flags = CGP_REC_DFL | CGP_REC_PSI};
	struct cgp_totals prev = {0};
	struct cgp_sample s;

	(void)state;
	r.psi_ns[CGP_PSI_MEM_SOME] = 1000;
	cgp_window_sample(&s, 5, &r, NULL, 0, 1.0, 1, &node);
	assert_true(s.has_psi);
	assert_int_equal(s.psi_total_ns[CGP_PSI_MEM_SOME], 1000);
	assert_int_equal(s.psi_window_ns[CGP_PSI_MEM_SOME], 0); /* totals since the cgroup was made: no window */
	cgp_totals_of(&r, &prev);
	r.psi_ns[CGP_PSI_MEM_SOME] = 900;
	cgp_window_sample(&s, 5, &r, &prev, 0, 1.0, 2, &node);
	assert_int_equal(s.psi_total_ns[CGP_PSI_MEM_SOME], 1000);
	assert_int_equal(s.psi_window_ns[CGP_PSI_MEM_SOME], 0);
	cgp_totals_of(&r, &prev);
	r.psi_ns[CGP_PSI_MEM_SOME] = 1500;
	cgp_window_sample(&s, 5, &r, &prev, 0, 1.0, 3, &node);
	assert_int_equal(s.psi_total_ns[CGP_PSI_MEM_SOME], 1500);
	assert_int_equal(s.psi_window_ns[CGP_PSI_MEM_SOME], 500);
	/* PSI off: absent */
	r.flags &= ~CGP_REC_PSI;
	cgp_window_sample(&s, 5, &r, &prev, 0, 1.0, 4, &node);
	assert_false(s.has_psi);
	assert_int_equal(s.psi_total_ns[CGP_PSI_MEM_SOME], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse),
	    cmocka_unit_test(test_never_backwards),
	};

	return cmocka_run_group_tests_name("pressure", tests, NULL, NULL);
}
