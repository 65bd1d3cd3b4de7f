// SPDX-License-Identifier: GPL-2.0
/* One sweep of every cgroup: a cgroup iterator walks a hierarchy and writes one struct cgp_cgroup_rec per
 * cgroup into the sweep_records ring buffer: CPU figures summed over CPUs in the kernel (cgroup v2 hierarchy), memory
 * usage, limit and the kernel's own OOM-kill count read straight from the memcg, and the CPU limit from the
 * task group's CFS bandwidth (whichever hierarchies carry the memory and cpu controllers). The agent runs it
 * with one read() and drains the ring, instead of reading 4 files per cgroup, and limits come with every sweep at no
 * extra cost. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "page_counter.bpf.h"

const volatile __u64 iter_page_size = 4096;
const volatile __u32 iter_nr_cpus = 1;

#define CGP_MAX_CPUS 1024

static __always_inline void read_cpu(struct cgp_cgroup_rec *rec)
{
	struct cgp_runq *r;
	struct cgp_cpu *c;
	__u32 slot, *s;

	s = bpf_map_lookup_elem(&cgroup_slot, &rec->cgroup_id);
	if (!s)
		return;
	slot = *s;
	for (__u32 cpu = 0; cpu < CGP_MAX_CPUS && cpu < iter_nr_cpus; cpu++) {
		c = bpf_map_lookup_percpu_elem(&cgroup_cpu, &slot, cpu);
		if (!c || c->cgroup_id != rec->cgroup_id) /* never used by this owner on that CPU */
			continue;
		rec->cpu_ns += c->cpu_ns;
		rec->voluntary_switches += c->voluntary_switches;
		rec->involuntary_switches += c->involuntary_switches;
		rec->runq_delay_ns += c->runq_delay_ns;
		rec->reclaim_ns += c->reclaim_ns;
		rec->reclaims += c->reclaims;
	}
	r = bpf_map_lookup_elem(&cgroup_runq, &slot);
	if (r && r->cgroup_id == rec->cgroup_id)
		for (int i = 0; i < CGP_RUNQ_SLOTS; i++) /* low 32 bits: the agent takes deltas modulo 2^32 */
			rec->runq_waits[i] = r->waits[i];
	rec->flags |= CGP_REC_CPU;
}

static __always_inline void read_mem(struct cgp_cgroup_rec *rec, struct cgroup *cgrp, int dfl)
{
	int memcg_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup_subsys_state *css;
	struct mem_cgroup *memcg;
	unsigned long max;

	css = cgrp->subsys[memcg_id]; /* a relocated constant index: a direct read */
	if (!css)		      /* controller not enabled on this cgroup */
		return;
	memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
	rec->mem_bytes = BPF_CORE_READ(memcg, memory.usage.counter) * iter_page_size;
	max = BPF_CORE_READ(memcg, memory.max);
	rec->mem_limit_bytes = cgp_limit_bytes(max, iter_page_size);
	rec->oom_kills =
	    BPF_CORE_READ(memcg, memory_events[bpf_core_enum_value(enum memcg_memory_event, MEMCG_OOM_KILL)].counter);
	rec->flags |= CGP_REC_MEM | (dfl ? 0 : CGP_REC_MEM_V1);
}

static __always_inline void read_cpu_max(struct cgp_cgroup_rec *rec, struct cgroup *cgrp)
{
	int cpu_id = bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id);
	struct cgroup_subsys_state *css;
	struct task_group *tg;
	__u64 quota;

	css = cgrp->subsys[cpu_id];
	if (!css)
		return;
	tg = (void *)css - bpf_core_field_offset(struct task_group, css);
	quota = BPF_CORE_READ(tg, cfs_bandwidth.quota);
	rec->cpu_period_us = (__u64)BPF_CORE_READ(tg, cfs_bandwidth.period) / 1000; /* ktime_t is signed */
	rec->cpu_quota_us = quota == ~0ULL ? 0 : quota / 1000;			    /* RUNTIME_INF: no limit */
	rec->flags |= CGP_REC_CPU_MAX;
}

SEC("iter/cgroup")
int cgp_cg_stats(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;
	struct cgp_cgroup_rec rec = {};
	int dfl;

	if (!cgrp)
		return 0;
	/* ctx->cgroup is a trusted BTF pointer: direct reads, no probe-read helper calls */
	dfl = cgrp->root->hierarchy_id == 0;
	rec.cgroup_id = cgrp->kn->id;
	rec.level = cgrp->level;
	if (dfl) {
		rec.flags |= CGP_REC_DFL;
		read_cpu(&rec);
	}
	read_mem(&rec, cgrp, dfl);
	read_cpu_max(&rec, cgrp);
	/* no wakeup: the agent drains the ring itself as soon as the walk returns */
	if (bpf_ringbuf_output(&sweep_records, &rec, sizeof(rec), BPF_RB_NO_WAKEUP) != 0)
		cgp_count_drop(CGP_DROP_SWEEP_FULL);
	return 0;
}
