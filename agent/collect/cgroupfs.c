// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "collect/cgroupfs.h"
#include "lib/bytebuf.h"
#include "lib/log.h"

/* mountinfo line: id parent maj:min root mountpoint options - fstype source superoptions */
static int find_mounts(struct cgp_cgroupfs *fs)
{
	char line[4096], mnt[256], fstype[64], super[1024];
	FILE *f = fopen("/proc/self/mountinfo", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");

		if (!dash || sscanf(line, "%*s %*s %*s %*s %255s", mnt) != 1)
			continue;
		if (sscanf(dash, " - %63s %*s %1023s", fstype, super) != 2)
			continue;
		if (!strcmp(fstype, "cgroup2") && !fs->v2_mount[0])
			snprintf(fs->v2_mount, sizeof(fs->v2_mount), "%s", mnt);
		else if (!strcmp(fstype, "cgroup")) {
			char *opt, *save = NULL;

			for (opt = strtok_r(super, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
				if (!strcmp(opt, "memory") && !fs->mem_mount[0])
					snprintf(fs->mem_mount, sizeof(fs->mem_mount), "%s", mnt);
				if (!strcmp(opt, "cpu") && !fs->cpu_mount[0])
					snprintf(fs->cpu_mount, sizeof(fs->cpu_mount), "%s", mnt);
			}
		}
	}
	fclose(f);
	return 0;
}

int cgp_cgroupfs_open(struct cgp_cgroupfs *fs)
{
	struct stat st;
	int err;

	memset(fs, 0, sizeof(*fs));
	fs->v2_fd = fs->mem_fd = fs->cpu_fd = fs->mem_stat_fd = -1;
	err = find_mounts(fs);
	if (err) {
		cgp_err("reading /proc/self/mountinfo: %s", strerror(-err));
		return err;
	}
	if (!fs->v2_mount[0]) {
		cgp_err("no cgroup2 hierarchy is mounted: cgpulse keys every figure by cgroup v2 id");
		return -ENOENT;
	}
	fs->hybrid = fs->mem_mount[0] != 0;
	if (!fs->hybrid)
		snprintf(fs->mem_mount, sizeof(fs->mem_mount), "%s", fs->v2_mount);
	fs->v2_fd = open(fs->v2_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fs->v2_fd < 0 || fstat(fs->v2_fd, &st)) {
		err = -errno;
		cgp_err("opening %s: %s", fs->v2_mount, strerror(errno));
		return err;
	}
	fs->v2_root_id = st.st_ino;
	fs->mem_fd = fs->hybrid ? open(fs->mem_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : fs->v2_fd;
	if (fs->mem_fd < 0) {
		err = -errno;
		cgp_err("opening %s: %s", fs->mem_mount, strerror(errno));
		return err;
	}
	if (fs->cpu_mount[0] && strcmp(fs->cpu_mount, fs->mem_mount)) {
		fs->cpu_fd = open(fs->cpu_mount, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fs->cpu_fd < 0) {
			err = -errno;
			cgp_err("opening %s: %s", fs->cpu_mount, strerror(errno));
			return err;
		}
	}
	cgp_debug("cgroup2 at %s, memory controller at %s (%s)", fs->v2_mount, fs->mem_mount,
		  fs->hybrid ? "v1, hybrid host" : "v2");
	return 0;
}

void cgp_cgroupfs_close(struct cgp_cgroupfs *fs)
{
	if (fs->mem_stat_fd >= 0)
		close(fs->mem_stat_fd);
	fs->mem_stat_fd = -1;
	if (fs->cpu_fd >= 0)
		close(fs->cpu_fd);
	if (fs->mem_fd >= 0 && fs->mem_fd != fs->v2_fd)
		close(fs->mem_fd);
	if (fs->v2_fd >= 0)
		close(fs->v2_fd);
	fs->v2_fd = fs->mem_fd = fs->cpu_fd = -1;
}

/* The subdirectories of dir (an fd this takes), with their ids, read whole before any is walked: one fd open at
 * a time however deep the tree. */
static int subdirs(int dir, char **names, size_t *len, struct cgp_buf *ids)
{
	DIR *d = fdopendir(dir);
	struct dirent *e;
	size_t used = 0, cap = 0;

	*names = NULL;
	*len = 0;
	if (!d) {
		int err = -errno;

		close(dir);
		return err;
	}
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name) + 1;
		uint64_t ino = e->d_ino; /* the cgroup's id */

		if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (used + n > cap) {
			char *p = realloc(*names, cap = (used + n) * 2);

			if (!p)
				break;
			*names = p;
		}
		if (cgp_buf_append(ids, &ino, sizeof(ino)))
			break;
		memcpy(*names + used, e->d_name, n);
		used += n;
	}
	closedir(d);
	if (e) { /* out of memory */
		free(*names);
		*names = NULL;
		return -ENOMEM;
	}
	*len = used;
	return 0;
}

/* path[0..plen) is the directory's path relative to the mount ("" for the root). */
static void walk_below(int mount_fd, char *path, size_t plen, cgp_cgroup_walk_fn fn, void *ctx)
{
	struct cgp_buf ids = CGP_BUF_INIT;
	char *names;
	size_t len, i = 0;
	int fd = openat(mount_fd, plen ? path + 1 : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || subdirs(fd, &names, &len, &ids)) { /* gone meanwhile, or no memory: skipped */
		cgp_buf_free(&ids);
		return;
	}
	for (const char *n = names; n < names + len; n += strlen(n) + 1, i++) {
		size_t nl = strlen(n);

		if (plen + 1 + nl >= PATH_MAX)
			continue;
		path[plen] = '/';
		memcpy(path + plen + 1, n, nl + 1);
		fn(ctx, ((const uint64_t *)cgp_buf_head(&ids))[i], path);
		walk_below(mount_fd, path, plen + 1 + nl, fn, ctx);
	}
	path[plen] = 0;
	free(names);
	cgp_buf_free(&ids);
}

int cgp_cgroup_walk(int mount_fd, cgp_cgroup_walk_fn fn, void *ctx)
{
	char path[PATH_MAX] = "";
	struct stat st;

	if (fstat(mount_fd, &st))
		return -errno;
	fn(ctx, st.st_ino, "/");
	walk_below(mount_fd, path, 0, fn, ctx);
	return 0;
}

uint64_t cgp_cgroup_id(const char *mount, const char *rel)
{
	char p[4352];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", mount, strcmp(rel, "/") ? rel : "");
	return stat(p, &st) ? 0 : st.st_ino;
}

int cgp_cgroupfs_flush_mem_stats(struct cgp_cgroupfs *fs)
{
	char c;

	if (fs->mem_stat_fd < 0) {
		fs->mem_stat_fd = openat(fs->mem_fd, "memory.stat", O_RDONLY | O_CLOEXEC);
		if (fs->mem_stat_fd < 0)
			return -errno;
	}
	/* the kernel flushes before it prints the first line: one byte is enough, the rest is never formatted */
	return pread(fs->mem_stat_fd, &c, 1, 0) < 0 ? -errno : 0;
}

/* "key value" from a file of such lines at dir_fd, or 0 */
static uint64_t keyed_value(int dir_fd, const char *file, const char *key)
{
	char buf[512], *p;
	size_t kl = strlen(key);
	uint64_t v = 0;
	ssize_t n;
	int fd = openat(dir_fd, file, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ' ')
			v = strtoull(p + kl + 1, NULL, 10);
	return v;
}

uint64_t cgp_cgroupfs_count(const struct cgp_cgroupfs *fs)
{
	uint64_t most = 0, d;
	unsigned long long n;
	char line[256];
	FILE *f;

	if (fs->v2_fd >= 0 && (d = keyed_value(fs->v2_fd, "cgroup.stat", "nr_descendants")))
		most = d + 1;
	f = fopen("/proc/cgroups", "re"); /* subsys_name hierarchy num_cgroups enabled */
	while (f && fgets(line, sizeof(line), f))
		if (line[0] != '#' && sscanf(line, "%*s %*d %llu", &n) == 1 && n > most)
			most = n;
	if (f)
		fclose(f);
	return most;
}

int cgp_cgroupfs_swap_accounted(const struct cgp_cgroupfs *fs)
{
	struct dirent *de;
	char p[4400];
	int fd, r = -1;
	DIR *d;

	if (fs->hybrid) /* v1: the root has the memsw files too */
		return faccessat(fs->mem_fd, "memory.memsw.usage_in_bytes", F_OK, 0) == 0;
	fd = openat(fs->mem_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while (r < 0 && (de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/memory.current", de->d_name);
		if (faccessat(fs->mem_fd, p, F_OK, 0))
			continue; /* the memory controller is off there */
		snprintf(p, sizeof(p), "%s/memory.swap.current", de->d_name);
		r = faccessat(fs->mem_fd, p, F_OK, 0) == 0;
	}
	closedir(d);
	return r;
}

bool cgp_cgroup_has_other_procs(const struct cgp_cgroupfs *fs, const char *rel, uint32_t tgid)
{
	char p[4608], buf[64];
	bool alive = false;
	FILE *f;

	snprintf(p, sizeof(p), "%s%s/cgroup.procs", fs->v2_mount, strcmp(rel, "/") ? rel : "");
	f = fopen(p, "re");
	if (!f)
		return false;
	while (!alive && fgets(buf, sizeof(buf), f))
		alive = strtoul(buf, NULL, 10) != tgid;
	fclose(f);
	return alive;
}
