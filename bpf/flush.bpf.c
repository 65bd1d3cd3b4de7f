// SPDX-License-Identifier: GPL-2.0
/* Has the kernel fold in the cgroups' pending per-CPU base stats (the CPU time cpu.stat prints as usage_usec,
 * user_usec and system_usec) before each sweep, as reading a cgroup's cpu.stat would for its subtree. The agent
 * runs it once per sweep on the cgroup2 root (a cgroup iterator over that one cgroup); sleepable, because the
 * flush may sleep. One of the two is loaded, by the name the running kernel gives the flush (core_fixes.bpf.h). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include "core_fixes.bpf.h"

SEC("iter.s/cgroup")
int cgp_flush_css(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;

	/* the base stats hang off the cgroup's own css, its first member */
	if (cgrp)
		css_rstat_flush((struct cgroup_subsys_state *)cgrp);
	return 0;
}

SEC("iter.s/cgroup")
int cgp_flush_cgrp(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;

	if (cgrp)
		cgroup_rstat_flush(cgrp);
	return 0;
}
