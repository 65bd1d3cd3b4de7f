// SPDX-License-Identifier: GPL-2.0
/* cgroup v2 directories coming and going: each is reported through the cgroup_events ring buffer with its path
 * (so the agent names a cgroup from its birth, and still after it is gone), and on removal its slot goes back to
 * the free queue, so the maps hold only live cgroups and stay within --max-cgroups. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "maps.bpf.h"

static __always_inline void cgp_cgroup_event(struct cgroup *cgrp, const char *path, __u32 kind)
{
	struct cgp_cgroup_event *e = bpf_ringbuf_reserve(&cgroup_events, sizeof(*e), 0);

	if (!e) {
		cgp_count_drop(CGP_DROP_CGROUP_EVENT);
		return;
	}
	e->ts_boot_ns = bpf_ktime_get_boot_ns();
	e->cgroup_id = cgrp->kn->id;
	e->kind = kind;
	e->level = cgrp->level;
	if (bpf_probe_read_kernel_str(e->path, sizeof(e->path), path) < 0)
		e->path[0] = 0;
	bpf_ringbuf_submit(e, 0);
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(cgp_cg_mkdir, struct cgroup *cgrp, const char *path)
{
	if (cgrp->root->hierarchy_id == 0) /* ids of v1 hierarchies are another id space: not our keys */
		cgp_cgroup_event(cgrp, path, CGP_CGROUP_MKDIR);
	return 0;
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(cgp_cg_rmdir, struct cgroup *cgrp, const char *path)
{
	__u64 cgid;
	__u32 slot, *s;

	if (cgrp->root->hierarchy_id != 0)
		return 0;
	cgp_cgroup_event(cgrp, path, CGP_CGROUP_RMDIR);
	cgid = cgrp->kn->id;
	s = bpf_map_lookup_elem(&cgroup_slot, &cgid);
	if (!s)
		return 0;
	slot = *s;
	if (bpf_map_delete_elem(&cgroup_slot, &cgid) == 0)
		bpf_map_push_elem(&free_slots, &slot, 0);
	return 0;
}
