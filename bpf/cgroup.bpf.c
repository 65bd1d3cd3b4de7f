// SPDX-License-Identifier: GPL-2.0
/* Map clean-up: when a cgroup v2 directory is removed, its slot goes back to the free queue, so the maps hold
 * only live cgroups and stay within --max-cgroups. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgp_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	__u64 cgid;
	__u32 slot, *s;

	if (cgrp->root->hierarchy_id != 0) /* ids of v1 hierarchies are another id space: not our keys */
		return 0;
	cgid = cgrp->kn->id;
	s = bpf_map_lookup_elem(&cgroup_slot, &cgid);
	if (!s)
		return 0;
	slot = *s;
	if (bpf_map_delete_elem(&cgroup_slot, &cgid) == 0)
		bpf_map_push_elem(&free_slots, &slot, 0);
	return 0;
}
