/* SPDX-License-Identifier: GPL-2.0 */
/* One sweep: read the cgroup iterator(s), join v1 memory and cpu figures to the cgroup v2 ids (hybrid hosts),
 * and keep each cgroup's totals so that the next sweep's window can be measured. Keeps per-cgroup state
 * between sweeps; forgets cgroups that are gone.
 *
 *   cgp_sampler_sweep(sp, now);                                  read the kernel
 *   for (it = 0; cgp_sampler_next(sp, &it, &sample); )           each live cgroup's window
 *   for (i = 0; i < sp->n_gone; i++) ... sp->gone[i]             the cgroups that disappeared in that sweep
 */
#ifndef CGP_SAMPLER_H
#define CGP_SAMPLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>
#include "cgpulse.h"
#include "collect/loader.h"
#include "collect/ringbuf.h"
#include "collect/rings.h"
#include "collect/running.h"
#include "collect/sample.h"
#include "lib/bytebuf.h"
#include "lib/idmap.h"

struct cgp_sampler;
/* Where each record of the walk running now goes: its ring bytes (size checked against its flags, collect/sweep_rec.h),
 * for the take to unpack where it keeps them. 0 or -errno. */
typedef int (*cgp_take_fn)(struct cgp_sampler *sp, const void *data, size_t size, const void *ctx);

struct cgp_sampler_stats {
	uint64_t sweeps;
	uint64_t records;      /* iterator records read in the last sweep */
	uint64_t record_bytes; /* their bytes in the ring (without its headers): each sized by what it holds */
	uint64_t bad_records;  /* total records whose size did not match their flags (a mismatched BPF object) */
	uint64_t probes;       /* lookups of per-cgroup state in the last sweep: at most one per record */
	uint64_t passes;       /* iterator walks in the last sweep: one per hierarchy, more when the ring filled */
	uint64_t dup_records;  /* cgroup v2 records of a cgroup already read in the last sweep (kept: the later) */
	uint64_t cgroups;      /* cgroups known after the last sweep */
	uint64_t mem_unjoined; /* v1 memory/cpu cgroups with no cgroup v2 twin of the same path (last sweep) */
	uint64_t cgroups_gone; /* total cgroups forgotten because they disappeared */
	uint64_t v1_walks;     /* walks of a v1 hierarchy by path (hybrid hosts): at start, then for strays */
	uint64_t drops[CGP_DROP_MAX];	  /* the kernel side's drops map, summed over CPUs (enum cgp_drop) */
	struct cgp_running_stats running; /* charging the running tasks at each sweep (collect/running.h) */
	uint64_t mem_flush_failures;	  /* sweeps whose memory statistics flush failed (figures up to 2 s old) */
	uint64_t cputime_flush_failures;  /* sweeps whose base stats (user/system time) flush failed */
	uint64_t pressure_failures;	  /* sweeps whose /proc/pressure read failed otherwise than PSI being off */
};

struct cgp_sampler {
	struct cgp_bpf *bpf;
	struct cgp_node node;	  /* what a share is of when a cgroup has no limit */
	struct cgp_idmap cgs;	  /* v2 id → struct cgp_cg */
	struct cgp_idmap memjoin; /* v1 memory cgroup id → struct cgp_join (hybrid hosts only) */
	struct cgp_idmap cpujoin; /* v1 cpu cgroup id → struct cgp_join (hybrid hosts with cpu on its own mount) */
	uint32_t gen;
	uint32_t cpu_all_gen;		       /* last sweep whose v1 cpu walk wrote every cgroup */
	uint32_t mem_walked_gen, cpu_walk_gen; /* last sweep that walked the v1 hierarchy's directories */
	bool mem_need_walk, cpu_need_walk;     /* a v1 cgroup of unknown path was met */
	struct cgp_buf births;		       /* struct cgp_birth *: new v2 cgroups whose v1 twins are looked for */
	uint64_t cgs_added;		       /* cgroups met since then */
	uint64_t quotas; /* cgroups with a CPU quota in the last v1 cpu walk (their throttling moves) */
	uint64_t last_mono_ns, now_ns;
	double window_s;       /* of the last sweep */
	int swap_accounted;    /* 1, 0, or -1 while not known yet (cgp_cgroupfs_swap_accounted) */
	bool drops_no_batch;   /* the drops map is read a key at a time: the kernel refused a batch lookup */
	struct cgp_ringbuf rb; /* drains sweep_records, record by record, into take */
	cgp_take_fn take;
	const void *take_ctx;
	struct cgp_buf gone_ids; /* the uint64_t ids of the cgroups that disappeared in the last sweep */
	const uint64_t *gone;	 /* into gone_ids */
	size_t n_gone;
	struct cgp_sampler_stats stats;
	/* The kernel's event rings (NULL: none), read between the sweep's steps and passes and every
	 * CGP_SAMPLER_RINGS_EVERY slots that cgp_sampler_next walks: an OOM kill at 10,000 cgroups waits for neither
	 * the walk (~100 ms) nor the publishing of every sample, and is handed on before the rest of the sweep's. */
	struct cgp_rings *rings;
	/* tests: called between the passes of a walk whose records did not fit in the ring at once */
	void (*between_passes)(struct cgp_sampler *sp, struct bpf_link *walk, void *ctx);
	void *between_ctx;
};

/* bpf NULL: no kernel to read (the record-taking half only, for tests). */
int cgp_sampler_init(struct cgp_sampler *sp, struct cgp_bpf *bpf);
void cgp_sampler_free(struct cgp_sampler *sp);
/* Sweeps now: reads every hierarchy's records, measures the window since the last sweep (the first sweep is a
 * baseline), and lists the cgroups seen before but not now in sp->gone. 0 or -errno. */
int cgp_sampler_sweep(struct cgp_sampler *sp);
/* The halves of a sweep that take no I/O, for tests that feed records themselves: begin, the cgroup v2
 * records (a cgroup that is in none is gone at the end), end. cgp_sampler_sweep runs these around the kernel's
 * walks. */
void cgp_sampler_begin(struct cgp_sampler *sp, uint64_t now_mono_ns, uint64_t now_wall_ns);
int cgp_sampler_take_v2(struct cgp_sampler *sp, const struct cgp_cgroup_rec *recs, size_t n);
/* The cgroup's record has come in the sweep now running (or the last one). */
bool cgp_sampler_seen(const struct cgp_sampler *sp, uint64_t cgroup_id);
int cgp_sampler_end(struct cgp_sampler *sp);
/* The kernel made a cgroup v2 directory (its mkdir record): on hybrid hosts its v1 twins, made at the same
 * path, are joined by that path in the next sweeps. */
void cgp_sampler_cgroup_born(struct cgp_sampler *sp, uint64_t v2_id, const char *path);
#define CGP_SAMPLER_RINGS_EVERY 256
/* The next live cgroup's sample of the last sweep; *it starts at 0. False when there is none left. Reads
 * sp->rings (their visitors run) every CGP_SAMPLER_RINGS_EVERY slots it walks. */
bool cgp_sampler_next(const struct cgp_sampler *sp, size_t *it, struct cgp_sample *out);

#endif
