/* SPDX-License-Identifier: GPL-2.0 */
/* Container id → names (pod, namespace, container, image), read from the state the runtimes keep on the node:
 * OCI bundle config.json annotations (containerd, CRI-O, podman), runc's state.json labels, Docker's
 * config.v2.json. Never the API server. Read once per container and kept in a bounded cache, so an event that
 * arrives after the container is gone still gets its names. */
#ifndef CGP_CONTAINER_META_H
#define CGP_CONTAINER_META_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "names/container_path.h"

/* Where each runtime keeps its state. NULL or "" turns a source off. Lists are comma-separated. */
struct cgp_meta_roots {
	const char *containerd_state;	   /* <it>/io.containerd.runtime.v2.task/<ns>/<id>/config.json */
	const char *containerd_namespaces; /* tried in order; "moby" is Docker's */
	const char *runc_roots;		   /* runc --root dirs: <it>/<id>/state.json */
	const char *crio_containers;	   /* <it>/<id>/userdata/config.json */
	const char *podman_containers;	   /* <it>/<id>/userdata/config.json, <it>/containers.json */
	const char *docker_containers;	   /* <it>/<id>/config.v2.json */
};

/* The runtimes' defaults: /run/containerd (k8s.io, default, moby), /run/runc,
 * /run/containers/storage/overlay-containers, /var/lib/containers/storage/overlay-containers,
 * /var/lib/docker/containers. */
extern const struct cgp_meta_roots cgp_meta_default_roots;

/* Names of one container; each string is owned by the struct and NULL when the runtime does not record it. */
struct cgp_container_meta {
	enum cgp_runtime runtime; /* the runtime whose state named it */
	char *pod;
	char *pod_namespace;
	char *pod_uid;
	char *container;
	char *image;
	bool sandbox; /* the pod's sandbox ("pause") container, not a workload */
};

/* Reads the names of container id, trying the source of runtime hint first (CGP_RT_UNKNOWN: all in the default
 * order). Returns 0 and fills out, or a negative errno: -EINVAL for an id that cannot be one, -ENOENT when no
 * runtime knows it, -EBADMSG when its state file is not the JSON expected, -EACCES etc. from the files. */
int cgp_meta_read(const struct cgp_meta_roots *roots, const char *id, enum cgp_runtime hint,
		  struct cgp_container_meta *out);
void cgp_container_meta_clear(struct cgp_container_meta *m);

/* cgp_known_id_fn over roots (a const struct cgp_meta_roots *): the id has a state directory under some root. */
bool cgp_meta_known_id(const char *id, void *roots, enum cgp_runtime *rt);

struct cgp_meta_cache;

struct cgp_meta_cache_stats {
	uint64_t hits;	    /* answered from the cache, names or a recent miss */
	uint64_t reads;	    /* state read from disk */
	uint64_t misses;    /* reads that found no runtime state */
	uint64_t errors;    /* reads that failed otherwise (permission, bad JSON) */
	uint64_t evictions; /* least recently used entries dropped to stay within capacity */
	uint64_t dir_stats; /* stat() calls of cgp_meta_cache_known_id: a directory each round, and each hit */
	uint64_t dir_reads; /* reads of a state directory's entries (it changed) */
	size_t entries;
};

/* capacity bounds memory (entries, not bytes); a container whose state was not found is read again only after
 * retry_ns, so a flood of events for an unnamed cgroup costs one read per retry_ns. roots are copied. */
struct cgp_meta_cache *cgp_meta_cache_new(const struct cgp_meta_roots *roots, size_t capacity, uint64_t retry_ns);
void cgp_meta_cache_free(struct cgp_meta_cache *c);

/* Names of id, or NULL when no runtime knows it (yet). The pointer stays valid until the next get, forget or free
 * on this cache. */
const struct cgp_container_meta *cgp_meta_cache_get(struct cgp_meta_cache *c, const char *id, enum cgp_runtime hint);

/* Drops id (after its cgroup's tombstone expires), so a reused id is read afresh. */
void cgp_meta_cache_forget(struct cgp_meta_cache *c, const char *id);

/* cgp_known_id_fn over a cache: a cached id answers without touching the disk; others from the entries of the
 * runtimes' state directories, each looked at (one stat(), read again when it changed) once per round. */
bool cgp_meta_cache_known_id(const char *id, void *cache, enum cgp_runtime *rt);
/* The checks from now on belong to round (any number but the last one's: the names stage passes a sweep's time);
 * 0: every check looks at the directories as they are at that moment (as for an OOM kill, named at once). */
void cgp_meta_cache_round(struct cgp_meta_cache *c, uint64_t round);

void cgp_meta_cache_get_stats(const struct cgp_meta_cache *c, struct cgp_meta_cache_stats *s);

#endif
