// SPDX-License-Identifier: GPL-2.0
/* A young cgroup may still turn out to be a plain runc or ctr container, so the names stage asks the runtimes'
 * state about it every 2 s for 30 s. A sweep's round of those checks looks at each runtime's state directory
 * once (one stat(), a read of its entries when it changed), not with a stat() per cgroup and directory (at
 * 10,000 new cgroups those were ~88 ms of system time every other sweep). Counted here by the stat() calls
 * themselves, and a container whose state appears between two rounds is named at the very next one, as before. */
#include <fcntl.h>
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

#define NS	   1000000000ULL
#define YOUNG	   200 /* cgroups; two path components each, both possible container ids */
#define STATE_DIRS 5   /* containerd's k8s.io, cri-o, podman and Docker (absent), runc */

static char dir[PATH_MAX];
static struct cgp_cgroupfs fs = {.v2_mount = "/nonexistent-cgpulse-test", .v2_fd = -1, .mem_fd = -1, .cpu_fd = -1};
static unsigned long stats; /* stat() calls, of this program's code and the agent's */

int stat(const char *restrict path, struct stat *restrict st)
{
	stats++;
	return fstatat(AT_FDCWD, path, st, 0);
}

static void sub(char *p, size_t n, const char *rel)
{
	snprintf(p, n, "%s/%s", dir, rel);
}

static int setup(void **state)
{
	char p[PATH_MAX + 128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cgpulse-test-rounds-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	sub(p, sizeof(p), "io.containerd.runtime.v2.task");
	mkdir(p, 0700);
	sub(p, sizeof(p), "io.containerd.runtime.v2.task/k8s.io");
	mkdir(p, 0700);
	sub(p, sizeof(p), "crio");
	mkdir(p, 0700);
	sub(p, sizeof(p), "runc");
	return mkdir(p, 0700);
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* runc's state for container id, as runc writes it once the container exists */
static void runc_state(const char *id, const char *pod)
{
	char root[PATH_MAX + 8], labels[128];

	sub(root, sizeof(root), "runc");
	snprintf(labels, sizeof(labels), "\"io.kubernetes.pod.name=%s\"", pod);
	assert_int_equal(cgt_runc_state(root, id, labels), 0);
}

/* One sweep's checks: every cgroup asked for by the sweep's time; the stat() calls they made. */
static unsigned long sweep(struct cgp_names *n, uint64_t now)
{
	unsigned long before = stats;

	for (uint64_t i = 0; i < YOUNG; i++)
		assert_non_null(cgp_names_get(n, 1000 + i, now));
	return stats - before;
}

static void test_one_look_per_directory_per_round(void **state)
{
	char runc[PATH_MAX + 8], crio[PATH_MAX + 8], podman[PATH_MAX + 16], docker[PATH_MAX + 16];
	struct cgp_meta_roots roots = {.containerd_state = dir,
				       .containerd_namespaces = "k8s.io",
				       .runc_roots = runc,
				       .crio_containers = crio,
				       .podman_containers = podman,
				       .docker_containers = docker};
	const struct cgp_cgname *c;
	struct cgp_names n;
	unsigned long got;

	(void)state;
	sub(runc, sizeof(runc), "runc");
	sub(crio, sizeof(crio), "crio");
	sub(podman, sizeof(podman), "podman-absent");
	sub(docker, sizeof(docker), "docker-absent");
	assert_int_equal(cgp_names_init(&n, &fs, &roots, 60 * NS), 0);
	for (uint64_t i = 0; i < YOUNG; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/cgpulse-test-rounds/cg%03d", (int)i);
		cgp_names_mkdir(&n, 1000 + i, p, 5 * NS, 5 * NS);
	}
	/* the first round: each directory looked at once, for 400 possible ids (main: 2,000 stat() calls) */
	got = sweep(&n, 10 * NS);
	print_message("round 1: %lu stat() calls for %d young cgroups\n", got, YOUNG);
	assert_int_equal(got, STATE_DIRS);
	/* the next sweep, within the 2 s: nobody is asked */
	assert_int_equal(sweep(&n, 11 * NS), 0);
	/* a container's state appears (most likely within the timestamp tick of the first round's read of its
	 * directory): the next round names it, with one stat() more, to confirm the entry */
	runc_state("cg007", "late-pod");
	got = sweep(&n, 12 * NS);
	print_message("round 2: %lu stat() calls\n", got);
	assert_int_equal(got, STATE_DIRS + 1);
	c = cgp_names_get(&n, 1007, 12 * NS);
	assert_true(c->attr.is_container);
	assert_string_equal(c->attr.runtime, "runc");
	assert_string_equal(c->attr.container_id, "cg007");
	assert_string_equal(c->attr.pod, "late-pod");
	assert_false(cgp_names_get(&n, 1008, 12 * NS)->attr.is_container);
	/* an OOM kill names its cgroup now, from the directories as they are this moment, not as of the round */
	runc_state("cg008", "oom-pod");
	c = cgp_names_get_fresh(&n, 1008, 12 * NS + 1);
	assert_true(c->attr.is_container);
	assert_string_equal(c->attr.pod, "oom-pod");
	/* a round with nothing changed looks at each directory once (a read again only while it changed lately) */
	got = sweep(&n, 14 * NS);
	assert_true(got <= STATE_DIRS + 2);
	cgp_names_free(&n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one_look_per_directory_per_round),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
