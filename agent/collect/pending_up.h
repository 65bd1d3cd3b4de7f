/* SPDX-License-Identifier: GPL-2.0 */
/* User and system time without a flush: the sweep reads each cgroup's flushed base stats plus its own time not
 * yet flushed (bpf/sweep.bpf.c read_cputime), and a cgroup's figures, as cpu.stat has them, hold its
 * descendants' time too. A flush would fold each cgroup's pending time into every ancestor's; this does the same
 * with the records. The cgroup v2 walk is pre-order, so a cgroup's ancestors came before it, and the last record
 * taken at each level above it is its ancestor there. */
#ifndef CGP_PENDING_UP_H
#define CGP_PENDING_UP_H

#include <stdint.h>
#include <linux/types.h>
#include "cgpulse.h"

struct cgp_pending_up {
	struct cgp_cgroup_rec **anc; /* by level: the last record taken at it in this walk */
	uint32_t cap;
};

/* Before a walk: no ancestors known. */
void cgp_pending_up_reset(struct cgp_pending_up *p);
/* r was just taken (and is kept where it is until the walk ends); old: the pending time of the record it
 * replaced in the same walk (a cgroup written twice, deeper than the walk's place keeps), else NULL. Adds r's
 * pending time to each ancestor's figures. 0 or -ENOMEM (r's time then stays out of its ancestors'). */
int cgp_pending_up_take(struct cgp_pending_up *p, struct cgp_cgroup_rec *r, const struct cgp_cgroup_rec *old);
void cgp_pending_up_free(struct cgp_pending_up *p);

#endif
