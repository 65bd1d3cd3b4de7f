// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "cgpulse.h"
#include "cgpulse.skel.h"
#include "lib/clock.h"
#include "collect/rings.h"

/* Does anything but the victim still run in the cgroup? One file read, only when an OOM kill happens. */
static bool others_alive(struct cgp_oom_reader *r, const char *path, uint32_t victim_tgid)
{
	char p[4608], buf[4096];
	const struct cgp_cgroupfs *fs = &r->sampler->bpf->fs;
	bool alive = false;
	FILE *f;

	snprintf(p, sizeof(p), "%s%s/cgroup.procs", fs->v2_mount, strcmp(path, "/") ? path : "");
	f = fopen(p, "re");
	if (!f)
		return false;
	while (!alive && fgets(buf, sizeof(buf), f))
		alive = strtoul(buf, NULL, 10) != victim_tgid;
	fclose(f);
	return alive;
}

static int on_cgroup(void *ctx, void *data, size_t len)
{
	struct cgp_oom_reader *r = ctx;
	const struct cgp_cgroup_event *e = data;

	if (len < sizeof(*e))
		return 0;
	r->cgroup_events++;
	cgp_sampler_cgroup_event(r->sampler, e);
	if (r->cgroup_cb)
		r->cgroup_cb(e->kind, e->cgroup_id, e->ts_boot_ns + r->boot_to_wall_ns, r->ctx);
	return 0;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct cgp_oom_reader *r = ctx;
	const struct cgp_oom_rec *rec = data;
	struct cgp_oom_event e = {};
	const struct cgp_cgname *n;

	if (len < sizeof(*rec))
		return 0;
	n = cgp_sampler_name_fresh(r->sampler, rec->cgroup_id);
	e.ts_ns = rec->ts_boot_ns + r->boot_to_wall_ns;
	e.cgroup_id = rec->cgroup_id;
	e.path = n ? n->path : "(unknown)";
	e.container_id = n && n->ref.kind == CGP_CPATH_CONTAINER ? n->ref.id : "";
	e.runtime = n && n->ref.kind == CGP_CPATH_CONTAINER ? n->runtime : "";
	e.pod = n ? n->pod : "";
	e.pod_namespace = n ? n->pod_namespace : "";
	e.container_name = n ? n->container : "";
	e.image = n ? n->image : "";
	e.container_running = n && !n->removed_ns && others_alive(r, n->path, rec->tgid);
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
	e.mem_limit_bytes = rec->mem_limit_bytes;
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
	r->boot_to_wall_ns = (int64_t)cgp_clock_ns(CLOCK_REALTIME) - (int64_t)cgp_clock_ns(CLOCK_BOOTTIME);
	/* cgroup events first: an OOM record is always read after the mkdir that named its cgroup */
	r->rb = ring_buffer__new(bpf_map__fd(sp->bpf->skel->maps.cgroup_events), on_cgroup, r, NULL);
	if (!r->rb)
		return -errno;
	if (ring_buffer__add(r->rb, bpf_map__fd(sp->bpf->skel->maps.oom_events), on_record, r))
		return -errno;
	return 0;
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
