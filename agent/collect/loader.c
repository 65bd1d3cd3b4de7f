// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/wait.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/types.h>
#include "cgpulse.h"
#include "cgpulse.skel.h"
#include "lib/clock.h"
#include "collect/btf_slim.h"
#include "collect/features.h"
#include "collect/loader.h"
#include "lib/log.h"

static void skip(struct cgp_bpf *b, const char *name, const char *why)
{
	if (b->n_skipped < CGP_MAX_PROGS)
		b->skipped[b->n_skipped++] = (struct cgp_prog_skip){name, why};
}

/* The typedef btf_trace_<tp> exists for every raw tracepoint the kernel has. */
static bool kernel_has_tp(const struct btf *vmlinux, const char *tp)
{
	char name[128];

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	return btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
}

/* mark_victim passes (struct task_struct *, uid_t) since v6.1-era kernels and an int pid before. */
static bool mark_victim_passes_task(const struct btf *vmlinux)
{
	int id = btf__find_by_name_kind(vmlinux, "btf_trace_mark_victim", BTF_KIND_TYPEDEF);
	const struct btf_type *t;
	const struct btf_param *p;

	if (id <= 0)
		return false;
	t = btf__type_by_id(vmlinux, id);
	t = btf__type_by_id(vmlinux, t->type); /* pointer */
	if (!t || !btf_is_ptr(t))
		return false;
	t = btf__type_by_id(vmlinux, t->type); /* func proto */
	if (!t || !btf_is_func_proto(t) || btf_vlen(t) < 2)
		return false;
	p = btf_params(t);
	t = btf__type_by_id(vmlinux, p[1].type); /* param 0 is the void *ctx */
	return t && btf_is_ptr(t);
}

static int ensure_bpffs(const char *pin_dir)
{
	struct statfs sfs;

	if (statfs("/sys/fs/bpf", &sfs) == 0 && sfs.f_type == BPF_FS_MAGIC)
		goto mkdir;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL)) {
		cgp_err("mounting bpffs at /sys/fs/bpf: %s", strerror(errno));
		return -errno;
	}
	cgp_info("mounted bpffs at /sys/fs/bpf");
mkdir:
	if (mkdir(pin_dir, 0700) && errno != EEXIST) {
		cgp_err("creating %s: %s", pin_dir, strerror(errno));
		return -errno;
	}
	return 0;
}

static void link_pin_path(char *buf, size_t len, const char *dir, const char *prog)
{
	snprintf(buf, len, "%s/link_%s", dir, prog);
}

int cgp_bpf_unpin_dir(const char *dir)
{
	struct dirent *de;
	char p[512];
	DIR *d = opendir(dir);

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.') {
			snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
			unlink(p);
		}
	closedir(d);
	return rmdir(dir) ? -errno : 0;
}

uint32_t cgp_sweep_ring_bytes(uint64_t cgroups, uint32_t max_cgroups)
{
	const uint64_t rec = (sizeof(struct cgp_cgroup_rec) + 8 + 7) / 8 * 8; /* + the ring's record header */
	uint64_t want = cgroups * rec, most = (uint64_t)max_cgroups * rec, bytes = CGP_SWEEP_RING_BYTES;

	if (want > most)
		want = most;
	while (bytes < want && bytes < (1ULL << 30))
		bytes *= 2;
	return (uint32_t)bytes;
}

static int set_sizes(struct cgp_bpf *b, const struct cgp_loader_opts *o)
{
	struct cgpulse_bpf *s = b->skel;
	struct bpf_map *maps[] = {s->maps.cgroup_slot, s->maps.cgroup_cpu, s->maps.cgroup_runq, s->maps.free_slots};
	long page = sysconf(_SC_PAGESIZE);
	struct bpf_map *m;
	char path[512];

	b->max_cgroups = o->max_cgroups ? o->max_cgroups : CGP_MAX_CGROUPS;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++)
		if (bpf_map__set_max_entries(maps[i], b->max_cgroups))
			return -EINVAL;
	/* the sweep's hints, by css id, one span a kind of walk (bpf/sweep_hint.bpf.h) */
	s->rodata->iter_hint_span = b->max_cgroups;
	if (bpf_map__set_max_entries(s->maps.id_hint, CGP_HINT_KINDS * b->max_cgroups))
		return -EINVAL;
	/* A walk that does not fit goes on in further passes, each walking again past what the earlier ones wrote
	 * (bpf/sweep_pass.bpf.h): at 10,000 cgroups, 8 passes a hierarchy visited 4.5x the cgroups and doubled the
	 * sweep's kernel time. So the ring holds the cgroups there are at load (the 512 KiB floor up to ~1,360:
	 * the agent's RSS at 1,000 is unchanged); a host that grows later gets passes again. */
	b->sweep_ring_bytes = o->sweep_ring_bytes ? o->sweep_ring_bytes
						  : cgp_sweep_ring_bytes(cgp_cgroupfs_count(&b->fs), b->max_cgroups);
	if (bpf_map__set_max_entries(s->maps.sweep_records, b->sweep_ring_bytes))
		return -EINVAL;
	s->rodata->cgp_load_mono_ns = cgp_mono_ns();
	s->rodata->oom_page_size = page;
	s->rodata->iter_page_size = page;
	s->rodata->iter_nr_cpus = b->nr_cpus;
	bpf_object__for_each_map(m, s->obj)
	{
		/* sweep_records holds nothing across sweeps, and its size follows the host: never pinned */
		if (!bpf_map__is_internal(m) && b->pin_dir[0] && m != s->maps.sweep_records) {
			snprintf(path, sizeof(path), "%s/%s", b->pin_dir, bpf_map__name(m));
			bpf_map__set_pin_path(m, path);
		} else {
			bpf_map__set_pin_path(m, NULL);
		}
	}
	return 0;
}

/* What the load needs to know of the kernel's BTF, read from the whole of it. */
struct btf_facts {
	bool read; /* false: no kernel BTF was readable */
	bool victim_task, css_flush, cgrp_flush, reclaim_tps;
	struct cgp_features features;
};

static void read_facts(const struct btf *vmlinux, struct btf_facts *f)
{
	f->read = true;
	f->victim_task = mark_victim_passes_task(vmlinux);
	f->css_flush = btf__find_by_name_kind(vmlinux, "css_rstat_flush", BTF_KIND_FUNC) > 0;
	f->cgrp_flush = btf__find_by_name_kind(vmlinux, "cgroup_rstat_flush", BTF_KIND_FUNC) > 0;
	f->reclaim_tps = kernel_has_tp(vmlinux, "mm_vmscan_memcg_reclaim_begin") &&
			 kernel_has_tp(vmlinux, "mm_vmscan_memcg_reclaim_end");
	cgp_features_check(vmlinux, &f->features);
}

/* The rstat flush before each sweep (bpf/flush.bpf.c): the program whose kfunc this kernel has, or none. */
static void choose_flush(struct cgp_bpf *b, const struct btf_facts *f)
{
	struct cgpulse_bpf *s = b->skel;
	bool css = f->css_flush, cgrp = !css && f->cgrp_flush;

	bpf_program__set_autoload(s->progs.cgp_flush_css, css);
	bpf_program__set_autoload(s->progs.cgp_flush_cgrp, cgrp);
	b->flush_prog = css ? s->progs.cgp_flush_css : cgrp ? s->progs.cgp_flush_cgrp : NULL;
	s->rodata->iter_cputime_flushed = b->flush_prog != NULL;
	if (!b->flush_prog)
		skip(b, "cgp_flush", "no rstat flush kfunc on this kernel: user and system time not measured");
}

static void choose_programs(struct cgp_bpf *b, const struct btf_facts *f)
{
	struct cgpulse_bpf *s = b->skel;

	b->n_skipped = 0;
	if (!f->read) {
		cgp_info("no kernel BTF readable: keeping default program choices");
		return;
	}
	if (f->victim_task) {
		bpf_program__set_autoload(s->progs.cgp_oom_victim_pid, false);
	} else {
		bpf_program__set_autoload(s->progs.cgp_oom_victim, false);
		skip(b, "cgp_oom_victim", "mark_victim passes a pid on this kernel, using tracepoint/oom/mark_victim");
	}
	choose_flush(b, f);
	if (!f->reclaim_tps) {
		bpf_program__set_autoload(s->progs.cgp_reclaim_in, false);
		bpf_program__set_autoload(s->progs.cgp_reclaim_out, false);
		skip(b, "cgp_reclaim_in/out",
		     "no vmscan memcg reclaim tracepoints on this kernel: reclaim stall time not measured");
	}
	b->features = f->features;
}

static int write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/* The whole kernel BTF is read in a child process, whose megabytes never count in ours: it sends back the
 * facts, and writes the slim BTF (collect/btf_slim.h) into a memfd, which is returned (-1 when there is none). */
static int slim_btf(struct cgp_bpf *b, struct btf_facts *f)
{
	int p[2], fd = memfd_create("cgpulse-vmlinux-btf", MFD_CLOEXEC), status;
	struct btf_facts got;
	char ok = 0;
	pid_t pid;

	if (fd < 0 || pipe2(p, O_CLOEXEC)) {
		cgp_info("reading the kernel BTF apart: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		struct btf *v = btf__load_vmlinux_btf();
		struct btf_facts cf = {0};
		size_t size = 0;
		void *raw = NULL;

		if (v) {
			read_facts(v, &cf);
			raw = cgp_btf_slim(v, b->skel->obj, &size);
		}
		ok = raw && !write_all(fd, raw, size);
		_exit(write_all(p[1], &cf, sizeof(cf)) || write_all(p[1], &ok, 1) ? 1 : 0);
	}
	close(p[1]);
	if (pid > 0 && read(p[0], &got, sizeof(got)) == (ssize_t)sizeof(got) && read(p[0], &ok, 1) == 1)
		*f = got;
	else
		ok = 0;
	close(p[0]);
	if (pid > 0)
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	if (ok != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

#define KERNEL_BTF_DIR "/sys/kernel/btf"

/* Where the agent was before the slim BTF's namespace, to go back to after the load: staying in a private mount
 * namespace for the agent's life would hide from it every mount the node makes later (no propagation there). */
struct mnt_home {
	int ns, cwd;
};

static void home_forget(struct mnt_home *h)
{
	if (h->ns >= 0)
		close(h->ns);
	if (h->cwd >= 0)
		close(h->cwd);
	h->ns = h->cwd = -1;
}

static void go_home(struct mnt_home *h)
{
	/* setns resets the working directory to the namespace's root: relative paths (--playbook, read again on
	 * SIGHUP) must keep meaning what they meant */
	if (setns(h->ns, CLONE_NEWNS) || fchdir(h->cwd))
		cgp_err("back to the node's mount namespace after the load: %s (mounts made from now on are not "
			"seen)",
			strerror(errno));
	home_forget(h);
}

/* libbpf 1.1 reads the kernel BTF from /sys/kernel/btf/vmlinux and from nowhere we could name: in a mount
 * namespace of our own, a tmpfs over that directory holds the slim copy, for the load only. (A memfd cannot be
 * bound there: it is on no mount of ours.) On success the caller goes home after the load. */
static int show_slim(int fd, struct mnt_home *home)
{
	struct stat st;
	off_t off = 0;
	int out, err = 0;

	home->ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	home->cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (home->ns < 0 || home->cwd < 0 || fstat(fd, &st) || unshare(CLONE_NEWNS)) {
		err = -errno;
		home_forget(home);
		return err;
	}
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("cgpulse-btf", KERNEL_BTF_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755")) {
		err = -errno;
		go_home(home);
		return err;
	}
	out = open(KERNEL_BTF_DIR "/vmlinux", O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
	if (out < 0)
		err = -errno;
	while (!err && off < st.st_size) {
		ssize_t w = sendfile(out, fd, &off, (size_t)(st.st_size - off));

		if (w <= 0)
			err = w < 0 ? -errno : -EIO;
	}
	if (out >= 0)
		close(out);
	if (err)
		go_home(home); /* the namespace, tmpfs and all, goes with its last member */
	return err;
}

static int load(struct cgp_bpf *b, int slim_fd)
{
	struct mnt_home home = {-1, -1};
	int err = slim_fd >= 0 ? show_slim(slim_fd, &home) : -ENOENT;

	if (slim_fd >= 0 && err)
		cgp_info("loading against the whole kernel BTF: placing the slim copy: %s", strerror(-err));
	b->btf_slim = !err;
	err = cgpulse_bpf__load(b->skel);
	if (b->btf_slim)
		go_home(&home);
	return err;
}

static int attach_all(struct cgp_bpf *b)
{
	struct bpf_program *p;
	struct bpf_link *l;
	char path[512];
	int err;

	bpf_object__for_each_program(p, b->skel->obj)
	{
		const char *name = bpf_program__name(p);

		/* iterators are read, and cgp_tick is run on each CPU, by the sampler: neither is attached */
		if (!bpf_program__autoload(p) || bpf_program__expected_attach_type(p) == BPF_TRACE_ITER ||
		    p == b->skel->progs.cgp_tick)
			continue;
		if (b->pin_dir[0]) {
			/* an earlier agent's link stays attached until its pin goes: replace it, don't double count.
			 * No time is lost in between: figures are deltas of the kernel's own per-task counters. */
			link_pin_path(path, sizeof(path), b->pin_dir, name);
			unlink(path);
		}
		l = bpf_program__attach(p);
		if (!l) {
			err = -errno;
			cgp_err("attaching %s: %s", name, strerror(-err));
			return err;
		}
		if (b->pin_dir[0] && bpf_link__pin(l, path))
			cgp_info("pinning %s: %s (it stays attached only while this agent runs)", path,
				 strerror(errno));
		/* the skeleton destroys links it knows about; keep ours in a list via the skeleton's slots */
		for (int i = 0; i < b->skel->skeleton->prog_cnt; i++)
			if (*b->skel->skeleton->progs[i].prog == p)
				*b->skel->skeleton->progs[i].link = l;
		if (b->n_attached < CGP_MAX_PROGS)
			b->attached[b->n_attached++] = name;
	}
	return 0;
}

static struct bpf_link *attach_iter(struct bpf_program *p, int cgroup_fd, enum bpf_cgroup_iter_order order)
{
	union bpf_iter_link_info info = {};
	LIBBPF_OPTS(bpf_iter_attach_opts, opts);

	info.cgroup.cgroup_fd = cgroup_fd;
	info.cgroup.order = order;
	opts.link_info = &info;
	opts.link_info_len = sizeof(info);
	return bpf_program__attach_iter(p, &opts);
}

int cgp_bpf_open(struct cgp_bpf *b, const struct cgp_loader_opts *o)
{
	struct btf_facts facts = {0};
	int err, slim_fd = -1;

	memset(b, 0, sizeof(*b));
	b->fs.v2_fd = b->fs.mem_fd = b->fs.cpu_fd = -1;
	cgp_log_setup_libbpf();
	b->nr_cpus = libbpf_num_possible_cpus();
	if (b->nr_cpus <= 0)
		return -EINVAL;
	err = cgp_cgroupfs_open(&b->fs);
	if (err)
		return err;
	if (o->pin_dir) {
		snprintf(b->pin_dir, sizeof(b->pin_dir), "%s", o->pin_dir);
		err = ensure_bpffs(b->pin_dir);
		if (err)
			goto fail;
	}
	for (int attempt = 0;; attempt++) {
		b->skel = cgpulse_bpf__open();
		if (!b->skel) {
			err = -errno;
			cgp_err("opening the BPF object: %s", strerror(-err));
			goto fail;
		}
		err = set_sizes(b, o);
		if (err)
			goto fail;
		if (!attempt && !o->full_btf)
			slim_fd = slim_btf(b, &facts);
		if (!facts.read) { /* no child's facts: read the whole BTF here */
			struct btf *v = btf__load_vmlinux_btf();

			if (v)
				read_facts(v, &facts);
			btf__free(v);
		}
		choose_programs(b, &facts);
		err = load(b, attempt ? -1 : slim_fd);
		if (!err || !b->btf_slim)
			break;
		cgp_info("loading against the slim kernel BTF: %s; loading against the whole of it", strerror(-err));
		cgpulse_bpf__destroy(b->skel);
		b->skel = NULL;
	}
	if (slim_fd >= 0)
		close(slim_fd);
	slim_fd = -1;
	if (err) {
		cgp_err("loading the BPF programs: %s%s", strerror(-err),
			err == -EINVAL && b->pin_dir[0]
			    ? " (maps pinned under the pin dir by an agent with other sizes? "
			      "`cgpulse cleanup` removes them)"
			    : "");
		goto fail;
	}
	err = attach_all(b);
	if (err)
		goto fail;
	b->agent_state = mmap(NULL, sizeof(*b->agent_state), PROT_READ | PROT_WRITE, MAP_SHARED,
			      bpf_map__fd(b->skel->maps.agent_state), 0);
	if (b->agent_state == MAP_FAILED) {
		cgp_info("mapping agent_state: %s (a restart will not name this instance)", strerror(errno));
		b->agent_state = NULL;
	}
	b->iter_v2 = attach_iter(b->skel->progs.cgp_cg_stats, b->fs.v2_fd, BPF_CGROUP_ITER_DESCENDANTS_PRE);
	if (!b->iter_v2) {
		err = -errno;
		cgp_err("attaching the cgroup iterator to %s: %s", b->fs.v2_mount, strerror(-err));
		goto fail;
	}
	if (b->fs.hybrid) {
		b->iter_mem = attach_iter(b->skel->progs.cgp_cg_stats, b->fs.mem_fd, BPF_CGROUP_ITER_DESCENDANTS_PRE);
		if (!b->iter_mem) {
			err = -errno;
			cgp_err("attaching the cgroup iterator to %s: %s", b->fs.mem_mount, strerror(-err));
			goto fail;
		}
	}
	if (b->fs.cpu_fd >= 0) {
		b->iter_cpu = attach_iter(b->skel->progs.cgp_cg_stats, b->fs.cpu_fd, BPF_CGROUP_ITER_DESCENDANTS_PRE);
		if (!b->iter_cpu) {
			err = -errno;
			cgp_err("attaching the cgroup iterator to %s: %s", b->fs.cpu_mount, strerror(-err));
			goto fail;
		}
	}
	if (b->flush_prog) { /* the cgroup2 root alone: its flush covers the whole tree */
		b->iter_flush = attach_iter(b->flush_prog, b->fs.v2_fd, BPF_CGROUP_ITER_SELF_ONLY);
		if (!b->iter_flush) {
			err = -errno;
			cgp_err("attaching the rstat flush iterator to %s: %s", b->fs.v2_mount, strerror(-err));
			goto fail;
		}
	}
	for (size_t i = 0; i < b->n_skipped; i++)
		cgp_info("skipped %s: %s", b->skipped[i].name, b->skipped[i].why);
	return 0;
fail:
	if (slim_fd >= 0)
		close(slim_fd);
	cgp_bpf_close(b, true);
	return err;
}

void cgp_bpf_attached_line(const struct cgp_bpf *b, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (size_t i = 0; i < b->n_attached && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? " " : "", b->attached[i]);
}

size_t cgp_bpf_prog_stats(const struct cgp_bpf *b, struct cgp_bpf_prog_stat *out, size_t max)
{
	struct bpf_program *p;
	size_t n = 0;

	bpf_object__for_each_program(p, b->skel->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (n >= max || bpf_program__fd(p) < 0 || bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			continue;
		out[n++] = (struct cgp_bpf_prog_stat){bpf_program__name(p), info.run_time_ns, info.run_cnt};
	}
	return n;
}

/* Asked every sweep: the file stays open and is read again at offset 0 (one pread, not fopen+read+close). */
bool cgp_bpf_stats_enabled(void)
{
	static int fd = -1;
	char c = '0';

	if (fd < 0)
		fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, &c, 1, 0) != 1)
		c = '0';
	return c == '1';
}

void cgp_bpf_close(struct cgp_bpf *b, bool unpin)
{
	bpf_link__destroy(b->iter_v2);
	bpf_link__destroy(b->iter_mem);
	bpf_link__destroy(b->iter_cpu);
	bpf_link__destroy(b->iter_flush);
	b->iter_v2 = b->iter_mem = b->iter_cpu = b->iter_flush = NULL;
	if (b->agent_state)
		munmap(b->agent_state, sizeof(*b->agent_state));
	b->agent_state = NULL;
	if (b->skel) {
		if (unpin && b->pin_dir[0]) {
			struct bpf_map *m;

			bpf_object__for_each_map(m, b->skel->obj) if (bpf_map__pin_path(m)) bpf_map__unpin(m, NULL);
			for (int i = 0; i < b->skel->skeleton->prog_cnt; i++)
				if (*b->skel->skeleton->progs[i].link)
					bpf_link__unpin(*b->skel->skeleton->progs[i].link);
		}
		cgpulse_bpf__destroy(b->skel);
		b->skel = NULL;
	}
	if (unpin && b->pin_dir[0])
		rmdir(b->pin_dir);
	cgp_cgroupfs_close(&b->fs);
}

int cgp_bpf_map_fd(const struct cgp_bpf *b)
{
	return b->skel ? bpf_map__fd(b->skel->maps.drops) : -1;
}
