// SPDX-License-Identifier: GPL-2.0
/* Idle time, removed cgroups, pinned maps readable with bpftool, counters kept across an agent restart, and each
 * ring record read once while two agents' programs overlap. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgpulse.skel.h"
#include "cgtest.h"

static struct agentfx fx;
static struct cgt cg;
static char pin_dir[64];

static int teardown(void **state)
{
	(void)state;
	cgt_destroy(&cg);
	fx_close(&fx);
	if (pin_dir[0])
		cgp_bpf_unpin_dir(pin_dir);
	return 0;
}

static uint64_t proc_stat_busy_idle(uint64_t *idle)
{
	unsigned long long v[10] = {};
	FILE *f = fopen("/proc/stat", "re");

	if (!f || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			 &v[6], &v[7]) != 8) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	*idle = v[3] + v[4];
	/* steal (v[7]) is time the hypervisor took from a vCPU: no task ran, so no cgroup is charged for it */
	return v[0] + v[1] + v[2] + v[5] + v[6];
}

/* Over a window where one CPU burns and the rest idles, the CPU time charged to all cgroups together follows
 * /proc/stat's busy time, not busy + idle: the idle task (pid 0) is charged to no cgroup. */
static void test_idle_lands_nowhere(void **state)
{
	uint64_t b0, b1, i0, i1, sum = 0;
	long hz = sysconf(_SC_CLK_TCK);
	double busy_s, idle_s, ours_s;

	(void)state;
	assert_int_equal(fx_open(&fx, NULL), 0);
	assert_int_equal(cgt_create(&cg, "idle"), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	b0 = proc_stat_busy_idle(&i0);
	assert_int_equal(cgt_wait(cgt_spawn_burner(&cg, 0, 1.0), NULL), 0);
	usleep(500000);
	assert_int_equal(fx_sweep(&fx), 0);
	b1 = proc_stat_busy_idle(&i1);
	for (size_t i = 0; i < fx.n; i++)
		sum += fx.rows[i].s.cpu_ns_window;
	busy_s = (double)(b1 - b0) / hz;
	idle_s = (double)(i1 - i0) / hz;
	ours_s = sum / 1e9;
	printf("# idle: all cgroups %.3f s, /proc/stat busy %.3f s idle %.3f s\n", ours_s, busy_s, idle_s);
	if (idle_s < 0.5) { /* other load filled the CPUs: idle charged or not would look the same */
		printf("SKIP: only %.2f s of idle time in the window; this test needs a machine that idles\n", idle_s);
		fx_close(&fx);
		cgt_destroy(&cg);
		skip();
	}
	/* tick-based /proc/stat is coarse: allow 0.2 s (or 10%) either way, far less than the idle time */
	assert_true(fabs(ours_s - busy_s) < fmax(0.2, 0.1 * busy_s));
	assert_true(fabs(ours_s - busy_s) < idle_s / 2);
	fx_close(&fx);
	cgt_destroy(&cg);
}

/* rmdir of a cgroup frees its slot in the kernel maps, and the agent forgets it at the next sweep. */
static void test_removed_cgroup_entries_gone(void **state)
{
	uint64_t id;
	__u32 slot;
	int fd;

	(void)state;
	assert_int_equal(fx_open(&fx, NULL), 0);
	assert_int_equal(cgt_create(&cg, "gone"), 0);
	id = cg.id;
	assert_int_equal(cgt_wait(cgt_spawn_burner(&cg, -1, 0.05), NULL), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	assert_non_null(fx_find(&fx, id));
	fd = bpf_map__fd(fx.bpf.skel->maps.cgroup_slot);
	assert_int_equal(bpf_map_lookup_elem(fd, &id, &slot), 0);
	assert_int_equal(cgt_destroy(&cg), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	assert_null(fx_find(&fx, id));
	assert_int_not_equal(bpf_map_lookup_elem(fd, &id, &slot), 0);
	assert_true(fx.sp.stats.cgroups_gone >= 1);
	fx_close(&fx);
}

/* A sweep sees every cgroup, far more than one iterator read buffer holds (32 KiB, ~100 records). */
static void test_sweep_sees_every_cgroup(void **state)
{
	char p[1200];
	size_t rl, seen = 0;

	(void)state;
	assert_int_equal(fx_open(&fx, NULL), 0);
	assert_int_equal(cgt_create(&cg, "many"), 0);
	for (int i = 0; i < 500; i++) {
		snprintf(p, sizeof(p), "%s/c%d", cg.v2, i);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	assert_int_equal(fx_sweep(&fx), 0);
	rl = strlen(cg.rel);
	for (size_t i = 0; i < fx.n; i++)
		if (!strncmp(fx.rows[i].path, cg.rel, rl) && fx.rows[i].path[rl] == '/')
			seen++;
	assert_int_equal(seen, 500);
	assert_int_equal(fx.sp.stats.drops[CGP_DROP_SWEEP_FULL], 0);
	fx_close(&fx);
	assert_int_equal(cgt_destroy(&cg), 0);
}

static int run_cmd(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	size_t n;

	if (!p)
		return -1;
	char sink[4096];

	n = fread(out, 1, len - 1, p);
	out[n] = 0;
	while (fread(sink, 1, sizeof(sink), p) > 0) /* drain: a dump larger than out must not die of SIGPIPE */
		;
	return pclose(p);
}

/* Every pinned map prints its fields by name with `bpftool map dump pinned`, or (ring buffer, task storage:
 * not dumpable) shows its BTF; and a second agent on the same pins continues the counters. */
static void test_pinned_maps_readable_and_kept(void **state)
{
	static const char *dumpable[][2] = {
	    {"cgroup_slot", "\"value\""},    {"cgroup_cpu", "\"cpu_ns\""}, {"cgroup_runq", "\"waits\""},
	    {"slot_alloc", "\"next_slot\""}, {"drops", "\"values\""},
	};
	static char out[1 << 20];
	const struct cgp_sample *s;
	char cmd[256];
	uint64_t first;

	(void)state;
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/cgpulse-test-%d", getpid());
	assert_int_equal(fx_open(&fx, pin_dir), 0);
	assert_int_equal(cgt_create(&cg, "pin"), 0);
	assert_int_equal(cgt_wait(cgt_spawn_burner(&cg, -1, 0.3), NULL), 0);
	for (size_t i = 0; i < sizeof(dumpable) / sizeof(dumpable[0]); i++) {
		snprintf(cmd, sizeof(cmd), "bpftool -j map dump pinned %s/%s 2>&1", pin_dir, dumpable[i][0]);
		assert_int_equal(run_cmd(cmd, out, sizeof(out)), 0);
		if (!strstr(out, dumpable[i][1]))
			fail_msg("%s: %s not in: %.300s", dumpable[i][0], dumpable[i][1], out);
	}
	snprintf(cmd, sizeof(cmd), "bpftool map dump pinned %s/cgroup_cpu 2>&1", pin_dir);
	assert_int_equal(run_cmd(cmd, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "involuntary_switches"));
	for (const char *m = "task_state\0oom_events\0"; *m; m += strlen(m) + 1) {
		snprintf(cmd, sizeof(cmd), "bpftool map show pinned %s/%s 2>&1", pin_dir, m);
		assert_int_equal(run_cmd(cmd, out, sizeof(out)), 0);
		if (!strstr(out, "btf_id") && strcmp(m, "oom_events"))
			fail_msg("%s carries no BTF: %s", m, out);
	}
	assert_int_equal(fx_sweep(&fx), 0);
	s = fx_find(&fx, cg.id);
	assert_non_null(s);
	first = s->cpu_ns_total;
	assert_true(first > 0);
	assert_true(first > cgt_cpu_usage_ns(&cg) * 0.99 && first < cgt_cpu_usage_ns(&cg) * 1.01);
	/* restart: close without unpinning (as --keep-pins), open again on the same pins */
	assert_int_equal(fx_restart(&fx, pin_dir), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	s = fx_find(&fx, cg.id);
	assert_non_null(s);
	assert_true(s->cpu_ns_total >= first);
	fx_close(&fx);
	assert_int_not_equal(access(pin_dir, F_OK), 0); /* closing with unpin removed the pins */
	pin_dir[0] = 0;
	cgt_destroy(&cg);
}

static void count_victim(struct cgp_oom_event *e, void *ctx)
{
	pid_t *victim = ctx;

	if (e->pid == (uint32_t)victim[0] && e->cgroup_id == cg.id)
		victim[1]++;
}

/* Two agents' programs on the same pins at once, as for a moment across a restart with --keep-pins: the new agent
 * takes the old one's link pins away and attaches its own, and the kernel releases a link whose last reference
 * was a pin through a workqueue. Here the first agent still holds its links, so the overlap lasts the whole test:
 * each record is written twice into the pinned rings, the OOM kill is read once, and every second copy is
 * counted, for the cgroup's mkdir and rmdir as for the kill. */
static void test_overlap_reads_each_record_once(void **state)
{
	struct cgp_loader_opts lo = {0};
	struct cgp_rings_stats before, after;
	struct cgp_bpf second;
	pid_t victim[2] = {0, 0}; /* the victim's pid, how often its kill was read */
	uint64_t read;

	(void)state;
	snprintf(pin_dir, sizeof(pin_dir), "/sys/fs/bpf/cgpulse-test-%d", getpid());
	assert_int_equal(fx_open(&fx, pin_dir), 0);
	lo.pin_dir = pin_dir;
	assert_int_equal(cgp_bpf_open(&second, &lo), 0);
	assert_int_equal(fx_consume(&fx), 0);
	before = fx.rings.stats;
	fx.oom = count_victim;
	fx.oom_ctx = victim;
	assert_int_equal(cgt_create(&cg, "overlap"), 0);
	assert_int_equal(cgt_set_mem_limit(&cg, 20ULL << 20), 0);
	victim[0] = cgt_oom_kill(&cg);
	assert_true(victim[0] > 0);
	cgt_destroy(&cg);
	assert_int_equal(fx_consume(&fx), 0);
	after = fx.rings.stats;
	fx.oom = NULL;
	cgp_bpf_close(&second, false); /* its link pins stay: the teardown's unpin takes them with the rest */
	read = (after.cgroup_events - before.cgroup_events) + (after.oom_events - before.oom_events);
	printf("# overlap: %llu records read (%llu cgroup, %llu oom), %llu second copies skipped; the victim's kill "
	       "read %d times\n",
	       (unsigned long long)read, (unsigned long long)(after.cgroup_events - before.cgroup_events),
	       (unsigned long long)(after.oom_events - before.oom_events),
	       (unsigned long long)(after.repeated - before.repeated), victim[1]);
	assert_int_equal(victim[1], 1);
	assert_true(after.cgroup_events - before.cgroup_events >= 2); /* our mkdir and rmdir, at least */
	/* both programs saw everything in between: each record read has its copy skipped */
	assert_int_equal(after.repeated - before.repeated, read);
	assert_int_equal(after.malformed, before.malformed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_idle_lands_nowhere, teardown),
	    cmocka_unit_test_teardown(test_removed_cgroup_entries_gone, teardown),
	    cmocka_unit_test_teardown(test_sweep_sees_every_cgroup, teardown),
	    cmocka_unit_test_teardown(test_pinned_maps_readable_and_kept, teardown),
	    cmocka_unit_test_teardown(test_overlap_reads_each_record_once, teardown),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_lifecycle", tests, NULL, NULL);
}
