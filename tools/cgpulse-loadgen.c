// SPDX-License-Identifier: GPL-2.0
/* Simulated agents for the collector: each has its own instance id, spool and collector client (the agent's
 * own code), and sends real sample events (with an OOM kill every --oom-every) as fast as the collector
 * acknowledges them, or at --rate. Ends when every agent's events are acknowledged; prints the rate. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "sinks/collector_client.h"
#include "events/event_encode.h"
#include "events/publish.h"
#include "lib/log.h"
#include "events/spool.h"

struct agent {
	struct cgp_publisher pub; /* the agent's own publisher: sequence numbers, encoding, spool, drop reports */
	struct cgp_spool *sp;
	struct cgp_cc *cc;
	uint64_t pushed;
	uint64_t dropped_reports;
};

static struct {
	const char *addr, *prefix, *token_file, *tls_ca, *tls_server_name;
	unsigned agents;
	uint64_t events, oom_every;
	size_t batch, window, spool_events;
	int zlevel;
	double rate, timeout_s, progress_s;
	bool attribution;
	uint64_t encoded_bytes, encoded_samples;
} O = {.agents = 1, .events = 100000, .batch = 512, .zlevel = 1, .timeout_s = 120, .attribution = true};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Pushes one event of a; the cgroup, figures and kind vary with seq. */
static void push_event(struct agent *a)
{
	static const char hex[] = "0123456789abcdef";
	uint64_t seq = a->pub.seq + 1;
	struct cgp_attribution attr = cgp_attribution_unknown;
	unsigned ctr = (unsigned)(seq % 100);
	char cid[65], path[256], pod[32], name[32];
	/* every oom_every-th event this agent makes (its Dropped reports take seqs too: count, not place) */
	bool sample = !O.oom_every || (a->pushed + 1) % O.oom_every;

	for (int i = 0; i < 64; i++)
		cid[i] = hex[(ctr * 7 + (unsigned)i * 13) % 16];
	cid[64] = '\0';
	snprintf(path, sizeof(path),
		 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%08x_0000_4000_8000_%012x.slice/"
		 "cri-containerd-%s.scope",
		 ctr, ctr, cid);
	snprintf(pod, sizeof(pod), "web-%u", ctr);
	snprintf(name, sizeof(name), "app-%u", ctr % 3);
	attr.path = path;
	if (O.attribution) {
		attr.is_container = true;
		attr.runtime = "containerd";
		attr.pod_namespace = "bench";
		attr.qos_class = "burstable";
		attr.container_id = cid;
		attr.pod = pod;
		attr.container_name = name;
	}
	if (sample) {
		struct cgp_sample s = {
		    .cgroup_id = 10000 + ctr,
		    .ts_ns = wall_ns(),
		    .window_s = 1.0,
		    .cpu_ns_total = seq * 12345678,
		    .cpu_ns_window = 123456789,
		    .cpu_cores = 0.123456789,
		    .voluntary_switches = seq * 17,
		    .involuntary_switches = seq * 3,
		    .runq_waits_window = 1234,
		    .runq_p50_us = 12,
		    .runq_p99_us = 850,
		    .has_mem = true,
		    .mem_bytes = 123456789,
		    .mem_limit_bytes = 268435456,
		    .reclaim_ns_total = 1000,
		    .reclaims_total = 2,
		};

		for (int i = 0; i < 12; i++)
			s.runq_hist_window[i] = (uint64_t)(i * 37 % 11) * 10;
		cgp_pub_sample(&a->pub, &s, &attr);
		O.encoded_bytes += cgp_buf_size(&a->pub.pb);
		O.encoded_samples++;
	} else {
		struct cgp_oom_event o = {.ts_ns = wall_ns(),
					  .cgroup_id = 10000 + ctr,
					  .memcg_id = ctr,
					  .pid = 4242,
					  .tgid = 4242,
					  .comm = "stress",
					  .rss_anon_bytes = 1u << 28};

		cgp_pub_oom(&a->pub, &o, &attr);
	}
	if (a->pub.spool_refused || a->pub.encode_failed) {
		cgp_err("loadgen: cannot spool an event");
		exit(1);
	}
	a->pushed++;
}

/* As the real agent's loop does: once the collector is back, report what the spool dropped meanwhile. */
static void report_drops(struct agent *a)
{
	struct cgp_cc_stats st;

	cgp_cc_get_stats(a->cc, &st);
	if (cgp_pub_report_drops(&a->pub, st.connected, wall_ns(), 1000000000ULL))
		a->dropped_reports++;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cgpulse-loadgen --connect ADDR:PORT [--agents N] [--events PER_AGENT] [--batch EVENTS]\n"
		"                       [--zlevel 0-9] [--rate EVENTS_PER_S_PER_AGENT] [--oom-every K]\n"
		"                       [--spool-events N] [--instance-prefix P] [--no-attribution] [--timeout S]\n"
		"                       [--progress SECONDS]: print \"progress T instance ID acked SEQ\" that often\n"
		"                       [--token-file FILE]: the collector's token (as cgpulse run "
		"--collector-token-file)\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"connect", required_argument, NULL, 'c'},
	    {"agents", required_argument, NULL, 'a'},
	    {"events", required_argument, NULL, 'n'},
	    {"batch", required_argument, NULL, 'b'},
	    {"zlevel", required_argument, NULL, 'z'},
	    {"rate", required_argument, NULL, 'r'},
	    {"oom-every", required_argument, NULL, 'O'},
	    {"spool-events", required_argument, NULL, 's'},
	    {"instance-prefix", required_argument, NULL, 'p'},
	    {"no-attribution", no_argument, NULL, 'A'},
	    {"timeout", required_argument, NULL, 't'},
	    {"progress", required_argument, NULL, 'P'},
	    {"token-file", required_argument, NULL, 'T'},
	    {"tls-ca", required_argument, NULL, 'C'},
	    {"tls-server-name", required_argument, NULL, 'S'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	char prefix[48];
	struct agent *ag;
	int o, epfd;

	while ((o = getopt_long(argc, argv, "c:a:n:b:z:r:O:s:p:At:P:T:C:S:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			O.addr = optarg;
			break;
		case 'T':
			O.token_file = optarg;
			break;
		case 'C':
			O.tls_ca = optarg;
			break;
		case 'S':
			O.tls_server_name = optarg;
			break;
		case 'a':
			O.agents = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 'n':
			O.events = strtoull(optarg, NULL, 0);
			break;
		case 'b':
			O.batch = strtoul(optarg, NULL, 0);
			break;
		case 'z':
			O.zlevel = atoi(optarg);
			break;
		case 'r':
			O.rate = atof(optarg);
			break;
		case 'O':
			O.oom_every = strtoull(optarg, NULL, 0);
			break;
		case 's':
			O.spool_events = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			O.prefix = optarg;
			break;
		case 'A':
			O.attribution = false;
			break;
		case 't':
			O.timeout_s = atof(optarg);
			break;
		case 'P':
			O.progress_s = atof(optarg);
			break;
		case 'v':
			cgp_verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!O.addr || !O.agents || !O.batch || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!O.prefix) {
		snprintf(prefix, sizeof(prefix), "lg-%d-%lx", (int)getpid(), (unsigned long)time(NULL));
		O.prefix = prefix;
	}
	/* keep a few batches in flight per agent; more only grows the collector's backlog */
	O.window = O.batch * 4;
	if (!O.spool_events)
		O.spool_events = O.rate > 0 ? 1000000 : O.window * 4;
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ag = calloc(O.agents, sizeof(*ag));
	if (epfd < 0 || !ag)
		return 1;
	for (unsigned i = 0; i < O.agents; i++) {
		struct agent *a = &ag[i];
		struct cgp_cc_cfg cfg = {.addr = O.addr,
					 .token_file = O.token_file,
					 .tls_ca = O.tls_ca,
					 .tls_server_name = O.tls_server_name,
					 .batch_max_events = O.batch,
					 .zlevel = O.zlevel,
					 .backoff_min_ms = 50,
					 .backoff_max_ms = 1000};

		cgp_pub_init(&a->pub, "loadgen", false, NULL);
		snprintf(a->pub.instance_id, sizeof(a->pub.instance_id), "%s-%u", O.prefix, i);
		a->sp = cgp_spool_new(a->pub.instance_id, 0, O.spool_events);
		a->pub.spool = a->sp;
		a->cc = a->sp ? cgp_cc_new(&cfg, a->sp) : NULL;
		if (!a->cc)
			return 1;
	}
	double start = now_s(), end, progressed = 0;
	uint64_t total = 0;

	for (;;) {
		struct epoll_event evs[256];
		unsigned done = 0;
		int wait_ms = 100, n;
		double t = now_s() - start;

		for (unsigned i = 0; i < O.agents; i++) {
			struct agent *a = &ag[i];
			struct cgp_spool_stats st;
			uint64_t allowed = O.rate > 0 ? (uint64_t)(O.rate * t) + 1 : O.events;
			int hint;

			cgp_spool_get_stats(a->sp, &st);
			/* at max rate, keep only a few batches ahead of the acks; at a set rate, produce on time as an
			 * agent's sampler does, whatever the collector does, and let the spool absorb it */
			while (a->pushed < O.events && a->pushed < allowed && (O.rate > 0 || st.events < O.window)) {
				push_event(a);
				st.events++;
			}
			report_drops(a);
			cgp_cc_kick(a->cc);
			hint = cgp_cc_tick(a->cc);
			if (hint >= 0 && hint < wait_ms)
				wait_ms = hint;
			if (cgp_cc_epoll_sync(a->cc, epfd, (epoll_data_t){.ptr = a}))
				cgp_err("loadgen: epoll_ctl failed");
			cgp_spool_get_stats(a->sp, &st);
			if (a->pushed >= O.events && !st.events && !cgp_spool_has_drops(a->sp))
				done++;
		}
		if (O.progress_s > 0 && t - progressed >= O.progress_s) {
			/* what each agent had acknowledged by now: a test checks it against what the collector stored
			 */
			for (unsigned i = 0; i < O.agents; i++) {
				struct cgp_cc_stats cs;

				cgp_cc_get_stats(ag[i].cc, &cs);
				printf("progress %.3f instance %s acked %llu\n", t, ag[i].pub.instance_id,
				       (unsigned long long)cs.acked_seq);
			}
			fflush(stdout);
			progressed = t;
		}
		if (done == O.agents)
			break;
		if (t > O.timeout_s) {
			cgp_err("loadgen: timed out after %.1f s with %u of %u agents done", t, done, O.agents);
			return 1;
		}
		if (O.rate > 0 && wait_ms > 10)
			wait_ms = 10;
		n = epoll_wait(epfd, evs, 256, wait_ms);
		for (int i = 0; i < n; i++) {
			struct agent *a = evs[i].data.ptr;

			cgp_cc_handle(a->cc, evs[i].events);
			cgp_cc_epoll_sync(a->cc, epfd, (epoll_data_t){.ptr = a});
		}
	}
	end = now_s();
	uint64_t bytes = 0, disconnects = 0, dropped = 0, reports = 0;

	for (unsigned i = 0; i < O.agents; i++) {
		struct cgp_cc_stats cs;
		struct cgp_spool_stats ss;

		cgp_cc_get_stats(ag[i].cc, &cs);
		cgp_spool_get_stats(ag[i].sp, &ss);
		total += ag[i].pushed;
		bytes += cs.bytes_sent;
		disconnects += cs.disconnects;
		dropped += ss.dropped_samples_total + ss.dropped_others_total;
		reports += ag[i].dropped_reports;
		printf("instance %s events %llu\n", ag[i].pub.instance_id, (unsigned long long)ag[i].pub.seq);
		cgp_cc_free(ag[i].cc);
		cgp_spool_free(ag[i].sp);
		cgp_pub_free(&ag[i].pub);
	}
	printf("loadgen: agents=%u events=%llu seconds=%.3f events_per_s=%.0f wire_bytes_per_event=%.1f "
	       "encoded_bytes_per_sample=%.1f disconnects=%llu spool_dropped=%llu dropped_reports=%llu\n",
	       O.agents, (unsigned long long)total, end - start, (double)total / (end - start),
	       total ? (double)bytes / (double)total : 0.0,
	       O.encoded_samples ? (double)O.encoded_bytes / (double)O.encoded_samples : 0.0,
	       (unsigned long long)disconnects, (unsigned long long)dropped, (unsigned long long)reports);
	free(ag);
	close(epfd);
	return 0;
}
