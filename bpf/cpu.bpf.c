// SPDX-License-Identifier: GPL-2.0
/* Per-cgroup CPU time, context switches and run-queue waits, from sched_switch and one on-demand run per CPU
 * per sweep.
 *
 * The kernel already accounts per task what we need (se.sum_exec_runtime, nvcsw/nivcsw and sched_info
 * run_delay/pcount), so at switch-out we charge prev's cgroup with the growth of those counters since the task
 * was last charged; at each sweep cgp_tick does the same for the task running on each CPU. No clock read, no wakeup
 * hooks, no per-event allocation: the figures are the kernel's own, and time spent waiting on a run queue is counted
 * when the waiting ends (sched_info_arrive, before this tracepoint), whether the task was woken or preempted — the same
 * waits runqlat measures. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "slots.bpf.h"
#include "bits.bpf.h"

/* Set before load: CLOCK_MONOTONIC ns at load. Tasks started after it are charged from their first ns. */
const volatile __u64 cgp_load_mono_ns = 0;

/* Charges task p's cgroup with the growth of p's own counters since they were last charged (t). Run at every
 * switch-out of p, and at each sweep for the task running on each CPU (cgp_tick), so time is charged once. */
static __always_inline void cgp_charge(struct task_struct *p, struct cgp_task *t)
{
	__u64 cgid, sum, delay, pcount, nvcsw, nivcsw, d_pcount;
	struct cgp_runq *r;
	struct cgp_cpu *c;
	__u32 slot;

	sum = p->se.sum_exec_runtime;
	delay = p->sched_info.run_delay;
	pcount = p->sched_info.pcount;
	nvcsw = p->nvcsw;
	nivcsw = p->nivcsw;
	cgid = p->cgroups->dfl_cgrp->kn->id;

	if (!t->cgroup_id && p->start_time < cgp_load_mono_ns) {
		/* first sight of a task older than us: what it did before cannot be split by time, start here */
		t->sum_exec_runtime = sum;
		t->run_delay = delay;
		t->pcount = pcount;
		t->nvcsw = nvcsw;
		t->nivcsw = nivcsw;
	}
	if (cgid != t->cgroup_id) { /* first sight, or the task moved: the only hash lookup on this path */
		t->cgroup_id = cgid;
		t->slot = cgp_slot_of(cgid);
	}
	slot = t->slot;
	c = cgp_cpu_of(slot, cgid);
	if (c) {
		c->cpu_ns += sum - t->sum_exec_runtime;
		c->voluntary_switches += nvcsw - t->nvcsw;
		c->involuntary_switches += nivcsw - t->nivcsw;
		c->runq_delay_ns += delay - t->run_delay;
	}
	d_pcount = pcount - t->pcount;
	if (d_pcount) {
		r = bpf_map_lookup_elem(&cgroup_runq, &slot);
		/* one arrival per run between two switch-outs, so the growth is one wait's length */
		if (r && r->cgroup_id == cgid) {
			__u64 i = cgp_runq_slot((delay - t->run_delay) / d_pcount);

			/* The 6.1 verifier loses the bound here: clang tests a zero-extended copy of the slot
			 * and indexes with another, and 6.1 does not carry a range across an OR with a known
			 * constant (it sees the log2 as unbounded). Re-check the very register we index with. */
			barrier_var(i);
			if (i < CGP_RUNQ_SLOTS)
				__sync_fetch_and_add(&r->waits[i], d_pcount);
		}
	}
	t->sum_exec_runtime = sum;
	t->run_delay = delay;
	t->pcount = pcount;
	t->nvcsw = nvcsw;
	t->nivcsw = nivcsw;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(cgp_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	struct cgp_task *t;

	if (prev->pid == 0) /* the idle task (pid 0 on every CPU) is no cgroup's time */
		return 0;
	t = bpf_task_storage_get(&task_state, prev, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		cgp_count_drop(CGP_DROP_TASK_STORAGE);
		return 0;
	}
	cgp_charge(prev, t);
	return 0;
}

/* Run by the agent on each CPU at each sweep (BPF_PROG_TEST_RUN with BPF_F_TEST_RUN_ON_CPU: the kernel runs it
 * there in an IPI, where the current task is the one running on that CPU), never attached. It charges the time
 * the running task used since it was last charged, so a task that never leaves its CPU is seen every interval,
 * not only when it is switched out. The IPI runs with interrupts off, so it never interleaves with cgp_switch on
 * that CPU, and whatever it charged cgp_switch no longer sees as growth: nothing is counted twice.
 * se.sum_exec_runtime is as of the CPU's last scheduler tick, so an interval can miss at most one tick. */
SEC("raw_tp")
int cgp_tick(void *ctx)
{
	struct task_struct *curr = bpf_get_current_task_btf();
	struct cgp_task *t;

	if (curr->pid == 0)
		return 0;
	t = bpf_task_storage_get(&task_state, curr, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!t) {
		cgp_count_drop(CGP_DROP_TASK_STORAGE);
		return 0;
	}
	cgp_charge(curr, t);
	return 0;
}
