/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's event rings, read the moment they wake the loop: cgroup mkdir/rmdir records (drained first,
 * so an OOM record always comes after the mkdir that named its cgroup) and OOM records. Each record is
 * checked and turned into the agent's own form here (cgp_ring_decode_*, pure and tested alone); the reader
 * hands each to the caller's visitor. */
#ifndef CGP_RINGS_H
#define CGP_RINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "cgpulse.h"
#include "collect/loader.h"
#include "collect/ring_repeats.h"
#include "collect/ringbuf.h"
#include "collect/sample.h"

/* A cgroup v2 directory made or removed. */
struct cgp_cgroup_change {
	enum cgp_cgroup_event_kind kind;
	uint64_t cgroup_id;
	uint64_t ts_ns;		 /* wall clock */
	char path[CGP_PATH_LEN]; /* relative to the cgroup2 root, "/" for the root; NUL-terminated */
};

/* What the reader hands on, one record at a time; called inside cgp_rings_consume. */
struct cgp_rings_visitor {
	void (*cgroup)(const struct cgp_cgroup_change *c, void *ctx);
	void (*oom)(struct cgp_oom_event *e, void *ctx); /* e->container_running is the caller's to set */
	void *ctx;
};

struct cgp_rings_stats {
	uint64_t oom_events, cgroup_events;
	uint64_t malformed; /* records of the wrong size: skipped */
	uint64_t repeated;  /* second copies of a record across a restart on kept pins (collect/ring_repeats.h) */
};

struct cgp_rings {
	struct cgp_ringbuf ring[2]; /* cgroup_events, oom_events: read in this order */
	int ep;			    /* epoll over both */
	bool open;
	struct cgp_rings_visitor v;
	int64_t boot_to_wall_ns; /* CLOCK_REALTIME - CLOCK_BOOTTIME, taken at each consume */
	struct cgp_rings_stats stats;
	struct cgp_ring_repeats repeats;
};

int cgp_rings_open(struct cgp_rings *r, const struct cgp_bpf *b, const struct cgp_rings_visitor *v);
int cgp_rings_fd(const struct cgp_rings *r); /* epoll-able */
/* Reads what the rings hold now; 0 or -errno. */
int cgp_rings_consume(struct cgp_rings *r);
/* The RSS the rings' mappings take (every page is inserted when mapped). */
size_t cgp_rings_mapped_bytes(const struct cgp_rings *r);
void cgp_rings_close(struct cgp_rings *r);

/* One record, len bytes as the ring gave them: false when it is not a whole record. */
bool cgp_ring_decode_cgroup(const void *data, size_t len, int64_t boot_to_wall_ns, struct cgp_cgroup_change *out);
bool cgp_ring_decode_oom(const void *data, size_t len, int64_t boot_to_wall_ns, struct cgp_oom_event *out);

#endif
