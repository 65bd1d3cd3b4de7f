// SPDX-License-Identifier: GPL-2.0
/* Scrape render cost without the kernel or a socket: /metrics and /metrics/cadvisor pages over N containers named
 * as tools/bench/scrape_cost.sh names them (cri-containerd-<64 hex>.scope under one parent, every figure present),
 * read in the HTTP server's pieces, plain or through the server's own gzip (sinks/gzip_body.h). Prints CPU ns per
 * container per page; run under `valgrind --tool=callgrind` for where the instructions go.
 *   renderbench [N] [PAGES] [metrics|cadvisor|both] [plain|gzip|both] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sinks/cadvisor.h"
#include "sinks/metrics.h"
#include "sinks/gzip_body.h"

#define PIECE 16384 /* the HTTP server's piece */

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t rnd_state = 1;

static uint64_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rnd_state >> 17;
}

static void fill(struct cgp_metrics *m, struct cgp_cadvisor *c, unsigned n)
{
	for (unsigned i = 0; i <= n; i++) {
		char path[256], id[80];
		struct cgp_attribution a = cgp_attribution_unknown;
		struct cgp_sample s = {
		    .cgroup_id = 4000 + i * 3,
		    .ts_ns = 1764300000000000000ULL + rnd() % 1000000000ULL,
		    .window_s = 1.0,
		    .cpu_ns_total = rnd() % 100000000000ULL,
		    .has_mem = true,
		    .mem_bytes = rnd() % (1ULL << 30),
		    .mem_limit_bytes = 9223372036854771712ULL,
		    .voluntary_switches = rnd() % 100000,
		    .involuntary_switches = rnd() % 1000,
		    .has_mem_stat = true,
		    .mem_working_set_bytes = rnd() % (1ULL << 30),
		    .mem_inactive_file_bytes = rnd() % (1ULL << 20),
		    .mem_anon_bytes = rnd() % (1ULL << 30),
		    .mem_file_bytes = rnd() % (1ULL << 20),
		    .has_mem_events = true,
		    .has_cpu_bandwidth = true,
		    .has_cpu_spec = true,
		    .cpu_period_us = 100000,
		    .cpu_shares = 1024,
		    .has_cpu_user_system = true,
		    .cpu_user_ns = rnd() % 100000000000ULL,
		    .cpu_system_ns = rnd() % 100000000000ULL,
		    .has_psi = true,
		};

		for (unsigned k = 0; k < CGP_PSI_MAX; k++)
			s.psi_total_ns[k] = rnd() % 10000000ULL;
		s.runq_hist_window[rnd() % 8] = rnd() % 50;
		snprintf(id, sizeof(id), "%064x", i);
		if (i == 0) {
			snprintf(path, sizeof(path), "/");
		} else {
			snprintf(path, sizeof(path), "/cgpulse-test-bench-scrape-12345/cri-containerd-%s.scope", id);
			a.is_container = true;
			a.container_id = id;
			a.runtime = "containerd";
		}
		a.path = path;
		if (cgp_metrics_sample(m, &s, &a) || cgp_cadvisor_sample(c, &s, &a, 1764300000000000000ULL))
			exit(1);
	}
}

/* One page, read as the server reads it; its bytes as the client gets them. */
static size_t one_page(struct cgp_metrics *m, struct cgp_cadvisor *c, bool cadvisor, bool gzip)
{
	struct cgp_metrics_page *mp = cadvisor ? NULL : cgp_metrics_page_new(m, NULL);
	struct cgp_cadvisor_page *cp = cadvisor ? cgp_cadvisor_page_new(c) : NULL;
	struct cgp_gzip *z = gzip ? cgp_gzip_new() : NULL;
	struct cgp_buf raw = CGP_BUF_INIT, out = CGP_BUF_INIT;
	bool done = false;
	size_t total = 0;

	if ((!mp && !cp) || (gzip && !z))
		exit(1);
	while (!done) {
		cgp_buf_clear(&raw);
		if (cadvisor ? cgp_cadvisor_page_next(cp, &raw, PIECE, &done)
			     : cgp_metrics_page_next(mp, &raw, PIECE, &done))
			exit(1);
		if (gzip &&
		    cgp_gzip_put(z, cgp_buf_head(&raw), cgp_buf_size(&raw), done ? CGP_GZIP_END : CGP_GZIP_MORE, &out))
			exit(1);
		total += gzip ? cgp_buf_size(&out) : cgp_buf_size(&raw);
		cgp_buf_clear(&out);
	}
	cgp_buf_free(&raw);
	cgp_buf_free(&out);
	cgp_gzip_free(z);
	cgp_metrics_page_free(mp);
	cgp_cadvisor_page_free(cp);
	return total;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 1000, pages = argc > 2 ? (unsigned)atoi(argv[2]) : 5;
	const char *which = argc > 3 ? argv[3] : "both", *enc = argc > 4 ? argv[4] : "both";
	struct cgp_cadvisor_cfg cfg = {.select = CGP_CADVISOR_CONTAINERS};
	struct cgp_metrics *m = cgp_metrics_new();
	struct cgp_cadvisor *c = cgp_cadvisor_new(&cfg);

	if (!m || !c)
		return 1;
	fill(m, c, n);
	for (int cad = 0; cad < 2; cad++) {
		if (strcmp(which, "both") && strcmp(which, cad ? "cadvisor" : "metrics"))
			continue;
		for (int gz = 0; gz < 2; gz++) {
			size_t bytes = 0;
			double t0;

			if (strcmp(enc, "both") && strcmp(enc, gz ? "gzip" : "plain"))
				continue;
			t0 = cpu_ns();
			for (unsigned k = 0; k < pages; k++)
				bytes = one_page(m, c, cad, gz);
			printf("%-18s %-5s %u containers: %.2f us/container per page, %zu bytes\n",
			       cad ? "/metrics/cadvisor" : "/metrics", gz ? "gzip" : "plain", n,
			       (cpu_ns() - t0) / pages / n / 1000, bytes);
		}
	}
	cgp_metrics_free(m);
	cgp_cadvisor_free(c);
	return 0;
}
