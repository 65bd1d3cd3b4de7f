// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgpulse.skel.h"
#include "collect/pressure.h"
#include "collect/sampler.h"
#include "collect/sweep_rec.h"
#include "collect/window.h"
#include "lib/clock.h"
#include "lib/log.h"

#define JOIN_NONE	  UINT64_MAX
#define JOIN_RETRY_SWEEPS 8  /* a v1 memory cgroup without a v2 twin is looked up again this often */
#define BIRTH_SWEEPS	  30 /* a new cgroup's v1 twins are looked for this many sweeps (runtimes make them at once) */
#define REWALK_SWEEPS	  30 /* a hierarchy is walked again at most this often, for v1 cgroups no birth named */

struct cgp_cg {
	uint32_t gen;  /* last sweep that saw it */
	bool has_prev; /* prev holds the totals of the sweep before gen */
	struct cgp_cgroup_rec cur;
	struct cgp_totals prev;
	double cpu_limit_cores; /* CFS quota / period, 0 = none; kept across sweeps that do not read limits */
	/* the CFS bandwidth figures of its v1 cpu twin (hybrid hosts), kept across the sweeps whose cpu walk leaves
	 * out cgroups without a quota (their figures cannot move) */
	bool has_v1_cpu;
	uint64_t v1_periods, v1_throttled_periods, v1_throttled_ns;
	uint64_t v1_quota_us, v1_period_us, v1_shares; /* and its settings (cpu.cfs_quota_us, _period_us, shares) */
	struct cgp_join *twin[2]; /* its v1 memory and cpu cgroups' joins that point here (hybrid hosts) */
};

struct cgp_join {
	uint64_t v2_id; /* JOIN_NONE: no v2 twin */
	uint32_t gen;	/* last sweep that saw it */
	uint32_t looked_up;
	char *path;  /* relative to the hierarchy, kept while it has no v2 twin; NULL: not known (yet) */
	bool walked; /* a walk of the hierarchy did not find it either: no use walking for it again */
	/* the v2 twin's state, once found: each sweep's v1 record then costs one probe (of the join map), not two.
	 * Linked both ways (cgp_cg.twin), and unlinked when either side is freed. */
	struct cgp_cg *cg;
};

/* A cgroup v2 directory made since start (the kernel's mkdir record): its v1 twins, made by the runtime at the
 * same path, are joined by that path, with no walk. */
struct cgp_birth {
	uint64_t v2_id;
	uint32_t gen;  /* the sweep it was first looked for in */
	uint8_t found; /* bit 0: memory hierarchy, bit 1: cpu hierarchy */
	char path[];
};

static void join_free(void *p)
{
	struct cgp_join *j = p;

	if (!j)
		return;
	for (int t = 0; j->cg && t < 2; t++)
		if (j->cg->twin[t] == j)
			j->cg->twin[t] = NULL;
	free(j->path);
	free(j);
}

static void cg_free(void *p)
{
	struct cgp_cg *cg = p;

	for (int t = 0; cg && t < 2; t++)
		if (cg->twin[t])
			cg->twin[t]->cg = NULL;
	free(cg);
}

/* The sampler's lookups of per-cgroup state, counted (stats.probes): at most one per record in steady state. */
static void *probe(struct cgp_sampler *sp, const struct cgp_idmap *m, uint64_t id)
{
	sp->stats.probes++;
	return cgp_idmap_get(m, id);
}

/* Each record of the walk running now goes straight to the per-cgroup state (sp->take): no hierarchy's records
 * are gathered first (that buffer was as large as the largest hierarchy, ~0.4 MB at 1,000 cgroups). The ring's
 * bytes go on as they are: a cgroup v2 record is unpacked once, into its cgroup's store, not into a copy first. */
static int collect(void *ctx, const void *data, size_t size)
{
	struct cgp_sampler *sp = ctx;

	if (!cgp_rec_valid(data, size)) {
		sp->stats.bad_records++;
		return 0;
	}
	sp->stats.records++;
	sp->stats.record_bytes += size;
	return sp->take(sp, data, size, sp->take_ctx);
}

/* A record as unpacked from the ring, with what the kernel side cannot tell. */
static void unpack(const struct cgp_sampler *sp, const void *data, size_t size, struct cgp_cgroup_rec *r)
{
	cgp_rec_unpack(data, size, r);
	if (sp->swap_accounted == 1 && (r->flags & CGP_REC_MEM))
		r->flags |= CGP_REC_SWAP; /* the kernel side cannot tell an unaccounted swap's 0 from a real one */
}

int cgp_sampler_init(struct cgp_sampler *sp, struct cgp_bpf *bpf)
{
	memset(sp, 0, sizeof(*sp));
	sp->bpf = bpf;
	sp->swap_accounted = -1;
	cgp_node_read(&sp->node);
	if (bpf) { /* without: only the record-taking half runs (tests feed records themselves) */
		int err = cgp_ringbuf_open(&sp->rb, bpf_map__fd(bpf->skel->maps.sweep_records), collect, sp);

		if (err)
			return err;
	}
	if (cgp_idmap_init(&sp->cgs, 256) || cgp_idmap_init(&sp->memjoin, 256) || cgp_idmap_init(&sp->cpujoin, 64)) {
		cgp_sampler_free(sp);
		return -ENOMEM;
	}
	return 0;
}

void cgp_sampler_free(struct cgp_sampler *sp)
{
	cgp_idmap_free_all(&sp->memjoin, join_free); /* before the cgroups they may point to */
	cgp_idmap_free_all(&sp->cpujoin, join_free);
	cgp_idmap_free_all(&sp->cgs, cg_free);
	for (size_t i = 0; i < cgp_buf_size(&sp->births) / sizeof(void *); i++)
		free(((void **)cgp_buf_head(&sp->births))[i]);
	cgp_buf_free(&sp->births);
	cgp_ringbuf_close(&sp->rb);
	cgp_buf_free(&sp->gone_ids);
	sp->gone = NULL;
	sp->n_gone = 0;
}

/* An OOM kill during the sweep is handed on now, not after it (sampler.h): between the sweep's steps. */
static void read_rings(const struct cgp_sampler *sp)
{
	if (sp->rings)
		cgp_rings_consume(sp->rings);
}

/* One iterator session: the walk happens inside the first read(). 0 or -errno. */
static int run_iter(struct bpf_link *link)
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
	return err;
}

/* Runs one hierarchy's walk and hands each record it wrote to take, in as many passes as the ring needs: a pass
 * that fills it stops, and the next goes on from there (bpf/sweep_pass.bpf.h). 0 or -errno. */
static int read_iter(struct cgp_sampler *sp, struct bpf_link *link, cgp_take_fn take, const void *take_ctx)
{
	struct cgpulse_bpf__bss *bss = sp->bpf->skel->bss;
	int64_t n;
	int err;

	sp->take = take;
	sp->take_ctx = take_ctx;
	bss->sweep_skip = false;
	bss->sweep_place_level = 0;
	for (;;) {
		bss->sweep_stopped = false;
		bss->sweep_written = 0;
		err = run_iter(link);
		n = cgp_ringbuf_consume(&sp->rb);
		sp->stats.passes++;
		read_rings(sp);
		if (err)
			return err;
		if (n < 0)
			return (int)n;
		if (!bss->sweep_stopped)
			break;
		bss->sweep_skip = true;
		if (sp->between_passes)
			sp->between_passes(sp, link, sp->between_ctx);
	}
	return 0;
}

/* A v1 cpu hierarchy is walked every sweep while some cgroup has a CPU quota, for throttling, and then writes
 * only those; every cgroup comes this often (and when cgroups appeared), for the limits and the figures that
 * cannot move without a quota. A host with no quota at all walks it only then. */
#define CPU_ALL_SWEEPS 10

/* Hybrid hosts: the memory (and cpu) controllers live on v1 hierarchies whose cgroups have ids of their own.
 * Runtimes and systemd create the same path in every hierarchy, so a v1 cgroup is joined to the cgroup v2
 * cgroup of the same path: paths come from one walk of each v1 hierarchy at start, then from the kernel's mkdir
 * records of new v2 cgroups (their v1 twins are looked up by that path), and a v1 cgroup neither named is found
 * by walking its hierarchy again (at most every REWALK_SWEEPS). The pair is cached until the v1 cgroup goes. */
struct v1h {
	struct cgp_idmap *join;
	int fd;
	const char *mount;
	uint8_t bit;	      /* in cgp_birth.found; bit >> 1 indexes cgp_cg.twin */
	uint32_t *walked_gen; /* when it was last walked (0: never) */
	bool *need_walk;      /* a v1 cgroup of unknown path was met */
};

static struct cgp_join *join_get(struct cgp_sampler *sp, struct cgp_idmap *join, uint64_t v1_id)
{
	struct cgp_join *j = probe(sp, join, v1_id);

	if (j)
		return j;
	j = calloc(1, sizeof(*j));
	if (!j || cgp_idmap_put(join, v1_id, j)) {
		free(j);
		return NULL;
	}
	j->v2_id = JOIN_NONE;
	j->gen = sp->gen;
	return j;
}

/* rel has a v1 cgroup of this hierarchy: joined to the v2 cgroup at the same path, or remembered without one. */
static void join_path(struct cgp_sampler *sp, struct cgp_join *j, const char *rel)
{
	uint64_t id;

	if (!j || j->v2_id != JOIN_NONE)
		return;
	id = cgp_cgroup_id(sp->bpf->fs.v2_mount, rel);
	j->looked_up = sp->gen;
	if (id) {
		j->v2_id = id;
		free(j->path);
		j->path = NULL;
	} else if (!j->path) {
		j->path = strdup(rel); /* no memory: it stays unjoined, and counted so */
	}
}

struct walk_ctx {
	struct cgp_sampler *sp;
	const struct v1h *h;
};

static void on_v1_dir(void *ctx, uint64_t id, const char *rel)
{
	struct walk_ctx *w = ctx;

	join_path(w->sp, join_get(w->sp, w->h->join, id), rel);
}

static void walk_v1(struct cgp_sampler *sp, const struct v1h *h)
{
	struct walk_ctx w = {sp, h};
	int err;

	*h->walked_gen = sp->gen;
	*h->need_walk = false;
	err = cgp_cgroup_walk(h->fd, on_v1_dir, &w);
	if (err)
		cgp_debug("walking %s: %s", h->mount, strerror(-err));
	/* whoever is still without a path is not in this view of the hierarchy: no use walking for it again */
	for (size_t i = 0; i < h->join->cap; i++) {
		struct cgp_join *j = h->join->vals[i];

		if (h->join->keys[i] && !j->path && j->v2_id == JOIN_NONE)
			j->walked = true;
	}
	sp->stats.v1_walks++;
}

/* New v2 cgroups' twins in this hierarchy, looked up by path for a few sweeps. */
static void join_births(struct cgp_sampler *sp, const struct v1h *h)
{
	struct cgp_birth **b = (struct cgp_birth **)cgp_buf_head(&sp->births);
	size_t n = cgp_buf_size(&sp->births) / sizeof(*b);
	char p[PATH_MAX + 256];
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		struct cgp_join *j;

		if (b[i]->found & h->bit)
			continue;
		snprintf(p, sizeof(p), "%s%s", h->mount, b[i]->path);
		if (stat(p, &st))
			continue;
		b[i]->found |= h->bit;
		j = join_get(sp, h->join, st.st_ino);
		if (j && j->v2_id == JOIN_NONE) {
			j->v2_id = b[i]->v2_id;
			free(j->path);
			j->path = NULL;
		}
	}
}

/* The v2 twin's state of a v1 cgroup (NULL: none known, or not in this sweep). */
static struct cgp_cg *join_v2(struct cgp_sampler *sp, const struct v1h *h, uint64_t v1_id)
{
	struct cgp_join *j = join_get(sp, h->join, v1_id);
	struct cgp_cg *cg;
	int t = h->bit >> 1;

	if (!j)
		return NULL;
	j->gen = sp->gen;
	if (j->cg)
		return j->cg;
	if (j->v2_id == JOIN_NONE) {
		if (!j->path && !j->walked)
			*h->need_walk = true; /* made after the last walk, and no mkdir record named it */
		else if (j->path && sp->gen - j->looked_up >= JOIN_RETRY_SWEEPS)
			join_path(sp, j, j->path); /* its v2 twin may have come since */
		if (j->v2_id == JOIN_NONE)
			return NULL;
	}
	cg = probe(sp, &sp->cgs, j->v2_id);
	if (!cg)
		return NULL;
	if (cg->twin[t]) /* another v1 cgroup of the same path before (one gone and made again) */
		cg->twin[t]->cg = NULL;
	cg->twin[t] = j;
	j->cg = cg;
	return cg;
}

static double cpu_limit(const struct cgp_cgroup_rec *r)
{
	return r->cpu_quota_us && r->cpu_period_us ? (double)r->cpu_quota_us / (double)r->cpu_period_us : 0;
}

/* The v1 cpu twin's figures, as last read, into this sweep's record. */
static void with_v1_cpu(struct cgp_cg *cg)
{
	cg->cur.cpu_periods = cg->v1_periods;
	cg->cur.cpu_throttled_periods = cg->v1_throttled_periods;
	cg->cur.cpu_throttled_ns = cg->v1_throttled_ns;
	cg->cur.cpu_quota_us = cg->v1_quota_us;
	cg->cur.cpu_period_us = cg->v1_period_us;
	cg->cur.cpu_shares = cg->v1_shares;
	cg->cur.flags |= CGP_REC_CPU_MAX;
}

static void take_v1(struct cgp_cg *cg, const struct cgp_cgroup_rec *r)
{
	if (r->flags & CGP_REC_MEM) {
		cg->cur.mem_bytes = r->mem_bytes;
		cg->cur.mem_limit_bytes = r->mem_limit_bytes;
		cg->cur.oom_kills = r->oom_kills;
		cg->cur.mem_swap_bytes = r->mem_swap_bytes;
		memcpy(cg->cur.mem_events, r->mem_events, sizeof(cg->cur.mem_events));
		cg->cur.mem_anon_bytes = r->mem_anon_bytes;
		cg->cur.mem_file_bytes = r->mem_file_bytes;
		cg->cur.mem_inactive_file_bytes = r->mem_inactive_file_bytes;
		cg->cur.flags |= r->flags & (CGP_REC_MEM | CGP_REC_MEM_V1 | CGP_REC_MEM_STAT | CGP_REC_MEM_GROUP_KILL |
					     CGP_REC_SWAP);
	}
	if (r->flags & CGP_REC_CPU_MAX) {
		cg->cpu_limit_cores = cpu_limit(r);
		cg->has_v1_cpu = true;
		cg->v1_periods = r->cpu_periods;
		cg->v1_throttled_periods = r->cpu_throttled_periods;
		cg->v1_throttled_ns = r->cpu_throttled_ns;
		cg->v1_quota_us = r->cpu_quota_us;
		cg->v1_period_us = r->cpu_period_us;
		cg->v1_shares = r->cpu_shares;
		with_v1_cpu(cg);
	}
}

/* The cgroup's state, ready for this sweep's record: the last sweep's totals moved on into prev. NULL: out of
 * memory. */
static struct cgp_cg *cg_for(struct cgp_sampler *sp, uint64_t cgroup_id)
{
	struct cgp_cg *cg = probe(sp, &sp->cgs, cgroup_id);

	if (!cg) {
		cg = calloc(1, sizeof(*cg));
		if (!cg || cgp_idmap_put(&sp->cgs, cgroup_id, cg)) {
			free(cg);
			return NULL;
		}
		sp->cgs_added++;
	} else if (cg->gen != sp->gen) {
		/* the last sweep's totals (v1 memory figures included) are what this window starts from */
		cgp_totals_of(&cg->cur, &cg->prev);
		cg->has_prev = true;
	} else {
		sp->stats.dup_records++; /* a pass wrote it again (bpf/sweep_pass.bpf.h): the later one counts */
	}
	return cg;
}

/* cg->cur holds this sweep's record now. */
static void took_v2(struct cgp_sampler *sp, struct cgp_cg *cg)
{
	cg->gen = sp->gen;
	if (cg->has_v1_cpu && !(cg->cur.flags & CGP_REC_CPU_MAX)) /* a walk that leaves it out keeps these */
		with_v1_cpu(cg);
	if (cg->cur.flags & CGP_REC_CPU_MAX) /* pure v2: the limit comes with every record */
		cg->cpu_limit_cores = cpu_limit(&cg->cur);
}

static int take_v2(struct cgp_sampler *sp, const struct cgp_cgroup_rec *r)
{
	struct cgp_cg *cg = cg_for(sp, r->cgroup_id);

	if (!cg)
		return -ENOMEM;
	cg->cur = *r;
	took_v2(sp, cg);
	return 0;
}

int cgp_sampler_take_v2(struct cgp_sampler *sp, const struct cgp_cgroup_rec *recs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int err = take_v2(sp, &recs[i]);

		if (err)
			return err;
	}
	return 0;
}

bool cgp_sampler_seen(const struct cgp_sampler *sp, uint64_t cgroup_id)
{
	const struct cgp_cg *cg = cgp_idmap_get(&sp->cgs, cgroup_id);

	return cg && cg->gen == sp->gen;
}

/* The root cgroup's pressure is the whole system's, which the kernel keeps apart: from /proc/pressure. */
static void root_pressure(struct cgp_sampler *sp, struct cgp_cgroup_rec *r)
{
	uint64_t psi[CGP_PSI_MAX];
	int err = cgp_pressure_read_system(psi);

	if (!err) {
		for (int k = 0; k < CGP_PSI_MAX; k++)
			r->psi_ns[k] = psi[k];
		r->flags |= CGP_REC_PSI;
	} else if (err != -ENOENT && err != -EOPNOTSUPP && !sp->stats.pressure_failures++)
		cgp_info("reading /proc/pressure: %s (the root cgroup's pressure is left out)", strerror(-err));
}

/* The ring's record unpacked straight into its cgroup's store: one write of it, and no copy (cgp_totals_of has
 * read the last sweep's record there first). */
static int take_v2_rec(struct cgp_sampler *sp, const void *data, size_t size, const void *ctx)
{
	uint64_t id;
	struct cgp_cg *cg;

	(void)ctx;
	memcpy(&id, data, sizeof(id)); /* the head's cgroup_id */
	cg = cg_for(sp, id);
	if (!cg)
		return -ENOMEM;
	unpack(sp, data, size, &cg->cur);
	if (id == sp->bpf->fs.v2_root_id)
		root_pressure(sp, &cg->cur);
	took_v2(sp, cg);
	return 0;
}

static int read_v2(struct cgp_sampler *sp)
{
	return read_iter(sp, sp->bpf->iter_v2, take_v2_rec, NULL);
}

static int take_v1_rec(struct cgp_sampler *sp, const void *data, size_t size, const void *ctx)
{
	const struct v1h *h = ctx;
	struct cgp_cgroup_rec rec, *r = &rec;
	struct cgp_cg *cg;

	unpack(sp, data, size, r);
	if (!(r->flags & (CGP_REC_MEM | CGP_REC_CPU_MAX)))
		return 0;
	if (r->cpu_quota_us)
		sp->quotas++;
	cg = join_v2(sp, h, r->cgroup_id);
	if (!cg || cg->gen != sp->gen) {
		sp->stats.mem_unjoined++;
		return 0;
	}
	take_v1(cg, r);
	return 0;
}

/* all: the walk wrote every cgroup, so those it did not are gone (a cpu walk that leaves out cgroups without
 * a quota proves nothing of them). */
static int read_v1(struct cgp_sampler *sp, struct bpf_link *link, const struct v1h *h, bool all)
{
	int err;

	if (!*h->walked_gen || (*h->need_walk && sp->gen - *h->walked_gen >= REWALK_SWEEPS))
		walk_v1(sp, h);
	join_births(sp, h);
	err = read_iter(sp, link, take_v1_rec, h);
	if (err)
		return err;
	/* forget v1 cgroups that are gone (deleting moves a later entry into slot i: look at i again) */
	for (size_t i = 0; all && i < h->join->cap;) {
		struct cgp_join *j = h->join->vals[i];

		if (h->join->keys[i] && j->gen != sp->gen)
			join_free(cgp_idmap_del(h->join, h->join->keys[i]));
		else
			i++;
	}
	return 0;
}

/* Every drop counter in one syscall (a batch lookup of the per-CPU array); one lookup a counter where the kernel
 * has no batch lookup for it (from the first failure on). */
static void read_drops(struct cgp_sampler *sp)
{
	int fd = bpf_map__fd(sp->bpf->skel->maps.drops), nc = sp->bpf->nr_cpus;
	uint64_t v[CGP_DROP_MAX * nc];
	__u32 keys[CGP_DROP_MAX], out, n = CGP_DROP_MAX;
	bool batch = !sp->drops_no_batch;

	if (batch && bpf_map_lookup_batch(fd, NULL, &out, keys, v, &n, NULL) && (errno != ENOENT || n != CGP_DROP_MAX))
		batch = false, sp->drops_no_batch = true;
	for (__u32 k = 0; k < CGP_DROP_MAX; k++) {
		uint64_t *vk = v + (size_t)k * nc;

		sp->stats.drops[k] = 0;
		if (batch ? keys[k] == k : bpf_map_lookup_elem(fd, &k, vk) == 0)
			for (int c = 0; c < nc; c++)
				sp->stats.drops[k] += vk[c];
	}
}

/* Cgroups not in this sweep are gone: listed in sp->gone and forgotten. */
static int forget_gone(struct cgp_sampler *sp)
{
	cgp_buf_clear(&sp->gone_ids);
	sp->n_gone = 0;
	for (size_t i = 0; i < sp->cgs.cap;) {
		struct cgp_cg *cg = sp->cgs.vals[i];
		uint64_t id = sp->cgs.keys[i];

		if (!id || cg->gen == sp->gen) {
			i++;
			continue;
		}
		if (cgp_buf_append(&sp->gone_ids, &id, sizeof(id)))
			return -ENOMEM;
		cg_free(cgp_idmap_del(&sp->cgs, id)); /* slot i may now hold another entry: look again */
		sp->stats.cgroups_gone++;
	}
	sp->gone = (const uint64_t *)cgp_buf_head(&sp->gone_ids);
	sp->n_gone = cgp_buf_size(&sp->gone_ids) / sizeof(uint64_t);
	return 0;
}

void cgp_sampler_begin(struct cgp_sampler *sp, uint64_t now_mono_ns, uint64_t now_wall_ns)
{
	sp->now_ns = now_wall_ns;
	sp->window_s = sp->last_mono_ns ? (double)(now_mono_ns - sp->last_mono_ns) / 1e9 : 0;
	sp->last_mono_ns = now_mono_ns;
	sp->gen++;
	sp->stats.records = 0;
	sp->stats.record_bytes = 0;
	sp->stats.probes = 0;
	sp->stats.passes = 0;
	sp->stats.dup_records = 0;
	sp->stats.mem_unjoined = 0;
}

int cgp_sampler_end(struct cgp_sampler *sp)
{
	int err = forget_gone(sp);

	if (err)
		return err;
	sp->stats.cgroups = sp->cgs.len;
	sp->stats.sweeps++;
	return 0;
}

/* Births looked for long enough, or found in every v1 hierarchy, are let go. */
static void forget_births(struct cgp_sampler *sp)
{
	struct cgp_birth **b = (struct cgp_birth **)cgp_buf_head(&sp->births);
	size_t n = cgp_buf_size(&sp->births) / sizeof(*b), kept = 0;
	uint8_t all = (sp->bpf->iter_mem ? 1 : 0) | (sp->bpf->iter_cpu ? 2 : 0);

	for (size_t i = 0; i < n; i++) {
		if (!b[i]->gen)
			b[i]->gen = sp->gen;
		if ((b[i]->found & all) == all || sp->gen - b[i]->gen >= BIRTH_SWEEPS)
			free(b[i]);
		else
			b[kept++] = b[i];
	}
	sp->births.len = sp->births.off + kept * sizeof(*b);
}

/* memory.stat's figures (anon, file, inactive_file) are totals the kernel flushes lazily, about every 2 s: read
 * before a flush, a cgroup's inactive_file was seen larger than its whole usage. Flush them as a reader of the
 * root's memory.stat would, once per sweep. */
static void flush_mem_stats(struct cgp_sampler *sp)
{
	int err = cgp_cgroupfs_flush_mem_stats(&sp->bpf->fs);

	if (err && !sp->stats.mem_flush_failures++)
		cgp_info("flushing memory statistics (reading %s/memory.stat): %s; memory.stat figures may lag by up "
			 "to the kernel's own 2 s flush",
			 sp->bpf->fs.mem_mount, strerror(-err));
}

int cgp_sampler_sweep(struct cgp_sampler *sp)
{
	struct v1h mem = {&sp->memjoin,	       sp->bpf->fs.mem_fd, sp->bpf->fs.mem_mount, 1,
			  &sp->mem_walked_gen, &sp->mem_need_walk};
	struct v1h cpu = {&sp->cpujoin,	     sp->bpf->fs.cpu_fd, sp->bpf->fs.cpu_mount, 2,
			  &sp->cpu_walk_gen, &sp->cpu_need_walk};
	int err;

	/* first the time the tasks running now used since they were last charged, so the window holds it */
	cgp_charge_running(sp->bpf, &sp->stats.running);
	flush_mem_stats(sp);
	if (sp->bpf->iter_flush && run_iter(sp->bpf->iter_flush) && !sp->stats.cputime_flush_failures++)
		cgp_info("flushing the cgroups' CPU time statistics failed: user and system time may lag");
	if (sp->swap_accounted < 0)
		sp->swap_accounted = cgp_cgroupfs_swap_accounted(&sp->bpf->fs);
	read_rings(sp);
	cgp_sampler_begin(sp, cgp_mono_ns(), cgp_wall_ns());
	err = read_v2(sp);
	if (!err && sp->bpf->iter_mem)
		err = read_v1(sp, sp->bpf->iter_mem, &mem, true);
	/* throttling moves only under a quota: every sweep while some cgroup has one, everyone now and then */
	if (!err && sp->bpf->iter_cpu) {
		bool all = sp->cgs_added || sp->gen - sp->cpu_all_gen >= CPU_ALL_SWEEPS;

		if (all || sp->quotas) {
			sp->bpf->skel->data->iter_cpu_all = all;
			sp->quotas = 0;
			err = read_v1(sp, sp->bpf->iter_cpu, &cpu, all);
		}
		if (all) {
			sp->cpu_all_gen = sp->gen;
			sp->cgs_added = 0;
		}
	}
	if (!err)
		err = cgp_sampler_end(sp);
	forget_births(sp);
	if (err) {
		cgp_err("reading the cgroup iterator: %s", strerror(-err));
		return err;
	}
	read_drops(sp);
	return 0;
}

void cgp_sampler_cgroup_born(struct cgp_sampler *sp, uint64_t v2_id, const char *path)
{
	size_t n = strlen(path) + 1;
	struct cgp_birth *b;

	if (!sp->bpf || !(sp->bpf->iter_mem || sp->bpf->iter_cpu))
		return; /* pure v2: nothing to join */
	b = calloc(1, sizeof(*b) + n);
	if (!b)
		return; /* found by the next walk instead */
	b->v2_id = v2_id;
	memcpy(b->path, path, n);
	if (cgp_buf_append(&sp->births, &b, sizeof(b)))
		free(b);
}

bool cgp_sampler_next(const struct cgp_sampler *sp, size_t *it, struct cgp_sample *out)
{
	for (; *it < sp->cgs.cap; (*it)++) {
		const struct cgp_cg *cg = sp->cgs.vals[*it];

		if (*it % CGP_SAMPLER_RINGS_EVERY == CGP_SAMPLER_RINGS_EVERY - 1)
			read_rings(sp);
		if (!sp->cgs.keys[*it] || cg->gen != sp->gen)
			continue;
		cgp_window_sample(out, sp->cgs.keys[*it], &cg->cur, cg->has_prev ? &cg->prev : NULL,
				  cg->cpu_limit_cores, sp->window_s, sp->now_ns, &sp->node);
		(*it)++;
		return true;
	}
	return false;
}
