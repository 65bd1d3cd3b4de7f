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
#include <sys/sysinfo.h>
#include "lib/clock.h"
#include "lib/log.h"
#include "playbook/playbook.h"
#include "collect/runq_hist.h"
#include "collect/sampler.h"

#define JOIN_NONE	  UINT64_MAX
#define JOIN_RETRY_SWEEPS 8 /* a v1 memory cgroup without a v2 twin is looked up again this often */
/* A v1 cpu hierarchy (hybrid hosts) is walked for CPU limits only this often, and when cgroups appeared since:
 * limits change rarely, and that walk would otherwise be a third of every sweep. */
#define CPU_LIMIT_SWEEPS 10

struct cgp_cg {
	uint64_t id;
	const struct cgp_cgname *name; /* owned by sp->names; valid until its tombstone expires */
	uint32_t gen;
	int has_prev;
	struct cgp_cgroup_rec cur;
	double cpu_limit_cores; /* CFS quota / period, 0 = none; kept across sweeps that do not read limits */
	uint64_t prev_cpu_ns;
	uint64_t prev_oom_kills;
	uint32_t prev_runq[CGP_RUNQ_SLOTS];
};

struct cgp_join {
	uint64_t v2_id; /* JOIN_NONE: no v2 twin */
	uint32_t gen;	/* last sweep that saw it */
	uint32_t looked_up;
};

static int collect(void *ctx, void *data, size_t size)
{
	struct cgp_sampler *sp = ctx;

	if (size != sizeof(struct cgp_cgroup_rec))
		return 0;
	if (sp->cap - sp->len < size) {
		char *nb = realloc(sp->buf, sp->cap * 2);

		if (!nb)
			return -ENOMEM;
		sp->buf = nb;
		sp->cap *= 2;
	}
	memcpy(sp->buf + sp->len, data, size);
	sp->len += size;
	return 0;
}

int cgp_sampler_init(struct cgp_sampler *sp, struct cgp_bpf *bpf)
{
	memset(sp, 0, sizeof(*sp));
	sp->bpf = bpf;
	sp->cap = 64 * sizeof(struct cgp_cgroup_rec);
	sp->buf = malloc(sp->cap);
	struct sysinfo si;

	sp->node_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	sp->node_mem_bytes = sysinfo(&si) ? 0 : (uint64_t)si.totalram * si.mem_unit;
	sp->rb = ring_buffer__new(bpf_map__fd(bpf->skel->maps.sweep_records), collect, sp, NULL);
	if (!sp->rb || !sp->buf || cgp_idmap_init(&sp->cgs, 256) || cgp_idmap_init(&sp->memjoin, 256) ||
	    cgp_idmap_init(&sp->cpujoin, 64) || cgp_names_init(&sp->names, &bpf->fs, NULL, CGP_TOMBSTONE_GRACE_NS)) {
		cgp_sampler_free(sp);
		return -ENOMEM;
	}
	return 0;
}

int cgp_sampler_set_roots(struct cgp_sampler *sp, const struct cgp_meta_roots *roots)
{
	cgp_names_free(&sp->names);
	return cgp_names_init(&sp->names, &sp->bpf->fs, roots, CGP_TOMBSTONE_GRACE_NS);
}

static void cg_free(struct cgp_cg *cg)
{
	free(cg);
}

void cgp_sampler_free(struct cgp_sampler *sp)
{
	for (size_t i = 0; i < sp->cgs.cap; i++)
		if (sp->cgs.keys[i])
			cg_free(sp->cgs.vals[i]);
	for (struct cgp_idmap *j = &sp->memjoin; j; j = j == &sp->memjoin ? &sp->cpujoin : NULL) {
		for (size_t i = 0; i < j->cap; i++)
			if (j->keys[i])
				free(j->vals[i]);
		cgp_idmap_free(j);
	}
	cgp_idmap_free(&sp->cgs);
	if (sp->names.meta)
		cgp_names_free(&sp->names);
	ring_buffer__free(sp->rb);
	sp->rb = NULL;
	free(sp->buf);
	sp->buf = NULL;
}

/* Runs one iterator walk (one read session: the walk happens inside the first read()) and drains what it
 * wrote into sp->buf; returns the number of bytes or -errno. */
static ssize_t read_iter(struct cgp_sampler *sp, struct bpf_link *link)
{
	char scratch[64];
	ssize_t n;
	int fd = bpf_iter_create(bpf_link__fd(link)), err;

	if (fd < 0)
		return -errno;
	while ((n = read(fd, scratch, sizeof(scratch))) > 0 || (n < 0 && errno == EINTR))
		;
	err = n < 0 ? -errno : 0;
	close(fd);
	sp->len = 0;
	n = ring_buffer__consume(sp->rb);
	if (err)
		return err;
	return n < 0 ? n : (ssize_t)sp->len;
}

static struct cgp_cg *cg_get(struct cgp_sampler *sp, uint64_t id, uint64_t now)
{
	struct cgp_cg *cg = cgp_idmap_get(&sp->cgs, id);
	const struct cgp_cgname *name;

	if (cg)
		return cg;
	name = cgp_names_get(&sp->names, id, now);
	if (!name || name->removed_ns) {
		sp->stats.path_failures++; /* removed between the iterator and now: next sweep won't see it */
		return NULL;
	}
	cg = calloc(1, sizeof(*cg));
	if (!cg || cgp_idmap_put(&sp->cgs, id, cg)) {
		free(cg);
		return NULL;
	}
	cg->id = id;
	cg->name = name;
	sp->cgs_added++;
	return cg;
}

bool cgp_sampler_limits(struct cgp_sampler *sp, uint64_t cgroup_id, struct cgp_limits *lim, uint64_t *mem_limit)
{
	struct cgp_cg *cg = cgp_idmap_get(&sp->cgs, cgroup_id);

	memset(lim, 0, sizeof(*lim));
	lim->node_cpus = sp->node_cpus;
	lim->node_mem_bytes = sp->node_mem_bytes;
	*mem_limit = 0;
	if (!cg) { /* never swept (it lived less than an interval): its name still says if it is a container */
		const struct cgp_cgname *n = cgp_names_get(&sp->names, cgroup_id, cgp_wall_ns());

		lim->is_container = n && n->ref.kind == CGP_CPATH_CONTAINER;
		return false;
	}
	lim->cpu_limit_cores = cg->cpu_limit_cores;
	lim->is_container = cg->name->ref.kind == CGP_CPATH_CONTAINER;
	*mem_limit = cg->cur.mem_limit_bytes;
	return true;
}

const struct cgp_cgname *cgp_sampler_name(struct cgp_sampler *sp, uint64_t cgroup_id)
{
	return cgp_names_get(&sp->names, cgroup_id, cgp_wall_ns());
}

const struct cgp_cgname *cgp_sampler_name_fresh(struct cgp_sampler *sp, uint64_t cgroup_id)
{
	return cgp_names_get_fresh(&sp->names, cgroup_id, cgp_wall_ns());
}

void cgp_sampler_cgroup_event(struct cgp_sampler *sp, const struct cgp_cgroup_event *e)
{
	char path[CGP_PATH_LEN];

	memcpy(path, e->path, sizeof(path));
	path[sizeof(path) - 1] = 0;
	if (e->kind == CGP_CGROUP_MKDIR)
		cgp_names_mkdir(&sp->names, e->cgroup_id, path, cgp_wall_ns());
	else if (e->kind == CGP_CGROUP_RMDIR)
		cgp_names_rmdir(&sp->names, e->cgroup_id, cgp_wall_ns());
}

/* Hybrid hosts: the memory (and cpu) controllers live on v1 hierarchies whose cgroups have ids of their own.
 * Runtimes and systemd create the same path in every hierarchy, so a v1 cgroup is joined to the cgroup v2
 * cgroup of the same path (resolved once per v1 cgroup, then cached until it goes). */
struct v1h {
	struct cgp_idmap *join;
	int fd;
	const char *mount;
};

static uint64_t join_v2(struct cgp_sampler *sp, const struct v1h *h, uint64_t v1_id)
{
	struct cgp_join *j = cgp_idmap_get(h->join, v1_id);
	char path[4096];

	if (!j) {
		j = calloc(1, sizeof(*j));
		if (!j || cgp_idmap_put(h->join, v1_id, j)) {
			free(j);
			return JOIN_NONE;
		}
		j->v2_id = JOIN_NONE;
	}
	j->gen = sp->gen;
	if (j->v2_id == JOIN_NONE && (!j->looked_up || sp->gen - j->looked_up >= JOIN_RETRY_SWEEPS)) {
		j->looked_up = sp->gen;
		if (!cgp_cgroup_path(h->fd, h->mount, v1_id, path, sizeof(path))) {
			uint64_t id = cgp_cgroup_id(sp->bpf->fs.v2_mount, path);

			j->v2_id = id ? id : JOIN_NONE;
		}
	}
	return j->v2_id;
}

static double cpu_limit(const struct cgp_cgroup_rec *r)
{
	return r->cpu_quota_us && r->cpu_period_us ? (double)r->cpu_quota_us / (double)r->cpu_period_us : 0;
}

static void take_v1(struct cgp_cg *cg, const struct cgp_cgroup_rec *r)
{
	if (r->flags & CGP_REC_MEM) {
		cg->cur.mem_bytes = r->mem_bytes;
		cg->cur.mem_limit_bytes = r->mem_limit_bytes;
		cg->cur.oom_kills = r->oom_kills;
		cg->cur.flags |= CGP_REC_MEM | (r->flags & CGP_REC_MEM_V1);
	}
	if (r->flags & CGP_REC_CPU_MAX)
		cg->cpu_limit_cores = cpu_limit(r);
}

static int read_v2(struct cgp_sampler *sp, uint64_t now)
{
	ssize_t n = read_iter(sp, sp->bpf->iter_v2);
	const struct cgp_cgroup_rec *r;
	struct cgp_cg *cg;

	if (n < 0)
		return n;
	for (r = (void *)sp->buf; (char *)(r + 1) <= sp->buf + n; r++) {
		sp->stats.records++;
		cg = cg_get(sp, r->cgroup_id, now);
		if (!cg)
			continue;
		cg->cur = *r;
		cg->gen = sp->gen;
		if (r->flags & CGP_REC_CPU_MAX) /* pure v2: the limit comes with every record */
			cg->cpu_limit_cores = cpu_limit(r);
	}
	return 0;
}

static int read_v1(struct cgp_sampler *sp, struct bpf_link *link, const struct v1h *h)
{
	ssize_t n = read_iter(sp, link);
	const struct cgp_cgroup_rec *r;
	struct cgp_cg *cg;
	uint64_t v2;

	if (n < 0)
		return n;
	for (r = (void *)sp->buf; (char *)(r + 1) <= sp->buf + n; r++) {
		sp->stats.records++;
		if (!(r->flags & (CGP_REC_MEM | CGP_REC_CPU_MAX)))
			continue;
		v2 = join_v2(sp, h, r->cgroup_id);
		cg = v2 == JOIN_NONE ? NULL : cgp_idmap_get(&sp->cgs, v2);
		if (!cg || cg->gen != sp->gen) {
			sp->stats.mem_unjoined++;
			continue;
		}
		take_v1(cg, r);
	}
	/* forget v1 cgroups that are gone: mark in the walk, delete after it */
	for (size_t i = 0; i < h->join->cap; i++) {
		struct cgp_join *j = h->join->vals[i];

		if (h->join->keys[i] && j->gen != sp->gen)
			j->v2_id = 0;
	}
	for (size_t i = 0; i < h->join->cap;) {
		struct cgp_join *j = h->join->vals[i];

		if (h->join->keys[i] && j->v2_id == 0)
			free(cgp_idmap_del(h->join, h->join->keys[i])); /* slot i may now hold another */
		else
			i++;
	}
	return 0;
}

static void to_sample(const struct cgp_sampler *sp, const struct cgp_cg *cg, double window_s, uint64_t now,
		      struct cgp_sample *s)
{
	const struct cgp_cgroup_rec *r = &cg->cur;
	struct cgp_limits lim = {.node_cpus = sp->node_cpus, .node_mem_bytes = sp->node_mem_bytes};
	struct cgp_measure m;

	memset(s, 0, sizeof(*s));
	s->cgroup_id = cg->id;
	s->path = cg->name->path;
	s->ts_ns = now;
	s->window_s = window_s;
	s->cpu_ns_total = r->cpu_ns;
	s->cpu_ns_window = cg->has_prev && r->cpu_ns >= cg->prev_cpu_ns ? r->cpu_ns - cg->prev_cpu_ns : r->cpu_ns;
	s->cpu_cores = window_s > 0 ? (double)s->cpu_ns_window / (window_s * 1e9) : 0;
	s->voluntary_switches = r->voluntary_switches;
	s->involuntary_switches = r->involuntary_switches;
	for (int i = 0; i < CGP_RUNQ_SLOTS; i++) {
		/* 32-bit counts from the kernel: the difference modulo 2^32 is right across a wrap */
		s->runq_hist_window[i] = (uint32_t)(r->runq_waits[i] - (cg->has_prev ? cg->prev_runq[i] : 0));
		s->runq_waits_window += s->runq_hist_window[i];
	}
	s->runq_p50_us = cgp_runq_quantile_us(s->runq_hist_window, CGP_RUNQ_SLOTS, 0.50);
	s->runq_p99_us = cgp_runq_quantile_us(s->runq_hist_window, CGP_RUNQ_SLOTS, 0.99);
	s->has_mem = r->flags & CGP_REC_MEM;
	s->mem_bytes = r->mem_bytes;
	s->mem_limit_bytes = r->mem_limit_bytes;
	s->oom_kills = r->oom_kills;
	s->oom_kills_window =
	    cg->has_prev && r->oom_kills >= cg->prev_oom_kills ? r->oom_kills - cg->prev_oom_kills : 0;
	s->reclaim_ns_total = r->reclaim_ns;
	s->reclaims_total = r->reclaims;
	s->is_container = cg->name->ref.kind == CGP_CPATH_CONTAINER;
	s->container_id = s->is_container ? cg->name->ref.id : "";
	s->runtime = s->is_container ? cg->name->runtime : "";
	s->pod = cg->name->pod;
	s->pod_namespace = cg->name->pod_namespace;
	s->container_name = cg->name->container;
	s->image = cg->name->image;
	s->pod_uid = cg->name->ref.pod_uid;
	s->qos_class = cgp_qos_name(cg->name->ref.qos);
	s->cpu_limit_cores = cg->cpu_limit_cores;
	/* the playbook's arithmetic, so that what is printed is what rules compare */
	lim.cpu_limit_cores = s->cpu_limit_cores;
	if (cgp_measure(CGP_METRIC_CPU_PCT, s, &lim, &m)) {
		s->cpu_pct = m.value;
		s->cpu_pct_of_node = m.limit_kind == CGP_LIMIT_NODE;
	}
	if (s->has_mem && cgp_measure(CGP_METRIC_MEM_PCT, s, &lim, &m)) {
		s->mem_pct = m.value;
		s->mem_pct_of_node = m.limit_kind == CGP_LIMIT_NODE;
	}
}

static void read_drops(struct cgp_sampler *sp)
{
	int fd = bpf_map__fd(sp->bpf->skel->maps.drops);
	uint64_t v[sp->bpf->nr_cpus];

	for (__u32 k = 0; k < CGP_DROP_MAX; k++) {
		sp->stats.drops[k] = 0;
		if (bpf_map_lookup_elem(fd, &k, v) == 0)
			for (int c = 0; c < sp->bpf->nr_cpus; c++)
				sp->stats.drops[k] += v[c];
	}
}

int cgp_sampler_sweep(struct cgp_sampler *sp, cgp_sample_cb emit, cgp_gone_cb gone, void *ctx)
{
	uint64_t now_mono = cgp_mono_ns(), now = cgp_wall_ns();
	double window_s = sp->last_mono_ns ? (double)(now_mono - sp->last_mono_ns) / 1e9 : 0;
	struct cgp_sample s;
	int err;

	if (!sp->walked) { /* the one walk of the tree; mkdir/rmdir events keep it current from then on */
		sp->walked = true;
		if (cgp_names_walk(&sp->names, now))
			cgp_info("walking %s failed: paths will be found by id", sp->bpf->fs.v2_mount);
	}
	sp->gen++;
	sp->stats.records = 0;
	struct v1h mem = {&sp->memjoin, sp->bpf->fs.mem_fd, sp->bpf->fs.mem_mount};
	struct v1h cpu = {&sp->cpujoin, sp->bpf->fs.cpu_fd, sp->bpf->fs.cpu_mount};

	sp->stats.mem_unjoined = 0;
	err = read_v2(sp, now);
	if (!err && sp->bpf->iter_mem)
		err = read_v1(sp, sp->bpf->iter_mem, &mem);
	if (!err && sp->bpf->iter_cpu && (sp->cgs_added || sp->gen - sp->cpu_walked_gen >= CPU_LIMIT_SWEEPS)) {
		err = read_v1(sp, sp->bpf->iter_cpu, &cpu);
		sp->cpu_walked_gen = sp->gen;
		sp->cgs_added = 0;
	}
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
		if (!cg->name->named) /* names are read late: the runtime may not have written its state yet */
			cgp_names_get(&sp->names, cg->id, now);
		if (emit) {
			to_sample(sp, cg, window_s, now, &s);
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
			gone(cg->id, cg->name->path, ctx);
		cgp_names_rmdir(&sp->names, cg->id, now); /* a tombstone, if the rmdir event did not come first */
		cg_free(cgp_idmap_del(&sp->cgs, cg->id)); /* slot i may now hold another entry: look again */
		sp->stats.cgroups_gone++;
	}
	sp->stats.cgroups = sp->cgs.len;
	cgp_names_expire(&sp->names, now);
	sp->stats.sweeps++;
	sp->last_mono_ns = now_mono;
	read_drops(sp);
	return 0;
}
