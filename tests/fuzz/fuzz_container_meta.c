// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the runtimes' state readers (agent/names/container_meta.c) on any file content. The first byte
 * picks which file of which runtime the rest becomes (containerd's config.json, runc's state.json, CRI-O's or
 * podman's userdata/config.json, podman's containers.json, Docker's config.v2.json), written under a private
 * temporary root; then the agent's own reader names the container from it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "names/container_meta.h"

#define ID "2032491dcae31e6746f47daa0ac74564f2843a1bd847c5e6c4eb501ca132ac36"

static char root[64];
static struct cgp_meta_roots roots;
static char paths[6][PATH_MAX];

static void mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0700);
		*s = '/';
	}
}

static void cleanup(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	if (system(cmd))
		return;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	snprintf(root, sizeof(root), "/tmp/cgpulse-fuzz-meta-XXXXXX");
	if (!mkdtemp(root))
		abort();
	atexit(cleanup);
	snprintf(paths[0], PATH_MAX, "%s/containerd/io.containerd.runtime.v2.task/k8s.io/%s/config.json", root, ID);
	snprintf(paths[1], PATH_MAX, "%s/runc/%s/state.json", root, ID);
	snprintf(paths[2], PATH_MAX, "%s/crio/%s/userdata/config.json", root, ID);
	snprintf(paths[3], PATH_MAX, "%s/podman/%s/userdata/config.json", root, ID);
	snprintf(paths[4], PATH_MAX, "%s/podman/containers.json", root);
	snprintf(paths[5], PATH_MAX, "%s/docker/%s/config.v2.json", root, ID);
	for (int i = 0; i < 6; i++)
		mkdirs(paths[i]);
	static char r[5][PATH_MAX];
	snprintf(r[0], PATH_MAX, "%s/containerd", root);
	snprintf(r[1], PATH_MAX, "%s/runc", root);
	snprintf(r[2], PATH_MAX, "%s/crio", root);
	snprintf(r[3], PATH_MAX, "%s/podman", root);
	snprintf(r[4], PATH_MAX, "%s/docker", root);
	roots = (struct cgp_meta_roots){.containerd_state = r[0],
					.containerd_namespaces = "k8s.io",
					.runc_roots = r[1],
					.crio_containers = r[2],
					.podman_containers = r[3],
					.docker_containers = r[4]};
	return 0;
}

static const enum cgp_runtime hint[6] = {CGP_RT_CONTAINERD, CGP_RT_RUNC,   CGP_RT_CRIO,
					 CGP_RT_PODMAN,	    CGP_RT_PODMAN, CGP_RT_DOCKER};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgp_container_meta m;
	int which, fd;

	if (!size)
		return 0;
	which = data[0] % 6;
	fd = open(paths[which], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	close(fd);
	memset(&m, 0, sizeof(m));
	if (!cgp_meta_read(&roots, ID, hint[which], &m)) {
		const char *f[] = {m.pod, m.pod_namespace, m.pod_uid, m.container, m.image};

		for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
			if (f[i] && !*f[i])
				abort(); /* a field is a name or NULL, never "" */
	}
	cgp_container_meta_clear(&m);
	unlink(paths[which]);
	return 0;
}
