/* SPDX-License-Identifier: GPL-2.0 */
/* Which figures this kernel can give, read from its BTF at start, so that a figure the sweep leaves absent on
 * this kernel is said once in the log rather than found missing later. The BPF side decides the same with CO-RE
 * (bpf/core_fixes.bpf.h) and never fails to load for it. */
#ifndef CGP_FEATURES_H
#define CGP_FEATURES_H

#include <stdbool.h>

struct btf;

struct cgp_features {
	bool memcg_stats;    /* working set, anon, file, inactive_file (memcg_vmstats.state[]) */
	bool oom_group_kill; /* memory.events oom_group_kill */
	bool psi;	     /* pressure stall information is on (/proc/pressure exists) */
};

/* Fills f from the kernel's BTF and logs one line per figure it lacks. */
void cgp_features_check(const struct btf *vmlinux, struct cgp_features *f);

#endif
