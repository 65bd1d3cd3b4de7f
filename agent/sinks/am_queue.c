// SPDX-License-Identifier: GPL-2.0
/* Entries live in an id map keyed by a hash of (rule, cgroup id), colliding ones chained, and in a list in the
 * order they fired (the oldest resolved one goes first when the queue is full). Per target an entry carries
 * when it is next due and what of it was acknowledged: a version that grows on every change of what is posted. */
#include "sinks/am_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/backoff.h"
#include "lib/idmap.h"

struct per_target {
	uint64_t due;	       /* post at or after this; UINT64_MAX: delivered, nothing more to post */
	uint32_t sent_version; /* the version in flight */
	bool inflight;
	bool sent_resolved; /* what is in flight is the resolve */
};

struct entry {
	char *rule;
	uint64_t cgroup_id, key;
	bool resolved; /* the rule resolved (the resolve may still be held back) */
	json_t *alert; /* what is posted now */
	json_t *held;  /* the resolve, until release_at */
	uint64_t fired_at, release_at;
	uint32_t version;
	struct entry *hnext;	   /* same key */
	struct entry *prev, *next; /* in firing order */
	struct per_target t[];
};

struct target {
	bool busy, failing;
	uint64_t next_try;
	struct cgp_backoff backoff;
};

struct cgp_amq {
	struct cgp_amq_cfg cfg;
	struct cgp_idmap index;
	struct entry *head, *tail;
	size_t len;
	struct target t[CGP_AMQ_MAX_TARGETS];
	struct cgp_amq_stats st;
};

static uint64_t key_of(const char *rule, uint64_t cgroup_id)
{
	uint64_t k = cgp_idmap_strkey(rule) ^ (cgroup_id * 0x9e3779b97f4a7c15ULL);

	return k ? k : 1; /* 0 is the map's empty key */
}

static struct entry *find(const struct cgp_amq *q, const char *rule, uint64_t cgroup_id)
{
	struct entry *e = cgp_idmap_get(&q->index, key_of(rule, cgroup_id));

	while (e && (e->cgroup_id != cgroup_id || strcmp(e->rule, rule)))
		e = e->hnext;
	return e;
}

struct cgp_amq *cgp_amq_new(const struct cgp_amq_cfg *cfg)
{
	struct cgp_amq *q;

	if (!cfg->n_targets || cfg->n_targets > CGP_AMQ_MAX_TARGETS || !cfg->max_alerts || !cfg->batch_max ||
	    !cfg->resend_ns)
		return NULL;
	q = calloc(1, sizeof(*q));
	if (!q || cgp_idmap_init(&q->index, 16)) {
		free(q);
		return NULL;
	}
	q->cfg = *cfg;
	for (unsigned i = 0; i < cfg->n_targets; i++)
		cgp_backoff_init(&q->t[i].backoff, cfg->backoff_min_ns, cfg->backoff_max_ns, cfg->seed * 31 + i + 1);
	return q;
}

static void entry_free(struct entry *e)
{
	json_decref(e->alert);
	json_decref(e->held);
	free(e->rule);
	free(e);
}

static void unlink_entry(struct cgp_amq *q, struct entry *e)
{
	struct entry **pp, *head = cgp_idmap_get(&q->index, e->key);

	if (head == e) {
		if (e->hnext)
			cgp_idmap_put(&q->index, e->key, e->hnext); /* replaces: allocates nothing */
		else
			cgp_idmap_del(&q->index, e->key);
	} else {
		for (pp = &head->hnext; *pp && *pp != e; pp = &(*pp)->hnext)
			;
		if (*pp)
			*pp = e->hnext;
	}
	if (e->prev)
		e->prev->next = e->next;
	else
		q->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		q->tail = e->prev;
	q->len--;
	if (!e->resolved)
		q->st.firing--;
	entry_free(e);
}

void cgp_amq_free(struct cgp_amq *q)
{
	if (!q)
		return;
	while (q->head)
		unlink_entry(q, q->head);
	cgp_idmap_free(&q->index);
	free(q);
}

static bool in_flight(const struct cgp_amq *q, const struct entry *e)
{
	for (unsigned i = 0; i < q->cfg.n_targets; i++)
		if (e->t[i].inflight)
			return true;
	return false;
}

/* Every target gets what the entry now posts. */
static void changed(struct cgp_amq *q, struct entry *e, uint64_t now)
{
	e->version++;
	for (unsigned i = 0; i < q->cfg.n_targets; i++)
		e->t[i].due = now;
}

/* Room for one more: the oldest resolve still waiting for delivery goes (an Alertmanager that got the alert
 * firing and never its resolve times it out by itself), never a firing alert. */
static bool make_room(struct cgp_amq *q)
{
	for (struct entry *e = q->head; e; e = e->next) {
		if (e->resolved && !in_flight(q, e)) {
			unlink_entry(q, e);
			q->st.dropped_full++;
			return true;
		}
	}
	return false;
}

int cgp_amq_fire(struct cgp_amq *q, const char *rule, uint64_t cgroup_id, json_t *alert, uint64_t now)
{
	struct entry *e = find(q, rule, cgroup_id), *head;

	if (!alert)
		return -ENOMEM;
	if (e) { /* fired again before its resolve went out: the Alertmanager sees it firing on */
		if (e->resolved && !e->held)
			e->fired_at = now;
		if (e->resolved)
			q->st.firing++;
		e->resolved = false;
		json_decref(e->alert);
		json_decref(e->held);
		e->alert = alert;
		e->held = NULL;
		changed(q, e, now);
		return 0;
	}
	if (q->len >= q->cfg.max_alerts && !make_room(q)) {
		q->st.dropped_full++;
		json_decref(alert);
		return -ENOSPC;
	}
	e = calloc(1, sizeof(*e) + q->cfg.n_targets * sizeof(e->t[0]));
	if (!e || !(e->rule = strdup(rule))) {
		free(e);
		json_decref(alert);
		return -ENOMEM;
	}
	e->cgroup_id = cgroup_id;
	e->key = key_of(rule, cgroup_id);
	head = cgp_idmap_get(&q->index, e->key);
	e->hnext = head;
	if (cgp_idmap_put(&q->index, e->key, e)) {
		free(e->rule);
		free(e);
		json_decref(alert);
		return -ENOMEM;
	}
	e->alert = alert;
	e->fired_at = now;
	e->prev = q->tail;
	if (q->tail)
		q->tail->next = e;
	else
		q->head = e;
	q->tail = e;
	q->len++;
	q->st.firing++;
	changed(q, e, now);
	return 0;
}

static void release(struct cgp_amq *q, struct entry *e, uint64_t now)
{
	json_decref(e->alert);
	e->alert = e->held;
	e->held = NULL;
	changed(q, e, now);
}

int cgp_amq_resolve(struct cgp_amq *q, const char *rule, uint64_t cgroup_id, json_t *alert, uint64_t now)
{
	struct entry *e = find(q, rule, cgroup_id);

	if (!e || e->resolved) {
		q->st.resolves_lost++;
		json_decref(alert);
		return -ENOENT;
	}
	if (!alert)
		return -ENOMEM; /* it stays firing: the Alertmanager times it out */
	e->resolved = true;
	q->st.firing--;
	e->held = alert;
	e->release_at = e->fired_at + q->cfg.min_firing_ns;
	if (now >= e->release_at)
		release(q, e, now);
	return 0;
}

const json_t *cgp_amq_fired(const struct cgp_amq *q, const char *rule, uint64_t cgroup_id)
{
	const struct entry *e = find(q, rule, cgroup_id);

	if (!e)
		return NULL;
	return e->resolved && !e->held ? NULL : e->alert;
}

/* When the entry is next due for target i: its own time, or the end of a held resolve. */
static uint64_t due_of(const struct entry *e, unsigned i)
{
	if (e->t[i].inflight)
		return UINT64_MAX;
	if (e->held && e->release_at < e->t[i].due)
		return e->release_at;
	return e->t[i].due;
}

static void add(struct entry *e, unsigned i, json_t *batch)
{
	if (json_array_append(batch, e->alert))
		return; /* out of memory: it stays due */
	e->t[i].inflight = true;
	e->t[i].sent_version = e->version;
	e->t[i].sent_resolved = e->resolved && !e->held;
}

size_t cgp_amq_take(struct cgp_amq *q, unsigned i, uint64_t now, json_t *batch)
{
	struct target *t = &q->t[i];
	size_t before = json_array_size(batch), n;

	if (i >= q->cfg.n_targets || t->busy || now < t->next_try)
		return 0;
	for (struct entry *e = q->head; e; e = e->next)
		if (e->held && now >= e->release_at)
			release(q, e, now);
	for (struct entry *e = q->head; e && json_array_size(batch) - before < q->cfg.batch_max; e = e->next)
		if (due_of(e, i) <= now)
			add(e, i, batch);
	n = json_array_size(batch) - before;
	if (!n)
		return 0;
	/* re-sends due within half a period go along, so firing alerts settle into one post per period */
	for (struct entry *e = q->head; e && json_array_size(batch) - before < q->cfg.batch_max; e = e->next)
		if (!e->resolved && due_of(e, i) != UINT64_MAX && due_of(e, i) <= now + q->cfg.resend_ns / 2)
			add(e, i, batch);
	t->busy = true;
	if (t->failing)
		q->st.t[i].retries++;
	return json_array_size(batch) - before;
}

void cgp_amq_done(struct cgp_amq *q, unsigned i, enum cgp_amq_outcome o, uint64_t now)
{
	struct target *t = &q->t[i];
	struct cgp_amq_target_stats *s = &q->st.t[i];
	struct entry *e, *next;

	if (i >= q->cfg.n_targets || !t->busy)
		return;
	t->busy = false;
	switch (o) {
	case CGP_AMQ_FAILED:
		s->posts_failed++;
		s->up = false;
		t->failing = true;
		t->next_try = now + cgp_backoff_fail(&t->backoff);
		break;
	case CGP_AMQ_REJECTED:
		s->posts_rejected++;
		/* fallthrough */
	case CGP_AMQ_OK:
		s->posts_ok += o == CGP_AMQ_OK;
		s->up = true;
		t->failing = false;
		t->next_try = 0;
		cgp_backoff_reset(&t->backoff);
		break;
	}
	for (e = q->head; e; e = next) {
		struct per_target *p = &e->t[i];

		next = e->next;
		if (!p->inflight)
			continue;
		p->inflight = false;
		if (o == CGP_AMQ_FAILED)
			continue; /* still due: the next try posts it */
		if (o == CGP_AMQ_REJECTED)
			s->rejected++;
		else if (p->sent_resolved)
			s->sent_resolved++;
		else
			s->sent_firing++;
		if (p->sent_version != e->version)
			p->due = now; /* it changed meanwhile: post what it is now */
		else if (p->sent_resolved)
			p->due = UINT64_MAX;
		else
			p->due = now + q->cfg.resend_ns;
		if (!e->resolved || e->held || in_flight(q, e))
			continue;
		bool all = true;

		for (unsigned k = 0; k < q->cfg.n_targets && all; k++)
			all = e->t[k].due == UINT64_MAX;
		if (all)
			unlink_entry(q, e);
	}
}

uint64_t cgp_amq_next(const struct cgp_amq *q, unsigned i)
{
	uint64_t next = UINT64_MAX;

	if (i >= q->cfg.n_targets || q->t[i].busy)
		return UINT64_MAX;
	for (const struct entry *e = q->head; e; e = e->next) {
		uint64_t d = due_of(e, i);

		if (d < next)
			next = d;
	}
	if (next != UINT64_MAX && next < q->t[i].next_try)
		next = q->t[i].next_try;
	return next;
}

bool cgp_amq_resolves_pending(const struct cgp_amq *q)
{
	for (const struct entry *e = q->head; e; e = e->next)
		if (e->resolved && !e->held)
			return true;
	return false;
}

void cgp_amq_get_stats(const struct cgp_amq *q, struct cgp_amq_stats *st)
{
	*st = q->st;
	st->alerts = q->len;
}
