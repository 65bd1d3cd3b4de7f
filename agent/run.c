// SPDX-License-Identifier: GPL-2.0
/* `cgpulse run`: one event loop (epoll) over a timerfd for sampling, the kernel's event rings (cgroup
 * mkdir/rmdir, OOM kills), a signalfd, the collector's socket and the HTTP server. Every sample and OOM kill
 * goes through the playbook engine; every event goes through the publisher (stdout, collector, HTTP stream);
 * SIGHUP (or a changed file) reloads the playbook. */
#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <linux/types.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgpulse.skel.h"
#include "cgpulse.h"
#include "caps.h"
#include "lib/clock.h"
#include "sinks/collector_client.h"
#include "sinks/http_server.h"
#include "sinks/metrics.h"
#include "commands.h"
#include "collect/loader.h"
#include "lib/log.h"
#include "collect/rings.h"
#include "events/event_text.h"
#include "playbook/playbook.h"
#include "events/publish.h"
#include "collect/sampler.h"
#include "events/spool.h"

enum { EV_SIGNAL = 1, EV_TIMER, EV_RINGS, EV_COLLECTOR, EV_HTTP };

#define MAX_PROGS 16

struct run_ctx {
	const struct cgp_opts *o;
	struct cgp_bpf bpf;
	struct cgp_sampler sp;
	struct cgp_oom_reader rings;
	struct cgp_playbook *pb;
	struct cgp_engine *engine;
	struct cgp_publisher pub;
	struct cgp_spool *spool;
	struct cgp_cc *cc;
	struct timespec playbook_mtime; /* of --playbook FILE: a change reloads it, as SIGHUP does */
	struct cgp_http *http;
	struct cgp_metrics *metrics;
	double sweep_s_total, sweep_s_last;
	struct cgp_bpf_prog_stat progs[MAX_PROGS];
	int ep, tfd, sfd;
};

static void on_alert(const struct cgp_alert *a, void *ctx)
{
	struct run_ctx *r = ctx;

	cgp_pub_alert(&r->pub, a, cgp_sampler_name(&r->sp, a->cgroup_id));
}

static void on_sample(const struct cgp_sample *s, void *ctx)
{
	struct run_ctx *r = ctx;
	struct cgp_limits lim = {
	    .cpu_limit_cores = s->cpu_limit_cores,
	    .node_cpus = r->sp.node_cpus,
	    .node_mem_bytes = r->sp.node_mem_bytes,
	    .is_container = s->is_container,
	};

	cgp_pub_sample(&r->pub, s);
	if (r->metrics)
		cgp_metrics_sample(r->metrics, s);
	cgp_engine_eval(r->engine, s, &lim, s->ts_ns, on_alert, r);
}

static void on_gone(uint64_t cgroup_id, const char *path, void *ctx)
{
	struct run_ctx *r = ctx;

	(void)path;
	if (r->metrics)
		cgp_metrics_gone(r->metrics, cgroup_id);
	cgp_engine_cgroup_gone(r->engine, cgroup_id, cgp_wall_ns(), on_alert, r);
}

static void on_oom(const struct cgp_oom_event *e, void *ctx)
{
	struct run_ctx *r = ctx;
	struct cgp_limits lim;
	uint64_t mem_limit;

	cgp_pub_oom(&r->pub, e);
	cgp_sampler_limits(&r->sp, e->cgroup_id, &lim, &mem_limit);
	mem_limit = e->mem_limit_bytes; /* the limit at the kill, from the kernel, beats the last sweep's */
	cgp_engine_oom(r->engine, e, &lim, mem_limit, e->ts_ns, on_alert, r);
}

static void on_cgroup(int kind, uint64_t cgroup_id, uint64_t ts_ns, void *ctx)
{
	struct run_ctx *r = ctx;

	cgp_pub_cgroup(&r->pub, kind == CGP_CGROUP_MKDIR, cgroup_id, ts_ns, cgp_sampler_name(&r->sp, cgroup_id));
}

static void on_spool_drops(void *arg)
{
	struct run_ctx *r = arg;

	cgp_pub_dropped(&r->pub);
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
	if (cgp_playbook_open(r->o->playbook, &pb)) {
		cgp_err("reload: %s refused; the playbook in force stays", r->o->playbook);
		return;
	}
	if (cgp_engine_set_playbook(r->engine, pb, cgp_wall_ns(), on_alert, r)) {
		cgp_err("reload: out of memory applying %s; the playbook in force stays", r->o->playbook);
		cgp_playbook_free(pb);
		return;
	}
	cgp_playbook_free(r->pb);
	r->pb = pb;
	cgp_info("playbook %s reloaded", r->o->playbook);
}

static bool bpf_stats_on(void)
{
	char c = '0';
	FILE *f = fopen("/proc/sys/kernel/bpf_stats_enabled", "re");

	if (f) {
		if (fread(&c, 1, 1, f) != 1)
			c = '0';
		fclose(f);
	}
	return c == '1';
}

/* /metrics: the agent's own figures next to the per-cgroup ones, so users can check its cost on their nodes */
static int render_metrics(void *arg, struct cgp_buf *out)
{
	struct run_ctx *r = arg;
	struct cgp_agent_counters c = {0};
	struct cgp_spool_stats ss = {0};
	struct cgp_http_stats hs;
	struct bpf_program *p;

	c.events_published = r->pub.published;
	if (r->spool) {
		cgp_spool_get_stats(r->spool, &ss);
		c.events_sent = ss.acked_total;
		c.spool_dropped_samples = ss.dropped_samples_total;
		c.spool_dropped_others = ss.dropped_others_total;
		c.spool_events = ss.events;
		c.spool_bytes = ss.bytes;
	}
	memcpy(c.records_lost, r->sp.stats.drops, sizeof(c.records_lost));
	c.cgroups_tracked = r->sp.stats.cgroups;
	c.sweeps = r->sp.stats.sweeps;
	c.sweep_seconds_total = r->sweep_s_total;
	c.last_sweep_seconds = r->sweep_s_last;
	c.bpf_stats_enabled = bpf_stats_on();
	bpf_object__for_each_program(p, r->bpf.skel->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (c.n_progs >= MAX_PROGS || bpf_program__fd(p) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			continue;
		r->progs[c.n_progs].name = bpf_program__name(p);
		r->progs[c.n_progs].run_time_ns = info.run_time_ns;
		r->progs[c.n_progs].run_cnt = info.run_cnt;
		c.n_progs++;
	}
	c.progs = r->progs;
	cgp_http_get_stats(r->http, &hs);
	c.http = &hs;
	return cgp_metrics_render(r->metrics, &c, out);
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
	    .instance_id = r->pub.instance_id,
	    .zlevel = 1,
	    .backoff_max_ms = 5000, /* a collector back from a restart is found within 5 s */
	    .on_drops = on_spool_drops,
	    .arg = r,
	};

	r->spool = cgp_spool_new(r->o->spool_bytes, 0);
	if (!r->spool)
		return -ENOMEM;
	r->cc = cgp_cc_new(&cfg, r->spool);
	if (!r->cc) {
		cgp_err("--collector %s: not a HOST:PORT", r->o->collector);
		return -EINVAL;
	}
	r->pub.spool = r->spool;
	r->pub.cc = r->cc;
	return 0;
}

static int setup(struct run_ctx *r)
{
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
	err = cgp_oom_reader_open(&r->rings, &r->sp, on_oom, r);
	if (err)
		return err;
	r->rings.cgroup_cb = on_cgroup;
	if ((err = watch(r->ep, r->sfd, EV_SIGNAL)) || (err = watch(r->ep, r->tfd, EV_TIMER)) ||
	    (err = watch(r->ep, cgp_oom_reader_fd(&r->rings), EV_RINGS)))
		return err;
	if (r->o->collector && (err = setup_collector(r)))
		return err;
	if (!r->o->http || strcmp(r->o->http, "off")) {
		struct cgp_http_cfg hc = {
		    .addr = r->o->http,
		    .node = r->pub.node,
		    .instance_id = r->pub.instance_id,
		    .ring_bytes = 1 << 20, /* recent events for since=: bounded, and a good part of the agent's RSS */
		    .metrics = render_metrics,
		    .metrics_arg = r,
		};
		char why[256];

		r->metrics = cgp_metrics_new();
		r->http = r->metrics ? cgp_http_new(&hc, why, sizeof(why)) : NULL;
		if (!r->http) {
			cgp_err("--http %s: %s", r->o->http ? r->o->http : CGP_HTTP_DEFAULT_ADDR,
				r->metrics ? why : "out of memory");
			return -EADDRNOTAVAIL;
		}
		r->pub.hook = cgp_http_publish_hook;
		r->pub.hook_arg = r->http;
		if ((err = watch(r->ep, cgp_http_fd(r->http), EV_HTTP)))
			return err;
	}
	return 0;
}

static void sync_collector(struct run_ctx *r)
{
	if (r->cc)
		cgp_cc_epoll_sync(r->cc, r->ep, (epoll_data_t){.u32 = EV_COLLECTOR});
}

static int loop(struct run_ctx *r)
{
	struct epoll_event evs[8];
	struct signalfd_siginfo si;
	uint64_t ticks, done = 0, sweep_start;
	int n, err, timeout;

	if (r->http) {
		char health[sizeof(r->bpf.attached) + sizeof(r->bpf.skipped) + 64];

		snprintf(health, sizeof(health), "ok\nattached: %s\nskipped: %s", r->bpf.attached,
			 r->bpf.skipped[0] ? r->bpf.skipped : "none");
		cgp_http_set_health(r->http, true, health);
	}
	cgp_pub_agent_started(&r->pub, &r->bpf);
	for (;;) {
		timeout = r->cc ? cgp_cc_tick(r->cc) : -1;
		if (r->http) {
			int ht = cgp_http_timeout_ms(r->http);

			if (ht >= 0 && (timeout < 0 || ht < timeout))
				timeout = ht;
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
					reload(r);
				}
				break;
			case EV_TIMER:
				if (read(r->tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
					break;
				/* event rings first, so an OOM is never published after the sample that counts it */
				cgp_oom_reader_consume(&r->rings);
				if (playbook_changed(r))
					reload(r);
				sweep_start = cgp_wall_ns();
				err = cgp_sampler_sweep(&r->sp, on_sample, on_gone, r);
				if (err) {
					if (r->http)
						cgp_http_set_health(r->http, false, "sweep failed");
					return err;
				}
				r->sweep_s_last = (cgp_wall_ns() - sweep_start) / 1e9;
				r->sweep_s_total += r->sweep_s_last;
				fflush(stdout);
				if (r->cc)
					cgp_cc_kick(r->cc);
				if (r->o->iterations && ++done >= r->o->iterations)
					return 0;
				break;
			case EV_RINGS:
				cgp_oom_reader_consume(&r->rings);
				break;
			case EV_COLLECTOR:
				cgp_cc_handle(r->cc, evs[i].events);
				break;
			}
		}
		/* every turn, not only when its fd fired: a flowing stream needs runs with no fd ready */
		if (r->http)
			cgp_http_run(r->http);
	}
}

/* At exit, give the collector a moment to take what is still spooled (bounded: never hang on a dead one). */
static void drain_collector(struct run_ctx *r)
{
	struct cgp_spool_stats st;
	struct epoll_event ev;
	uint64_t end = cgp_wall_ns() + 2000000000ULL;

	while (r->cc && cgp_wall_ns() < end) {
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

int cgp_cmd_run(const struct cgp_opts *o)
{
	struct cgp_loader_opts lo = {.pin_dir = o->pin_dir, .max_cgroups = o->max_cgroups};
	struct run_ctx r = {.o = o, .ep = -1, .tfd = -1, .sfd = -1};
	int err;

	err = cgp_playbook_open(o->playbook, &r.pb);
	if (err)
		return err;
	playbook_changed(&r); /* remember the mtime of what was loaded */
	r.engine = cgp_engine_new(r.pb);
	if (!r.engine) {
		cgp_playbook_free(r.pb);
		return -ENOMEM;
	}
	cgp_pub_init(&r.pub, o->node, o->json, stdout);
	r.pub.text_samples = true;
	err = cgp_bpf_open(&r.bpf, &lo);
	if (err)
		goto out_engine;
	/* loading parsed the kernel's BTF (megabytes, freed by now): give that heap back to the system */
	malloc_trim(0);
	err = cgp_sampler_init(&r.sp, &r.bpf);
	if (!err)
		err = cgp_sampler_set_roots(&r.sp, &o->roots);
	if (!err)
		err = cgp_sampler_sweep(&r.sp, NULL, NULL, NULL); /* baseline: the first interval starts now */
	if (!err)
		err = setup(&r);
	if (!err && !o->keep_caps && (err = cgp_drop_capabilities()))
		cgp_err("dropping capabilities: %s", strerror(-err));
	if (!err) {
		cgp_info("running as node %s, instance %s: attached %s; sampling every %gs; playbook %s; %s%s%s%s; "
			 "http port %d",
			 r.pub.node, r.pub.instance_id, r.bpf.attached, o->interval_s,
			 o->playbook ? o->playbook : "(embedded default)",
			 r.bpf.pin_dir[0] ? "pinned under " : "nothing pinned", r.bpf.pin_dir,
			 o->collector ? "; collector " : "", o->collector ? o->collector : "",
			 r.http ? cgp_http_port(r.http) : 0);
		if (!o->json)
			cgp_print_sample_header(stdout);
		err = loop(&r);
	}
	if (err)
		cgp_err("%s", strerror(-err));
	cgp_oom_reader_consume(&r.rings);
	drain_collector(&r);
	cgp_oom_reader_close(&r.rings);
	cgp_http_free(r.http);
	cgp_metrics_free(r.metrics);
	cgp_cc_free(r.cc);
	cgp_spool_free(r.spool);
	cgp_sampler_free(&r.sp);
	cgp_bpf_close(&r.bpf, !o->keep_pins);
	for (size_t i = 0; i < 3; i++) {
		int fd = i == 0 ? r.ep : i == 1 ? r.tfd : r.sfd;

		if (fd >= 0)
			close(fd);
	}
out_engine:
	cgp_pub_free(&r.pub);
	cgp_engine_free(r.engine);
	cgp_playbook_free(r.pb);
	return err;
}
