// SPDX-License-Identifier: GPL-2.0
/* Per instance, the spool keeps samples and other events in two seq-ordered queues, so "drop the oldest sample"
 * and "ack up to seq" are both O(1) per event, and sending merges the two queues by seq. Instances are kept
 * oldest first, ours last: previous instances' events are sent first and dropped first. */
#include "events/spool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "events/spool_queue.h"

enum { Q_SAMPLE, Q_OTHER, Q_N };

#define STATE_EVERY_NS 1000000000ULL /* acks alone save the state at most once a second */

struct stream {
	char id[CGP_JOURNAL_ID_MAX];
	struct cgp_sq q[Q_N];
	uint64_t last_seq, acked_seq;
	uint64_t dropped_upto[Q_N];  /* every event of that kind up to this seq was acknowledged or dropped */
	uint64_t replayed_upto[Q_N]; /* the last one taken back from the spool directory */
	uint64_t disk_last;	     /* the highest seq met in the spool directory */
	struct cgp_spool_drops drops;
	bool lost;
};

struct cgp_spool {
	size_t max_bytes, max_events;
	size_t bytes, events;
	struct stream **s; /* oldest first; s[ns - 1] is ours */
	size_t ns;
	struct cgp_spool_entry peeked;
	struct cgp_sq *peeked_q; /* the queue peeked from; forgotten by every call that changes the queues */
	struct cgp_spool_stats st;
	struct cgp_journal *j;
	bool state_dirty, drops_dirty, reap;
	uint64_t state_saved_ns;
	struct cgp_spool_previous prev;
};

static struct stream *own(const struct cgp_spool *sp)
{
	return sp->s[sp->ns - 1];
}

static struct stream *find(const struct cgp_spool *sp, const char *id)
{
	/* ours is asked for most: look from the end */
	for (size_t i = sp->ns; i-- > 0;)
		if (!strcmp(sp->s[i]->id, id))
			return sp->s[i];
	return NULL;
}

static size_t stream_events(const struct stream *s)
{
	return s->q[Q_SAMPLE].n + s->q[Q_OTHER].n;
}

static void stream_free(struct stream *s)
{
	for (int k = 0; k < Q_N; k++)
		cgp_sq_free(&s->q[k]);
	free(s);
}

/* A new stream of a previous instance, placed before ours. */
static struct stream *stream_add(struct cgp_spool *sp, const char *id)
{
	struct stream *s, **a;

	if (strlen(id) >= CGP_JOURNAL_ID_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	a = realloc(sp->s, (sp->ns + 1) * sizeof(*a));
	if (!s || !a) {
		free(s);
		if (a)
			sp->s = a;
		return NULL;
	}
	sp->s = a;
	strcpy(s->id, id);
	a[sp->ns] = a[sp->ns - 1];
	a[sp->ns - 1] = s;
	sp->ns++;
	return s;
}

/* A previous instance with nothing left to send or report is forgotten. */
static void stream_forget_if_done(struct cgp_spool *sp, struct stream *s)
{
	if (s == own(sp) || stream_events(s) || s->drops.samples || s->drops.others)
		return;
	for (size_t i = 0; i < sp->ns; i++)
		if (sp->s[i] == s) {
			memmove(&sp->s[i], &sp->s[i + 1], (sp->ns - i - 1) * sizeof(*sp->s));
			sp->ns--;
			break;
		}
	stream_free(s);
	sp->state_dirty = true;
}

struct cgp_spool *cgp_spool_new(const char *instance_id, size_t max_bytes, size_t max_events)
{
	struct cgp_spool *sp;

	if ((!max_bytes && !max_events) || !instance_id || strlen(instance_id) >= CGP_JOURNAL_ID_MAX)
		return NULL;
	sp = calloc(1, sizeof(*sp));
	if (!sp)
		return NULL;
	sp->s = calloc(1, sizeof(*sp->s));
	if (sp->s)
		sp->s[0] = calloc(1, sizeof(**sp->s));
	if (!sp->s || !sp->s[0]) {
		free(sp->s);
		free(sp);
		return NULL;
	}
	sp->ns = 1;
	strcpy(sp->s[0]->id, instance_id);
	sp->max_bytes = max_bytes ? max_bytes : SIZE_MAX;
	sp->max_events = max_events ? max_events : SIZE_MAX;
	return sp;
}

static void save_state(struct cgp_spool *sp, uint64_t now_ns);

void cgp_spool_free(struct cgp_spool *sp)
{
	if (!sp)
		return;
	if (sp->j) {
		cgp_journal_flush(sp->j);
		save_state(sp, 0);
		cgp_journal_sync(sp->j, true, 0);
		cgp_journal_close(sp->j);
	}
	for (size_t i = 0; i < sp->ns; i++)
		stream_free(sp->s[i]);
	free(sp->s);
	free(sp);
}

/* ---- the journal's side -------------------------------------------------------------------------------- */

static void save_state(struct cgp_spool *sp, uint64_t now_ns)
{
	struct cgp_journal_state *st = calloc(sp->ns, sizeof(*st));

	if (!st)
		return; /* saved on a later turn */
	for (size_t i = 0; i < sp->ns; i++) {
		const struct stream *s = sp->s[i];

		strcpy(st[i].instance_id, s->id);
		st[i].last_seq = s->last_seq;
		st[i].acked_seq = s->acked_seq;
		st[i].samples_dropped_upto = s->dropped_upto[Q_SAMPLE];
		st[i].others_dropped_upto = s->dropped_upto[Q_OTHER];
		st[i].unreported_samples = s->drops.samples;
		st[i].unreported_others = s->drops.others;
		st[i].unreported_first = s->drops.first_seq;
		st[i].unreported_last = s->drops.last_seq;
		st[i].lost = s->lost;
	}
	if (!cgp_journal_save_state(sp->j, own(sp)->id, st, sp->ns)) {
		sp->state_dirty = sp->drops_dirty = false;
		sp->state_saved_ns = now_ns;
	}
	free(st);
}

/* Segments whose records are all released are deleted, but only once the state saying why (acknowledged, or
 * dropped and not yet reported) is on disk: a restart must never meet a hole nobody accounts for. */
static void reap(struct cgp_spool *sp)
{
	if (!sp->reap)
		return;
	save_state(sp, sp->state_saved_ns);
	cgp_journal_reap(sp->j);
	sp->reap = false;
}

static void pop(struct cgp_spool *sp, struct stream *s, int k)
{
	struct cgp_sq *q = &s->q[k];
	uint32_t seg = cgp_sq_head(q)->seg;
	size_t before = q->bytes;

	cgp_sq_pop(q);
	sp->bytes -= before - q->bytes;
	sp->events--;
	if (seg && sp->j && cgp_journal_release(sp->j, seg))
		sp->reap = true;
}

/* Drops the oldest sample of the oldest instance that has one, else the oldest other event. False: empty. */
static bool drop_oldest(struct cgp_spool *sp)
{
	struct stream *s = NULL;
	int k = Q_SAMPLE;
	uint64_t seq;

	for (int kk = 0; kk < Q_N && !s; kk++)
		for (size_t i = 0; i < sp->ns && !s; i++)
			if (sp->s[i]->q[kk].n) {
				s = sp->s[i];
				k = kk;
			}
	if (!s)
		return false;
	seq = cgp_sq_head(&s->q[k])->seq;
	if (!s->drops.samples && !s->drops.others)
		s->drops.first_seq = seq;
	if (seq < s->drops.first_seq)
		s->drops.first_seq = seq;
	if (seq > s->drops.last_seq)
		s->drops.last_seq = seq;
	if (k == Q_SAMPLE) {
		s->drops.samples++;
		sp->st.dropped_samples_total++;
	} else {
		s->drops.others++;
		sp->st.dropped_others_total++;
	}
	s->dropped_upto[k] = seq;
	sp->drops_dirty = true;
	pop(sp, s, k);
	return true;
}

static bool disk_full(struct cgp_spool *sp, size_t more)
{
	struct cgp_journal_stats js;

	if (!sp->j)
		return false;
	cgp_journal_get_stats(sp->j, &js);
	return js.bytes + more > sp->max_bytes;
}

/* Drops until size more bytes fit in memory (and disk more on disk). */
static void make_room(struct cgp_spool *sp, size_t size, size_t disk)
{
	if (sp->j && cgp_journal_has_dead(sp->j)) {
		sp->reap = true;
		reap(sp);
	}
	while (sp->events >= sp->max_events || sp->max_bytes - sp->bytes < size || (disk && disk_full(sp, disk))) {
		if (!drop_oldest(sp))
			break;
		reap(sp);
	}
}

static int queue_push(struct cgp_spool *sp, struct stream *s, uint64_t seq, bool is_sample, uint32_t seg,
		      const void *data, size_t len)
{
	struct cgp_sq *q = &s->q[is_sample ? Q_SAMPLE : Q_OTHER];
	size_t before = q->bytes;
	int err = cgp_sq_push(q, seq, seg, data, len);

	if (err)
		return err;
	sp->bytes += q->bytes - before;
	sp->events++;
	if (seq > s->last_seq)
		s->last_seq = seq;
	return 0;
}

static void replay_state(void *ctx, const struct cgp_journal_state *st)
{
	struct cgp_spool *sp = ctx;
	struct stream *s = find(sp, st->instance_id);

	if (!s)
		s = stream_add(sp, st->instance_id);
	if (!s || s == own(sp))
		return;
	s->last_seq = st->last_seq;
	s->acked_seq = st->acked_seq;
	s->dropped_upto[Q_SAMPLE] = st->samples_dropped_upto;
	s->dropped_upto[Q_OTHER] = st->others_dropped_upto;
	s->drops.samples = st->unreported_samples;
	s->drops.others = st->unreported_others;
	s->drops.first_seq = st->unreported_first;
	s->drops.last_seq = st->unreported_last;
	s->lost = st->lost;
}

static bool replay_event(void *ctx, const char *id, uint64_t seq, bool is_sample, const void *data, size_t len,
			 uint32_t seg)
{
	struct cgp_spool *sp = ctx;
	struct stream *s = find(sp, id);
	int k = is_sample ? Q_SAMPLE : Q_OTHER;

	if (!s)
		s = stream_add(sp, id);
	if (!s || s == own(sp))
		return false;
	if (seq > s->disk_last)
		s->disk_last = seq;
	if (seq <= s->acked_seq || seq <= s->dropped_upto[k])
		return false; /* acknowledged or dropped before the restart */
	if (seq <= s->replayed_upto[k])
		return false; /* out of order: a copy, or damage the checksum did not catch */
	make_room(sp, cgp_sq_push_cost(&s->q[k], len), 0);
	if (queue_push(sp, s, seq, is_sample, seg, data, len))
		return false;
	s->replayed_upto[k] = seq;
	cgp_journal_hold(sp->j, seg);
	sp->st.replayed++;
	return true;
}

int cgp_spool_open_dir(struct cgp_spool *sp, const char *dir, char *why, size_t whylen)
{
	struct cgp_journal_visitor v = {.state = replay_state, .event = replay_event, .ctx = sp};
	struct cgp_journal_stats js;
	size_t seg = sp->max_bytes / 16;
	struct stream *prev = NULL;
	int err;

	sp->peeked_q = NULL;
	if (sp->max_bytes == SIZE_MAX)
		return -EINVAL;
	if (seg > (4u << 20))
		seg = 4u << 20;
	if (seg < 4096)
		seg = 4096;
	err = cgp_journal_open(&sp->j, dir, seg, why, whylen);
	if (err)
		return err;
	cgp_journal_replay(sp->j, &v);
	cgp_journal_get_stats(sp->j, &js);
	/* the instance before ours: the one that last saved the state, else the newest one met */
	if (js.replay.owner[0])
		prev = find(sp, js.replay.owner);
	if (!prev && sp->ns > 1)
		prev = sp->s[sp->ns - 2];
	if (prev && prev != own(sp)) {
		strcpy(sp->prev.instance_id, prev->id);
		sp->prev.last_seq = prev->last_seq;
		sp->prev.acked_seq = prev->acked_seq;
		sp->prev.covered_seq = prev->disk_last;
		for (int k = 0; k < Q_N; k++)
			if (prev->dropped_upto[k] > sp->prev.covered_seq)
				sp->prev.covered_seq = prev->dropped_upto[k];
		if (prev->acked_seq > sp->prev.covered_seq)
			sp->prev.covered_seq = prev->acked_seq;
		sp->prev.lost = prev->lost;
		sp->prev.found = true;
	}
	for (size_t i = sp->ns - 1; i-- > 0;)
		stream_forget_if_done(sp, sp->s[i]);
	sp->reap = true;
	reap(sp);
	return 0;
}

void cgp_spool_previous(const struct cgp_spool *sp, struct cgp_spool_previous *prev)
{
	*prev = sp->prev;
}

/* ---- what the agent does ------------------------------------------------------------------------------- */

int cgp_spool_push(struct cgp_spool *sp, uint64_t seq, bool is_sample, const void *data, size_t len)
{
	struct stream *s = own(sp);
	size_t size = cgp_sq_push_cost(&s->q[is_sample ? Q_SAMPLE : Q_OTHER], len);
	size_t disk = sp->j ? cgp_journal_record_bytes(len) : 0;
	uint32_t seg = 0;
	int err;

	sp->peeked_q = NULL;
	if (seq <= s->last_seq)
		return -EINVAL;
	if (cgp_sq_rec_size(len) > sp->max_bytes || disk > sp->max_bytes)
		return -E2BIG;
	make_room(sp, size, disk);
	if (sp->j) {
		/* OOM kills, alerts and the rest are written at once: an agent killed a moment later leaves them */
		seg = cgp_journal_append(sp->j, s->id, seq, is_sample, data, len, !is_sample);
		if (!seg && !s->lost) {
			s->lost = true;
			sp->drops_dirty = true; /* the next agent must know */
		}
	}
	err = queue_push(sp, s, seq, is_sample, seg, data, len);
	if (err) {
		if (seg && cgp_journal_release(sp->j, seg))
			sp->reap = true;
		return err;
	}
	sp->st.pushed_total++;
	if (sp->j) {
		if (cgp_journal_has_dead(sp->j))
			sp->reap = true; /* the segment it closed, if everything in it was released meanwhile */
		reap(sp);
	}
	return 0;
}

size_t cgp_spool_ack(struct cgp_spool *sp, const char *instance_id, uint64_t acked_seq)
{
	struct stream *s = find(sp, instance_id);
	size_t released = 0;

	sp->peeked_q = NULL;
	if (!s)
		return 0;
	if (acked_seq > s->acked_seq) {
		s->acked_seq = acked_seq;
		sp->state_dirty = true;
	}
	for (int k = 0; k < Q_N; k++) {
		struct cgp_sq *q = &s->q[k];

		while (q->n && cgp_sq_head(q)->seq <= acked_seq) {
			pop(sp, s, k);
			released++;
		}
	}
	sp->st.acked_total += released;
	stream_forget_if_done(sp, s);
	if (sp->j)
		reap(sp);
	return released;
}

void cgp_spool_rewind(struct cgp_spool *sp)
{
	sp->peeked_q = NULL;
	for (size_t i = 0; i < sp->ns; i++)
		for (int k = 0; k < Q_N; k++)
			cgp_sq_rewind(&sp->s[i]->q[k]);
}

/* The queue whose unsent head goes next: the oldest instance with something unsent, the lower seq of its two. */
static struct cgp_sq *next_queue(struct cgp_spool *sp, struct stream **sout)
{
	for (size_t i = 0; i < sp->ns; i++) {
		struct stream *s = sp->s[i];
		struct cgp_sq_rec *a = cgp_sq_unsent(&s->q[Q_SAMPLE]), *b = cgp_sq_unsent(&s->q[Q_OTHER]);

		if (!a && !b)
			continue;
		*sout = s;
		if (a && b)
			return a->seq < b->seq ? &s->q[Q_SAMPLE] : &s->q[Q_OTHER];
		return a ? &s->q[Q_SAMPLE] : &s->q[Q_OTHER];
	}
	return NULL;
}

const struct cgp_spool_entry *cgp_spool_peek_unsent(struct cgp_spool *sp)
{
	struct stream *s;
	struct cgp_sq *q = next_queue(sp, &s);
	struct cgp_sq_rec *r;

	sp->peeked_q = q;
	if (!q)
		return NULL;
	r = cgp_sq_unsent(q);
	sp->peeked = (struct cgp_spool_entry){.instance_id = s->id, .seq = r->seq, .data = r->data, .len = r->len};
	return &sp->peeked;
}

/* Right after a peek the queue is known: the two queues of every instance are not walked again per event. */
void cgp_spool_mark_sent(struct cgp_spool *sp)
{
	struct stream *s;
	struct cgp_sq *q = sp->peeked_q ? sp->peeked_q : next_queue(sp, &s);

	sp->peeked_q = NULL;
	if (q)
		cgp_sq_mark_sent(q);
}

size_t cgp_spool_in_flight(const struct cgp_spool *sp)
{
	size_t n = 0;

	for (size_t i = 0; i < sp->ns; i++)
		n += sp->s[i]->q[Q_SAMPLE].sent + sp->s[i]->q[Q_OTHER].sent;
	return n;
}

uint64_t cgp_spool_base_seq(const struct cgp_spool *sp, const char *instance_id)
{
	const struct stream *s = find(sp, instance_id);
	uint64_t base;

	if (!s)
		return 0;
	base = s->last_seq + 1;
	for (int k = 0; k < Q_N; k++)
		if (s->q[k].n && cgp_sq_head(&s->q[k])->seq < base)
			base = cgp_sq_head(&s->q[k])->seq;
	return base;
}

bool cgp_spool_has_drops(const struct cgp_spool *sp)
{
	for (size_t i = 0; i < sp->ns; i++)
		if (sp->s[i]->drops.samples || sp->s[i]->drops.others)
			return true;
	return false;
}

bool cgp_spool_take_drops(struct cgp_spool *sp, struct cgp_spool_drops *out)
{
	sp->peeked_q = NULL;
	for (size_t i = 0; i < sp->ns; i++) {
		struct stream *s = sp->s[i];

		if (!s->drops.samples && !s->drops.others)
			continue;
		*out = s->drops;
		strcpy(out->instance_id, s->id);
		out->own = s == own(sp);
		memset(&s->drops, 0, sizeof(s->drops));
		sp->drops_dirty = true;
		stream_forget_if_done(sp, s);
		return true;
	}
	return false;
}

void cgp_spool_get_stats(const struct cgp_spool *sp, struct cgp_spool_stats *st)
{
	*st = sp->st;
	st->events = sp->events;
	st->bytes = sp->bytes;
	st->mapped = 0;
	st->spare = 0;
	for (size_t i = 0; i < sp->ns; i++)
		for (int k = 0; k < Q_N; k++) {
			st->mapped += sp->s[i]->q[k].mapped;
			st->spare += sp->s[i]->q[k].spares * CGP_SQ_CHUNK;
		}
	st->instances = sp->ns;
	st->last_seq = own(sp)->last_seq;
	st->acked_seq = own(sp)->acked_seq;
	st->disk = sp->j != NULL;
	if (sp->j)
		cgp_journal_get_stats(sp->j, &st->journal);
}

void cgp_spool_flush(struct cgp_spool *sp, uint64_t now_ns)
{
	sp->peeked_q = NULL;
	if (!sp->j)
		return;
	if (cgp_journal_flush(sp->j) && !own(sp)->lost) {
		own(sp)->lost = true;
		sp->drops_dirty = true;
	}
	if (sp->drops_dirty || (sp->state_dirty && now_ns - sp->state_saved_ns >= STATE_EVERY_NS))
		save_state(sp, now_ns);
	reap(sp);
}

void cgp_spool_sync(struct cgp_spool *sp, uint64_t now_ns)
{
	if (sp->j)
		cgp_journal_sync(sp->j, cgp_journal_has_urgent(sp->j), now_ns);
}
