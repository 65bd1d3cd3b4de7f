// SPDX-License-Identifier: GPL-2.0
/* /metrics and /metrics/cadvisor stay byte for byte what they were for the same figures: pages rendered from a
 * fixed store (60 cgroups from a seeded generator: every optional figure on or off, doubles of every kind the
 * samples carry, names to escape, three sweeps, cgroups gone), whole and in small pieces, compared by length and
 * FNV-1a hash with the pages main's code rendered from the same store before the scrape's cost was cut (issue 16).
 * A change of format that is meant must record the new figures here, with why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sinks/cadvisor.h"
#include "sinks/metrics.h"

/* the pages main's code (288877f) rendered from this store */
#define METRICS_LEN  747368
#define METRICS_FNV  0x973ac2c74a42374fULL
#define CADVISOR_LEN 225923
#define CADVISOR_FNV 0x463595a838619a26ULL

static uint64_t rng;

static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* a double of one of the kinds a sample carries: ratios of counters, exact binary fractions, any bits */
static double some_double(void)
{
	uint64_t bits, a;
	double d;

	/* one draw a statement: the order of two calls in one expression is the compiler's to choose */
	switch (next() % 6) {
	case 0:
		a = next() % 400000 + 1;
		return (double)a / (double)(next() % 100000 + 1000);
	case 1:
		return (double)(next() % 1000000) / 1e6;
	case 2:
		a = next() % (1u << 20);
		return (double)a / (double)(1ULL << (next() % 40));
	case 3:
		bits = next() & ((1ULL << 52) - 1);
		bits |= (uint64_t)(1023 - 20 + next() % 60) << 52;
		memcpy(&d, &bits, sizeof(d));
		return d;
	case 4:
		return (double)(next() % 10) * 1e-6; /* 0 and below 1e-4: exponent style */
	default:
		return 0.1 * (double)(next() % 100);
	}
}

/* a draw shifted right by base plus a second draw's share of span bits, drawn in this order */
static uint64_t shifted(unsigned base, unsigned span)
{
	uint64_t v = next();

	return v >> (base + next() % span);
}

static void fill(struct cgp_metrics *m, struct cgp_cadvisor *c, int sweep)
{
	static const char *const names[] = {
	    "web", "db \"primary\"", "back\\slash", "line\nbreak", "caf\xc3\xa9", "bad\xff", ""};

	for (unsigned i = 0; i < 60; i++) {
		char id[80], path[200];
		struct cgp_attribution a = cgp_attribution_unknown;
		struct cgp_sample s = {
		    .cgroup_id = 1000 + (uint64_t)i * 7919 % 600, /* not in id order */
		    .cpu_period_us = 100000,
		};

		/* a statement a field, in this order: the order of an initializer list's draws is the compiler's */
		s.cpu_ns_total = shifted(0, 64);
		s.cpu_limit_cores = next() % 3 ? some_double() : 0;
		s.has_mem = next() % 5 != 0;
		s.mem_bytes = shifted(0, 64);
		s.mem_limit_bytes = next() % 2 ? next() >> 20 : 0;
		s.oom_kills = next() % 4;
		s.voluntary_switches = next() >> 30;
		s.involuntary_switches = next() >> 40;
		s.has_mem_stat = next() % 2;
		s.mem_working_set_bytes = next() >> 20;
		s.mem_inactive_file_bytes = next() >> 20;
		s.mem_anon_bytes = next() >> 20;
		s.mem_file_bytes = next() >> 20;
		s.has_swap = next() % 2;
		s.mem_swap_bytes = next() >> 25;
		s.has_mem_events = next() % 2;
		s.mem_events_max = next() % 100;
		s.mem_events_oom = next() % 10;
		s.has_mem_events_high = next() % 2;
		s.mem_events_high = next() % 1000;
		s.has_mem_events_oom_group_kill = next() % 2;
		s.mem_events_oom_group_kill = next() % 3;
		s.has_cpu_bandwidth = next() % 2;
		s.cpu_periods = next() >> 40;
		s.cpu_throttled_periods = next() >> 45;
		s.cpu_throttled_ns = shifted(0, 64);
		s.has_cpu_user_system = next() % 2;
		s.cpu_user_ns = shifted(0, 64);
		s.cpu_system_ns = (next() >> 30) * 1000;
		s.has_psi = next() % 3 != 0;
		s.has_cpu_spec = next() % 2;
		s.cpu_quota_us = next() % 2 ? next() % 400000 : 0;

		for (unsigned k = 0; k < CGP_RUNQ_SLOTS; k++)
			s.runq_hist_window[k] = next() % 3 ? 0 : shifted(40, 24);
		for (unsigned k = 0; k < CGP_PSI_MAX; k++)
			s.psi_total_ns[k] = shifted(0, 64);
		snprintf(id, sizeof(id), "%064llx", (unsigned long long)s.cgroup_id);
		snprintf(path, sizeof(path), "/kubepods/pod%u/cri-containerd-%s.scope", i % 7, id);
		a.path = path;
		a.is_container = i % 4 != 0;
		a.container_id = a.is_container ? id : "";
		a.pod = names[i % 7];
		a.pod_namespace = names[(i + sweep) % 7];
		a.container_name = names[(i + 3) % 7];
		a.image = "registry.local/app:1";
		a.rev = 1 + (uint64_t)sweep * (i % 2);
		assert_int_equal(cgp_metrics_sample(m, &s, &a), 0);
		assert_int_equal(cgp_cadvisor_sample(c, &s, &a, 1764300000000000000ULL + (uint64_t)sweep * 1000000), 0);
	}
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

/* The page in pieces of about `want` bytes. */
static void pieces(struct cgp_metrics *m, struct cgp_cadvisor *c, size_t want, struct cgp_buf *out)
{
	struct cgp_metrics_page *mp = m ? cgp_metrics_page_new(m, NULL) : NULL;
	struct cgp_cadvisor_page *cp = m ? NULL : cgp_cadvisor_page_new(c);
	bool done = false;

	assert_true(mp || cp);
	while (!done)
		assert_int_equal(
		    mp ? cgp_metrics_page_next(mp, out, want, &done) : cgp_cadvisor_page_next(cp, out, want, &done), 0);
	cgp_metrics_page_free(mp);
	cgp_cadvisor_page_free(cp);
}

static void test_pages_as_before(void **state)
{
	struct cgp_cadvisor_cfg cfg = {.select = CGP_CADVISOR_ALL};
	struct cgp_metrics *m = cgp_metrics_new();
	struct cgp_cadvisor *c = cgp_cadvisor_new(&cfg);
	struct cgp_buf b[2] = {CGP_BUF_INIT, CGP_BUF_INIT}, p[2] = {CGP_BUF_INIT, CGP_BUF_INIT};
	uint64_t h[2];

	(void)state;
	assert_non_null(m);
	assert_non_null(c);
	rng = 0x9e3779b97f4a7c15ULL;
	for (int sweep = 0; sweep < 3; sweep++)
		fill(m, c, sweep);
	for (uint64_t id = 1000; id < 1600; id += 97) {
		cgp_metrics_gone(m, id);
		cgp_cadvisor_gone(c, id);
	}
	assert_int_equal(cgp_metrics_render(m, NULL, &b[0]), 0);
	assert_int_equal(cgp_cadvisor_render(c, &b[1]), 0);
	pieces(m, NULL, 1000, &p[0]);
	pieces(NULL, c, 1000, &p[1]);
	for (int k = 0; k < 2; k++) {
		h[k] = fnv1a(b[k].data, b[k].len);
		print_message("%s: %zu bytes, fnv1a %#llx\n", k ? "/metrics/cadvisor" : "/metrics", b[k].len,
			      (unsigned long long)h[k]);
		assert_int_equal(p[k].len, b[k].len);
		assert_memory_equal(p[k].data, b[k].data, b[k].len);
	}
	assert_int_equal(b[0].len, METRICS_LEN);
	assert_int_equal(h[0], METRICS_FNV);
	assert_int_equal(b[1].len, CADVISOR_LEN);
	assert_int_equal(h[1], CADVISOR_FNV);
	for (int k = 0; k < 2; k++) {
		cgp_buf_free(&b[k]);
		cgp_buf_free(&p[k]);
	}
	cgp_metrics_free(m);
	cgp_cadvisor_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pages_as_before),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
