// SPDX-License-Identifier: GPL-2.0
/* Event → JSON text. Keys come in the order the proto lists them, after type and the envelope. */
#include "events/event_json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/fmt_double.h"
#include "lib/fmt_u64.h"
#include "lib/utf8.h"

/* The writer: a cursor into out's spare room, one bounds check per piece; the buffer grows only when a piece
 * does not fit (most lines never grow it: room() asks for ROOM_STEP at a time). Keys are literals, so with the
 * put_ helpers inlined their lengths are constants. */
#define ROOM_STEP 2048

struct w {
	struct cgp_buf *out;
	char *p, *end; /* the cursor, and the end of out's room; out->len is set at the end (done()) */
	bool failed;
	bool first;
};

static __attribute__((noinline)) char *grow(struct w *w, size_t n)
{
	char *d;

	if (w->failed)
		return NULL;
	w->out->len = (size_t)((uint8_t *)w->p - w->out->data);
	d = (char *)cgp_buf_reserve(w->out, n > ROOM_STEP ? n : ROOM_STEP);
	if (!d) {
		w->failed = true;
		return NULL;
	}
	w->p = d;
	w->end = (char *)w->out->data + w->out->cap;
	return d;
}

/* Room for n bytes at the cursor, or NULL (out of memory: the line is dropped by cgp_event_json_append). */
static inline char *room(struct w *w, size_t n)
{
	return (size_t)(w->end - w->p) >= n ? w->p : grow(w, n);
}

static inline __attribute__((always_inline)) void raw(struct w *w, const char *s, size_t n)
{
	char *p = room(w, n);

	if (p) {
		memcpy(p, s, n);
		w->p = p + n;
	}
}

static inline __attribute__((always_inline)) void key(struct w *w, const char *k)
{
	size_t n = strlen(k);
	char *p = room(w, n + 4);

	if (!p)
		return;
	if (!w->first)
		*p++ = ',';
	w->first = false;
	*p++ = '"';
	memcpy(p, k, n);
	p += n;
	*p++ = '"';
	*p++ = ':';
	w->p = p;
}

/* Whether any of a word's eight bytes is '"', '\\' or below 0x20: exact as a yes or no (the classic "has a zero byte"
 * test, on the word xor each byte sought, and its "has a byte below n" form). */
static inline bool needs_escape(uint64_t x)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');

	return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x)) & highs;
}

static void text(struct w *w, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = s ? strlen(s) : 0;
	char *fixed = NULL, *p;

	if (!cgp_utf8_valid(s, n)) {
		/* a foreign sender's string: JSON must be UTF-8, so show the bad bytes as '?' */
		fixed = malloc(n + 1);
		if (!fixed) {
			w->failed = true;
			return;
		}
		n = cgp_utf8_sanitize(fixed, n + 1, s, n);
		s = fixed;
	}
	/* worst case: every byte becomes \u00XX */
	p = room(w, 6 * n + 2);
	if (!p) {
		free(fixed);
		return;
	}
	*p++ = '"';
	for (size_t i = 0; i < n; i++) {
		unsigned char c;

		if (!(i & 7) && i + 8 <= n) { /* eight plain bytes are copied as one word */
			uint64_t x;

			memcpy(&x, s + i, 8);
			if (!needs_escape(x)) {
				memcpy(p, &x, 8);
				p += 8;
				i += 7;
				continue;
			}
		}
		c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20) {
			memcpy(p, "\\u00", 4);
			p[4] = hex[c >> 4];
			p[5] = hex[c & 15];
			p += 6;
		} else {
			*p++ = (char)c;
		}
	}
	*p++ = '"';
	w->p = p;
	free(fixed);
}

static void u64(struct w *w, uint64_t v)
{
	char *p = room(w, CGP_FMT_U64_MAX);

	if (p)
		w->p = p + cgp_fmt_u64(p, v);
}

static void i64(struct w *w, int64_t v)
{
	if (v < 0) {
		raw(w, "-", 1);
		u64(w, (uint64_t)0 - (uint64_t)v);
	} else {
		u64(w, (uint64_t)v);
	}
}

/* The shortest text that reads back as the same double; integral values keep a ".0" so they stay reals. */
static void real(struct w *w, double v)
{
	char *p;

	if (!isfinite(v)) {
		raw(w, "null", 4); /* JSON has no NaN or infinity */
		return;
	}
	if (fabs(v) < 9007199254740992.0 && v == (double)(int64_t)v) { /* the range first: a larger cast is undefined */
		i64(w, (int64_t)v);
		raw(w, ".0", 2);
		return;
	}
	p = room(w, CGP_FMT_DOUBLE_MAX); /* cgp_fmt_double writes a NUL after the text: the cursor stays before it */
	if (p)
		w->p = p + cgp_fmt_double(p, v);
}

#define INLINE static inline __attribute__((always_inline))

INLINE void put_u64(struct w *w, const char *k, uint64_t v)
{
	key(w, k);
	u64(w, v);
}

INLINE void put_real(struct w *w, const char *k, double v)
{
	key(w, k);
	real(w, v);
}

INLINE void put_str(struct w *w, const char *k, const char *v)
{
	key(w, k);
	text(w, v);
}

INLINE void put_bool(struct w *w, const char *k, bool v)
{
	key(w, k);
	raw(w, v ? "true" : "false", v ? 4 : 5);
}

/* A figure the kernel may lack: null when it does, never a made-up 0. */
INLINE void put_known_u64(struct w *w, const char *k, bool known, uint64_t v)
{
	key(w, k);
	if (known)
		u64(w, v);
	else
		raw(w, "null", 4);
}

INLINE void put_known_real(struct w *w, const char *k, bool known, double v)
{
	key(w, k);
	if (known)
		real(w, v);
	else
		raw(w, "null", 4);
}

/* Attribution keys only when known, so a plain cgroup's line stays short. */
INLINE void put_opt(struct w *w, const char *k, const char *v)
{
	if (v && *v)
		put_str(w, k, v);
}

#define PUT_ATTRIBUTION(w, m)                                                                                          \
	do {                                                                                                           \
		put_opt(w, "container_id", (m)->container_id);                                                         \
		put_opt(w, "runtime", (m)->runtime);                                                                   \
		put_opt(w, "pod", (m)->pod);                                                                           \
		put_opt(w, "namespace", (m)->namespace_);                                                              \
		put_opt(w, "container_name", (m)->container_name);                                                     \
		put_opt(w, "pod_uid", (m)->pod_uid);                                                                   \
		put_opt(w, "qos_class", (m)->qos_class);                                                               \
		put_opt(w, "image", (m)->image);                                                                       \
	} while (0)

static void sample(struct w *w, const Cgpulse__V1__Event *ev)
{
	const Cgpulse__V1__Sample *s = ev->sample;

	put_u64(w, "cgroup_id", s->cgroup_id);
	put_str(w, "path", s->path);
	put_u64(w, "ts_ns", ev->ts_ns);
	put_real(w, "window_s", s->window_s);
	put_u64(w, "cpu_ns_total", s->cpu_ns_total);
	put_u64(w, "cpu_ns_window", s->cpu_ns_window);
	put_real(w, "cpu_cores", s->cpu_cores);
	put_u64(w, "voluntary_switches", s->voluntary_switches);
	put_u64(w, "involuntary_switches", s->involuntary_switches);
	put_u64(w, "runq_waits_window", s->runq_waits_window);
	put_real(w, "runq_p50_us", s->runq_p50_us);
	put_real(w, "runq_p99_us", s->runq_p99_us);
	/* unknown memory figures are null, not a misleading 0 */
	if (s->has_mem) {
		put_u64(w, "mem_bytes", s->mem_bytes);
		put_u64(w, "mem_limit_bytes", s->mem_limit_bytes);
		put_u64(w, "oom_kills", s->oom_kills);
	} else {
		key(w, "mem_bytes");
		raw(w, "null", 4);
		key(w, "mem_limit_bytes");
		raw(w, "null", 4);
		key(w, "oom_kills");
		raw(w, "null", 4);
	}
	put_u64(w, "reclaim_ns_total", s->reclaim_ns_total);
	put_u64(w, "reclaims_total", s->reclaims_total);
	put_u64(w, "oom_kills_window", s->oom_kills_window);
	put_real(w, "cpu_limit_cores", s->cpu_limit_cores);
	put_real(w, "cpu_pct", s->cpu_pct);
	put_str(w, "cpu_pct_of", s->cpu_pct_of);
	put_real(w, "mem_pct", s->mem_pct);
	put_str(w, "mem_pct_of", s->mem_pct_of);
	key(w, "runq_hist_window");
	raw(w, "[", 1);
	for (size_t i = 0; i < s->n_runq_hist_window; i++) {
		if (i)
			raw(w, ",", 1);
		u64(w, s->runq_hist_window[i]);
	}
	raw(w, "]", 1);
	PUT_ATTRIBUTION(w, s);
	put_known_u64(w, "mem_working_set_bytes", s->has_mem_stat, s->mem_working_set_bytes);
	put_known_u64(w, "mem_inactive_file_bytes", s->has_mem_stat, s->mem_inactive_file_bytes);
	put_known_u64(w, "mem_anon_bytes", s->has_mem_stat, s->mem_anon_bytes);
	put_known_u64(w, "mem_file_bytes", s->has_mem_stat, s->mem_file_bytes);
	put_known_u64(w, "mem_swap_bytes", s->has_swap, s->mem_swap_bytes);
	put_known_u64(w, "mem_events_max", s->has_mem_events, s->mem_events_max);
	put_known_u64(w, "mem_events_oom", s->has_mem_events, s->mem_events_oom);
	put_known_u64(w, "mem_events_high", s->has_mem_events_high, s->mem_events_high);
	put_known_u64(w, "mem_events_oom_group_kill", s->has_mem_events_oom_group_kill, s->mem_events_oom_group_kill);
	put_known_u64(w, "cpu_periods", s->has_cpu_bandwidth, s->cpu_periods);
	put_known_u64(w, "cpu_throttled_periods", s->has_cpu_bandwidth, s->cpu_throttled_periods);
	put_known_u64(w, "cpu_throttled_ns", s->has_cpu_bandwidth, s->cpu_throttled_ns);
	put_known_u64(w, "cpu_periods_window", s->has_cpu_bandwidth && s->has_kernel_windows, s->cpu_periods_window);
	put_known_u64(w, "cpu_throttled_periods_window", s->has_cpu_bandwidth && s->has_kernel_windows,
		      s->cpu_throttled_periods_window);
	put_known_u64(w, "cpu_throttled_ns_window", s->has_cpu_bandwidth && s->has_kernel_windows,
		      s->cpu_throttled_ns_window);
	put_known_u64(w, "cpu_user_ns", s->has_cpu_user_system, s->cpu_user_ns);
	put_known_u64(w, "cpu_system_ns", s->has_cpu_user_system, s->cpu_system_ns);
	put_known_u64(w, "psi_cpu_some_ns", s->has_psi, s->psi_cpu_some_ns);
	put_known_u64(w, "psi_cpu_full_ns", s->has_psi, s->psi_cpu_full_ns);
	put_known_u64(w, "psi_memory_some_ns", s->has_psi, s->psi_memory_some_ns);
	put_known_u64(w, "psi_memory_full_ns", s->has_psi, s->psi_memory_full_ns);
	put_known_u64(w, "psi_io_some_ns", s->has_psi, s->psi_io_some_ns);
	put_known_u64(w, "psi_io_full_ns", s->has_psi, s->psi_io_full_ns);
	put_known_real(w, "mem_working_set_pct", s->has_mem_stat, s->mem_working_set_pct);
	put_known_real(w, "cpu_throttled_pct", s->has_cpu_bandwidth && s->has_kernel_windows, s->cpu_throttled_pct);
	put_known_real(w, "psi_cpu_some_pct", s->has_psi && s->has_kernel_windows, s->psi_cpu_some_pct);
	put_known_real(w, "psi_memory_some_pct", s->has_psi && s->has_kernel_windows, s->psi_memory_some_pct);
	put_known_real(w, "psi_memory_full_pct", s->has_psi && s->has_kernel_windows, s->psi_memory_full_pct);
	put_known_real(w, "psi_io_some_pct", s->has_psi && s->has_kernel_windows, s->psi_io_some_pct);
}

static void oom_kill(struct w *w, const Cgpulse__V1__Event *ev)
{
	const Cgpulse__V1__OomKill *o = ev->oom_kill;

	put_u64(w, "cgroup_id", o->cgroup_id);
	put_str(w, "path", o->path);
	put_u64(w, "memcg_id", o->memcg_id);
	put_u64(w, "pid", o->pid);
	put_u64(w, "tgid", o->tgid);
	put_str(w, "comm", o->comm);
	put_u64(w, "rss_anon_bytes", o->rss_anon_bytes);
	put_u64(w, "rss_file_bytes", o->rss_file_bytes);
	put_u64(w, "rss_shmem_bytes", o->rss_shmem_bytes);
	put_u64(w, "pgtables_bytes", o->pgtables_bytes);
	key(w, "oom_score_adj");
	i64(w, o->oom_score_adj);
	key(w, "container_running");
	raw(w, o->container_running ? "true" : "false", o->container_running ? 4 : 5);
	put_u64(w, "mem_limit_bytes", o->mem_limit_bytes);
	put_u64(w, "ts_ns", ev->ts_ns);
	PUT_ATTRIBUTION(w, o);
}

static const char *severity_name(Cgpulse__V1__Severity s)
{
	switch (s) {
	case CGPULSE__V1__SEVERITY__SEVERITY_WARNING:
		return "warning";
	case CGPULSE__V1__SEVERITY__SEVERITY_CRITICAL:
		return "critical";
	default:
		return "unspecified";
	}
}

static const char *state_name(Cgpulse__V1__AlertState s)
{
	switch (s) {
	case CGPULSE__V1__ALERT_STATE__ALERT_STATE_FIRING:
		return "firing";
	case CGPULSE__V1__ALERT_STATE__ALERT_STATE_RESOLVED:
		return "resolved";
	default:
		return "unspecified";
	}
}

static const char *limit_kind_name(Cgpulse__V1__LimitKind k)
{
	switch (k) {
	case CGPULSE__V1__LIMIT_KIND__LIMIT_KIND_CGROUP:
		return "cgroup";
	case CGPULSE__V1__LIMIT_KIND__LIMIT_KIND_NODE:
		return "node";
	default:
		return "unspecified";
	}
}

static void alert(struct w *w, const Cgpulse__V1__Event *ev)
{
	const Cgpulse__V1__Alert *a = ev->alert;

	put_u64(w, "cgroup_id", a->cgroup_id);
	put_str(w, "path", a->path);
	put_u64(w, "ts_ns", ev->ts_ns);
	put_str(w, "rule", a->rule);
	put_str(w, "severity", severity_name(a->severity));
	put_str(w, "state", state_name(a->state));
	put_str(w, "metric", a->metric);
	put_real(w, "value", a->value);
	put_real(w, "threshold", a->threshold);
	put_u64(w, "held_ns", a->held_ns);
	put_real(w, "limit", a->limit);
	put_str(w, "limit_kind", limit_kind_name(a->limit_kind));
	key(w, "evidence");
	raw(w, "[", 1);
	for (size_t i = 0; i < a->n_evidence; i++) {
		if (i)
			raw(w, ",", 1);
		real(w, a->evidence[i]);
	}
	raw(w, "]", 1);
	put_str(w, "action", a->action);
	put_str(w, "runbook", a->runbook);
	put_real(w, "recommended_limit", a->recommended_limit);
	put_str(w, "reason", a->reason);
	PUT_ATTRIBUTION(w, a);
}

static const char *type_name(const Cgpulse__V1__Event *ev)
{
	switch (ev->body_case) {
	case CGPULSE__V1__EVENT__BODY_SAMPLE:
		return "sample";
	case CGPULSE__V1__EVENT__BODY_OOM_KILL:
		return "oom_kill";
	case CGPULSE__V1__EVENT__BODY_ALERT:
		return "alert";
	case CGPULSE__V1__EVENT__BODY_CGROUP_STARTED:
		return "cgroup_started";
	case CGPULSE__V1__EVENT__BODY_CGROUP_STOPPED:
		return "cgroup_stopped";
	case CGPULSE__V1__EVENT__BODY_GAP:
		return "gap";
	case CGPULSE__V1__EVENT__BODY_DROPPED:
		return "dropped";
	case CGPULSE__V1__EVENT__BODY_AGENT_STARTED:
		return "agent_started";
	default:
		return NULL;
	}
}

int cgp_event_json_append(const Cgpulse__V1__Event *ev, unsigned flags, struct cgp_buf *out)
{
	const char *type = type_name(ev);
	struct w w = {.out = out, .first = true};
	size_t start;

	if (!type)
		return -EINVAL;
	/* the first reserve may slide out's live bytes down (bytebuf.h): the line starts where they end then */
	w.p = (char *)cgp_buf_reserve(out, ROOM_STEP);
	if (!w.p)
		return -ENOMEM;
	start = out->len;
	w.end = (char *)out->data + out->cap;
	raw(&w, "{", 1);
	put_str(&w, "type", type);
	if (flags & CGP_JSON_ENVELOPE) {
		put_str(&w, "node", ev->node);
		put_str(&w, "instance_id", ev->instance_id);
		put_u64(&w, "seq", ev->seq);
	}
	switch (ev->body_case) {
	case CGPULSE__V1__EVENT__BODY_SAMPLE:
		sample(&w, ev);
		break;
	case CGPULSE__V1__EVENT__BODY_OOM_KILL:
		oom_kill(&w, ev);
		break;
	case CGPULSE__V1__EVENT__BODY_ALERT:
		alert(&w, ev);
		break;
	case CGPULSE__V1__EVENT__BODY_CGROUP_STARTED:
		put_u64(&w, "ts_ns", ev->ts_ns);
		put_u64(&w, "cgroup_id", ev->cgroup_started->cgroup_id);
		put_str(&w, "path", ev->cgroup_started->path);
		PUT_ATTRIBUTION(&w, ev->cgroup_started);
		break;
	case CGPULSE__V1__EVENT__BODY_CGROUP_STOPPED:
		put_u64(&w, "ts_ns", ev->ts_ns);
		put_u64(&w, "cgroup_id", ev->cgroup_stopped->cgroup_id);
		put_str(&w, "path", ev->cgroup_stopped->path);
		PUT_ATTRIBUTION(&w, ev->cgroup_stopped);
		break;
	case CGPULSE__V1__EVENT__BODY_GAP:
		put_u64(&w, "ts_ns", ev->ts_ns);
		put_u64(&w, "first_missed_seq", ev->gap->first_missed_seq);
		put_u64(&w, "last_missed_seq", ev->gap->last_missed_seq);
		put_u64(&w, "missed", ev->gap->missed);
		break;
	case CGPULSE__V1__EVENT__BODY_DROPPED:
		put_u64(&w, "ts_ns", ev->ts_ns);
		put_u64(&w, "samples_dropped", ev->dropped->samples_dropped);
		put_u64(&w, "others_dropped", ev->dropped->others_dropped);
		put_u64(&w, "first_dropped_seq", ev->dropped->first_dropped_seq);
		put_u64(&w, "last_dropped_seq", ev->dropped->last_dropped_seq);
		put_str(&w, "reason", ev->dropped->reason);
		put_opt(&w, "dropped_instance_id", ev->dropped->dropped_instance_id);
		break;
	case CGPULSE__V1__EVENT__BODY_AGENT_STARTED: {
		const Cgpulse__V1__AgentStarted *a = ev->agent_started;

		put_u64(&w, "ts_ns", ev->ts_ns);
		put_str(&w, "version", a->version);
		put_str(&w, "kernel", a->kernel);
		put_str(&w, "cgroup_mode", a->cgroup_mode);
		for (int k = 0; k < 2; k++) {
			char **v = k ? a->programs_skipped : a->programs_attached;
			size_t n = k ? a->n_programs_skipped : a->n_programs_attached;

			key(&w, k ? "programs_skipped" : "programs_attached");
			raw(&w, "[", 1);
			for (size_t i = 0; i < n; i++) {
				if (i)
					raw(&w, ",", 1);
				text(&w, v[i]);
			}
			raw(&w, "]", 1);
		}
		put_u64(&w, "max_cgroups", a->max_cgroups);
		put_str(&w, "previous_instance_id", a->previous_instance_id);
		put_u64(&w, "previous_last_seq", a->previous_last_seq);
		put_u64(&w, "previous_acked_seq", a->previous_acked_seq);
		put_bool(&w, "previous_handed_over", a->previous_handed_over);
		put_u64(&w, "spool_replayed", a->spool_replayed);
		put_u64(&w, "spool_corrupt_records", a->spool_corrupt_records);
		break;
	}
	default:
		break;
	}
	raw(&w, "}", 1);
	if (w.failed) {
		out->len = start;
		return -ENOMEM;
	}
	out->len = (size_t)((uint8_t *)w.p - out->data);
	return 0;
}

json_t *cgp_event_json(const Cgpulse__V1__Event *ev, unsigned flags)
{
	struct cgp_buf b = CGP_BUF_INIT;
	json_t *j = NULL;

	if (!cgp_event_json_append(ev, flags, &b))
		j = json_loadb((const char *)cgp_buf_head(&b), cgp_buf_size(&b), 0, NULL);
	cgp_buf_free(&b);
	return j;
}
