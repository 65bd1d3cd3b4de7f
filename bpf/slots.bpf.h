/* SPDX-License-Identifier: GPL-2.0 */
/* cgroup id → slot: the slot indexes per-CPU and shared arrays, whose lookups the verifier inlines, so the
 * hot path pays for one hash lookup only when a task changes cgroup, not per switch. */
#ifndef CGP_SLOTS_BPF_H
#define CGP_SLOTS_BPF_H

#include "maps.bpf.h"

#define CGP_NO_SLOT ((__u32)-1)

static __always_inline __u32 cgp_slot_alloc(__u64 cgid)
{
	struct cgp_slot_alloc *a;
	struct cgp_runq *r;
	__u32 zero = 0, slot, *s;

	if (bpf_map_pop_elem(&free_slots, &slot) != 0) {
		a = bpf_map_lookup_elem(&slot_alloc, &zero);
		if (!a)
			return CGP_NO_SLOT;
		slot = __sync_fetch_and_add(&a->next_slot, 1);
	}
	r = bpf_map_lookup_elem(&cgroup_runq, &slot);
	if (!r) { /* past max_entries: the maps are full */
		cgp_count_drop(CGP_DROP_SLOTS_FULL);
		return CGP_NO_SLOT;
	}
	__builtin_memset(r->waits, 0, sizeof(r->waits));
	r->cgroup_id = cgid;
	if (bpf_map_update_elem(&cgroup_slot, &cgid, &slot, BPF_NOEXIST) != 0) {
		/* another CPU took a slot for this cgroup first (or the hash is full): give ours back */
		bpf_map_push_elem(&free_slots, &slot, 0);
		s = bpf_map_lookup_elem(&cgroup_slot, &cgid);
		if (s)
			return *s;
		cgp_count_drop(CGP_DROP_SLOTS_FULL);
		return CGP_NO_SLOT;
	}
	return slot;
}

static __always_inline __u32 cgp_slot_of(__u64 cgid)
{
	__u32 *s = bpf_map_lookup_elem(&cgroup_slot, &cgid);

	return s ? *s : cgp_slot_alloc(cgid);
}

/* This CPU's copy of a slot, reset when the slot changed owner since this CPU last used it. */
static __always_inline struct cgp_cpu *cgp_cpu_of(__u32 slot, __u64 cgid)
{
	struct cgp_cpu *c = bpf_map_lookup_elem(&cgroup_cpu, &slot);

	if (c && c->cgroup_id != cgid) {
		__builtin_memset(c, 0, sizeof(*c));
		c->cgroup_id = cgid;
	}
	return c;
}

#endif
