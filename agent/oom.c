// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "cgpulse.h"
#include "cgpulse.skel.h"
#include "oom.h"

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct cgp_oom_reader *r = ctx;
	const struct cgp_oom_rec *rec = data;
	struct cgp_oom_event e = {};
	const char *path;

	if (len < sizeof(*rec))
		return 0;
	path = cgp_sampler_path(r->sampler, rec->cgroup_id);
	e.ts_ns = rec->ts_boot_ns + r->boot_to_wall_ns;
	e.cgroup_id = rec->cgroup_id;
	e.path = path ? path : "(removed)";
	e.memcg_id = rec->memcg_id;
	e.pid = rec->pid;
	e.tgid = rec->tgid;
	memcpy(e.comm, rec->comm, sizeof(e.comm));
	e.comm[sizeof(e.comm) - 1] = 0;
	e.rss_anon_bytes = rec->rss_anon_bytes;
	e.rss_file_bytes = rec->rss_file_bytes;
	e.rss_shmem_bytes = rec->rss_shmem_bytes;
	e.pgtables_bytes = rec->pgtables_bytes;
	e.oom_score_adj = rec->oom_score_adj;
	r->events++;
	r->cb(&e, r->ctx);
	return 0;
}

int cgp_oom_reader_open(struct cgp_oom_reader *r, struct cgp_sampler *sp, cgp_oom_cb cb, void *ctx)
{
	memset(r, 0, sizeof(*r));
	r->sampler = sp;
	r->cb = cb;
	r->ctx = ctx;
	r->boot_to_wall_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	r->rb = ring_buffer__new(bpf_map__fd(sp->bpf->skel->maps.oom_events), on_record, r, NULL);
	return r->rb ? 0 : -errno;
}

int cgp_oom_reader_fd(const struct cgp_oom_reader *r)
{
	return ring_buffer__epoll_fd(r->rb);
}

int cgp_oom_reader_consume(struct cgp_oom_reader *r)
{
	if (!r->rb) /* never opened (start-up failed) */
		return 0;
	return ring_buffer__consume(r->rb);
}

void cgp_oom_reader_close(struct cgp_oom_reader *r)
{
	ring_buffer__free(r->rb);
	r->rb = NULL;
}
