// SPDX-License-Identifier: GPL-2.0
#include "lib/backoff.h"

void cgp_backoff_init(struct cgp_backoff *b, uint64_t min, uint64_t max, uint64_t seed)
{
	b->min = min ? min : 1;
	b->max = max < b->min ? b->min : max;
	b->cur = b->min;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static uint64_t next_rand(struct cgp_backoff *b)
{
	b->rng ^= b->rng << 13;
	b->rng ^= b->rng >> 7;
	b->rng ^= b->rng << 17;
	return b->rng;
}

uint64_t cgp_backoff_fail(struct cgp_backoff *b)
{
	uint64_t wait = b->cur / 2 + next_rand(b) % (b->cur - b->cur / 2 + 1);

	b->cur = b->cur > b->max / 2 ? b->max : b->cur * 2;
	return wait;
}

void cgp_backoff_reset(struct cgp_backoff *b)
{
	b->cur = b->min;
}
