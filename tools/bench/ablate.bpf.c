// SPDX-License-Identifier: GPL-2.0
/* What cgp_switch's cost is made of: the same work as bpf/cpu.bpf.c's cgp_switch, built up in steps, each step a
 * program of its own on tp_btf/sched_switch. run.sh measures each like the empty program, so the differences
 * between neighbours say what each piece costs. The last step repeats cgp_switch's work (slot allocation
 * simplified: it only runs when a task is first seen in a cgroup); the table shows the real cgp_switch beside
 * it, so a drift between this copy and the agent's program is visible. abl_nostate and abl_nohelper, at the end,
 * are alternative designs rather than steps. Maps are private (not pinned). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "cgpulse.h"
#include "bits.bpf.h"

#define ABL_SLOTS 8192

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cgp_task);
} abl_task SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, ABL_SLOTS);
	__type(key, __u64);
	__type(value, __u32);
} abl_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ABL_SLOTS);
	__type(key, __u32);
	__type(value, struct cgp_cpu);
} abl_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ABL_SLOTS);
	__type(key, __u32);
	__type(value, struct cgp_runq);
} abl_runq SEC(".maps");

/* step 1: skip idle, find (or create) the task's storage */
SEC("tp_btf/sched_switch")
int BPF_PROG(abl_storage, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct cgp_task *t;

	if (prev->pid == 0)
		return 0;
	t = bpf_task_storage_get(&abl_task, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (t)
		t->nvcsw = prev->nvcsw;
	return 0;
}

static __always_inline struct cgp_task *fields(struct task_struct *prev, __u64 *cgid, __u64 *d_sum, __u64 *d_delay,
					       __u64 *d_pcount, __u64 *d_vol, __u64 *d_invol)
{
	struct cgp_task *t = bpf_task_storage_get(&abl_task, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	__u64 sum, delay, pcount, nvcsw, nivcsw;

	if (!t)
		return NULL;
	sum = prev->se.sum_exec_runtime;
	delay = prev->sched_info.run_delay;
	pcount = prev->sched_info.pcount;
	nvcsw = prev->nvcsw;
	nivcsw = prev->nivcsw;
	*cgid = prev->cgroups->dfl_cgrp->kn->id;
	*d_sum = sum - t->sum_exec_runtime;
	*d_delay = delay - t->run_delay;
	*d_pcount = pcount - t->pcount;
	*d_vol = nvcsw - t->nvcsw;
	*d_invol = nivcsw - t->nivcsw;
	t->sum_exec_runtime = sum;
	t->run_delay = delay;
	t->pcount = pcount;
	t->nvcsw = nvcsw;
	t->nivcsw = nivcsw;
	return t;
}

/* step 2: + read the kernel's per-task counters and the cgroup id by direct pointers, keep them in storage */
SEC("tp_btf/sched_switch")
int BPF_PROG(abl_fields, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 cgid, ds, dd, dp, dv, di;
	struct cgp_task *t;

	if (prev->pid == 0)
		return 0;
	t = fields(prev, &cgid, &ds, &dd, &dp, &dv, &di);
	if (t) /* keep the deltas live, as the charging steps below use them */
		t->reclaim_start_ns = cgid + ds + dd + dp + dv + di;
	return 0;
}

static __always_inline __u32 slot_of(struct cgp_task *t, __u64 cgid)
{
	__u32 *s, slot;

	if (t->cgroup_id == cgid)
		return t->slot;
	s = bpf_map_lookup_elem(&abl_slot, &cgid);
	if (!s) {
		slot = cgid % ABL_SLOTS;
		bpf_map_update_elem(&abl_slot, &cgid, &slot, BPF_ANY);
	} else {
		slot = *s;
	}
	t->cgroup_id = cgid;
	t->slot = slot;
	return slot;
}

static __always_inline void charge(__u32 slot, __u64 cgid, __u64 ds, __u64 dd, __u64 dv, __u64 di)
{
	struct cgp_cpu *c = bpf_map_lookup_elem(&abl_cpu, &slot);

	if (!c)
		return;
	if (c->cgroup_id != cgid) {
		__builtin_memset(c, 0, sizeof(*c));
		c->cgroup_id = cgid;
	}
	c->cpu_ns += ds;
	c->voluntary_switches += dv;
	c->involuntary_switches += di;
	c->runq_delay_ns += dd;
}

/* step 3: + charge the cgroup's per-CPU array slot (the slot is looked up in a hash only when the task's
 * cgroup changed) */
SEC("tp_btf/sched_switch")
int BPF_PROG(abl_percpu, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 cgid, ds, dd, dp, dv, di;
	struct cgp_task *t;

	if (prev->pid == 0)
		return 0;
	t = fields(prev, &cgid, &ds, &dd, &dp, &dv, &di);
	if (t)
		charge(slot_of(t, cgid), cgid, ds, dd, dv, di);
	return 0;
}

/* step 4: + the run-queue wait histogram in a shared array, one atomic add per switch that ends a wait: all of
 * cgp_switch's work */
SEC("tp_btf/sched_switch")
int BPF_PROG(abl_full, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	__u64 cgid, ds, dd, dp, dv, di;
	struct cgp_runq *r;
	struct cgp_task *t;
	__u32 slot;

	if (prev->pid == 0)
		return 0;
	t = fields(prev, &cgid, &ds, &dd, &dp, &dv, &di);
	if (!t)
		return 0;
	slot = slot_of(t, cgid);
	charge(slot, cgid, ds, dd, dv, di);
	if (dp) {
		r = bpf_map_lookup_elem(&abl_runq, &slot);
		if (r)
			__sync_fetch_and_add(&r->waits[cgp_runq_slot(dd / dp)], dp);
	}
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, ABL_SLOTS);
	__type(key, __u64);
	__type(value, struct cgp_cpu);
} abl_cpuh SEC(".maps");

/* Not a step of cgp_switch but an alternative to weigh against it: no per-task state at all. CFS sets
 * se.prev_sum_exec_runtime when it picks a task, so at switch-out sum − prev_sum is the run that is ending, and
 * prev_state says which switch counter the kernel just bumped. The price is a per-CPU hash lookup per switch.
 * Only the cost is measured here: whether prev_sum holds for every class (RT, idle re-picks) is not checked,
 * and it has no run-queue figures. */
SEC("tp_btf/sched_switch")
int BPF_PROG(abl_nostate, bool preempt, struct task_struct *prev, struct task_struct *next, unsigned int prev_state)
{
	struct cgp_cpu *c, zero = {};
	__u64 cgid;

	if (prev->pid == 0)
		return 0;
	cgid = prev->cgroups->dfl_cgrp->kn->id;
	c = bpf_map_lookup_elem(&abl_cpuh, &cgid);
	if (!c) {
		zero.cgroup_id = cgid;
		bpf_map_update_elem(&abl_cpuh, &cgid, &zero, BPF_NOEXIST);
		c = bpf_map_lookup_elem(&abl_cpuh, &cgid);
		if (!c)
			return 0;
	}
	c->cpu_ns += prev->se.sum_exec_runtime - prev->se.prev_sum_exec_runtime;
	if (!preempt && prev_state)
		c->voluntary_switches++;
	else
		c->involuntary_switches++;
	return 0;
}

/* The floor of the stateless design: as abl_nostate, but the cgroup's per-CPU figures sit in a direct-mapped
 * per-CPU array slot (cgroup id modulo the size, tagged with the id), whose lookup the verifier inlines, so the
 * program makes no helper call at all. A tag mismatch (two cgroups on one slot) would need a fallback, which this
 * cost probe leaves out: with the few cgroups of the ping-pong it never happens. */
SEC("tp_btf/sched_switch")
int BPF_PROG(abl_nohelper, bool preempt, struct task_struct *prev, struct task_struct *next, unsigned int prev_state)
{
	struct cgp_cpu *c;
	__u64 cgid;
	__u32 slot;

	if (prev->pid == 0)
		return 0;
	cgid = prev->cgroups->dfl_cgrp->kn->id;
	slot = cgid & (ABL_SLOTS - 1);
	c = bpf_map_lookup_elem(&abl_cpu, &slot);
	if (!c)
		return 0;
	if (c->cgroup_id != cgid) {
		__builtin_memset(c, 0, sizeof(*c));
		c->cgroup_id = cgid;
	}
	c->cpu_ns += prev->se.sum_exec_runtime - prev->se.prev_sum_exec_runtime;
	if (!preempt && prev_state)
		c->voluntary_switches++;
	else
		c->involuntary_switches++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
