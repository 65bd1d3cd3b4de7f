// SPDX-License-Identifier: GPL-2.0
/* Playbook evaluation cost: the embedded default playbook over N cgroups (containers with limits, loads that
 * cross the thresholds now and then, so rules go pending, fire and resolve), for many intervals. Prints ns per
 * cgroup per interval for the engine, and, as the baseline measured in the same run, for building the same
 * samples' protobuf events (work every sample gets anyway). CPU time of this process, not wall time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "events/event_encode.h"
#include "playbook/playbook.h"

static double cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static unsigned alerts;

static void count(const struct cgp_alert *a, void *ctx)
{
	(void)a;
	(void)ctx;
	alerts++;
}

int main(int argc, char **argv)
{
	unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 10000, intervals = argc > 2 ? (unsigned)atoi(argv[2]) : 60;
	const struct cgp_node node = {.cpus = 64, .mem_bytes = 256ULL << 30};
	struct cgp_event_meta meta = {.node = "bench", .instance_id = "bench"};
	struct cgp_event_build *b = malloc(sizeof(*b));
	struct cgp_sample *s = calloc(n, sizeof(*s));
	struct cgp_playbook *pb;
	struct cgp_engine *e;
	double t0, eng = 0, enc = 0;
	char err[256], (*paths)[48] = calloc(n, 48);
	struct cgp_attribution *a = calloc(n, sizeof(*a));

	if (!b || !s || !paths || !a || cgp_playbook_default(&pb, err, sizeof(err)) || !(e = cgp_engine_new(pb))) {
		fprintf(stderr, "enginebench: setup failed %s\n", err);
		return 1;
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(paths[i], 48, "/kubepods/pod%u/c%u", i / 3, i);
		s[i].cgroup_id = i + 1;
		s[i].has_mem = true;
		s[i].mem_limit_bytes = 512ULL << 20;
		a[i] = cgp_attribution_unknown;
		a[i].path = paths[i];
		a[i].is_container = true;
	}
	for (unsigned t = 0; t < intervals; t++) {
		uint64_t now = (uint64_t)t * 10000000000ULL; /* 10 s steps: the default's 5m and 2m rules get to fire */

		for (unsigned i = 0; i < n; i++) { /* 1 in 10 cgroups runs hot for 400 s: rules pend, fire, resolve */
			double hot = (i % 10 == 0 && t < 40) ? 0.97 : 0.30 + (i % 7) * 0.05;

			s[i].ts_ns = now;
			s[i].cpu_cores = hot;
			s[i].cpu_limit_cores = 1.0;
			s[i].mem_bytes = (uint64_t)(s[i].mem_limit_bytes * (i % 10 == 5 ? 0.96 : 0.5));
			cgp_measure_sample(&s[i], &node); /* the sampler's part, done once per sample */
		}
		t0 = cpu_ns();
		for (unsigned i = 0; i < n; i++)
			cgp_engine_eval(e, &s[i], &a[i], now, count, NULL);
		eng += cpu_ns() - t0;
		t0 = cpu_ns();
		for (unsigned i = 0; i < n; i++) {
			meta.seq = (uint64_t)t * n + i + 1;
			cgp_event_build_sample(b, &meta, &s[i], &a[i]);
		}
		enc += cpu_ns() - t0;
	}
	printf("cgroups %u\nintervals %u\nengine_ns_per_cgroup %.1f\nbuild_ns_per_cgroup %.1f\nalerts %u\n", n,
	       intervals, eng / ((double)n * intervals), enc / ((double)n * intervals), alerts);
	cgp_engine_free(e);
	cgp_playbook_free(pb);
	free(paths);
	free(a);
	free(s);
	free(b);
	return 0;
}
