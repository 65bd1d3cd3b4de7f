/* SPDX-License-Identifier: GPL-2.0 */
/* The real agent pieces, in-process, for kernel tests: load and attach the programs (nothing pinned unless
 * asked), read the kernel's rings and sweep, name every cgroup as the agent does (the walk at start, then the
 * mkdir records), and look up one cgroup's sample of the last sweep. */
#ifndef AGENTFX_H
#define AGENTFX_H

#include "collect/loader.h"
#include "collect/rings.h"
#include "collect/sample.h"
#include "collect/sampler.h"
#include "names/cgroup_names.h"

struct fx_row {
	struct cgp_sample s;
	char *path; /* from the names stage */
};

struct agentfx {
	struct cgp_bpf bpf;
	struct cgp_sampler sp;
	struct cgp_names names;
	struct cgp_rings rings; /* cgroup mkdir/rmdir records name cgroups, as in the agent's loop */
	void (*oom)(struct cgp_oom_event *e, void *ctx); /* OOM records go here (NULL: dropped) */
	void *oom_ctx;
	struct fx_row *rows;
	size_t n, cap;
	bool open;
};

int fx_open(struct agentfx *fx, const char *pin_dir);
/* The same with loader options of the test's own (pin_dir among them). */
int fx_open_opts(struct agentfx *fx, const struct cgp_loader_opts *lo);
void fx_close(struct agentfx *fx);
/* An agent restart: close leaving everything pinned (as --keep-pins), open again on the same pins. */
int fx_restart(struct agentfx *fx, const char *pin_dir);
/* Reads the kernel's rings (the agent does before each sweep): cgroups made and removed, OOM records. */
int fx_consume(struct agentfx *fx);
int fx_sweep(struct agentfx *fx);
/* The last sweep's sample of a cgroup, or NULL. */
const struct cgp_sample *fx_find(const struct agentfx *fx, uint64_t cgroup_id);
/* The path the names stage gave that cgroup in the last sweep, or NULL. */
const char *fx_path(const struct agentfx *fx, uint64_t cgroup_id);

#endif
