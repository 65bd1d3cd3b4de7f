/* SPDX-License-Identifier: GPL-2.0 */
/* Quantiles of a log2 run-queue wait histogram (slot 0: < 1 us; slot i: [2^(i-1), 2^i) us). Pure. */
#ifndef CGP_RUNQ_HIST_H
#define CGP_RUNQ_HIST_H

#include <stdint.h>

/* q in (0, 1]; linear interpolation inside the slot; 0 when the histogram is empty. */
double cgp_runq_quantile_us(const uint64_t *hist, unsigned slots, double q);
/* Several quantiles (q[] ascending) in one pass over the histogram, total its sum: out[k] is exactly
 * cgp_runq_quantile_us(hist, slots, q[k]). */
void cgp_runq_quantiles_us(const uint64_t *hist, unsigned slots, uint64_t total, const double *q, double *out,
			   unsigned n);
/* Slot bounds beyond 2^63 us (never with CGP_RUNQ_SLOTS): ldexp. */
void cgp_runq_slot_bounds_wide(unsigned i, double *lo, double *hi);

/* Lower and upper bound in microseconds of slot i. Inline: called per sample and per slot of a store's histogram.
 * Powers of two are exact doubles: the same values as ldexp(1.0, i), without a libm call per slot. */
static inline void cgp_runq_slot_bounds(unsigned i, double *lo, double *hi)
{
	if (i >= 64) {
		cgp_runq_slot_bounds_wide(i, lo, hi);
		return;
	}
	*lo = i ? (double)(1ULL << (i - 1)) : 0.0;
	*hi = (double)(1ULL << i);
}

#endif
