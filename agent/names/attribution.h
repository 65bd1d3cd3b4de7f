/* SPDX-License-Identifier: GPL-2.0 */
/* Who a cgroup is: the one record that samples, OOM kills, alerts and cgroup started/stopped events all carry,
 * filled in one place (names/cgroup_names.c) from the cgroup's path and its runtime's state, and encoded in
 * one place (events/event_encode.c: the Attribution message). */
#ifndef CGP_ATTRIBUTION_H
#define CGP_ATTRIBUTION_H

#include <stdbool.h>
#include <stdint.h>

struct cgp_attribution {
	const char *path;  /* cgroup path relative to the cgroup root, "/" for the root; never NULL */
	bool is_container; /* a container runtime made this cgroup (names/container_path.h) */
	/* "" when not a container or not known; never NULL */
	const char *container_id;
	const char *runtime; /* "docker", "containerd", "cri-o", "podman", "runc" */
	const char *pod;
	const char *pod_namespace;
	const char *container_name;
	const char *image;
	const char *pod_uid;   /* from the kubepods path */
	const char *qos_class; /* "guaranteed", "burstable", "besteffort" */
	/* Which filling of the record this is: a number no earlier filling had (names/cgroup_names.c), so a sink that
	 * keeps something made from the strings (escaped labels) makes it again only when this moved. 0: not filled
	 * by the names stage (the unknown record, a test's own): make it every time. */
	uint64_t rev;
};

/* For a cgroup the names stage does not know (gone before it was ever named): the path says so, the rest is "". */
extern const struct cgp_attribution cgp_attribution_unknown;

#endif
