/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's event rings: cgroup mkdir/rmdir records (paths, drained first) and OOM records → struct
 * cgp_oom_event with the victim's container, the moment they arrive. */
#ifndef CGP_OOM_H
#define CGP_OOM_H

#include "collect/sample.h"
#include "collect/sampler.h"

struct ring_buffer;
typedef void (*cgp_oom_cb)(const struct cgp_oom_event *e, void *ctx);
/* kind: enum cgp_cgroup_event_kind; called after the sampler learned of it */
typedef void (*cgp_cgroup_cb)(int kind, uint64_t cgroup_id, uint64_t ts_ns, void *ctx);

struct cgp_oom_reader {
	struct ring_buffer *rb;
	struct cgp_sampler *sampler; /* for id → path */
	cgp_oom_cb cb;
	cgp_cgroup_cb cgroup_cb; /* may be NULL */
	void *ctx;
	int64_t boot_to_wall_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME at start */
	uint64_t events, cgroup_events;
};

int cgp_oom_reader_open(struct cgp_oom_reader *r, struct cgp_sampler *sp, cgp_oom_cb cb, void *ctx);
int cgp_oom_reader_fd(const struct cgp_oom_reader *r); /* epoll-able */
int cgp_oom_reader_consume(struct cgp_oom_reader *r);
void cgp_oom_reader_close(struct cgp_oom_reader *r);

#endif
