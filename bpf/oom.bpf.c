// SPDX-License-Identifier: GPL-2.0
/* OOM kills: one ring-buffer record the moment the kernel marks a victim (oom:mark_victim). The kernel has
 * already counted the kill in the memcg's memory.events when this fires (__oom_kill_process). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"
#include "core_fixes.bpf.h"
#include "page_counter.bpf.h"

/* Set before load from sysconf(_SC_PAGESIZE). The MM_* counter indexes are an anonymous enum (no CO-RE
 * relocation possible) whose values have not changed since they were introduced. */
const volatile __u64 oom_page_size = 4096;

static __always_inline void fill_from_task(struct cgp_oom_rec *r, struct task_struct *task)
{
	struct cgroup_subsys_state *css;
	struct mm_struct *mm;
	int memcg_id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);

	r->pid = BPF_CORE_READ(task, pid);
	r->tgid = BPF_CORE_READ(task, tgid);
	BPF_CORE_READ_STR_INTO(&r->comm, task, comm);
	r->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	css = BPF_CORE_READ(task, cgroups, subsys[memcg_id]);
	if (css) {
		struct mem_cgroup *memcg = (void *)css - bpf_core_field_offset(struct mem_cgroup, css);
		unsigned long max = BPF_CORE_READ(memcg, memory.max);

		r->memcg_id = BPF_CORE_READ(css, cgroup, kn, id);
		r->memcg_v1 = BPF_CORE_READ(css, cgroup, root, hierarchy_id) != 0;
		r->mem_limit_bytes = cgp_limit_bytes(max, oom_page_size);
	}
	r->oom_score_adj = BPF_CORE_READ(task, signal, oom_score_adj);
	mm = BPF_CORE_READ(task, mm);
	if (mm) {
		r->rss_anon_bytes = cgp_get_mm_counter(mm, MM_ANONPAGES) * oom_page_size;
		r->rss_file_bytes = cgp_get_mm_counter(mm, MM_FILEPAGES) * oom_page_size;
		r->rss_shmem_bytes = cgp_get_mm_counter(mm, MM_SHMEMPAGES) * oom_page_size;
		r->pgtables_bytes = BPF_CORE_READ(mm, pgtables_bytes.counter);
	}
}

static __always_inline int emit(struct task_struct *task, __u32 pid)
{
	struct cgp_oom_rec *r = bpf_ringbuf_reserve(&oom_events, sizeof(*r), 0);

	if (!r) {
		cgp_count_drop(CGP_DROP_OOM_RINGBUF);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	r->ts_boot_ns = bpf_ktime_get_boot_ns();
	fill_from_task(r, task);
	if (pid)
		r->pid = pid;
	bpf_ringbuf_submit(r, 0);
	return 0;
}

/* Since commit 72ba14deb40a ("mm: update mark_victim tracepoints fields", v6.9, backported to the 6.1 and
 * other stable series) mark_victim passes the victim: (struct task_struct *task, uid_t uid). */
SEC("tp_btf/mark_victim")
int BPF_PROG(cgp_oom_victim, struct task_struct *task)
{
	return emit(task, 0);
}

/* Before it, only the victim's pid (the agent picks this program when the BTF says so); the OOM
 * killer runs in the allocating task, which a memcg OOM keeps inside the same memory cgroup. */
SEC("tracepoint/oom/mark_victim")
int cgp_oom_victim_pid(struct trace_event_raw_mark_victim *ctx)
{
	return emit(bpf_get_current_task_btf(), BPF_CORE_READ(ctx, pid));
}
