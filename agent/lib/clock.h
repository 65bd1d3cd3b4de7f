/* SPDX-License-Identifier: GPL-2.0 */
/* Clocks in nanoseconds: wall time for events, monotonic for intervals. */
#ifndef CGP_CLOCK_H
#define CGP_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t cgp_clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t cgp_wall_ns(void)
{
	return cgp_clock_ns(CLOCK_REALTIME);
}

static inline uint64_t cgp_mono_ns(void)
{
	return cgp_clock_ns(CLOCK_MONOTONIC);
}

#endif
