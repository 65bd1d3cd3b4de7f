/* SPDX-License-Identifier: GPL-2.0 */
/* Open, size, load, pin and attach the BPF object; pick program variants by what the running kernel's BTF
 * says; log what was attached and what was skipped and why. */
#ifndef CGP_LOADER_H
#define CGP_LOADER_H

#include <stdbool.h>
#include <stdint.h>
#include "collect/cgroupfs.h"
#include "collect/features.h"

struct cgpulse_bpf;
struct bpf_link;
struct cgp_agent_state;
struct bpf_program;

struct cgp_loader_opts {
	const char *pin_dir;	   /* NULL: nothing pinned (one-shot snapshot) */
	uint32_t max_cgroups;	   /* size of the per-cgroup maps */
	bool full_btf;		   /* load against the whole kernel BTF, not the slim copy (collect/btf_slim.h) */
	uint32_t sweep_ring_bytes; /* size of the sweep_records ring; 0: by the cgroups there are at load */
};

#define CGP_MAX_PROGS 16

/* A program the loader did not attach on this kernel, and why (static strings). */
struct cgp_prog_skip {
	const char *name;
	const char *why;
};

/* One BPF program's kernel-side cost (zero unless kernel.bpf_stats_enabled=1). */
struct cgp_bpf_prog_stat {
	const char *name;
	uint64_t run_time_ns, run_cnt;
};

struct cgp_bpf {
	struct cgpulse_bpf *skel;
	struct cgp_cgroupfs fs;
	struct bpf_link *iter_v2;	/* cgroup iterator over the v2 hierarchy */
	struct bpf_link *iter_mem;	/* cgroup iterator over the v1 memory hierarchy (hybrid hosts), else NULL */
	struct bpf_link *iter_cpu;	/* over the v1 cpu hierarchy when it is a mount of its own, else NULL */
	struct bpf_link *iter_flush;	/* the rstat flush on the cgroup2 root alone, else NULL (bpf/flush.bpf.c) */
	struct bpf_program *flush_prog; /* the flush variant this kernel has, or NULL */
	char pin_dir[256];		/* "" when not pinned */
	int nr_cpus;
	uint32_t max_cgroups;
	uint32_t sweep_ring_bytes;	     /* the sweep_records ring's size (cgp_sweep_ring_bytes) */
	const char *attached[CGP_MAX_PROGS]; /* names of the programs attached (owned by the object) */
	size_t n_attached;
	struct cgp_prog_skip skipped[CGP_MAX_PROGS];
	size_t n_skipped;
	/* the agent_state map, mapped: what the previous agent on these pins left, and where this one leaves its
	 * own; NULL when it could not be mapped */
	struct cgp_agent_state *agent_state;
	struct cgp_features features; /* the figures this kernel can give (logged at start) */
	bool btf_slim;		      /* loaded against the slim copy of the kernel BTF (collect/btf_slim.h) */
};

/* The sweep_records ring's size for a host with this many cgroups in its largest hierarchy: room for one
 * pass over all of them (a power of two), no less than CGP_SWEEP_RING_BYTES and no more than max_cgroups
 * records' worth. */
uint32_t cgp_sweep_ring_bytes(uint64_t cgroups, uint32_t max_cgroups);
int cgp_bpf_open(struct cgp_bpf *b, const struct cgp_loader_opts *o);
/* Detaches; with unpin, also removes every pinned object (otherwise a next agent resumes from them). */
void cgp_bpf_close(struct cgp_bpf *b, bool unpin);
/* Every loaded program's run time and count, into out[0..max); returns how many. */
size_t cgp_bpf_prog_stats(const struct cgp_bpf *b, struct cgp_bpf_prog_stat *out, size_t max);
/* kernel.bpf_stats_enabled is 1: the figures above are being counted. */
bool cgp_bpf_stats_enabled(void);
/* The attached programs as one line, "a b c", for logs. */
void cgp_bpf_attached_line(const struct cgp_bpf *b, char *buf, size_t len);
/* Removes everything pinned under dir by an earlier agent. */
int cgp_bpf_unpin_dir(const char *dir);
/* An fd of one of the loaded maps, for asking the kernel whether bpf() on held fds needs a capability. */
int cgp_bpf_map_fd(const struct cgp_bpf *b);

#endif
