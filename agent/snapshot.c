// SPDX-License-Identifier: GPL-2.0
/* `cgpulse snapshot`: attach, measure one window, print one row per cgroup, detach. */
#include <errno.h>
#include <stdio.h>
#include <time.h>
#include "collect/loader.h"
#include "collect/sampler.h"
#include "commands.h"
#include "events/event_text.h"
#include "events/publish.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "names/cgroup_names.h"

static void print_all(const struct cgp_sampler *sp, struct cgp_names *names, struct cgp_publisher *pub)
{
	struct cgp_sample s;
	size_t it = 0;

	while (cgp_sampler_next(sp, &it, &s)) {
		const struct cgp_cgname *n = cgp_names_get(names, s.cgroup_id, s.ts_ns);

		if (n && !n->removed_ns)
			cgp_pub_sample(pub, &s, &n->attr);
	}
}

int cgp_cmd_snapshot(const struct cgp_opts *o)
{
	struct cgp_loader_opts lo = {.pin_dir = o->pin_dir, .max_cgroups = o->max_cgroups};
	struct timespec w = {.tv_sec = (time_t)o->window_s,
			     .tv_nsec = (long)((o->window_s - (time_t)o->window_s) * 1e9)};
	struct cgp_publisher pub;
	struct cgp_sampler sp;
	struct cgp_names names = {0};
	struct cgp_bpf b;
	int err;

	err = cgp_bpf_open(&b, &lo);
	if (err)
		return err;
	err = cgp_sampler_init(&sp, &b);
	if (!err)
		err = cgp_names_init(&names, &b.fs, &o->roots, CGP_TOMBSTONE_GRACE_NS);
	if (!err && cgp_names_walk(&names, cgp_wall_ns()))
		cgp_info("walking %s failed: paths will be found by id", b.fs.v2_mount);
	if (!err)
		err = cgp_sampler_sweep(&sp); /* the window starts here */
	while (!err && nanosleep(&w, &w) && errno == EINTR)
		;
	if (!err)
		err = cgp_sampler_sweep(&sp);
	if (!err) {
		cgp_pub_init(&pub, o->node, o->json, stdout);
		pub.text_samples = true;
		if (!o->json)
			cgp_print_sample_header(stdout);
		print_all(&sp, &names, &pub);
		cgp_pub_free(&pub);
		fflush(stdout);
	}
	if (names.meta)
		cgp_names_free(&names);
	cgp_sampler_free(&sp);
	cgp_bpf_close(&b, true);
	return err;
}
