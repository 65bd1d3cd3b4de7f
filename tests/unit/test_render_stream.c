// SPDX-License-Identifier: GPL-2.0
/* /metrics and /metrics/cadvisor rendered a piece at a time (sinks/metrics.h, sinks/cadvisor.h pages) give the
 * very bytes the whole-page renderers gave before pages existed: the .golden files in tests/data/render/ were
 * written by the whole-page code (`test_render_stream golden DIR`, run on the tree before pages) from the fixture
 * below, and every page read here, in pieces of 1 byte to 64 KiB, must equal them. A page is a snapshot: samples, gone
 * cgroups and new agent counters handed down while it is being read change nothing in it.
 *
 * Runs from the repo root (make and tests/run.sh do), where tests/data/render/ is. */
#include <errno.h>
#include <inttypes.h>
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

#define N_CGROUPS  24
#define GOLDEN_DIR "tests/data/render/"

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rnd_state >> 17;
}

/* Names for cgroup i: containers in pods, pods' own cgroups, plain cgroups, and label values to escape. */
struct names {
	char path[256], id[64], pod[64], uid[64], name[64], image[64];
	struct cgp_attribution a;
};

static void names_of(unsigned i, struct names *n)
{
	unsigned pod = i / 4;

	snprintf(n->uid, sizeof(n->uid), "0f%06u-aaaa-bbbb-cccc-%012u", pod, pod);
	snprintf(n->id, sizeof(n->id), "%08x%08x", i * 2654435761u, i);
	snprintf(n->pod, sizeof(n->pod), "web-%u", pod);
	snprintf(n->name, sizeof(n->name), i % 7 == 0 ? "c\"%u\\x\n" : "app-%u", i);
	snprintf(n->image, sizeof(n->image), "registry.local/app:%u", i % 5);
	n->a = cgp_attribution_unknown;
	if (i == 0) {
		snprintf(n->path, sizeof(n->path), "/");
	} else if (i % 4 == 1) { /* the pod's own cgroup */
		snprintf(n->path, sizeof(n->path), "/kubepods/burstable/pod%s", n->uid);
		n->a.pod_uid = n->uid;
	} else if (i % 4 == 2 || i % 4 == 3) { /* its containers */
		snprintf(n->path, sizeof(n->path), "/kubepods/burstable/pod%s/%s", n->uid, n->id);
		n->a.is_container = true;
		n->a.container_id = n->id;
		n->a.runtime = "containerd";
		n->a.pod = n->pod;
		n->a.pod_namespace = i % 8 == 2 ? "shop" : "kube-system";
		n->a.container_name = n->name;
		n->a.image = n->image;
		n->a.pod_uid = n->uid;
	} else {
		snprintf(n->path, sizeof(n->path), "/system.slice/unit-%u.service%s", i, i % 9 == 0 ? "/\xff\xfe" : "");
	}
	n->a.path = n->path;
}

/* Sample `round` of cgroup i: every optional group present or not, by the cgroup. */
static struct cgp_sample sample_of(unsigned i, unsigned round)
{
	struct cgp_sample s = {
	    .cgroup_id = 1000 + (uint64_t)i * 7919 % 10007, /* not in the order they are handed down */
	    .ts_ns = 1700000000000000000ULL + round * 1000000000ULL + i,
	    .window_s = 1.0,
	    .cpu_ns_total = rnd() % 100000000000ULL,
	    .cpu_limit_cores = i % 3 == 0 ? (double)(i % 5 + 1) / 3.0 : 0,
	    .has_mem = i % 11 != 5,
	    .mem_bytes = rnd() % (1ULL << 33),
	    .mem_limit_bytes = i % 4 == 2   ? 1ULL << 28
			       : i % 4 == 3 ? 9223372036854771712ULL
					    : 0,
	    .oom_kills = i % 13,
	    .voluntary_switches = rnd() % 1000000,
	    .involuntary_switches = rnd() % 1000,
	    .has_mem_stat = i % 6 != 4,
	    .mem_working_set_bytes = rnd() % (1ULL << 30),
	    .mem_inactive_file_bytes = rnd() % (1ULL << 30),
	    .mem_anon_bytes = rnd() % (1ULL << 30),
	    .mem_file_bytes = rnd() % (1ULL << 30),
	    .has_swap = i % 5 == 1,
	    .mem_swap_bytes = rnd() % (1ULL << 20),
	    .has_mem_events = i % 7 != 3,
	    .mem_events_max = rnd() % 100,
	    .mem_events_oom = rnd() % 10,
	    .has_mem_events_high = i % 2 == 0,
	    .mem_events_high = rnd() % 1000,
	    .has_mem_events_oom_group_kill = i % 3 == 1,
	    .mem_events_oom_group_kill = rnd() % 3,
	    .has_cpu_bandwidth = i % 4 != 1,
	    .cpu_periods = rnd() % 100000,
	    .cpu_throttled_periods = rnd() % 1000,
	    .cpu_throttled_ns = rnd() % 10000000000ULL,
	    .has_cpu_spec = i % 5 != 2,
	    .cpu_quota_us = i % 3 == 0 ? 0 : 50000,
	    .cpu_period_us = 100000,
	    .cpu_shares = 1024 + i,
	    .has_cpu_user_system = i != 0,
	    .cpu_user_ns = rnd() % 100000000000ULL,
	    .cpu_system_ns = rnd() % 100000000000ULL,
	    .has_psi = i % 10 != 7,
	};

	for (unsigned k = 0; k < CGP_PSI_MAX; k++)
		s.psi_total_ns[k] = rnd() % 10000000000ULL;
	for (unsigned b = 0; b < CGP_RUNQ_SLOTS; b++)
		s.runq_hist_window[b] = rnd() % 4 ? 0 : rnd() % 500;
	return s;
}

static void agent_counters(struct cgp_agent_counters *c, uint64_t x)
{
	memset(c, 0, sizeof(*c));
	c->events_published = 123456 + x;
	c->events_sent = 123000;
	c->spool_events = 456;
	c->spool_disk = true;
	c->spool_disk_bytes = 1 << 20;
	c->collector = true;
	c->collector_connected = true;
	c->collector_connects = 3;
	c->records_lost[CGP_DROP_SWEEP_FULL] = 2;
	c->cgroups_tracked = N_CGROUPS;
	c->cadvisor.cgroups = 40;
	c->sweeps = 100;
	c->sweep_seconds_total = 0.123456789;
	c->last_sweep_seconds = 0.00125;
	c->alertmanager = true;
	c->am.n_targets = 2;
	snprintf(c->am.url[0], sizeof(c->am.url[0]), "http://am-0:9093");
	snprintf(c->am.url[1], sizeof(c->am.url[1]), "https://am-1:9093/\"x\"");
	c->am.q.t[0] = (struct cgp_amq_target_stats){.up = true, .posts_ok = 10, .sent_firing = 12};
	c->bpf_stats_enabled = true;
	c->n_progs = 2;
	c->progs[0] = (struct cgp_bpf_prog_stat){"cgp_switch", 1500000000ULL, 3000000};
	c->progs[1] = (struct cgp_bpf_prog_stat){"cgp_sweep", 250, 2};
}

static const struct cgp_http_stats http_stats = {
    .requests = {[CGP_HTTP_EP_METRICS] = 3, [CGP_HTTP_EP_EVENTS] = 2, [CGP_HTTP_EP_CADVISOR] = 4},
    .errors = {[CGP_HTTP_EP_OTHER] = 1},
    .events_streamed = 99,
    .refused = {[CGP_REFUSED_HEADER_DEADLINE] = 5},
    .conns_main = 2,
};

struct stores {
	struct cgp_metrics *m;
	struct cgp_cadvisor *c;
};

/* Three rounds of samples for every cgroup (the run-queue histogram accumulates), one cgroup gone. */
static void fill(struct stores *st)
{
	struct cgp_cadvisor_cfg cfg = {.select = CGP_CADVISOR_GLOB, .glob = "/system.slice/*"};
	struct cgp_agent_counters ac;

	rnd_state = 42;
	st->m = cgp_metrics_new();
	st->c = cgp_cadvisor_new(&cfg);
	if (!st->m || !st->c)
		abort();
	for (unsigned round = 0; round < 3; round++)
		for (unsigned i = 0; i < N_CGROUPS; i++) {
			struct names n;
			struct cgp_sample s = sample_of(i, round);

			names_of(i, &n);
			if (cgp_metrics_sample(st->m, &s, &n.a) ||
			    cgp_cadvisor_sample(st->c, &s, &n.a, 1690000000000000000ULL + i * 1000))
				abort();
		}
	cgp_metrics_gone(st->m, sample_of(17, 0).cgroup_id);
	cgp_cadvisor_gone(st->c, sample_of(18, 0).cgroup_id);
	agent_counters(&ac, 0);
	cgp_metrics_set_agent(st->m, &ac);
}

static void stores_free(struct stores *st)
{
	cgp_metrics_free(st->m);
	cgp_cadvisor_free(st->c);
}

/* The agent's CPU time and RSS are read from /proc/self at render time: their values are masked. */
static void mask_self(struct cgp_buf *b)
{
	static const char *const moving[] = {"\ncgpulse_agent_cpu_seconds_total ",
					     "\ncgpulse_agent_resident_memory_bytes "};
	struct cgp_buf out = CGP_BUF_INIT;
	const char *p = (const char *)b->data, *end = p + b->len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		bool masked = false;

		for (size_t k = 0; k < sizeof(moving) / sizeof(moving[0]); k++) {
			size_t kl = strlen(moving[k]) - 1;

			if (len > kl && !memcmp(p, moving[k] + 1, kl)) {
				if (cgp_buf_append(&out, p, kl) || cgp_buf_append(&out, "X\n", 2))
					abort();
				masked = true;
			}
		}
		if (!masked && cgp_buf_append(&out, p, len))
			abort();
		p += len;
	}
	cgp_buf_free(b);
	*b = out;
}

static void whole_metrics(const struct stores *st, struct cgp_buf *b)
{
	if (cgp_metrics_render(st->m, &http_stats, b))
		abort();
	mask_self(b);
}

static void whole_cadvisor(const struct stores *st, struct cgp_buf *b)
{
	if (cgp_cadvisor_render(st->c, b))
		abort();
}

static int write_file(const char *dir, const char *name, const struct cgp_buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f)) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

static void read_golden(const char *name, struct cgp_buf *b)
{
	char path[4096], chunk[65536];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", name);
	f = fopen(path, "re");
	if (!f)
		fail_msg("%s: %s (run from the repo root)", path, strerror(errno));
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(cgp_buf_append(b, chunk, n), 0);
	fclose(f);
}

/* The first differing line, for a readable failure. */
static void same_text(const struct cgp_buf *got, const struct cgp_buf *want, const char *what)
{
	size_t i = 0, line = 1, n = got->len < want->len ? got->len : want->len;

	for (; i < n && got->data[i] == want->data[i]; i++)
		line += got->data[i] == '\n';
	if (i == n && got->len == want->len)
		return;
	fail_msg("%s: differs at byte %zu (line %zu): got %zu bytes, want %zu", what, i, line, got->len, want->len);
}

/* The whole page (cgp_metrics_render, cgp_cadvisor_render) is still the same bytes. */
static void test_whole_pages(void **state)
{
	struct stores st;
	struct cgp_buf got = CGP_BUF_INIT, want = CGP_BUF_INIT;

	(void)state;
	fill(&st);
	whole_metrics(&st, &got);
	read_golden("metrics.golden", &want);
	same_text(&got, &want, "/metrics");
	cgp_buf_clear(&got);
	cgp_buf_clear(&want);
	whole_cadvisor(&st, &got);
	read_golden("cadvisor.golden", &want);
	same_text(&got, &want, "/metrics/cadvisor");
	cgp_buf_free(&got);
	cgp_buf_free(&want);
	stores_free(&st);
}

/* What the loop does while a scrape is being answered: a sweep (every cgroup sampled again, one gone, one new)
 * and new agent counters. */
static void sweep_again(struct stores *st)
{
	struct cgp_agent_counters ac;

	for (unsigned i = 0; i < N_CGROUPS + 1; i++) {
		struct names n;
		struct cgp_sample s = sample_of(i, 9);

		names_of(i, &n);
		n.a.pod = "renamed";
		assert_int_equal(cgp_metrics_sample(st->m, &s, &n.a), 0);
		assert_int_equal(cgp_cadvisor_sample(st->c, &s, &n.a, 1), 0);
	}
	cgp_metrics_gone(st->m, sample_of(3, 0).cgroup_id);
	cgp_cadvisor_gone(st->c, sample_of(6, 0).cgroup_id);
	agent_counters(&ac, 1000);
	cgp_metrics_set_agent(st->m, &ac);
}

/* A page read in pieces of `want` bytes; the loop sweeps again after the first piece when `sweep`. Every piece
 * but the last is at least want bytes and at most want plus one cgroup's series (a histogram: well under 16 KiB
 * here), so a page never holds much more than it was asked for. */
static void read_page(struct stores *st, bool cadvisor, size_t want, bool sweep, struct cgp_buf *got)
{
	struct cgp_metrics_page *mp = cadvisor ? NULL : cgp_metrics_page_new(st->m, &http_stats);
	struct cgp_cadvisor_page *cp = cadvisor ? cgp_cadvisor_page_new(st->c) : NULL;
	struct cgp_buf piece = CGP_BUF_INIT;
	bool done = false;
	unsigned pieces = 0;

	assert_true(mp || cp);
	while (!done) {
		cgp_buf_clear(&piece);
		if (cadvisor)
			assert_int_equal(cgp_cadvisor_page_next(cp, &piece, want, &done), 0);
		else
			assert_int_equal(cgp_metrics_page_next(mp, &piece, want, &done), 0);
		if (!done)
			assert_true(piece.len >= want);
		assert_true(piece.len < want + 16384);
		assert_int_equal(cgp_buf_append(got, piece.data, piece.len), 0);
		if (sweep && ++pieces == 1)
			sweep_again(st);
	}
	cgp_buf_free(&piece);
	cgp_metrics_page_free(mp);
	cgp_cadvisor_page_free(cp);
}

/* Pieces of every size make the same page as the whole-page renderer made before pages. */
static void test_pieces(void **state)
{
	static const size_t wants[] = {1, 7, 100, 4096, 16384, 65536};
	struct stores st;
	struct cgp_buf got = CGP_BUF_INIT, want_m = CGP_BUF_INIT, want_c = CGP_BUF_INIT;

	(void)state;
	fill(&st);
	read_golden("metrics.golden", &want_m);
	read_golden("cadvisor.golden", &want_c);
	for (size_t k = 0; k < sizeof(wants) / sizeof(wants[0]); k++) {
		cgp_buf_clear(&got);
		read_page(&st, false, wants[k], false, &got);
		mask_self(&got);
		same_text(&got, &want_m, "/metrics in pieces");
		cgp_buf_clear(&got);
		read_page(&st, true, wants[k], false, &got);
		same_text(&got, &want_c, "/metrics/cadvisor in pieces");
	}
	cgp_buf_free(&got);
	cgp_buf_free(&want_m);
	cgp_buf_free(&want_c);
	stores_free(&st);
}

/* A page is the figures of the moment it was asked for: a sweep while it is read changes none of its bytes. */
static void test_snapshot(void **state)
{
	struct stores st;
	struct cgp_buf got = CGP_BUF_INIT, want = CGP_BUF_INIT, after = CGP_BUF_INIT;

	(void)state;
	fill(&st);
	read_page(&st, false, 4096, true, &got);
	mask_self(&got);
	read_golden("metrics.golden", &want);
	same_text(&got, &want, "/metrics with a sweep while it was read");
	/* and the sweep did change the figures: the next page has them */
	whole_metrics(&st, &after);
	assert_false(after.len == want.len && !memcmp(after.data, want.data, want.len));

	stores_free(&st);
	fill(&st);
	cgp_buf_clear(&got);
	cgp_buf_clear(&want);
	cgp_buf_clear(&after);
	read_page(&st, true, 4096, true, &got);
	read_golden("cadvisor.golden", &want);
	same_text(&got, &want, "/metrics/cadvisor with a sweep while it was read");
	whole_cadvisor(&st, &after);
	assert_false(after.len == want.len && !memcmp(after.data, want.data, want.len));
	cgp_buf_free(&got);
	cgp_buf_free(&want);
	cgp_buf_free(&after);
	stores_free(&st);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_whole_pages),
	    cmocka_unit_test(test_pieces),
	    cmocka_unit_test(test_snapshot),
	};

	if (argc == 3 && !strcmp(argv[1], "golden")) {
		struct stores st;
		struct cgp_buf m = CGP_BUF_INIT, c = CGP_BUF_INIT;
		int rc;

		fill(&st);
		whole_metrics(&st, &m);
		whole_cadvisor(&st, &c);
		rc = write_file(argv[2], "metrics.golden", &m) | write_file(argv[2], "cadvisor.golden", &c);
		cgp_buf_free(&m);
		cgp_buf_free(&c);
		stores_free(&st);
		return rc;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
