// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "events/event_ring.h"

/* Invariant: every held seq is above evicted_upto, so "gone" is one comparison. */
struct cgp_event_ring {
	struct cgp_ring_event *ev; /* circular, cap slots: grown as events are held, up to max_events */
	size_t cap, max_events, max_bytes;
	size_t head, count, bytes; /* head: oldest held */
	uint64_t last_seq, evicted_upto, evicted_total;
};

struct cgp_event_ring *cgp_event_ring_new(size_t max_events, size_t max_bytes)
{
	struct cgp_event_ring *r;

	if (!max_events || !max_bytes)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->max_events = max_events;
	r->max_bytes = max_bytes;
	return r;
}

static struct cgp_ring_event *at(const struct cgp_event_ring *r, size_t i)
{
	return &r->ev[(r->head + i) % r->cap];
}

/* The slots grow with what is held: the byte bound usually binds first (1 MiB is ~4,400 sample events), and
 * every slot of a full-size index would be touched as the ring goes round (16,384 slots: 384 KiB of RSS). */
static int grow(struct cgp_event_ring *r)
{
	size_t cap = r->cap ? 2 * r->cap : 64;
	struct cgp_ring_event *ev;

	if (cap > r->max_events)
		cap = r->max_events;
	ev = malloc(cap * sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	for (size_t i = 0; i < r->count; i++)
		ev[i] = *at(r, i);
	free(r->ev);
	r->ev = ev;
	r->cap = cap;
	r->head = 0;
	return 0;
}

static void evict_oldest(struct cgp_event_ring *r)
{
	struct cgp_ring_event *e = at(r, 0);

	r->evicted_upto = e->seq;
	r->evicted_total++;
	r->bytes -= e->len;
	free(e->data);
	e->data = NULL;
	r->head = (r->head + 1) % r->cap;
	r->count--;
}

void cgp_event_ring_free(struct cgp_event_ring *r)
{
	if (!r)
		return;
	while (r->count)
		evict_oldest(r);
	free(r->ev);
	free(r);
}

int cgp_event_ring_push(struct cgp_event_ring *r, uint64_t seq, const void *data, size_t len)
{
	struct cgp_ring_event *e;
	uint8_t *copy;

	if (seq <= r->last_seq)
		return -EINVAL;
	if (len > r->max_bytes) {
		/* everything older goes too, to keep the invariant; events this large do not happen in practice */
		while (r->count)
			evict_oldest(r);
		r->last_seq = r->evicted_upto = seq;
		r->evicted_total++;
		return -E2BIG;
	}
	copy = malloc(len ? len : 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, data, len);
	while (r->count && (r->count == r->max_events || r->bytes + len > r->max_bytes))
		evict_oldest(r);
	if (r->count == r->cap && grow(r)) {
		free(copy);
		return -ENOMEM;
	}
	e = at(r, r->count);
	e->seq = seq;
	e->data = copy;
	e->len = len;
	r->count++;
	r->bytes += len;
	r->last_seq = seq;
	return 0;
}

enum cgp_ring_result cgp_event_ring_since(const struct cgp_event_ring *r, uint64_t after,
					  const struct cgp_ring_event **ev, uint64_t *gap_first, uint64_t *gap_last)
{
	size_t lo = 0, hi = r->count;

	if (r->evicted_upto > after) {
		*gap_first = after + 1;
		*gap_last = r->evicted_upto;
		return CGP_RING_GAP;
	}
	/* first held seq > after; seqs increase, usually by one, but a binary search does not rely on it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (at(r, mid)->seq <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == r->count)
		return CGP_RING_WAIT;
	*ev = at(r, lo);
	return CGP_RING_EVENT;
}

void cgp_event_ring_get_stats(const struct cgp_event_ring *r, struct cgp_event_ring_stats *st)
{
	st->events = r->count;
	st->bytes = r->bytes;
	st->first_seq = r->count ? at(r, 0)->seq : 0;
	st->last_seq = r->last_seq;
	st->evicted_total = r->evicted_total;
	st->evicted_upto = r->evicted_upto;
}
