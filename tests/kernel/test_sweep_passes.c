// SPDX-License-Identifier: GPL-2.0
/* A sweep of more cgroups than the sweep_records ring holds goes on in further passes: every cgroup comes once,
 * with its own figures, and nothing is dropped, even when the cgroup a pass stopped at is removed before the next.
 * The ring is sized at load for the cgroups there are then, so that those take one pass a hierarchy. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgpulse.skel.h"
#include "cgtest.h"

#define MIB (1024ULL * 1024)

static struct agentfx fx;
static struct cgt parent;
static struct cgt *kids;

static int teardown(void **state)
{
	(void)state;
	fx_close(&fx);
	cgt_destroy(&parent); /* its children too */
	free(kids);
	kids = NULL;
	return 0;
}

static int child(char *out, size_t len, const char *dir, int i)
{
	int n = snprintf(out, len, "%s/c%d", dir, i);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* The child "c<i>" of parent, in every hierarchy parent is in. */
static int make_kid(struct cgt *k, int i)
{
	struct stat st;

	*k = parent;
	if (child(k->rel, sizeof(k->rel), parent.rel, i) || child(k->v2, sizeof(k->v2), parent.v2, i) ||
	    child(k->mem, sizeof(k->mem), parent.mem, i) ||
	    (parent.cpu[0] && child(k->cpu, sizeof(k->cpu), parent.cpu, i)))
		return -1;
	if (mkdir(k->v2, 0755) || (k->hybrid && mkdir(k->mem, 0755)) || (k->cpu[0] && mkdir(k->cpu, 0755)) ||
	    stat(k->v2, &st))
		return -1;
	k->id = st.st_ino;
	/* figures of its own, so that a record given to the wrong cgroup would show */
	if (cgt_set_mem_limit(k, (uint64_t)(i + 1) * MIB) || cgt_set_cpu_max(k, 1000 + 10 * (unsigned)i, 100000))
		return -1;
	return 0;
}

/* The CFS quota as the kernel's file has it (cpu.max, or cpu.cfs_quota_us on a v1 cpu hierarchy), µs. */
static uint64_t quota_us(const struct cgt *k)
{
	unsigned long long v = 0;
	char p[1100];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", k->cpu[0] ? k->cpu : k->v2, k->cpu[0] ? "cpu.cfs_quota_us" : "cpu.max");
	f = fopen(p, "re");
	if (!f)
		return UINT64_MAX;
	if (fscanf(f, "%llu", &v) != 1)
		v = UINT64_MAX;
	fclose(f);
	return v;
}

/* n children under a parent of the test's own, each with a memory limit and CPU quota of its own. */
static void make_kids(int n)
{
	FILE *f;

	assert_int_equal(cgt_create(&parent, "passes"), 0);
	if (!parent.hybrid) { /* pure v2: the children get memory.max and cpu.max */
		char p[1100];

		snprintf(p, sizeof(p), "%s/cgroup.subtree_control", parent.v2);
		f = fopen(p, "we");
		assert_non_null(f);
		fputs("+memory +cpu", f);
		assert_int_equal(fclose(f), 0);
	}
	kids = calloc((size_t)n, sizeof(*kids));
	assert_non_null(kids);
	for (int i = 0; i < n; i++)
		if (make_kid(&kids[i], i))
			fail_msg("making cgroup %d of %d: %m", i, n);
}

/* A ring half the smallest the loader makes, whatever the host's cgroups: the passes are what these tests are
 * about. */
#define SMALL_RING (CGP_SWEEP_RING_BYTES / 2)
/* The most cgroup v2 records a pass of it holds: records are sized by the blocks their hierarchy can fill, and a
 * v2 one is smallest when memory and cpu are on v1 hierarchies (the head and the v2 block, + the ring's header) */
#define V2_PER_PASS (SMALL_RING / (CGP_REC_HEAD_BYTES + CGP_REC_V2_BYTES + 8))

static int open_small_ring(void)
{
	struct cgp_loader_opts lo = {.sweep_ring_bytes = SMALL_RING};

	return fx_open_opts(&fx, &lo);
}

static void test_sweep_larger_than_ring(void **state)
{
	size_t per_pass = V2_PER_PASS, busy[3];
	int n = (int)(3 * per_pass + 7);
	pid_t pid;

	(void)state;
	busy[0] = 0, busy[1] = (size_t)n / 2, busy[2] = (size_t)n - 1; /* in the first, a middle and the last pass */
	make_kids(n);
	assert_int_equal(open_small_ring(), 0);
	assert_int_equal(bpf_map__max_entries(fx.bpf.skel->maps.sweep_records), SMALL_RING);
	for (int b = 0; b < 3; b++) { /* CPU time is counted from attach on */
		pid = cgt_spawn_cpu_burner(&kids[busy[b]], 0.1);
		assert_true(pid > 0);
		assert_int_equal(cgt_wait(pid, NULL), 0);
	}
	/* the first sweep meets them all at once, the second is the steady state */
	for (int sweep = 0; sweep < 2; sweep++) {
		int found = 0;

		assert_int_equal(fx_sweep(&fx), 0);
		printf("# sweep %d: %d test cgroups, %zu records a pass, %lu passes, %lu records, %lu cgroups\n", sweep,
		       n, per_pass, (unsigned long)fx.sp.stats.passes, (unsigned long)fx.sp.stats.records,
		       (unsigned long)fx.sp.stats.cgroups);
		assert_true(fx.sp.stats.passes >= 4); /* the cgroup v2 walk alone needs 4 */
		assert_int_equal(fx.sp.stats.dup_records, 0);
		assert_int_equal(fx.sp.stats.drops[CGP_DROP_SWEEP_FULL], 0);
		for (int i = 0; i < n; i++) {
			const struct cgp_sample *s = fx_find(&fx, kids[i].id);

			if (!s)
				fail_msg("sweep %d: cgroup c%d (id %lu) not in the sweep", sweep, i,
					 (unsigned long)kids[i].id);
			found++;
			assert_true(s->has_mem);
			assert_int_equal(s->mem_limit_bytes, (uint64_t)(i + 1) * MIB);
			assert_int_equal(s->mem_limit_bytes, cgt_mem_limit(&kids[i]));
			assert_int_equal(s->cpu_quota_us, 1000 + 10 * (uint64_t)i);
			assert_int_equal(s->cpu_quota_us, quota_us(&kids[i]));
			if (i != (int)busy[0] && i != (int)busy[1] && i != (int)busy[2]) {
				assert_int_equal(s->mem_bytes, cgt_mem_usage(&kids[i])); /* nothing runs there */
				assert_int_equal(s->cpu_ns_total, 0);
			}
		}
		assert_int_equal(found, n);
		for (int b = 0; b < 3; b++) {
			const struct cgp_sample *s = fx_find(&fx, kids[busy[b]].id);
			uint64_t k = cgt_cpu_usage_ns(&kids[busy[b]]);

			printf("# c%zu: cgpulse %lu ns, cpu.stat %lu ns\n", busy[b], (unsigned long)s->cpu_ns_total,
			       (unsigned long)k);
			assert_true(k >= 50000000ULL); /* it ran (its own clock and the cgroup's differ a little) */
			assert_true(s->cpu_ns_total > k * 0.99 && s->cpu_ns_total < k * 1.01);
		}
	}
	teardown(state);
}

/* What happens to the tree between two passes of the cgroup v2 walk (the walk lets go of cgroup_mutex there). */
struct churn {
	int n;		/* children made */
	int first;	/* the first child the passes so far had not written: where the next goes on */
	int gone;	/* children removed from there on */
	uint64_t late;	/* made under the parent: after the place, so in this sweep */
	uint64_t early; /* made under child 0: before the place, so in the next sweep */
	char early_path[1100];
};

static uint64_t mkdir_id(const char *path)
{
	struct stat st;

	return mkdir(path, 0755) || stat(path, &st) ? 0 : st.st_ino;
}

static void churn(struct cgp_sampler *sp, struct bpf_link *walk, void *ctx)
{
	struct churn *c = ctx;
	char p[1100];

	if (c->first >= 0 || walk != sp->bpf->iter_v2)
		return;
	c->first = c->n;
	for (int i = 0; i < c->n && c->first == c->n; i++) /* children are made, and walked, in order */
		if (!cgp_sampler_seen(sp, kids[i].id))
			c->first = i;
	/* the cgroup the next pass starts from goes, and the two after it */
	for (int i = c->first; i < c->first + c->gone && i < c->n; i++)
		if (rmdir(kids[i].v2) || (kids[i].hybrid && rmdir(kids[i].mem)) ||
		    (kids[i].cpu[0] && rmdir(kids[i].cpu)))
			c->first = -2; /* reported below */
	snprintf(p, sizeof(p), "%s/late", parent.v2);
	c->late = mkdir_id(p);
	snprintf(c->early_path, sizeof(c->early_path), "%s/early", kids[0].v2);
	c->early = mkdir_id(c->early_path);
}

/* The last sweep has a sample of the cgroup. */
static bool swept(uint64_t id)
{
	struct cgp_sample s;
	size_t it = 0;

	while (cgp_sampler_next(&fx.sp, &it, &s))
		if (s.cgroup_id == id)
			return true;
	return false;
}

static void test_place_kept_across_changes(void **state)
{
	size_t per_pass = V2_PER_PASS;
	struct churn c = {.n = (int)(2 * per_pass), .first = -1, .gone = 3};

	(void)state;
	make_kids(c.n);
	assert_int_equal(open_small_ring(), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	fx.sp.between_passes = churn;
	fx.sp.between_ctx = &c;
	assert_int_equal(fx_sweep(&fx), 0);
	fx.sp.between_passes = NULL;
	printf("# the first pass stopped at child %d of %d: it and the %d after it removed, two made\n", c.first, c.n,
	       c.gone - 1);
	assert_true(c.first > 0 && c.first < c.n - c.gone); /* the first pass stopped among the children */
	assert_true(c.late && c.early);
	assert_int_equal(fx.sp.stats.dup_records, 0);
	assert_int_equal(fx.sp.stats.drops[CGP_DROP_SWEEP_FULL], 0);
	for (int i = 0; i < c.n; i++) {
		const struct cgp_sample *s = fx_find(&fx, kids[i].id);

		if (i >= c.first && i < c.first + c.gone) {
			assert_null(s);
			continue;
		}
		if (!s)
			fail_msg("child %d missing from the sweep whose passes went on from child %d", i, c.first);
		assert_int_equal(s->mem_limit_bytes, (uint64_t)(i + 1) * MIB);
	}
	/* made during the sweep, so not named yet (fx_find's rows are the named): the sampler's own */
	assert_true(swept(c.late));   /* after the place: this sweep */
	assert_false(swept(c.early)); /* before it: the next */
	assert_int_equal(fx_sweep(&fx), 0);
	assert_true(swept(c.early));
	assert_true(swept(c.late));
	teardown(state);
}

/* Cgroups there at load, more than the smallest ring holds: one pass a hierarchy, as each further pass walks
 * again past what the earlier ones wrote (at 10,000 cgroups, 8 passes a hierarchy visited 4.5x the cgroups and
 * doubled the sweep's kernel time). Every figure still comes once and equals the kernel's files. */
static void test_ring_holds_the_cgroups_at_load(void **state)
{
	size_t per_pass = CGP_SWEEP_RING_BYTES / (sizeof(struct cgp_cgroup_rec) + 8);
	int n = (int)(per_pass + 7); /* with the host's own cgroups: two passes a hierarchy in the smallest ring */
	uint64_t walks;

	(void)state;
	make_kids(n);
	assert_int_equal(fx_open(&fx, NULL), 0);
	/* the first sweep walks every hierarchy (a v1 cpu one too: cgroups are new) */
	walks = 1 + (fx.bpf.iter_mem ? 1 : 0) + (fx.bpf.iter_cpu ? 1 : 0);
	assert_int_equal(fx_sweep(&fx), 0);
	printf("# %d test cgroups, ring %u bytes (%zu records), %lu passes for %lu hierarchies\n", n,
	       bpf_map__max_entries(fx.bpf.skel->maps.sweep_records),
	       (size_t)bpf_map__max_entries(fx.bpf.skel->maps.sweep_records) / (sizeof(struct cgp_cgroup_rec) + 8),
	       (unsigned long)fx.sp.stats.passes, (unsigned long)walks);
	assert_int_equal(fx.sp.stats.passes, walks);
	assert_int_equal(fx.sp.stats.dup_records, 0);
	assert_int_equal(fx.sp.stats.drops[CGP_DROP_SWEEP_FULL], 0);
	for (int i = 0; i < n; i++) {
		const struct cgp_sample *s = fx_find(&fx, kids[i].id);

		if (!s)
			fail_msg("cgroup c%d (id %lu) not in the sweep", i, (unsigned long)kids[i].id);
		assert_int_equal(s->mem_limit_bytes, cgt_mem_limit(&kids[i]));
		assert_int_equal(s->cpu_quota_us, quota_us(&kids[i]));
		assert_int_equal(s->mem_bytes, cgt_mem_usage(&kids[i]));
	}
	teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_sweep_larger_than_ring, teardown),
	    cmocka_unit_test_teardown(test_place_kept_across_changes, teardown),
	    cmocka_unit_test_teardown(test_ring_holds_the_cgroups_at_load, teardown),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_sweep_passes", tests, NULL, NULL);
}
