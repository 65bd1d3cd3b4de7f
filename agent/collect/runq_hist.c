// SPDX-License-Identifier: GPL-2.0
#include <math.h>
#include "collect/runq_hist.h"

void cgp_runq_slot_bounds_wide(unsigned i, double *lo, double *hi)
{
	*lo = ldexp(1.0, i - 1);
	*hi = ldexp(1.0, i);
}

double cgp_runq_quantile_us(const uint64_t *hist, unsigned slots, double q)
{
	uint64_t total = 0, seen = 0;
	double rank, lo, hi;

	for (unsigned i = 0; i < slots; i++)
		total += hist[i];
	if (!total)
		return 0;
	rank = q * (double)total;
	for (unsigned i = 0; i < slots; i++) {
		if (!hist[i])
			continue;
		if ((double)(seen + hist[i]) >= rank) {
			cgp_runq_slot_bounds(i, &lo, &hi);
			return lo + (hi - lo) * (rank - (double)seen) / (double)hist[i];
		}
		seen += hist[i];
	}
	cgp_runq_slot_bounds(slots - 1, &lo, &hi);
	return hi;
}

void cgp_runq_quantiles_us(const uint64_t *hist, unsigned slots, uint64_t total, const double *q, double *out,
			   unsigned n)
{
	uint64_t seen = 0;
	unsigned k = 0;
	double lo, hi;

	for (; !total && k < n; k++)
		out[k] = 0;
	for (unsigned i = 0; i < slots && k < n; i++) {
		if (!hist[i])
			continue;
		/* the quantiles that end in this slot, each as cgp_runq_quantile_us computes it */
		for (; k < n && (double)(seen + hist[i]) >= q[k] * (double)total; k++) {
			cgp_runq_slot_bounds(i, &lo, &hi);
			out[k] = lo + (hi - lo) * (q[k] * (double)total - (double)seen) / (double)hist[i];
		}
		seen += hist[i];
	}
	for (cgp_runq_slot_bounds(slots - 1, &lo, &hi); k < n; k++)
		out[k] = hi;
}
