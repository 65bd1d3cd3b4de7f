/* SPDX-License-Identifier: GPL-2.0 */
/* The most recent encoded events, kept in memory for HTTP stream consumers (GET /v1/events?since=SEQ): a
 * bounded ring (by event count and by bytes) keyed by seq. A consumer asks for what follows the seq it saw
 * last; when some of that has already been pushed out, the ring says which seqs are gone, so the consumer
 * gets a Gap event instead of a silent jump. Pure data structure, no I/O. */
#ifndef CGP_EVENT_RING_H
#define CGP_EVENT_RING_H

#include <stddef.h>
#include <stdint.h>

struct cgp_ring_event {
	uint64_t seq;
	uint8_t *data; /* one serialized cgpulse.v1.Event */
	size_t len;
};

struct cgp_event_ring_stats {
	size_t events, bytes;	/* held now */
	uint64_t first_seq;	/* oldest held, 0 when empty */
	uint64_t last_seq;	/* newest ever pushed, 0 before the first push */
	uint64_t evicted_total; /* pushed out to make room */
	uint64_t evicted_upto;	/* highest seq pushed out, 0 when none */
	size_t touched; /* pages of the event buffer written so far: its RSS (the whole ring once it went round) */
};

struct cgp_event_ring;

/* Holds at most max_events events and max_bytes bytes of event data (both > 0). NULL when out of memory. */
struct cgp_event_ring *cgp_event_ring_new(size_t max_events, size_t max_bytes);
void cgp_event_ring_free(struct cgp_event_ring *r);

/* Copies one encoded event (into the ring's own buffer: no allocation per event), evicting the oldest as needed. seq
 * must be above every seq pushed before
 * (-EINVAL); an event larger than max_bytes can never be held (-E2BIG: it counts as evicted, so a consumer
 * waiting for it gets a Gap); -ENOMEM. */
int cgp_event_ring_push(struct cgp_event_ring *r, uint64_t seq, const void *data, size_t len);

enum cgp_ring_result {
	CGP_RING_WAIT,	/* nothing after that seq yet */
	CGP_RING_EVENT, /* *ev is the first held event with seq > after */
	CGP_RING_GAP,	/* seqs *gap_first..*gap_last (all > after) were pushed out before this consumer got them */
};

/* What a consumer that has seen every seq up to `after` gets next. A GAP comes before the events held
 * after it: the consumer sets after = *gap_last and asks again. *ev stays valid until the next push. */
enum cgp_ring_result cgp_event_ring_since(const struct cgp_event_ring *r, uint64_t after,
					  const struct cgp_ring_event **ev, uint64_t *gap_first, uint64_t *gap_last);

void cgp_event_ring_get_stats(const struct cgp_event_ring *r, struct cgp_event_ring_stats *st);

#endif
