/* SPDX-License-Identifier: GPL-2.0 */
/* Exponential backoff with jitter for a client that retries a peer: each failure waits a time drawn from
 * [cur/2, cur] and doubles cur up to max; a success starts again from min. Pure: the caller owns the clock. */
#ifndef CGP_BACKOFF_H
#define CGP_BACKOFF_H

#include <stdint.h>

struct cgp_backoff {
	uint64_t min, max, cur; /* any unit, as long as it is one */
	uint64_t rng;		/* xorshift state, never 0 */
};

/* seed: anything that differs between processes that must not retry in lockstep (0 is replaced). */
void cgp_backoff_init(struct cgp_backoff *b, uint64_t min, uint64_t max, uint64_t seed);
/* A failure: how long to wait before the next try. */
uint64_t cgp_backoff_fail(struct cgp_backoff *b);
/* A success: the next failure waits from min again. */
void cgp_backoff_reset(struct cgp_backoff *b);

#endif
