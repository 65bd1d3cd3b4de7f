// SPDX-License-Identifier: GPL-2.0
/* The Sample event, serialized in one pass straight from the agent's own records (the sample's figures and the
 * cgroup's attribution), byte for byte what cgp_event_build_sample + protobuf-c's pack make of them: fields in
 * number order, a proto3 scalar only when not zero (a double when != 0, as protobuf-c compares), a string only
 * when not empty, runq_hist_window packed, and the choices the build makes (a figure only under its has_ flag,
 * window figures not in a first window, the Attribution only for somebody's cgroup, strings that are not UTF-8
 * sanitized into the same 4 KiB). No protobuf-c struct is filled: that alone cost as much as this packing.
 * tests/unit/test_sample_pack.c holds it to protobuf-c's own bytes. */
#include "events/sample_pack.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "lib/utf8.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2 };

static inline size_t varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static inline uint8_t *varint(uint8_t *w, uint64_t v)
{
	while (v >= 0x80) {
		*w++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*w++ = (uint8_t)v;
	return w;
}

/* field numbers here are below 2048: a key is one or two bytes, written as constants where field is one */
static inline uint8_t *key(uint8_t *w, unsigned field, unsigned wt)
{
	unsigned k = field << 3 | wt;

	if (k < 0x80) {
		*w = (uint8_t)k;
		return w + 1;
	}
	w[0] = (uint8_t)(k | 0x80);
	w[1] = (uint8_t)(k >> 7);
	return w + 2;
}

static inline uint8_t *u64(uint8_t *w, unsigned field, uint64_t v)
{
	return v ? varint(key(w, field, WT_VARINT), v) : w;
}

static inline uint8_t *boolean(uint8_t *w, unsigned field, bool v)
{
	if (!v)
		return w;
	w = key(w, field, WT_VARINT);
	*w++ = 1;
	return w;
}

static inline uint8_t *dbl(uint8_t *w, unsigned field, double v)
{
	uint64_t bits;

	if (v == 0)
		return w;
	memcpy(&bits, &v, sizeof(bits));
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
	bits = __builtin_bswap64(bits); /* little-endian on the wire whatever the host */
#endif
	w = key(w, field, WT_I64);
	memcpy(w, &bits, sizeof(bits)); /* one store: a byte at a time was a fifth of the packing */
	return w + sizeof(bits);
}

struct text {
	const char *s;
	size_t n;
};

static inline uint8_t *str(uint8_t *w, unsigned field, struct text t)
{
	if (!t.n)
		return w;
	w = varint(key(w, field, WT_LEN), t.n);
	memcpy(w, t.s, t.n);
	return w + t.n;
}

/* Room for the strings that are not valid UTF-8 (proto3 strings must be): as event_encode.c's text() shares
 * struct cgp_event_build's fixed[], in the same order, so a sanitized string is cut where the build cuts it. */
struct fixed {
	size_t used;
	char buf[sizeof(((struct cgp_event_build *)0)->fixed)];
};

static struct text sanitized(struct fixed *f, const char *s, size_t n)
{
	size_t room = sizeof(f->buf) - f->used;
	struct text t = {f->buf + f->used, 0};

	if (room < 2)
		return (struct text){"?", 1};
	t.n = cgp_utf8_sanitize(f->buf + f->used, room, s, n);
	f->used += t.n + 1;
	return t;
}

/* inline: most of a sample's eleven strings are empty (nobody's container) or short and ASCII */
static inline struct text text(struct fixed *f, const char *s)
{
	struct text t = {"", 0};

	if (!s || !*s)
		return t;
	t.s = s;
	t.n = strlen(s);
	return cgp_utf8_valid(s, t.n) ? t : sanitized(f, s, t.n);
}

enum { ATTR_N = 8 };

/* The eight who-is-it strings, in field order (the flat fields 32-39 of a Sample, the Attribution's 1-8). */
static void attribution_texts(struct fixed *f, const struct cgp_attribution *a, struct text t[ATTR_N])
{
	t[0] = text(f, a->container_id);
	t[1] = text(f, a->runtime);
	t[2] = text(f, a->pod);
	t[3] = text(f, a->pod_namespace);
	t[4] = text(f, a->container_name);
	t[5] = text(f, a->pod_uid);
	t[6] = text(f, a->qos_class);
	t[7] = text(f, a->image);
}

static uint8_t *attribution(uint8_t *w, const struct text t[ATTR_N])
{
	size_t len = 0;

	for (int i = 0; i < ATTR_N; i++)
		if (t[i].n)
			len += 1 + varint_len(t[i].n) + t[i].n;
	w = varint(key(w, 40, WT_LEN), len);
	for (int i = 0; i < ATTR_N; i++)
		w = str(w, (unsigned)i + 1, t[i]);
	return w;
}

static uint8_t *runq_hist(uint8_t *w, const uint64_t *h)
{
	size_t n = CGP_RUNQ_SLOTS, len = 0;

	/* trailing empty slots carry nothing: left out (most windows touch only a few low slots), four looked at a time
	 */
	while (n >= 4 && !(h[n - 1] | h[n - 2] | h[n - 3] | h[n - 4]))
		n -= 4;
	while (n && !h[n - 1])
		n--;
	if (!n)
		return w;
	for (size_t i = 0; i < n; i++)
		len += varint_len(h[i]);
	w = varint(key(w, 18, WT_LEN), len);
	for (size_t i = 0; i < n; i++)
		w = varint(w, h[i]);
	return w;
}

static inline struct text pct_of(const struct cgp_measure *m)
{
	return m->limit_kind == CGP_LIMIT_NODE ? (struct text){"node", 4} : (struct text){"limit", 5};
}

/* a playbook share: what rules compare, 0 where not known */
static inline double share(const struct cgp_sample *s, enum cgp_metric metric)
{
	return s->m[metric].known ? s->m[metric].value : 0;
}

static uint8_t *sample_body(uint8_t *w, const struct cgp_sample *s, struct text path, const struct text *at)
{
	bool win = !s->first_window;

	w = u64(w, 1, s->cgroup_id);
	w = str(w, 2, path);
	w = dbl(w, 3, s->window_s);
	w = u64(w, 4, s->cpu_ns_total);
	w = u64(w, 5, s->cpu_ns_window);
	w = dbl(w, 6, s->cpu_cores);
	w = u64(w, 7, s->voluntary_switches);
	w = u64(w, 8, s->involuntary_switches);
	w = u64(w, 9, s->runq_waits_window);
	w = dbl(w, 10, s->runq_p50_us);
	w = dbl(w, 11, s->runq_p99_us);
	w = boolean(w, 12, s->has_mem);
	if (s->has_mem) {
		w = u64(w, 13, s->mem_bytes);
		w = u64(w, 14, s->mem_limit_bytes);
		w = u64(w, 15, s->oom_kills);
	}
	w = u64(w, 16, s->reclaim_ns_total);
	w = u64(w, 17, s->reclaims_total);
	w = runq_hist(w, s->runq_hist_window);
	w = u64(w, 19, s->oom_kills_window);
	w = dbl(w, 20, s->cpu_limit_cores);
	w = dbl(w, 21, s->m[CGP_METRIC_CPU_PCT].value);
	w = dbl(w, 22, s->m[CGP_METRIC_MEM_PCT].value);
	w = str(w, 23, pct_of(&s->m[CGP_METRIC_CPU_PCT]));
	w = str(w, 24, pct_of(&s->m[CGP_METRIC_MEM_PCT]));
	if (at) {
		for (int i = 0; i < ATTR_N; i++)
			w = str(w, 32 + (unsigned)i, at[i]);
		w = attribution(w, at);
	}
	w = boolean(w, 41, s->has_mem_stat);
	if (s->has_mem_stat) {
		w = u64(w, 42, s->mem_working_set_bytes);
		w = u64(w, 43, s->mem_inactive_file_bytes);
		w = u64(w, 44, s->mem_anon_bytes);
		w = u64(w, 45, s->mem_file_bytes);
	}
	w = boolean(w, 46, s->has_swap);
	if (s->has_swap)
		w = u64(w, 47, s->mem_swap_bytes);
	w = boolean(w, 48, s->has_mem_events);
	if (s->has_mem_events) {
		w = u64(w, 49, s->mem_events_max);
		w = u64(w, 50, s->mem_events_oom);
	}
	w = boolean(w, 51, s->has_mem_events_high);
	if (s->has_mem_events_high)
		w = u64(w, 52, s->mem_events_high);
	w = boolean(w, 53, s->has_mem_events_oom_group_kill);
	if (s->has_mem_events_oom_group_kill)
		w = u64(w, 54, s->mem_events_oom_group_kill);
	w = boolean(w, 55, s->has_cpu_bandwidth);
	if (s->has_cpu_bandwidth) {
		w = u64(w, 56, s->cpu_periods);
		w = u64(w, 57, s->cpu_throttled_periods);
		w = u64(w, 58, s->cpu_throttled_ns);
		if (win) {
			w = u64(w, 59, s->cpu_periods_window);
			w = u64(w, 60, s->cpu_throttled_periods_window);
			w = u64(w, 61, s->cpu_throttled_ns_window);
		}
	}
	w = boolean(w, 62, s->has_cpu_user_system);
	if (s->has_cpu_user_system) {
		w = u64(w, 63, s->cpu_user_ns);
		w = u64(w, 64, s->cpu_system_ns);
	}
	w = boolean(w, 65, s->has_psi);
	if (s->has_psi) {
		w = u64(w, 66, s->psi_total_ns[CGP_PSI_CPU_SOME]);
		w = u64(w, 67, s->psi_total_ns[CGP_PSI_CPU_FULL]);
		w = u64(w, 68, s->psi_total_ns[CGP_PSI_MEM_SOME]);
		w = u64(w, 69, s->psi_total_ns[CGP_PSI_MEM_FULL]);
		w = u64(w, 70, s->psi_total_ns[CGP_PSI_IO_SOME]);
		w = u64(w, 71, s->psi_total_ns[CGP_PSI_IO_FULL]);
	}
	w = boolean(w, 72, win);
	w = dbl(w, 73, share(s, CGP_METRIC_MEM_WORKING_SET_PCT));
	w = dbl(w, 74, share(s, CGP_METRIC_CPU_THROTTLED_PCT));
	w = dbl(w, 75, share(s, CGP_METRIC_PSI_CPU_SOME_PCT));
	w = dbl(w, 76, share(s, CGP_METRIC_PSI_MEMORY_SOME_PCT));
	w = dbl(w, 77, share(s, CGP_METRIC_PSI_MEMORY_FULL_PCT));
	w = dbl(w, 78, share(s, CGP_METRIC_PSI_IO_SOME_PCT));
	return w;
}

/* Numeric fields of a Sample at their widest: 71 keys of 2 bytes and 10-byte values, the histogram's slots, with
 * room to spare; then each string with its key and length. */
#define SAMPLE_FIXED_MAX (1024 + CGP_RUNQ_SLOTS * 10)
#define KEY_LEN_MAX	 (2 + 10)

void cgp_sample_head_init(struct cgp_sample_head *h, const char *node, const char *instance_id)
{
	struct fixed f;
	struct text t;

	f.used = 0;
	t = text(&f, node);
	h->node = t.s;
	h->node_n = t.n;
	t = text(&f, instance_id);
	h->instance_id = t.s;
	h->instance_id_n = t.n;
	h->fixed_used = f.used;
	memcpy(h->fixed, f.buf, f.used); /* where a sanitized one points: moved from f to h */
	if ((uintptr_t)h->node - (uintptr_t)f.buf < sizeof(f.buf))
		h->node = h->fixed + (h->node - f.buf);
	if ((uintptr_t)h->instance_id - (uintptr_t)f.buf < sizeof(f.buf))
		h->instance_id = h->fixed + (h->instance_id - f.buf);
}

int cgp_sample_pack_head(const struct cgp_sample_head *h, uint64_t seq, const struct cgp_sample *s,
			 const struct cgp_attribution *a, struct cgp_buf *out)
{
	struct fixed f;
	struct text path, at[ATTR_N];
	size_t bound = SAMPLE_FIXED_MAX + 2 * KEY_LEN_MAX, body, hdr, guess;
	bool someone;
	uint8_t *w, *start, *b;

	f.used = h->fixed_used; /* strings that are not UTF-8 are cut where the build would cut them */
	path = text(&f, a->path);
	attribution_texts(&f, a, at);
	/* a cgroup that is nobody's container and no pod's carries no Attribution (nor the flat fields) */
	someone = at[0].n || at[2].n || at[5].n || at[7].n;
	bound += h->node_n + h->instance_id_n + path.n + 3 * KEY_LEN_MAX;
	if (someone)
		for (int i = 0; i < ATTR_N; i++)
			bound += 2 * (at[i].n + KEY_LEN_MAX);
	start = w = cgp_buf_reserve(out, bound);
	if (!w)
		return -ENOMEM;
	w = str(w, 1, (struct text){h->node, h->node_n});
	w = str(w, 2, (struct text){h->instance_id, h->instance_id_n});
	w = u64(w, 3, seq);
	w = u64(w, 4, s->ts_ns);
	w = key(w, 5, WT_LEN);
	/* the body goes past room for its length prefix at its longest (known from the bound), and is moved back
	 * only when the prefix is shorter (a body under 128 bytes, rare) */
	guess = varint_len(bound);
	b = w + guess;
	body = (size_t)(sample_body(b, s, path, someone ? at : NULL) - b);
	hdr = varint_len(body);
	varint(w, body);
	if (hdr != guess)
		memmove(w + hdr, b, body);
	out->len += (size_t)(w + hdr + body - start);
	return 0;
}

int cgp_sample_pack(const struct cgp_event_meta *m, const struct cgp_sample *s, const struct cgp_attribution *a,
		    struct cgp_buf *out)
{
	struct cgp_sample_head h;

	cgp_sample_head_init(&h, m->node, m->instance_id);
	return cgp_sample_pack_head(&h, m->seq, s, a, out);
}
