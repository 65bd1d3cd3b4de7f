// SPDX-License-Identifier: GPL-2.0
/* The sweep reads every drop counter (a per-CPU array) in one batch lookup: each counter it reports is the sum
 * over CPUs the kernel holds, key by key, with distinct figures on every CPU so a value from the wrong key or
 * CPU shows. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgpulse.skel.h"

static struct agentfx fx;

static int teardown(void **state)
{
	(void)state;
	fx_close(&fx);
	return 0;
}

static void test_drops_are_the_kernels(void **state)
{
	int fd, nc;

	(void)state;
	assert_int_equal(fx_open(&fx, NULL), 0);
	fd = bpf_map__fd(fx.bpf.skel->maps.drops);
	nc = fx.bpf.nr_cpus;
	for (__u32 k = 0; k < CGP_DROP_MAX; k++) {
		uint64_t v[nc];

		for (int c = 0; c < nc; c++)
			v[c] = 1000000ULL * (k + 1) + 1000ULL * (uint64_t)c + 7;
		assert_int_equal(bpf_map_update_elem(fd, &k, v, BPF_ANY), 0);
	}
	assert_int_equal(fx_sweep(&fx), 0);
	for (__u32 k = 0; k < CGP_DROP_MAX; k++) {
		uint64_t v[nc], sum = 0;

		assert_int_equal(bpf_map_lookup_elem(fd, &k, v), 0); /* after the sweep: the kernel's figure now */
		for (int c = 0; c < nc; c++)
			sum += v[c];
		printf("# drops[%u] = %llu\n", k, (unsigned long long)fx.sp.stats.drops[k]);
		assert_true(sum >= 1000000ULL * (k + 1) * (uint64_t)nc);
		assert_int_equal(fx.sp.stats.drops[k], sum);
	}
	assert_false(fx.sp.drops_no_batch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_drops_are_the_kernels, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
