// SPDX-License-Identifier: GPL-2.0
/* The names stage on its own (no kernel): a cgroup made, named late from its runtime's state into the one
 * attribution record, announced once named, removed into a tombstone that still names it, and forgotten after
 * the grace period; ids nobody knows stay unknown and are counted. */
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

#define NS    1000000000ULL
#define ID    "6a0c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b"
#define UID   "55c6c714-b240-4dec-9a45-57b61696ab6e"
#define CTR   "/kubepods/burstable/pod" UID "/" ID
#define GRACE (60 * NS)

static char dir[PATH_MAX];
static struct cgp_cgroupfs fs = {.v2_mount = "/nonexistent-cgpulse-test", .v2_fd = -1, .mem_fd = -1, .cpu_fd = -1};

static int setup(void **state)
{
	char p[PATH_MAX + 128];
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cgpulse-test-names-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(p, sizeof(p), "%s/io.containerd.runtime.v2.task", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/io.containerd.runtime.v2.task/k8s.io", dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/io.containerd.runtime.v2.task/k8s.io/" ID, dir);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/io.containerd.runtime.v2.task/k8s.io/" ID "/config.json", dir);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fputs("{\"annotations\":{\"io.kubernetes.cri.container-name\":\"api\","
	      "\"io.kubernetes.cri.container-type\":\"container\","
	      "\"io.kubernetes.cri.image-name\":\"registry.example/shop/checkout:1.4.2\","
	      "\"io.kubernetes.cri.sandbox-name\":\"checkout-7f9c\","
	      "\"io.kubernetes.cri.sandbox-namespace\":\"shop\"}}",
	      f);
	return fclose(f);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void names_open(struct cgp_names *n)
{
	struct cgp_meta_roots roots = {.containerd_state = dir, .containerd_namespaces = "k8s.io"};

	assert_int_equal(cgp_names_init(n, &fs, &roots, GRACE), 0);
}

static void test_named_into_one_record(void **state)
{
	struct cgp_names n;
	const struct cgp_cgname *c;
	const struct cgp_attribution *a;

	(void)state;
	names_open(&n);
	cgp_names_mkdir(&n, 100, CTR, 5 * NS, 5 * NS);
	c = cgp_names_get(&n, 100, 5 * NS);
	assert_non_null(c);
	a = &c->attr;
	assert_true(a->is_container);
	assert_string_equal(a->path, CTR);
	assert_string_equal(a->container_id, ID);
	assert_string_equal(a->runtime, "containerd");
	assert_string_equal(a->pod, "checkout-7f9c");
	assert_string_equal(a->pod_namespace, "shop");
	assert_string_equal(a->container_name, "api");
	assert_string_equal(a->image, "registry.example/shop/checkout:1.4.2");
	assert_string_equal(a->pod_uid, UID);
	assert_string_equal(a->qos_class, "burstable");
	/* a system cgroup is nobody's container: the record says so, with empty names, never NULL */
	cgp_names_mkdir(&n, 101, "/system.slice/cron.service", 5 * NS, 5 * NS);
	a = &cgp_names_get(&n, 101, 5 * NS)->attr;
	assert_false(a->is_container);
	assert_string_equal(a->container_id, "");
	assert_string_equal(a->pod_uid, "");
	cgp_names_free(&n);
}

static void test_started_announced_once_named(void **state)
{
	const struct cgp_cgname *due[4];
	struct cgp_names n;

	(void)state;
	names_open(&n);
	cgp_names_mkdir(&n, 100, CTR, 5 * NS, 5 * NS);
	cgp_names_mkdir(&n, 101, "/system.slice/cron.service", 5 * NS, 5 * NS);
	cgp_names_mkdir(&n, 101, "/system.slice/cron.service", 5 * NS, 5 * NS); /* the same record twice */
	/* nothing asked about yet: nothing due */
	assert_int_equal(cgp_names_take_started(&n, 0, 5 * NS, due, 4), 0);
	/* a sweep asks for every cgroup's names: the container is named, the other not yet due */
	cgp_names_get(&n, 100, 6 * NS);
	cgp_names_get(&n, 101, 6 * NS);
	assert_int_equal(cgp_names_take_started(&n, 0, 6 * NS, due, 4), 1);
	assert_int_equal(due[0]->id, 100);
	assert_int_equal(due[0]->born_ns, 5 * NS);
	assert_string_equal(due[0]->attr.container_name, "api");
	assert_int_equal(cgp_names_take_started(&n, 0, 6 * NS, due, 4), 0); /* once */
	/* asked, and old enough to have been named if it were a container */
	assert_int_equal(cgp_names_take_started(&n, 0, 5 * NS + CGP_ANNOUNCE_WAIT_NS, due, 4), 1);
	assert_int_equal(due[0]->id, 101);
	/* removed before anyone asked: its start goes out first, when its end is about to */
	cgp_names_mkdir(&n, 102, "/brief", 7 * NS, 7 * NS);
	cgp_names_mkdir(&n, 103, "/other", 7 * NS, 7 * NS);
	assert_int_equal(cgp_names_take_started(&n, 102, 7 * NS, due, 4), 1);
	assert_int_equal(due[0]->id, 102);
	cgp_names_rmdir(&n, 102, 7 * NS);
	assert_int_equal(cgp_names_take_started(&n, 102, 7 * NS, due, 4), 0);
	/* 103 still waits */
	cgp_names_rmdir(&n, 103, 8 * NS);
	assert_int_equal(cgp_names_take_started(&n, 0, 8 * NS, due, 4), 1);
	assert_int_equal(due[0]->id, 103);
	assert_int_equal(n.stats.unannounced, 0);
	cgp_names_free(&n);
}

static void test_tombstones(void **state)
{
	const struct cgp_cgname *c;
	struct cgp_names n;

	(void)state;
	names_open(&n);
	cgp_names_mkdir(&n, 100, CTR, 5 * NS, 5 * NS);
	assert_non_null(cgp_names_get(&n, 100, 5 * NS));
	cgp_names_rmdir(&n, 100, 10 * NS);
	/* gone, still named: an OOM record read after its container went */
	c = cgp_names_get_fresh(&n, 100, 11 * NS);
	assert_non_null(c);
	assert_int_equal(c->removed_ns, 10 * NS);
	assert_string_equal(c->attr.pod, "checkout-7f9c");
	/* a late mkdir record of a cgroup already gone does not bring it back (ids are never reused) */
	cgp_names_mkdir(&n, 100, CTR, 5 * NS, 12 * NS);
	assert_int_equal(cgp_names_get(&n, 100, 12 * NS)->removed_ns, 10 * NS);
	cgp_names_expire(&n, 10 * NS + GRACE - 1);
	assert_int_equal(n.stats.tombstones, 1);
	cgp_names_expire(&n, 10 * NS + GRACE);
	assert_int_equal(n.stats.tombstones, 0);
	assert_int_equal(n.stats.expired, 1);
	/* forgotten: and an id nobody can resolve (no such cgroup) is unknown, and counted */
	assert_null(cgp_names_get(&n, 100, 10 * NS + GRACE));
	assert_null(cgp_names_get(&n, 999, 10 * NS + GRACE));
	assert_int_equal(n.stats.unresolved, 2);
	cgp_names_free(&n);
}

/* Heavy churn: at most CGP_TOMBSTONES_MAX tombstones, the oldest going first (counted), the newest named. */
static void test_tombstones_bounded(void **state)
{
	const uint64_t n_cg = CGP_TOMBSTONES_MAX + 1000;
	struct cgp_names n;
	char path[64];

	(void)state;
	names_open(&n);
	for (uint64_t i = 0; i < n_cg; i++) {
		snprintf(path, sizeof(path), "/churn/c%llu", (unsigned long long)i);
		cgp_names_mkdir(&n, 1000 + i, path, NS + i, NS + i);
		cgp_names_rmdir(&n, 1000 + i, NS + i);
	}
	cgp_names_expire(&n, 2 * NS);
	assert_int_equal(n.stats.tombstones, CGP_TOMBSTONES_MAX);
	assert_int_equal(n.stats.evicted, 1000);
	assert_int_equal(n.stats.expired, 0);
	assert_null(cgp_names_get(&n, 1000 + 999, 2 * NS));
	assert_string_equal(cgp_names_get(&n, 1000 + n_cg - 1, 2 * NS)->path, "/churn/c9191");
	cgp_names_expire(&n, NS + n_cg + GRACE);
	assert_int_equal(n.stats.tombstones, 0);
	assert_int_equal(n.stats.expired, CGP_TOMBSTONES_MAX);
	cgp_names_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tombstones_bounded),
	    cmocka_unit_test(test_named_into_one_record),
	    cmocka_unit_test(test_started_announced_once_named),
	    cmocka_unit_test(test_tombstones),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
