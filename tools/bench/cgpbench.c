// SPDX-License-Identifier: GPL-2.0
/* The benchmark's helper: everything tools/bench/run.sh needs done from C, where a shell would add its own
 * cost to the figure or could not hold kernel objects open. Each subcommand prints key=value or plain lines
 * for run.sh to parse; none of them judges a figure.
 *
 *   hold [--max-cgroups N]        load and attach all cgpulse programs in this process (nothing pinned), print
 *                                 "prog NAME ID" / "map NAME ID" lines and "ready", then run one sweep per
 *                                 "sweep" line on stdin until EOF or SIGTERM
 *   populate --n N --procs P [--quota-us Q]
 *                                 create N cgroups (v2, plus the v1 memory and cpu twins on hybrid hosts) under
 *                                 /cgpulse-test-bench-PID, with P sleeping processes spread over them (and a CPU
 *                                 limit of Q µs per 100 ms each, as containers with limits have); print
 *                                 "ready ..."; remove everything at stdin EOF or SIGTERM
 *   sweep [--reps R] [--max-cgroups N] [--settle S] [--ring-bytes B] [--iter-only 1]
 *                                 time cgpulse sweeps against reading the same figures from cgroupfs files
 *                                 (cpu.stat, memory.stat, memory.events, swap, limits, *.pressure); with
 *                                 --iter-only 1 only the iterator program's run time per record
 *   cgtop [--reps R] [--iters K]  CPU time of one systemd-cgtop refresh over the same tree
 *   churn --n N                   create N cgroups, run a short task in each, remove them (cgroup_rmdir load)
 *   stamp                         copy stdin to stdout, each line prefixed with CLOCK_REALTIME ns at arrival */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgpulse.skel.h"
#include "collect/cgroupfs.h"
#include "collect/loader.h"
#include "collect/sampler.h"
#include "names/cgroup_names.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* No SA_RESTART: a blocking read returns EINTR, so every subcommand reaches its clean-up. */
static void catch_signals(void)
{
	struct sigaction sa = {.sa_handler = on_signal};

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* when run.sh dies, we go too, and with us what we created */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
}

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static const char *opt(int argc, char **argv, const char *name, const char *def)
{
	for (int i = 0; i + 1 < argc; i++)
		if (!strcmp(argv[i], name))
			return argv[i + 1];
	return def;
}

/* ---- cgroups ---------------------------------------------------------------------------------------- */

static struct cgp_cgroupfs fs;

static int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

/* The v1 cpu hierarchy of a hybrid host when it is a mount of its own, else NULL: a node's containers live there
 * too (their CPU limits and throttling), so the bench's cgroups do. */
static const char *cpu_v1(void)
{
	return fs.cpu_mount[0] && strcmp(fs.cpu_mount, fs.mem_mount) ? fs.cpu_mount : NULL;
}

static int mk(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s%s", fs.v2_mount, rel);
	if (mkdir(p, 0755) && errno != EEXIST)
		return -errno;
	if (fs.hybrid) {
		snprintf(p, sizeof(p), "%s%s", fs.mem_mount, rel);
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
	}
	if (cpu_v1()) {
		snprintf(p, sizeof(p), "%s%s", cpu_v1(), rel);
		if (mkdir(p, 0755) && errno != EEXIST)
			return -errno;
	}
	return 0;
}

static int enter(const char *rel, pid_t pid)
{
	char p[1024], v[32];
	int err;

	snprintf(v, sizeof(v), "%d", pid);
	snprintf(p, sizeof(p), "%s%s/cgroup.procs", fs.v2_mount, rel);
	err = write_str(p, v);
	if (!err && fs.hybrid) {
		snprintf(p, sizeof(p), "%s%s/cgroup.procs", fs.mem_mount, rel);
		err = write_str(p, v);
	}
	if (!err && cpu_v1()) {
		snprintf(p, sizeof(p), "%s%s/cgroup.procs", cpu_v1(), rel);
		err = write_str(p, v);
	}
	return err;
}

/* Kills whatever still runs in the directory, then removes it; retries while the kernel finishes exits. */
static void rm_one(const char *dir)
{
	char p[1100], line[32];
	FILE *f;

	for (int tries = 0; tries < 200; tries++) {
		if (!rmdir(dir) || errno == ENOENT)
			return;
		if (errno != EBUSY)
			break;
		snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
		f = fopen(p, "re");
		while (f && fgets(line, sizeof(line), f))
			kill(atoi(line), SIGKILL);
		if (f)
			fclose(f);
		usleep(10000);
	}
	fprintf(stderr, "cgpbench: cannot remove %s: %s\n", dir, strerror(errno));
}

static void rm(const char *rel)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s%s", fs.v2_mount, rel);
	rm_one(p);
	if (fs.hybrid) {
		snprintf(p, sizeof(p), "%s%s", fs.mem_mount, rel);
		rm_one(p);
	}
	if (cpu_v1()) {
		snprintf(p, sizeof(p), "%s%s", cpu_v1(), rel);
		rm_one(p);
	}
}

static int open_fs(void)
{
	int err = cgp_cgroupfs_open(&fs);

	if (err)
		fprintf(stderr, "cgpbench: cgroup mounts: %s\n", strerror(-err));
	return err;
}

/* ---- populate ----------------------------------------------------------------------------------------- */

/* A "container": sleeps, waking once a second like a mostly idle service, so that it is switched out in its
 * cgroup while cgpulse is attached and the cgroup gets its per-CPU slot (a cgroup that never ran costs the
 * sweep less than a real one). The period's phase is spread so wakeups do not come in one burst. */
static void sleeper(int go_fd, unsigned phase_us)
{
	char b;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* EOF (the harness closed the pipe) is the go signal; an error means the harness is gone */
	if (read(go_fd, &b, 1) < 0)
		_exit(0);
	usleep(phase_us);
	for (;;)
		sleep(1);
}

/* A CPU limit of quota_us per 100 ms on the cgroup (cpu.max, or the v1 cpu hierarchy's cfs_quota_us). */
static int set_quota(const char *rel, long quota_us)
{
	char p[1024], v[64];

	if (cpu_v1()) {
		snprintf(p, sizeof(p), "%s%s/cpu.cfs_quota_us", cpu_v1(), rel);
		snprintf(v, sizeof(v), "%ld", quota_us);
	} else {
		snprintf(p, sizeof(p), "%s%s/cpu.max", fs.v2_mount, rel);
		snprintf(v, sizeof(v), "%ld 100000", quota_us);
	}
	return write_str(p, v);
}

static int cmd_populate(int argc, char **argv)
{
	long n = atol(opt(argc, argv, "--n", "1000")), procs = atol(opt(argc, argv, "--procs", "0"));
	long quota_us = atol(opt(argc, argv, "--quota-us", "0"));
	char parent[256], rel[300], buf[16];
	pid_t *pids = calloc(procs > 0 ? procs : 1, sizeof(pid_t));
	long made = 0, started = 0;
	int go[2], err = 0;

	if (!pids || open_fs() || pipe2(go, O_CLOEXEC))
		return 1;
	catch_signals();
	snprintf(parent, sizeof(parent), "/cgpulse-test-bench-%d", getpid());
	err = mk(parent);
	for (long i = 0; !err && !stop && i < n; i++, made++) {
		snprintf(rel, sizeof(rel), "%s/cg%05ld", parent, i);
		err = mk(rel);
		if (!err && quota_us > 0)
			err = set_quota(rel, quota_us);
	}
	for (long i = 0; !err && !stop && i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0) {
			err = -errno;
			break;
		}
		if (pid == 0) {
			close(go[1]);
			sleeper(go[0], (unsigned)(i * 997 % 1000) * 1000);
		}
		pids[started++] = pid;
		snprintf(rel, sizeof(rel), "%s/cg%05ld", parent, i * n / procs);
		err = enter(rel, pid);
	}
	close(go[0]);
	close(go[1]); /* EOF on the pipe: every sleeper starts, now inside its cgroup */
	if (err || stop) {
		fprintf(stderr, "cgpbench populate: %s after %ld cgroups, %ld processes\n",
			err ? strerror(-err) : "interrupted", made, started);
	} else {
		printf("ready parent=%s cgroups=%ld procs=%ld\n", parent, n, procs);
		fflush(stdout);
		while (!stop && read(0, buf, sizeof(buf)) > 0)
			;
	}
	for (long i = 0; i < started; i++)
		kill(pids[i], SIGKILL);
	for (long i = 0; i < started; i++)
		waitpid(pids[i], NULL, 0);
	for (long i = made - 1; i >= 0; i--) {
		snprintf(rel, sizeof(rel), "%s/cg%05ld", parent, i);
		rm(rel);
	}
	rm(parent);
	free(pids);
	return err ? 1 : 0;
}

/* ---- churn -------------------------------------------------------------------------------------------- */

static int cmd_churn(int argc, char **argv)
{
	long n = atol(opt(argc, argv, "--n", "100"));
	char parent[256], rel[300];
	int err = 0, go[2];

	if (open_fs())
		return 1;
	catch_signals();
	snprintf(parent, sizeof(parent), "/cgpulse-test-bench-%d-churn", getpid());
	err = mk(parent);
	for (long i = 0; !err && !stop && i < n; i++) {
		pid_t pid;
		char b = 0;

		snprintf(rel, sizeof(rel), "%s/cg%05ld", parent, i);
		if ((err = mk(rel)) || pipe2(go, O_CLOEXEC))
			break;
		pid = fork();
		if (pid == 0) { /* runs once inside the cgroup, so the cgroup owns a slot when it is removed */
			close(go[1]);
			_exit(read(go[0], &b, 1) == 1 ? 0 : 1);
		}
		close(go[0]);
		if (pid > 0) {
			err = enter(rel, pid);
			if (write(go[1], &b, 1) != 1)
				err = -EPIPE;
			waitpid(pid, NULL, 0);
		} else {
			err = -errno;
		}
		close(go[1]);
		rm(rel);
	}
	rm(parent);
	if (err)
		fprintf(stderr, "cgpbench churn: %s\n", strerror(-err));
	else
		printf("churned=%ld\n", n);
	return err ? 1 : 0;
}

/* ---- hold --------------------------------------------------------------------------------------------- */

static int cmd_hold(int argc, char **argv)
{
	struct cgp_loader_opts lo = {.pin_dir = NULL, .max_cgroups = atol(opt(argc, argv, "--max-cgroups", "8192"))};
	struct cgp_sampler sp;
	struct bpf_program *p;
	struct bpf_map *m;
	struct cgp_bpf b;
	char *line = NULL;
	size_t cap = 0;
	int err;

	catch_signals();
	err = cgp_bpf_open(&b, &lo);
	if (err) {
		fprintf(stderr, "cgpbench hold: %s\n", strerror(-err));
		return 1;
	}
	if (cgp_sampler_init(&sp, &b)) {
		cgp_bpf_close(&b, true);
		return 1;
	}
	bpf_object__for_each_program(p, b.skel->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_program__fd(p) >= 0 && !bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			printf("prog %s %u\n", bpf_program__name(p), info.id);
	}
	bpf_object__for_each_map(m, b.skel->obj)
	{
		struct bpf_map_info info = {};
		__u32 len = sizeof(info);

		if (!bpf_obj_get_info_by_fd(bpf_map__fd(m), &info, &len))
			printf("map %s %u\n", bpf_map__name(m), info.id);
	}
	printf("ready nr_cpus=%d max_cgroups=%u\n", b.nr_cpus, b.max_cgroups);
	fflush(stdout);
	while (!stop && getline(&line, &cap, stdin) > 0) {
		if (!strncmp(line, "sweep", 5)) {
			err = cgp_sampler_sweep(&sp);
			printf("swept err=%d records=%" PRIu64 "\n", err, sp.stats.records);
			fflush(stdout);
		}
	}
	free(line);
	cgp_sampler_free(&sp);
	cgp_bpf_close(&b, true);
	return 0;
}

/* ---- sweep -------------------------------------------------------------------------------------------- */

struct paths {
	char **v2;  /* absolute cgroup v2 directories */
	char **mem; /* absolute memory directories, NULL where the cgroup has no memory figures */
	char **cpu; /* absolute directories with the cpu controller (limits, throttling), NULL where it has none */
	bool *psi;  /* the cgroup has pressure files (PSI on; not the root, whose are /proc/pressure) */
	size_t n, cap;
};

static struct cgp_names names;

/* One sweep as the agent makes it: the kernel's walk, then each cgroup's window and its names. */
static int sweep_all(struct cgp_sampler *sp, void (*fn)(const struct cgp_sample *s, const char *path, void *ctx),
		     void *ctx)
{
	struct cgp_sample s;
	size_t it = 0;
	int err = cgp_sampler_sweep(sp);

	while (!err && cgp_sampler_next(sp, &it, &s)) {
		const struct cgp_cgname *n = cgp_names_get(&names, s.cgroup_id, s.ts_ns);

		if (n && !n->removed_ns)
			fn(&s, n->path, ctx);
	}
	return err;
}

static void collect(const struct cgp_sample *s, const char *path, void *ctx)
{
	struct paths *ps = ctx;
	char p[4200];

	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? ps->cap * 2 : 1024;
		ps->v2 = realloc(ps->v2, ps->cap * sizeof(char *));
		ps->mem = realloc(ps->mem, ps->cap * sizeof(char *));
		ps->cpu = realloc(ps->cpu, ps->cap * sizeof(char *));
		ps->psi = realloc(ps->psi, ps->cap * sizeof(bool));
		if (!ps->v2 || !ps->mem || !ps->cpu || !ps->psi)
			abort();
	}
	snprintf(p, sizeof(p), "%s%s", fs.v2_mount, strcmp(path, "/") ? path : "");
	ps->v2[ps->n] = strdup(p);
	ps->mem[ps->n] = ps->cpu[ps->n] = NULL;
	if (s->has_mem) {
		snprintf(p, sizeof(p), "%s%s", fs.mem_mount, strcmp(path, "/") ? path : "");
		ps->mem[ps->n] = strdup(p);
	}
	if (s->has_cpu_bandwidth && strcmp(path, "/")) { /* the root has no cpu.max or cfs quota file */
		snprintf(p, sizeof(p), "%s%s", cpu_v1() ? cpu_v1() : fs.v2_mount, path);
		ps->cpu[ps->n] = strdup(p);
	}
	ps->psi[ps->n] = s->has_psi && strcmp(path, "/");
	ps->n++;
}

static uint64_t sink;

/* What an agent that reads cgroupfs pays for the figures a sweep gives: open/read/close and parse. */
static int read_file(const char *dir, const char *file, char *buf, size_t len)
{
	char p[4300];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

static uint64_t keyed(const char *buf, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			return strtoull(p + kl + 1, NULL, 10);
	return 0;
}

/* "some ... total=N\nfull ... total=M": both totals */
static void pressure(const char *dir, const char *file)
{
	char buf[512], *t;

	if (read_file(dir, file, buf, sizeof(buf)))
		return;
	for (t = buf; (t = strstr(t, "total=")); t += 6)
		sink += strtoull(t + 6, NULL, 10);
}

/* Every figure a sweep gives that a file has, from the files an agent without BPF would read: CPU time,
 * user/system and (pure v2) throttling from cpu.stat; limits and throttling from the cpu controller's files;
 * usage, limit, memory.stat (working set, anon, file), swap and memory.events; the three pressure files. */
static void read_files(const struct paths *ps)
{
	char buf[8192];

	for (size_t i = 0; i < ps->n; i++) {
		if (!read_file(ps->v2[i], "cpu.stat", buf, sizeof(buf)))
			sink += keyed(buf, "usage_usec") + keyed(buf, "user_usec") + keyed(buf, "system_usec") +
				keyed(buf, "nr_throttled");
		if (ps->psi[i]) {
			pressure(ps->v2[i], "cpu.pressure");
			pressure(ps->v2[i], "memory.pressure");
			pressure(ps->v2[i], "io.pressure");
		}
		if (ps->cpu[i] && cpu_v1()) {
			if (!read_file(ps->cpu[i], "cpu.stat", buf, sizeof(buf)))
				sink += keyed(buf, "nr_throttled") + keyed(buf, "throttled_time");
			if (!read_file(ps->cpu[i], "cpu.cfs_quota_us", buf, sizeof(buf)))
				sink += strtoull(buf, NULL, 10);
			if (!read_file(ps->cpu[i], "cpu.cfs_period_us", buf, sizeof(buf)))
				sink += strtoull(buf, NULL, 10);
		} else if (ps->cpu[i] && !read_file(ps->cpu[i], "cpu.max", buf, sizeof(buf))) {
			sink += buf[0] == 'm' ? 0 : strtoull(buf, NULL, 10);
		}
		if (!ps->mem[i])
			continue;
		if (!read_file(ps->mem[i], "memory.stat", buf, sizeof(buf)))
			sink += keyed(buf, fs.hybrid ? "total_inactive_file" : "inactive_file") +
				keyed(buf, fs.hybrid ? "total_rss" : "anon") +
				keyed(buf, fs.hybrid ? "total_cache" : "file");
		if (fs.hybrid) {
			if (!read_file(ps->mem[i], "memory.usage_in_bytes", buf, sizeof(buf)))
				sink += strtoull(buf, NULL, 10);
			if (!read_file(ps->mem[i], "memory.limit_in_bytes", buf, sizeof(buf)))
				sink += strtoull(buf, NULL, 10);
			if (!read_file(ps->mem[i], "memory.oom_control", buf, sizeof(buf)))
				sink += keyed(buf, "oom_kill");
			if (!read_file(ps->mem[i], "memory.memsw.usage_in_bytes", buf, sizeof(buf)))
				sink += strtoull(buf, NULL, 10);
		} else {
			if (!read_file(ps->mem[i], "memory.current", buf, sizeof(buf)))
				sink += strtoull(buf, NULL, 10);
			if (!read_file(ps->mem[i], "memory.max", buf, sizeof(buf)))
				sink += buf[0] == 'm' ? 0 : strtoull(buf, NULL, 10);
			if (!read_file(ps->mem[i], "memory.events", buf, sizeof(buf)))
				sink += keyed(buf, "oom_kill") + keyed(buf, "max") + keyed(buf, "high");
			if (!read_file(ps->mem[i], "memory.swap.current", buf, sizeof(buf)))
				sink += strtoull(buf, NULL, 10);
		}
	}
}

static void count_sample(const struct cgp_sample *s, const char *path, void *ctx)
{
	(void)ctx;
	(void)path;
	/* what a consumer would at least touch */
	sink += s->cpu_ns_total + s->mem_bytes + s->mem_working_set_bytes + s->cpu_throttled_periods +
		s->psi_total_ns[CGP_PSI_MEM_SOME];
}

static void prog_stats(struct bpf_program *p, uint64_t *ns, uint64_t *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	*ns = *cnt = 0;
	if (!bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len)) {
		*ns = info.run_time_ns;
		*cnt = info.run_cnt;
	}
}

/* memlock as the kernel reports it for the map (the figure `bpftool map show` prints, from fdinfo) */
static uint64_t map_memlock(int fd)
{
	char p[64], line[256];
	uint64_t v = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	f = fopen(p, "re");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "memlock:", 8))
			v = strtoull(line + 8, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static bool percpu_type(enum bpf_map_type t)
{
	return t == BPF_MAP_TYPE_PERCPU_ARRAY || t == BPF_MAP_TYPE_PERCPU_HASH || t == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

static uint64_t tv_ns(const struct timeval *t)
{
	return (uint64_t)t->tv_sec * 1000000000ULL + (uint64_t)t->tv_usec * 1000ULL;
}

/* Times `reps` sweeps against `reps` reads of the files, alternating, so drift on a shared machine hits both the
 * same; prints "<prefix>sweep_ns=..." and "<prefix>files_ns=..." lists, and each sweep's system and user CPU time
 * (getrusage: the kernel's walks run in this process, inside its read() of each iterator). */
static int timed_phase(struct cgp_sampler *sp, const struct paths *ps, int reps, const char *prefix)
{
	uint64_t t0, sw, fl;
	char swl[4096] = "", fll[4096] = "", sysl[4096] = "", usrl[4096] = "";
	size_t so = 0, fo = 0, yo = 0, uo = 0;
	struct rusage r0, r1;
	int err = 0;

	for (int r = 0; !err && !stop && r < reps; r++) {
		getrusage(RUSAGE_SELF, &r0);
		t0 = now_ns(CLOCK_MONOTONIC);
		err = sweep_all(sp, count_sample, NULL);
		sw = now_ns(CLOCK_MONOTONIC) - t0;
		getrusage(RUSAGE_SELF, &r1);
		t0 = now_ns(CLOCK_MONOTONIC);
		read_files(ps);
		fl = now_ns(CLOCK_MONOTONIC) - t0;
		so += snprintf(swl + so, so < sizeof(swl) ? sizeof(swl) - so : 0, "%s%" PRIu64, r ? "," : "", sw);
		fo += snprintf(fll + fo, fo < sizeof(fll) ? sizeof(fll) - fo : 0, "%s%" PRIu64, r ? "," : "", fl);
		yo += snprintf(sysl + yo, yo < sizeof(sysl) ? sizeof(sysl) - yo : 0, "%s%" PRIu64, r ? "," : "",
			       tv_ns(&r1.ru_stime) - tv_ns(&r0.ru_stime));
		uo += snprintf(usrl + uo, uo < sizeof(usrl) ? sizeof(usrl) - uo : 0, "%s%" PRIu64, r ? "," : "",
			       tv_ns(&r1.ru_utime) - tv_ns(&r0.ru_utime));
	}
	printf("%ssweep_ns=%s\n%sfiles_ns=%s\n", prefix, swl, prefix, fll);
	printf("%ssweep_sys_ns=%s\n%ssweep_user_ns=%s\npasses=%" PRIu64 "\n", prefix, sysl, prefix, usrl,
	       sp->stats.passes);
	fflush(stdout);
	return err;
}

static int cmd_sweep(int argc, char **argv)
{
	int reps = atoi(opt(argc, argv, "--reps", "5"));
	double settle = atof(opt(argc, argv, "--settle", "1.5"));
	double steady = atof(opt(argc, argv, "--steady-after", "0"));
	/* only the iterator program's run time per record (tools/bench/sweep_split.sh): no files, no timed phases */
	bool iter_only = atoi(opt(argc, argv, "--iter-only", "0"));
	struct cgp_loader_opts lo = {.pin_dir = NULL,
				     .max_cgroups = atol(opt(argc, argv, "--max-cgroups", "16384")),
				     .sweep_ring_bytes = atol(opt(argc, argv, "--ring-bytes", "0"))};
	struct paths ps = {0};
	struct cgp_sampler sp;
	struct bpf_map *m;
	struct cgp_bpf b;
	uint64_t t0, first, ns0, cnt0, ns1, cnt1, recs = 0;
	int err, stats_fd;

	if (open_fs())
		return 1;
	catch_signals();
	err = cgp_bpf_open(&b, &lo);
	if (err || cgp_sampler_init(&sp, &b) || cgp_names_init(&names, &b.fs, NULL, CGP_TOMBSTONE_GRACE_NS)) {
		fprintf(stderr, "cgpbench sweep: loading cgpulse: %s\n", strerror(-err));
		return 1;
	}
	cgp_names_walk(&names, now_ns(CLOCK_REALTIME));
	/* let every sleeper be switched out once with the programs attached, so its cgroup owns a slot */
	usleep((useconds_t)(settle * 1e6));
	first = t0 = now_ns(CLOCK_MONOTONIC);
	err = sweep_all(&sp, collect, &ps);
	printf("first_sweep_ns=%" PRIu64 "\n", now_ns(CLOCK_MONOTONIC) - t0);
	printf("cgroups=%zu records=%" PRIu64 "\n", ps.n, sp.stats.records);
	t0 = now_ns(CLOCK_MONOTONIC);
	if (!iter_only)
		read_files(&ps);
	printf("files_first_ns=%" PRIu64 "\n", now_ns(CLOCK_MONOTONIC) - t0);
	/* right after the first sweep: the cgroups are new to the agent, which may still be classifying them */
	if (!err && !iter_only)
		err = timed_phase(&sp, &ps, reps, "");
	/* and once they are no longer new to it (the agent re-checks new cgroups for container state for a while) */
	if (!err && !iter_only && steady > 0) {
		while (!stop && now_ns(CLOCK_MONOTONIC) - first < (uint64_t)(steady * 1e9))
			usleep(100000);
		err = timed_phase(&sp, &ps, reps, "steady_");
	}
	/* then the iterator program's own cost per cgroup at this size, with run-time stats on only for these extra
	 * sweeps (they add two clock reads per program run, which the timed sweeps above must not pay). The stats
	 * fd keeps them on while open and the kernel turns them off again when it closes. */
	stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	prog_stats(b.skel->progs.cgp_cg_stats, &ns0, &cnt0);
	for (int r = 0; stats_fd >= 0 && !err && !stop && r < 3; r++) {
		err = sweep_all(&sp, count_sample, NULL);
		recs += sp.stats.records;
	}
	prog_stats(b.skel->progs.cgp_cg_stats, &ns1, &cnt1);
	if (stats_fd >= 0)
		close(stats_fd);
	/* run_cnt also counts the iterator's closing call per hierarchy walk, so divide by the calls */
	printf("iter_run_ns=%" PRIu64 " iter_run_cnt=%" PRIu64 " iter_records=%" PRIu64 "\n", ns1 - ns0, cnt1 - cnt0,
	       recs);
	printf("drops_slots_full=%" PRIu64 " cgroups_known=%" PRIu64 "\n", sp.stats.drops[0], sp.stats.cgroups);
	printf("nr_cpus=%d max_cgroups=%u\n", b.nr_cpus, b.max_cgroups);
	bpf_object__for_each_map(m, b.skel->obj)
	{
		int fd = bpf_map__fd(m);
		uint64_t ml = map_memlock(fd), per = 0;

		if (percpu_type(bpf_map__type(m)))
			per = (uint64_t)bpf_map__max_entries(m) * ((bpf_map__value_size(m) + 7) & ~7u);
		/* name memlock entries value_size percpu_bytes_per_cpu */
		printf("map %s %" PRIu64 " %u %u %" PRIu64 "\n", bpf_map__name(m), ml, bpf_map__max_entries(m),
		       bpf_map__value_size(m), per);
	}
	printf("sink=%" PRIu64 "\n", sink % 10);
	cgp_names_free(&names);
	cgp_sampler_free(&sp);
	cgp_bpf_close(&b, true);
	for (size_t i = 0; i < ps.n; i++) {
		free(ps.v2[i]);
		free(ps.mem[i]);
		free(ps.cpu[i]);
	}
	free(ps.v2);
	free(ps.mem);
	free(ps.cpu);
	free(ps.psi);
	return err ? 1 : 0;
}

/* ---- systemd-cgtop ------------------------------------------------------------------------------------ */

/* CPU time (user+sys, µs) of one systemd-cgtop run with the given number of refreshes. */
static int64_t cgtop_cpu_us(int iters)
{
	char n[16];
	struct rusage ru;
	int st;
	pid_t pid;

	snprintf(n, sizeof(n), "%d", iters);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);

		dup2(fd, 0);
		dup2(fd, 1);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* -d 0.01: the refreshes follow each other; the sleeping in between costs no CPU anyway */
		execlp("systemd-cgtop", "systemd-cgtop", "-b", "-r", "-n", n, "-d", "0.01", (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000LL + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

static int cmd_cgtop(int argc, char **argv)
{
	int reps = atoi(opt(argc, argv, "--reps", "3")), iters = atoi(opt(argc, argv, "--iters", "3"));

	catch_signals();
	printf("cgtop_refresh_us=");
	for (int r = 0; r < reps && !stop; r++) {
		/* the difference of a 1-refresh and a (1+K)-refresh run leaves out start-up and the first read */
		int64_t one = cgtop_cpu_us(1), more = cgtop_cpu_us(1 + iters);

		if (one < 0 || more < 0) {
			printf("\n");
			fprintf(stderr, "cgpbench cgtop: systemd-cgtop failed\n");
			return 1;
		}
		printf("%s%" PRId64, r ? "," : "", (more - one) / iters);
	}
	printf("\n");
	return 0;
}

/* ---- stamp -------------------------------------------------------------------------------------------- */

static int cmd_stamp(void)
{
	static char buf[1 << 16];
	size_t len = 0;
	ssize_t n;

	while ((n = read(0, buf + len, sizeof(buf) - len)) > 0) {
		uint64_t t = now_ns(CLOCK_REALTIME);
		char *start = buf, *nl;

		len += n;
		while ((nl = memchr(start, '\n', buf + len - start))) {
			printf("%" PRIu64 " %.*s\n", t, (int)(nl - start), start);
			start = nl + 1;
		}
		len = buf + len - start;
		memmove(buf, start, len);
		if (len == sizeof(buf)) /* one line longer than the buffer: pass it on unstamped */
			len = 0;
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: cgpbench hold|populate|sweep|cgtop|churn|stamp [options]\n");
		return 2;
	}
	if (!strcmp(argv[1], "hold"))
		return cmd_hold(argc - 1, argv + 1);
	if (!strcmp(argv[1], "populate"))
		return cmd_populate(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sweep"))
		return cmd_sweep(argc - 1, argv + 1);
	if (!strcmp(argv[1], "cgtop"))
		return cmd_cgtop(argc - 1, argv + 1);
	if (!strcmp(argv[1], "churn"))
		return cmd_churn(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stamp"))
		return cmd_stamp();
	fprintf(stderr, "cgpbench: unknown command %s\n", argv[1]);
	return 2;
}
