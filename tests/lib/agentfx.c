// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agentfx.h"
#include "lib/clock.h"

static void on_cgroup(const struct cgp_cgroup_change *c, void *ctx)
{
	struct agentfx *fx = ctx;

	if (c->kind == CGP_CGROUP_MKDIR) {
		cgp_names_mkdir(&fx->names, c->cgroup_id, c->path, c->ts_ns, cgp_wall_ns());
		cgp_sampler_cgroup_born(&fx->sp, c->cgroup_id, c->path);
	} else {
		cgp_names_rmdir(&fx->names, c->cgroup_id, cgp_wall_ns());
	}
}

static void on_oom(struct cgp_oom_event *e, void *ctx)
{
	struct agentfx *fx = ctx;

	if (fx->oom)
		fx->oom(e, fx->oom_ctx);
}

int fx_open(struct agentfx *fx, const char *pin_dir)
{
	struct cgp_loader_opts lo = {.pin_dir = pin_dir};

	return fx_open_opts(fx, &lo);
}

int fx_open_opts(struct agentfx *fx, const struct cgp_loader_opts *lo)
{
	struct cgp_rings_visitor v = {.cgroup = on_cgroup, .oom = on_oom, .ctx = fx};
	int err;

	memset(fx, 0, sizeof(*fx));
	err = cgp_bpf_open(&fx->bpf, lo);
	if (err)
		return err;
	err = cgp_sampler_init(&fx->sp, &fx->bpf);
	if (!err)
		err = cgp_names_init(&fx->names, &fx->bpf.fs, NULL, CGP_TOMBSTONE_GRACE_NS);
	if (!err)
		err = cgp_rings_open(&fx->rings, &fx->bpf, &v);
	if (err) {
		if (fx->names.meta)
			cgp_names_free(&fx->names);
		cgp_sampler_free(&fx->sp);
		cgp_bpf_close(&fx->bpf, true);
		return err;
	}
	fx->sp.rings = &fx->rings; /* as the agent: read during each sweep too (collect/sampler.h) */
	cgp_names_walk(&fx->names, cgp_wall_ns());
	fx->open = true;
	return 0;
}

static void forget(struct agentfx *fx)
{
	for (size_t i = 0; i < fx->n; i++)
		free(fx->rows[i].path);
	fx->n = 0;
}

static void fx_close_pins(struct agentfx *fx, bool unpin)
{
	if (!fx->open)
		return;
	forget(fx);
	free(fx->rows);
	cgp_rings_close(&fx->rings);
	cgp_names_free(&fx->names);
	cgp_sampler_free(&fx->sp);
	cgp_bpf_close(&fx->bpf, unpin);
	fx->open = false;
}

void fx_close(struct agentfx *fx)
{
	fx_close_pins(fx, true);
}

int fx_restart(struct agentfx *fx, const char *pin_dir)
{
	fx_close_pins(fx, false);
	return fx_open(fx, pin_dir);
}

int fx_consume(struct agentfx *fx)
{
	return cgp_rings_consume(&fx->rings);
}

/* As the agent's loop does: every sample of the sweep, named; a cgroup gone before it was named is skipped. */
int fx_sweep(struct agentfx *fx)
{
	struct cgp_sample s;
	size_t it = 0;
	int err;

	forget(fx);
	err = fx_consume(fx); /* as the agent: the rings first, so a new cgroup is named by its mkdir record */
	if (!err)
		err = cgp_sampler_sweep(&fx->sp);
	if (err)
		return err;
	while (cgp_sampler_next(&fx->sp, &it, &s)) {
		const struct cgp_cgname *n = cgp_names_get(&fx->names, s.cgroup_id, s.ts_ns);

		if (!n || n->removed_ns)
			continue;
		if (fx->n == fx->cap) {
			size_t cap = fx->cap ? fx->cap * 2 : 64;
			struct fx_row *r = realloc(fx->rows, cap * sizeof(*r));

			if (!r)
				return -ENOMEM;
			fx->rows = r;
			fx->cap = cap;
		}
		fx->rows[fx->n].s = s;
		fx->rows[fx->n].path = strdup(n->path);
		if (!fx->rows[fx->n].path)
			return -ENOMEM;
		fx->n++;
	}
	for (size_t i = 0; i < fx->sp.n_gone; i++)
		cgp_names_rmdir(&fx->names, fx->sp.gone[i], fx->sp.now_ns);
	return 0;
}

const struct cgp_sample *fx_find(const struct agentfx *fx, uint64_t cgroup_id)
{
	for (size_t i = 0; i < fx->n; i++)
		if (fx->rows[i].s.cgroup_id == cgroup_id)
			return &fx->rows[i].s;
	return NULL;
}

const char *fx_path(const struct agentfx *fx, uint64_t cgroup_id)
{
	for (size_t i = 0; i < fx->n; i++)
		if (fx->rows[i].s.cgroup_id == cgroup_id)
			return fx->rows[i].path;
	return NULL;
}
