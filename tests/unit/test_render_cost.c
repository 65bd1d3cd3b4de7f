// SPDX-License-Identifier: GPL-2.0
/* What a scrape costs, in a count that is not noise: formatted prints (vsnprintf, snprintf) per cgroup while
 * /metrics and /metrics/cadvisor render. A series line used to be printed through vsnprintf (twice when over 128
 * bytes, which every line with a container's labels is): ~50 per cgroup on /metrics, most of a scrape's CPU. Now
 * lines are copied together (sinks/expo_text.h), and its doubles (the run-queue _sum, a CPU limit) formatted with
 * integers (lib/fmt_double.h): no print per cgroup. This file's own vsnprintf and snprintf stand in front of libc's to
 * count the calls. Also: the hand-written numbers are the bytes printf wrote, and the gzip a page goes through inflates
 * to the page. */
#include <dlfcn.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "sinks/cadvisor.h"
#include "lib/fmt_u64.h"
#include "sinks/expo_text.h"
#include "sinks/gzip_body.h"
#include "sinks/metrics.h"

static unsigned long prints;

int vsnprintf(char *s, size_t n, const char *fmt, va_list ap)
{
	static int (*real)(char *, size_t, const char *, va_list);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "vsnprintf");
	prints++;
	return real(s, n, fmt, ap);
}

int snprintf(char *s, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(s, n, fmt, ap);
	va_end(ap);
	return r;
}

/* n cgroups, containers named as containerd's CRI names them, every figure present, a CPU limit on every third. */
static void fill(struct cgp_metrics *m, struct cgp_cadvisor *c, unsigned from, unsigned n)
{
	for (unsigned i = from; i < from + n; i++) {
		char path[256], id[80];
		struct cgp_attribution a = cgp_attribution_unknown;
		struct cgp_sample s = {
		    .cgroup_id = 4000 + i,
		    .ts_ns = 1764300000123456789ULL + i,
		    .cpu_ns_total = 1234567890123ULL * i,
		    .cpu_limit_cores = i % 3 ? 0 : 1.5,
		    .has_mem = true,
		    .mem_bytes = 1000000ULL * i,
		    .mem_limit_bytes = 1ULL << 30,
		    .voluntary_switches = 100 * i,
		    .has_mem_stat = true,
		    .has_swap = true,
		    .has_mem_events = true,
		    .has_mem_events_high = true,
		    .has_mem_events_oom_group_kill = true,
		    .has_cpu_bandwidth = true,
		    .has_cpu_spec = true,
		    .cpu_quota_us = 50000,
		    .cpu_period_us = 100000,
		    .has_cpu_user_system = true,
		    .cpu_user_ns = 999999999ULL * i,
		    .has_psi = true,
		};

		s.runq_hist_window[i % CGP_RUNQ_SLOTS] = i;
		snprintf(id, sizeof(id), "%064x", i);
		snprintf(path, sizeof(path), "/kubepods/cri-containerd-%s.scope", id);
		a.path = path;
		a.is_container = true;
		a.container_id = id;
		a.pod = "web-0";
		a.pod_namespace = "shop";
		a.container_name = "app";
		a.image = "registry.local/app:1";
		assert_int_equal(cgp_metrics_sample(m, &s, &a), 0);
		assert_int_equal(cgp_cadvisor_sample(c, &s, &a, 1764300000000000000ULL), 0);
	}
}

/* Prints while each page renders, and its series (lines not starting with '#'). */
static void render(struct cgp_metrics *m, struct cgp_cadvisor *c, unsigned long pr[2], unsigned long series[2])
{
	for (int k = 0; k < 2; k++) {
		struct cgp_buf b = CGP_BUF_INIT;
		unsigned long before = prints;

		assert_int_equal(k ? cgp_cadvisor_render(c, &b) : cgp_metrics_render(m, NULL, &b), 0);
		pr[k] = prints - before;
		series[k] = 0;
		for (size_t i = 0; i < b.len; i++)
			series[k] += (i == 0 || b.data[i - 1] == '\n') && b.data[i] != '#';
		cgp_buf_free(&b);
	}
}

/* 100 more cgroups cost no print on /metrics (~50 series each; its doubles, the run-queue _sum and a CPU limit,
 * were one print each, two when %.15g did not read back, until lib/fmt_double.h wrote them) nor on
 * /metrics/cadvisor. */
static void test_prints_per_cgroup(void **state)
{
	struct cgp_cadvisor_cfg cfg = {.select = CGP_CADVISOR_CONTAINERS};
	struct cgp_metrics *m = cgp_metrics_new();
	struct cgp_cadvisor *c = cgp_cadvisor_new(&cfg);
	unsigned long p0[2], s0[2], p1[2], s1[2];

	(void)state;
	assert_non_null(m);
	assert_non_null(c);
	fill(m, c, 0, 30);
	render(m, c, p0, s0);
	fill(m, c, 30, 100);
	render(m, c, p1, s1);
	print_message("per cgroup: /metrics %.2f prints, %.1f series; /metrics/cadvisor %.2f prints, %.1f series\n",
		      (p1[0] - p0[0]) / 100.0, (s1[0] - s0[0]) / 100.0, (p1[1] - p0[1]) / 100.0,
		      (s1[1] - s0[1]) / 100.0);
	assert_true(p0[0] > 0 && p0[1] > 0); /* the count works: HELP and TYPE lines are printed */
	assert_true(s1[0] - s0[0] >= 100 * 45);
	assert_true(s1[1] - s0[1] >= 100 * 20);
	assert_true(p1[0] - p0[0] == 0);
	assert_true(p1[1] - p0[1] == 0);
	cgp_metrics_free(m);
	cgp_cadvisor_free(c);
}

static void same_u64(uint64_t v)
{
	char want[32], got[32];
	size_t n = cgp_fmt_u64(got, v);

	snprintf(want, sizeof(want), "%" PRIu64, v);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(got, want, n);
}

/* The exact seconds printf wrote before: "%llu.%09llu" with the fraction's trailing zeros dropped, or "%llu". */
static void same_seconds(uint64_t ns)
{
	char want[48], got[48];
	size_t n = cgp_expo_seconds(got, ns);
	int w = snprintf(want, sizeof(want), "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);

	while (want[w - 1] == '0')
		want[--w] = 0;
	if (want[w - 1] == '.')
		want[--w] = 0;
	assert_int_equal(n, (size_t)w);
	assert_memory_equal(got, want, n);
}

static void test_numbers(void **state)
{
	static const uint64_t edges[] = {0,	     1,
					 9,	     10,
					 99,	     100,
					 999,	     1000,
					 999999999,  1000000000,
					 1000000001, 1500000000,
					 UINT32_MAX, 9999999999,
					 UINT64_MAX, UINT64_MAX - 1,
					 1ULL << 63, 10000000000000000000ULL};
	uint64_t x = 88172645463325252ULL;

	(void)state;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		same_u64(edges[i]);
		same_seconds(edges[i]);
	}
	for (int i = 0; i < 200000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		same_u64(x >> (i % 64));
		same_seconds(x >> (i % 64));
	}
}

/* zlib's inflate of a whole gzip body. */
static void gunzip(const struct cgp_buf *gz, struct cgp_buf *out)
{
	z_stream z = {0};
	int rc;

	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = gz->data;
	z.avail_in = (uInt)gz->len;
	do {
		uint8_t *w = cgp_buf_reserve(out, 65536);

		assert_non_null(w);
		z.next_out = w;
		z.avail_out = 65536;
		rc = inflate(&z, Z_NO_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END);
		out->len += 65536 - z.avail_out;
	} while (rc != Z_STREAM_END);
	assert_int_equal(z.avail_in, 0); /* one gzip member, nothing after it */
	inflateEnd(&z);
}

/* A page through the HTTP server's gzip (in its pieces; with a sync flush after some, as a stream does) inflates
 * to the very bytes of the plain page. */
static void test_gzip_same_page(void **state)
{
	struct cgp_cadvisor_cfg cfg = {.select = CGP_CADVISOR_CONTAINERS};
	struct cgp_metrics *m = cgp_metrics_new();
	struct cgp_cadvisor *c = cgp_cadvisor_new(&cfg);
	struct cgp_buf page = CGP_BUF_INIT, gz = CGP_BUF_INIT, back = CGP_BUF_INIT;

	(void)state;
	fill(m, c, 0, 200);
	assert_int_equal(cgp_metrics_render(m, NULL, &page), 0);
	for (int sync = 0; sync < 2; sync++) {
		struct cgp_gzip *g = cgp_gzip_new();

		assert_non_null(g);
		cgp_buf_clear(&gz);
		cgp_buf_clear(&back);
		for (size_t off = 0; off < page.len; off += 16384) {
			size_t n = page.len - off < 16384 ? page.len - off : 16384;
			enum cgp_gzip_flush f = off + n == page.len ? CGP_GZIP_END
						: sync && off % 3   ? CGP_GZIP_SYNC
								    : CGP_GZIP_MORE;

			assert_int_equal(cgp_gzip_put(g, page.data + off, n, f, &gz), 0);
		}
		cgp_gzip_free(g);
		gunzip(&gz, &back);
		assert_true(gz.len * 10 < page.len);
		assert_int_equal(back.len, page.len);
		assert_memory_equal(back.data, page.data, page.len);
	}
	cgp_buf_free(&page);
	cgp_buf_free(&gz);
	cgp_buf_free(&back);
	cgp_metrics_free(m);
	cgp_cadvisor_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prints_per_cgroup),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_gzip_same_page),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
