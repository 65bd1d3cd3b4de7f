// SPDX-License-Identifier: GPL-2.0
/* The /metrics and /metrics/cadvisor stores escape a cgroup's labels when its names change, not every sweep
 * (at 1,000 cgroups escaping them every sweep was half of the agent's instructions): cgroups named by the real
 * names stage (a pod, its container, a plain runc container whose state comes late, plain cgroups), swept once a
 * second for a minute.
 * Once every name has settled a sweep escapes no label set (nor for a pod's own cgroup, whose cadvisor names
 * come from its containers'), and the pages are byte for byte those of stores that escape on every sample. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "names/cgroup_names.h"
#include "runc_state.h"
#include "sinks/cadvisor.h"
#include "sinks/metrics.h"

#define NS     1000000000ULL
#define ID     "6a0c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
#define UID    "55c6c714-b240-4dec-9a45-57b61696ab6e"
#define POD    "/kubepods/burstable/pod" UID
#define CTR    POD "/" ID
#define RUNC   "cgpulse-late-1"
#define PLAIN  8 /* plain cgroups (the first is the runc container's), beside the container and its pod */
#define NCG    (PLAIN + 2)
#define SWEEPS 60
#define STATE  5 /* the sweep before which the runtime writes the container's state */

static char dir[PATH_MAX];
static struct cgp_cgroupfs fs = {.v2_mount = "/nonexistent-cgpulse-test", .v2_fd = -1, .mem_fd = -1, .cpu_fd = -1};

static void runc_state(const char *id, const char *labels)
{
	char root[PATH_MAX + 8];

	snprintf(root, sizeof(root), "%s/runc", dir);
	assert_int_equal(cgt_runc_state(root, id, labels), 0);
}

static int setup(void **state)
{
	char p[PATH_MAX + 8];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cgpulse-test-labels-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/runc", dir);
	return mkdir(p, 0700);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static char *page(const struct cgp_metrics *m, const struct cgp_cadvisor *c)
{
	struct cgp_buf b = {0};
	char *s;

	assert_int_equal(cgp_metrics_render(m, NULL, &b), 0);
	assert_int_equal(cgp_cadvisor_render(c, &b), 0);
	assert_int_equal(cgp_buf_append(&b, "", 1), 0);
	s = strdup((const char *)cgp_buf_head(&b));
	cgp_buf_free(&b);
	return s;
}

static void test_labels_escaped_once_per_change(void **state)
{
	char runc[PATH_MAX + 8];
	struct cgp_meta_roots roots = {.runc_roots = runc};
	struct cgp_cadvisor_cfg all = {.select = CGP_CADVISOR_ALL};
	struct cgp_metrics *m = cgp_metrics_new(), *m0 = cgp_metrics_new();
	struct cgp_cadvisor *c = cgp_cadvisor_new(&all), *c0 = cgp_cadvisor_new(&all);
	struct cgp_cadvisor_stats cs;
	uint64_t settled = 0, settled_cad = 0;
	struct cgp_names n;
	char *got, *want;

	(void)state;
	snprintf(runc, sizeof(runc), "%s/runc", dir);
	assert_non_null(m);
	assert_non_null(m0);
	assert_non_null(c);
	assert_non_null(c0);
	assert_int_equal(cgp_names_init(&n, &fs, &roots, 60 * NS), 0);
	runc_state(ID, "\"io.kubernetes.pod.name=checkout-7f9c\",\"io.kubernetes.pod.namespace=shop\","
		       "\"io.kubernetes.container.name=api\"");
	cgp_names_mkdir(&n, 100, POD, 5 * NS, 5 * NS);
	cgp_names_mkdir(&n, 101, CTR, 5 * NS, 5 * NS);
	for (uint64_t i = 0; i < PLAIN; i++) {
		char p[64];

		if (i)
			snprintf(p, sizeof(p), "/cgpulse-test-labels/cg%02d", (int)i);
		else
			snprintf(p, sizeof(p), "/cgpulse-test-labels/" RUNC);
		cgp_names_mkdir(&n, 200 + i, p, 5 * NS, 5 * NS);
	}
	for (uint64_t t = 0; t < SWEEPS; t++) {
		uint64_t now = (6 + t) * NS;

		if (t == STATE)
			runc_state(RUNC, "\"io.kubernetes.pod.name=late-pod\",\"io.kubernetes.pod.namespace=batch\","
					 "\"io.kubernetes.container.name=job\"");
		for (uint64_t k = 0; k < NCG; k++) {
			uint64_t id = k < 2 ? 100 + k : 200 + k - 2;
			const struct cgp_cgname *cn = cgp_names_get(&n, id, now);
			struct cgp_sample s = {.cgroup_id = id, .ts_ns = now, .cpu_ns_total = t * 1000 + k};
			struct cgp_attribution a0;

			assert_non_null(cn);
			assert_int_not_equal(cn->attr.rev, 0);
			assert_int_equal(cgp_metrics_sample(m, &s, &cn->attr), 0);
			assert_int_equal(cgp_cadvisor_sample(c, &s, &cn->attr, 5 * NS), 0);
			/* the same figures and names, in stores that cannot tell a change: they escape every time */
			a0 = cn->attr;
			a0.rev = 0;
			assert_int_equal(cgp_metrics_sample(m0, &s, &a0), 0);
			assert_int_equal(cgp_cadvisor_sample(c0, &s, &a0, 5 * NS), 0);
		}
		if (t == 40) { /* every cgroup is more than 30 s old: nothing will be named again */
			settled = cgp_metrics_labels_made(m);
			cgp_cadvisor_get_stats(c, &cs);
			settled_cad = cs.labels_made;
		}
	}
	/* the last 19 sweeps escaped no label set */
	assert_int_equal(cgp_metrics_labels_made(m) - settled, 0);
	cgp_cadvisor_get_stats(c, &cs);
	assert_int_equal(cs.labels_made - settled_cad, 0);
	/* in all, each cgroup's labels once, and the late runc container's once more when its names came (a young
	 * cgroup asked about every 2 s and still nobody's container keeps its record) */
	assert_int_equal(cgp_metrics_labels_made(m), NCG + 1);
	/* cadvisor's the same, and the pod's own cgroup once more when its container named the pod */
	assert_int_equal(cs.labels_made, NCG + 2);
	assert_int_equal(cgp_metrics_labels_made(m0), (uint64_t)NCG * SWEEPS);
	/* the containers' names, the runc one's read late: their labels followed */
	got = page(m, c);
	want = page(m0, c0);
	assert_non_null(strstr(got, "pod=\"checkout-7f9c\",namespace=\"shop\",container=\"api\""));
	assert_non_null(
	    strstr(got, "container_id=\"" RUNC "\",pod=\"late-pod\",namespace=\"batch\",container=\"job\""));
	assert_non_null(strstr(got, "container=\"\",id=\"" POD "\",image=\"\",name=\"\",namespace=\"shop\","
				    "pod=\"checkout-7f9c\""));
	assert_string_equal(got, want);
	free(got);
	free(want);
	cgp_names_free(&n);
	cgp_metrics_free(m);
	cgp_metrics_free(m0);
	cgp_cadvisor_free(c);
	cgp_cadvisor_free(c0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_labels_escaped_once_per_change),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
