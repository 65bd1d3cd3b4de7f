// SPDX-License-Identifier: GPL-2.0
/* An OOM kill during a sweep is handed on during that sweep, not after it: with 10,000 cgroups a sweep (the
 * kernel's walk in passes, then every sample published) takes ~100 ms, which an OOM kill must not wait for. Real
 * OOM kills, the real rings; the order is asserted (which pass, which sample), not a time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgpulse.skel.h"
#include "cgtest.h"

static struct agentfx fx;
static struct cgt parent, oomcg;

static int teardown(void **state)
{
	(void)state;
	fx_close(&fx);
	cgt_destroy(&oomcg);
	cgt_destroy(&parent); /* its children too */
	return 0;
}

/* n empty children "c<i>" of parent, in every hierarchy it is in: a sweep of that many more cgroups. */
static void make_kids(int n)
{
	char p[1100];

	assert_int_equal(cgt_create(&parent, "midsweep"), 0);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/c%d", parent.v2, i);
		if (mkdir(p, 0755))
			fail_msg("making %s: %m", p);
		if (parent.hybrid) {
			snprintf(p, sizeof(p), "%s/c%d", parent.mem, i);
			if (mkdir(p, 0755))
				fail_msg("making %s: %m", p);
		}
		if (parent.cpu[0]) {
			snprintf(p, sizeof(p), "%s/c%d", parent.cpu, i);
			if (mkdir(p, 0755))
				fail_msg("making %s: %m", p);
		}
	}
}

/* A process over the cgroup's 20 MiB: killed by the kernel before this returns. */
static void oom_kill_now(void)
{
	assert_true(cgt_oom_kill(&oomcg) > 0);
}

struct seen {
	int ooms;	    /* OOM records of oomcg handed on */
	uint64_t passes;    /* sampler passes when the first came */
	size_t samples;	    /* samples handed out so far by the test's loop */
	size_t at_sample;   /* ... when the first came */
	uint64_t kill_pass; /* the pass after which the kill was made */
};

static void on_oom(struct cgp_oom_event *e, void *ctx)
{
	struct seen *s = ctx;

	if (e->cgroup_id != oomcg.id)
		return;
	if (!s->ooms++) {
		s->passes = fx.sp.stats.passes;
		s->at_sample = s->samples;
	}
}

static void kill_between_passes(struct cgp_sampler *sp, struct bpf_link *walk, void *ctx)
{
	struct seen *s = ctx;

	if (s->kill_pass || walk != sp->bpf->iter_v2)
		return;
	s->kill_pass = sp->stats.passes;
	oom_kill_now();
}

/* kids more cgroups, the 20 MiB one, the agent's pieces and a first sweep; OOM records of it go to s from now on.
 * Returns the kernel's count of its kills so far. */
static uint64_t start(int kids, struct seen *s)
{
	make_kids(kids);
	assert_int_equal(cgt_create(&oomcg, "midsweep-oom"), 0);
	assert_int_equal(cgt_set_mem_limit(&oomcg, 20ULL << 20), 0);
	/* the smallest ring, whatever the host's cgroups: the loader sizes it for all of them otherwise, and the
	 * passes are what the first test is about */
	struct cgp_loader_opts lo = {.sweep_ring_bytes = CGP_SWEEP_RING_BYTES};

	assert_int_equal(fx_open_opts(&fx, &lo), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	fx.oom = on_oom;
	fx.oom_ctx = s;
	assert_int_equal(fx_consume(&fx), 0);
	return cgt_oom_kills(&oomcg);
}

/* Killed between the first and second pass of the cgroup v2 walk: handed on before the walk ends, at the next
 * pass, so before any of the sweep's samples. */
static void test_oom_between_passes(void **state)
{
	/* the most cgroup v2 records a pass holds: the smallest v2 record (memory and cpu on v1 hierarchies) */
	size_t per_pass = CGP_SWEEP_RING_BYTES / (CGP_REC_HEAD_BYTES + CGP_REC_V2_BYTES + 8);
	struct seen s = {0};
	struct cgp_sample smp;
	size_t it = 0;
	uint64_t k0;
	int during_walk;

	(void)state;
	k0 = start((int)per_pass + 7, &s); /* the v2 walk takes two passes at least */
	fx.sp.between_passes = kill_between_passes;
	fx.sp.between_ctx = &s;
	assert_int_equal(cgp_sampler_sweep(&fx.sp), 0);
	during_walk = s.ooms; /* handed on before cgp_sampler_sweep returned */
	while (cgp_sampler_next(&fx.sp, &it, &smp))
		s.samples++;
	assert_int_equal(fx_consume(&fx), 0); /* main's loop hands it on here, after the sweep */
	fx.sp.between_passes = NULL;
	fx.oom = NULL;
	printf("# killed after pass %lu; handed on at pass %lu of %lu, after %zu of %zu samples\n",
	       (unsigned long)s.kill_pass, (unsigned long)s.passes, (unsigned long)fx.sp.stats.passes, s.at_sample,
	       s.samples);
	assert_int_equal(cgt_oom_kills(&oomcg), k0 + 1); /* the kernel's own count: one kill */
	assert_int_equal(s.ooms, 1);			 /* one record, handed on once */
	assert_true(s.kill_pass >= 1);
	assert_int_equal(during_walk, 1);	     /* during the sweep's walk ... */
	assert_int_equal(s.passes, s.kill_pass + 1); /* ... at the pass right after the kill ... */
	assert_int_equal(s.at_sample, 0);	     /* ... so before every sample of the sweep */
	assert_true(s.samples > per_pass);
	teardown(state);
}

/* Killed while the sweep's samples are handed out (published, in the agent): handed on within
 * CGP_SAMPLER_RINGS_EVERY samples, before the sweep's last. */
static void test_oom_while_publishing(void **state)
{
	struct seen s = {0};
	struct cgp_sample smp;
	size_t it = 0, kill_at = 0;
	uint64_t k0;

	(void)state;
	k0 = start(3 * CGP_SAMPLER_RINGS_EVERY, &s);
	assert_int_equal(cgp_sampler_sweep(&fx.sp), 0);
	assert_int_equal(s.ooms, 0);
	while (cgp_sampler_next(&fx.sp, &it, &smp)) {
		if (s.samples++ == 10) { /* a few samples out: the kill */
			kill_at = s.samples;
			oom_kill_now();
		}
	}
	assert_int_equal(fx_consume(&fx), 0); /* main's loop hands it on here, after the sweep */
	fx.oom = NULL;
	printf("# killed after sample %zu; handed on after sample %zu of %zu (rings read every %d slots)\n", kill_at,
	       s.at_sample, s.samples, CGP_SAMPLER_RINGS_EVERY);
	assert_int_equal(cgt_oom_kills(&oomcg), k0 + 1);
	assert_int_equal(s.ooms, 1);
	assert_true(s.samples > kill_at + CGP_SAMPLER_RINGS_EVERY); /* the bound below means something */
	assert_true(s.at_sample >= kill_at);
	assert_true(s.at_sample <= kill_at + CGP_SAMPLER_RINGS_EVERY); /* within that many samples ... */
	assert_true(s.at_sample < s.samples);			       /* ... so before the sweep's last */
	teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_oom_between_passes, teardown),
	    cmocka_unit_test_teardown(test_oom_while_publishing, teardown),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_oom_midsweep", tests, NULL, NULL);
}
