// SPDX-License-Identifier: GPL-2.0
/* The sweep takes a cgroup's id and CPU slot from what the last walk left at its place in the walk
 * (bpf/sweep_hint.bpf.h), and only while the css serial number left with it is the cgroup's own: places move
 * and pass to other cgroups as cgroups come and go. Here the hint is seen to be used (an id planted under the
 * right serial number comes out in the record), seen to be refused under any other serial number (the record
 * carries the kernel's id and the hint is made good), and cgroups made and removed one after another, each
 * taking the place of the one before, each come out under their own id and no other. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "agentfx.h"
#include "cgtest.h"
#include "cgpulse.skel.h"

#define ROUNDS 24

static struct agentfx fx;
static struct cgt a, b;

static int hint_fd(void)
{
	return bpf_map__fd(fx.bpf.skel->maps.id_hint);
}

/* The place of the cgroup2 walk's span that holds cgroup id `id`, or -1; asserts it is the only one. */
static int64_t hint_place(uint64_t id, struct cgp_id_hint *out)
{
	struct cgp_id_hint h;
	int64_t at = -1;

	for (uint32_t k = 0; k < fx.bpf.max_cgroups; k++) {
		assert_int_equal(bpf_map_lookup_elem(hint_fd(), &k, &h), 0);
		if (h.cgroup_id != id)
			continue;
		assert_true(at < 0);
		at = k;
		*out = h;
	}
	return at;
}

static void test_hint_used_only_under_its_serial(void **state)
{
	const uint64_t planted = 0x7ffffffffff0ULL; /* no cgroup has an id this large */
	struct cgp_id_hint h, was_a, was_b;
	uint32_t ka, kb;
	int64_t at;

	(void)state;
	assert_int_equal(cgt_create(&a, "hint-a"), 0);
	assert_int_equal(cgt_create(&b, "hint-b"), 0);
	assert_int_equal(cgt_wait(cgt_spawn_burner(&b, -1, 0.02), NULL), 0); /* b runs once: it has a CPU slot */
	assert_int_equal(fx_sweep(&fx), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	assert_non_null(fx_find(&fx, a.id));
	assert_non_null(fx_find(&fx, b.id));
	at = hint_place(a.id, &was_a);
	assert_true(at > 0); /* place 0 is the root's */
	ka = (uint32_t)at;
	at = hint_place(b.id, &was_b);
	assert_true(at > 0);
	kb = (uint32_t)at;
	assert_true(was_a.serial != 0 && was_b.serial != 0 && was_a.serial != was_b.serial);
	assert_true(was_b.has_slot);
	/* a: the same serial number, another id: the walk takes the id from the hint (a goes missing) */
	h = was_a;
	h.cgroup_id = planted;
	assert_int_equal(bpf_map_update_elem(hint_fd(), &ka, &h, BPF_EXIST), 0);
	/* b: another serial number: refused, the kernel's id read and the hint made good */
	h = was_b;
	h.cgroup_id = planted + 1;
	h.serial = was_b.serial + 1;
	h.slot = was_b.slot + 1;
	assert_int_equal(bpf_map_update_elem(hint_fd(), &kb, &h, BPF_EXIST), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	assert_null(fx_find(&fx, a.id));
	assert_int_equal(bpf_map_lookup_elem(hint_fd(), &ka, &h), 0);
	assert_true(h.cgroup_id == planted && h.serial == was_a.serial);
	assert_non_null(fx_find(&fx, b.id));
	assert_int_equal(bpf_map_lookup_elem(hint_fd(), &kb, &h), 0);
	assert_true(h.cgroup_id == b.id && h.serial == was_b.serial);
	assert_true(h.has_slot && h.slot == was_b.slot);
}

static void test_ids_through_reused_places(void **state)
{
	int64_t last = -1, at;
	struct cgp_id_hint h;
	int reused = 0;

	(void)state;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t id;

		assert_int_equal(cgt_create(&a, "reuse"), 0);
		id = a.id;
		assert_int_equal(fx_sweep(&fx), 0);
		assert_non_null(fx_find(&fx, id));
		at = hint_place(id, &h);
		assert_true(at > 0);
		reused += at == last;
		last = at;
		assert_int_equal(fx_sweep(&fx), 0); /* this one through the hint */
		assert_non_null(fx_find(&fx, id));
		assert_int_equal(cgt_destroy(&a), 0);
		assert_int_equal(fx_sweep(&fx), 0);
		assert_null(fx_find(&fx, id));
	}
	printf("# %d of %d cgroups took the place of the one before\n", reused, ROUNDS - 1);
}

static int setup(void **state)
{
	(void)state;
	return fx_open(&fx, NULL);
}

static int teardown(void **state)
{
	(void)state;
	fx_close(&fx);
	cgt_cleanup_all();
	return 0;
}

static int destroy_cgroups(void **state)
{
	(void)state;
	cgt_destroy(&a);
	cgt_destroy(&b);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_hint_used_only_under_its_serial, destroy_cgroups),
	    cmocka_unit_test_teardown(test_ids_through_reused_places, destroy_cgroups),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_sweep_hint", tests, setup, teardown);
}
