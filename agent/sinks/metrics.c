// SPDX-License-Identifier: GPL-2.0
/* Prometheus text exposition of the latest samples and the agent's own counters. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/fmt_double.h"
#include "lib/idmap.h"
#include "sinks/expo_text.h"
#include "sinks/metrics.h"
#include "sinks/page_copy.h"
#include "collect/runq_hist.h"
#include "lib/utf8.h"

/* The run-queue histogram's finite buckets: slot i < CGP_RUNQ_SLOTS - 1 ends at 2^i us; the last slot is open. */
#define RUNQ_FINITE (CGP_RUNQ_SLOTS - 1)

struct cg {
	uint64_t id;
	char *labels; /* cgroup_id="…",path="…",… escaped once per change of names, not once per series */
	size_t labels_len;
	uint64_t labels_rev; /* of the attribution they were made from (0: make them again) */
	uint64_t cpu_ns_total;
	double cpu_limit_cores;
	bool has_mem;
	uint64_t mem_bytes, mem_limit_bytes, oom_kills;
	uint64_t voluntary, involuntary;
	uint64_t runq[CGP_RUNQ_SLOTS]; /* cumulative over every window seen: a histogram is a counter */
	double runq_sum_s;
	/* figures the kernel may lack, each under its flag (struct cgp_sample's has_ flags) */
	bool has_mem_stat, has_swap, has_mem_events, has_events_high, has_events_group_kill;
	uint64_t working_set, inactive_file, anon, file, swap;
	uint64_t ev_max, ev_oom, ev_high, ev_group_kill;
	bool has_cpu_bandwidth, has_cpu_user_system, has_psi;
	uint64_t periods, throttled_periods, throttled_ns, user_ns, system_ns;
	uint64_t psi_ns[CGP_PSI_MAX];
};
_Static_assert(offsetof(struct cg, id) == 0, "a page sorts its copies by the id they start with");

struct cgp_metrics {
	struct cgp_idmap cgs;	/* cgroup id → struct cg */
	struct cgp_buf scratch; /* a sample's labels, to compare with those its cgroup has */
	uint64_t labels_made;	/* label sets escaped (tests: once per change of names, not per sample) */
	bool has_agent;
	struct cgp_agent_counters agent;
};

/* Shortest of %.15g / %.17g that reads back as the same double (lib/fmt_double.h: the same text without printf,
 * which was ~3,600 instructions a cgroup). */
static void put_double(struct cgp_text *w, double v)
{
	char s[CGP_FMT_DOUBLE_MAX];
	size_t n = cgp_fmt_double_expo(s, v);

	if (!w->err)
		w->err = cgp_buf_append(w->b, s, n);
}

/* Nanoseconds as exact decimal seconds. */
static void put_ns_as_s(struct cgp_text *w, uint64_t ns)
{
	char s[32];

	if (!w->err)
		w->err = cgp_buf_append(w->b, s, cgp_expo_seconds(s, ns));
}

int cgp_metrics_escape_label(struct cgp_buf *out, const char *v)
{
	size_t n = strlen(v);
	char stack[512], *clean = n < sizeof(stack) ? stack : malloc(n + 1);
	int err = 0;

	if (!clean)
		return -ENOMEM;
	n = cgp_utf8_sanitize(clean, n + 1, v, n);
	for (size_t i = 0; i < n && !err; i++) {
		switch (clean[i]) {
		case '\\':
			err = cgp_buf_append(out, "\\\\", 2);
			break;
		case '"':
			err = cgp_buf_append(out, "\\\"", 2);
			break;
		case '\n':
			err = cgp_buf_append(out, "\\n", 2);
			break;
		default:
			err = cgp_buf_append(out, &clean[i], 1);
		}
	}
	if (clean != stack)
		free(clean);
	return err;
}

static void put_label(struct cgp_text *w, const char *name, const char *v, bool first)
{
	cgp_text_printf(w, "%s%s=\"", first ? "" : ",", name);
	if (!w->err)
		w->err = cgp_metrics_escape_label(w->b, v ? v : "");
	cgp_text_puts(w, "\"");
}

void cgp_metrics_put_label(struct cgp_text *w, const char *name, const char *v, bool first)
{
	put_label(w, name, v, first);
}

struct cgp_metrics *cgp_metrics_new(void)
{
	struct cgp_metrics *m = calloc(1, sizeof(*m));

	if (m && cgp_idmap_init(&m->cgs, 64)) {
		free(m);
		return NULL;
	}
	return m;
}

static void cg_free(void *p)
{
	struct cg *c = p;

	if (c) {
		free(c->labels);
		free(c);
	}
}

void cgp_metrics_free(struct cgp_metrics *m)
{
	if (!m)
		return;
	cgp_idmap_free_all(&m->cgs, cg_free);
	cgp_buf_free(&m->scratch);
	free(m);
}

/* The cgroup's labels into m->scratch, NUL-terminated. 0 or -ENOMEM. */
static int labels_of(struct cgp_metrics *m, uint64_t cgroup_id, const struct cgp_attribution *a)
{
	struct cgp_text w = {.b = &m->scratch};

	m->labels_made++;
	cgp_buf_clear(&m->scratch);
	cgp_text_printf(&w, "cgroup_id=\"%" PRIu64 "\"", cgroup_id);
	put_label(&w, "path", a->path, false);
	put_label(&w, "container_id", a->container_id, false);
	put_label(&w, "pod", a->pod, false);
	put_label(&w, "namespace", a->pod_namespace, false);
	put_label(&w, "container", a->container_name, false);
	if (!w.err)
		w.err = cgp_buf_append(&m->scratch, "", 1);
	return w.err;
}

int cgp_metrics_sample(struct cgp_metrics *m, const struct cgp_sample *s, const struct cgp_attribution *a)
{
	struct cg *c = cgp_idmap_get(&m->cgs, s->cgroup_id);
	/* names rarely change: escaped when the attribution was filled again since, not every sweep (at 1,000
	 * cgroups escaping them each time was half of the agent's instructions) */
	bool relabel = !c || !c->labels || !a->rev || a->rev != c->labels_rev;
	const char *labels;
	double lo, hi;

	if (relabel && labels_of(m, s->cgroup_id, a))
		return -ENOMEM;
	labels = (const char *)cgp_buf_head(&m->scratch);
	if (!c) {
		c = calloc(1, sizeof(*c));
		if (!c || cgp_idmap_put(&m->cgs, s->cgroup_id, c)) {
			free(c);
			return -ENOMEM;
		}
		c->id = s->cgroup_id;
	}
	/* and copied only when they changed, not one allocation per cgroup per sweep */
	if (relabel && (!c->labels || strcmp(c->labels, labels))) {
		char *l = strdup(labels);

		if (!l) {
			if (!c->labels) /* a new cgroup without labels cannot be rendered */
				cg_free(cgp_idmap_del(&m->cgs, s->cgroup_id));
			return -ENOMEM;
		}
		free(c->labels);
		c->labels = l;
		c->labels_len = strlen(l);
	}
	if (relabel)
		c->labels_rev = a->rev;
	c->cpu_ns_total = s->cpu_ns_total;
	c->cpu_limit_cores = s->cpu_limit_cores;
	c->has_mem = s->has_mem;
	c->mem_bytes = s->mem_bytes;
	c->mem_limit_bytes = s->mem_limit_bytes;
	c->oom_kills = s->oom_kills;
	c->voluntary = s->voluntary_switches;
	c->involuntary = s->involuntary_switches;
	c->has_mem_stat = s->has_mem_stat;
	c->working_set = s->mem_working_set_bytes;
	c->inactive_file = s->mem_inactive_file_bytes;
	c->anon = s->mem_anon_bytes;
	c->file = s->mem_file_bytes;
	c->has_swap = s->has_swap;
	c->swap = s->mem_swap_bytes;
	c->has_mem_events = s->has_mem_events;
	c->ev_max = s->mem_events_max;
	c->ev_oom = s->mem_events_oom;
	c->has_events_high = s->has_mem_events_high;
	c->ev_high = s->mem_events_high;
	c->has_events_group_kill = s->has_mem_events_oom_group_kill;
	c->ev_group_kill = s->mem_events_oom_group_kill;
	c->has_cpu_bandwidth = s->has_cpu_bandwidth;
	c->periods = s->cpu_periods;
	c->throttled_periods = s->cpu_throttled_periods;
	c->throttled_ns = s->cpu_throttled_ns;
	c->has_cpu_user_system = s->has_cpu_user_system;
	c->user_ns = s->cpu_user_ns;
	c->system_ns = s->cpu_system_ns;
	c->has_psi = s->has_psi;
	memcpy(c->psi_ns, s->psi_total_ns, sizeof(c->psi_ns));
	for (unsigned i = 0; i < CGP_RUNQ_SLOTS; i++) {
		if (!s->runq_hist_window[i])
			continue;
		c->runq[i] += s->runq_hist_window[i];
		/* only slot counts are known: each wait counts at its slot's midpoint (the open last slot at its
		 * lower bound) */
		cgp_runq_slot_bounds(i, &lo, &hi);
		c->runq_sum_s += (double)s->runq_hist_window[i] * (i == CGP_RUNQ_SLOTS - 1 ? lo : (lo + hi) / 2) / 1e6;
	}
	return 0;
}

uint64_t cgp_metrics_labels_made(const struct cgp_metrics *m)
{
	return m->labels_made;
}

void cgp_metrics_gone(struct cgp_metrics *m, uint64_t cgroup_id)
{
	cg_free(cgp_idmap_del(&m->cgs, cgroup_id));
}

void cgp_metrics_set_agent(struct cgp_metrics *m, const struct cgp_agent_counters *c)
{
	m->agent = *c;
	m->has_agent = true;
}

static void family(struct cgp_text *w, const char *name, const char *type, const char *help)
{
	cgp_text_printf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* How one family writes a cgroup's series. */
enum put {
	P_U64,	     /* name{labels extra} v: the whole number at val_off */
	P_SECONDS,   /* the same, ns at val_off written as exact seconds */
	P_CORES,     /* the double at val_off, a series only when > 0 */
	P_MEM_LIMIT, /* the memory limit, a series only where memory is known and limited */
	P_RUNQ,	     /* the run-queue histogram: buckets, _sum, _count */
	P_SWITCHES,  /* context switches: voluntary and involuntary */
};

#define ALWAYS SIZE_MAX /* has_off of a family every cgroup has */

/* One family of per-cgroup series, written for one cgroup at a time (so a page can stop between cgroups): the
 * HELP and TYPE lines before its first series, none when no cgroup has the figure (the flag at has_off). */
struct step {
	const char *name, *type, *help;
	const char *extra; /* labels after the cgroup's (",k=\"v\""), or "" */
	enum put put;
	size_t has_off, val_off;
	bool cont; /* more series of the step before's family: one HELP and TYPE for both */
};

#define CG_FIG(has, val) offsetof(struct cg, has), offsetof(struct cg, val)
#define CG_ALWAYS(val)	 ALWAYS, offsetof(struct cg, val)
#define PSI_STEP(k, labels)                                                                                            \
	{                                                                                                              \
		"cgpulse_cgroup_pressure_seconds_total", "counter",                                                    \
		    "Pressure stall time (cpu/memory/io.pressure total=): some = at least one task stalled on the "    \
		    "resource, "                                                                                       \
		    "full = all non-idle tasks at once; the root's is the system's.",                                  \
		    labels, P_SECONDS, CG_FIG(has_psi, psi_ns[k]), k != CGP_PSI_CPU_SOME                               \
	}

static const char mem_events_help[] = "memory.events counters: high (over memory.high, v2 only), max (a charge hit "
				      "the limit), oom (the OOM killer was invoked), oom_kill, oom_group_kill (v2, "
				      "kernels since 5.16).";

/* The per-cgroup families, in the order they are written; cgroups in id order within each. */
static const struct step steps[] = {
    {"cgpulse_cgroup_cpu_seconds_total", "counter",
     "CPU time of the cgroup's tasks since this agent instance first saw the cgroup.", "", P_SECONDS,
     CG_ALWAYS(cpu_ns_total), false},
    {"cgpulse_cgroup_cpu_limit_cores", "gauge",
     "CPU limit of the cgroup (CFS quota / period) in cores; absent when it has none.", "", P_CORES,
     CG_ALWAYS(cpu_limit_cores), false},
    {"cgpulse_cgroup_memory_bytes", "gauge", "Memory charged to the cgroup (memory.current or memory.usage_in_bytes).",
     "", P_U64, CG_FIG(has_mem, mem_bytes), false},
    {"cgpulse_cgroup_memory_limit_bytes", "gauge",
     "Memory limit of the cgroup (memory.max or memory.limit_in_bytes); absent when it has none.", "", P_MEM_LIMIT,
     CG_FIG(has_mem, mem_limit_bytes), false},
    {"cgpulse_cgroup_oom_kills_total", "counter",
     "OOM kills in the cgroup, the kernel's own count (memory.events oom_kill).", "", P_U64, CG_FIG(has_mem, oom_kills),
     false},
    /* the memory figures beyond usage: memory.stat, swap, memory.events */
    {"cgpulse_cgroup_memory_working_set_bytes", "gauge",
     "Working set: memory minus inactive file pages (as the kubelet judges memory).", "", P_U64,
     CG_FIG(has_mem_stat, working_set), false},
    {"cgpulse_cgroup_memory_inactive_file_bytes", "gauge",
     "Inactive file pages (memory.stat inactive_file, v1 total_inactive_file).", "", P_U64,
     CG_FIG(has_mem_stat, inactive_file), false},
    {"cgpulse_cgroup_memory_anon_bytes", "gauge", "Anonymous memory (memory.stat anon, v1 total_rss).", "", P_U64,
     CG_FIG(has_mem_stat, anon), false},
    {"cgpulse_cgroup_memory_file_bytes", "gauge", "Page cache (memory.stat file, v1 total_cache).", "", P_U64,
     CG_FIG(has_mem_stat, file), false},
    {"cgpulse_cgroup_memory_swap_bytes", "gauge",
     "Swap used (memory.swap.current, v1 memsw usage minus usage); absent where swap is not accounted.", "", P_U64,
     CG_FIG(has_swap, swap), false},
    /* one family, one series per counter the kernel keeps for that cgroup */
    {"cgpulse_cgroup_memory_events_total", "counter", mem_events_help, ",event=\"high\"", P_U64,
     CG_FIG(has_events_high, ev_high), false},
    {"cgpulse_cgroup_memory_events_total", "counter", mem_events_help, ",event=\"max\"", P_U64,
     CG_FIG(has_mem_events, ev_max), true},
    {"cgpulse_cgroup_memory_events_total", "counter", mem_events_help, ",event=\"oom\"", P_U64,
     CG_FIG(has_mem_events, ev_oom), true},
    {"cgpulse_cgroup_memory_events_total", "counter", mem_events_help, ",event=\"oom_kill\"", P_U64,
     CG_FIG(has_mem_events, oom_kills), true},
    {"cgpulse_cgroup_memory_events_total", "counter", mem_events_help, ",event=\"oom_group_kill\"", P_U64,
     CG_FIG(has_events_group_kill, ev_group_kill), true},
    /* CPU bandwidth (throttling) and user/system time, from cpu.stat's sources */
    {"cgpulse_cgroup_cpu_periods_total", "counter",
     "CFS bandwidth periods that elapsed with the cgroup runnable under a quota (cpu.stat nr_periods).", "", P_U64,
     CG_FIG(has_cpu_bandwidth, periods), false},
    {"cgpulse_cgroup_cpu_throttled_periods_total", "counter",
     "CFS bandwidth periods in which the cgroup was throttled (cpu.stat nr_throttled).", "", P_U64,
     CG_FIG(has_cpu_bandwidth, throttled_periods), false},
    {"cgpulse_cgroup_cpu_throttled_seconds_total", "counter",
     "Time the cgroup's runnable tasks were throttled (cpu.stat throttled_usec).", "", P_SECONDS,
     CG_FIG(has_cpu_bandwidth, throttled_ns), false},
    {"cgpulse_cgroup_cpu_user_seconds_total", "counter",
     "CPU time in user mode since the cgroup was made (cpu.stat user_usec).", "", P_SECONDS,
     CG_FIG(has_cpu_user_system, user_ns), false},
    {"cgpulse_cgroup_cpu_system_seconds_total", "counter",
     "CPU time in the kernel since the cgroup was made (cpu.stat system_usec).", "", P_SECONDS,
     CG_FIG(has_cpu_user_system, system_ns), false},
    /* PSI: one family, a series per resource and kind */
    PSI_STEP(CGP_PSI_CPU_SOME, ",resource=\"cpu\",kind=\"some\""),
    PSI_STEP(CGP_PSI_CPU_FULL, ",resource=\"cpu\",kind=\"full\""),
    PSI_STEP(CGP_PSI_MEM_SOME, ",resource=\"memory\",kind=\"some\""),
    PSI_STEP(CGP_PSI_MEM_FULL, ",resource=\"memory\",kind=\"full\""),
    PSI_STEP(CGP_PSI_IO_SOME, ",resource=\"io\",kind=\"some\""),
    PSI_STEP(CGP_PSI_IO_FULL, ",resource=\"io\",kind=\"full\""),
    {"cgpulse_cgroup_runq_wait_seconds", "histogram",
     "Time the cgroup's tasks waited runnable for a CPU, per wait, since this agent instance first saw the cgroup. "
     "Buckets are exact; _sum is approximate: each wait counts at its log2 bucket's midpoint.",
     "", P_RUNQ, CG_ALWAYS(runq), false},
    {"cgpulse_cgroup_context_switches_total", "counter",
     "Context switches of the cgroup's tasks: voluntary (blocked) or involuntary (preempted).", "", P_SWITCHES,
     CG_ALWAYS(voluntary), false},
};

#define N_STEPS (sizeof(steps) / sizeof(steps[0]))

static bool step_has(const struct step *s, const struct cg *c)
{
	const char *p = (const char *)c;

	if (s->put == P_CORES)
		return c->cpu_limit_cores > 0;
	if (s->put == P_MEM_LIMIT)
		return c->has_mem && c->mem_limit_bytes;
	return s->has_off == ALWAYS || *(const bool *)(p + s->has_off);
}

/* The run-queue histogram's bucket bounds as the page writes them (,le="…"), made once per page. */
struct le_bounds {
	struct cgp_str le[RUNQ_FINITE];
	char text[RUNQ_FINITE][24];
};

static void le_bounds_make(struct le_bounds *b)
{
	for (unsigned i = 0; i < RUNQ_FINITE; i++) {
		double lo, hi;
		int n;

		cgp_runq_slot_bounds(i, &lo, &hi);
		n = snprintf(b->text[i], sizeof(b->text[i]), ",le=\"%.7g\"", hi / 1e6);
		b->le[i] = (struct cgp_str){b->text[i], (size_t)n};
	}
}

#define STR(lit) ((struct cgp_str){lit, sizeof(lit) - 1})
#define CSTR(s)	 ((struct cgp_str){s, strlen(s)})

static void put_runq(struct cgp_text *w, const struct cg *c, const struct le_bounds *le)
{
	const struct cgp_str labels = {c->labels, c->labels_len};
	uint64_t cum = 0;

	for (unsigned b = 0; b < RUNQ_FINITE; b++) {
		cum += c->runq[b];
		cgp_expo_series(w, STR("cgpulse_cgroup_runq_wait_seconds_bucket"), labels, le->le[b], CGP_EXPO_COUNT,
				cum);
	}
	cum += c->runq[RUNQ_FINITE];
	cgp_expo_series(w, STR("cgpulse_cgroup_runq_wait_seconds_bucket"), labels, STR(",le=\"+Inf\""), CGP_EXPO_COUNT,
			cum);
	cgp_expo_series_double(w, STR("cgpulse_cgroup_runq_wait_seconds_sum"), labels, c->runq_sum_s);
	cgp_expo_series(w, STR("cgpulse_cgroup_runq_wait_seconds_count"), labels, STR(""), CGP_EXPO_COUNT, cum);
}

/* The steps' names and extra labels with their lengths: measured once per page, not twice per series. */
struct step_strs {
	struct cgp_str name[N_STEPS], extra[N_STEPS];
};

static void step_strs_make(struct step_strs *t)
{
	for (size_t i = 0; i < N_STEPS; i++) {
		t->name[i] = CSTR(steps[i].name);
		t->extra[i] = CSTR(steps[i].extra);
	}
}

/* The cgroup's series of the step's family (steps[k]). */
static void step_put(struct cgp_text *w, size_t k, const struct cg *c, const struct le_bounds *le,
		     const struct step_strs *t)
{
	const struct step *s = &steps[k];
	const char *p = (const char *)c + s->val_off;
	const struct cgp_str labels = {c->labels, c->labels_len};

	switch (s->put) {
	case P_U64:
	case P_MEM_LIMIT:
		cgp_expo_series(w, t->name[k], labels, t->extra[k], CGP_EXPO_COUNT, *(const uint64_t *)p);
		break;
	case P_SECONDS:
		cgp_expo_series(w, t->name[k], labels, t->extra[k], CGP_EXPO_SECONDS, *(const uint64_t *)p);
		break;
	case P_CORES:
		cgp_expo_series_double(w, t->name[k], labels, c->cpu_limit_cores);
		break;
	case P_RUNQ:
		put_runq(w, c, le);
		break;
	case P_SWITCHES:
		cgp_expo_series(w, t->name[k], labels, STR(",kind=\"voluntary\""), CGP_EXPO_COUNT, c->voluntary);
		cgp_expo_series(w, t->name[k], labels, STR(",kind=\"involuntary\""), CGP_EXPO_COUNT, c->involuntary);
		break;
	}
}

static void counter(struct cgp_text *w, const char *name, const char *help, uint64_t v)
{
	family(w, name, "counter", help);
	cgp_text_printf(w, "%s %" PRIu64 "\n", name, v);
}

static void gauge(struct cgp_text *w, const char *name, const char *help, uint64_t v)
{
	family(w, name, "gauge", help);
	cgp_text_printf(w, "%s %" PRIu64 "\n", name, v);
}

/* utime + stime of this process in seconds, and its resident set in bytes; false when /proc says nothing. */
static bool self_usage(double *cpu_s, uint64_t *rss)
{
	char buf[1024], *p;
	unsigned long long ut, st, pages;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n;
	bool ok = false;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* comm may hold spaces and parentheses: fields resume after the last ')'; utime and stime are 14, 15 */
	p = strrchr(buf, ')');
	if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) == 2) {
		*cpu_s = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		ok = true;
	}
	f = fopen("/proc/self/statm", "re");
	if (!f)
		return false;
	if (fscanf(f, "%*u %llu", &pages) == 1)
		*rss = pages * (uint64_t)sysconf(_SC_PAGESIZE);
	else
		ok = false;
	fclose(f);
	return ok;
}

static const char *const lost_reason[CGP_DROP_MAX] = {
    [CGP_DROP_SLOTS_FULL] = "slots_full",     [CGP_DROP_TASK_STORAGE] = "task_storage",
    [CGP_DROP_OOM_RINGBUF] = "oom_ringbuf",   [CGP_DROP_SWEEP_FULL] = "sweep_full",
    [CGP_DROP_CGROUP_EVENT] = "cgroup_event",
};

static const char *const endpoint_name[CGP_HTTP_EP_MAX] = {
    [CGP_HTTP_EP_METRICS] = "/metrics",	 [CGP_HTTP_EP_HEALTHZ] = "/healthz",
    [CGP_HTTP_EP_EVENTS] = "/v1/events", [CGP_HTTP_EP_CADVISOR] = "/metrics/cadvisor",
    [CGP_HTTP_EP_OTHER] = "other",
};

static const char *const refusal_name[CGP_REFUSED_MAX] = {
    [CGP_REFUSED_CONNECTION_LIMIT] = "connection_limit", [CGP_REFUSED_CLIENT_LIMIT] = "client_limit",
    [CGP_REFUSED_RESERVE_FULL] = "reserve_full",	 [CGP_REFUSED_RESERVE_EVICTED] = "reserve_evicted",
    [CGP_REFUSED_HEADER_DEADLINE] = "header_deadline",	 [CGP_REFUSED_ACCEPT_ERROR] = "accept_error",
};

static void render_http(struct cgp_text *w, const struct cgp_http_stats *h)
{
	family(w, "cgpulse_http_requests_total", "counter", "HTTP requests by endpoint.");
	for (int e = 0; e < CGP_HTTP_EP_MAX; e++)
		cgp_text_printf(w, "cgpulse_http_requests_total{endpoint=\"%s\"} %" PRIu64 "\n", endpoint_name[e],
				h->requests[e]);
	family(w, "cgpulse_http_request_errors_total", "counter",
	       "HTTP requests answered with a 4xx or 5xx, by endpoint.");
	for (int e = 0; e < CGP_HTTP_EP_MAX; e++)
		cgp_text_printf(w, "cgpulse_http_request_errors_total{endpoint=\"%s\"} %" PRIu64 "\n", endpoint_name[e],
				h->errors[e]);
	gauge(w, "cgpulse_http_event_streams", "Open /v1/events streams.", h->streams_open);
	counter(w, "cgpulse_http_event_streams_refused_total", "/v1/events requests refused: too many streams.",
		h->streams_refused);
	counter(w, "cgpulse_http_events_streamed_total", "Events written to /v1/events streams, once per stream.",
		h->events_streamed);
	counter(w, "cgpulse_http_gaps_sent_total", "Gap events sent to /v1/events consumers that fell behind.",
		h->gaps_sent);
	counter(w, "cgpulse_http_events_missed_total", "Events those Gap events said were missed.", h->events_missed);
	gauge(w, "cgpulse_http_ring_events", "Recent events held for /v1/events?since=.", h->ring_events);
	gauge(w, "cgpulse_http_ring_bytes", "Bytes of recent events held for /v1/events?since=.", h->ring_bytes);
	counter(w, "cgpulse_http_ring_evicted_total", "Events pushed out of the recent-events ring.", h->ring_evicted);
	family(w, "cgpulse_http_connections", "gauge",
	       "Open HTTP connections: the main pool, and the /healthz-only reserve for connections it turned away.");
	cgp_text_printf(w, "cgpulse_http_connections{pool=\"main\"} %" PRIu64 "\n", h->conns_main);
	cgp_text_printf(w, "cgpulse_http_connections{pool=\"reserve\"} %" PRIu64 "\n", h->conns_reserve);
	family(
	    w, "cgpulse_http_connections_refused_total", "counter",
	    "HTTP connections refused or cut, by reason: turned away from the main pool (connection_limit, "
	    "client_limit; each then tries a reserve slot), closed at once with the reserve full too (reserve_full), "
	    "closed to make room in the reserve (reserve_evicted), headers not complete in time (header_deadline), "
	    "accept(2) failing (accept_error).");
	for (int r = 0; r < CGP_REFUSED_MAX; r++)
		cgp_text_printf(w, "cgpulse_http_connections_refused_total{reason=\"%s\"} %" PRIu64 "\n",
				refusal_name[r], h->refused[r]);
	family(w, "cgpulse_http_auth_failures_total", "counter",
	       "Requests refused for their bearer token: 401 without one, 403 with a wrong one.");
	cgp_text_printf(w, "cgpulse_http_auth_failures_total{status=\"401\"} %" PRIu64 "\n", h->auth_missing);
	cgp_text_printf(w, "cgpulse_http_auth_failures_total{status=\"403\"} %" PRIu64 "\n", h->auth_wrong);
	gauge(w, "cgpulse_http_tls", "1 when the HTTP endpoint speaks only TLS.", h->tls);
	family(w, "cgpulse_http_credential_reloads_total", "counter",
	       "Changed TLS or token files taken (ok) or refused, the credentials in force staying (refused).");
	cgp_text_printf(w, "cgpulse_http_credential_reloads_total{file=\"tls\",result=\"ok\"} %" PRIu64 "\n",
			h->tls_reloads);
	cgp_text_printf(w, "cgpulse_http_credential_reloads_total{file=\"tls\",result=\"refused\"} %" PRIu64 "\n",
			h->tls_reloads_failed);
	cgp_text_printf(w, "cgpulse_http_credential_reloads_total{file=\"token\",result=\"ok\"} %" PRIu64 "\n",
			h->token_reloads);
	cgp_text_printf(w, "cgpulse_http_credential_reloads_total{file=\"token\",result=\"refused\"} %" PRIu64 "\n",
			h->token_reloads_failed);
}

/* One series per Alertmanager: name{alertmanager="URL"[,extra]} v */
static void per_am(struct cgp_text *w, const char *name, const char *url, const char *extra, uint64_t v)
{
	cgp_text_printf(w, "%s{", name);
	put_label(w, "alertmanager", url, true);
	cgp_text_printf(w, "%s%s} %" PRIu64 "\n", extra ? "," : "", extra ? extra : "", v);
}

static void render_alertmanager(struct cgp_text *w, const struct cgp_am_stats *a)
{
	const struct cgp_amq_target_stats *t = a->q.t;
	size_t i;

	family(w, "cgpulse_alertmanager_up", "gauge", "1 when the last post to this Alertmanager was answered.");
	for (i = 0; i < a->n_targets; i++)
		per_am(w, "cgpulse_alertmanager_up", a->url[i], NULL, t[i].up);
	family(w, "cgpulse_alertmanager_posts_total", "counter",
	       "Posts of alerts to each Alertmanager by result: ok (2xx), failed (unreachable, timed out, 5xx, 401, "
	       "403, 408, 429: retried), rejected (another 4xx).");
	for (i = 0; i < a->n_targets; i++) {
		per_am(w, "cgpulse_alertmanager_posts_total", a->url[i], "result=\"ok\"", t[i].posts_ok);
		per_am(w, "cgpulse_alertmanager_posts_total", a->url[i], "result=\"failed\"", t[i].posts_failed);
		per_am(w, "cgpulse_alertmanager_posts_total", a->url[i], "result=\"rejected\"", t[i].posts_rejected);
	}
	family(w, "cgpulse_alertmanager_retries_total", "counter",
	       "Posts to each Alertmanager made after the previous one had failed.");
	for (i = 0; i < a->n_targets; i++)
		per_am(w, "cgpulse_alertmanager_retries_total", a->url[i], NULL, t[i].retries);
	family(w, "cgpulse_alertmanager_alerts_sent_total", "counter",
	       "Alerts each Alertmanager acknowledged, by state; firing ones are re-sent every period.");
	for (i = 0; i < a->n_targets; i++) {
		per_am(w, "cgpulse_alertmanager_alerts_sent_total", a->url[i], "state=\"firing\"", t[i].sent_firing);
		per_am(w, "cgpulse_alertmanager_alerts_sent_total", a->url[i], "state=\"resolved\"",
		       t[i].sent_resolved);
	}
	family(w, "cgpulse_alertmanager_alerts_rejected_total", "counter",
	       "Alerts in posts an Alertmanager refused with a 4xx.");
	for (i = 0; i < a->n_targets; i++)
		per_am(w, "cgpulse_alertmanager_alerts_rejected_total", a->url[i], NULL, t[i].rejected);
	counter(w, "cgpulse_alertmanager_alerts_dropped_total",
		"Alerts lost to the queue's bound: a new one refused, or an undelivered resolve pushed out.",
		a->q.dropped_full);
	counter(w, "cgpulse_alertmanager_resolves_unmatched_total",
		"Resolves not sent because their firing alert had been dropped.", a->q.resolves_lost);
	gauge(w, "cgpulse_alertmanager_queue_alerts",
	      "Alerts held for the Alertmanagers: firing, and resolves not yet delivered to all.", a->q.alerts);
	gauge(w, "cgpulse_alertmanager_firing_alerts", "Of those, firing.", a->q.firing);
}

static void render_agent(struct cgp_text *w, const struct cgp_agent_counters *c)
{
	double cpu_s;
	uint64_t rss;

	counter(w, "cgpulse_events_published_total", "Events this agent instance gave a sequence number.",
		c->events_published);
	counter(w, "cgpulse_events_encode_failed_total",
		"Events lost to every sink because encoding them ran out of memory (consumers see the gap).",
		c->events_encode_failed);
	counter(w, "cgpulse_collector_events_sent_total", "Events the collector acknowledged.", c->events_sent);
	if (c->collector) {
		gauge(w, "cgpulse_collector_connected", "1 while connected to the collector.", c->collector_connected);
		counter(w, "cgpulse_collector_connects_total", "Connections made to the collector.",
			c->collector_connects);
		counter(w, "cgpulse_collector_failures_total",
			"Connects to the collector that failed, and connections lost.", c->collector_failures);
		counter(w, "cgpulse_collector_resolve_timeouts_total",
			"Lookups of the collector's name given up after the timeout (the loop never waits for one).",
			c->collector_resolve_timeouts);
		counter(w, "cgpulse_collector_batches_sent_total", "Batches sent to the collector, resends included.",
			c->collector_batches);
	}
	if (c->alertmanager)
		render_alertmanager(w, &c->am);
	counter(w, "cgpulse_spool_events_refused_total", "Events the spool could not take at all (larger than it).",
		c->spool_refused);
	family(w, "cgpulse_spool_events_dropped_total", "counter",
	       "Events dropped from the full spool before the collector acknowledged them, by kind.");
	cgp_text_printf(w, "cgpulse_spool_events_dropped_total{kind=\"sample\"} %" PRIu64 "\n",
			c->spool_dropped_samples);
	cgp_text_printf(w, "cgpulse_spool_events_dropped_total{kind=\"other\"} %" PRIu64 "\n", c->spool_dropped_others);
	gauge(w, "cgpulse_spool_events", "Events in the spool, waiting for the collector's acknowledgement.",
	      c->spool_events);
	gauge(w, "cgpulse_spool_bytes", "Bytes of events in the spool.", c->spool_bytes);
	gauge(w, "cgpulse_spool_memory_bytes", "Memory the spooled events take (bounded by --spool-bytes).",
	      c->spool_memory_bytes);
	gauge(w, "cgpulse_spool_instances",
	      "Agent instances with events in the spool: this one, and previous ones taken over from --spool-dir.",
	      c->spool_instances);
	counter(w, "cgpulse_spool_replayed_events_total",
		"Events of previous agent instances taken over from the spool directory at start.", c->spool_replayed);
	if (c->spool_disk) {
		gauge(w, "cgpulse_spool_disk_bytes", "Bytes of the spool directory (bounded by --spool-bytes).",
		      c->spool_disk_bytes);
		gauge(w, "cgpulse_spool_disk_segments", "Segment files in the spool directory.",
		      c->spool_disk_segments);
		counter(
		    w, "cgpulse_spool_disk_write_errors_total",
		    "Writes to the spool directory that failed (a full disk): those events were kept in memory only.",
		    c->spool_disk_write_errors);
		counter(w, "cgpulse_spool_disk_syncs_total", "fdatasync calls on the spool directory's segments.",
			c->spool_disk_syncs);
		counter(w, "cgpulse_spool_disk_corrupt_records_total",
			"Records of the spool directory found cut short or failing their checksum at start: skipped.",
			c->spool_disk_corrupt_records);
	}
	family(w, "cgpulse_kernel_records_lost_total", "counter",
	       "What the kernel side could not record, by reason (the drops map).");
	for (int k = 0; k < CGP_DROP_MAX; k++)
		cgp_text_printf(w, "cgpulse_kernel_records_lost_total{reason=\"%s\"} %" PRIu64 "\n", lost_reason[k],
				c->records_lost[k]);
	counter(w, "cgpulse_kernel_ring_records_malformed_total",
		"Records from the kernel's event rings of the wrong size or kind: skipped.", c->ring_records_malformed);
	counter(w, "cgpulse_kernel_ring_records_repeated_total",
		"Records from the kernel's event rings that repeat one already read (for a moment after a restart on "
		"kept pins both agents' programs record each event): skipped.",
		c->ring_records_repeated);
	counter(w, "cgpulse_oom_events_total", "OOM kills read from the kernel's ring.", c->oom_events);
	gauge(w, "cgpulse_cgroups_tracked", "Cgroups the agent tracks.", c->cgroups_tracked);
	counter(w, "cgpulse_cgroups_gone_total", "Cgroups forgotten because they disappeared.", c->cgroups_gone);
	gauge(w, "cgpulse_memcg_unjoined",
	      "v1 memory or cpu cgroups with no cgroup v2 twin of the same path in the last sweep (hybrid hosts).",
	      c->memcg_unjoined);
	counter(w, "cgpulse_names_resolved_by_id_total",
		"Cgroup paths not learned from a mkdir record, found by walking the tree again.",
		c->names_resolved_by_id);
	family(w, "cgpulse_cgroup_walks_total", "counter",
	       "Walks of a cgroup hierarchy by path: cgroup2 (at start, then for ids no mkdir record named) and the v1 "
	       "memory/cpu hierarchies (hybrid hosts: at start, then for v1 cgroups no mkdir record named).");
	cgp_text_printf(w, "cgpulse_cgroup_walks_total{hierarchy=\"cgroup2\"} %" PRIu64 "\n", c->names_walks);
	cgp_text_printf(w, "cgpulse_cgroup_walks_total{hierarchy=\"v1\"} %" PRIu64 "\n", c->v1_walks);
	counter(w, "cgpulse_names_unresolved_total",
		"Cgroup ids whose path could not be found (gone before they were named): their samples are skipped.",
		c->names_unresolved);
	gauge(w, "cgpulse_names_tombstones", "Removed cgroups still nameable, for late events.", c->names_tombstones);
	counter(w, "cgpulse_names_tombstones_evicted_total",
		"Removed cgroups forgotten before their grace period, to keep at most 8192 (heavy churn).",
		c->names_tombstones_evicted);
	counter(w, "cgpulse_cgroup_started_lost_total",
		"cgroup_started events not made: no memory to hold the cgroup's place until it was named.",
		c->cgroup_started_lost);
	counter(w, "cgpulse_runtime_state_reads_total", "Reads of a container runtime's state files for names.",
		c->runtime_state_reads);
	counter(w, "cgpulse_runtime_state_errors_total",
		"Reads of runtime state that failed otherwise than finding no such container.",
		c->runtime_state_errors);
	counter(w, "cgpulse_runtime_state_evictions_total",
		"Container names dropped from the bounded cache to stay within it.", c->runtime_state_evictions);
	counter(w, "cgpulse_running_charge_failures_total",
		"Runs of cgp_tick on a CPU the kernel refused: the task running there was charged only when it was "
		"switched out.",
		c->running_charge_failures);
	gauge(w, "cgpulse_cadvisor_cgroups", "Cgroups with series on /metrics/cadvisor.", c->cadvisor.cgroups);
	gauge(w, "cgpulse_cadvisor_cgroups_over_cap",
	      "Cgroups --metrics-cgroups selects that have no series on /metrics/cadvisor now: "
	      "--metrics-max-cgroups was reached.",
	      c->cadvisor.over_cap);
	counter(
	    w, "cgpulse_cadvisor_cgroups_refused_total",
	    "Cgroups turned away from /metrics/cadvisor by --metrics-max-cgroups, each counted once while it lives.",
	    c->cadvisor.refused_total);
	gauge(w, "cgpulse_playbook_cgroups_tracked", "Cgroups with a pending or firing playbook rule.",
	      c->playbook_cgroups_tracked);
	family(w, "cgpulse_sweep_duration_seconds", "summary", "Time one sweep of every cgroup's figures takes.");
	cgp_text_puts(w, "cgpulse_sweep_duration_seconds_sum ");
	put_double(w, c->sweep_seconds_total);
	cgp_text_printf(w, "\ncgpulse_sweep_duration_seconds_count %" PRIu64 "\n", c->sweeps);
	counter(w, "cgpulse_sweeps_missed_total",
		"Sampling intervals that passed with no sweep because the loop was busy for a whole interval.",
		c->sweeps_missed);
	counter(w, "cgpulse_playbook_reloads_total", "Playbook reloads asked for (SIGHUP or a changed file).",
		c->playbook_reloads);
	counter(w, "cgpulse_playbook_reloads_refused_total",
		"Playbook reloads refused (a bad file): the playbook in force stayed.", c->playbook_reloads_refused);
	family(w, "cgpulse_sweep_last_duration_seconds", "gauge", "Time the last sweep took.");
	cgp_text_puts(w, "cgpulse_sweep_last_duration_seconds ");
	put_double(w, c->last_sweep_seconds);
	cgp_text_puts(w, "\n");
	if (self_usage(&cpu_s, &rss)) {
		family(w, "cgpulse_agent_cpu_seconds_total", "counter",
		       "CPU time of the agent process (user + system).");
		cgp_text_puts(w, "cgpulse_agent_cpu_seconds_total ");
		put_double(w, cpu_s);
		cgp_text_puts(w, "\n");
		gauge(w, "cgpulse_agent_resident_memory_bytes", "Resident memory of the agent process.", rss);
	}
	gauge(w, "cgpulse_bpf_stats_enabled",
	      "1 when kernel.bpf_stats_enabled is on, so the BPF program run time and run counts move.",
	      c->bpf_stats_enabled);
	if (c->n_progs) {
		family(w, "cgpulse_bpf_prog_run_time_seconds_total", "counter",
		       "Time spent in each BPF program (bpf_prog_info run_time_ns).");
		for (size_t i = 0; i < c->n_progs; i++) {
			cgp_text_printf(w, "cgpulse_bpf_prog_run_time_seconds_total{prog=\"");
			if (!w->err)
				w->err = cgp_metrics_escape_label(w->b, c->progs[i].name ? c->progs[i].name : "");
			cgp_text_puts(w, "\"} ");
			put_ns_as_s(w, c->progs[i].run_time_ns);
			cgp_text_puts(w, "\n");
		}
		family(w, "cgpulse_bpf_prog_runs_total", "counter",
		       "Runs of each BPF program (bpf_prog_info run_cnt).");
		for (size_t i = 0; i < c->n_progs; i++) {
			cgp_text_printf(w, "cgpulse_bpf_prog_runs_total{prog=\"");
			if (!w->err)
				w->err = cgp_metrics_escape_label(w->b, c->progs[i].name ? c->progs[i].name : "");
			cgp_text_printf(w, "\"} %" PRIu64 "\n", c->progs[i].run_cnt);
		}
	}
}

/* A page: the figures as they were when it was asked for, written a piece at a time. */
struct cgp_metrics_page {
	struct cg *v; /* copies, in id order (sinks/page_copy.h) */
	size_t n;
	bool has_agent, has_http;
	struct cgp_agent_counters agent;
	struct cgp_http_stats http;
	size_t step, i; /* next: steps[step]'s series of v[i]; then (step N_STEPS) the agent's, the server's */
	bool written;	/* steps[step]'s family has its HELP and TYPE */
	bool done;
	struct le_bounds le;
	struct step_strs strs;
};

struct cgp_metrics_page *cgp_metrics_page_new(const struct cgp_metrics *m, const struct cgp_http_stats *http)
{
	struct cgp_metrics_page *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->v = cgp_page_copy(&m->cgs, sizeof(struct cg), offsetof(struct cg, labels), &p->n);
	if (p->n && !p->v) {
		free(p);
		return NULL;
	}
	le_bounds_make(&p->le);
	step_strs_make(&p->strs);
	p->has_agent = m->has_agent;
	p->agent = m->agent;
	p->has_http = http != NULL;
	if (http)
		p->http = *http;
	return p;
}

void cgp_metrics_page_free(struct cgp_metrics_page *p)
{
	if (p) {
		free(p->v);
		free(p);
	}
}

int cgp_metrics_page_next(struct cgp_metrics_page *p, struct cgp_buf *out, size_t want, bool *done)
{
	struct cgp_text w = {.b = out};
	size_t start = out->len;

	while (!w.err && !p->done && out->len - start < want) {
		if (p->step == N_STEPS) {
			/* the agent's own families: a dozen KiB at most, at once */
			if (p->has_agent)
				render_agent(&w, &p->agent);
			p->step++;
		} else if (p->step > N_STEPS) {
			if (p->has_http)
				render_http(&w, &p->http);
			p->done = true;
		} else if (p->i == p->n) {
			p->step++;
			p->i = 0;
			if (p->step == N_STEPS || !steps[p->step].cont)
				p->written = false;
		} else {
			/* the step's cgroups in a run, its constants hoisted, until the piece is full */
			const struct step *s = &steps[p->step];

			while (p->i < p->n && !w.err && out->len - start < want) {
				const struct cg *c = &p->v[p->i++];

				if (!step_has(s, c))
					continue;
				if (!p->written)
					family(&w, s->name, s->type, s->help);
				p->written = true;
				step_put(&w, p->step, c, &p->le, &p->strs);
			}
		}
	}
	*done = p->done;
	return w.err;
}

int cgp_metrics_render(const struct cgp_metrics *m, const struct cgp_http_stats *http, struct cgp_buf *out)
{
	struct cgp_metrics_page *p = cgp_metrics_page_new(m, http);
	bool done = false;
	int err;

	if (!p)
		return -ENOMEM;
	err = cgp_metrics_page_next(p, out, SIZE_MAX, &done);
	cgp_metrics_page_free(p);
	return err;
}
