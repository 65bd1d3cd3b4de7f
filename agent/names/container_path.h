/* SPDX-License-Identifier: GPL-2.0 */
/* cgroup path → container: which runtime made the cgroup, the container id, and the Kubernetes pod UID and QoS
 * class from the kubepods parents. Pure: no I/O except through the caller's optional "known id" predicate. */
#ifndef CGP_CONTAINER_PATH_H
#define CGP_CONTAINER_PATH_H

#include <stdbool.h>
#include <stddef.h>

#define CGP_CONTAINER_ID_MAX 128 /* runc allows any [A-Za-z0-9_+.-] id; longer ones are not ours to name */
#define CGP_POD_UID_MAX	     40	 /* 36-char UUID, or a 32-hex static-pod hash, plus NUL */

enum cgp_runtime {
	CGP_RT_UNKNOWN = 0,
	CGP_RT_DOCKER,
	CGP_RT_CONTAINERD,
	CGP_RT_CRIO,
	CGP_RT_PODMAN,
	CGP_RT_RUNC,
};

enum cgp_qos {
	CGP_QOS_NONE = 0, /* not a Kubernetes pod */
	CGP_QOS_GUARANTEED,
	CGP_QOS_BURSTABLE,
	CGP_QOS_BESTEFFORT,
};

enum cgp_cpath_kind {
	CGP_CPATH_NONE = 0,  /* not a container (system service, user session, QoS slice, the root) */
	CGP_CPATH_POD,	     /* a pod's own cgroup, or one inside it that belongs to no container */
	CGP_CPATH_CONTAINER, /* a container's cgroup or one below it (crun's "container", podman split) */
	CGP_CPATH_MONITOR,   /* the runtime's monitor for a container (crio-conmon, libpod-conmon): not the container */
};

struct cgp_container_ref {
	enum cgp_cpath_kind kind;
	enum cgp_runtime runtime;
	char id[CGP_CONTAINER_ID_MAX]; /* container id ("" unless CONTAINER or MONITOR) */
	char pod_uid[CGP_POD_UID_MAX]; /* dashed, as the API server shows it; "" when not in a pod */
	enum cgp_qos qos;
	size_t cgroup_len; /* path[0..cgroup_len) is the container's (or pod's) own cgroup; 0 for NONE */
};

/* Answers "is this a container id some runtime on the node knows?" for layouts that carry no runtime prefix
 * (plain runc, ctr --cgroup /parent/id). May set *rt to the runtime that knows it. */
typedef bool (*cgp_known_id_fn)(const char *id, void *arg, enum cgp_runtime *rt);

/* Parses a cgroup path relative to the hierarchy root ("/kubepods/burstable/pod<uid>/<id>"), v1 or v2, systemd
 * or cgroupfs driver. known may be NULL. Returns out->kind. */
enum cgp_cpath_kind cgp_container_path_parse(const char *path, cgp_known_id_fn known, void *arg,
					     struct cgp_container_ref *out);

/* Whether id can be a container id: what runc accepts ([A-Za-z0-9_+.-], not "." or ".."), shorter than
 * CGP_CONTAINER_ID_MAX. Ids become file names under the runtimes' state directories, so check before joining. */
bool cgp_container_id_valid(const char *id);

/* "docker", "containerd", "cri-o", "podman", "runc", or "" when unknown. */
const char *cgp_runtime_name(enum cgp_runtime rt);
/* "guaranteed", "burstable", "besteffort", or "" when not a pod. */
const char *cgp_qos_name(enum cgp_qos qos);

#endif
