// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "cgpulse.h"
#include "cgpulse.skel.h"
#include "log.h"
#include "runq_hist.h"
#include "sampler.h"

#define JOIN_NONE UINT64_MAX
#define JOIN_RETRY_SWEEPS 8 /* a v1 memory cgroup without a v2 twin is looked up again this often */

struct cgp_cg {
	uint64_t id;
	char *path;
	uint32_t gen;
	int has_prev;
	struct cgp_cgroup_rec cur;
	uint64_t prev_cpu_ns;
	uint64_t prev_oom_kills;
	uint64_t prev_runq[CGP_RUNQ_SLOTS];
};

struct cgp_join {
	uint64_t v2_id; /* JOIN_NONE: no v2 twin */
	uint32_t gen;	/* last sweep that saw it */
	uint32_t looked_up;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int cgp_sampler_init(struct cgp_sampler *sp, struct cgp_bpf *bpf)
{
	memset(sp, 0, sizeof(*sp));
	sp->bpf = bpf;
	sp->cap = 64 * sizeof(struct cgp_cgroup_rec);
	sp->buf = malloc(sp->cap);
	if (!sp->buf || cgp_idmap_init(&sp->cgs, 256) || cgp_idmap_init(&sp->memjoin, 256)) {
		cgp_sampler_free(sp);
		return -ENOMEM;
	}
	return 0;
}

static void cg_free(struct cgp_cg *cg)
{
	free(cg->path);
	free(cg);
}

void cgp_sampler_free(struct cgp_sampler *sp)
{
	for (size_t i = 0; i < sp->cgs.cap; i++)
		if (sp->cgs.keys[i])
			cg_free(sp->cgs.vals[i]);
	for (size_t i = 0; i < sp->memjoin.cap; i++)
		if (sp->memjoin.keys[i])
			free(sp->memjoin.vals[i]);
	cgp_idmap_free(&sp->cgs);
	cgp_idmap_free(&sp->memjoin);
	free(sp->buf);
	sp->buf = NULL;
}

/* Reads a whole iterator run into sp->buf; returns the number of bytes or -errno. */
static ssize_t read_iter(struct cgp_sampler *sp, struct bpf_link *link)
{
	size_t len = 0;
	ssize_t n;
	int fd = bpf_iter_create(bpf_link__fd(link));

	if (fd < 0)
		return -errno;
	for (;;) {
		if (sp->cap - len < 4096) {
			char *nb = realloc(sp->buf, sp->cap * 2);

			if (!nb) {
				close(fd);
				return -ENOMEM;
			}
			sp->buf = nb;
			sp->cap *= 2;
		}
		n = read(fd, sp->buf + len, sp->cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	return n < 0 ? -errno : (ssize_t)len;
}

static struct cgp_cg *cg_get(struct cgp_sampler *sp, uint64_t id)
{
	struct cgp_bpf *b = sp->bpf;
	struct cgp_cg *cg = cgp_idmap_get(&sp->cgs, id);
	char path[4096];

	if (cg)
		return cg;
	if (cgp_cgroup_path(b->fs.v2_fd, b->fs.v2_mount, id, path, sizeof(path))) {
		sp->stats.path_failures++; /* removed between the iterator and now: next sweep won't see it */
		return NULL;
	}
	cg = calloc(1, sizeof(*cg));
	if (!cg || !(cg->path = strdup(path)) || cgp_idmap_put(&sp->cgs, id, cg)) {
		if (cg)
			free(cg->path);
		free(cg);
		return NULL;
	}
	cg->id = id;
	return cg;
}

const char *cgp_sampler_path(struct cgp_sampler *sp, uint64_t cgroup_id)
{
	struct cgp_cg *cg = cg_get(sp, cgroup_id);

	return cg ? cg->path : NULL;
}

/* Hybrid hosts: the memory controller lives on a v1 hierarchy whose cgroups have their own ids. Runtimes and
 * systemd create the same path in every hierarchy, so a v1 memory cgroup is joined to the cgroup v2 cgroup of
 * the same path (resolved once per memory cgroup, then cached). */
static uint64_t join_v2(struct cgp_sampler *sp, uint64_t memcg_id)
{
	struct cgp_bpf *b = sp->bpf;
	struct cgp_join *j = cgp_idmap_get(&sp->memjoin, memcg_id);
	char path[4096];

	if (!j) {
		j = calloc(1, sizeof(*j));
		if (!j || cgp_idmap_put(&sp->memjoin, memcg_id, j)) {
			free(j);
			return JOIN_NONE;
		}
		j->v2_id = JOIN_NONE;
	}
	j->gen = sp->gen;
	if (j->v2_id == JOIN_NONE && (!j->looked_up || sp->gen - j->looked_up >= JOIN_RETRY_SWEEPS)) {
		j->looked_up = sp->gen;
		if (!cgp_cgroup_path(b->fs.mem_fd, b->fs.mem_mount, memcg_id, path, sizeof(path))) {
			uint64_t id = cgp_cgroup_id(b->fs.v2_mount, path);

			j->v2_id = id ? id : JOIN_NONE;
		}
	}
	return j->v2_id;
}

static void take_mem(struct cgp_cg *cg, const struct cgp_cgroup_rec *r)
{
	cg->cur.mem_bytes = r->mem_bytes;
	cg->cur.mem_limit_bytes = r->mem_limit_bytes;
	cg->cur.oom_kills = r->oom_kills;
	cg->cur.flags |= CGP_REC_MEM | (r->flags & CGP_REC_MEM_V1);
}

static int read_v2(struct cgp_sampler *sp)
{
	ssize_t n = read_iter(sp, sp->bpf->iter_v2);
	const struct cgp_cgroup_rec *r;
	struct cgp_cg *cg;

	if (n < 0)
		return n;
	for (r = (void *)sp->buf; (char *)(r + 1) <= sp->buf + n; r++) {
		sp->stats.records++;
		cg = cg_get(sp, r->cgroup_id);
		if (!cg)
			continue;
		cg->cur = *r;
		cg->gen = sp->gen;
	}
	return 0;
}

static int read_mem_v1(struct cgp_sampler *sp)
{
	ssize_t n = read_iter(sp, sp->bpf->iter_mem);
	const struct cgp_cgroup_rec *r;
	struct cgp_cg *cg;
	uint64_t v2;

	if (n < 0)
		return n;
	sp->stats.mem_unjoined = 0;
	for (r = (void *)sp->buf; (char *)(r + 1) <= sp->buf + n; r++) {
		sp->stats.records++;
		if (!(r->flags & CGP_REC_MEM))
			continue;
		v2 = join_v2(sp, r->cgroup_id);
		cg = v2 == JOIN_NONE ? NULL : cgp_idmap_get(&sp->cgs, v2);
		if (!cg || cg->gen != sp->gen) {
			sp->stats.mem_unjoined++;
			continue;
		}
		take_mem(cg, r);
	}
	/* forget memory cgroups that are gone */
	for (size_t i = 0; i < sp->memjoin.cap; i++) {
		struct cgp_join *j = sp->memjoin.vals[i];

		if (sp->memjoin.keys[i] && j->gen != sp->gen)
			j->v2_id = 0; /* marked; deleted below, outside the walk */
	}
	for (size_t i = 0; i < sp->memjoin.cap;) {
		struct cgp_join *j = sp->memjoin.vals[i];

		if (sp->memjoin.keys[i] && j->v2_id == 0)
			free(cgp_idmap_del(&sp->memjoin, sp->memjoin.keys[i])); /* slot i may now hold another */
		else
			i++;
	}
	return 0;
}

static void to_sample(const struct cgp_cg *cg, double window_s, uint64_t now, struct cgp_sample *s)
{
	const struct cgp_cgroup_rec *r = &cg->cur;

	memset(s, 0, sizeof(*s));
	s->cgroup_id = cg->id;
	s->path = cg->path;
	s->ts_ns = now;
	s->window_s = window_s;
	s->cpu_ns_total = r->cpu_ns;
	s->cpu_ns_window = cg->has_prev && r->cpu_ns >= cg->prev_cpu_ns ? r->cpu_ns - cg->prev_cpu_ns : r->cpu_ns;
	s->cpu_cores = window_s > 0 ? (double)s->cpu_ns_window / (window_s * 1e9) : 0;
	s->voluntary_switches = r->voluntary_switches;
	s->involuntary_switches = r->involuntary_switches;
	for (int i = 0; i < CGP_RUNQ_SLOTS; i++) {
		uint64_t prev = cg->has_prev ? cg->prev_runq[i] : 0;

		s->runq_hist_window[i] = r->runq_waits[i] >= prev ? r->runq_waits[i] - prev : r->runq_waits[i];
		s->runq_waits_window += s->runq_hist_window[i];
	}
	s->runq_p50_us = cgp_runq_quantile_us(s->runq_hist_window, CGP_RUNQ_SLOTS, 0.50);
	s->runq_p99_us = cgp_runq_quantile_us(s->runq_hist_window, CGP_RUNQ_SLOTS, 0.99);
	s->has_mem = r->flags & CGP_REC_MEM;
	s->mem_bytes = r->mem_bytes;
	s->mem_limit_bytes = r->mem_limit_bytes;
	s->oom_kills = r->oom_kills;
	s->oom_kills_window = cg->has_prev && r->oom_kills >= cg->prev_oom_kills ? r->oom_kills - cg->prev_oom_kills : 0;
	s->reclaim_ns_total = r->reclaim_ns;
	s->reclaims_total = r->reclaims;
}

static void read_drops(struct cgp_sampler *sp)
{
	int fd = bpf_map__fd(sp->bpf->skel->maps.drops);
	uint64_t v[sp->bpf->nr_cpus];

	for (__u32 k = 0; k < CGP_DROP_MAX && k < 4; k++) {
		sp->stats.drops[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v) == 0)
			for (int c = 0; c < sp->bpf->nr_cpus; c++)
				sp->stats.drops[k] += v[c];
	}
}

int cgp_sampler_sweep(struct cgp_sampler *sp, cgp_sample_cb emit, cgp_gone_cb gone, void *ctx)
{
	uint64_t now_mono = mono_ns(), now = wall_ns();
	double window_s = sp->last_mono_ns ? (double)(now_mono - sp->last_mono_ns) / 1e9 : 0;
	struct cgp_sample s;
	int err;

	sp->gen++;
	sp->stats.records = 0;
	err = read_v2(sp);
	if (!err && sp->bpf->iter_mem)
		err = read_mem_v1(sp);
	if (err) {
		cgp_err("reading the cgroup iterator: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < sp->cgs.cap; i++) {
		struct cgp_cg *cg = sp->cgs.vals[i];

		if (!sp->cgs.keys[i])
			continue;
		if (cg->gen != sp->gen) /* not in the tree any more: forgotten below, outside this walk */
			continue;
		if (emit) {
			to_sample(cg, window_s, now, &s);
			emit(&s, ctx);
		}
		cg->prev_cpu_ns = cg->cur.cpu_ns;
		cg->prev_oom_kills = cg->cur.oom_kills;
		memcpy(cg->prev_runq, cg->cur.runq_waits, sizeof(cg->prev_runq));
		cg->has_prev = 1;
	}
	for (size_t i = 0; i < sp->cgs.cap;) {
		struct cgp_cg *cg = sp->cgs.vals[i];

		if (!sp->cgs.keys[i] || cg->gen == sp->gen) {
			i++;
			continue;
		}
		if (gone)
			gone(cg->id, cg->path, ctx);
		cg_free(cgp_idmap_del(&sp->cgs, cg->id)); /* slot i may now hold another entry: look again */
		sp->stats.cgroups_gone++;
	}
	sp->stats.cgroups = sp->cgs.len;
	sp->stats.sweeps++;
	sp->last_mono_ns = now_mono;
	read_drops(sp);
	return 0;
}
