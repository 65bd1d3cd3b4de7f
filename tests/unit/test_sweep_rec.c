// SPDX-License-Identifier: GPL-2.0
/* A sweep record packed with any layout (the blocks bpf/sweep.bpf.c writes) reads back as the whole record: the
 * blocks it carries byte for byte, the others 0, the layout bits gone from the flags; a record whose size is not
 * what its layout bits say is refused and leaves the output alone. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "collect/sweep_rec.h"

static void fill(struct cgp_cgroup_rec *r, unsigned seed)
{
	unsigned char *p = (unsigned char *)r;

	srand(seed);
	for (size_t i = 0; i < sizeof(*r); i++)
		p[i] = (unsigned char)(rand() & 0xff);
	r->flags &= ~(__u32)CGP_REC_LAYOUT;
}

static void test_every_layout_round_trips(void **state)
{
	unsigned char ring[sizeof(struct cgp_cgroup_rec) + 8];
	struct cgp_cgroup_rec in, out, want;

	(void)state;
	for (__u32 l = 0; l < 8; l++) {
		__u32 layout = l << 16;
		size_t n;

		fill(&in, 100 + l);
		n = cgp_rec_pack(&in, layout, ring);
		assert_int_equal(n, cgp_rec_bytes(layout));
		memset(&out, 0xa5, sizeof(out));
		assert_true(cgp_rec_unpack(ring, n, &out));
		want = in;
		if (!(layout & CGP_REC_HAS_V2))
			memset(&want.cpu_ns, 0, CGP_REC_V2_BYTES);
		if (!(layout & CGP_REC_HAS_MEM))
			memset(&want.mem_bytes, 0, CGP_REC_MEM_BYTES);
		if (!(layout & CGP_REC_HAS_CPU_MAX))
			memset(&want.cpu_quota_us, 0, CGP_REC_CPU_MAX_BYTES);
		assert_memory_equal(&out, &want, sizeof(want));
	}
	/* the sizes the kernel side writes: a v1 memory record, a cgroup v2 one on a hybrid host, a whole one */
	assert_int_equal(cgp_rec_bytes(CGP_REC_HAS_MEM), 112);
	assert_int_equal(cgp_rec_bytes(CGP_REC_HAS_V2), 232);
	assert_int_equal(cgp_rec_bytes(CGP_REC_LAYOUT), sizeof(struct cgp_cgroup_rec));
}

static void test_wrong_size_refused(void **state)
{
	unsigned char ring[sizeof(struct cgp_cgroup_rec) + 8];
	struct cgp_cgroup_rec in, out, before;
	size_t n;

	(void)state;
	fill(&in, 7);
	n = cgp_rec_pack(&in, CGP_REC_HAS_V2 | CGP_REC_HAS_MEM, ring);
	memset(&out, 0x5a, sizeof(out));
	before = out;
	assert_false(cgp_rec_unpack(ring, n - 8, &out));
	assert_false(cgp_rec_unpack(ring, n + 8, &out));
	assert_false(cgp_rec_unpack(ring, 8, &out));
	/* a whole record as main's kernel side wrote it (no layout bits): refused, not misread */
	memcpy(ring, &in, sizeof(in));
	assert_false(cgp_rec_unpack(ring, sizeof(in), &out));
	assert_memory_equal(&out, &before, sizeof(out));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_layout_round_trips),
	    cmocka_unit_test(test_wrong_size_refused),
	};

	return cmocka_run_group_tests_name("sweep_rec", tests, NULL, NULL);
}
