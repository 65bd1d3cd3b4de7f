// SPDX-License-Identifier: GPL-2.0
/* /metrics/cadvisor: cAdvisor's families over the latest samples of the selected cgroups. */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/idmap.h"
#include "sinks/cadvisor.h"
#include "sinks/expo_text.h"
#include "sinks/metrics.h"
#include "sinks/page_copy.h"

/* cAdvisor writes a memory limit above this (v1's "unlimited" is PAGE_COUNTER_MAX pages) as 0: no limit */
#define MAX_MEMORY_SIZE (1ULL << 62)

/* A pod's names, learned from its containers (the pod's own cgroup has no runtime state to read them from). */
struct podname {
	char *uid, *pod, *ns;
	unsigned refs; /* containers holding it */
	uint64_t rev;  /* new (never 0) when it is made and whenever its names change: the pod's cgroup relabels */
};

struct cg {
	uint64_t id;
	char *labels; /* container="…",id="…",image="…",name="…",namespace="…",pod="…" (the kubelet's, sorted) */
	size_t labels_len;
	uint64_t labels_rev;	 /* of the attribution they were made from (0: make them again) */
	uint64_t labels_pod_rev; /* a pod's own cgroup: of its pod's names they were made with (0: none) */
	struct podname *pn;	 /* a container's pod (a reference), NULL otherwise */
	bool always;		 /* true: families every cgroup has */
	uint64_t start_ns, last_ns;
	uint64_t cpu_usage_ns; /* cpu.stat usage (user + system) where known, else cgpulse's own total */
	bool has_user_system, has_bandwidth, has_cpu_spec, has_quota;
	uint64_t user_ns, system_ns, periods, throttled_periods, throttled_ns;
	uint64_t quota_us, period_us, shares;
	bool has_mem, has_mem_stat, has_swap, has_psi;
	uint64_t usage, peak, working_set, rss, cache, swap, oom_kills, limit;
	uint64_t psi_ns[CGP_PSI_MAX];
};
_Static_assert(offsetof(struct cg, id) == 0, "a page sorts its copies by the id they start with");

struct cgp_cadvisor {
	struct cgp_cadvisor_cfg cfg;
	struct cgp_idmap cgs;	  /* cgroup id → struct cg: the cgroups with series */
	struct cgp_idmap refused; /* cgroup id → &refused_mark: selected, but the cap was reached */
	struct cgp_idmap pods;	  /* cgp_idmap_strkey(pod uid) → struct podname */
	uint64_t refused_total;
	uint64_t labels_made;	/* label sets escaped: once per change of names, not per sample */
	uint64_t pod_revs;	/* the last podname.rev given */
	struct cgp_buf scratch; /* a sample's labels, to compare with those its cgroup has */
};

static char refused_mark;

int cgp_cadvisor_parse_select(const char *arg, struct cgp_cadvisor_cfg *cfg, char *why, size_t whylen)
{
	if (!strcmp(arg, "all")) {
		cfg->select = CGP_CADVISOR_ALL;
	} else if (!strcmp(arg, "containers")) {
		cfg->select = CGP_CADVISOR_CONTAINERS;
	} else if (arg[0] == '/') {
		cfg->select = CGP_CADVISOR_GLOB;
		cfg->glob = arg;
	} else {
		snprintf(why, whylen,
			 "'%s' is neither \"all\", \"containers\" nor a glob of cgroup paths (starting with '/')", arg);
		return -EINVAL;
	}
	return 0;
}

struct cgp_cadvisor *cgp_cadvisor_new(const struct cgp_cadvisor_cfg *cfg)
{
	struct cgp_cadvisor *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->cfg = *cfg;
	if (!c->cfg.max_cgroups)
		c->cfg.max_cgroups = CGP_CADVISOR_DEFAULT_MAX_CGROUPS;
	if (cgp_idmap_init(&c->cgs, 64) || cgp_idmap_init(&c->refused, 16) || cgp_idmap_init(&c->pods, 16)) {
		cgp_idmap_free(&c->cgs);
		cgp_idmap_free(&c->refused);
		free(c);
		return NULL;
	}
	return c;
}

static void podname_free(void *p)
{
	struct podname *pn = p;

	if (pn) {
		free(pn->uid);
		free(pn->pod);
		free(pn->ns);
		free(pn);
	}
}

static void pod_unref(struct cgp_cadvisor *c, struct podname *pn)
{
	if (pn && !--pn->refs)
		podname_free(cgp_idmap_del(&c->pods, cgp_idmap_strkey(pn->uid)));
}

static void cg_free(struct cgp_cadvisor *c, struct cg *g)
{
	if (g) {
		pod_unref(c, g->pn);
		free(g->labels);
		free(g);
	}
}

void cgp_cadvisor_free(struct cgp_cadvisor *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cgs.cap; i++)
		if (c->cgs.keys[i])
			cg_free(c, c->cgs.vals[i]);
	cgp_idmap_free(&c->cgs);
	cgp_idmap_free(&c->refused);
	cgp_idmap_free_all(&c->pods, podname_free);
	cgp_buf_free(&c->scratch);
	free(c);
}

static bool selected(const struct cgp_cadvisor *c, const struct cgp_attribution *a)
{
	if (c->cfg.select == CGP_CADVISOR_ALL || a->is_container || a->pod_uid[0] || !strcmp(a->path, "/"))
		return true;
	return c->cfg.select == CGP_CADVISOR_GLOB && fnmatch(c->cfg.glob, a->path, 0) == 0;
}

/* Replaces *dst with a copy of src when they differ. 0 or -ENOMEM. */
static int set_str(char **dst, const char *src)
{
	char *d;

	if (*dst && !strcmp(*dst, src))
		return 0;
	d = strdup(src);
	if (!d)
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

/* The container's pod, with the names it now knows. NULL (not an error) when the container is in no pod. */
static int pod_ref(struct cgp_cadvisor *c, const struct cgp_attribution *a, struct podname **out)
{
	uint64_t key = cgp_idmap_strkey(a->pod_uid);
	struct podname *pn = cgp_idmap_get(&c->pods, key);

	*out = NULL;
	if (!a->pod_uid[0] || (pn && strcmp(pn->uid, a->pod_uid))) /* no pod, or another pod's hash: unnamed */
		return 0;
	if (!pn) {
		pn = calloc(1, sizeof(*pn));
		if (!pn || !(pn->uid = strdup(a->pod_uid)) || cgp_idmap_put(&c->pods, key, pn)) {
			podname_free(pn);
			return -ENOMEM;
		}
		pn->rev = ++c->pod_revs;
	}
	pn->refs++;
	*out = pn;
	return 0;
}

/* What the container's runtime says its pod is called (names arrive after the cgroup): 0 or -ENOMEM. */
static int pod_names(struct cgp_cadvisor *c, struct podname *pn, const struct cgp_attribution *a)
{
	if (!pn || !((a->pod[0] && (!pn->pod || strcmp(pn->pod, a->pod))) ||
		     (a->pod_namespace[0] && (!pn->ns || strcmp(pn->ns, a->pod_namespace)))))
		return 0;
	pn->rev = ++c->pod_revs; /* even when a copy fails below: the pod's cgroup looks again */
	if ((a->pod[0] && set_str(&pn->pod, a->pod)) || (a->pod_namespace[0] && set_str(&pn->ns, a->pod_namespace)))
		return -ENOMEM;
	return 0;
}

/* The pod whose names a pod's own cgroup takes (from its containers'), or NULL. */
static const struct podname *pod_of(const struct cgp_cadvisor *c, const struct cgp_attribution *a)
{
	const struct podname *pn;

	if (a->is_container || !a->pod_uid[0])
		return NULL;
	pn = cgp_idmap_get(&c->pods, cgp_idmap_strkey(a->pod_uid));
	return pn && !strcmp(pn->uid, a->pod_uid) ? pn : NULL;
}

/* The kubelet's label set into c->scratch, NUL-terminated. A pod's own cgroup has container="" and its pod's
 * names (from its containers). 0 or -ENOMEM. */
static int labels_of(struct cgp_cadvisor *c, const struct cgp_attribution *a)
{
	struct cgp_text w = {.b = &c->scratch};
	const struct podname *pn = pod_of(c, a);
	const char *pod = pn ? pn->pod : a->pod, *ns = pn ? pn->ns : a->pod_namespace;

	c->labels_made++;
	cgp_buf_clear(&c->scratch);
	cgp_metrics_put_label(&w, "container", a->is_container ? a->container_name : "", true);
	cgp_metrics_put_label(&w, "id", a->path, false);
	cgp_metrics_put_label(&w, "image", a->is_container ? a->image : "", false);
	cgp_metrics_put_label(&w, "name", a->is_container ? a->container_id : "", false);
	cgp_metrics_put_label(&w, "namespace", ns, false);
	cgp_metrics_put_label(&w, "pod", pod, false);
	if (!w.err)
		w.err = cgp_buf_append(&c->scratch, "", 1);
	return w.err;
}

/* The cgroup's entry, made when it is selected and under the cap; NULL when it gets no series (*err set on
 * ENOMEM). */
static struct cg *admit(struct cgp_cadvisor *c, const struct cgp_sample *s, const struct cgp_attribution *a, int *err)
{
	struct cg *g = cgp_idmap_get(&c->cgs, s->cgroup_id);

	*err = 0;
	if (g || !selected(c, a))
		return g;
	if (c->cgs.len >= c->cfg.max_cgroups) {
		if (!cgp_idmap_get(&c->refused, s->cgroup_id)) {
			*err = cgp_idmap_put(&c->refused, s->cgroup_id, &refused_mark);
			c->refused_total += !*err;
		}
		return NULL;
	}
	cgp_idmap_del(&c->refused, s->cgroup_id); /* a place came free */
	g = calloc(1, sizeof(*g));
	if (!g || cgp_idmap_put(&c->cgs, s->cgroup_id, g)) {
		free(g);
		*err = -ENOMEM;
		return NULL;
	}
	g->id = s->cgroup_id;
	g->always = true;
	if (a->is_container) /* on ENOMEM kept without its pod: a pod's cgroup then lacks its names */
		*err = pod_ref(c, a, &g->pn);
	return g;
}

static void take_figures(struct cg *g, const struct cgp_sample *s, uint64_t start_ns)
{
	g->start_ns = start_ns;
	g->last_ns = s->ts_ns;
	g->has_user_system = s->has_cpu_user_system;
	g->user_ns = s->cpu_user_ns;
	g->system_ns = s->cpu_system_ns;
	/* cAdvisor's usage is the kernel's since the cgroup was made (cpu.stat usage = user + system here) */
	g->cpu_usage_ns = s->has_cpu_user_system ? s->cpu_user_ns + s->cpu_system_ns : s->cpu_ns_total;
	g->has_cpu_spec = s->has_cpu_spec;
	g->quota_us = s->cpu_quota_us;
	g->period_us = s->cpu_period_us;
	g->shares = s->cpu_shares;
	g->has_quota = s->has_cpu_spec && s->cpu_quota_us;
	/* as cAdvisor, the bandwidth counters only where a quota is set */
	g->has_bandwidth = s->has_cpu_bandwidth && g->has_quota;
	g->periods = s->cpu_periods;
	g->throttled_periods = s->cpu_throttled_periods;
	g->throttled_ns = s->cpu_throttled_ns;
	g->has_mem = s->has_mem;
	g->usage = s->mem_bytes;
	if (s->mem_bytes > g->peak)
		g->peak = s->mem_bytes;
	g->oom_kills = s->oom_kills;
	g->limit = s->mem_limit_bytes > MAX_MEMORY_SIZE ? 0 : s->mem_limit_bytes;
	g->has_mem_stat = s->has_mem && s->has_mem_stat;
	g->working_set = s->mem_working_set_bytes;
	g->rss = s->mem_anon_bytes;
	g->cache = s->mem_file_bytes;
	g->has_swap = s->has_mem && s->has_swap;
	g->swap = s->mem_swap_bytes;
	g->has_psi = s->has_psi;
	memcpy(g->psi_ns, s->psi_total_ns, sizeof(g->psi_ns));
}

int cgp_cadvisor_sample(struct cgp_cadvisor *c, const struct cgp_sample *s, const struct cgp_attribution *a,
			uint64_t start_ns)
{
	int err;
	struct cg *g = admit(c, s, a, &err);
	const struct podname *pn;
	uint64_t pod_rev;

	if (!g)
		return err;
	if (!err)
		err = pod_names(c, g->pn, a);
	pn = pod_of(c, a);
	pod_rev = pn ? pn->rev : 0;
	/* escaped only when the attribution was filled again since (or, for a pod's own cgroup, its pod's names
	 * changed), and copied only when they changed (set_str) */
	if (!g->labels || !a->rev || a->rev != g->labels_rev || pod_rev != g->labels_pod_rev) {
		if (labels_of(c, a) || set_str(&g->labels, (const char *)cgp_buf_head(&c->scratch))) {
			if (!g->labels) /* a new cgroup without labels cannot be rendered */
				cgp_cadvisor_gone(c, s->cgroup_id);
			return -ENOMEM;
		}
		g->labels_len = cgp_buf_size(&c->scratch) - 1; /* without its NUL */
		g->labels_rev = a->rev;
		g->labels_pod_rev = pod_rev;
	}
	take_figures(g, s, start_ns);
	return err;
}

void cgp_cadvisor_gone(struct cgp_cadvisor *c, uint64_t cgroup_id)
{
	cg_free(c, cgp_idmap_del(&c->cgs, cgroup_id));
	cgp_idmap_del(&c->refused, cgroup_id);
}

void cgp_cadvisor_get_stats(const struct cgp_cadvisor *c, struct cgp_cadvisor_stats *st)
{
	st->cgroups = c->cgs.len;
	st->over_cap = c->refused.len;
	st->refused_total = c->refused_total;
	st->labels_made = c->labels_made;
}

/* One family: a series for every cgroup whose flag at has_off is set, the value at val_off. */
struct family {
	const char *name, *type, *help;
	const char *extra; /* labels after the cgroup's (",k=\"v\""), or "" */
	enum cgp_expo_unit unit;
	size_t has_off, val_off;
};

#define FIG(has, val) offsetof(struct cg, has), offsetof(struct cg, val)

/* cAdvisor's names, types and HELP (google/cadvisor metrics/prometheus.go), in its order. */
static const struct family families[] = {
    {"container_last_seen", "gauge", "Last time a container was seen by the exporter", "", CGP_EXPO_SECONDS,
     FIG(always, last_ns)},
    {"container_cpu_user_seconds_total", "counter", "Cumulative user cpu time consumed in seconds.", "",
     CGP_EXPO_SECONDS, FIG(has_user_system, user_ns)},
    {"container_cpu_system_seconds_total", "counter", "Cumulative system cpu time consumed in seconds.", "",
     CGP_EXPO_SECONDS, FIG(has_user_system, system_ns)},
    {"container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.", ",cpu=\"total\"",
     CGP_EXPO_SECONDS, FIG(always, cpu_usage_ns)},
    {"container_cpu_cfs_periods_total", "counter", "Number of elapsed enforcement period intervals.", "",
     CGP_EXPO_COUNT, FIG(has_bandwidth, periods)},
    {"container_cpu_cfs_throttled_periods_total", "counter", "Number of throttled period intervals.", "",
     CGP_EXPO_COUNT, FIG(has_bandwidth, throttled_periods)},
    {"container_cpu_cfs_throttled_seconds_total", "counter", "Total time duration the container has been throttled.",
     "", CGP_EXPO_SECONDS, FIG(has_bandwidth, throttled_ns)},
    {"container_memory_cache", "gauge", "Number of bytes of page cache memory.", "", CGP_EXPO_COUNT,
     FIG(has_mem_stat, cache)},
    {"container_memory_rss", "gauge", "Size of RSS in bytes.", "", CGP_EXPO_COUNT, FIG(has_mem_stat, rss)},
    {"container_memory_swap", "gauge", "Container swap usage in bytes.", "", CGP_EXPO_COUNT, FIG(has_swap, swap)},
    {"container_memory_usage_bytes", "gauge",
     "Current memory usage in bytes, including all memory regardless of when it was accessed", "", CGP_EXPO_COUNT,
     FIG(has_mem, usage)},
    {"container_memory_max_usage_bytes", "gauge", "Maximum memory usage recorded in bytes", "", CGP_EXPO_COUNT,
     FIG(has_mem, peak)},
    {"container_memory_working_set_bytes", "gauge", "Current working set in bytes.", "", CGP_EXPO_COUNT,
     FIG(has_mem_stat, working_set)},
    {"container_oom_events_total", "counter", "Count of out of memory events observed for the container", "",
     CGP_EXPO_COUNT, FIG(has_mem, oom_kills)},
    {"container_pressure_cpu_stalled_seconds_total", "counter",
     "Total time duration no tasks in the container could make progress due to CPU congestion.", "", CGP_EXPO_SECONDS,
     FIG(has_psi, psi_ns[CGP_PSI_CPU_FULL])},
    {"container_pressure_cpu_waiting_seconds_total", "counter",
     "Total time duration tasks in the container have waited due to CPU congestion.", "", CGP_EXPO_SECONDS,
     FIG(has_psi, psi_ns[CGP_PSI_CPU_SOME])},
    {"container_pressure_memory_stalled_seconds_total", "counter",
     "Total time duration no tasks in the container could make progress due to memory congestion.", "",
     CGP_EXPO_SECONDS, FIG(has_psi, psi_ns[CGP_PSI_MEM_FULL])},
    {"container_pressure_memory_waiting_seconds_total", "counter",
     "Total time duration tasks in the container have waited due to memory congestion.", "", CGP_EXPO_SECONDS,
     FIG(has_psi, psi_ns[CGP_PSI_MEM_SOME])},
    {"container_pressure_io_stalled_seconds_total", "counter",
     "Total time duration no tasks in the container could make progress due to IO congestion.", "", CGP_EXPO_SECONDS,
     FIG(has_psi, psi_ns[CGP_PSI_IO_FULL])},
    {"container_pressure_io_waiting_seconds_total", "counter",
     "Total time duration tasks in the container have waited due to IO congestion.", "", CGP_EXPO_SECONDS,
     FIG(has_psi, psi_ns[CGP_PSI_IO_SOME])},
    {"container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds.", "",
     CGP_EXPO_SECONDS, FIG(always, start_ns)},
    {"container_spec_cpu_period", "gauge", "CPU period of the container.", "", CGP_EXPO_COUNT,
     FIG(has_cpu_spec, period_us)},
    {"container_spec_cpu_quota", "gauge", "CPU quota of the container.", "", CGP_EXPO_COUNT, FIG(has_quota, quota_us)},
    {"container_spec_cpu_shares", "gauge", "CPU share of the container.", "", CGP_EXPO_COUNT,
     FIG(has_cpu_spec, shares)},
    {"container_spec_memory_limit_bytes", "gauge", "Memory limit for the container.", "", CGP_EXPO_COUNT,
     FIG(has_mem, limit)},
};

/* The cgroup's series of family f, when it has the figure. */
static void put_series(struct cgp_text *w, const struct family *f, const struct cg *g)
{
	const char *p = (const char *)g;

	cgp_expo_series(w, (struct cgp_str){f->name, strlen(f->name)}, (struct cgp_str){g->labels, g->labels_len},
			(struct cgp_str){f->extra, strlen(f->extra)}, f->unit, *(const uint64_t *)(p + f->val_off));
}

#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* A page: the figures as they were when it was asked for, written a piece at a time. */
struct cgp_cadvisor_page {
	struct cg *v; /* copies, in id order, without their pod (sinks/page_copy.h) */
	size_t n;
	size_t f, i;  /* the next series to write: families[f], v[i]; f == N_FAMILIES: none */
	bool started; /* container_scrape_error is written */
	bool written; /* families[f] has its HELP and TYPE */
};

struct cgp_cadvisor_page *cgp_cadvisor_page_new(const struct cgp_cadvisor *c)
{
	struct cgp_cadvisor_page *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->v = cgp_page_copy(&c->cgs, sizeof(struct cg), offsetof(struct cg, labels), &p->n);
	if (p->n && !p->v) {
		free(p);
		return NULL;
	}
	for (size_t i = 0; i < p->n; i++) /* the pod is the store's: a page has no use for it */
		p->v[i].pn = NULL;
	return p;
}

void cgp_cadvisor_page_free(struct cgp_cadvisor_page *p)
{
	if (p) {
		free(p->v);
		free(p);
	}
}

int cgp_cadvisor_page_next(struct cgp_cadvisor_page *p, struct cgp_buf *out, size_t want, bool *done)
{
	struct cgp_text w = {.b = out};
	size_t start = out->len;

	if (!p->started) {
		/* cAdvisor's own health: 0, the figures come from the sweep, not from reads that can fail here */
		cgp_text_puts(&w,
			      "# HELP container_scrape_error 1 if there was an error while getting container "
			      "metrics, 0 otherwise\n# TYPE container_scrape_error gauge\ncontainer_scrape_error 0\n");
		p->started = true;
	}
	while (!w.err && p->f < N_FAMILIES && out->len - start < want) {
		const struct family *f = &families[p->f];
		const struct cg *g;

		if (p->i == p->n) {
			p->f++;
			p->i = 0;
			p->written = false;
			continue;
		}
		g = &p->v[p->i++];
		if (!*(const bool *)((const char *)g + f->has_off))
			continue;
		if (!p->written)
			cgp_text_printf(&w, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name, f->type);
		p->written = true;
		put_series(&w, f, g);
	}
	*done = p->f == N_FAMILIES;
	return w.err;
}

int cgp_cadvisor_render(const struct cgp_cadvisor *c, struct cgp_buf *out)
{
	struct cgp_cadvisor_page *p = cgp_cadvisor_page_new(c);
	bool done = false;
	int err;

	if (!p)
		return -ENOMEM;
	err = cgp_cadvisor_page_next(p, out, SIZE_MAX, &done);
	cgp_cadvisor_page_free(p);
	return err;
}
