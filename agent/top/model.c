// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "top/model.h"

int top_model_init(struct top_model *m)
{
	memset(m, 0, sizeof(*m));
	return cgp_idmap_init(&m->rows, 64);
}

void top_model_free(struct top_model *m)
{
	cgp_idmap_free_all(&m->rows, NULL);
}

static struct top_row *row_of(struct top_model *m, uint64_t id, uint64_t now)
{
	struct top_row *r = cgp_idmap_get(&m->rows, id);

	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r || cgp_idmap_put(&m->rows, id, r)) {
			free(r);
			return NULL;
		}
		r->cgroup_id = id;
	}
	r->seen_ns = now;
	return r;
}

static void copy_tail(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len) {
		src += n - (len - 1);
		n = len - 1;
	}
	memcpy(dst, src, n);
	dst[n] = 0;
}

/* Who the cgroup is, as a person reads it: the attribution the agent carries, else its path. */
static void name_row(struct top_row *r, const char *path, const Cgpulse__V1__Attribution *a)
{
	snprintf(r->path, sizeof(r->path), "%s", path ? path : "");
	r->is_container = a && a->container_id && *a->container_id;
	if (a && a->pod && *a->pod)
		snprintf(r->name, sizeof(r->name), "%s/%s/%s", *a->namespace_ ? a->namespace_ : "-", a->pod,
			 *a->container_name ? a->container_name : "-");
	else if (a && a->container_name && *a->container_name)
		snprintf(r->name, sizeof(r->name), "%s", a->container_name);
	else if (r->is_container)
		snprintf(r->name, sizeof(r->name), "%.12s", a->container_id);
	else /* the end of a long path names the cgroup; the view cuts from the left too */
		copy_tail(r->name, sizeof(r->name), r->path);
}

static void take_sample(struct top_model *m, const Cgpulse__V1__Sample *s, uint64_t now)
{
	struct top_row *r = row_of(m, s->cgroup_id, now);

	m->samples++;
	m->window_s = s->window_s;
	if (!r)
		return;
	name_row(r, s->path, s->attribution);
	r->has_cpu = true;
	r->cpu_cores = s->cpu_cores;
	r->cpu_pct = s->cpu_pct;
	r->cpu_pct_of_node = s->cpu_pct_of && !strcmp(s->cpu_pct_of, "node");
	/* window shares need a window: none in a cgroup's first sample (has_kernel_windows) */
	r->has_thr = s->has_cpu_bandwidth && s->has_kernel_windows;
	r->thr_pct = r->has_thr ? s->cpu_throttled_pct : 0;
	r->has_psi_mem = r->has_psi_cpu = s->has_psi && s->has_kernel_windows;
	r->psi_mem_pct = r->has_psi_mem ? s->psi_memory_some_pct : 0;
	r->psi_cpu_pct = r->has_psi_cpu ? s->psi_cpu_some_pct : 0;
	r->has_mem = s->has_mem;
	/* the working set, as the playbook's default rules and the kubelet judge memory; raw usage where the kernel
	 * gives no memory.stat figures */
	r->mem_is_working_set = s->has_mem && s->has_mem_stat;
	r->mem_bytes = r->mem_is_working_set ? s->mem_working_set_bytes : s->mem_bytes;
	r->mem_pct = r->mem_is_working_set ? s->mem_working_set_pct : s->mem_pct;
	r->oom_kills = s->has_mem ? s->oom_kills : r->oom_kills;
}

static int by_severity(const void *a, const void *b)
{
	const struct top_firing *x = a, *y = b;

	return y->severity - x->severity;
}

static void take_alert(struct top_model *m, const Cgpulse__V1__Alert *al, uint64_t now)
{
	struct top_row *r = row_of(m, al->cgroup_id, now);
	unsigned i;

	if (!r)
		return;
	if (!r->path[0])
		name_row(r, al->path, al->attribution);
	for (i = 0; i < r->n_firing && strcmp(r->firing[i].rule, al->rule); i++)
		;
	if (al->state == CGPULSE__V1__ALERT_STATE__ALERT_STATE_FIRING) {
		if (i < r->n_firing) /* fired again after a reload: already shown */
			return;
		m->alerts_firing++;
		if (r->n_firing == TOP_MAX_FIRING) {
			r->n_firing_more++;
			return;
		}
		snprintf(r->firing[r->n_firing].rule, sizeof(r->firing[0].rule), "%s", al->rule);
		r->firing[r->n_firing++].severity = al->severity;
		qsort(r->firing, r->n_firing, sizeof(r->firing[0]), by_severity);
		return;
	}
	if (i < r->n_firing) {
		memmove(&r->firing[i], &r->firing[i + 1], (r->n_firing - i - 1) * sizeof(r->firing[0]));
		r->n_firing--;
		m->alerts_firing--;
	} else if (r->n_firing_more) { /* one of those not shown */
		r->n_firing_more--;
		m->alerts_firing--;
	}
}

static void forget(struct top_model *m, uint64_t id)
{
	struct top_row *r = cgp_idmap_del(&m->rows, id);

	if (r)
		m->alerts_firing -= r->n_firing + r->n_firing_more;
	free(r);
}

void top_model_event(struct top_model *m, const Cgpulse__V1__Event *ev, uint64_t now_ns)
{
	struct top_row *r;

	m->events++;
	if (ev->instance_id && strcmp(ev->instance_id, m->instance_id))
		snprintf(m->instance_id, sizeof(m->instance_id), "%s", ev->instance_id);
	if (ev->node && strcmp(ev->node, m->node))
		snprintf(m->node, sizeof(m->node), "%s", ev->node);
	switch (ev->body_case) {
	case CGPULSE__V1__EVENT__BODY_SAMPLE:
		m->last_sample_ts_ns = ev->ts_ns;
		take_sample(m, ev->sample, now_ns);
		break;
	case CGPULSE__V1__EVENT__BODY_ALERT:
		take_alert(m, ev->alert, now_ns);
		break;
	case CGPULSE__V1__EVENT__BODY_OOM_KILL:
		/* the next sample brings the kernel's count; until then, count this one */
		r = cgp_idmap_get(&m->rows, ev->oom_kill->cgroup_id);
		if (r)
			r->oom_kills++;
		break;
	case CGPULSE__V1__EVENT__BODY_CGROUP_STOPPED:
		forget(m, ev->cgroup_stopped->cgroup_id);
		break;
	case CGPULSE__V1__EVENT__BODY_GAP:
		m->gaps++;
		m->missed += ev->gap->missed;
		break;
	default:
		break;
	}
}

void top_model_expire(struct top_model *m, uint64_t now_ns, unsigned intervals)
{
	uint64_t max_age = (uint64_t)((m->window_s > 0 ? m->window_s : 1) * 1e9) * intervals;

	/* a removal moves a later entry into slot i: look at slot i again */
	for (size_t i = 0; i < m->rows.cap;) {
		struct top_row *r = m->rows.keys[i] ? m->rows.vals[i] : NULL;

		if (r && now_ns > r->seen_ns && now_ns - r->seen_ns > max_age)
			forget(m, r->cgroup_id);
		else
			i++;
	}
}

static const struct {
	const char *title;
	char key;
} cols[TOP_COL_MAX] = {
    [TOP_COL_NAME] = {"NAME", 'n'},	[TOP_COL_CPU] = {"CPU", 'c'},	    [TOP_COL_CPU_PCT] = {"CPU%", 'C'},
    [TOP_COL_THR_PCT] = {"THR%", 't'},	[TOP_COL_MEM] = {"MEM", 'm'},	    [TOP_COL_MEM_PCT] = {"MEM%", 'M'},
    [TOP_COL_PSI_MEM] = {"PSIm%", 'p'}, [TOP_COL_PSI_CPU] = {"PSIc%", 'P'}, [TOP_COL_OOM] = {"OOM", 'o'},
    [TOP_COL_ALERTS] = {"ALERTS", 'a'},
};

const char *top_col_title(enum top_col c)
{
	return (unsigned)c < TOP_COL_MAX ? cols[c].title : "?";
}

char top_col_key(enum top_col c)
{
	return (unsigned)c < TOP_COL_MAX ? cols[c].key : 0;
}

/* The value a column sorts by; absent figures sort below every present one. */
static double key_of(const struct top_row *r, enum top_col c)
{
	switch (c) {
	case TOP_COL_CPU:
		return r->has_cpu ? r->cpu_cores : -1;
	case TOP_COL_CPU_PCT:
		return r->has_cpu ? r->cpu_pct : -1;
	case TOP_COL_THR_PCT:
		return r->has_thr ? r->thr_pct : -1;
	case TOP_COL_MEM:
		return r->has_mem ? (double)r->mem_bytes : -1;
	case TOP_COL_MEM_PCT:
		return r->has_mem ? r->mem_pct : -1;
	case TOP_COL_PSI_MEM:
		return r->has_psi_mem ? r->psi_mem_pct : -1;
	case TOP_COL_PSI_CPU:
		return r->has_psi_cpu ? r->psi_cpu_pct : -1;
	case TOP_COL_OOM:
		return (double)r->oom_kills;
	case TOP_COL_ALERTS:
		return r->n_firing + r->n_firing_more ? r->firing[0].severity * 1000.0 + r->n_firing : 0;
	default:
		return 0;
	}
}

static const struct top_view_opts *sorting; /* qsort has no context argument */

static int compare(const void *a, const void *b)
{
	const struct top_row *x = *(const struct top_row *const *)a, *y = *(const struct top_row *const *)b;
	int c;

	if (sorting->sort == TOP_COL_NAME) {
		c = strcmp(x->name, y->name);
	} else {
		double kx = key_of(x, sorting->sort), ky = key_of(y, sorting->sort);

		c = kx < ky ? 1 : kx > ky ? -1 : 0; /* largest first */
		if (!c) /* ties in a stable order, so rows do not jump about between refreshes */
			return strcmp(x->name, y->name);
	}
	return sorting->ascending ? -c : c;
}

size_t top_model_select(const struct top_model *m, const struct top_view_opts *o, const struct top_row **out,
			size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < m->rows.cap && n < max; i++) {
		const struct top_row *r = m->rows.keys[i] ? m->rows.vals[i] : NULL;

		if (!r || (!o->all && !r->is_container))
			continue;
		if (o->filter && *o->filter && !strstr(r->name, o->filter) && !strstr(r->path, o->filter))
			continue;
		out[n++] = r;
	}
	sorting = o;
	qsort(out, n, sizeof(*out), compare);
	return n;
}
