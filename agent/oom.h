/* SPDX-License-Identifier: GPL-2.0 */
/* OOM ring-buffer records → struct cgp_oom_event, the moment they arrive. */
#ifndef CGP_OOM_H
#define CGP_OOM_H

#include "sample.h"
#include "sampler.h"

struct ring_buffer;
typedef void (*cgp_oom_cb)(const struct cgp_oom_event *e, void *ctx);

struct cgp_oom_reader {
	struct ring_buffer *rb;
	struct cgp_sampler *sampler; /* for id → path */
	cgp_oom_cb cb;
	void *ctx;
	int64_t boot_to_wall_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME at start */
	uint64_t events;
};

int cgp_oom_reader_open(struct cgp_oom_reader *r, struct cgp_sampler *sp, cgp_oom_cb cb, void *ctx);
int cgp_oom_reader_fd(const struct cgp_oom_reader *r); /* epoll-able */
int cgp_oom_reader_consume(struct cgp_oom_reader *r);
void cgp_oom_reader_close(struct cgp_oom_reader *r);

#endif
