/* SPDX-License-Identifier: GPL-2.0 */
/* Throwaway cgroups for tests (after the kernel selftests' cgroup_helpers): made under a parent of the test's
 * own cgroup in every hierarchy we need, named cgpulse-test-<name>-<pid>, and removed (their processes killed)
 * by cgt_cleanup_all(), which the tests' teardowns and an atexit handler both call. */
#ifndef CGT_H
#define CGT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct cgt {
	char rel[512];	/* path relative to each hierarchy root, the same in all of them */
	char v2[1024];	/* directory in the cgroup2 hierarchy */
	char mem[1024]; /* directory in the memory hierarchy (== v2 on pure v2) */
	char cpu[1024]; /* directory in a v1 cpu hierarchy of its own (hybrid), "" when cpu is on v2 */
	bool hybrid;
	uint64_t id; /* cgroup v2 id */
};

/* Creates the cgroup in the v2 hierarchy and, on hybrid hosts, in the v1 memory hierarchy. */
int cgt_create(struct cgt *cg, const char *name);
/* The same, as a child of parent (made by either), in every hierarchy; destroying the parent removes it too. */
int cgt_create_in(struct cgt *cg, const struct cgt *parent, const char *name);
/* Moves pid into the cgroup in every hierarchy. */
int cgt_enter(const struct cgt *cg, pid_t pid);
int cgt_set_mem_limit(const struct cgt *cg, uint64_t bytes);
/* CPU weight as cgroup v2 counts it (100 = default): cpu.weight, or cpu.shares × 1024 / 100 on v1. */
int cgt_set_cpu_weight(const struct cgt *cg, unsigned weight);
/* CFS bandwidth: quota per period, µs (cpu.max, or cpu.cfs_quota_us / cpu.cfs_period_us on v1). */
int cgt_set_cpu_max(const struct cgt *cg, unsigned quota_us, unsigned period_us);
/* Kills what runs in it and removes it. */
int cgt_destroy(struct cgt *cg);
void cgt_cleanup_all(void);

/* The kernel's own accounting for the cgroup. */
uint64_t cgt_cpu_usage_ns(const struct cgt *cg); /* cgroup2 cpu.stat usage_usec × 1000 */
/* cpu.stat of the hierarchy with the cpu controller: key as v2 names it (nr_periods, nr_throttled,
 * throttled_usec, user_usec, system_usec); times in ns (v1's throttled_time is ns already). UINT64_MAX when
 * absent. */
uint64_t cgt_cpu_stat(const struct cgt *cg, const char *v2_key);
/* <resource>.pressure total= of the "some" or "full" line, in ns (cgroup2); UINT64_MAX when absent. */
uint64_t cgt_pressure_ns(const struct cgt *cg, const char *resource, const char *kind);
uint64_t cgt_mem_usage(const struct cgt *cg); /* memory.usage_in_bytes / memory.current */
uint64_t cgt_mem_limit(const struct cgt *cg); /* memory.limit_in_bytes / memory.max */
uint64_t cgt_oom_kills(const struct cgt *cg); /* memory.oom_control / memory.events oom_kill */
/* memory.stat by its v2 name (anon, file, inactive_file, ...), read from the v1 file's hierarchical total_ line
 * (total_rss, total_cache, total_inactive_file) on a v1 hierarchy; bytes. */
uint64_t cgt_mem_stat(const struct cgt *cg, const char *v2_key);
/* memory.events counter (v2 only; v1 has no such file): UINT64_MAX when it has no such line. */
uint64_t cgt_mem_event(const struct cgt *cg, const char *key);
/* memory.swap.current, or memory.memsw.usage_in_bytes - memory.usage_in_bytes on v1; UINT64_MAX when swap is
 * not accounted. */
uint64_t cgt_swap_usage(const struct cgt *cg);

/* Child processes that join `cg` first. Each returns the child's pid, or -1. */
pid_t cgt_spawn_burner(const struct cgt *cg, int cpu, double seconds); /* wall seconds; cpu < 0: any CPU */
pid_t cgt_spawn_cpu_burner(const struct cgt *cg, double cpu_seconds);  /* until it used this much CPU */
/* Burns user_s seconds of CPU in user mode, then sys_s in the kernel (reading /dev/zero), then exits. */
pid_t cgt_spawn_user_sys_burner(const struct cgt *cg, double user_s, double sys_s);
pid_t cgt_spawn_toucher(const struct cgt *cg, uint64_t bytes, int ready_fd); /* writes 1 byte when done, waits */
/* A real OOM kill in cg, whose memory limit must be under 64 MiB: a process touching 64 MiB there, waited for. Its
 * pid when the kernel killed it (SIGKILL), else -1. */
pid_t cgt_oom_kill(const struct cgt *cg);
/* Reads `bytes` of the file (or block device) at path through the page cache, then as the toucher. */
pid_t cgt_spawn_reader(const struct cgt *cg, const char *path, uint64_t bytes, int ready_fd);
/* Reads `bytes` of it over and over for `seconds` (a cgroup a little smaller than it keeps reclaiming and
 * refaulting its working set: it thrashes), writes 1 byte to ready_fd when done, waits. */
pid_t cgt_spawn_rereader(const struct cgt *cg, const char *path, uint64_t bytes, double seconds, int ready_fd);
/* A file of `bytes` (or the block device named by $CGP_TEST_SCRATCH_DEV) whose pages are not in the page cache,
 * on a filesystem with a real page cache (not tmpfs); its path into buf. 0, or -errno. cgt_scratch_done()
 * removes a file it made. */
int cgt_scratch_file(uint64_t bytes, char *buf, size_t len);
void cgt_scratch_done(const char *path);
int cgt_wait(pid_t pid, int *status);

/* Skip with a printed reason unless root with BPF; returns true when the test may run. */
bool cgt_can_run(void);

#endif
