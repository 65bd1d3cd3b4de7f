// SPDX-License-Identifier: GPL-2.0
/* The spool keeps samples and other events in two seq-ordered queues, so "drop the oldest sample" and "ack up
 * to seq" are both O(1) per event, and sending merges the two queues by seq. */
#include "events/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum { Q_SAMPLE, Q_OTHER, Q_N };

struct queue {
	struct cgp_spool_entry *e;
	size_t cap, head, n;
	size_t sent; /* entries [head, head + sent) were handed out since the last rewind */
};

struct cgp_spool {
	size_t max_bytes, max_events;
	size_t bytes;
	uint64_t last_seq;
	struct queue q[Q_N];
	struct cgp_spool_drops drops;
	struct cgp_spool_stats st;
};

static struct cgp_spool_entry *at(const struct queue *q, size_t i)
{
	return &q->e[(q->head + i) % q->cap];
}

static int queue_grow(struct queue *q)
{
	size_t cap = q->cap ? q->cap * 2 : 64;
	struct cgp_spool_entry *e = malloc(cap * sizeof(*e));

	if (!e)
		return -ENOMEM;
	for (size_t i = 0; i < q->n; i++)
		e[i] = *at(q, i);
	free(q->e);
	q->e = e;
	q->cap = cap;
	q->head = 0;
	return 0;
}

static void queue_pop(struct cgp_spool *sp, struct queue *q)
{
	struct cgp_spool_entry *e = at(q, 0);

	sp->bytes -= e->len;
	free(e->data);
	q->head = (q->head + 1) % q->cap;
	q->n--;
	if (q->sent)
		q->sent--;
}

struct cgp_spool *cgp_spool_new(size_t max_bytes, size_t max_events)
{
	struct cgp_spool *sp;

	if (!max_bytes && !max_events)
		return NULL;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->max_bytes = max_bytes ? max_bytes : SIZE_MAX;
	sp->max_events = max_events ? max_events : SIZE_MAX;
	return sp;
}

void cgp_spool_free(struct cgp_spool *sp)
{
	if (!sp)
		return;
	for (int i = 0; i < Q_N; i++) {
		while (sp->q[i].n)
			queue_pop(sp, &sp->q[i]);
		free(sp->q[i].e);
	}
	free(sp);
}

static void drop_oldest(struct cgp_spool *sp)
{
	int k = sp->q[Q_SAMPLE].n ? Q_SAMPLE : Q_OTHER;
	uint64_t seq = at(&sp->q[k], 0)->seq;

	if (!sp->drops.samples && !sp->drops.others)
		sp->drops.first_seq = seq;
	if (seq < sp->drops.first_seq)
		sp->drops.first_seq = seq;
	if (seq > sp->drops.last_seq)
		sp->drops.last_seq = seq;
	if (k == Q_SAMPLE) {
		sp->drops.samples++;
		sp->st.dropped_samples_total++;
	} else {
		sp->drops.others++;
		sp->st.dropped_others_total++;
	}
	queue_pop(sp, &sp->q[k]);
}

int cgp_spool_push(struct cgp_spool *sp, uint64_t seq, bool is_sample, const void *data, size_t len)
{
	struct queue *q = &sp->q[is_sample ? Q_SAMPLE : Q_OTHER];
	struct cgp_spool_entry *e;

	if (seq <= sp->last_seq)
		return -EINVAL;
	if (len > sp->max_bytes)
		return -E2BIG;
	uint8_t *copy = malloc(len ? len : 1);

	if (!copy)
		return -ENOMEM;
	if (q->n == q->cap && queue_grow(q)) {
		free(copy);
		return -ENOMEM;
	}
	while (sp->q[Q_SAMPLE].n + sp->q[Q_OTHER].n >= sp->max_events || sp->max_bytes - sp->bytes < len)
		drop_oldest(sp);
	memcpy(copy, data, len);
	e = at(q, q->n);
	e->seq = seq;
	e->data = copy;
	e->len = len;
	q->n++;
	sp->bytes += len;
	sp->last_seq = seq;
	sp->st.pushed_total++;
	return 0;
}

size_t cgp_spool_ack(struct cgp_spool *sp, uint64_t acked_seq)
{
	size_t released = 0;

	if (acked_seq > sp->st.acked_seq)
		sp->st.acked_seq = acked_seq;
	for (int i = 0; i < Q_N; i++) {
		struct queue *q = &sp->q[i];

		while (q->n && at(q, 0)->seq <= acked_seq) {
			queue_pop(sp, q);
			released++;
		}
	}
	sp->st.acked_total += released;
	return released;
}

void cgp_spool_rewind(struct cgp_spool *sp)
{
	for (int i = 0; i < Q_N; i++)
		sp->q[i].sent = 0;
}

static int next_queue(const struct cgp_spool *sp)
{
	const struct queue *s = &sp->q[Q_SAMPLE], *o = &sp->q[Q_OTHER];
	bool hs = s->sent < s->n, ho = o->sent < o->n;

	if (hs && ho)
		return at(s, s->sent)->seq < at(o, o->sent)->seq ? Q_SAMPLE : Q_OTHER;
	return hs ? Q_SAMPLE : ho ? Q_OTHER : -1;
}

const struct cgp_spool_entry *cgp_spool_peek_unsent(const struct cgp_spool *sp)
{
	int k = next_queue(sp);

	return k < 0 ? NULL : at(&sp->q[k], sp->q[k].sent);
}

void cgp_spool_mark_sent(struct cgp_spool *sp)
{
	int k = next_queue(sp);

	if (k >= 0)
		sp->q[k].sent++;
}

uint64_t cgp_spool_base_seq(const struct cgp_spool *sp)
{
	uint64_t base = sp->last_seq + 1;

	for (int i = 0; i < Q_N; i++)
		if (sp->q[i].n && at(&sp->q[i], 0)->seq < base)
			base = at(&sp->q[i], 0)->seq;
	return base;
}

bool cgp_spool_has_drops(const struct cgp_spool *sp)
{
	return sp->drops.samples || sp->drops.others;
}

bool cgp_spool_take_drops(struct cgp_spool *sp, struct cgp_spool_drops *out)
{
	if (!sp->drops.samples && !sp->drops.others)
		return false;
	*out = sp->drops;
	memset(&sp->drops, 0, sizeof(sp->drops));
	return true;
}

void cgp_spool_get_stats(const struct cgp_spool *sp, struct cgp_spool_stats *st)
{
	*st = sp->st;
	st->events = sp->q[Q_SAMPLE].n + sp->q[Q_OTHER].n;
	st->bytes = sp->bytes;
}
