// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <linux/magic.h>
#include "collect/cgroupfs.h"
#include "cgtest.h"

#define CGT_MAX 32
static struct cgt *live[CGT_MAX];
static bool atexit_set;

static int write_file(const char *dir, const char *file, const char *val)
{
	char p[1200];
	int fd, n;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static int read_file(const char *dir, const char *file, char *buf, size_t len)
{
	char p[1200];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

/* "key value" lines: the value of key, or 0 */
static uint64_t keyed(const char *dir, const char *file, const char *key)
{
	char buf[4096], *p;
	size_t kl = strlen(key);

	if (read_file(dir, file, buf, sizeof(buf)))
		return 0;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
	return 0;
}

static bool access_ok(const char *dir, const char *file)
{
	char p[1200];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	return access(p, F_OK) == 0;
}

static uint64_t single(const char *dir, const char *file)
{
	char buf[64];

	if (read_file(dir, file, buf, sizeof(buf)))
		return 0;
	if (!strncmp(buf, "max", 3))
		return UINT64_MAX;
	return strtoull(buf, NULL, 10);
}

/* The test's own path in a hierarchy: "0::" for v2, or the line naming `ctrl`. */
static int own_path(const char *ctrl, char *out, size_t len)
{
	char line[1024];
	FILE *f = fopen("/proc/self/cgroup", "re");
	int found = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *ctrls;

		if (!c2)
			continue;
		*c2 = 0;
		ctrls = c1 + 1;
		line[strcspn(line, "\n")] = 0;
		c2[1 + strcspn(c2 + 1, "\n")] = 0;
		if ((!ctrl && !*ctrls) || (ctrl && strstr(ctrls, ctrl))) {
			snprintf(out, len, "%s", c2 + 1);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

/* The deepest path that is the test's own cgroup or a parent of it in both hierarchies. */
static void common_base(const char *a, const char *b, char *out, size_t len)
{
	size_t i = 0, last = 0;

	while (a[i] && a[i] == b[i]) {
		if (a[i] == '/')
			last = i;
		i++;
	}
	if ((!a[i] || a[i] == '/') && (!b[i] || b[i] == '/'))
		last = i;
	snprintf(out, len, "%.*s", (int)last, a);
}

static int make(struct cgt *cg, const struct cgp_cgroupfs *fs);

int cgt_create(struct cgt *cg, const char *name)
{
	return cgt_create_in(cg, NULL, name);
}

int cgt_create_in(struct cgt *cg, const struct cgt *parent, const char *name)
{
	struct cgp_cgroupfs fs;
	char own_v2[200] = "/", own_mem[200] = "/", base[200];
	int err;

	memset(cg, 0, sizeof(*cg));
	err = cgp_cgroupfs_open(&fs);
	if (err)
		return err;
	cgp_cgroupfs_close(&fs);
	cg->hybrid = fs.hybrid;
	if (parent) {
		if (snprintf(cg->rel, sizeof(cg->rel), "%.400s/cgpulse-test-%.64s-%d", parent->rel, name, getpid()) >=
		    (int)sizeof(cg->rel))
			return -ENAMETOOLONG;
		return make(cg, &fs);
	}
	own_path(NULL, own_v2, sizeof(own_v2));
	if (fs.hybrid)
		own_path("memory", own_mem, sizeof(own_mem));
	else
		snprintf(own_mem, sizeof(own_mem), "%s", own_v2);
	common_base(own_v2, own_mem, base, sizeof(base));
	snprintf(cg->rel, sizeof(cg->rel), "%s/cgpulse-test-%s-%d", strcmp(base, "/") ? base : "", name, getpid());
	return make(cg, &fs);
}

/* The cgroup at cg->rel in every hierarchy, registered for removal at exit. */
static int make(struct cgt *cg, const struct cgp_cgroupfs *fs)
{
	struct stat st;
	int err;

	snprintf(cg->v2, sizeof(cg->v2), "%s%s", fs->v2_mount, cg->rel);
	snprintf(cg->mem, sizeof(cg->mem), "%s%s", fs->mem_mount, cg->rel);
	if (fs->cpu_mount[0] && strcmp(fs->cpu_mount, fs->mem_mount))
		snprintf(cg->cpu, sizeof(cg->cpu), "%s%s", fs->cpu_mount, cg->rel);
	if (mkdir(cg->v2, 0755) && errno != EEXIST)
		return -errno;
	if (cg->hybrid && mkdir(cg->mem, 0755) && errno != EEXIST) {
		err = -errno;
		rmdir(cg->v2);
		return err;
	}
	if (cg->cpu[0] && mkdir(cg->cpu, 0755) && errno != EEXIST) {
		err = -errno;
		rmdir(cg->v2);
		if (cg->hybrid)
			rmdir(cg->mem);
		return err;
	}
	if (!cg->hybrid) /* pure v2: turn on the controllers the tests read, from the parent down */
		write_file(cg->v2, "../cgroup.subtree_control", "+memory +cpu");
	if (stat(cg->v2, &st))
		return -errno;
	cg->id = st.st_ino;
	for (int i = 0; i < CGT_MAX; i++)
		if (!live[i]) {
			live[i] = cg;
			break;
		}
	if (!atexit_set) {
		atexit(cgt_cleanup_all);
		atexit_set = true;
	}
	return 0;
}

int cgt_enter(const struct cgt *cg, pid_t pid)
{
	char v[32];
	int err;

	snprintf(v, sizeof(v), "%d", pid);
	err = write_file(cg->v2, "cgroup.procs", v);
	if (!err && cg->hybrid)
		err = write_file(cg->mem, "cgroup.procs", v);
	if (!err && cg->cpu[0])
		err = write_file(cg->cpu, "cgroup.procs", v);
	return err;
}

int cgt_set_mem_limit(const struct cgt *cg, uint64_t bytes)
{
	char v[32];

	snprintf(v, sizeof(v), "%" PRIu64, bytes);
	return write_file(cg->mem, cg->hybrid ? "memory.limit_in_bytes" : "memory.max", v);
}

int cgt_set_cpu_weight(const struct cgt *cg, unsigned weight)
{
	char v[32];

	if (cg->cpu[0]) {
		snprintf(v, sizeof(v), "%u", weight * 1024 / 100);
		return write_file(cg->cpu, "cpu.shares", v);
	}
	snprintf(v, sizeof(v), "%u", weight);
	return write_file(cg->v2, "cpu.weight", v);
}

int cgt_set_cpu_max(const struct cgt *cg, unsigned quota_us, unsigned period_us)
{
	char v[64];
	int err;

	if (cg->cpu[0]) {
		snprintf(v, sizeof(v), "%u", period_us);
		err = write_file(cg->cpu, "cpu.cfs_period_us", v);
		snprintf(v, sizeof(v), "%u", quota_us);
		return err ? err : write_file(cg->cpu, "cpu.cfs_quota_us", v);
	}
	snprintf(v, sizeof(v), "%u %u", quota_us, period_us);
	return write_file(cg->v2, "cpu.max", v);
}

static void kill_all(const char *dir)
{
	char buf[8192], *p, *end;

	for (int round = 0; round < 50; round++) {
		if (read_file(dir, "cgroup.procs", buf, sizeof(buf)) || !buf[0])
			return;
		for (p = buf; *p; p = end) {
			pid_t pid = strtol(p, &end, 10);

			if (end == p)
				break;
			if (pid > 0)
				kill(pid, SIGKILL);
			while (*end == '\n')
				end++;
		}
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		usleep(20000);
	}
}

/* children first: a test may have made cgroups inside its own */
static void rmdir_children(const char *dir)
{
	char p[1200];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d)))
		if (de->d_type == DT_DIR && de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			rmdir_children(p);
			kill_all(p);
			rmdir(p);
		}
	closedir(d);
}

int cgt_destroy(struct cgt *cg)
{
	int err = 0;

	if (!cg->v2[0])
		return 0;
	for (int i = 0; i < CGT_MAX; i++)
		if (live[i] == cg)
			live[i] = NULL;
	rmdir_children(cg->v2);
	kill_all(cg->v2);
	if (cg->hybrid) {
		rmdir_children(cg->mem);
		kill_all(cg->mem);
	}
	if (cg->cpu[0]) {
		rmdir_children(cg->cpu);
		kill_all(cg->cpu);
	}
	for (int i = 0; i < 50; i++) { /* rmdir is refused while a killed task is still exiting */
		err = 0;
		if (rmdir(cg->v2) && errno != ENOENT)
			err = -errno;
		if (cg->hybrid && rmdir(cg->mem) && errno != ENOENT)
			err = -errno;
		if (cg->cpu[0] && rmdir(cg->cpu) && errno != ENOENT)
			err = -errno;
		if (!err)
			break;
		usleep(20000);
	}
	if (err)
		fprintf(stderr, "cgtest: could not remove %s: %s\n", cg->rel, strerror(-err));
	cg->v2[0] = 0;
	return err;
}

void cgt_cleanup_all(void)
{
	/* in any order: a parent's removal takes its children's directories first (rmdir_children) */
	for (int i = 0; i < CGT_MAX; i++)
		if (live[i])
			cgt_destroy(live[i]);
}

uint64_t cgt_cpu_usage_ns(const struct cgt *cg)
{
	return keyed(cg->v2, "cpu.stat", "usage_usec") * 1000;
}

uint64_t cgt_mem_usage(const struct cgt *cg)
{
	return single(cg->mem, cg->hybrid ? "memory.usage_in_bytes" : "memory.current");
}

uint64_t cgt_mem_limit(const struct cgt *cg)
{
	return single(cg->mem, cg->hybrid ? "memory.limit_in_bytes" : "memory.max");
}

uint64_t cgt_oom_kills(const struct cgt *cg)
{
	return keyed(cg->mem, cg->hybrid ? "memory.oom_control" : "memory.events", "oom_kill");
}

static uint64_t keyed_or(const char *dir, const char *file, const char *key, uint64_t dflt)
{
	char buf[8192], *p;
	size_t kl = strlen(key);

	if (read_file(dir, file, buf, sizeof(buf)))
		return dflt;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
	return dflt;
}

uint64_t cgt_cpu_stat(const struct cgt *cg, const char *v2_key)
{
	bool usec = strlen(v2_key) > 5 && !strcmp(v2_key + strlen(v2_key) - 5, "_usec");
	uint64_t v;

	/* user/system live in the cgroup2 cpu.stat on every host; throttling where the cpu controller is */
	if (cg->cpu[0] && strncmp(v2_key, "user", 4) && strncmp(v2_key, "system", 6)) {
		if (!strcmp(v2_key, "throttled_usec"))
			return keyed_or(cg->cpu, "cpu.stat", "throttled_time", UINT64_MAX);
		return keyed_or(cg->cpu, "cpu.stat", v2_key, UINT64_MAX);
	}
	v = keyed_or(cg->v2, "cpu.stat", v2_key, UINT64_MAX);
	return v != UINT64_MAX && usec ? v * 1000 : v;
}

uint64_t cgt_pressure_ns(const struct cgt *cg, const char *resource, const char *kind)
{
	char file[64], buf[512], *p, *t;

	snprintf(file, sizeof(file), "%s.pressure", resource);
	if (read_file(cg->v2, file, buf, sizeof(buf)))
		return UINT64_MAX;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, kind, strlen(kind)) && (t = strstr(p, " total=")))
			return strtoull(t + 7, NULL, 10) * 1000;
	return UINT64_MAX;
}

uint64_t cgt_mem_stat(const struct cgt *cg, const char *v2_key)
{
	static const char *const v1[][2] = {{"anon", "total_rss"}, {"file", "total_cache"}};
	char key[64];

	if (!cg->hybrid)
		return keyed_or(cg->mem, "memory.stat", v2_key, UINT64_MAX);
	snprintf(key, sizeof(key), "total_%s", v2_key);
	for (size_t i = 0; i < sizeof(v1) / sizeof(v1[0]); i++)
		if (!strcmp(v2_key, v1[i][0]))
			snprintf(key, sizeof(key), "%s", v1[i][1]);
	return keyed_or(cg->mem, "memory.stat", key, UINT64_MAX);
}

uint64_t cgt_mem_event(const struct cgt *cg, const char *key)
{
	return cg->hybrid ? UINT64_MAX : keyed_or(cg->mem, "memory.events", key, UINT64_MAX);
}

uint64_t cgt_swap_usage(const struct cgt *cg)
{
	uint64_t memsw, usage;

	if (!cg->hybrid) {
		memsw = single(cg->mem, "memory.swap.current");
		return memsw ? memsw : access_ok(cg->mem, "memory.swap.current") ? 0 : UINT64_MAX;
	}
	if (!access_ok(cg->mem, "memory.memsw.usage_in_bytes"))
		return UINT64_MAX;
	memsw = single(cg->mem, "memory.memsw.usage_in_bytes");
	usage = single(cg->mem, "memory.usage_in_bytes");
	return memsw > usage ? memsw - usage : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* cgpulse charges a task's CPU time when the task leaves a CPU. A burner alone on a CPU may not have left it
 * for most of its run, and its last switch comes after exit_notify() has already woken the parent: the parent
 * can reap it and sweep before that switch (seen under QEMU TCG: 20% of a 2 s burn missing). Leaving the CPU
 * once before exiting charges the burn; what remains is the exit path, microseconds. */
static void __attribute__((noreturn)) off_cpu_then_exit(void)
{
	usleep(1000);
	_exit(0);
}

/* The child's state letter in /proc/PID/stat, or 0. */
static char proc_state(pid_t pid)
{
	char p[64], buf[512], *r;

	snprintf(p, sizeof(p), "/proc/%d", pid);
	if (read_file(p, "stat", buf, sizeof(buf)))
		return 0;
	r = strrchr(buf, ')');
	return r && r[1] == ' ' ? r[2] : 0;
}

/* Whether the child is asleep and off its CPU, its switch-out done. "S" alone is not enough: a task sets it just
 * before it calls schedule(), and a move then charges its fork and exec (~1 ms) to the new cgroup (a CI run did).
 * /proc/PID/syscall of a sleeping task waits until it is inactive (wait_task_inactive: off the CPU, the switch and
 * its tracepoint behind it), and fails if it woke meanwhile. */
static int off_cpu(pid_t pid)
{
	char p[64], buf[256];

	if (proc_state(pid) != 'S')
		return 0;
	snprintf(p, sizeof(p), "/proc/%d", pid);
	return read_file(p, "syscall", buf, sizeof(buf)) == 0;
}

/* fork(), and move the child into cg while it sleeps: returns the pid in the parent, 0 in the child (already
 * in cg). A task that moves itself carries the CPU time it used since it last left a CPU into the new cgroup
 * (cgpulse charges at switch-out), while the kernel splits that time at the move: ~2 ms of fork and
 * cgroup.procs write under QEMU TCG, 0.7% of a 0.3 s burner. Moved while asleep, it has nothing unaccounted. */
static pid_t fork_into(const struct cgt *cg)
{
	int go[2];
	pid_t pid;
	char c;

	if (pipe(go))
		return -1;
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1) /* the parent could not move us */
			_exit(3);
		close(go[0]);
		return 0;
	}
	close(go[0]);
	if (pid > 0) {
		for (int i = 0; i < 25000 && !off_cpu(pid); i++) /* blocked in read(), off the CPU */
			usleep(200);
		if (cgt_enter(cg, pid) == 0 && write(go[1], "x", 1) != 1)
			kill(pid, SIGKILL);
	}
	close(go[1]); /* without the byte, the child reads EOF and exits 3 */
	return pid;
}

pid_t cgt_spawn_burner(const struct cgt *cg, int cpu, double seconds)
{
	pid_t pid = fork_into(cg);

	if (pid)
		return pid;
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);
	}
	for (double end = now_s() + seconds; now_s() < end;)
		;
	off_cpu_then_exit();
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

pid_t cgt_spawn_cpu_burner(const struct cgt *cg, double cpu_seconds)
{
	pid_t pid = fork_into(cg);

	if (pid)
		return pid;
	/* CPU time, not wall time: on a busy machine it still burns exactly what the test compares */
	while (cpu_s() < cpu_seconds)
		;
	off_cpu_then_exit();
}

pid_t cgt_spawn_user_sys_burner(const struct cgt *cg, double user_s, double sys_s)
{
	static char buf[1 << 16];
	pid_t pid = fork_into(cg);
	int fd;

	if (pid)
		return pid;
	/* the CPU clock is read by a system call: only once per few milliseconds of arithmetic */
	for (volatile uint64_t x = 0; cpu_s() < user_s;)
		for (int i = 0; i < 1000000; i++)
			x += (uint64_t)i * 7;
	fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(4);
	/* the kernel clears 64 KiB per call: nearly all of this time is system time */
	while (cpu_s() < user_s + sys_s)
		if (read(fd, buf, sizeof(buf)) < 0)
			_exit(5);
	off_cpu_then_exit();
}

pid_t cgt_spawn_toucher(const struct cgt *cg, uint64_t bytes, int ready_fd)
{
	pid_t pid = fork_into(cg);
	char *p;

	if (pid)
		return pid;
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(4);
	for (uint64_t i = 0; i < bytes; i += 4096)
		p[i] = 1;
	if (ready_fd >= 0 && write(ready_fd, "x", 1) != 1)
		_exit(5);
	pause();
	_exit(0);
}

pid_t cgt_spawn_reader(const struct cgt *cg, const char *path, uint64_t bytes, int ready_fd)
{
	static char buf[1 << 20];
	pid_t pid = fork_into(cg);
	uint64_t done = 0;
	ssize_t n;
	int fd;

	if (pid)
		return pid;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(4);
	while (done < bytes && (n = read(fd, buf, sizeof(buf))) > 0)
		done += (uint64_t)n;
	/* kept open: the last close of a block device drops its page cache (kill_bdev) */
	if (done < bytes) /* a short file or device: the test would judge a cache that was never filled */
		_exit(6);
	if (ready_fd >= 0 && write(ready_fd, "x", 1) != 1)
		_exit(5);
	pause();
	_exit(0);
}

pid_t cgt_spawn_rereader(const struct cgt *cg, const char *path, uint64_t bytes, double seconds, int ready_fd)
{
	static char buf[1 << 16];
	pid_t pid = fork_into(cg);
	double end;
	int fd;

	if (pid)
		return pid;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		_exit(4);
	for (end = now_s() + seconds; now_s() < end;) {
		uint64_t done = 0;
		ssize_t n;

		while (done < bytes && (n = pread(fd, buf, sizeof(buf), (off_t)done)) > 0)
			done += (uint64_t)n;
		if (done < bytes)
			_exit(6);
	}
	if (ready_fd >= 0 && write(ready_fd, "x", 1) != 1)
		_exit(5);
	pause();
	_exit(0);
}

/* tmpfs and ramfs pages are shmem or unevictable, never inactive file cache: those would test nothing here */
static bool real_page_cache(const char *dir)
{
	struct statfs sfs;

	return statfs(dir, &sfs) == 0 && sfs.f_type != TMPFS_MAGIC && sfs.f_type != RAMFS_MAGIC;
}

int cgt_scratch_file(uint64_t bytes, char *buf, size_t len)
{
	static const char *const dirs[] = {"/var/tmp", "/tmp", "."};
	const char *dev = getenv("CGP_TEST_SCRATCH_DEV");
	static char chunk[1 << 20];
	int fd, err = -ENOENT;

	if (dev && *dev) { /* a block device: its page cache is file cache too, no filesystem needed */
		snprintf(buf, len, "%s", dev);
		fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
		return 0;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && err; i++) {
		if (!real_page_cache(dirs[i]))
			continue;
		snprintf(buf, len, "%s/cgpulse-test-scratch-%d", dirs[i], getpid());
		fd = open(buf, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			continue;
		err = 0;
		memset(chunk, 'x', sizeof(chunk));
		for (uint64_t done = 0; !err && done < bytes; done += sizeof(chunk))
			if (write(fd, chunk, sizeof(chunk)) != (ssize_t)sizeof(chunk))
				err = -EIO;
		/* written back and dropped: the reader's cgroup, not ours, is charged for the pages it reads */
		if (!err && (fsync(fd) || posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)))
			err = -EIO;
		close(fd);
		if (err)
			unlink(buf);
	}
	return err;
}

void cgt_scratch_done(const char *path)
{
	if (strncmp(path, "/dev/", 5))
		unlink(path);
}

pid_t cgt_oom_kill(const struct cgt *cg)
{
	pid_t pid = cgt_spawn_toucher(cg, 64ULL << 20, -1);
	int st;

	if (pid <= 0 || cgt_wait(pid, &st))
		return -1;
	return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? pid : -1;
}

int cgt_wait(pid_t pid, int *status)
{
	int st = 0;

	if (waitpid(pid, &st, 0) < 0)
		return -errno;
	if (status)
		*status = st;
	return 0;
}

bool cgt_can_run(void)
{
	if (geteuid() != 0) {
		printf("SKIP: kernel tests need root (BPF, cgroups)\n");
		return false;
	}
	return true;
}
