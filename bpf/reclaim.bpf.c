// SPDX-License-Identifier: GPL-2.0
/* Memory reclaim stalls: time a task spends in memcg direct reclaim, charged to its cgroup's per-CPU figures
 * (the sweep sums them). Both tracepoints fire in the reclaiming task, so the start time lives in its task
 * storage. Optional: the agent skips them with a logged reason on kernels without vmscan memcg tracepoints. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "slots.bpf.h"

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(cgp_reclaim_in)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgp_task *t = bpf_task_storage_get(&task_state, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);

	if (t && t->reclaim_depth++ == 0)
		t->reclaim_start_ns = bpf_ktime_get_ns();
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(cgp_reclaim_out)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct cgp_task *t = bpf_task_storage_get(&task_state, task, 0, 0);
	struct cgp_cpu *c;
	__u64 cgid;

	if (!t || !t->reclaim_depth || --t->reclaim_depth)
		return 0;
	cgid = task->cgroups->dfl_cgrp->kn->id;
	c = cgp_cpu_of(cgp_slot_of(cgid), cgid);
	if (c) {
		c->reclaim_ns += bpf_ktime_get_ns() - t->reclaim_start_ns;
		c->reclaims++;
	}
	return 0;
}
