/* SPDX-License-Identifier: GPL-2.0 */
/* The rule engine: per (rule, cgroup) inactive -> pending -> firing -> resolved (= inactive again).
 * State exists only for cgroups with a pending or firing rule, in the id map (lib/idmap.h) keyed by cgroup id,
 * and is freed when the last rule of the cgroup goes inactive or the cgroup goes, so memory follows the number
 * of cgroups in trouble, not the number of cgroups. The steady path (nothing changes state) allocates nothing. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "lib/idmap.h"
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

struct cgp_engine {
	const struct cgp_playbook *pb;
	struct cgp_idmap cgs; /* cgroup id → struct centry; cgroup ids are never 0 */
};

static void entry_free(void *p)
{
	struct centry *c = p;

	if (c) {
		free(c->path);
		free(c);
	}
}

/* The entry leaves the map; whatever was after it in its probe run may move into its slot. */
static void remove_entry(struct cgp_engine *e, struct centry *c)
{
	entry_free(cgp_idmap_del(&e->cgs, c->id));
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

	if (!e || cgp_idmap_init(&e->cgs, 16)) {
		free(e);
		return NULL;
	}
	e->pb = pb;
	return e;
}

void cgp_engine_free(struct cgp_engine *e)
{
	if (!e)
		return;
	cgp_idmap_free_all(&e->cgs, entry_free);
	free(e);
}

size_t cgp_engine_tracked(const struct cgp_engine *e)
{
	return e->cgs.len;
}

static bool holds(const struct cgp_rule *r, double v)
{
	if (r->cmp == CGP_CMP_BETWEEN)
		return v >= r->lo && v <= r->hi;
	return v > r->above;
}

static bool selected(const struct cgp_rule *r, const struct cgp_attribution *a)
{
	switch (r->select) {
	case CGP_SELECT_ALL:
		return true;
	case CGP_SELECT_GLOB:
		/* no FNM_PATHNAME, so that '*' also matches '/': a glob reaches containers at any depth */
		return fnmatch(r->select_glob, a->path, 0) == 0;
	case CGP_SELECT_CONTAINERS:
	default:
		return a->is_container;
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
			if (cgp_idmap_put(&e->cgs, id, *cp)) {
				entry_free(*cp);
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
		remove_entry(e, c);
}

/* One observation of a cgroup: each rule judges the measure of its metric (m is indexed by metric; a rule whose
 * metric is not measured is left as it is). With deselect, a rule that no longer selects the cgroup ends what
 * it had started: only a sample says that, an OOM record speaks of one metric. */
static int observe(struct cgp_engine *e, uint64_t id, const struct cgp_attribution *a, const struct cgp_measure *m,
		   bool deselect, uint64_t now_ns, cgp_alert_cb cb, void *ctx)
{
	struct centry *c = cgp_idmap_get(&e->cgs, id);
	int ret = 0;

	if (c)
		c->seen_ns = now_ns;
	for (unsigned i = 0; i < e->pb->nrules; i++) {
		const struct cgp_rule *r = &e->pb->rules[i];

		if (!selected(r, a)) {
			/* only after a reload or a change of is_container */
			if (deselect && c && c->rs[i].phase == P_FIRING)
				emit(r, &c->rs[i], id, a->path, CGP_ALERT_RESOLVED, now_ns, "deselected", cb, ctx);
			if (deselect && c && c->rs[i].phase != P_INACTIVE)
				deactivate(c, i);
			continue;
		}
		if (m[r->metric].known && step(e, &c, i, id, a->path, &m[r->metric], now_ns, cb, ctx))
			ret = -ENOMEM;
	}
	drop_if_idle(e, c);
	return ret;
}

int cgp_engine_eval(struct cgp_engine *e, const struct cgp_sample *s, const struct cgp_attribution *a, uint64_t now_ns,
		    cgp_alert_cb cb, void *ctx)
{
	return observe(e, s->cgroup_id, a, s->m, true, now_ns, cb, ctx);
}

int cgp_engine_oom(struct cgp_engine *e, uint64_t cgroup_id, const struct cgp_attribution *a,
		   const struct cgp_measure *m, uint64_t now_ns, cgp_alert_cb cb, void *ctx)
{
	struct cgp_measure only[CGP_METRIC_MAX] = {0};

	only[CGP_METRIC_OOM_KILLS] = *m;
	only[CGP_METRIC_OOM_KILLS].known = true;
	return observe(e, cgroup_id, a, only, false, now_ns, cb, ctx);
}

/* Resolve every firing rule of the entry and free it. */
static void gone(struct cgp_engine *e, struct centry *c, uint64_t now_ns, const char *reason, cgp_alert_cb cb,
		 void *ctx)
{
	for (unsigned i = 0; i < e->pb->nrules; i++)
		if (c->rs[i].phase == P_FIRING)
			emit(&e->pb->rules[i], &c->rs[i], c->id, c->path, CGP_ALERT_RESOLVED, now_ns, reason, cb, ctx);
	remove_entry(e, c);
}

void cgp_engine_cgroup_gone(struct cgp_engine *e, uint64_t cgroup_id, uint64_t now_ns, cgp_alert_cb cb, void *ctx)
{
	struct centry *c = cgp_idmap_get(&e->cgs, cgroup_id);

	if (c)
		gone(e, c, now_ns, "cgroup_removed", cb, ctx);
}

void cgp_engine_expire(struct cgp_engine *e, uint64_t max_age_ns, uint64_t now_ns, cgp_alert_cb cb, void *ctx)
{
	/* a removal shifts a later entry back into slot i: then look at slot i again */
	for (size_t i = 0; i < e->cgs.cap;) {
		struct centry *c = e->cgs.keys[i] ? e->cgs.vals[i] : NULL;

		if (c && now_ns > c->seen_ns && now_ns - c->seen_ns > max_age_ns)
			gone(e, c, now_ns, "cgroup_unseen", cb, ctx);
		else
			i++;
	}
}

int cgp_engine_set_playbook(struct cgp_engine *e, const struct cgp_playbook *pb, uint64_t now_ns, cgp_alert_cb cb,
			    void *ctx)
{
	const struct cgp_playbook *old = e->pb;
	struct cgp_idmap fresh = {0};
	size_t *map = NULL, i, j;
	int ret = -ENOMEM;

	/* everything that can fail first, so a failure leaves the old playbook and state untouched */
	map = malloc((old->nrules ? old->nrules : 1) * sizeof(*map));
	if (!map || cgp_idmap_init(&fresh, e->cgs.len + 1))
		goto out;
	for (i = 0; i < old->nrules; i++) {
		const struct cgp_rule *nr = cgp_playbook_find(pb, old->rules[i].name);

		/* a rule that now measures something else keeps nothing: its evidence is in other units */
		map[i] = nr && nr->metric == old->rules[i].metric ? (size_t)(nr - pb->rules) : SIZE_MAX;
	}
	for (i = 0; i < e->cgs.cap; i++) {
		struct centry *c = e->cgs.keys[i] ? e->cgs.vals[i] : NULL, *f;

		if (!c)
			continue;
		f = entry_new(pb->nrules, c->id, c->path, c->seen_ns);
		if (!f || cgp_idmap_put(&fresh, c->id, f)) {
			entry_free(f);
			goto out;
		}
	}
	/* nothing fails from here on */
	for (i = 0; i < e->cgs.cap; i++) {
		struct centry *c = e->cgs.keys[i] ? e->cgs.vals[i] : NULL, *f;

		if (!c)
			continue;
		f = cgp_idmap_get(&fresh, c->id);
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
	}
	cgp_idmap_free_all(&e->cgs, entry_free);
	e->cgs = fresh;
	fresh = (struct cgp_idmap){0};
	for (i = 0; i < e->cgs.cap;) { /* entries no rule keeps active leave (a removal shifts: look at i again) */
		struct centry *c = e->cgs.keys[i] ? e->cgs.vals[i] : NULL;

		if (c && !c->active)
			remove_entry(e, c);
		else
			i++;
	}
	e->pb = pb;
	ret = 0;
out:
	if (fresh.keys)
		cgp_idmap_free_all(&fresh, entry_free);
	free(map);
	return ret;
}
