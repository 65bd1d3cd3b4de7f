// SPDX-License-Identifier: GPL-2.0
/* One sweep of every cgroup: a cgroup iterator walks a hierarchy and writes one struct cgp_cgroup_rec per
 * cgroup into the sweep_records ring buffer: CPU figures summed over CPUs in the kernel (cgroup v2 hierarchy), memory
 * usage, limit, swap, the memory.events counters and the memory.stat figures read straight from the memcg, and
 * the CPU limit from the task group's CFS bandwidth (whichever hierarchies carry the memory and cpu
 * controllers). The agent runs it with one read() and drains the ring, instead of reading several files per
 * cgroup, and limits come with every sweep at no extra cost. A walk with more records than the ring holds goes
 * on in further passes (bpf/sweep_pass.bpf.h). A record carries only the blocks of fields its hierarchy can fill
 * (bpf/cgpulse.h, cgp_rec_bytes): the ring's lines are written fresh each sweep, here and again in the agent. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "page_counter.bpf.h"
#include "core_fixes.bpf.h"
#include "psi.bpf.h"
#include "sweep_pass.bpf.h"
#include "sweep_hint.bpf.h"

/* What a record's figures cost, for tools/bench/sweep_split.sh only: built with -DCGP_SWEEP_LEAVE_OUT=mask, the
 * sweep leaves out those reads (the record keeps its size), and the bench compares the iterator's run time per
 * record. 0 in every real build: the tests below fold away. */
#ifndef CGP_SWEEP_LEAVE_OUT
#define CGP_SWEEP_LEAVE_OUT 0
#endif
#define LEAVE_OUT(piece)  (CGP_SWEEP_LEAVE_OUT & (piece))
#define CGP_LEAVE_PSI	  1  /* pressure: cgp_psi_read */
#define CGP_LEAVE_CPU	  2  /* the per-CPU figures of bpf/cpu.bpf.c's maps: read_cpu */
#define CGP_LEAVE_CPUTIME 4  /* user and system time: read_cputime */
#define CGP_LEAVE_MEMFIG  8  /* memory.events and memory.stat's figures: read_mem_figures */
#define CGP_LEAVE_MEM	  16 /* all of memory: read_mem */
#define CGP_LEAVE_CPU_MAX 32 /* the CPU limit and bandwidth: read_cpu_max */

const volatile __u64 iter_page_size = 4096;
const volatile __u32 iter_nr_cpus = 1;
/* Set by the agent when it has the kernel flush the cgroups' base stats before each walk (bpf/flush.bpf.c):
 * without a flush they can be arbitrarily old, so user and system time are then left absent. */
const volatile bool iter_cputime_flushed = false;
/* Set by the agent before each walk of a v1 cpu hierarchy (hybrid hosts): when false, only the cgroups with a CPU
 * quota are written, those whose throttling can move; the others' figures cannot move without a quota, and come
 * with every walk that has it true (every 10th sweep, and when cgroups appeared). */
bool iter_cpu_all = true;

/* The hierarchy this pass walks, taken from its root at the pass's first cgroup: whether it is cgroup v2, and
 * which controllers it carries (cgroup_root.subsys_mask). A cgroup's figures are spread over many cache lines
 * and the misses are what a record costs: reading these once per pass spares each cgroup the line holding its
 * root pointer, and the lines of subsys[] slots a controller the hierarchy lacks would leave NULL anyway. */
bool walk_dfl;
__u32 walk_ss_mask;
__u32 walk_layout; /* the blocks its records carry (enum cgp_rec_layout) */

static __always_inline bool walk_has(int ss_id)
{
	return walk_ss_mask & (1u << (ss_id & 31));
}

/* Room for the reads of a memcg's arrays, too large for the stack beside the rest of a record's work: the
 * vmstats pointer and memory_events[] read as one block (events aliases its tail), and a span of state[]. */
struct cgp_mem_scratch {
	union {
		long block[32];
		struct {
			long vmstats;
			long events[31];
		};
	};
	long state[CGP_MEMCG_STATE_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgp_mem_scratch);
} mem_scratch SEC(".maps");

static __always_inline void read_cpu(struct cgp_cgroup_rec *rec, struct cgroup *cgrp, __u64 id, struct cgp_id_hint *h)
{
	__u64 cpu_ns = 0, vol = 0, invol = 0, delay = 0, rc_ns = 0, rcs = 0;
	struct cgp_runq *r;
	struct cgp_cpu *c;
	__u32 slot;

	r = cgp_hint_slot(cgrp, id, h, &slot);
	if (!r)
		return;
	for (__u32 cpu = 0; cpu < CGP_MAX_CPUS && cpu < iter_nr_cpus; cpu++) {
		c = bpf_map_lookup_percpu_elem(&cgroup_cpu, &slot, cpu);
		if (!c || c->cgroup_id != id) /* never used by this owner on that CPU */
			continue;
		cpu_ns += c->cpu_ns;
		vol += c->voluntary_switches;
		invol += c->involuntary_switches;
		delay += c->runq_delay_ns;
		rc_ns += c->reclaim_ns;
		rcs += c->reclaims;
	}
	/* summed in registers, stored once: the record is ring buffer memory */
	rec->cpu_ns = cpu_ns;
	rec->voluntary_switches = vol;
	rec->involuntary_switches = invol;
	rec->runq_delay_ns = delay;
	rec->reclaim_ns = rc_ns;
	rec->reclaims = rcs;
	if (r->cgroup_id == id)
		for (int i = 0; i < CGP_RUNQ_SLOTS; i++) /* low 32 bits: the agent takes deltas modulo 2^32 */
			rec->runq_waits[i] = r->waits[i];
	rec->flags |= CGP_REC_CPU;
}

static __always_inline __u32 max_u32(__u32 a, __u32 b)
{
	return a > b ? a : b;
}

static __always_inline __u64 pages(long v)
{
	return v > 0 ? (__u64)v * iter_page_size : 0; /* per-CPU batching can leave a flushed total below 0 */
}

/* memory.events: the memcg's memory_events[] (ev). Which counters a v1 hierarchy or an older kernel lacks is for
 * the agent to say (flags), not a 0 here. */
static __always_inline void take_mem_events(__u32 *flags, struct cgp_cgroup_rec *rec, const long *ev, int dfl)
{
	rec->mem_events[CGP_MEM_EV_HIGH] = ev[bpf_core_enum_value(enum memcg_memory_event, MEMCG_HIGH) & 15];
	rec->mem_events[CGP_MEM_EV_MAX] = ev[bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX) & 15];
	rec->mem_events[CGP_MEM_EV_OOM] = ev[bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM) & 15];
	rec->mem_events[CGP_MEM_EV_OOM_KILL] = ev[bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL) & 15];
	if (cgp_has_oom_group_kill() && dfl) { /* v1 has no memory.oom.group */
		rec->mem_events[CGP_MEM_EV_OOM_GROUP_KILL] =
		    ev[bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_GROUP_KILL) & 15];
		*flags |= CGP_REC_MEM_GROUP_KILL;
	}
	rec->oom_kills = rec->mem_events[CGP_MEM_EV_OOM_KILL];
}

/* The highest index in memory_events[] take_mem_events reads. */
static __always_inline __u32 mem_events_used(void)
{
	__u32 hi = bpf_core_enum_value(enum memcg_memory_event, MEMCG_HIGH);

	hi = max_u32(hi, bpf_core_enum_value(enum memcg_memory_event, MEMCG_MAX));
	hi = max_u32(hi, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM));
	hi = max_u32(hi, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL));
	if (cgp_has_oom_group_kill())
		hi = max_u32(hi, bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_GROUP_KILL));
	return hi & 15;
}

/* anon, file and inactive_file from the memcg's flushed stats (memory.stat's source; the agent has the kernel
 * flush them before the walk): the span of state[] from the lowest of the three to the highest, in one read. */
static __always_inline void read_mem_stat(__u32 *flags, struct cgp_cgroup_rec *rec, const struct memcg_vmstats *vm,
					  struct cgp_mem_scratch *sc)
{
	struct cgp_memcg_stat_idx ix;
	__u32 lo, hi;

	if (!vm || !cgp_memcg_stat_index(&ix))
		return;
	lo = ix.inactive_file < ix.anon ? ix.inactive_file : ix.anon;
	lo = lo < ix.file ? lo : ix.file;
	hi = ix.inactive_file > ix.anon ? ix.inactive_file : ix.anon;
	hi = hi > ix.file ? hi : ix.file;
	if (hi >= CGP_MEMCG_STATE_CHUNK || lo > hi)
		return;
	if (bpf_probe_read_kernel(sc->state, ((hi - lo + 1) & (CGP_MEMCG_STATE_CHUNK - 1)) * sizeof(long),
				  (void *)vm + bpf_core_field_offset(struct memcg_vmstats, state) + lo * sizeof(long)))
		return;
	/* the verifier wants the bounds it cannot see through cgp_memcg_stat_index */
	rec->mem_inactive_file_bytes = pages(sc->state[(ix.inactive_file - lo) & (CGP_MEMCG_STATE_CHUNK - 1)]);
	rec->mem_anon_bytes = pages(sc->state[(ix.anon - lo) & (CGP_MEMCG_STATE_CHUNK - 1)]);
	rec->mem_file_bytes = pages(sc->state[(ix.file - lo) & (CGP_MEMCG_STATE_CHUNK - 1)]);
	*flags |= CGP_REC_MEM_STAT;
}

/* The vmstats pointer and memory_events[] are neighbours in struct mem_cgroup (6.1 to 6.18): one read for both,
 * else two. */
static __always_inline void read_mem_figures(__u32 *flags, struct cgp_cgroup_rec *rec, struct mem_cgroup *memcg,
					     int dfl, struct cgp_mem_scratch *sc)
{
	__u32 vm_off = bpf_core_field_offset(struct mem_cgroup, vmstats);
	__u32 ev_off = bpf_core_field_offset(struct mem_cgroup, memory_events);
	__u32 ev_size = bpf_core_field_size(struct mem_cgroup, memory_events);
	__u32 ev_used = (mem_events_used() + 1) * sizeof(long);
	struct memcg_vmstats *vm = NULL;

	/* only as far as the last counter taken: the tail (swap events, 6.18) sits on the next cache line */
	if (ev_size > ev_used)
		ev_size = ev_used;
	if (ev_size > 16 * sizeof(long)) /* 9 counters in 6.1 to 6.18 */
		ev_size = 16 * sizeof(long);
	__builtin_memset(sc->block, 0, sizeof(sc->block));
	if (ev_off == vm_off + sizeof(void *)) {
		if (bpf_probe_read_kernel(sc->block, (sizeof(void *) + ev_size) & (sizeof(sc->block) - 1),
					  (void *)memcg + vm_off))
			return;
		vm = (struct memcg_vmstats *)sc->block[0];
	} else {
		vm = BPF_CORE_READ(memcg, vmstats);
		if (bpf_probe_read_kernel(sc->events, ev_size, (void *)memcg + ev_off))
			return;
	}
	take_mem_events(flags, rec, sc->events, dfl);
	read_mem_stat(flags, rec, vm, sc);
}

/* flags: the record's; rec: where its memory block's fields are (see write_rec) */
static __always_inline void read_mem(__u32 *flags, struct cgp_cgroup_rec *rec, struct cgroup *cgrp, int dfl)
{
	int memcg_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;
	struct cgp_mem_scratch *sc;
	struct mem_cgroup *memcg;
	unsigned long max;
	long usage, swap;
	__u32 zero = 0;

	if (!walk_has(memcg_id)) /* not on this hierarchy */
		return;
	css = cgrp->subsys[memcg_id]; /* a relocated constant index: a direct read */
	sc = bpf_map_lookup_elem(&mem_scratch, &zero);
	if (!css || !sc) /* controller not enabled on this cgroup */
		return;
	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	usage = BPF_CORE_READ(memcg, memory.usage.counter);
	rec->mem_bytes = pages(usage);
	max = BPF_CORE_READ(memcg, memory.max);
	rec->mem_limit_bytes = cgp_limit_bytes(max, iter_page_size);
	/* one union: the swap counter on v2 (memory.swap.current), memory + swap on v1 (memory.memsw.usage) */
	swap = BPF_CORE_READ(memcg, swap.usage.counter);
	rec->mem_swap_bytes = pages(dfl ? swap : swap - usage);
	if (!LEAVE_OUT(CGP_LEAVE_MEMFIG))
		read_mem_figures(flags, rec, memcg, dfl, sc);
	*flags |= CGP_REC_MEM | (dfl ? 0 : CGP_REC_MEM_V1);
}

/* nr_periods, nr_throttled (ints) and throttled_time sit together in cfs_bandwidth: one read for the three */
static __always_inline void read_bandwidth(struct cgp_cgroup_rec *rec, void *cfs_b)
{
	__u32 first = bpf_core_field_offset(struct cfs_bandwidth, nr_periods);
	__u32 thr = bpf_core_field_offset(struct cfs_bandwidth, nr_throttled) - first;
	__u32 tt = bpf_core_field_offset(struct cfs_bandwidth, throttled_time) - first;
	__u64 buf[4] = {};

	if (thr > sizeof(buf) - sizeof(int) || tt > sizeof(buf) - sizeof(__u64) || tt % 8) {
		/* a layout that does not fit the block: three reads */
		rec->cpu_periods = (__u32)BPF_CORE_READ((struct cfs_bandwidth *)cfs_b, nr_periods);
		rec->cpu_throttled_periods = (__u32)BPF_CORE_READ((struct cfs_bandwidth *)cfs_b, nr_throttled);
		rec->cpu_throttled_ns = BPF_CORE_READ((struct cfs_bandwidth *)cfs_b, throttled_time);
		return;
	}
	if (bpf_probe_read_kernel(buf, sizeof(buf), cfs_b + first))
		return;
	rec->cpu_periods = *(__u32 *)buf;
	rec->cpu_throttled_periods = *(__u32 *)((char *)buf + (thr & 28));
	rec->cpu_throttled_ns = buf[(tt / 8) & 3];
}

/* User and system time as cpu.stat has them (not for the root: its cpu.stat is the whole system's). */
static __always_inline void read_cputime(struct cgp_cgroup_rec *rec, struct cgroup *cgrp)
{
	if (!iter_cputime_flushed || !cgrp->level)
		return;
	/* a trusted pointer: direct reads */
	rec->cpu_rtime_ns = cgrp->bstat.cputime.sum_exec_runtime;
	rec->cpu_utime_ns = cgrp->bstat.cputime.utime;
	rec->cpu_stime_ns = cgrp->bstat.cputime.stime;
	rec->flags |= CGP_REC_CPUTIME;
}

/* flags: the record's; rec: where its cpu block's fields are (see write_rec) */
static __always_inline void read_cpu_max(__u32 *flags, struct cgp_cgroup_rec *rec, struct cgroup *cgrp)
{
	int cpu_id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
	struct cgroup_subsys_state *css;
	struct task_group *tg;
	__u64 quota, shares;

	if (!walk_has(cpu_id)) /* not on this hierarchy */
		return;
	css = cgrp->subsys[cpu_id];
	if (!css)
		return;
	tg = (void *)css - bpf_core_field_offset(struct task_group, css);
	quota = BPF_CORE_READ(tg, cfs_bandwidth.quota);
	rec->cpu_period_us = (__u64)BPF_CORE_READ(tg, cfs_bandwidth.period) / 1000; /* ktime_t is signed */
	rec->cpu_quota_us = quota == ~0ULL ? 0 : quota / 1000;			    /* RUNTIME_INF: no limit */
	shares = BPF_CORE_READ(tg, shares) >> 10; /* scale_load_down() on 64-bit: SCHED_FIXEDPOINT_SHIFT */
	rec->cpu_shares = shares ? (shares < 2 ? 2 : shares) : 0;
	read_bandwidth(rec, (void *)tg + bpf_core_field_offset(struct task_group, cfs_bandwidth));
	*flags |= CGP_REC_CPU_MAX;
}

/* A cgroup of a v1 hierarchy that carries the cpu controller but not memory, without a CPU quota: nothing of it
 * can have moved since the last walk that wrote every cgroup (see iter_cpu_all). */
static __always_inline bool skip_v1_cpu(struct cgroup *cgrp)
{
	int cpu_id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
	struct cgroup_subsys_state *cpu;
	struct task_group *tg;

	/* a v1 hierarchy gives every cgroup a css of each controller it carries */
	if (walk_dfl || !walk_has(cpu_id) || walk_has(bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)))
		return false;
	cpu = cgrp->subsys[cpu_id];
	if (!cpu)
		return false;
	tg = (void *)cpu - bpf_core_field_offset(struct task_group, css);
	return BPF_CORE_READ(tg, cfs_bandwidth.quota) == ~0ULL; /* RUNTIME_INF */
}

/* One record of the blocks layout names, written in place (a record is larger than what the stack should hold
 * beside the reads' buffers). Each block's fields are reached through a view of the whole struct placed so that
 * they land where the block sits in this record; layout is a constant at each call, so the offsets are. */
static __always_inline int write_rec(struct bpf_iter__cgroup *ctx, struct cgroup *cgrp, const __u32 layout)
{
	const __u32 mem_at = CGP_REC_HEAD_BYTES + (layout & CGP_REC_HAS_V2 ? CGP_REC_V2_BYTES : 0);
	const __u32 cpu_at = mem_at + (layout & CGP_REC_HAS_MEM ? CGP_REC_MEM_BYTES : 0);
	struct cgp_cgroup_rec *rec;
	int dfl = layout & CGP_REC_HAS_V2;
	struct cgp_id_hint *h;
	__u64 id;
	void *p;

	p = bpf_ringbuf_reserve(&sweep_records, cgp_rec_bytes(layout), 0);
	if (!p) {
		/* full: stop here (1 ends the walk), the agent drains the ring and walks on from this cgroup */
		if (sweep_written && cgp_pass_keep_place(cgrp)) {
			sweep_stopped = true;
			return 1;
		}
		cgp_count_drop(CGP_DROP_SWEEP_FULL);
		return 0;
	}
	sweep_written++;
	__builtin_memset(p, 0, cgp_rec_bytes(layout));
	rec = p;
	/* ctx->cgroup is a trusted BTF pointer: direct reads, no probe-read helper calls */
	h = cgp_hint_id(cgrp, dfl ? CGP_HINT_DFL : layout & CGP_REC_HAS_MEM ? CGP_HINT_V1MEM : CGP_HINT_NONE, &id);
	rec->cgroup_id = id;
	rec->level = cgrp->level;
	rec->flags = layout;
	if (dfl) {			     /* the cgroup v2 block sits where it does in the whole struct */
		if (ctx->meta->seq_num == 0) /* the walk's first cgroup: per-CPU offsets and the clock, once */
			cgp_psi_walk_start(iter_nr_cpus);
		rec->flags |= CGP_REC_DFL;
		if (!LEAVE_OUT(CGP_LEAVE_CPU))
			read_cpu(rec, cgrp, id, h);
		if (!LEAVE_OUT(CGP_LEAVE_CPUTIME))
			read_cputime(rec, cgrp);
		/* not for the root: its pressure is the whole system's (/proc/pressure, which the agent reads) */
		if (!LEAVE_OUT(CGP_LEAVE_PSI) && cgrp->level && cgp_psi_read(cgrp, iter_nr_cpus, rec->psi_ns))
			rec->flags |= CGP_REC_PSI;
	}
	if (layout & CGP_REC_HAS_MEM && !LEAVE_OUT(CGP_LEAVE_MEM))
		read_mem(&rec->flags, p + mem_at - __builtin_offsetof(struct cgp_cgroup_rec, mem_bytes), cgrp, dfl);
	if (layout & CGP_REC_HAS_CPU_MAX && !LEAVE_OUT(CGP_LEAVE_CPU_MAX))
		read_cpu_max(&rec->flags, p + cpu_at - __builtin_offsetof(struct cgp_cgroup_rec, cpu_quota_us), cgrp);
	/* no wakeup: the agent drains the ring itself as soon as the walk returns */
	bpf_ringbuf_submit(p, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("iter/cgroup")
int cgp_cg_stats(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;

	if (!cgrp)
		return 0;
	if (ctx->meta->seq_num == 0) { /* the pass's first cgroup: every cgroup of the walk has its root */
		walk_dfl = cgrp->root->hierarchy_id == 0;
		walk_ss_mask = cgrp->root->subsys_mask;
		walk_layout =
		    (walk_dfl ? CGP_REC_HAS_V2 : 0) |
		    (walk_has(bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)) ? CGP_REC_HAS_MEM : 0) |
		    (walk_has(bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id)) ? CGP_REC_HAS_CPU_MAX : 0);
	}
	if (ctx->meta->seq_num == 0 && !sweep_skip) /* the walk's first pass */
		cgp_hint_walk_start();
	if (sweep_skip) { /* a further pass: what the earlier ones wrote comes first */
		if (cgp_pass_written_before(cgrp))
			return 0;
		sweep_skip = false;
	}
	if (!iter_cpu_all && skip_v1_cpu(cgrp))
		return 0;
	/* one call a layout: each writes its own constant size */
	switch (walk_layout) {
	case CGP_REC_HAS_V2:
		return write_rec(ctx, cgrp, CGP_REC_HAS_V2);
	case CGP_REC_HAS_V2 | CGP_REC_HAS_MEM:
		return write_rec(ctx, cgrp, CGP_REC_HAS_V2 | CGP_REC_HAS_MEM);
	case CGP_REC_HAS_V2 | CGP_REC_HAS_CPU_MAX:
		return write_rec(ctx, cgrp, CGP_REC_HAS_V2 | CGP_REC_HAS_CPU_MAX);
	case CGP_REC_HAS_V2 | CGP_REC_HAS_MEM | CGP_REC_HAS_CPU_MAX:
		return write_rec(ctx, cgrp, CGP_REC_HAS_V2 | CGP_REC_HAS_MEM | CGP_REC_HAS_CPU_MAX);
	case CGP_REC_HAS_MEM:
		return write_rec(ctx, cgrp, CGP_REC_HAS_MEM);
	case CGP_REC_HAS_CPU_MAX:
		return write_rec(ctx, cgrp, CGP_REC_HAS_CPU_MAX);
	case CGP_REC_HAS_MEM | CGP_REC_HAS_CPU_MAX:
		return write_rec(ctx, cgrp, CGP_REC_HAS_MEM | CGP_REC_HAS_CPU_MAX);
	default: /* a v1 hierarchy with neither: nothing of it is read */
		return write_rec(ctx, cgrp, 0);
	}
}
