/* SPDX-License-Identifier: GPL-2.0 */
/* The rule engine: per (rule, cgroup) inactive -> pending -> firing -> resolved (= inactive again).
 * State exists only for cgroups with a pending or firing rule, in an open-addressing hash keyed by cgroup id,
 * and is freed when the last rule of the cgroup goes inactive or the cgroup goes, so memory follows the number
 * of cgroups in trouble, not the number of cgroups. The steady path (nothing changes state) allocates nothing. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "playbook/playbook.h"

enum phase { P_INACTIVE = 0, P_PENDING, P_FIRING };

struct rstate {
	uint8_t phase;
	uint8_t ev_len, ev_head; /* evidence ring: ev_head is the next write */
	uint8_t limit_kind;
	uint64_t since_ns; /* condition true since (pending start) */
	uint64_t fired_ns;
	double peak_raw; /* peak cores / bytes since pending: what the recommendation grows from */
	double last_value, last_limit;
	double ev[CGP_EVIDENCE_MAX];
};

struct centry {
	uint64_t id;
	uint64_t seen_ns;
	char *path;	 /* own copy: cgroup_gone has only the id */
	unsigned active; /* rules pending or firing */
	struct rstate rs[];
};

struct slot {
	uint64_t id;
	struct centry *c; /* NULL: empty (cgroup ids are never relied on to be non-zero) */
};

struct cgp_engine {
	const struct cgp_playbook *pb;
	struct slot *slots;
	size_t cap; /* power of two, or 0 before the first entry */
	size_t count;
};

#define MIN_CAP 16

static size_t home(uint64_t id, size_t cap)
{
	return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static size_t find(const struct cgp_engine *e, uint64_t id)
{
	size_t i;

	if (!e->count)
		return SIZE_MAX;
	for (i = home(id, e->cap); e->slots[i].c; i = (i + 1) & (e->cap - 1))
		if (e->slots[i].id == id)
			return i;
	return SIZE_MAX;
}

static void place(struct slot *slots, size_t cap, struct centry *c)
{
	size_t i;

	for (i = home(c->id, cap); slots[i].c; i = (i + 1) & (cap - 1))
		;
	slots[i].id = c->id;
	slots[i].c = c;
}

static int resize(struct cgp_engine *e, size_t cap)
{
	struct slot *slots = calloc(cap, sizeof(*slots));
	size_t i;

	if (!slots)
		return -ENOMEM;
	for (i = 0; i < e->cap; i++)
		if (e->slots[i].c)
			place(slots, cap, e->slots[i].c);
	free(e->slots);
	e->slots = slots;
	e->cap = cap;
	return 0;
}

static int insert(struct cgp_engine *e, struct centry *c)
{
	/* load factor at most 1/2 keeps linear probes short */
	if ((e->count + 1) * 2 > e->cap) {
		int err = resize(e, e->cap ? e->cap * 2 : MIN_CAP);

		if (err)
			return err;
	}
	place(e->slots, e->cap, c);
	e->count++;
	return 0;
}

/* Backward-shift deletion: no tombstones, so lookups never slow down with churn. */
static void remove_at(struct cgp_engine *e, size_t i)
{
	size_t mask = e->cap - 1, j = i;

	free(e->slots[i].c->path);
	free(e->slots[i].c);
	e->slots[i].c = NULL;
	for (;;) {
		size_t h;

		j = (j + 1) & mask;
		if (!e->slots[j].c)
			break;
		h = home(e->slots[j].id, e->cap);
		/* move j into the hole at i unless its home lies cyclically in (i, j] */
		if (((j - h) & mask) >= ((j - i) & mask)) {
			e->slots[i] = e->slots[j];
			e->slots[j].c = NULL;
			i = j;
		}
	}
	e->count--;
	/* give memory back after a storm; failure to shrink is harmless */
	if (e->cap > MIN_CAP && e->count * 8 < e->cap)
		(void)resize(e, e->cap / 2);
}

static struct centry *entry_new(size_t nrules, uint64_t id, const char *path, uint64_t now)
{
	struct centry *c = calloc(1, sizeof(*c) + nrules * sizeof(c->rs[0]));

	if (!c)
		return NULL;
	c->path = strdup(path ? path : "");
	if (!c->path) {
		free(c);
		return NULL;
	}
	c->id = id;
	c->seen_ns = now;
	return c;
}

struct cgp_engine *cgp_engine_new(const struct cgp_playbook *pb)
{
	struct cgp_engine *e = calloc(1, sizeof(*e));

	if (e)
		e->pb = pb;
	return e;
}

void cgp_engine_free(struct cgp_engine *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->cap; i++)
		if (e->slots[i].c) {
			free(e->slots[i].c->path);
			free(e->slots[i].c);
		}
	free(e->slots);
	free(e);
}

size_t cgp_engine_tracked(const struct cgp_engine *e)
{
	return e->count;
}

static bool holds(const struct cgp_rule *r, double v)
{
	if (r->cmp == CGP_CMP_BETWEEN)
		return v >= r->lo && v <= r->hi;
	return v > r->above;
}

static bool selected(const struct cgp_rule *r, const char *path, const struct cgp_limits *lim)
{
	switch (r->select) {
	case CGP_SELECT_ALL:
		return true;
	case CGP_SELECT_GLOB:
		/* no FNM_PATHNAME, so that '*' also matches '/': a glob reaches containers at any depth */
		return fnmatch(r->select_glob, path, 0) == 0;
	case CGP_SELECT_CONTAINERS:
	default:
		return lim->is_container;
	}
}

static void record(struct rstate *st, const struct cgp_measure *m)
{
	st->ev[st->ev_head] = m->value;
	st->ev_head = (uint8_t)((st->ev_head + 1) % CGP_EVIDENCE_MAX);
	if (st->ev_len < CGP_EVIDENCE_MAX)
		st->ev_len++;
	if (m->raw > st->peak_raw)
		st->peak_raw = m->raw;
	st->last_value = m->value;
	st->last_limit = m->limit;
	st->limit_kind = (uint8_t)m->limit_kind;
}

/* The threshold a resolve is measured against. */
static double resolve_threshold(const struct cgp_rule *r, double v)
{
	if (r->has_resolve_below)
		return r->resolve_below;
	if (r->cmp == CGP_CMP_BETWEEN)
		return v > r->hi ? r->hi : r->lo;
	return r->above;
}

static void emit(const struct cgp_rule *r, const struct rstate *st, uint64_t id, const char *path,
		 enum cgp_alert_state state, uint64_t now, const char *reason, cgp_alert_cb cb, void *ctx)
{
	struct cgp_alert a = {
	    .ts_ns = now,
	    .cgroup_id = id,
	    .path = path,
	    .rule = r->name,
	    .severity = r->severity,
	    .state = state,
	    .metric = cgp_metric_name(r->metric),
	    .value = st->last_value,
	    .limit = st->last_limit,
	    .limit_kind = (enum cgp_limit_kind)st->limit_kind,
	    .action = r->action,
	    .runbook = r->runbook,
	    .reason = reason,
	};
	unsigned k, first = (st->ev_head + CGP_EVIDENCE_MAX - st->ev_len) % CGP_EVIDENCE_MAX;

	if (!cb)
		return;
	for (k = 0; k < st->ev_len; k++)
		a.evidence[k] = st->ev[(first + k) % CGP_EVIDENCE_MAX];
	a.evidence_len = st->ev_len;
	if (state == CGP_ALERT_FIRING) {
		a.threshold = r->cmp == CGP_CMP_BETWEEN ? r->lo : r->above;
		a.held_ns = now >= st->since_ns ? now - st->since_ns : 0;
		a.recommended_limit =
		    cgp_recommend_limit(r->metric, r->severity, a.limit_kind, st->last_limit, st->peak_raw);
	} else {
		a.threshold = resolve_threshold(r, st->last_value);
		a.held_ns = now >= st->fired_ns ? now - st->fired_ns : 0;
	}
	cb(&a, ctx);
}

static void deactivate(struct centry *c, unsigned i)
{
	memset(&c->rs[i], 0, sizeof(c->rs[i]));
	c->active--;
}

/* One rule, one observation. *cp is the cgroup's entry, created here on the first pending rule. */
static int step(struct cgp_engine *e, struct centry **cp, unsigned i, uint64_t id, const char *path,
		const struct cgp_measure *m, uint64_t now, cgp_alert_cb cb, void *ctx)
{
	const struct cgp_rule *r = &e->pb->rules[i];
	const char *fire_reason = r->metric == CGP_METRIC_OOM_KILLS ? "oom_kill" : "threshold";
	bool cond = holds(r, m->value);
	struct rstate *st = *cp ? &(*cp)->rs[i] : NULL;
	bool resolved;

	switch (st ? st->phase : P_INACTIVE) {
	case P_INACTIVE:
		if (!cond)
			return 0;
		if (!*cp) {
			*cp = entry_new(e->pb->nrules, id, path, now);
			if (!*cp)
				return -ENOMEM;
			if (insert(e, *cp)) {
				free((*cp)->path);
				free(*cp);
				*cp = NULL;
				return -ENOMEM;
			}
		}
		st = &(*cp)->rs[i];
		st->phase = P_PENDING;
		st->since_ns = now;
		(*cp)->active++;
		record(st, m);
		break;
	case P_PENDING:
		if (!cond) {
			deactivate(*cp, i);
			return 0;
		}
		record(st, m);
		if (now < st->since_ns) /* the clock went back: wait the whole `for:` again, never fire early */
			st->since_ns = now;
		break;
	case P_FIRING:
		record(st, m);
		/* hysteresis: with resolve_below, values between it and the threshold keep the rule firing */
		resolved = r->has_resolve_below ? m->value < r->resolve_below : !cond;
		if (resolved) {
			emit(r, st, id, path, CGP_ALERT_RESOLVED, now,
			     r->cmp == CGP_CMP_BETWEEN && m->value > r->hi ? "above_band" : "recovered", cb, ctx);
			deactivate(*cp, i);
		}
		return 0;
	}
	if (st->phase == P_PENDING && now - st->since_ns >= r->for_ns) {
		st->phase = P_FIRING;
		st->fired_ns = now;
		emit(r, st, id, path, CGP_ALERT_FIRING, now, fire_reason, cb, ctx);
	}
	return 0;
}

static void drop_if_idle(struct cgp_engine *e, struct centry *c)
{
	if (c && !c->active)
		remove_at(e, find(e, c->id));
}

int cgp_engine_eval(struct cgp_engine *e, const struct cgp_sample *s, const struct cgp_limits *lim, uint64_t now_ns,
		    cgp_alert_cb cb, void *ctx)
{
	size_t at = find(e, s->cgroup_id);
	struct centry *c = at == SIZE_MAX ? NULL : e->slots[at].c;
	struct cgp_measure m;
	unsigned i;
	int ret = 0;

	if (c)
		c->seen_ns = now_ns;
	for (i = 0; i < e->pb->nrules; i++) {
		const struct cgp_rule *r = &e->pb->rules[i];

		if (!selected(r, s->path, lim)) {
			/* only after a reload or a change of is_container: end what the rule had started */
			if (c && c->rs[i].phase == P_FIRING)
				emit(r, &c->rs[i], s->cgroup_id, s->path, CGP_ALERT_RESOLVED, now_ns, "deselected", cb,
				     ctx);
			if (c && c->rs[i].phase != P_INACTIVE)
				deactivate(c, i);
			continue;
		}
		if (!cgp_measure(r->metric, s, lim, &m))
			continue;
		if (step(e, &c, i, s->cgroup_id, s->path, &m, now_ns, cb, ctx))
			ret = -ENOMEM;
	}
	drop_if_idle(e, c);
	return ret;
}

int cgp_engine_oom(struct cgp_engine *e, const struct cgp_oom_event *oom, const struct cgp_limits *lim,
		   uint64_t mem_limit_bytes, uint64_t now_ns, cgp_alert_cb cb, void *ctx)
{
	size_t at = find(e, oom->cgroup_id);
	struct centry *c = at == SIZE_MAX ? NULL : e->slots[at].c;
	struct cgp_measure m = {.value = 1, .raw = 1, .limit_kind = CGP_LIMIT_CGROUP};
	unsigned i;
	int ret = 0;

	/* the limit the kill hit: the cgroup's own, or the node's when it has none */
	m.limit = (double)mem_limit_bytes;
	if (!mem_limit_bytes || (lim->node_mem_bytes && mem_limit_bytes > lim->node_mem_bytes)) {
		m.limit = (double)lim->node_mem_bytes;
		m.limit_kind = CGP_LIMIT_NODE;
	}
	if (c)
		c->seen_ns = now_ns;
	for (i = 0; i < e->pb->nrules; i++) {
		const struct cgp_rule *r = &e->pb->rules[i];

		if (r->metric != CGP_METRIC_OOM_KILLS || !selected(r, oom->path, lim))
			continue;
		if (step(e, &c, i, oom->cgroup_id, oom->path, &m, now_ns, cb, ctx))
			ret = -ENOMEM;
	}
	drop_if_idle(e, c);
	return ret;
}

/* Resolve every firing rule of the entry at slot i and free it. */
static void gone_at(struct cgp_engine *e, size_t at, uint64_t now_ns, const char *reason, cgp_alert_cb cb, void *ctx)
{
	struct centry *c = e->slots[at].c;
	unsigned i;

	for (i = 0; i < e->pb->nrules; i++)
		if (c->rs[i].phase == P_FIRING)
			emit(&e->pb->rules[i], &c->rs[i], c->id, c->path, CGP_ALERT_RESOLVED, now_ns, reason, cb, ctx);
	remove_at(e, at);
}

void cgp_engine_cgroup_gone(struct cgp_engine *e, uint64_t cgroup_id, uint64_t now_ns, cgp_alert_cb cb, void *ctx)
{
	size_t at = find(e, cgroup_id);

	if (at != SIZE_MAX)
		gone_at(e, at, now_ns, "cgroup_removed", cb, ctx);
}

void cgp_engine_expire(struct cgp_engine *e, uint64_t max_age_ns, uint64_t now_ns, cgp_alert_cb cb, void *ctx)
{
	size_t i = 0;

	/* removal may shrink the table (then walk again from the start; a second look at a live entry is
	 * harmless) or shift a later entry back into slot i (then look at slot i again) */
	while (i < e->cap) {
		struct centry *c = e->slots[i].c;
		size_t cap = e->cap;

		if (c && now_ns > c->seen_ns && now_ns - c->seen_ns > max_age_ns) {
			gone_at(e, i, now_ns, "cgroup_unseen", cb, ctx);
			if (e->cap != cap)
				i = 0;
			continue;
		}
		i++;
	}
}

int cgp_engine_set_playbook(struct cgp_engine *e, const struct cgp_playbook *pb, uint64_t now_ns, cgp_alert_cb cb,
			    void *ctx)
{
	const struct cgp_playbook *old = e->pb;
	struct centry **fresh = NULL;
	struct slot *slots = NULL;
	size_t *map = NULL, n = 0, i, j, cap = MIN_CAP;
	int ret = -ENOMEM;

	/* everything that can fail first, so a failure leaves the old playbook and state untouched */
	map = malloc((old->nrules ? old->nrules : 1) * sizeof(*map));
	fresh = calloc(e->count ? e->count : 1, sizeof(*fresh));
	if (!map || !fresh)
		goto out;
	for (i = 0; i < old->nrules; i++) {
		const struct cgp_rule *nr = cgp_playbook_find(pb, old->rules[i].name);

		/* a rule that now measures something else keeps nothing: its evidence is in other units */
		map[i] = nr && nr->metric == old->rules[i].metric ? (size_t)(nr - pb->rules) : SIZE_MAX;
	}
	for (i = 0; i < e->cap; i++) {
		struct centry *c = e->slots[i].c;

		if (!c)
			continue;
		fresh[n] = entry_new(pb->nrules, c->id, c->path, c->seen_ns);
		if (!fresh[n])
			goto out;
		n++;
	}
	while (cap < n * 2)
		cap *= 2;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		goto out;

	for (i = 0, n = 0; i < e->cap; i++) {
		struct centry *c = e->slots[i].c, *f;

		if (!c)
			continue;
		f = fresh[n++];
		for (j = 0; j < old->nrules; j++) {
			if (c->rs[j].phase == P_INACTIVE)
				continue;
			if (map[j] == SIZE_MAX) {
				if (c->rs[j].phase == P_FIRING)
					emit(&old->rules[j], &c->rs[j], c->id, c->path, CGP_ALERT_RESOLVED, now_ns,
					     "rule_removed", cb, ctx);
				continue;
			}
			f->rs[map[j]] = c->rs[j];
			f->active++;
		}
		free(c->path);
		free(c);
		e->slots[i].c = NULL;
	}
	e->count = 0;
	for (i = 0; i < n; i++) {
		if (fresh[i]->active) {
			place(slots, cap, fresh[i]);
			e->count++;
		} else {
			free(fresh[i]->path);
			free(fresh[i]);
		}
	}
	n = 0;
	free(e->slots);
	e->slots = slots;
	e->cap = cap;
	slots = NULL;
	e->pb = pb;
	ret = 0;
out:
	for (i = 0; i < n; i++) {
		free(fresh[i]->path);
		free(fresh[i]);
	}
	free(slots);
	free(fresh);
	free(map);
	return ret;
}
