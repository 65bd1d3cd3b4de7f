/* SPDX-License-Identifier: GPL-2.0 */
/* A cgroup's PSI stall totals, fresh. The kernel's own totals (psi_group.total[PSI_AVGS], what *.pressure prints
 * as total=) move only when its averaging work runs, every 2 s, or a pressure file is read: read alone they lag
 * by up to 2 s, and a 1 s window would read 0, then twice the stall. So the stall time each CPU's state has
 * gathered since the kernel last took it is added, as its collect_percpu_times() would add it: per CPU, the
 * concluded time of each state plus the time the state in progress has lasted, less what the kernel has
 * already taken (times_prev), weighted by each CPU's non-idle time (the kernel weighs by whole jiffies, this by
 * microseconds).
 *
 * Reaching each CPU's copy: psi_group.pcpu carries no __percpu tag in these kernels' BTF, so bpf_per_cpu_ptr()
 * refuses it, and per-CPU kernel symbols (runqueues, __per_cpu_offset) need kallsyms with data symbols, which a
 * kernel without CONFIG_KALLSYMS_ALL lacks. The per-CPU offsets come from a per-CPU map of our own instead: its
 * value's address on CPU n, less its per-CPU base, is CPU n's offset for every per-CPU allocation.
 *
 * Consistency without the seqcount (a member of psi_group_cpu until 6.12, a per-CPU symbol since): the writer,
 * record_times(), moves state_start before it adds to times[], and a copy reads times[] before state_start
 * (ascending addresses; x86 does not reorder loads), so a copy taken across a write can only miss time, never
 * count the state in progress twice; the agent never lets a total go backwards, so a miss is made good later. */
#ifndef CGP_PSI_BPF_H
#define CGP_PSI_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#define CGP_PSI_STATES	 8   /* room for enum psi_states (NR_PSI_STATES: 7, 8 with PSI_IRQ_FULL) */
#define CGP_PSI_CPU_READ 128 /* bytes of a struct psi_group_cpu read at once (its size on 6.1 to 6.18) */

/* One per-CPU slot: the copy of a CPU's psi_group_cpu (too large for the stack beside the sweep's own), and its
 * addresses tell each CPU's per-CPU offset (see above). */
struct cgp_psi_scratch {
	__u8 groupc[CGP_PSI_CPU_READ];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgp_psi_scratch);
} psi_scratch SEC(".maps");

/* Set at the start of each cgroup2 walk (cgp_psi_walk_start): every CPU's per-CPU offset, and the scheduler
 * clock PSI stamps its states with (cpu_clock(), not bpf_ktime_get_ns()), as of this CPU's last update. */
__u64 cgp_cpu_off[CGP_MAX_CPUS];
__u64 cgp_sched_now;

/* A pointer's value as a plain number: the verifier keeps pointer types through casts, and per-CPU addresses
 * are computed, not dereferenced. */
static __always_inline __u64 cgp_addr(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

struct cgp_off_ctx {
	__u64 base; /* percpu_probe's value as a per-CPU pointer */
};

static long walk_start_cpu(__u64 cpu, void *ctx)
{
	struct cgp_off_ctx *c = ctx;
	__u32 zero = 0;
	void *v;

	if (cpu >= CGP_MAX_CPUS)
		return 1;
	v = bpf_map_lookup_percpu_elem(&psi_scratch, &zero, cpu);
	if (v)
		cgp_cpu_off[cpu] = cgp_addr(v) - c->base;
	return 0;
}

static __always_inline void cgp_psi_walk_start(__u32 nr_cpus)
{
	struct task_struct *me = bpf_get_current_task_btf();
	struct cgp_off_ctx c = {};
	struct bpf_array *arr = (void *)&psi_scratch;

	/* the one per-CPU pointer the map keeps for its one slot */
	if (bpf_probe_read_kernel(&c.base, sizeof(c.base),
				  (void *)cgp_addr(arr) + bpf_core_field_offset(struct bpf_array, pptrs)))
		return;
	bpf_loop(nr_cpus, walk_start_cpu, &c, 0);
	/* sched_clock is one clock for all CPUs where PSI can be trusted at all (a stable TSC): this CPU's run
	 * queue's reading of it is as of its last update, a tick at most ago */
	cgp_sched_now = me->se.cfs_rq->rq->clock;
}

struct cgp_psi_acc {
	__u64 pcpu;		   /* the group's per-CPU area, as a plain address */
	__u64 sum[CGP_PSI_STATES]; /* sum over CPUs of a state's pending time x the CPU's non-idle weight */
	__u64 weight;		   /* sum of the weights */
	__u32 nstates, nonidle;	   /* NR_PSI_STATES, PSI_NONIDLE on this kernel */
};

static long psi_cpu(__u64 cpu, void *ctx)
{
	__u32 mask_off = bpf_core_field_offset(struct psi_group_cpu, state_mask);
	__u32 times_off = bpf_core_field_offset(struct psi_group_cpu, times);
	__u32 start_off = bpf_core_field_offset(struct psi_group_cpu, state_start);
	__u32 prev_off = bpf_core_field_offset(struct psi_group_cpu, times_prev); /* [PSI_AVGS] is the first row */
	__u32 size = bpf_core_type_size(struct psi_group_cpu);
	__u32 delta[CGP_PSI_STATES] = {}, mask, zero = 0;
	struct cgp_psi_acc *a = ctx;
	struct cgp_psi_scratch *sc;
	__u64 ongoing, start, w;
	__u8 *b;

	if (cpu >= CGP_MAX_CPUS)
		return 1;
	sc = bpf_map_lookup_elem(&psi_scratch, &zero); /* this CPU's: an inlined lookup */
	if (!sc)
		return 1;
	b = sc->groupc;
	if (size > CGP_PSI_CPU_READ)
		size = CGP_PSI_CPU_READ;
	if (!cgp_cpu_off[cpu] || bpf_probe_read_kernel(b, size, (void *)(a->pcpu + cgp_cpu_off[cpu])))
		return 0;
	mask = *(__u32 *)(b + (mask_off & (CGP_PSI_CPU_READ - 4)));
	start = *(__u64 *)(b + (start_off & (CGP_PSI_CPU_READ - 8)));
	ongoing = cgp_sched_now > start ? cgp_sched_now - start : 0;
#pragma unroll
	for (__u32 s = 0; s < CGP_PSI_STATES; s++) {
		__u32 t, p;
		__s32 d;

		if (s >= a->nstates)
			break;
		t = *(__u32 *)(b + ((times_off + s * 4) & (CGP_PSI_CPU_READ - 4)));
		p = *(__u32 *)(b + ((prev_off + s * 4) & (CGP_PSI_CPU_READ - 4)));
		if (mask & (1u << s))
			t += (__u32)ongoing;
		/* 32-bit, as the kernel keeps them (right across a wrap); below 0 when the kernel's last aggregation
		 * stamped a later clock than ours: nothing pending */
		d = (__s32)(t - p);
		delta[s] = d > 0 ? d : 0;
	}
	w = delta[a->nonidle & (CGP_PSI_STATES - 1)] / 1000;
#pragma unroll
	for (__u32 s = 0; s < CGP_PSI_STATES; s++)
		if (s < a->nonidle)
			a->sum[s] += (__u64)delta[s] * w;
	a->weight += w;
	return 0;
}

#define PSI_TOTAL(psi, pending, state)                                                                                 \
	((psi)->total[bpf_core_enum_value(enum psi_states, state)] +                                                   \
	 (pending)[bpf_core_enum_value(enum psi_states, state) & (CGP_PSI_STATES - 1)])

/* The cgroup's stall totals in ns, by enum cgp_psi (bpf/cgpulse.h); false when PSI is off for it. */
static __always_inline bool cgp_psi_read(struct cgroup *cgrp, __u32 nr_cpus, __u64 out[CGP_PSI_MAX])
{
	struct cgp_psi_acc a = {};
	__u64 pending[CGP_PSI_STATES];
	struct psi_group *psi;

	psi = cgrp->psi; /* NULL when PSI is off (psi=0, cgroup_disable=pressure) */
	if (!psi)
		return false;
	if (bpf_core_field_exists(psi->enabled) && !psi->enabled) /* cgroup.pressure 0 */
		return false;
	if (bpf_probe_read_kernel(&a.pcpu, sizeof(a.pcpu), &psi->pcpu) || !a.pcpu)
		return false;
	a.nstates = bpf_core_enum_value(enum psi_states, NR_PSI_STATES);
	a.nonidle = bpf_core_enum_value(enum psi_states, PSI_NONIDLE);
	/* Nothing can be pending when the group's averaging work is not queued: any state change queues it, and it
	 * queues itself again while its last period saw the group non-idle (which a state in progress makes it).
	 * An idle container then costs no per-CPU read. */
	if (!(psi->avgs_work.work.data.counter & 1)) /* WORK_STRUCT_PENDING */
		a.nstates = 0;
	if (a.nstates && a.nstates <= CGP_PSI_STATES && a.nonidle < a.nstates && cgp_sched_now)
		bpf_loop(nr_cpus, psi_cpu, &a, 0); /* else the kernel's totals are the fresh ones */
#pragma unroll
	for (__u32 s = 0; s < CGP_PSI_STATES; s++)
		pending[s] = a.weight ? a.sum[s] / a.weight : 0;
	out[CGP_PSI_IO_SOME] = PSI_TOTAL(psi, pending, PSI_IO_SOME);
	out[CGP_PSI_IO_FULL] = PSI_TOTAL(psi, pending, PSI_IO_FULL);
	out[CGP_PSI_MEM_SOME] = PSI_TOTAL(psi, pending, PSI_MEM_SOME);
	out[CGP_PSI_MEM_FULL] = PSI_TOTAL(psi, pending, PSI_MEM_FULL);
	out[CGP_PSI_CPU_SOME] = PSI_TOTAL(psi, pending, PSI_CPU_SOME);
	out[CGP_PSI_CPU_FULL] = PSI_TOTAL(psi, pending, PSI_CPU_FULL);
	return true;
}

#endif
