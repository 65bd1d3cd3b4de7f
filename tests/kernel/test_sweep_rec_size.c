// SPDX-License-Identifier: GPL-2.0
/* The sweep's records are sized by the blocks of fields their hierarchy can fill (bpf/cgpulse.h, cgp_rec_bytes):
 * every record the real program writes is exactly the bytes its layout bits say, a cgroup v2 record carries the
 * memory and cpu blocks only when those controllers are on cgroup v2, and a v1 memory record is the head and the
 * memory block (112 bytes, not the whole 376). The figures in them are the kernel's (the exactness tests). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgtest.h"
#include "cgpulse.skel.h"

#define KIDS 20

static struct agentfx fx;
static struct cgt kids[KIDS];

/* every record the sampler reads, tallied by layout before it goes on to the sampler's own reader */
static struct {
	cgp_ringbuf_fn next;
	void *next_ctx;
	uint64_t n[8], bytes[8], wrong_size;
} tally;

static int count(void *ctx, const void *data, size_t len)
{
	__u32 flags, l;

	(void)ctx;
	memcpy(&flags, (const char *)data + offsetof(struct cgp_cgroup_rec, flags), sizeof(flags));
	l = (flags & CGP_REC_LAYOUT) >> 16;
	tally.n[l & 7]++;
	tally.bytes[l & 7] += len;
	if (len != cgp_rec_bytes(flags))
		tally.wrong_size++;
	return tally.next(tally.next_ctx, data, len);
}

static int teardown(void **state)
{
	(void)state;
	fx_close(&fx);
	for (int i = 0; i < KIDS; i++)
		cgt_destroy(&kids[i]);
	return 0;
}

/* Whether the cgroup v2 root carries this controller. */
static bool on_v2(const char *ctl)
{
	char p[600], line[512];
	bool on = false;
	FILE *f;

	snprintf(p, sizeof(p), "%s/cgroup.controllers", fx.bpf.fs.v2_mount);
	f = fopen(p, "re");
	if (!f)
		return false;
	if (fgets(line, sizeof(line), f))
		for (char *t = strtok(line, " \n"); t; t = strtok(NULL, " \n"))
			on |= !strcmp(t, ctl);
	fclose(f);
	return on;
}

static void test_records_sized_by_layout(void **state)
{
	__u32 v2 = CGP_REC_HAS_V2, l;
	uint64_t records = 0, bytes = 0;

	(void)state;
	for (int i = 0; i < KIDS; i++) {
		char name[32];

		snprintf(name, sizeof(name), "recsize-%d", i);
		assert_int_equal(cgt_create(&kids[i], name), 0);
		assert_int_equal(cgt_set_mem_limit(&kids[i], (uint64_t)(i + 1) << 20), 0); /* a figure of its own */
	}
	assert_int_equal(fx_open(&fx, NULL), 0);
	tally.next = fx.sp.rb.fn;
	tally.next_ctx = fx.sp.rb.ctx;
	fx.sp.rb.fn = count;
	assert_int_equal(fx_sweep(&fx), 0);
	if (on_v2("memory"))
		v2 |= CGP_REC_HAS_MEM;
	if (on_v2("cpu"))
		v2 |= CGP_REC_HAS_CPU_MAX;
	for (l = 0; l < 8; l++) {
		if (tally.n[l])
			printf("# layout %s%s%s: %lu records, %lu bytes each\n", l & 1 ? "v2 " : "",
			       l & 2 ? "memory " : "", l & 4 ? "cpu" : "", (unsigned long)tally.n[l],
			       (unsigned long)(tally.bytes[l] / tally.n[l]));
		records += tally.n[l];
		bytes += tally.bytes[l];
	}
	assert_int_equal(tally.wrong_size, 0);
	assert_int_equal(records, fx.sp.stats.records);
	assert_int_equal(bytes, fx.sp.stats.record_bytes);
	assert_int_equal(fx.sp.stats.bad_records, 0);
	/* the cgroup v2 walk: one layout, the blocks of the controllers v2 carries */
	assert_true(tally.n[v2 >> 16] >= KIDS + 1);
	for (l = 0; l < 8; l++)
		if (l & 1)
			assert_true(l == v2 >> 16 || tally.n[l] == 0);
	assert_int_equal(tally.bytes[v2 >> 16], tally.n[v2 >> 16] * cgp_rec_bytes(v2));
	if (fx.bpf.iter_mem) { /* a v1 memory hierarchy: its records are the head and the memory block */
		uint64_t mem_only = tally.n[CGP_REC_HAS_MEM >> 16];

		assert_true(mem_only + tally.n[(CGP_REC_HAS_MEM | CGP_REC_HAS_CPU_MAX) >> 16] >= KIDS + 1);
		if (mem_only)
			assert_int_equal(tally.bytes[CGP_REC_HAS_MEM >> 16], mem_only * 112);
		assert_true(bytes < records * sizeof(struct cgp_cgroup_rec));
	}
	/* the figures still come: every child is in the sweep, with its memory figures (from whichever hierarchy) */
	for (int i = 0; i < KIDS; i++) {
		const struct cgp_sample *s = fx_find(&fx, kids[i].id);

		assert_non_null(s);
		assert_true(s->has_mem);
		assert_int_equal(s->mem_limit_bytes, cgt_mem_limit(&kids[i]));
	}
	teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_records_sized_by_layout, teardown),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_sweep_rec_size", tests, NULL, NULL);
}
