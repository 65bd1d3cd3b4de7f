/* SPDX-License-Identifier: GPL-2.0 */
/* One sweep: read the cgroup iterator(s), join memory figures to the cgroup v2 ids, and turn totals into
 * per-interval samples. Keeps per-cgroup state between sweeps; forgets cgroups that are gone. */
#ifndef CGP_SAMPLER_H
#define CGP_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "cgpulse.h"
#include "names/cgroup_names.h"
#include "lib/idmap.h"
#include "collect/loader.h"
#include "collect/sample.h"

struct ring_buffer;

struct cgp_sampler_stats {
	uint64_t sweeps;
	uint64_t records;	      /* iterator records read in the last sweep */
	uint64_t cgroups;	      /* cgroups known after the last sweep */
	uint64_t mem_unjoined;	      /* v1 memory/cpu cgroups with no cgroup v2 twin of the same path (last sweep) */
	uint64_t path_failures;	      /* ids whose path could not be resolved (gone between sweep and lookup) */
	uint64_t cgroups_gone;	      /* total cgroups forgotten because they disappeared */
	uint64_t drops[CGP_DROP_MAX]; /* the kernel side's drops map, summed over CPUs (enum cgp_drop) */
};

struct cgp_sampler {
	struct cgp_bpf *bpf;
	struct cgp_idmap cgs;	  /* v2 id → struct cgp_cg */
	struct cgp_names names;	  /* id → path → container → names, with tombstones */
	struct cgp_idmap memjoin; /* v1 memory cgroup id → struct cgp_join (hybrid hosts only) */
	struct cgp_idmap cpujoin; /* v1 cpu cgroup id → struct cgp_join (hybrid hosts with cpu on its own mount) */
	double node_cpus;	  /* what a percentage is of when a cgroup has no limit */
	uint64_t node_mem_bytes;
	uint32_t gen;
	uint32_t cpu_walked_gen; /* last sweep that walked a v1 cpu hierarchy for limits */
	uint64_t cgs_added;	 /* cgroups met since then */
	bool walked;
	uint64_t last_mono_ns;
	struct ring_buffer *rb; /* drains sweep_records into buf */
	char *buf;
	size_t cap, len;
	struct cgp_sampler_stats stats;
};

typedef void (*cgp_sample_cb)(const struct cgp_sample *s, void *ctx);
typedef void (*cgp_gone_cb)(uint64_t cgroup_id, const char *path, void *ctx);

int cgp_sampler_init(struct cgp_sampler *sp, struct cgp_bpf *bpf);
void cgp_sampler_free(struct cgp_sampler *sp);
/* Sweeps now. Calls `emit` for every cgroup (with the window since the last sweep) unless emit is NULL, and
 * `gone` for each cgroup seen before but not now. Returns 0 or -errno. */
int cgp_sampler_sweep(struct cgp_sampler *sp, cgp_sample_cb emit, cgp_gone_cb gone, void *ctx);
struct cgp_limits;
/* What a playbook measures a cgroup against, as of the last sweep; false (node figures only) when unknown. */
bool cgp_sampler_limits(struct cgp_sampler *sp, uint64_t cgroup_id, struct cgp_limits *lim, uint64_t *mem_limit);
/* Identity of a live or recently removed cgroup (NULL when unknown); fresh: ask the runtimes now. */
const struct cgp_cgname *cgp_sampler_name(struct cgp_sampler *sp, uint64_t cgroup_id);
const struct cgp_cgname *cgp_sampler_name_fresh(struct cgp_sampler *sp, uint64_t cgroup_id);
/* Where the runtimes keep their state (before the first sweep); NULL: their defaults. */
int cgp_sampler_set_roots(struct cgp_sampler *sp, const struct cgp_meta_roots *roots);
struct cgp_cgroup_event;
/* A cgroup_mkdir/cgroup_rmdir record from the kernel. */
void cgp_sampler_cgroup_event(struct cgp_sampler *sp, const struct cgp_cgroup_event *e);

#endif
