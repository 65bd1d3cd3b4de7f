// SPDX-License-Identifier: GPL-2.0
/* The Sample event's own packer (events/sample_pack.c) against protobuf-c's: the same bytes for the fixtures,
 * for the edge values (NaN, -0.0, the widest varints, empty and non-UTF-8 strings, no Attribution) and for
 * thousands of events with every field set or zero at random through protobuf-c's own descriptor. And the gain
 * pinned as a count: a published sample never goes through protobuf-c's packing (size computation or pack). And
 * the batch compression (ISA-L): a batch of such samples inflates back exactly and is smaller than zlib's. */
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

/* ours and protobuf-c's bytes of ev, compared */
static void assert_same_bytes(const Cgpulse__V1__Event *ev)
{
	struct cgp_buf ours = CGP_BUF_INIT;
	size_t n = cgpulse__v1__event__get_packed_size(ev);
	uint8_t *theirs = malloc(n ? n : 1);

	assert_non_null(theirs);
	assert_true(cgp_sample_pack_handles(ev));
	assert_int_equal(cgpulse__v1__event__pack(ev, theirs), n);
	assert_int_equal(cgp_buf_append(&ours, "x", 1), 0); /* appends after what the buffer holds */
	assert_int_equal(cgp_sample_pack(ev, &ours), 0);
	assert_int_equal(cgp_buf_size(&ours), n + 1);
	assert_memory_equal(cgp_buf_head(&ours) + 1, theirs, n);
	cgp_buf_free(&ours);
	free(theirs);
}

static void test_fixtures(void **state)
{
	struct cgp_event_build *b = calloc(1, sizeof(*b));
	struct cgp_sample s = fx_sample();
	struct cgp_attribution a = fx_attribution(FX_WEB), none = cgp_attribution_unknown;

	(void)state;
	assert_non_null(b);
	cgp_event_build_sample(b, &meta, &s, &a);
	assert_non_null(b->ev.sample->attribution);
	assert_same_bytes(&b->ev);
	none.path = FX_WEB;
	cgp_event_build_sample(b, &meta, &s, &none); /* nobody's cgroup: no Attribution */
	assert_null(b->ev.sample->attribution);
	assert_same_bytes(&b->ev);
	s.first_window = true; /* no window figures, no shares */
	memset(s.runq_hist_window, 0, sizeof(s.runq_hist_window));
	s.m[CGP_METRIC_CPU_PCT].limit_kind = CGP_LIMIT_NODE;
	cgp_event_build_sample(b, &meta, &s, &a);
	assert_same_bytes(&b->ev);
	a.path = "/bad/\xff\xfe/utf8"; /* sanitized into the build's own storage */
	a.pod = "";
	cgp_event_build_sample(b, &meta, &s, &a);
	assert_same_bytes(&b->ev);
	memset(&s, 0, sizeof(s)); /* everything zero: only what is always set */
	cgp_event_build_sample(b, &meta, &s, &none);
	assert_same_bytes(&b->ev);
	free(b);
}

static void test_edge_values(void **state)
{
	struct cgp_event_build *b = calloc(1, sizeof(*b));
	struct cgp_sample s = fx_sample();
	struct cgp_attribution a = fx_attribution(FX_WEB);
	struct cgp_event_meta m = meta;
	char long_path[300];

	(void)state;
	assert_non_null(b);
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
	for (size_t i = 0; i < CGP_RUNQ_SLOTS; i++)
		s.runq_hist_window[i] = i % 3 ? UINT64_MAX >> (i % 64) : 0;
	cgp_event_build_sample(b, &m, &s, &a);
	assert_same_bytes(&b->ev);
	free(b);
}

/* a pseudo-random value of one field's type, or its zero half of the time */
static uint64_t rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static const char *const words[] = {"",
				    "a",
				    "containerd",
				    "/kubepods.slice/x.scope",
				    "\xc3\xa9t\xc3\xa9",
				    "0123456789012345678901234567890123456789012345678901234567890123456789"
				    "0123456789012345678901234567890123456789012345678901234567890123456789"};
static uint64_t hist[CGP_RUNQ_SLOTS];

static void randomize(ProtobufCMessage *msg, uint64_t *x)
{
	const ProtobufCMessageDescriptor *d = msg->descriptor;

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		void *mem = (char *)msg + f->offset;
		uint64_t r = rnd(x), v = rnd(x) >> (rnd(x) % 64);
		bool zero = r % 2;

		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = zero ? 0 : rnd(x) % (CGP_RUNQ_SLOTS + 1);

			for (size_t k = 0; k < n; k++)
				hist[k] = rnd(x) % 4 ? rnd(x) >> (rnd(x) % 64) : 0;
			*(size_t *)((char *)msg + f->quantifier_offset) = n;
			*(uint64_t **)mem = hist;
			continue;
		}
		switch (f->type) {
		case PROTOBUF_C_TYPE_UINT64:
			*(uint64_t *)mem = zero ? 0 : v;
			break;
		case PROTOBUF_C_TYPE_DOUBLE:
			*(double *)mem = zero ? (r % 4 == 1 ? -0.0 : 0) : (double)(int64_t)v / 1024.0;
			break;
		case PROTOBUF_C_TYPE_BOOL:
			*(protobuf_c_boolean *)mem = !zero;
			break;
		case PROTOBUF_C_TYPE_STRING:
			*(const char **)mem = r % 7 == 0 ? NULL : words[rnd(x) % (sizeof(words) / sizeof(words[0]))];
			break;
		case PROTOBUF_C_TYPE_MESSAGE: /* the only one: Attribution */
			break;
		default:
			fail_msg("field %s: a type this test does not fill; the packer needs it too", f->name);
		}
	}
}

static void test_random_events_same_bytes(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ull;

	(void)state;
	for (int i = 0; i < 5000; i++) {
		Cgpulse__V1__Event ev = CGPULSE__V1__EVENT__INIT;
		Cgpulse__V1__Sample s = CGPULSE__V1__SAMPLE__INIT;
		Cgpulse__V1__Attribution a = CGPULSE__V1__ATTRIBUTION__INIT;

		randomize(&ev.base, &x);
		randomize(&s.base, &x);
		randomize(&a.base, &x);
		s.attribution = rnd(&x) % 3 ? &a : NULL;
		ev.body_case = CGPULSE__V1__EVENT__BODY_SAMPLE;
		ev.sample = &s;
		assert_same_bytes(&ev);
	}
}

/* Not for this packer: anything else, or a Sample event with fields it does not know. */
static void test_handles_only_plain_samples(void **state)
{
	Cgpulse__V1__Event ev = CGPULSE__V1__EVENT__INIT;
	Cgpulse__V1__Sample s = CGPULSE__V1__SAMPLE__INIT;
	ProtobufCMessageUnknownField u = {0};

	(void)state;
	assert_false(cgp_sample_pack_handles(&ev));
	ev.body_case = CGPULSE__V1__EVENT__BODY_SAMPLE;
	assert_false(cgp_sample_pack_handles(&ev)); /* no Sample set */
	ev.sample = &s;
	assert_true(cgp_sample_pack_handles(&ev));
	s.base.n_unknown_fields = 1;
	s.base.unknown_fields = &u;
	assert_false(cgp_sample_pack_handles(&ev));
}

/* The gain as a count: 1,000 samples published to the spool and the HTTP ring without one protobuf-c size
 * computation or pack (main's cgp_event_pack made one of each per sample, and protobuf-c sized the nested
 * Sample and Attribution again inside). Other events still go through protobuf-c. */
static void test_published_sample_skips_protobuf_c(void **state)
{
	struct cgp_publisher p;
	struct cgp_sample s = fx_sample();
	struct cgp_attribution a = fx_attribution(FX_WEB);
	struct cgp_oom_event o = fx_oom();
	struct cgp_spool_stats st;

	(void)state;
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
	assert_int_equal(pbc_sized, 0);
	assert_int_equal(pbc_packed, 0);
	cgp_pub_oom(&p, &o, &a); /* the counting works: an OOM kill is packed by protobuf-c */
	assert_true(pbc_sized >= 1);
	assert_true(pbc_packed >= 1);
	cgp_event_ring_free(p.ring);
	cgp_spool_free(p.spool);
	cgp_pub_free(&p);
}

/* A node's second of samples, as the bench's 1,000 cgroups give them, packed and compressed as the collector client
 * does: ISA-L's level 1 must inflate back exactly, through zlib, and take fewer bytes than zlib's compress2 at level
 * 1 (which costs 4.6x the instructions; libdeflate, before, took ~5% fewer bytes than ISA-L for 2.2x them). */
static void test_batch_compresses_below_zlib(void **state)
{
	struct cgp_event_build *b = calloc(1, sizeof(*b));
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
	assert_non_null(b);
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
		cgp_event_build_sample(b, &m, &s, &a);
		cgp_buf_clear(&ev);
		assert_int_equal(cgp_event_pack(b, &ev), 0);
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
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fixtures),
	    cmocka_unit_test(test_edge_values),
	    cmocka_unit_test(test_random_events_same_bytes),
	    cmocka_unit_test(test_handles_only_plain_samples),
	    cmocka_unit_test(test_published_sample_skips_protobuf_c),
	    cmocka_unit_test(test_batch_compresses_below_zlib),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
