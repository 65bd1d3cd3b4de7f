/* SPDX-License-Identifier: GPL-2.0 */
/* CO-RE shims, one per kernel change, each citing the kernel commit it bridges (as bcc libbpf-tools'
 * core_fixes.bpf.h). vmlinux.h comes from a newer kernel than some we run on, so an older layout is declared
 * here under a ___flavour name and libbpf picks the one the running kernel has at load.
 *
 * Kernel differences bridged elsewhere, because the choice is a whole program the agent loads or skips:
 * mark_victim's arguments (bpf/oom.bpf.c) and the optional memcg reclaim tracepoints (bpf/reclaim.bpf.c). */
#ifndef CGP_CORE_FIXES_BPF_H
#define CGP_CORE_FIXES_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* commit f1a7941243c1 ("mm: convert mm's rss stats into percpu_counter", v6.2): mm->rss_stat was a
 * struct mm_rss_stat holding an array of atomics before, and is an array of percpu_counters since. */
struct mm_rss_stat___old {
	atomic_long_t count[4];
};
struct mm_struct___old {
	struct mm_rss_stat___old rss_stat;
};

/* Pages in one MM_* counter of mm, as get_mm_counter() reads them, never negative. */
static __always_inline __u64 cgp_get_mm_counter(struct mm_struct *mm, int member)
{
	struct mm_struct___old *old = (void *)mm;
	long v;

	/* the flavored name: vmlinux.h (a newer kernel) has no struct mm_rss_stat, and an undefined type never
	 * matches the kernel's, so the plain name would read "absent" on every kernel */
	if (bpf_core_type_exists(struct mm_rss_stat___old))
		v = BPF_CORE_READ(old, rss_stat.count[member].counter);
	else
		v = BPF_CORE_READ(mm, rss_stat[member].count); /* percpu_counter_read_positive() */
	return v > 0 ? v : 0;
}

/* How many leading entries of memcg_vmstats.state[] the sweep reads in one go: enough for every index below
 * (the shortest state[] seen, 6.12, holds 38). */
#define CGP_MEMCG_STATE_CHUNK 32 /* a power of two: indices are masked for the verifier */

/* commit 14e0f6c957e3 ("memcg: reduce memory for the lruvec and memcg stats", v6.11): memcg_vmstats.state[] is
 * indexed by an item's position in the kernel's memcg_node_stat_items[] table, no longer by its value in enum
 * node_stat_item, and shrank to the items memcg keeps (that table is static data, not in BTF). The table's
 * first 17 entries have kept their order since (checked against memory.stat on 6.12 and 6.18): inactive_anon,
 * active_anon, inactive_file (2), active_file, unevictable, slab x2, workingset x7, anon_mapped (14),
 * file_mapped, file_pages (16). Before it, state[] held every enum memcg_stat_item (MEMCG_NR_STAT entries), so
 * a shorter array says which indexing the running kernel uses. (memcg_vmstats has been a pointer in struct
 * mem_cgroup since "memcg: extract memcg_vmstats from struct mem_cgroup", v6.1, cgpulse's minimum.) */
#define CGP_DENSE_INACTIVE_FILE 2
#define CGP_DENSE_ANON_MAPPED	14
#define CGP_DENSE_FILE_PAGES	16

struct cgp_memcg_stat_idx {
	__u32 inactive_file, anon, file;
};

/* The indices of inactive_file, anon and file in memcg_vmstats.state[]; false when they are not known. */
static __always_inline bool cgp_memcg_stat_index(struct cgp_memcg_stat_idx *ix)
{
	__u64 nr_stat = bpf_core_enum_value(enum memcg_stat_item, MEMCG_NR_STAT);

	if (!bpf_core_field_exists(struct memcg_vmstats, state) || !nr_stat)
		return false;
	if (bpf_core_field_size(struct memcg_vmstats, state) < nr_stat * sizeof(long)) {
		ix->inactive_file = CGP_DENSE_INACTIVE_FILE;
		ix->anon = CGP_DENSE_ANON_MAPPED;
		ix->file = CGP_DENSE_FILE_PAGES;
	} else {
		ix->inactive_file = bpf_core_enum_value(enum node_stat_item, NR_INACTIVE_FILE);
		ix->anon = bpf_core_enum_value(enum node_stat_item, NR_ANON_MAPPED);
		ix->file = bpf_core_enum_value(enum node_stat_item, NR_FILE_PAGES);
	}
	return ix->inactive_file < CGP_MEMCG_STATE_CHUNK && ix->anon < CGP_MEMCG_STATE_CHUNK &&
	       ix->file < CGP_MEMCG_STATE_CHUNK;
}

/* The rstat flush, a kfunc for sleepable tracing programs since "cgroup: bpf: enable bpf programs to integrate
 * with rstat" (v6.1): cgroup_rstat_flush(struct cgroup *) until v6.16 gave each subsystem its own rstat tree
 * ("cgroup: change rstat function signatures from cgroup-based to css-based"), flushed per css with
 * css_rstat_flush(css) (the base stats: the cgroup's own css). Hashes not confirmed here. Weak: the agent loads
 * only the program whose kfunc the running kernel has. */
extern void cgroup_rstat_flush(struct cgroup *cgrp) __ksym __weak;
extern void css_rstat_flush(struct cgroup_subsys_state *css) __ksym __weak;

/* MEMCG_OOM_GROUP_KILL: "mm/memcg: add oom_group_kill memory event" (v5.16; hash not confirmed here). An
 * older kernel has no such counter: its value is absent, never 0. */
static __always_inline bool cgp_has_oom_group_kill(void)
{
	return bpf_core_enum_value_exists(enum memcg_memory_event, MEMCG_OOM_GROUP_KILL);
}

#endif
