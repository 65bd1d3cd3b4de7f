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

#endif
