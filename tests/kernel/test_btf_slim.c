// SPDX-License-Identifier: GPL-2.0
/* Loading against the slim kernel BTF (collect/btf_slim.h) gives the very programs loading against the whole of
 * it gives: the same CO-RE-relocated instructions, the same kernel attach targets, the same choices. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgpulse.skel.h"
#include "cgtest.h"

static struct cgp_bpf whole, slim;

static int teardown(void **state)
{
	(void)state;
	if (whole.skel)
		cgp_bpf_close(&whole, true);
	if (slim.skel)
		cgp_bpf_close(&slim, true);
	return 0;
}

static __u32 attach_btf_id(const struct bpf_program *p)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
		return UINT32_MAX;
	return info.attach_btf_id;
}

/* Two loads differ only in the map fds their instructions carry. */
static void same_insns(const struct bpf_program *a, const struct bpf_program *b)
{
	const struct bpf_insn *x = bpf_program__insns(a), *y = bpf_program__insns(b);
	size_t n = bpf_program__insn_cnt(a);

	assert_int_equal(n, bpf_program__insn_cnt(b));
	for (size_t i = 0; i < n; i++) {
		struct bpf_insn u = x[i], v = y[i];

		if (u.code == (BPF_LD | BPF_IMM | BPF_DW) && u.src_reg && u.src_reg != BPF_PSEUDO_BTF_ID &&
		    u.src_reg != BPF_PSEUDO_FUNC) {
			u.imm = v.imm = 0; /* a map's fd */
		}
		if (memcmp(&u, &v, sizeof(u)))
			fail_msg("%s: instruction %zu differs: code %#x imm %d against %d", bpf_program__name(a), i,
				 u.code, x[i].imm, y[i].imm);
	}
}

static void test_slim_btf_loads_the_same_programs(void **state)
{
	struct cgp_loader_opts whole_opts = {.full_btf = true}, slim_opts = {0};
	struct bpf_program *p, *q;
	size_t n = 0;

	(void)state;
	assert_int_equal(cgp_bpf_open(&whole, &whole_opts), 0);
	assert_int_equal(cgp_bpf_open(&slim, &slim_opts), 0);
	assert_false(whole.btf_slim);
	assert_true(slim.btf_slim);
	assert_memory_equal(&whole.features, &slim.features, sizeof(whole.features));
	assert_int_equal(whole.n_skipped, slim.n_skipped);
	for (size_t i = 0; i < whole.n_skipped; i++)
		assert_string_equal(whole.skipped[i].name, slim.skipped[i].name);
	q = bpf_object__next_program(slim.skel->obj, NULL);
	bpf_object__for_each_program(p, whole.skel->obj)
	{
		assert_non_null(q);
		assert_string_equal(bpf_program__name(p), bpf_program__name(q));
		assert_int_equal(bpf_program__autoload(p), bpf_program__autoload(q));
		if (bpf_program__autoload(p)) {
			same_insns(p, q);
			assert_int_equal(attach_btf_id(p), attach_btf_id(q));
			n++;
		}
		q = bpf_object__next_program(slim.skel->obj, q);
	}
	printf("# %zu programs loaded alike against the whole and the slim kernel BTF\n", n);
	assert_true(n >= 8);
	cgp_bpf_close(&whole, true);
	cgp_bpf_close(&slim, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_slim_btf_loads_the_same_programs, teardown),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_btf_slim", tests, NULL, NULL);
}
