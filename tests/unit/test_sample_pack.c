// SPDX-License-Identifier: GPL-2.0
/* The Sample event's own packer (events/sample_pack.c, straight from the agent's records) against
 * cgp_event_build_sample + protobuf-c's pack: the same bytes for the fixtures, for the edge values (NaN, -0.0, the
 * widest varints, empty and non-UTF-8 strings, no Attribution, the 4 KiB of sanitized strings running out) and for
 * thousands of samples, attributions and envelopes with every field set or zero at random. And the gain pinned as
 * counts: a published sample fills no protobuf-c struct and never goes through protobuf-c's packing. And the batch
 * compression (ISA-L): a batch of such samples inflates back exactly and is smaller than zlib's. */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "events/event_encode.h"
#include "events/event_json.h"
#include "events/frame.h"
#include "events/wire.h"
#include "events/publish.h"
#include "events/sample_pack.h"
#include "fixtures.h"

/* protobuf-c's generic packing, counted when the agent's code calls it (interposed here, then passed on) */
static unsigned long pbc_sized, pbc_packed;

size_t protobuf_c_message_get_packed_size(const ProtobufCMessage *m)
{
	static size_t (*real)(const ProtobufCMessage *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "protobuf_c_message_get_packed_size");
	pbc_sized++;
	return real(m);
}

size_t protobuf_c_message_pack(const ProtobufCMessage *m, uint8_t *out)
{
	static size_t (*real)(const ProtobufCMessage *, uint8_t *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "protobuf_c_message_pack");
	pbc_packed++;
	return real(m, out);
}

static const struct cgp_event_meta meta = {.node = "node-a", .instance_id = "0123456789abcdef", .seq = 42};

/* ours and protobuf-c's bytes of the same sample, compared */
static void assert_same_bytes(const struct cgp_event_meta *m, const struct cgp_sample *s,
			      const struct cgp_attribution *a)
{
	struct cgp_event_build *b = calloc(1, sizeof(*b));
	struct cgp_buf ours = CGP_BUF_INIT;
	size_t n;
	uint8_t *theirs;

	assert_non_null(b);
	cgp_event_build_sample(b, m, s, a);
	n = cgpulse__v1__event__get_packed_size(&b->ev);
	theirs = malloc(n ? n : 1);
	assert_non_null(theirs);
	assert_int_equal(cgpulse__v1__event__pack(&b->ev, theirs), n);
	assert_int_equal(cgp_buf_append(&ours, "x", 1), 0); /* appends after what the buffer holds */
	assert_int_equal(cgp_sample_pack(m, s, a, &ours), 0);
	assert_int_equal(cgp_buf_size(&ours), n + 1);
	assert_memory_equal(cgp_buf_head(&ours) + 1, theirs, n);
	cgp_buf_free(&ours);
	free(theirs);
	free(b);
}

static void test_fixtures(void **state)
{
	struct cgp_sample s = fx_sample();
	struct cgp_attribution a = fx_attribution(FX_WEB), none = cgp_attribution_unknown;

	(void)state;
	assert_same_bytes(&meta, &s, &a);
	none.path = FX_WEB; /* nobody's cgroup: no Attribution */
	assert_same_bytes(&meta, &s, &none);
	s.first_window = true; /* no window figures, no shares */
	memset(s.runq_hist_window, 0, sizeof(s.runq_hist_window));
	s.m[CGP_METRIC_CPU_PCT].limit_kind = CGP_LIMIT_NODE;
	assert_same_bytes(&meta, &s, &a);
	a.path = "/bad/\xff\xfe/utf8"; /* sanitized */
	a.pod = "";
	assert_same_bytes(&meta, &s, &a);
	a.container_id = a.pod_uid = a.image = ""; /* a pod alone is somebody */
	a.pod = "web";
	assert_same_bytes(&meta, &s, &a);
	a.pod = ""; /* a runtime and a name alone are nobody: no Attribution, no flat fields */
	assert_same_bytes(&meta, &s, &a);
	memset(&s, 0, sizeof(s)); /* everything zero: only what is always set */
	assert_same_bytes(&meta, &s, &none);
}

static void test_edge_values(void **state)
{
	struct cgp_sample s = fx_sample();
	struct cgp_attribution a = fx_attribution(FX_WEB);
	struct cgp_event_meta m = meta;
	char long_path[300], *bad = malloc(3000);

	(void)state;
	assert_non_null(bad);
	memset(long_path, 'p', sizeof(long_path) - 1); /* a length of two varint bytes */
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = 0;
	a.path = long_path;
	m.seq = UINT64_MAX;
	s.cgroup_id = UINT64_MAX;
	s.ts_ns = 0;
	s.cpu_cores = -0.0; /* == 0: protobuf-c leaves it out */
	s.window_s = NAN;   /* != 0: written */
	s.runq_p50_us = INFINITY;
	s.cpu_limit_cores = -1.5;
	s.m[CGP_METRIC_PSI_IO_SOME_PCT].value = NAN; /* not known: 0 on the wire */
	s.m[CGP_METRIC_PSI_IO_SOME_PCT].known = false;
	for (size_t i = 0; i < CGP_RUNQ_SLOTS; i++)
		s.runq_hist_window[i] = i % 3 ? UINT64_MAX >> (i % 64) : 0;
	assert_same_bytes(&m, &s, &a);
	/* strings that are not UTF-8, more of them than the build's 4 KiB of sanitized copies holds: cut alike */
	memset(bad, 0xff, 2999);
	bad[2999] = 0;
	m.node = bad;
	a.path = bad;
	a.pod = bad;
	assert_same_bytes(&m, &s, &a);
	a.path = bad + 2999 - 1094; /* node 3,000 bytes of the room with its NUL, path 1,095: one byte left for pod */
	assert_same_bytes(&m, &s, &a);
	m.node = "n\xc3";
	a.container_id = bad + 2000; /* 999 bytes: what is left of the room after node and path */
	assert_same_bytes(&m, &s, &a);
	a.path = "/short"; /* one sanitized character in a 128-byte body: the body's length prefix shorter */
	memset(&s, 0, sizeof(s));
	a = cgp_attribution_unknown;
	a.path = "/";
	assert_same_bytes(&m, &s, &a);
	free(bad);
}

/* a pseudo-random value of one field's type, or its zero half of the time */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static uint64_t rnd_num(uint64_t *x)
{
	uint64_t r = rnd(x);

	return r % 2 ? 0 : rnd(x) >> (rnd(x) % 64);
}

static char long_bad[2100], long_ok[300];
static const char *const words[] = {
    "",		"a",	  "containerd", "/kubepods.slice/x.scope", "\xc3\xa9t\xc3\xa9", "bad\xff\xfe",
    "\xe2\x82", long_bad, long_ok};

static const char *rnd_word(uint64_t *x, bool null_ok)
{
	if (null_ok && rnd(x) % 11 == 0)
		return NULL;
	return words[rnd(x) % (sizeof(words) / sizeof(words[0]))];
}

/* Every field of s at random: the whole struct a word at a time (integers of every width, doubles of every bit
 * pattern: NaN, infinities, subnormals, -0.0), then the flags and kinds set to values they can hold. */
static void randomize_sample(struct cgp_sample *s, uint64_t *x)
{
	uint64_t w;

	for (size_t off = 0; off + sizeof(w) <= sizeof(*s); off += sizeof(w)) {
		w = rnd(x) % 8 == 0 ? 0x8000000000000000ull : rnd_num(x);
		memcpy((char *)s + off, &w, sizeof(w));
	}
	s->first_window = rnd(x) % 2;
	s->has_mem = rnd(x) % 2;
	s->has_mem_stat = rnd(x) % 2;
	s->has_swap = rnd(x) % 2;
	s->has_mem_events = rnd(x) % 2;
	s->has_mem_events_high = rnd(x) % 2;
	s->has_mem_events_oom_group_kill = rnd(x) % 2;
	s->has_cpu_bandwidth = rnd(x) % 2;
	s->has_cpu_spec = rnd(x) % 2;
	s->has_cpu_user_system = rnd(x) % 2;
	s->has_psi = rnd(x) % 2;
	for (int i = 0; i < CGP_METRIC_MAX; i++) {
		s->m[i].known = rnd(x) % 2;
		s->m[i].limit_kind = rnd(x) % 2 ? CGP_LIMIT_NODE : CGP_LIMIT_CGROUP;
	}
	if (rnd(x) % 2) /* trailing empty slots, as most windows have */
		memset(s->runq_hist_window + rnd(x) % CGP_RUNQ_SLOTS, 0, sizeof(uint64_t));
}

static void test_random_samples_same_bytes(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;
	struct cgp_sample s;

	(void)state;
	memset(long_bad, 0xfe, sizeof(long_bad) - 1);
	memset(long_ok, 'k', sizeof(long_ok) - 1);
	for (int i = 0; i < 5000; i++) {
		struct cgp_event_meta m = {.seq = rnd_num(&x)};
		struct cgp_attribution a = {.path = rnd_word(&x, false)};

		m.node = rnd(&x) % 4 ? "node-a" : rnd_word(&x, true);
		m.instance_id = rnd(&x) % 4 ? "b61e25f6-c982-4bca-886e-304203bc139d" : rnd_word(&x, true);
		a.is_container = rnd(&x) % 2;
		a.container_id = rnd_word(&x, true);
		a.runtime = rnd_word(&x, true);
		a.pod = rnd_word(&x, true);
		a.pod_namespace = rnd_word(&x, true);
		a.container_name = rnd_word(&x, true);
		a.image = rnd_word(&x, true);
		a.pod_uid = rnd_word(&x, true);
		a.qos_class = rnd_word(&x, true);
		randomize_sample(&s, &x);
		assert_same_bytes(&m, &s, &a);
	}
}

/* The gain as counts: 1,000 samples published to the spool and the HTTP ring without one protobuf-c size
 * computation or pack, and without filling a protobuf-c struct (the publisher's Event build is untouched; main
 * built every sample's Event there first, then packed it). Other events still go through protobuf-c, and with
 * JSON on stdout a sample's Event is built for the JSON. */
static void test_published_sample_skips_protobuf_c(void **state)
{
	struct cgp_publisher p;
	struct cgp_sample s = fx_sample();
	struct cgp_attribution a = fx_attribution(FX_WEB);
	struct cgp_oom_event o = fx_oom();
	struct cgp_spool_stats st;
	void *unbuilt = calloc(1, sizeof(p.b));
	struct cgp_event_build *b = calloc(1, sizeof(*b));
	struct cgp_event_meta m;
	struct cgp_buf want = CGP_BUF_INIT;
	char *json = NULL;
	size_t json_len = 0;

	(void)state;
	assert_non_null(unbuilt);
	assert_non_null(b);
	assert_int_equal(cgp_pub_init(&p, "node-1", false, NULL), 0);
	p.spool = cgp_spool_new(p.instance_id, 64u << 20, 0);
	p.ring = cgp_event_ring_new(4096, 1u << 20);
	assert_non_null(p.spool);
	assert_non_null(p.ring);
	pbc_sized = pbc_packed = 0;
	for (int i = 0; i < 1000; i++) {
		s.cgroup_id = 1000 + (uint64_t)i;
		cgp_pub_sample(&p, &s, &a);
	}
	assert_int_equal(p.encode_failed, 0);
	cgp_spool_get_stats(p.spool, &st);
	assert_int_equal(st.pushed_total, 1000);
	assert_memory_equal(&p.b, unbuilt, sizeof(p.b)); /* no Event built: not one protobuf-c struct filled */
	assert_int_equal(pbc_sized, 0);
	assert_int_equal(pbc_packed, 0);
	cgp_pub_oom(&p, &o, &a); /* the counting works: an OOM kill is built and packed by protobuf-c */
	assert_true(pbc_sized >= 1);
	assert_true(pbc_packed >= 1);
	assert_true(memcmp(&p.b, unbuilt, sizeof(p.b)));
	cgp_event_ring_free(p.ring);
	cgp_spool_free(p.spool);
	cgp_pub_free(&p);

	/* JSON on stdout: the sample's Event is built for it, and printed as before */
	assert_int_equal(cgp_pub_init(&p, "node-1", true, open_memstream(&json, &json_len)), 0);
	assert_non_null(p.out);
	cgp_pub_sample(&p, &s, &a);
	m = (struct cgp_event_meta){.node = p.node, .instance_id = p.instance_id, .seq = 1};
	cgp_event_build_sample(b, &m, &s, &a);
	assert_int_equal(cgp_event_json_append(&b->ev, CGP_JSON_ENVELOPE, &want), 0);
	assert_int_equal(cgp_buf_append(&want, "\n", 1), 0);
	fclose(p.out);
	assert_int_equal(json_len, cgp_buf_size(&want));
	assert_memory_equal(json, cgp_buf_head(&want), json_len);
	cgp_pub_free(&p);
	cgp_buf_free(&want);
	free(json);
	free(b);
	free(unbuilt);
}

/* A node's second of samples, as the bench's 1,000 cgroups give them, packed and compressed as the collector client
 * does: ISA-L's level 1 must inflate back exactly, through zlib, and take fewer bytes than zlib's compress2 at level
 * 1 (which costs 4.6x the instructions; libdeflate, before, took ~5% fewer bytes than ISA-L for 2.2x them). */
static void test_batch_compresses_below_zlib(void **state)
{
	struct cgp_buf batch, ev = CGP_BUF_INIT, z = CGP_BUF_INIT, back = CGP_BUF_INIT;
	struct cgp_batch bt;
	struct cgp_attribution a = cgp_attribution_unknown;
	struct cgp_event_meta m = {.node = "node-a", .instance_id = "b61e25f6-c982-4bca-886e-304203bc139d"};
	struct cgp_sample s = {.ts_ns = 1795834263086700488ull, .window_s = 1.035198488, .has_mem = true};
	uint64_t x = 0x2545f4914f6cdd1dull;
	char path[64];
	uLongf zn;
	Bytef *zb;

	(void)state;
	cgp_batch_init(&bt);
	a.path = path;
	for (int i = 0; i < 1000; i++) {
		m.seq = 2 + (uint64_t)i;
		s.cgroup_id = 11800000 + rnd(&x) % 10000;
		s.mem_bytes = s.mem_working_set_bytes = s.mem_anon_bytes = 4096 * (rnd(&x) % 64);
		s.has_mem_stat = s.has_psi = s.has_cpu_user_system = true;
		s.psi_total_ns[CGP_PSI_MEM_SOME] = rnd(&x) % 1000;
		s.m[CGP_METRIC_CPU_PCT].limit_kind = s.m[CGP_METRIC_MEM_PCT].limit_kind = CGP_LIMIT_NODE;
		s.m[CGP_METRIC_MEM_PCT].value = (double)s.mem_bytes / 16e9 * 100;
		snprintf(path, sizeof(path), "/cgpulse-test-bench-22244/cg%05d", i);
		cgp_buf_clear(&ev);
		assert_int_equal(cgp_sample_pack(&m, &s, &a, &ev), 0);
		assert_int_equal(cgp_batch_add(&bt, cgp_buf_head(&ev), cgp_buf_size(&ev)), 0);
	}
	batch = bt.body; /* the Batch's events, as the collector client compresses them */
	assert_int_equal(cgp_zlib_compress(cgp_buf_head(&batch), cgp_buf_size(&batch), 1, &z), 0);
	assert_int_equal(cgp_zlib_inflate(cgp_buf_head(&z), cgp_buf_size(&z), cgp_buf_size(&batch), &back), 0);
	assert_int_equal(cgp_buf_size(&back), cgp_buf_size(&batch));
	assert_memory_equal(cgp_buf_head(&back), cgp_buf_head(&batch), cgp_buf_size(&batch));
	zn = compressBound(cgp_buf_size(&batch));
	zb = malloc(zn);
	assert_non_null(zb);
	assert_int_equal(compress2(zb, &zn, cgp_buf_head(&batch), cgp_buf_size(&batch), 1), Z_OK);
	print_message("batch %zu bytes: %zu compressed, zlib level 1 %lu\n", cgp_buf_size(&batch), cgp_buf_size(&z),
		      (unsigned long)zn);
	assert_true(cgp_buf_size(&z) < zn);
	free(zb);
	cgp_batch_free(&bt);
	cgp_buf_free(&ev);
	cgp_buf_free(&z);
	cgp_buf_free(&back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixtures),
	    cmocka_unit_test(test_edge_values),
	    cmocka_unit_test(test_random_samples_same_bytes),
	    cmocka_unit_test(test_published_sample_skips_protobuf_c),
	    cmocka_unit_test(test_batch_compresses_below_zlib),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
