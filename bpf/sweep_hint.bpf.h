/* SPDX-License-Identifier: GPL-2.0 */
/* A cgroup's id and CPU slot without the cache misses that find them. A record's cost is its cache misses, and
 * two of the largest were these (bpftrace's profile of the agent at 10,000 cgroups: ~20% of the walk's program
 * on the load of cgrp->kn->id, a line of struct cgroup and one of its kernfs_node that nothing else reads; ~10%
 * in cgroup_slot's hash, a bucket and an element on pages of their own). So what each record of the last walk
 * found is kept by its place in the walk (the walk meets cgroups in the same order each sweep: the array is read
 * in order), and trusted only while the css serial number kept with it is the cgroup's own: the kernel counts
 * serial numbers up for every css it makes and never gives one twice, so a cgroup made or removed earlier in the
 * walk, which moves the places after it, costs those records one lookup the old way, not a wrong id. (The css id
 * is no key: the kernel gives one only to a controller's css, not to a cgroup's own.) A slot is trusted only
 * while its run-queue entry names the cgroup (cgp_slot_alloc writes the owner there first). Not pinned: a hint
 * is only as old as this agent, and one walker fills it (the agent sweeps from one thread). */
#ifndef CGP_SWEEP_HINT_BPF_H
#define CGP_SWEEP_HINT_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "maps.bpf.h"

/* One span of places per kind of walk: the cgroup2 walk, a v1 walk with the memory controller (other v1 walks go
 * without); CGP_HINT_KINDS spans in all */
#define CGP_HINT_DFL   0
#define CGP_HINT_V1MEM 1
#define CGP_HINT_NONE  -1

const volatile __u32 iter_hint_span = CGP_MAX_CGROUPS; /* places kept per kind; the agent sets both sizes */
__u32 hint_place; /* the record's place in this walk, over its passes (cgp_hint_walk_start) */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CGP_HINT_KINDS *CGP_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, struct cgp_id_hint);
} id_hint SEC(".maps");

/* At a walk's first cgroup, in its first pass (a further pass goes on counting). */
static __always_inline void cgp_hint_walk_start(void)
{
	hint_place = 0;
}

/* cgrp's cgroup id, into *id, and its hint (NULL when its place is past what is kept, or kind is NONE); once for
 * each record written, in walk order. */
static __always_inline struct cgp_id_hint *cgp_hint_id(struct cgroup *cgrp, const int kind, __u64 *id)
{
	__u64 serial = cgrp->self.serial_nr;
	__u32 key = hint_place++;
	struct cgp_id_hint *h = NULL;

	if (kind != CGP_HINT_NONE && key < iter_hint_span) {
		key += kind * iter_hint_span;
		h = bpf_map_lookup_elem(&id_hint, &key);
	}
	if (h && serial && h->serial == serial) {
		*id = h->cgroup_id;
		return h;
	}
	*id = cgrp->kn->id;
	if (h) {
		h->serial = serial;
		h->cgroup_id = *id;
		h->has_slot = 0;
	}
	return h;
}

/* The cgroup's CPU slot and its run-queue entry, or NULL when it has none. */
static __always_inline struct cgp_runq *cgp_hint_slot(struct cgroup *cgrp, __u64 id, struct cgp_id_hint *h, __u32 *slot)
{
	struct cgp_runq *r;
	__u32 *s;

	if (h && h->has_slot && (cgrp->self.flags & CSS_ONLINE)) {
		*slot = h->slot;
		r = bpf_map_lookup_elem(&cgroup_runq, slot);
		if (r && r->cgroup_id == id)
			return r;
	}
	s = bpf_map_lookup_elem(&cgroup_slot, &id); /* id: a map key must be on the stack (6.1) */
	if (!s)
		return NULL;
	*slot = *s;
	r = bpf_map_lookup_elem(&cgroup_runq, slot); /* an inlined, bounds-checked lookup: slot < max_entries */
	if (r && h) {
		h->slot = *slot;
		h->has_slot = 1;
	}
	return r;
}

#endif
