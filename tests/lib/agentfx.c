// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "agentfx.h"

int fx_open(struct agentfx *fx, const char *pin_dir)
{
	struct cgp_loader_opts lo = {.pin_dir = pin_dir};
	int err;

	memset(fx, 0, sizeof(*fx));
	err = cgp_bpf_open(&fx->bpf, &lo);
	if (err)
		return err;
	err = cgp_sampler_init(&fx->sp, &fx->bpf);
	if (err) {
		cgp_bpf_close(&fx->bpf, true);
		return err;
	}
	fx->open = true;
	return 0;
}

static void forget(struct agentfx *fx)
{
	for (size_t i = 0; i < fx->n; i++)
		free(fx->paths[i]);
	fx->n = 0;
}

static void fx_close_pins(struct agentfx *fx, bool unpin)
{
	if (!fx->open)
		return;
	forget(fx);
	free(fx->samples);
	free(fx->paths);
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

static void keep(const struct cgp_sample *s, void *ctx)
{
	struct agentfx *fx = ctx;

	if (fx->n == fx->cap) {
		size_t cap = fx->cap ? fx->cap * 2 : 64;
		struct cgp_sample *ns = realloc(fx->samples, cap * sizeof(*ns));
		char **np;

		if (!ns)
			return;
		fx->samples = ns;
		np = realloc(fx->paths, cap * sizeof(*np));
		if (!np)
			return;
		fx->paths = np;
		fx->cap = cap;
	}
	fx->samples[fx->n] = *s;
	fx->paths[fx->n] = strdup(s->path);
	fx->samples[fx->n].path = fx->paths[fx->n];
	fx->n++;
}

int fx_sweep(struct agentfx *fx)
{
	forget(fx);
	return cgp_sampler_sweep(&fx->sp, keep, NULL, fx);
}

const struct cgp_sample *fx_find(const struct agentfx *fx, uint64_t cgroup_id)
{
	for (size_t i = 0; i < fx->n; i++)
		if (fx->samples[i].cgroup_id == cgroup_id)
			return &fx->samples[i];
	return NULL;
}
