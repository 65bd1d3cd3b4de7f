// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "collect/pending_up.h"

void cgp_pending_up_reset(struct cgp_pending_up *p)
{
	if (p->anc)
		memset(p->anc, 0, p->cap * sizeof(*p->anc));
}

int cgp_pending_up_take(struct cgp_pending_up *p, struct cgp_cgroup_rec *r, const struct cgp_cgroup_rec *old)
{
	uint64_t dr = r->cpu_pend_rtime_ns, du = r->cpu_pend_utime_ns, ds = r->cpu_pend_stime_ns;

	if (r->level >= p->cap) {
		uint32_t cap = r->level + 16;
		struct cgp_cgroup_rec **a = realloc(p->anc, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		memset(a + p->cap, 0, (cap - p->cap) * sizeof(*a));
		p->anc = a;
		p->cap = cap;
	}
	p->anc[r->level] = r;
	if (old) { /* what the first copy gave them is taken back: modulo 2^64, the sums come out right */
		dr -= old->cpu_pend_rtime_ns;
		du -= old->cpu_pend_utime_ns;
		ds -= old->cpu_pend_stime_ns;
	}
	if (!(dr | du | ds) || !(r->flags & CGP_REC_CPUTIME))
		return 0;
	/* level 0 is the root, whose figures are the whole system's (not read) */
	for (uint32_t l = 1; l < r->level; l++) {
		struct cgp_cgroup_rec *a = p->anc[l];

		if (!a || !(a->flags & CGP_REC_CPUTIME))
			continue;
		a->cpu_rtime_ns += dr;
		a->cpu_utime_ns += du;
		a->cpu_stime_ns += ds;
	}
	return 0;
}

void cgp_pending_up_free(struct cgp_pending_up *p)
{
	free(p->anc);
	p->anc = NULL;
	p->cap = 0;
}
