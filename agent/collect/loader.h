/* SPDX-License-Identifier: GPL-2.0 */
/* Open, size, load, pin and attach the BPF object; pick program variants by what the running kernel's BTF
 * says; log what was attached and what was skipped and why. */
#ifndef CGP_LOADER_H
#define CGP_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include "collect/cgroupfs.h"

struct cgpulse_bpf;
struct bpf_link;

struct cgp_loader_opts {
	const char *pin_dir;  /* NULL: nothing pinned (one-shot snapshot) */
	uint32_t max_cgroups; /* size of the per-cgroup maps */
};

struct cgp_bpf {
	struct cgpulse_bpf *skel;
	struct cgp_cgroupfs fs;
	struct bpf_link *iter_v2;  /* cgroup iterator over the v2 hierarchy */
	struct bpf_link *iter_mem; /* cgroup iterator over the v1 memory hierarchy (hybrid hosts), else NULL */
	struct bpf_link *iter_cpu; /* over the v1 cpu hierarchy when it is a mount of its own, else NULL */
	char pin_dir[256];	   /* "" when not pinned */
	int nr_cpus;
	uint32_t max_cgroups;
	char attached[256]; /* names of the programs attached, for logs and /healthz */
	char skipped[512];  /* "program: reason; ..." */
};

int cgp_bpf_open(struct cgp_bpf *b, const struct cgp_loader_opts *o);
/* Detaches; with unpin, also removes every pinned object (otherwise a next agent resumes from them). */
void cgp_bpf_close(struct cgp_bpf *b, bool unpin);
/* Removes everything pinned under dir by an earlier agent. */
int cgp_bpf_unpin_dir(const char *dir);

#endif
