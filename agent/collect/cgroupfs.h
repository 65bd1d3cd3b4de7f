/* SPDX-License-Identifier: GPL-2.0 */
/* Where the cgroup hierarchies are mounted, and cgroup id ↔ path. A cgroup's id is its kernfs node id, which is
 * also the inode number of its directory (and what readdir gives as d_ino), so a walk of a hierarchy by path
 * names every cgroup without a stat, and the id of a path is one stat. No file handles: open_by_handle_at would
 * need CAP_DAC_READ_SEARCH, which the agent gives up once attached (README, Privileges). */
#ifndef CGP_CGROUPFS_H
#define CGP_CGROUPFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cgp_cgroupfs {
	char v2_mount[256];  /* cgroup2 mount point: /sys/fs/cgroup (pure v2) or /sys/fs/cgroup/unified (hybrid) */
	char mem_mount[256]; /* where the memory controller lives: == v2_mount on pure v2, a v1 mount on hybrid */
	char cpu_mount[256]; /* the v1 mount of the cpu controller on hybrid hosts, "" when cpu is on v2 */
	bool hybrid;	     /* memory controller on a v1 hierarchy */
	int v2_fd, mem_fd;   /* O_DIRECTORY fds of the two mounts (the same fd number when not hybrid) */
	int cpu_fd;	     /* fd of cpu_mount, -1 when none or when it is the memory mount */
	uint64_t v2_root_id;
	int mem_stat_fd; /* the memory hierarchy root's memory.stat, -1 until first used or when it has none */
};

/* Reads /proc/self/mountinfo; returns 0 or -errno with a logged reason. */
int cgp_cgroupfs_open(struct cgp_cgroupfs *fs);
void cgp_cgroupfs_close(struct cgp_cgroupfs *fs);

/* Calls fn for every cgroup of the hierarchy mounted at mount_fd, parents before children: its id and its path
 * relative to the mount ("/" for the root). One directory fd open at a time; a cgroup removed meanwhile is
 * skipped. 0 or -errno (the root could not be read). */
typedef void (*cgp_cgroup_walk_fn)(void *ctx, uint64_t id, const char *rel);
int cgp_cgroup_walk(int mount_fd, cgp_cgroup_walk_fn fn, void *ctx);
/* id of the cgroup at a path relative to a mount, or 0 when there is none. */
uint64_t cgp_cgroup_id(const char *mount, const char *rel);
/* Has the kernel flush its memory statistics (the ones memory.stat prints, which it updates lazily) for the
 * whole memory hierarchy, as a read of the root's memory.stat does, subject to the kernel's own threshold: one
 * file read per call, however many cgroups. 0 or -errno. */
int cgp_cgroupfs_flush_mem_stats(struct cgp_cgroupfs *fs);
/* How many cgroups the largest hierarchy holds now (the cgroup2 root's cgroup.stat nr_descendants + 1, and each
 * v1 hierarchy's num_cgroups in /proc/cgroups), or 0 when neither could be read. */
uint64_t cgp_cgroupfs_count(const struct cgp_cgroupfs *fs);
/* Is swap accounted on the memory hierarchy (v1 memory.memsw.*, v2 memory.swap.*)? 1 yes, 0 no, -1 not known
 * yet: on v2 the swap files exist only below the root, so it waits for a child with the memory controller. */
int cgp_cgroupfs_swap_accounted(const struct cgp_cgroupfs *fs);
/* Does a process other than tgid live in the cgroup v2 at path rel? One file read (cgroup.procs), meant for
 * the rare moment of an OOM kill: did the container's init survive? */
bool cgp_cgroup_has_other_procs(const struct cgp_cgroupfs *fs, const char *rel, uint32_t tgid);

#endif
