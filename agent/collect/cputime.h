/* SPDX-License-Identifier: GPL-2.0 */
/* User and system time as cpu.stat prints them: the kernel samples which of the two a tick fell in, and its
 * cputime_adjust() (kernel/sched/cputime.c) scales those samples so that they add up to the precise run time,
 * never letting either go backwards. The same arithmetic, on the same three figures. Pure. */
#ifndef CGP_CPUTIME_H
#define CGP_CPUTIME_H

#include <stdint.h>

/* What was last reported (the kernel's struct prev_cputime); all zero before the first report. */
struct cgp_cputime {
	uint64_t user_ns, system_ns;
};

/* rtime: sum_exec_runtime; utime, stime: the tick-sampled times (all ns). Returns the scaled pair and leaves
 * *prev untouched: the caller keeps what it reports as the next prev. */
struct cgp_cputime cgp_cputime_adjust(uint64_t rtime, uint64_t utime, uint64_t stime, const struct cgp_cputime *prev);

#endif
