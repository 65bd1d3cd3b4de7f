// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bpf/libbpf.h>
#include "cgpulse.skel.h"
#include "collect/rings.h"
#include "lib/clock.h"

bool cgp_ring_decode_cgroup(const void *data, size_t len, int64_t boot_to_wall_ns, struct cgp_cgroup_change *out)
{
	const struct cgp_cgroup_event *e = data;

	if (len < sizeof(*e) || (e->kind != CGP_CGROUP_MKDIR && e->kind != CGP_CGROUP_RMDIR))
		return false;
	out->kind = e->kind;
	out->cgroup_id = e->cgroup_id;
	out->ts_ns = e->ts_boot_ns + boot_to_wall_ns;
	memcpy(out->path, e->path, sizeof(out->path));
	out->path[sizeof(out->path) - 1] = 0; /* the kernel side cuts, it need not terminate */
	if (!out->path[0])
		strcpy(out->path, "/");
	return true;
}

bool cgp_ring_decode_oom(const void *data, size_t len, int64_t boot_to_wall_ns, struct cgp_oom_event *out)
{
	const struct cgp_oom_rec *rec = data;

	if (len < sizeof(*rec))
		return false;
	memset(out, 0, sizeof(*out));
	out->ts_ns = rec->ts_boot_ns + boot_to_wall_ns;
	out->cgroup_id = rec->cgroup_id;
	out->memcg_id = rec->memcg_id;
	out->pid = rec->pid;
	out->tgid = rec->tgid;
	memcpy(out->comm, rec->comm, sizeof(out->comm));
	out->comm[sizeof(out->comm) - 1] = 0;
	out->rss_anon_bytes = rec->rss_anon_bytes;
	out->rss_file_bytes = rec->rss_file_bytes;
	out->rss_shmem_bytes = rec->rss_shmem_bytes;
	out->pgtables_bytes = rec->pgtables_bytes;
	out->oom_score_adj = rec->oom_score_adj;
	out->mem_limit_bytes = rec->mem_limit_bytes;
	return true;
}

static int on_cgroup(void *ctx, const void *data, size_t len)
{
	struct cgp_rings *r = ctx;
	struct cgp_cgroup_change c;

	if (!cgp_ring_decode_cgroup(data, len, r->boot_to_wall_ns, &c)) {
		r->stats.malformed++;
		return 0;
	}
	if (cgp_ring_repeat(&r->repeats, c.cgroup_id, c.kind, ((const struct cgp_cgroup_event *)data)->ts_boot_ns)) {
		r->stats.repeated++;
		return 0;
	}
	r->stats.cgroup_events++;
	if (r->v.cgroup)
		r->v.cgroup(&c, r->v.ctx);
	return 0;
}

static int on_oom(void *ctx, const void *data, size_t len)
{
	struct cgp_rings *r = ctx;
	struct cgp_oom_event e;

	if (!cgp_ring_decode_oom(data, len, r->boot_to_wall_ns, &e)) {
		r->stats.malformed++;
		return 0;
	}
	if (cgp_ring_repeat(&r->repeats, (uint64_t)e.pid << 32 | e.tgid, e.cgroup_id,
			    ((const struct cgp_oom_rec *)data)->ts_boot_ns)) {
		r->stats.repeated++;
		return 0;
	}
	r->stats.oom_events++;
	if (r->v.oom)
		r->v.oom(&e, r->v.ctx);
	return 0;
}

int cgp_rings_open(struct cgp_rings *r, const struct cgp_bpf *b, const struct cgp_rings_visitor *v)
{
	int fds[2] = {bpf_map__fd(b->skel->maps.cgroup_events), bpf_map__fd(b->skel->maps.oom_events)};
	cgp_ringbuf_fn fns[2] = {on_cgroup, on_oom};
	int err = 0;

	memset(r, 0, sizeof(*r));
	r->ep = -1;
	r->v = *v;
	r->boot_to_wall_ns = (int64_t)cgp_clock_ns(CLOCK_REALTIME) - (int64_t)cgp_clock_ns(CLOCK_BOOTTIME);
	r->ep = epoll_create1(EPOLL_CLOEXEC);
	if (r->ep < 0)
		return -errno;
	r->open = true;
	/* cgroup events first: an OOM record is always read after the mkdir that named its cgroup */
	for (int i = 0; i < 2 && !err; i++) {
		struct epoll_event e = {.events = EPOLLIN, .data.u32 = (uint32_t)i};

		err = cgp_ringbuf_open(&r->ring[i], fds[i], fns[i], r);
		if (!err && epoll_ctl(r->ep, EPOLL_CTL_ADD, fds[i], &e))
			err = -errno;
	}
	if (err)
		cgp_rings_close(r);
	return err;
}

int cgp_rings_fd(const struct cgp_rings *r)
{
	return r->ep;
}

int cgp_rings_consume(struct cgp_rings *r)
{
	/* taken again each time: the wall clock can be stepped (NTP's first sync after boot, an operator), and an
	 * event's wall time is its boot time plus the offset as it is now, not as it was at start */
	r->boot_to_wall_ns = (int64_t)cgp_clock_ns(CLOCK_REALTIME) - (int64_t)cgp_clock_ns(CLOCK_BOOTTIME);
	/* never opened (start-up failed): each ring reads as empty */
	for (int i = 0; i < 2; i++) {
		int64_t n = cgp_ringbuf_consume(&r->ring[i]);

		if (n < 0)
			return (int)n;
	}
	return 0;
}

size_t cgp_rings_mapped_bytes(const struct cgp_rings *r)
{
	return cgp_ringbuf_mapped_bytes(&r->ring[0]) + cgp_ringbuf_mapped_bytes(&r->ring[1]);
}

void cgp_rings_close(struct cgp_rings *r)
{
	for (int i = 0; i < 2; i++)
		cgp_ringbuf_close(&r->ring[i]);
	if (r->open) /* a struct zeroed and never opened has no fd of its own: 0 is not ours */
		close(r->ep);
	r->open = false;
	r->ep = -1;
}
