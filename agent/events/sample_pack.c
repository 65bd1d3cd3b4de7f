// SPDX-License-Identifier: GPL-2.0
/* The Sample event, serialized in one pass, byte for byte as protobuf-c packs it: fields in number order, a
 * proto3 scalar only when not zero (a double when != 0, as protobuf-c compares), a string only when not empty,
 * a message when its pointer is set, runq_hist_window packed. protobuf-c walks the 71 field descriptors and
 * sizes the nested messages again for each level (Attribution three times per event); this is ~10x cheaper.
 * tests/unit/test_sample_pack.c holds it to protobuf-c's own bytes. */
#include "events/sample_pack.h"

#include <errno.h>
#include <string.h>

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

/* field numbers here are below 2048: a key is one or two bytes */
static inline uint8_t *key(uint8_t *w, unsigned field, unsigned wt)
{
	return varint(w, (uint64_t)field << 3 | wt);
}

static inline uint8_t *u64(uint8_t *w, unsigned field, uint64_t v)
{
	return v ? varint(key(w, field, WT_VARINT), v) : w;
}

static inline uint8_t *boolean(uint8_t *w, unsigned field, protobuf_c_boolean v)
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
	w = key(w, field, WT_I64);
	for (int i = 0; i < 8; i++) /* little-endian on the wire whatever the host */
		*w++ = (uint8_t)(bits >> (8 * i));
	return w;
}

/* A string's length, measured once for the bound and once more here would be twice: the caller passes it. */
static inline uint8_t *str(uint8_t *w, unsigned field, const char *s, size_t n)
{
	if (!n)
		return w;
	w = varint(key(w, field, WT_LEN), n);
	memcpy(w, s, n);
	return w + n;
}

static inline size_t slen(const char *s)
{
	return s ? strlen(s) : 0;
}

enum { ATTR_N = 8 };

struct lens {
	size_t node, instance_id, path, cpu_pct_of, mem_pct_of;
	size_t flat[ATTR_N], attr[ATTR_N];
};

/* The eight who-is-it strings, in field order: the flat fields 32-39 of a Sample and the Attribution's 1-8 have the
 * same names (each message its own struct, hence a macro). */
#define EIGHT_STRINGS(m, out)                                                                                          \
	do {                                                                                                           \
		(out)[0] = (m)->container_id;                                                                          \
		(out)[1] = (m)->runtime;                                                                               \
		(out)[2] = (m)->pod;                                                                                   \
		(out)[3] = (m)->namespace_;                                                                            \
		(out)[4] = (m)->container_name;                                                                        \
		(out)[5] = (m)->pod_uid;                                                                               \
		(out)[6] = (m)->qos_class;                                                                             \
		(out)[7] = (m)->image;                                                                                 \
	} while (0)

static uint8_t *attribution(uint8_t *w, const char *const s[ATTR_N], const size_t n[ATTR_N])
{
	size_t len = 0;

	for (int i = 0; i < ATTR_N; i++)
		if (n[i])
			len += 1 + varint_len(n[i]) + n[i];
	w = varint(key(w, 40, WT_LEN), len);
	for (int i = 0; i < ATTR_N; i++)
		w = str(w, (unsigned)i + 1, s[i], n[i]);
	return w;
}

static uint8_t *sample_body(uint8_t *w, const Cgpulse__V1__Sample *p, const struct lens *l)
{
	const char *flat[ATTR_N], *attr[ATTR_N];

	w = u64(w, 1, p->cgroup_id);
	w = str(w, 2, p->path, l->path);
	w = dbl(w, 3, p->window_s);
	w = u64(w, 4, p->cpu_ns_total);
	w = u64(w, 5, p->cpu_ns_window);
	w = dbl(w, 6, p->cpu_cores);
	w = u64(w, 7, p->voluntary_switches);
	w = u64(w, 8, p->involuntary_switches);
	w = u64(w, 9, p->runq_waits_window);
	w = dbl(w, 10, p->runq_p50_us);
	w = dbl(w, 11, p->runq_p99_us);
	w = boolean(w, 12, p->has_mem);
	w = u64(w, 13, p->mem_bytes);
	w = u64(w, 14, p->mem_limit_bytes);
	w = u64(w, 15, p->oom_kills);
	w = u64(w, 16, p->reclaim_ns_total);
	w = u64(w, 17, p->reclaims_total);
	if (p->n_runq_hist_window) {
		size_t len = 0;

		for (size_t i = 0; i < p->n_runq_hist_window; i++)
			len += varint_len(p->runq_hist_window[i]);
		w = varint(key(w, 18, WT_LEN), len);
		for (size_t i = 0; i < p->n_runq_hist_window; i++)
			w = varint(w, p->runq_hist_window[i]);
	}
	w = u64(w, 19, p->oom_kills_window);
	w = dbl(w, 20, p->cpu_limit_cores);
	w = dbl(w, 21, p->cpu_pct);
	w = dbl(w, 22, p->mem_pct);
	w = str(w, 23, p->cpu_pct_of, l->cpu_pct_of);
	w = str(w, 24, p->mem_pct_of, l->mem_pct_of);
	EIGHT_STRINGS(p, flat);
	for (int i = 0; i < ATTR_N; i++)
		w = str(w, 32 + (unsigned)i, flat[i], l->flat[i]);
	if (p->attribution) {
		EIGHT_STRINGS(p->attribution, attr);
		w = attribution(w, attr, l->attr);
	}
	w = boolean(w, 41, p->has_mem_stat);
	w = u64(w, 42, p->mem_working_set_bytes);
	w = u64(w, 43, p->mem_inactive_file_bytes);
	w = u64(w, 44, p->mem_anon_bytes);
	w = u64(w, 45, p->mem_file_bytes);
	w = boolean(w, 46, p->has_swap);
	w = u64(w, 47, p->mem_swap_bytes);
	w = boolean(w, 48, p->has_mem_events);
	w = u64(w, 49, p->mem_events_max);
	w = u64(w, 50, p->mem_events_oom);
	w = boolean(w, 51, p->has_mem_events_high);
	w = u64(w, 52, p->mem_events_high);
	w = boolean(w, 53, p->has_mem_events_oom_group_kill);
	w = u64(w, 54, p->mem_events_oom_group_kill);
	w = boolean(w, 55, p->has_cpu_bandwidth);
	w = u64(w, 56, p->cpu_periods);
	w = u64(w, 57, p->cpu_throttled_periods);
	w = u64(w, 58, p->cpu_throttled_ns);
	w = u64(w, 59, p->cpu_periods_window);
	w = u64(w, 60, p->cpu_throttled_periods_window);
	w = u64(w, 61, p->cpu_throttled_ns_window);
	w = boolean(w, 62, p->has_cpu_user_system);
	w = u64(w, 63, p->cpu_user_ns);
	w = u64(w, 64, p->cpu_system_ns);
	w = boolean(w, 65, p->has_psi);
	w = u64(w, 66, p->psi_cpu_some_ns);
	w = u64(w, 67, p->psi_cpu_full_ns);
	w = u64(w, 68, p->psi_memory_some_ns);
	w = u64(w, 69, p->psi_memory_full_ns);
	w = u64(w, 70, p->psi_io_some_ns);
	w = u64(w, 71, p->psi_io_full_ns);
	w = boolean(w, 72, p->has_kernel_windows);
	w = dbl(w, 73, p->mem_working_set_pct);
	w = dbl(w, 74, p->cpu_throttled_pct);
	w = dbl(w, 75, p->psi_cpu_some_pct);
	w = dbl(w, 76, p->psi_memory_some_pct);
	w = dbl(w, 77, p->psi_memory_full_pct);
	w = dbl(w, 78, p->psi_io_some_pct);
	return w;
}

/* Numeric fields of a Sample at their widest: 71 keys of 2 bytes and 10-byte values, with room to spare. */
#define SAMPLE_FIXED_MAX 1024
#define KEY_LEN_MAX	 (2 + 10) /* a key and a length */

bool cgp_sample_pack_handles(const Cgpulse__V1__Event *ev)
{
	const Cgpulse__V1__Sample *p = ev->sample;

	/* anything protobuf-c would add that this file does not write goes the general way */
	return ev->body_case == CGPULSE__V1__EVENT__BODY_SAMPLE && p && !ev->base.n_unknown_fields &&
	       !p->base.n_unknown_fields && (!p->attribution || !p->attribution->base.n_unknown_fields);
}

int cgp_sample_pack(const Cgpulse__V1__Event *ev, struct cgp_buf *out)
{
	const Cgpulse__V1__Sample *p = ev->sample;
	const char *flat[ATTR_N], *attr[ATTR_N];
	size_t bound = SAMPLE_FIXED_MAX + 4 * KEY_LEN_MAX, body, hdr;
	uint8_t *w, *start, *b;
	struct lens l;

	l.node = slen(ev->node);
	l.instance_id = slen(ev->instance_id);
	l.path = slen(p->path);
	l.cpu_pct_of = slen(p->cpu_pct_of);
	l.mem_pct_of = slen(p->mem_pct_of);
	bound += l.node + l.instance_id + l.path + l.cpu_pct_of + l.mem_pct_of + 5 * KEY_LEN_MAX;
	bound += p->n_runq_hist_window * 10;
	EIGHT_STRINGS(p, flat);
	for (int i = 0; i < ATTR_N; i++)
		bound += (l.flat[i] = slen(flat[i])) + KEY_LEN_MAX;
	memset(l.attr, 0, sizeof(l.attr));
	if (p->attribution) {
		EIGHT_STRINGS(p->attribution, attr);
		for (int i = 0; i < ATTR_N; i++)
			bound += (l.attr[i] = slen(attr[i])) + KEY_LEN_MAX;
	}
	start = w = cgp_buf_reserve(out, bound);
	if (!w)
		return -ENOMEM;
	w = str(w, 1, ev->node, l.node);
	w = str(w, 2, ev->instance_id, l.instance_id);
	w = u64(w, 3, ev->seq);
	w = u64(w, 4, ev->ts_ns);
	w = key(w, 5, WT_LEN);
	/* the body is written past the widest length prefix, then moved back to just after the real one */
	b = w + 10;
	body = (size_t)(sample_body(b, p, &l) - b);
	hdr = varint_len(body);
	varint(w, body);
	memmove(w + hdr, b, body);
	out->len += (size_t)(w + hdr + body - start);
	return 0;
}
