/* SPDX-License-Identifier: GPL-2.0 */
/* Attribution: cgroup v2 id → path → container (runtime, id, pod UID, QoS) → names (pod, namespace,
 * container, image) from the runtimes' state on the node, never the API server. Learned by one walk of the tree
 * at start, then kept current from the cgroup_mkdir/cgroup_rmdir events; a removed cgroup stays resolvable for
 * a grace period (a tombstone), so an OOM record that arrives after its container is gone still names it. */
#ifndef CGP_CGROUP_NAMES_H
#define CGP_CGROUP_NAMES_H

#include <stdbool.h>
#include <stdint.h>
#include "collect/cgroupfs.h"
#include "names/attribution.h"
#include "names/container_meta.h"
#include "names/container_path.h"
#include "lib/bytebuf.h"
#include "lib/idmap.h"

#define CGP_TOMBSTONE_GRACE_NS (300ULL * 1000000000ULL) /* default: removed cgroups stay nameable 5 minutes */
/* ... but at most this many at once: under heavy churn (10,000 cgroups a minute) the oldest go first, counted,
 * so the agent's memory does not grow with the churn rate */
#define CGP_TOMBSTONES_MAX 8192

struct cgp_cgname {
	uint64_t id;
	char *path;
	struct cgp_container_ref ref; /* kind CGP_CPATH_CONTAINER when a runtime made it */
	/* names from the runtime's state; "" until known (never NULL) */
	char *pod, *pod_namespace, *container, *image;
	const char *runtime; /* "" when unknown */
	uint64_t first_seen_ns;
	uint64_t born_ns;	     /* the kernel's mkdir time, 0 when found otherwise (the walk at start, by id) */
	uint64_t removed_ns;	     /* 0 while the cgroup exists */
	uint64_t checked_ns;	     /* when the runtimes' state was last asked about it */
	bool named;		     /* names read (or not a container) */
	struct cgp_attribution attr; /* the record events carry, pointing into the fields above */
};

struct cgp_names_stats {
	uint64_t live, tombstones;
	uint64_t resolved_by_id; /* paths found by walking the tree again: a missed mkdir record */
	uint64_t unresolved;	 /* ids whose path could not be found (yet) */
	uint64_t walks;		 /* walks of the cgroup2 tree: at start, then for ids no mkdir record named */
	uint64_t expired;	 /* tombstones dropped after the grace period */
	uint64_t evicted;	 /* tombstones dropped early: more than CGP_TOMBSTONES_MAX */
	uint64_t unannounced;	 /* cgroup_started events not made: no memory to hold the cgroup's place */
};

struct cgp_names {
	const struct cgp_cgroupfs *fs;
	struct cgp_idmap live, dead;
	struct cgp_buf graves;	 /* uint64_t ids of the tombstones, oldest first */
	struct cgp_idmap unseen; /* ids a walk did not find: not in our view of the tree (until the sampler's gone) */
	uint64_t walked_ns;	 /* last walk */
	struct cgp_buf unannounced; /* uint64_t ids made since start whose cgroup_started is not out yet */
	struct cgp_meta_cache *meta;
	uint64_t grace_ns;
	struct cgp_names_stats stats;
};

/* roots: where the runtimes keep their state (NULL: the runtimes' defaults). */
int cgp_names_init(struct cgp_names *n, const struct cgp_cgroupfs *fs, const struct cgp_meta_roots *roots,
		   uint64_t grace_ns);
void cgp_names_free(struct cgp_names *n);
/* The one walk of the cgroup2 tree at start. */
int cgp_names_walk(struct cgp_names *n, uint64_t now_ns);
/* A cgroup the kernel made (born_ns: when): its start is announced once it is named (cgp_names_take_started). */
void cgp_names_mkdir(struct cgp_names *n, uint64_t id, const char *path, uint64_t born_ns, uint64_t now_ns);
void cgp_names_rmdir(struct cgp_names *n, uint64_t id, uint64_t now_ns);
/* Live or tombstoned identity of a cgroup; an id no mkdir record named is looked for by walking the tree again
 * (at most every 10 s). NULL when unknown.
 * Container names are read here, late, because runtimes write their state after making the cgroup. The
 * pointer stays valid until the tombstone expires. */
const struct cgp_cgname *cgp_names_get(struct cgp_names *n, uint64_t id, uint64_t now_ns);
/* The same, but for an event that must be named now (an OOM kill): what the runtimes' state says at this
 * moment, not a cached miss. */
const struct cgp_cgname *cgp_names_get_fresh(struct cgp_names *n, uint64_t id, uint64_t now_ns);
/* A cgroup_started event carries the cgroup's names, so it waits for them: runtimes write their state just
 * after they make the cgroup. Hands out, once each, the cgroups made since start whose start is due: named, or
 * asked about and CGP_ANNOUNCE_WAIT_NS old (not a container, or a runtime that never wrote its state), or
 * removed (id: that one cgroup only, when it is still waiting; 0: every due one). Returns how many were put in
 * out[0..max). */
#define CGP_ANNOUNCE_WAIT_NS (2ULL * 1000000000ULL)
size_t cgp_names_take_started(struct cgp_names *n, uint64_t id, uint64_t now_ns, const struct cgp_cgname **out,
			      size_t max);
/* Drops tombstones older than the grace period. */
void cgp_names_expire(struct cgp_names *n, uint64_t now_ns);

#endif
