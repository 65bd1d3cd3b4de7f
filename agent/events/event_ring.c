// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "events/event_ring.h"

/* Events up to this size are copied into one circular byte buffer instead of a malloc each (a malloc and a free
 * per sample were most of a push); a larger one (never a sample) gets its own. */
#define RING_SLACK (16u << 10)

/* Invariant: every held seq is above evicted_upto, so "gone" is one comparison.
 *
 * The buffer holds the bytes of the events of up to `slack` bytes, in push order, each in one piece: an event that
 * does not fit before the end starts over at 0, leaving the end unused. Its size is max_bytes + slack, so once the
 * byte bound made room an event always fits: with W the end left unused (W < slack, an earlier event did not fit
 * there) and H the bytes held (<= max_bytes - len), the free run is at least size - W - H > len. It is mapped
 * whole but costs only the pages written so far: what has been held, as the mallocs it replaced did. */
struct cgp_event_ring {
	struct cgp_ring_event *ev; /* circular, cap slots: grown as events are held, up to max_events */
	size_t cap, max_events, max_bytes;
	size_t head, count, bytes;  /* head: oldest held */
	uint8_t *buf;		    /* mapped at the first push */
	size_t size, slack;	    /* of buf; the largest event it takes */
	size_t wr, in_buf, touched; /* next write offset; events held in buf; high-water mark of what was written */
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
	r->slack = max_bytes < RING_SLACK ? max_bytes : RING_SLACK;
	r->size = max_bytes + r->slack;
	return r;
}

static struct cgp_ring_event *at(const struct cgp_event_ring *r, size_t i)
{
	return &r->ev[(r->head + i) % r->cap];
}

static bool in_buf(const struct cgp_event_ring *r, const struct cgp_ring_event *e)
{
	return r->buf && e->len && (uintptr_t)e->data - (uintptr_t)r->buf < r->size;
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
	if (in_buf(r, e))
		r->in_buf--;
	else if (e->len)
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
	if (r->buf)
		munmap(r->buf, r->size);
	free(r);
}

/* Where len bytes go in buf, or SIZE_MAX when the free run is too short. */
static size_t place(const struct cgp_event_ring *r, size_t len)
{
	size_t tail = 0;

	if (!r->in_buf)
		return 0;
	for (size_t i = 0; i < r->count; i++) /* the oldest event in buf: the oldest held, but for a large one */
		if (in_buf(r, at(r, i))) {
			tail = (size_t)(at(r, i)->data - r->buf);
			break;
		}
	if (r->wr > tail)
		return r->size - r->wr >= len ? r->wr : tail >= len ? 0 : SIZE_MAX;
	return r->wr < tail && tail - r->wr >= len ? r->wr : SIZE_MAX;
}

/* The event's own copy: in buf, or for a large one a malloc. NULL when out of memory. */
static uint8_t *copy_of(struct cgp_event_ring *r, const void *data, size_t len)
{
	uint8_t *copy;
	size_t off;

	if (len > r->slack) {
		copy = malloc(len);
		if (copy)
			memcpy(copy, data, len);
		return copy;
	}
	if (!r->buf) {
		void *m =
		    mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (m == MAP_FAILED)
			return NULL;
		r->buf = m;
	}
	while ((off = place(r, len)) == SIZE_MAX) /* never, by the buffer's size; kept safe anyway */
		evict_oldest(r);
	copy = r->buf + off;
	memcpy(copy, data, len);
	r->wr = off + len;
	if (r->wr > r->touched)
		r->touched = r->wr;
	r->in_buf++;
	return copy;
}

static uint8_t empty[1]; /* where an empty event points */

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
	while (r->count && (r->count == r->max_events || r->bytes + len > r->max_bytes))
		evict_oldest(r);
	if (r->count == r->cap && grow(r))
		return -ENOMEM;
	copy = len ? copy_of(r, data, len) : empty;
	if (!copy)
		return -ENOMEM;
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
	st->touched = (r->touched + 4095) & ~(size_t)4095;
}
