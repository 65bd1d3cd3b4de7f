// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: cgroup path → container (agent/names/container_path.c) on any path, with a "known id" predicate
 * that says yes to ids ending in a digit (so the layouts without a runtime prefix are reached too). What it
 * returns must hold: a container id that runc would accept, a prefix of the path as the container's cgroup. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "names/container_path.h"

static bool known(const char *id, void *arg, enum cgp_runtime *rt)
{
	size_t n = strlen(id);

	(void)arg;
	if (n && id[n - 1] >= '0' && id[n - 1] <= '9') {
		*rt = CGP_RT_RUNC;
		return true;
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgp_container_ref ref;
	char *path = malloc(size + 1);
	size_t len;

	if (!path)
		abort();
	memcpy(path, data, size);
	path[size] = 0;
	len = strlen(path);
	for (int pass = 0; pass < 2; pass++) {
		enum cgp_cpath_kind k = cgp_container_path_parse(path, pass ? known : NULL, NULL, &ref);

		if (k != ref.kind || ref.cgroup_len > len)
			abort();
		if (strnlen(ref.id, sizeof(ref.id)) == sizeof(ref.id) ||
		    strnlen(ref.pod_uid, sizeof(ref.pod_uid)) == sizeof(ref.pod_uid))
			abort();
		if ((k == CGP_CPATH_CONTAINER || k == CGP_CPATH_MONITOR) && !cgp_container_id_valid(ref.id))
			abort();
		if (k == CGP_CPATH_NONE && ref.cgroup_len)
			abort();
		(void)cgp_runtime_name(ref.runtime);
		(void)cgp_qos_name(ref.qos);
	}
	free(path);
	return 0;
}
