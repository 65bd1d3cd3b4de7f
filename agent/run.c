// SPDX-License-Identifier: GPL-2.0
/* `cgpulse run`: one event loop (epoll) over a timerfd for sampling, the OOM ring buffer and a signalfd.
 * Every sample and OOM kill goes through the playbook engine; SIGHUP reloads the playbook. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include "commands.h"
#include "loader.h"
#include "log.h"
#include "oom.h"
#include "output.h"
#include "playbook.h"
#include "sampler.h"

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

struct run_ctx {
	const struct cgp_opts *o;
	struct cgp_bpf bpf;
	struct cgp_sampler sp;
	struct cgp_oom_reader oom;
	struct cgp_playbook *pb;
	struct cgp_engine *engine;
	uint64_t alerts;
	int ep, tfd, sfd;
};

static void on_alert(const struct cgp_alert *a, void *ctx)
{
	struct run_ctx *r = ctx;

	r->alerts++;
	cgp_print_alert(stdout, a, r->o->json);
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

	cgp_print_sample(stdout, s, r->o->json);
	cgp_engine_eval(r->engine, s, &lim, s->ts_ns, on_alert, r);
}

static void on_gone(uint64_t cgroup_id, const char *path, void *ctx)
{
	struct run_ctx *r = ctx;

	(void)path;
	cgp_engine_cgroup_gone(r->engine, cgroup_id, wall_ns(), on_alert, r);
}

static void on_oom(const struct cgp_oom_event *e, void *ctx)
{
	struct run_ctx *r = ctx;
	struct cgp_limits lim;
	uint64_t mem_limit;

	cgp_print_oom(stdout, e, r->o->json);
	cgp_sampler_limits(&r->sp, e->cgroup_id, &lim, &mem_limit);
	cgp_engine_oom(r->engine, e, &lim, mem_limit, e->ts_ns, on_alert, r);
}

/* SIGHUP: a bad new playbook is refused with its reason and the old one stays in force. */
static void reload(struct run_ctx *r)
{
	struct cgp_playbook *pb;

	if (!r->o->playbook) {
		cgp_info("SIGHUP: the embedded default playbook is in force; nothing to reload (--playbook FILE)");
		return;
	}
	if (cgp_playbook_open(r->o->playbook, &pb)) {
		cgp_err("SIGHUP: %s refused; the playbook in force stays", r->o->playbook);
		return;
	}
	if (cgp_engine_set_playbook(r->engine, pb, wall_ns(), on_alert, r)) {
		cgp_err("SIGHUP: out of memory applying %s; the playbook in force stays", r->o->playbook);
		cgp_playbook_free(pb);
		return;
	}
	cgp_playbook_free(r->pb);
	r->pb = pb;
	cgp_info("SIGHUP: playbook %s reloaded", r->o->playbook);
}

static int watch(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
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
	sigprocmask(SIG_BLOCK, &mask, NULL);
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
	err = cgp_oom_reader_open(&r->oom, &r->sp, on_oom, r);
	if (err)
		return err;
	if ((err = watch(r->ep, r->sfd)) || (err = watch(r->ep, r->tfd)) ||
	    (err = watch(r->ep, cgp_oom_reader_fd(&r->oom))))
		return err;
	return 0;
}

static int loop(struct run_ctx *r)
{
	struct epoll_event evs[8];
	struct signalfd_siginfo si;
	uint64_t ticks, done = 0;
	int n, err;

	for (;;) {
		n = epoll_wait(r->ep, evs, 8, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == r->sfd) {
				while (read(r->sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo != SIGHUP)
						return 0;
					reload(r);
				}
			} else if (fd == r->tfd) {
				if (read(r->tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
					continue;
				/* OOM records first, so an OOM is never printed after the sample that counts it */
				cgp_oom_reader_consume(&r->oom);
				err = cgp_sampler_sweep(&r->sp, on_sample, on_gone, r);
				if (err)
					return err;
				if (r->o->iterations && ++done >= r->o->iterations)
					return 0;
			} else {
				cgp_oom_reader_consume(&r->oom);
			}
		}
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
	r.engine = cgp_engine_new(r.pb);
	if (!r.engine) {
		cgp_playbook_free(r.pb);
		return -ENOMEM;
	}
	err = cgp_bpf_open(&r.bpf, &lo);
	if (err) {
		cgp_engine_free(r.engine);
		cgp_playbook_free(r.pb);
		return err;
	}
	err = cgp_sampler_init(&r.sp, &r.bpf);
	if (!err)
		err = cgp_sampler_sweep(&r.sp, NULL, NULL, NULL); /* baseline: the first interval starts now */
	if (!err)
		err = setup(&r);
	if (!err) {
		cgp_info("running: attached %s; sampling every %gs; playbook %s; %s%s", r.bpf.attached, o->interval_s,
			 o->playbook ? o->playbook : "(embedded default)",
			 r.bpf.pin_dir[0] ? "pinned under " : "nothing pinned", r.bpf.pin_dir);
		err = loop(&r);
	}
	if (err)
		cgp_err("%s", strerror(-err));
	cgp_oom_reader_consume(&r.oom);
	cgp_oom_reader_close(&r.oom);
	cgp_sampler_free(&r.sp);
	cgp_bpf_close(&r.bpf, !o->keep_pins);
	cgp_engine_free(r.engine);
	cgp_playbook_free(r.pb);
	for (int *fd = &r.ep; fd <= &r.sfd; fd++)
		if (*fd >= 0)
			close(*fd);
	return err;
}
