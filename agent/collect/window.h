/* SPDX-License-Identifier: GPL-2.0 */
/* One interval's figures from the kernel's running totals: the difference between this sweep's record of a
 * cgroup and the last one's. Pure arithmetic, tested on its own (tests/unit/test_window.c). */
#ifndef CGP_WINDOW_H
#define CGP_WINDOW_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/types.h>
#include "cgpulse.h"
#include "collect/cputime.h"
#include "collect/sample.h"

/* The totals a window is measured from: what the previous sweep read and reported. */
struct cgp_totals {
	uint64_t cpu_ns;
	uint64_t oom_kills;
	uint32_t runq[CGP_RUNQ_SLOTS]; /* low 32 bits, as the kernel's record carries them */
	uint64_t cpu_periods, cpu_throttled_periods, cpu_throttled_ns;
	struct cgp_cputime cputime;   /* user and system as reported (they are scaled, never going backwards) */
	uint64_t psi_ns[CGP_PSI_MAX]; /* as reported: the larger of what was read and what was reported before */
};

/* Moves t on to the record r: t holds the totals of the sweep before r's (all zero before a cgroup's first), and
 * then r's, as that sweep's sample reported them. */
void cgp_totals_of(const struct cgp_cgroup_rec *r, struct cgp_totals *t);

/* Fills s from the record cur and the previous sweep's totals (NULL: the cgroup's first sweep, so the window
 * holds everything since the cgroup's first event). A total that went backwards (the kernel side started the
 * cgroup over, e.g. after its slot was taken back) counts from zero; the 32-bit run-queue counts are taken
 * modulo 2^32, so a wrap is no jump. Measures every metric (collect/measure.h) against cpu_limit_cores and
 * the node. */
void cgp_window_sample(struct cgp_sample *s, uint64_t cgroup_id, const struct cgp_cgroup_rec *cur,
		       const struct cgp_totals *prev, double cpu_limit_cores, double window_s, uint64_t now_ns,
		       const struct cgp_node *node);

#endif
