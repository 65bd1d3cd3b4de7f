/* SPDX-License-Identifier: GPL-2.0 */
/* A sweep in passes: sweep_records is small, so a walk whose records do not fit stops at the first cgroup it
 * cannot write (the program returns 1: the cgroup iterator ends the walk there), the agent drains the ring and
 * walks again, and that walk skips what the earlier ones wrote.
 *
 * The place is kept by serial number, not by pointer or id (the walk drops cgroup_mutex between passes, and the
 * cgroup it stopped at may be gone by the next): the kernel appends a new cgroup to its parent's children with a
 * serial_nr larger than any before (struct cgroup_subsys_state, "used to allow interrupting and resuming
 * iterations"), so a pre-order walk meets cgroups in the order of their ancestors' serial numbers read from the
 * top as words. A cgroup that sorts before the place was written by an earlier pass; one made since at a place
 * already passed waits for the next sweep, as one made just after this sweep would. Cgroups deeper than the
 * place keeps are compared on its levels only: those may be written twice, never left out (the agent keeps the
 * later record). */
#ifndef CGP_SWEEP_PASS_BPF_H
#define CGP_SWEEP_PASS_BPF_H

#include "vmlinux.h"
#include "maps.bpf.h"

#define CGP_PLACE_LEVELS 32 /* levels of the place kept (a power of 2) */
#define CGP_PLACE_WALK	 64 /* a cgroup deeper than this is written rather than compared */

/* Where the last pass stopped: the serial numbers of the first cgroup it did not write and of its ancestors,
 * by level (index level - 1), down to place_level. */
__u64 sweep_place[CGP_PLACE_LEVELS];
__u32 sweep_place_level;
bool sweep_skip;     /* set by the agent for a pass that goes on from sweep_place; cleared once past it */
bool sweep_stopped;  /* set here when a pass stopped at a full ring: the agent drains it and walks again */
__u32 sweep_written; /* records this pass wrote (the agent zeroes it before each pass) */

/* True only when cgrp surely sorts before the place, that is, an earlier pass wrote it. */
static __always_inline bool cgp_pass_written_before(struct cgroup *cgrp)
{
	struct cgroup_subsys_state *css = &cgrp->self;
	__u32 level = cgrp->level, place = sweep_place_level;
	bool before = level < place; /* when every level kept is equal: its ancestor (written), itself or below */

	if (level > CGP_PLACE_WALK)
		return false;
	for (__u32 i = 0; i < CGP_PLACE_WALK && css; i++) {
		__u32 l = level - i;
		__u64 s, p;

		if (l == 0)
			break;
		if (l <= place) {
			s = css->serial_nr;
			p = sweep_place[(l - 1) & (CGP_PLACE_LEVELS - 1)];
			if (s != p) /* the highest level that differs decides: it is met last going up */
				before = s < p;
		}
		css = css->parent;
	}
	return before;
}

/* Keeps cgrp as the place the next pass starts from. False when that is where this pass started (a cgroup
 * deeper than the levels kept, whose ring-full of records sat below the same place): no progress, so the
 * record is dropped (and counted) instead of walking again forever. */
static __always_inline bool cgp_pass_keep_place(struct cgroup *cgrp)
{
	struct cgroup_subsys_state *css = &cgrp->self;
	__u32 level = cgrp->level;
	__u32 keep = level < CGP_PLACE_LEVELS ? level : CGP_PLACE_LEVELS;
	bool moved = keep != sweep_place_level;

	if (level > CGP_PLACE_WALK)
		return false;
	for (__u32 i = 0; i < CGP_PLACE_WALK && css; i++) {
		__u32 l = level - i;
		__u64 s;

		if (l == 0)
			break;
		if (l <= keep) {
			s = css->serial_nr;
			moved |= sweep_place[(l - 1) & (CGP_PLACE_LEVELS - 1)] != s;
			sweep_place[(l - 1) & (CGP_PLACE_LEVELS - 1)] = s;
		}
		css = css->parent;
	}
	sweep_place_level = keep;
	return moved;
}

#endif
