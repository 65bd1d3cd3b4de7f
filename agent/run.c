// SPDX-License-Identifier: GPL-2.0
/* `cgpulse run`: one event loop (epoll) over a timerfd for sampling, the kernel's event rings (cgroup
 * mkdir/rmdir, OOM kills), a signalfd, the collector's socket and the HTTP server. This file owns every stage
 * and hands each what it needs, down the stream: collection → names → playbook → events → sinks. No stage calls
 * back up; the loop pulls what it must act on (urgent events to send, spool drops to report, counters). SIGHUP
 * (or a changed file) reloads the playbook. */
#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <poll.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include "caps.h"
#include "syscall_filter.h"
#include "collect/loader.h"
#include "collect/rings.h"
#include "collect/sampler.h"
#include "commands.h"
#include "events/event_ring.h"
#include "events/event_text.h"
#include "events/handover.h"
#include "events/publish.h"
#include "events/spool.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "names/cgroup_names.h"
#include "playbook/playbook.h"
#include "lib/token.h"
#include "sinks/collector_client.h"
#include "sinks/http_server.h"
#include "sinks/cadvisor.h"
#include "sinks/metrics.h"

enum { EV_SIGNAL = 1, EV_TIMER, EV_RINGS, EV_COLLECTOR, EV_HTTP, EV_ALERTMANAGER };

#define HTTP_RING_BYTES		(1u << 20) /* recent events for since=: bounded, and a good part of the agent's RSS */
#define HTTP_RING_EVENTS	16384
#define DROP_REPORT_NS		1000000000ULL /* a Dropped event at most once a second */
#define DRAIN_ON_EXIT_NS	2000000000ULL /* at exit, the collector gets this long to take the spool */
#define AM_DRAIN_ON_EXIT_MS	1000	      /* and Alertmanagers this long to take the resolves due */
#define BACKOFF_MAX_MS		5000	      /* a collector back from a restart is found within 5 s */
#define SEND_EVERY_SAMPLES	1024	      /* a sweep's samples leave while it publishes, a full batch at a time */
#define ENGINE_EXPIRE_INTERVALS 3	      /* a cgroup unseen this many intervals (and a second more) is gone */

struct run_ctx {
	const struct cgp_opts *o;
	struct cgp_bpf bpf;
	struct cgp_sampler sp;
	struct cgp_rings rings;
	struct cgp_names names;
	struct cgp_playbook *pb;
	struct cgp_engine *engine;
	struct cgp_publisher pub;
	struct cgp_handover handover;
	struct cgp_spool *spool;
	struct cgp_cc *cc;
	struct cgp_event_ring *ring;
	struct cgp_http *http;
	struct cgp_metrics *metrics;
	struct cgp_cadvisor *cadvisor;
	struct cgp_am *am;
	struct timespec playbook_mtime; /* of --playbook FILE: a change reloads it, as SIGHUP does */
	bool reload_due;		/* SIGHUP or a changed file: reloaded once, after the turn's sweep */
	uint64_t reloads, reloads_refused;
	uint64_t ticks_missed; /* intervals that passed with no sweep: the loop was busy a whole interval */
	double sweep_s_total, sweep_s_last;
	bool swept; /* this turn published samples: send them */
	/* the BPF programs' figures, read at a sweep while kernel.bpf_stats_enabled is (or just was) 1: they move
	 * only then, so the last read stays exact and /metrics shows it every turn */
	struct cgp_bpf_prog_stat progs[CGP_MAX_PROGS];
	size_t n_progs;
	bool bpf_stats_on, progs_read;
	int ep, tfd, sfd;
};

static void on_alert(const struct cgp_alert *a, void *ctx)
{
	struct run_ctx *r = ctx;
	const struct cgp_cgname *n = cgp_names_get(&r->names, a->cgroup_id, cgp_wall_ns());

	cgp_pub_alert(&r->pub, a, n ? &n->attr : &cgp_attribution_unknown);
	if (r->am)
		cgp_am_alert(r->am, a, n ? &n->attr : &cgp_attribution_unknown);
}

/* cgroup_started events whose cgroups are named by now (id: only that one, about to be removed). */
static void announce_started(struct run_ctx *r, uint64_t id, uint64_t now)
{
	const struct cgp_cgname *due[64];
	size_t n;

	do {
		n = cgp_names_take_started(&r->names, id, now, due, 64);
		for (size_t i = 0; i < n; i++)
			cgp_pub_cgroup(&r->pub, true, due[i]->id, due[i]->born_ns, &due[i]->attr);
	} while (n == 64);
}

/* A cgroup was made or removed: names learn it first. Its start goes out once it is named (runtimes write their
 * state just after making the cgroup); its end at once, after its start if that was still waiting. */
static void on_cgroup(const struct cgp_cgroup_change *c, void *ctx)
{
	struct run_ctx *r = ctx;
	const struct cgp_cgname *n;
	uint64_t now = cgp_wall_ns();

	if (c->kind == CGP_CGROUP_MKDIR) {
		cgp_names_mkdir(&r->names, c->cgroup_id, c->path, c->ts_ns, now);
		cgp_sampler_cgroup_born(&r->sp, c->cgroup_id, c->path); /* its v1 twins, on hybrid hosts */
		return;
	}
	announce_started(r, c->cgroup_id, now);
	cgp_names_rmdir(&r->names, c->cgroup_id, now);
	n = cgp_names_get(&r->names, c->cgroup_id, now);
	cgp_pub_cgroup(&r->pub, false, c->cgroup_id, c->ts_ns, n ? &n->attr : &cgp_attribution_unknown);
	/* a cgroup no sweep ever saw (it lived less than an interval) leaves nothing firing behind */
	cgp_engine_cgroup_gone(r->engine, c->cgroup_id, now, on_alert, r);
}

/* An OOM kill, or an alert, leaves for the collector now, even in the middle of a sweep (the sampler reads the
 * rings between its steps): through the spool directory first, as after every turn (after_turn). */
static void send_now(struct run_ctx *r)
{
	r->pub.urgent = false;
	cgp_spool_flush(r->spool, cgp_wall_ns());
	cgp_cc_kick(r->cc);
}

static void send_urgent(struct run_ctx *r)
{
	if (r->cc && r->pub.urgent)
		send_now(r);
}

static void on_oom(struct cgp_oom_event *e, void *ctx)
{
	struct run_ctx *r = ctx;
	/* named now, not from a cached miss: the container may have lived a moment */
	const struct cgp_cgname *n = cgp_names_get_fresh(&r->names, e->cgroup_id, cgp_wall_ns());
	const struct cgp_attribution *a = n ? &n->attr : &cgp_attribution_unknown;
	struct cgp_measure m;

	e->container_running = n && !n->removed_ns && cgp_cgroup_has_other_procs(&r->bpf.fs, n->path, e->tgid);
	cgp_pub_oom(&r->pub, e, a);
	cgp_measure_oom(e, &r->sp.node, &m); /* against the limit at the kill, from the kernel */
	cgp_engine_oom(r->engine, e->cgroup_id, a, &m, e->ts_ns, on_alert, r);
	send_urgent(r);
}

/* One sweep, down the stream: figures, then names, then the playbook, then the events and the metrics. */
static int sweep(struct run_ctx *r, bool publish)
{
	uint64_t start = cgp_wall_ns();
	struct cgp_sample s;
	size_t it = 0, published = 0;
	int err = cgp_sampler_sweep(&r->sp);

	if (err)
		return err;
	for (size_t i = 0; i < r->sp.n_gone; i++) {
		uint64_t id = r->sp.gone[i];

		if (r->metrics)
			cgp_metrics_gone(r->metrics, id);
		if (r->cadvisor)
			cgp_cadvisor_gone(r->cadvisor, id);
		cgp_engine_cgroup_gone(r->engine, id, r->sp.now_ns, on_alert, r);
		cgp_names_rmdir(&r->names, id, r->sp.now_ns); /* a tombstone, if the rmdir event did not come first */
	}
	if (r->cc && publish) /* sent SEND_EVERY_SAMPLES at a time: one compressor mapping for them all */
		cgp_cc_burst(r->cc, true);
	while (publish && cgp_sampler_next(&r->sp, &it, &s)) {
		/* names are read late (runtimes write their state after making the cgroup): asked every sweep */
		const struct cgp_cgname *n = cgp_names_get(&r->names, s.cgroup_id, s.ts_ns);

		if (!n || n->removed_ns) /* gone between the kernel's walk and now: the next sweep forgets it */
			continue;
		cgp_pub_sample(&r->pub, &s, &n->attr);
		if (r->metrics)
			cgp_metrics_sample(r->metrics, &s, &n->attr);
		if (r->cadvisor)
			cgp_cadvisor_sample(r->cadvisor, &s, &n->attr, n->born_ns ? n->born_ns : n->first_seen_ns);
		cgp_engine_eval(r->engine, &s, &n->attr, s.ts_ns, on_alert, r);
		/* 10,000 samples sent only after the last would be 10,000 events ahead of an OOM kill that comes then
		 * at the collector: the collector takes them in while the rest are made */
		if (r->cc && ++published % SEND_EVERY_SAMPLES == 0)
			send_now(r);
	}
	if (r->cc && publish)
		cgp_cc_burst(r->cc, false);
	if (publish) { /* names were asked for every cgroup just now: the starts that waited for them go out */
		announce_started(r, 0, r->sp.now_ns);
		/* a rule's state for a cgroup no sweep sees any more (its rmdir record lost) is let go */
		cgp_engine_expire(r->engine,
				  ENGINE_EXPIRE_INTERVALS * (uint64_t)(r->o->interval_s * 1e9) + 1000000000ULL,
				  r->sp.now_ns, on_alert, r);
	}
	cgp_names_expire(&r->names, r->sp.now_ns);
	r->sweep_s_last = (double)(cgp_wall_ns() - start) / 1e9;
	r->sweep_s_total += r->sweep_s_last;
	return 0;
}

static bool playbook_changed(struct run_ctx *r)
{
	struct stat st;
	bool changed;

	if (!r->o->playbook || stat(r->o->playbook, &st))
		return false;
	changed = st.st_mtim.tv_sec != r->playbook_mtime.tv_sec || st.st_mtim.tv_nsec != r->playbook_mtime.tv_nsec;
	r->playbook_mtime = st.st_mtim;
	return changed;
}

/* SIGHUP, or the file changed (a ConfigMap update): a bad new playbook is refused with its reason and the old
 * one stays in force. */
static void reload(struct run_ctx *r)
{
	struct cgp_playbook *pb;

	if (!r->o->playbook) {
		cgp_info("SIGHUP: the embedded default playbook is in force; nothing to reload (--playbook FILE)");
		return;
	}
	r->reloads++;
	if (cgp_playbook_open(r->o->playbook, &pb)) {
		r->reloads_refused++;
		cgp_err("reload: %s refused; the playbook in force stays", r->o->playbook);
		return;
	}
	if (cgp_engine_set_playbook(r->engine, pb, cgp_wall_ns(), on_alert, r)) {
		r->reloads_refused++;
		cgp_err("reload: out of memory applying %s; the playbook in force stays", r->o->playbook);
		cgp_playbook_free(pb);
		return;
	}
	cgp_playbook_free(r->pb);
	r->pb = pb;
	cgp_info("playbook %s reloaded", r->o->playbook);
}

/* /metrics: the agent's own figures next to the per-cgroup ones, so users can check its cost on their nodes.
 * Pulled from each stage and handed down to the metrics sink; bpf program figures read only at a sweep (syscalls). */
static void update_counters(struct run_ctx *r, bool progs)
{
	struct cgp_agent_counters c = {0};
	struct cgp_meta_cache_stats ms;
	struct cgp_spool_stats ss;
	struct cgp_cc_stats cs;

	if (!r->metrics)
		return;
	c.events_published = r->pub.published;
	c.events_encode_failed = r->pub.encode_failed;
	c.spool_refused = r->pub.spool_refused;
	if (r->spool) {
		cgp_spool_get_stats(r->spool, &ss);
		c.events_sent = ss.acked_total;
		c.spool_dropped_samples = ss.dropped_samples_total;
		c.spool_dropped_others = ss.dropped_others_total;
		c.spool_events = ss.events;
		c.spool_bytes = ss.bytes;
		c.spool_memory_bytes = ss.mapped;
		c.spool_instances = ss.instances;
		c.spool_replayed = ss.replayed;
		c.spool_disk = ss.disk;
		c.spool_disk_bytes = ss.journal.bytes;
		c.spool_disk_segments = ss.journal.segments;
		c.spool_disk_write_errors = ss.journal.write_errors;
		c.spool_disk_syncs = ss.journal.syncs;
		c.spool_disk_corrupt_records = ss.journal.replay.corrupt_records;
	}
	if (r->cc) {
		cgp_cc_get_stats(r->cc, &cs);
		c.collector = true;
		c.collector_connected = cs.connected;
		c.collector_connects = cs.connects;
		c.collector_failures = cs.disconnects + cs.connect_failures;
		c.collector_resolve_timeouts = cs.resolve_timeouts;
		c.collector_batches = cs.batches_sent;
	}
	memcpy(c.records_lost, r->sp.stats.drops, sizeof(c.records_lost));
	c.ring_records_malformed = r->rings.stats.malformed;
	c.ring_records_repeated = r->rings.stats.repeated;
	c.oom_events = r->rings.stats.oom_events;
	c.cgroups_tracked = r->sp.stats.cgroups;
	c.cgroups_gone = r->sp.stats.cgroups_gone;
	c.memcg_unjoined = r->sp.stats.mem_unjoined;
	c.running_charge_failures = r->sp.stats.running.failures;
	c.names_resolved_by_id = r->names.stats.resolved_by_id;
	c.names_unresolved = r->names.stats.unresolved;
	c.names_walks = r->names.stats.walks;
	c.v1_walks = r->sp.stats.v1_walks;
	c.names_tombstones = r->names.stats.tombstones;
	c.names_tombstones_evicted = r->names.stats.evicted;
	c.cgroup_started_lost = r->names.stats.unannounced;
	cgp_meta_cache_get_stats(r->names.meta, &ms);
	c.runtime_state_reads = ms.reads;
	c.runtime_state_errors = ms.errors;
	c.runtime_state_evictions = ms.evictions;
	c.playbook_cgroups_tracked = cgp_engine_tracked(r->engine);
	if (r->cadvisor)
		cgp_cadvisor_get_stats(r->cadvisor, &c.cadvisor);
	c.sweeps = r->sp.stats.sweeps;
	c.sweeps_missed = r->ticks_missed;
	c.playbook_reloads = r->reloads;
	c.playbook_reloads_refused = r->reloads_refused;
	c.sweep_seconds_total = r->sweep_s_total;
	c.last_sweep_seconds = r->sweep_s_last;
	if (r->am) {
		c.alertmanager = true;
		cgp_am_get_stats(r->am, &c.am);
	}
	if (progs) {
		bool on = cgp_bpf_stats_enabled();

		if (on || r->bpf_stats_on || !r->progs_read)
			r->n_progs = cgp_bpf_prog_stats(&r->bpf, r->progs, CGP_MAX_PROGS);
		r->bpf_stats_on = on;
		r->progs_read = true;
	}
	c.bpf_stats_enabled = r->bpf_stats_on;
	c.n_progs = r->n_progs;
	memcpy(c.progs, r->progs, sizeof(c.progs));
	cgp_metrics_set_agent(r->metrics, &c);
}

static int watch(int ep, int fd, int tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int setup_collector(struct run_ctx *r)
{
	struct cgp_cc_cfg cfg = {
	    .addr = r->o->collector,
	    .token_file = r->o->collector_token_file,
	    .tls = r->o->collector_tls,
	    .tls_ca = r->o->collector_tls_ca,
	    .tls_server_name = r->o->collector_tls_server_name,
	    .zlevel = 1,
	    .backoff_max_ms = BACKOFF_MAX_MS,
	};
	char why[256];
	int err;

	if (r->o->collector_token_file) {
		char tok[CGP_TOKEN_MAX + 1];

		/* refused at start rather than on every connect */
		err = cgp_token_load(r->o->collector_token_file, tok, why, sizeof(why));
		explicit_bzero(tok, sizeof(tok));
		if (err) {
			cgp_err("--collector-token-file %s", why);
			return err;
		}
	}
	r->spool = cgp_spool_new(r->pub.instance_id, r->o->spool_bytes, 0);
	if (!r->spool)
		return -ENOMEM;
	if (r->o->spool_dir) {
		/* what an earlier agent left unacknowledged goes out first, under its own instance id */
		err = cgp_spool_open_dir(r->spool, r->o->spool_dir, why, sizeof(why));
		if (err) {
			cgp_err("--spool-dir: %s", why);
			return err;
		}
	}
	r->cc = cgp_cc_new(&cfg, r->spool);
	if (!r->cc) {
		cgp_err("--collector %s: not a HOST:PORT, or its TLS trust cannot be read", r->o->collector);
		return -EINVAL;
	}
	r->pub.spool = r->spool;
	return 0;
}

static int setup_http(struct run_ctx *r)
{
	struct cgp_http_cfg hc = {
	    .addr = r->o->http,
	    .node = r->pub.node,
	    .instance_id = r->pub.instance_id,
	    .tls_cert = r->o->http_tls_cert,
	    .tls_key = r->o->http_tls_key,
	    .token_file = r->o->http_token_file,
	    .auth_metrics = r->o->http_auth_metrics,
	    .max_connections = r->o->http_max_connections,
	    .max_per_client = r->o->http_max_per_client,
	    .header_timeout_s = r->o->http_header_timeout_s,
	};
	char why[256];

	r->metrics = cgp_metrics_new();
	r->cadvisor = cgp_cadvisor_new(&r->o->cadvisor);
	r->ring = cgp_event_ring_new(HTTP_RING_EVENTS, HTTP_RING_BYTES);
	if (!r->metrics || !r->cadvisor || !r->ring) {
		cgp_err("--http: out of memory");
		return -ENOMEM;
	}
	hc.metrics = r->metrics;
	hc.cadvisor = r->cadvisor;
	hc.ring = r->ring;
	r->http = cgp_http_new(&hc, why, sizeof(why));
	if (!r->http) {
		cgp_err("--http %s: %s", r->o->http ? r->o->http : CGP_HTTP_DEFAULT_ADDR, why);
		return -EADDRNOTAVAIL;
	}
	r->pub.ring = r->ring;
	return watch(r->ep, cgp_http_fd(r->http), EV_HTTP);
}

static int setup_alertmanager(struct run_ctx *r)
{
	struct cgp_am_cfg cfg = r->o->am;
	char why[256], gen[512];

	if (!cfg.generator_url && r->http) { /* the agent that raised it, where its figures are */
		snprintf(gen, sizeof(gen), "http://%s:%d/metrics", r->pub.node, cgp_http_port(r->http));
		cfg.generator_url = gen;
	}
	r->am = cgp_am_new(&cfg, r->pub.node, why, sizeof(why));
	if (!r->am) {
		cgp_err("%s", why);
		return -EINVAL;
	}
	return watch(r->ep, cgp_am_fd(r->am), EV_ALERTMANAGER);
}

static int setup(struct run_ctx *r)
{
	struct cgp_rings_visitor v = {.cgroup = on_cgroup, .oom = on_oom, .ctx = r};
	struct itimerspec its = {};
	sigset_t mask;
	int err;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGPIPE);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sigdelset(&mask, SIGPIPE); /* a collector that hangs up is an error on write, not a signal */
	r->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	r->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->sfd < 0 || r->tfd < 0 || r->ep < 0)
		return -errno;
	its.it_interval.tv_sec = (time_t)r->o->interval_s;
	its.it_interval.tv_nsec = (long)((r->o->interval_s - (time_t)r->o->interval_s) * 1e9);
	its.it_value = its.it_interval;
	if (timerfd_settime(r->tfd, 0, &its, NULL))
		return -errno;
	err = cgp_rings_open(&r->rings, &r->bpf, &v);
	if (err)
		return err;
	r->sp.rings = &r->rings; /* read during each sweep too: an OOM kill does not wait for it */
	if ((err = watch(r->ep, r->sfd, EV_SIGNAL)) || (err = watch(r->ep, r->tfd, EV_TIMER)) ||
	    (err = watch(r->ep, cgp_rings_fd(&r->rings), EV_RINGS)))
		return err;
	if (r->o->collector && (err = setup_collector(r)))
		return err;
	cgp_handover_begin(&r->handover, r->bpf.agent_state, r->pub.instance_id,
			   (r->o->collector ? CGP_AGENT_COLLECTOR : 0) | (r->o->spool_dir ? CGP_AGENT_SPOOL_DIR : 0),
			   r->spool);
	if (r->handover.prev.instance_id[0])
		cgp_info("previous instance %s: published up to seq %llu, acknowledged up to %llu; %s",
			 r->handover.prev.instance_id, (unsigned long long)r->handover.prev.last_seq,
			 (unsigned long long)r->handover.prev.acked_seq,
			 r->handover.prev.handed_over ? "nothing of it is lost"
						      : "the rest of it is lost (no spool directory held it)");
	if ((!r->o->http || strcmp(r->o->http, "off")) && (err = setup_http(r)))
		return err;
	if (r->o->am.n_urls && (err = setup_alertmanager(r)))
		return err;
	return 0;
}

static void sync_collector(struct run_ctx *r)
{
	if (r->cc)
		cgp_cc_epoll_sync(r->cc, r->ep, (epoll_data_t){.u32 = EV_COLLECTOR});
}

static void health_ok(struct run_ctx *r)
{
	char health[1024];
	size_t used;

	used = (size_t)snprintf(health, sizeof(health), "ok\nattached: ");
	cgp_bpf_attached_line(&r->bpf, health + used, sizeof(health) - used);
	used = strlen(health);
	used += (size_t)snprintf(health + used, sizeof(health) - used, "\nskipped: %s", r->bpf.n_skipped ? "" : "none");
	for (size_t i = 0; i < r->bpf.n_skipped && used < sizeof(health); i++)
		used += (size_t)snprintf(health + used, sizeof(health) - used, "%s%s: %s", i ? "; " : "",
					 r->bpf.skipped[i].name, r->bpf.skipped[i].why);
	cgp_http_set_health(r->http, true, health);
}

/* What the loop does after every turn, whatever woke it: pulls what the stages left for it. What the turn
 * spooled goes to the spool directory first, then to the collector, and is then made durable (an fdatasync
 * never delays a send). */
static void after_turn(struct run_ctx *r)
{
	uint64_t now = cgp_wall_ns();
	struct cgp_spool_stats ss = {0};

	if (r->cc) {
		struct cgp_cc_stats cs;

		cgp_cc_get_stats(r->cc, &cs);
		if (cgp_pub_report_drops(&r->pub, cs.connected, now, DROP_REPORT_NS))
			cgp_info("reported spool drops to the collector");
		cgp_spool_flush(r->spool, now);
		if (r->pub.urgent || r->swept) {
			r->pub.urgent = r->swept = false;
			cgp_cc_kick(r->cc);
		}
		cgp_spool_sync(r->spool, now);
		cgp_spool_get_stats(r->spool, &ss);
	}
	cgp_handover_note(&r->handover, r->pub.seq, ss.acked_seq);
	update_counters(r, false);
	/* every turn, not only when its fd fired: a flowing stream needs runs with no fd ready */
	if (r->http)
		cgp_http_run(r->http);
}

static int loop(struct run_ctx *r)
{
	struct epoll_event evs[8];
	struct signalfd_siginfo si;
	uint64_t ticks, done = 0;
	int n, err, timeout;

	if (r->http)
		health_ok(r);
	cgp_pub_agent_started(&r->pub, &r->bpf, &r->handover.prev);
	for (;;) {
		timeout = r->cc ? cgp_cc_tick(r->cc) : -1;
		if (r->http) {
			int ht = cgp_http_timeout_ms(r->http);

			if (ht >= 0 && (timeout < 0 || ht < timeout))
				timeout = ht;
		}
		if (r->am) {
			int at = cgp_am_tick(r->am);

			if (at >= 0 && (timeout < 0 || at < timeout))
				timeout = at;
		}
		sync_collector(r);
		n = epoll_wait(r->ep, evs, 8, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			switch (evs[i].data.u32) {
			case EV_SIGNAL:
				while (read(r->sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo != SIGHUP)
						return 0;
					r->reload_due = true; /* many SIGHUPs in a turn: one reload */
				}
				break;
			case EV_TIMER:
				if (read(r->tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
					break;
				r->ticks_missed += ticks - 1;
				/* event rings first, so an OOM is never published after the sample that counts it */
				cgp_rings_consume(&r->rings);
				err = sweep(r, true);
				if (err) {
					if (r->http)
						cgp_http_set_health(r->http, false, "sweep failed");
					return err;
				}
				fflush(stdout);
				update_counters(r, true);
				r->swept = true;
				if (r->o->iterations && ++done >= r->o->iterations)
					return 0;
				if (playbook_changed(r))
					r->reload_due = true;
				break;
			case EV_RINGS:
				cgp_rings_consume(&r->rings);
				break;
			case EV_COLLECTOR:
				cgp_cc_handle(r->cc, evs[i].events);
				break;
			case EV_ALERTMANAGER:
				cgp_am_handle(r->am);
				break;
			}
		}
		/* after the turn's sweep, never before it: a reload's work (bounded: playbook.h) is the only delay */
		if (r->reload_due) {
			r->reload_due = false;
			reload(r);
		}
		after_turn(r);
	}
}

/* At exit, give the collector a moment to take what is still spooled (bounded: never hang on a dead one). */
static void drain_collector(struct run_ctx *r)
{
	struct cgp_spool_stats st;
	struct epoll_event ev;
	uint64_t end = cgp_wall_ns() + DRAIN_ON_EXIT_NS;

	while (r->cc && cgp_wall_ns() < end) {
		cgp_spool_flush(r->spool, cgp_wall_ns());
		cgp_spool_get_stats(r->spool, &st);
		if (!st.events)
			break;
		cgp_cc_kick(r->cc);
		sync_collector(r);
		if (epoll_wait(r->ep, &ev, 1, 50) == 1 && ev.data.u32 == EV_COLLECTOR)
			cgp_cc_handle(r->cc, ev.events);
		cgp_cc_tick(r->cc);
	}
}

/* At exit, the resolves that are due get a moment to reach the Alertmanagers (bounded; firing alerts are left
 * to time out there, or to the next agent, which fires them again). */
static void drain_alertmanager(struct run_ctx *r)
{
	uint64_t end = cgp_mono_ns() + AM_DRAIN_ON_EXIT_MS * 1000000ULL;
	struct pollfd p;

	while (r->am && cgp_am_resolves_pending(r->am) && cgp_mono_ns() < end) {
		int t = cgp_am_tick(r->am);

		p = (struct pollfd){.fd = cgp_am_fd(r->am), .events = POLLIN};
		if (poll(&p, 1, t < 0 || t > 50 ? 50 : t) == 1)
			cgp_am_handle(r->am);
	}
}

static int start(struct run_ctx *r)
{
	const struct cgp_opts *o = r->o;
	struct cgp_loader_opts lo = {.pin_dir = o->pin_dir, .max_cgroups = o->max_cgroups};
	char attached[512];
	int err;

	err = cgp_bpf_open(&r->bpf, &lo);
	if (err)
		return err;
	/* loading parsed the kernel's BTF (megabytes, freed by now): give that heap back to the system */
	malloc_trim(0);
	err = cgp_sampler_init(&r->sp, &r->bpf);
	if (!err)
		err = cgp_names_init(&r->names, &r->bpf.fs, &o->roots, CGP_TOMBSTONE_GRACE_NS);
	if (err)
		return err;
	/* the one walk of the tree; mkdir/rmdir events keep it current from then on */
	if (cgp_names_walk(&r->names, cgp_wall_ns()))
		cgp_info("walking %s failed: paths will be found by id", r->bpf.fs.v2_mount);
	err = sweep(r, false); /* baseline: the first interval starts now */
	if (!err)
		err = setup(r);
	if (!err && !o->keep_caps) {
		const char *kept;

		err = cgp_drop_capabilities(cgp_bpf_map_fd(&r->bpf), &kept);
		if (err)
			cgp_err("dropping capabilities: %s", strerror(-err));
		else if (kept)
			cgp_info(
			    "kept %s after attaching: this kernel refuses bpf() on the programs' own fds without it "
			    "(kernel.unprivileged_bpf_disabled, kernels before 5.19)",
			    kept);
	}
	/* the last step of start: from here on the loop makes only the syscalls on the list */
	if (!err && (err = cgp_seccomp_install(o->seccomp)))
		cgp_err("installing the syscall filter: %s", strerror(-err));
	if (err)
		return err;
	cgp_bpf_attached_line(&r->bpf, attached, sizeof(attached));
	cgp_info(
	    "running as node %s, instance %s: attached %s; sampling every %gs; playbook %s; %s%s%s%s; "
	    "http port %d; %zu alertmanager(s)",
	    r->pub.node, r->pub.instance_id, attached, o->interval_s, o->playbook ? o->playbook : "(embedded default)",
	    r->bpf.pin_dir[0] ? "pinned under " : "nothing pinned", r->bpf.pin_dir, o->collector ? "; collector " : "",
	    o->collector ? o->collector : "", r->http ? cgp_http_port(r->http) : 0, o->am.n_urls);
	return 0;
}

/* stdout is /dev/null (a daemon's usual stdout, and the bench's): what is written there is discarded by the
 * kernel, so the events are not formatted for it at all; at 10,000 cgroups that formatting was most of the
 * agent's CPU. Any other stdout (a file, a pipe, a terminal, a container's log) gets every line as before. */
static bool stdout_discarded(void)
{
	struct stat out, null;

	return !fstat(STDOUT_FILENO, &out) && S_ISCHR(out.st_mode) && !stat("/dev/null", &null) &&
	       S_ISCHR(null.st_mode) && out.st_rdev == null.st_rdev;
}

/* glibc's malloc raises its mmap threshold to the size of the largest mmap'd block freed (up to 32 MiB), and its
 * trim threshold to twice that: after libbpf frees the kernel's BTF at start, every later large block (a
 * scrape's snapshot, the sweep's buffers) would come from the heap and stay resident once freed. Fixed
 * thresholds keep blocks of 128 KiB and more in their own mappings, handed back when freed, and a heap whose
 * free top is trimmed. */
static void malloc_policy(void)
{
	if (!mallopt(M_MMAP_THRESHOLD, 128 << 10) || !mallopt(M_TRIM_THRESHOLD, 256 << 10))
		cgp_debug("mallopt refused: the agent's heap keeps glibc's dynamic thresholds");
}

int cgp_cmd_run(const struct cgp_opts *o)
{
	bool quiet = o->stdout_what == CGP_STDOUT_NONE || stdout_discarded();
	struct run_ctx r = {.o = o, .ep = -1, .tfd = -1, .sfd = -1};
	int err;

	malloc_policy();
	err = cgp_playbook_open(o->playbook, &r.pb);
	if (err)
		return err;
	playbook_changed(&r); /* remember the mtime of what was loaded */
	r.engine = cgp_engine_new(r.pb);
	if (!r.engine) {
		cgp_playbook_free(r.pb);
		return -ENOMEM;
	}
	cgp_pub_init(&r.pub, o->node, o->json, quiet ? NULL : stdout);
	r.pub.text_samples = true;
	r.pub.no_out_samples = o->stdout_what == CGP_STDOUT_EVENTS;
	if (quiet && o->stdout_what != CGP_STDOUT_NONE)
		cgp_info("stdout is /dev/null: events are not formatted for it");
	err = start(&r);
	if (!err) {
		if (!o->json && !quiet && o->stdout_what == CGP_STDOUT_ALL)
			cgp_print_sample_header(stdout);
		err = loop(&r);
	}
	if (err)
		cgp_err("%s", strerror(-err));
	cgp_rings_consume(&r.rings);
	drain_collector(&r);
	if (r.spool) {
		struct cgp_spool_stats st;

		cgp_spool_get_stats(r.spool, &st);
		cgp_handover_note(&r.handover, r.pub.seq, st.acked_seq); /* the OOM kills read at exit too */
		cgp_info("exit: published %llu events (seq 1..%llu); the collector acknowledged up to %llu; %zu events "
			 "unacknowledged%s",
			 (unsigned long long)r.pub.published, (unsigned long long)r.pub.seq,
			 (unsigned long long)st.acked_seq, st.events,
			 !st.events	? ""
			 : o->spool_dir ? ", kept in the spool directory for the next agent"
					: ", lost");
	}
	drain_alertmanager(&r);
	cgp_am_free(r.am);
	cgp_rings_close(&r.rings);
	cgp_http_free(r.http);
	cgp_event_ring_free(r.ring);
	cgp_metrics_free(r.metrics);
	cgp_cadvisor_free(r.cadvisor);
	cgp_cc_free(r.cc);
	cgp_spool_free(r.spool);
	if (r.names.meta)
		cgp_names_free(&r.names);
	cgp_sampler_free(&r.sp);
	cgp_bpf_close(&r.bpf, !o->keep_pins);
	for (size_t i = 0; i < 3; i++) {
		int fd = i == 0 ? r.ep : i == 1 ? r.tfd : r.sfd;

		if (fd >= 0)
			close(fd);
	}
	cgp_pub_free(&r.pub);
	cgp_engine_free(r.engine);
	cgp_playbook_free(r.pb);
	return err;
}
