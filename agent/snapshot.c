// SPDX-License-Identifier: GPL-2.0
/* `cgpulse snapshot`: attach, measure one window, print one row per cgroup, detach. */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include "commands.h"
#include "collect/loader.h"
#include "lib/log.h"
#include "events/event_text.h"
#include "events/publish.h"
#include "collect/sampler.h"

static void print_one(const struct cgp_sample *s, void *ctx)
{
	cgp_pub_sample(ctx, s);
}

int cgp_cmd_snapshot(const struct cgp_opts *o)
{
	struct cgp_loader_opts lo = {.pin_dir = o->pin_dir, .max_cgroups = o->max_cgroups};
	struct timespec w = {.tv_sec = (time_t)o->window_s,
			     .tv_nsec = (long)((o->window_s - (time_t)o->window_s) * 1e9)};
	struct cgp_publisher pub;
	struct cgp_sampler sp;
	struct cgp_bpf b;
	int err;

	err = cgp_bpf_open(&b, &lo);
	if (err)
		return err;
	err = cgp_sampler_init(&sp, &b);
	if (!err)
		err = cgp_sampler_set_roots(&sp, &o->roots);
	if (!err)
		err = cgp_sampler_sweep(&sp, NULL, NULL, NULL); /* the window starts here */
	while (!err && nanosleep(&w, &w) && errno == EINTR)
		;
	if (!err) {
		cgp_pub_init(&pub, o->node, o->json, stdout);
		pub.text_samples = true;
		if (!o->json)
			cgp_print_sample_header(stdout);
		err = cgp_sampler_sweep(&sp, print_one, NULL, &pub);
		cgp_pub_free(&pub);
		fflush(stdout);
	}
	cgp_sampler_free(&sp);
	cgp_bpf_close(&b, true);
	return err;
}
