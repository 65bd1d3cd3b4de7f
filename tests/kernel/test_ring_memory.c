// SPDX-License-Identifier: GPL-2.0
/* What the agent's reading of the kernel costs in memory, from the kernel's own accounting (/proc/self/smaps,
 * malloc's): the three BPF rings are mapped once (libbpf maps a ring's data twice and the kernel inserts every
 * page at mmap, so each cost twice its size in RSS), a record that wraps past a ring's end is still read whole,
 * and a sweep holds no buffer of a hierarchy's records (the per-cgroup state only). */
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
#include "heap.h"

#define KIB 1024ULL

static struct agentfx fx;
static struct cgt parent;

static int teardown(void **state)
{
	(void)state;
	fx_close(&fx);
	cgt_destroy(&parent); /* its children too */
	return 0;
}

/* Rss of this process's mappings of BPF maps, bytes; each printed. */
static uint64_t bpf_map_rss(void)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512], range[128] = "";
	bool map = false;
	uint64_t kb, sum = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, ' ')) {
			map = strstr(line, "anon_inode:bpf-map") != NULL;
			snprintf(range, sizeof(range), "%lu KiB mapped", (hi - lo) / 1024);
		} else if (map && sscanf(line, "Rss: %lu kB", &kb) == 1) {
			printf("# bpf-map mapping, %s: Rss %lu KiB\n", range, (unsigned long)kb);
			sum += kb * KIB;
		}
	}
	fclose(f);
	return sum;
}

static uint64_t ring_bytes(const struct bpf_map *m)
{
	return bpf_map__max_entries(m);
}

/* Every page of a ring's mapping is resident from mmap on: the rings' part of the agent's RSS is their size
 * (plus a consumer and a producer page each), not twice it. */
static void test_rings_mapped_once(void **state)
{
	struct cgpulse_bpf *skel;
	uint64_t rings, pages = 2 * (uint64_t)sysconf(_SC_PAGESIZE), rss;

	(void)state;
	assert_int_equal(fx_open(&fx, NULL), 0);
	skel = fx.bpf.skel;
	rings = ring_bytes(skel->maps.sweep_records) + ring_bytes(skel->maps.oom_events) +
		ring_bytes(skel->maps.cgroup_events);
	rss = bpf_map_rss();
	printf("# rings %lu KiB; every bpf-map mapping's Rss %lu KiB\n", (unsigned long)(rings / KIB),
	       (unsigned long)(rss / KIB));
	/* the rings once with their two pages each, and the few pages of the mmapped arrays (.bss, .data,
	 * .rodata, agent_state): 64 KiB of room for those; the rings mapped twice would be `rings` more */
	assert_true(rss >= rings);
	assert_true(rss <= rings + 3 * pages + 64 * KIB);
	teardown(state);
}

struct seen {
	const char *prefix; /* our children's paths start with it */
	size_t prefix_len;
	uint64_t *ids; /* in the order made */
	int n, next;   /* made; the next one expected */
	int wrong;     /* came out of order, with another id or path */
};

static void on_cgroup(const struct cgp_cgroup_change *c, void *ctx)
{
	struct seen *s = ctx;
	char want[64];

	if (c->kind != CGP_CGROUP_MKDIR || strncmp(c->path, s->prefix, s->prefix_len))
		return;
	snprintf(want, sizeof(want), "/b%d", s->next);
	if (s->next >= s->n || c->cgroup_id != s->ids[s->next] || strcmp(c->path + s->prefix_len, want))
		s->wrong++;
	s->next++;
}

/* Bursts of cgroups made with no read between: each burst fills most of the cgroup_events ring, so the records
 * go round it, and those that wrap past its end are read whole (with their own id and path), in order, and
 * none is dropped. */
static void test_burst_wraps_whole(void **state)
{
	struct cgp_rings_visitor v = {.cgroup = on_cgroup};
	size_t per_ring, footprint = (sizeof(struct cgp_cgroup_event) + 8 + 7) / 8 * 8;
	struct seen s = {0};
	struct cgp_rings rings;
	int bursts = 4, burst;
	uint64_t drops0;
	char p[1200];

	(void)state;
	assert_int_equal(cgt_create(&parent, "ringwrap"), 0);
	assert_int_equal(fx_open(&fx, NULL), 0);
	per_ring = ring_bytes(fx.bpf.skel->maps.cgroup_events) / footprint;
	burst = (int)(per_ring * 7 / 8); /* room left for the node's own cgroups made meanwhile */
	s.prefix = parent.rel;
	s.prefix_len = strlen(parent.rel);
	s.ids = calloc((size_t)(bursts * burst), sizeof(*s.ids));
	assert_non_null(s.ids);
	/* a reader of our own, beside the fixture's (closed: one reader per ring) */
	cgp_rings_close(&fx.rings);
	v.ctx = &s;
	assert_int_equal(cgp_rings_open(&rings, &fx.bpf, &v), 0);
	assert_int_equal(cgp_rings_consume(&rings), 0);
	fx_sweep(&fx);
	drops0 = fx.sp.stats.drops[CGP_DROP_CGROUP_EVENT];
	for (int b = 0; b < bursts; b++) {
		for (int i = 0; i < burst; i++) {
			struct stat st;

			snprintf(p, sizeof(p), "%s/b%d", parent.v2, s.n);
			assert_int_equal(mkdir(p, 0755), 0);
			assert_int_equal(stat(p, &st), 0);
			s.ids[s.n++] = st.st_ino;
		}
		assert_int_equal(cgp_rings_consume(&rings), 0);
		printf("# burst %d: %d made, %d read, %d wrong\n", b, s.n, s.next, s.wrong);
	}
	printf("# %lu records put together from the ring's end and start\n", (unsigned long)rings.ring[0].wrapped);
	fx_sweep(&fx);
	assert_int_equal(fx.sp.stats.drops[CGP_DROP_CGROUP_EVENT], drops0);
	assert_int_equal(s.next, s.n);
	assert_int_equal(s.wrong, 0);
	assert_true(rings.ring[0].wrapped >= 1); /* the path this test is for was taken */
	cgp_rings_close(&rings);
	free(s.ids);
	teardown(state);
}

/* The sampler's heap per cgroup is its state (the record of this sweep, the totals of the last, the join):
 * no buffer that holds a whole hierarchy's records besides (it held ~0.4 MB at 1,000 cgroups, more at each
 * doubling). */
static void test_sweep_heap_per_cgroup(void **state)
{
	const int n = 3000;
	uint64_t before, after, per;
	char p[1200];

	(void)state;
	if (!HEAP_FIGURES_ARE_MALLOCS) {
		printf("# skipped under ASan: its allocator keeps freed blocks in quarantine and malloc's figures are "
		       "not the agent's\n");
		skip();
	}
	assert_int_equal(cgt_create(&parent, "ringheap"), 0);
	assert_int_equal(fx_open(&fx, NULL), 0);
	assert_int_equal(cgp_sampler_sweep(&fx.sp), 0);
	assert_int_equal(cgp_sampler_sweep(&fx.sp), 0);
	for (int i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/h%d", parent.v2, i);
		assert_int_equal(mkdir(p, 0755), 0);
		if (parent.hybrid) {
			snprintf(p, sizeof(p), "%s/h%d", parent.mem, i);
			assert_int_equal(mkdir(p, 0755), 0);
		}
		if (i % 500 == 499) /* the mkdir records named, as the agent's loop does: not the sampler's heap */
			assert_int_equal(fx_consume(&fx), 0);
	}
	assert_int_equal(fx_consume(&fx), 0);
	before = heap_in_use();
	for (int k = 0; k < 3; k++)
		assert_int_equal(cgp_sampler_sweep(&fx.sp), 0);
	after = heap_in_use();
	per = (after - before) / (uint64_t)n;
	printf("# the sampler's heap grew %lu KiB for %d cgroups: %lu B per cgroup (a record is %zu B)\n",
	       (unsigned long)((after - before) / KIB), n, (unsigned long)per, sizeof(struct cgp_cgroup_rec));
	assert_true(fx.sp.stats.cgroups >= (uint64_t)n);
	/* the state: one record, last sweep's totals and links (~700 B), the maps' slots, a v1 join on hybrid
	 * hosts; a buffer of the sweep's records would add at least one record per cgroup on top */
	assert_true(per < 2 * sizeof(struct cgp_cgroup_rec) + 128);
	teardown(state);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_rings_mapped_once, teardown),
	    cmocka_unit_test_teardown(test_burst_wraps_whole, teardown),
	    cmocka_unit_test_teardown(test_sweep_heap_per_cgroup, teardown),
	};

	if (geteuid() != 0) {
		printf("# skipped: needs root (BPF and cgroups)\n");
		return 77;
	}
	atexit(cgt_cleanup_all);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
