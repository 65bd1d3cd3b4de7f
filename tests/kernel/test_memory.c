// SPDX-License-Identifier: GPL-2.0
/* Memory usage, limit, the memory.stat figures (working set, anon, file cache), swap and the memory.events
 * counters per cgroup against the kernel's own files, and the OOM ring-buffer event. */
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgtest.h"
#include "collect/rings.h"
#include "playbook/playbook.h"

static struct agentfx fx;
static struct cgt cg;
static char scratch[512];

#define MIB (1ULL << 20)

/* a within tol (a fraction) of b, or within slack bytes of it (the kernel's per-CPU batches of stats updates) */
static bool near(uint64_t a, uint64_t b, double tol, uint64_t slack)
{
	double d = (double)a - (double)b;

	if (d < 0)
		d = -d;
	return d <= (double)b * tol || d <= (double)slack;
}

/* Every memory.stat figure of the sample against memory.stat read right after the sweep. The flush the sweep
 * asked for and the one this read does leave at most the kernel's per-CPU batch unflushed (64 pages a CPU). */
static void check_mem_stat(const struct cgp_sample *s, const struct cgt *c, const char *what)
{
	uint64_t usage = cgt_mem_usage(c), inactive = cgt_mem_stat(c, "inactive_file"), anon = cgt_mem_stat(c, "anon"),
		 file = cgt_mem_stat(c, "file"), swap = cgt_swap_usage(c);
	uint64_t ws = usage > inactive ? usage - inactive : 0, slack = 64 * 4096 * 4;

	printf("# %s: working set cgpulse %.1f MiB, kernel %.1f MiB; inactive_file %.1f / %.1f; anon %.1f / %.1f; "
	       "file %.1f / %.1f; swap %s %.1f / %.1f MiB\n",
	       what, s->mem_working_set_bytes / (double)MIB, ws / (double)MIB, s->mem_inactive_file_bytes / (double)MIB,
	       inactive / (double)MIB, s->mem_anon_bytes / (double)MIB, anon / (double)MIB,
	       s->mem_file_bytes / (double)MIB, file / (double)MIB, s->has_swap ? "known" : "absent",
	       s->mem_swap_bytes / (double)MIB, swap == UINT64_MAX ? -1.0 : swap / (double)MIB);
	assert_true(s->has_mem_stat);
	assert_true(inactive != UINT64_MAX && anon != UINT64_MAX && file != UINT64_MAX);
	assert_true(near(s->mem_inactive_file_bytes, inactive, 0.02, slack));
	assert_true(near(s->mem_anon_bytes, anon, 0.02, slack));
	assert_true(near(s->mem_file_bytes, file, 0.02, slack));
	assert_true(near(s->mem_working_set_bytes, ws, 0.02, slack));
	/* swap: the kernel's figure when it accounts swap, absent (not 0) when it does not */
	assert_int_equal(s->has_swap, swap != UINT64_MAX);
	if (s->has_swap)
		assert_true(near(s->mem_swap_bytes, swap, 0.02, slack));
}

static int setup(void **state)
{
	(void)state;
	return fx_open(&fx, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cgt_destroy(&cg);
	if (scratch[0])
		cgt_scratch_done(scratch);
	fx_close(&fx);
	return 0;
}

/* A process touching 64 MiB: mem_bytes within 1% of the kernel's usage; the limit equals what was set. */
static void test_memory_matches_kernel(void **state)
{
	const uint64_t limit = 256ULL << 20;
	const struct cgp_sample *s;
	uint64_t before, after;
	int fds[2];
	char c;
	pid_t pid;

	(void)state;
	assert_int_equal(cgt_create(&cg, "mem"), 0);
	assert_int_equal(cgt_set_mem_limit(&cg, limit), 0);
	assert_int_equal(pipe(fds), 0);
	pid = cgt_spawn_toucher(&cg, 64ULL << 20, fds[1]);
	assert_true(pid > 0);
	assert_int_equal(read(fds[0], &c, 1), 1);
	close(fds[0]);
	close(fds[1]);
	before = cgt_mem_usage(&cg);
	assert_int_equal(fx_sweep(&fx), 0);
	after = cgt_mem_usage(&cg);
	s = fx_find(&fx, cg.id);
	assert_non_null(s);
	printf("# memory: cgpulse %lu, kernel %lu..%lu, limit %lu\n", (unsigned long)s->mem_bytes,
	       (unsigned long)before, (unsigned long)after, (unsigned long)s->mem_limit_bytes);
	assert_true(s->has_mem);
	assert_true(before >= 64ULL << 20);
	assert_true(s->mem_bytes >= before * 0.99 && s->mem_bytes <= after * 1.01);
	assert_int_equal(s->mem_limit_bytes, limit);
	assert_int_equal(s->mem_limit_bytes, cgt_mem_limit(&cg));
	check_mem_stat(s, &cg, "64 MiB anon");
	assert_true(s->mem_anon_bytes >= 64 * MIB);
	kill(pid, SIGKILL);
	cgt_wait(pid, NULL);
	cgt_destroy(&cg);
}

struct oom_seen {
	struct cgp_oom_event ev[8];
	int n;
};

static void on_oom(struct cgp_oom_event *e, void *ctx)
{
	struct oom_seen *o = ctx;

	if (o->n < 8)
		o->ev[o->n] = *e;
	o->n++;
}

static int64_t stepped_ns; /* how far this test has stepped the wall clock (undone by the teardown) */

/* Steps the wall clock by ns and keeps count; 0, or -errno. */
static int step_wall_clock(int64_t ns)
{
	struct timespec t;
	int64_t v;

	if (clock_gettime(CLOCK_REALTIME, &t))
		return -errno;
	v = (int64_t)t.tv_sec * 1000000000 + t.tv_nsec + ns;
	t.tv_sec = v / 1000000000;
	t.tv_nsec = v % 1000000000;
	if (clock_settime(CLOCK_REALTIME, &t))
		return -errno;
	stepped_ns += ns;
	return 0;
}

static int64_t wall_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The wall clock stepped after the agent started (NTP's first sync after boot does it): an OOM event's time is
 * still the kill's on the wall clock as it reads now, between the readings taken around it. */
static void test_oom_time_after_clock_step(void **state)
{
	struct oom_seen seen = {};
	int64_t t0, t1, ts = 0;
	int mine = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(cgt_create(&cg, "oomclock"), 0);
	assert_int_equal(cgt_set_mem_limit(&cg, 20ULL << 20), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	assert_int_equal(fx_consume(&fx), 0);
	assert_int_equal(step_wall_clock(3000000000LL), 0);
	fx.oom = on_oom;
	fx.oom_ctx = &seen;
	t0 = wall_ns();
	pid = cgt_oom_kill(&cg);
	assert_int_equal(fx_consume(&fx), 0);
	t1 = wall_ns();
	fx.oom = NULL;
	assert_int_equal(step_wall_clock(-stepped_ns), 0);
	assert_true(pid > 0);
	for (int i = 0; i < seen.n && i < 8; i++)
		if (seen.ev[i].cgroup_id == cg.id) {
			mine++;
			ts = (int64_t)seen.ev[i].ts_ns;
		}
	assert_int_equal(mine, 1);
	printf("# oom after a 3 s clock step: %.3f ms after the reading before it, %.3f ms before the one after\n",
	       (ts - t0) / 1e6, (t1 - ts) / 1e6);
	assert_true(ts >= t0 && ts <= t1);
}

/* A process exceeding 20 MiB: exactly one OOM event for that cgroup and victim, and oom_kills equals the
 * kernel's own counter. */
static void test_oom_kill_reported_once(void **state)
{
	struct oom_seen seen = {};
	const struct cgp_cgname *n;
	const struct cgp_sample *s;
	int mine = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(cgt_create(&cg, "oom"), 0);
	assert_int_equal(cgt_set_mem_limit(&cg, 20ULL << 20), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	fx.oom = on_oom;
	fx.oom_ctx = &seen;
	pid = cgt_oom_kill(&cg);
	assert_true(pid > 0);
	assert_int_equal(fx_consume(&fx), 0);
	fx.oom = NULL;
	for (int i = 0; i < seen.n && i < 8; i++)
		if (seen.ev[i].cgroup_id == cg.id) {
			mine++;
			assert_int_equal(seen.ev[i].pid, pid);
			assert_int_equal(seen.ev[i].tgid, pid);
			n = cgp_names_get_fresh(&fx.names, seen.ev[i].cgroup_id, seen.ev[i].ts_ns);
			assert_non_null(n);
			assert_string_equal(n->path, cg.rel);
			assert_true(seen.ev[i].rss_anon_bytes > (10ULL << 20));
			printf("# oom: pid %u comm %s anon %lu\n", seen.ev[i].pid, seen.ev[i].comm,
			       (unsigned long)seen.ev[i].rss_anon_bytes);
		}
	assert_int_equal(mine, 1);
	assert_int_equal(cgt_oom_kills(&cg), 1);
	assert_int_equal(fx_sweep(&fx), 0);
	s = fx_find(&fx, cg.id);
	assert_non_null(s);
	assert_int_equal(s->oom_kills, cgt_oom_kills(&cg));
	/* the memory.events counters: the kernel's own (v2), or what a v1 hierarchy keeps without printing */
	printf("# memory.events: max %lu oom %lu oom_kill %lu high %s%lu oom_group_kill %s%lu (kernel: max %lu oom %lu "
	       "high %lu oom_group_kill %lu)\n",
	       (unsigned long)s->mem_events_max, (unsigned long)s->mem_events_oom, (unsigned long)s->oom_kills,
	       s->has_mem_events_high ? "" : "absent ", (unsigned long)s->mem_events_high,
	       s->has_mem_events_oom_group_kill ? "" : "absent ", (unsigned long)s->mem_events_oom_group_kill,
	       (unsigned long)cgt_mem_event(&cg, "max"), (unsigned long)cgt_mem_event(&cg, "oom"),
	       (unsigned long)cgt_mem_event(&cg, "high"), (unsigned long)cgt_mem_event(&cg, "oom_group_kill"));
	assert_true(s->has_mem_events);
	if (cg.hybrid) {
		/* v1 prints only oom_kill (memory.oom_control); the kernel counts the others the same way */
		assert_true(s->mem_events_oom >= 1 && s->mem_events_max >= 1);
		assert_false(s->has_mem_events_high);
		assert_false(s->has_mem_events_oom_group_kill);
	} else {
		assert_int_equal(s->mem_events_max, cgt_mem_event(&cg, "max"));
		assert_int_equal(s->mem_events_oom, cgt_mem_event(&cg, "oom"));
		assert_int_equal(s->oom_kills, cgt_mem_event(&cg, "oom_kill"));
		assert_true(s->has_mem_events_high);
		assert_int_equal(s->mem_events_high, cgt_mem_event(&cg, "high"));
		assert_int_equal(s->has_mem_events_oom_group_kill, cgt_mem_event(&cg, "oom_group_kill") != UINT64_MAX);
		if (s->has_mem_events_oom_group_kill)
			assert_int_equal(s->mem_events_oom_group_kill, cgt_mem_event(&cg, "oom_group_kill"));
		assert_true(s->mem_events_max >= 1 && s->mem_events_oom >= 1);
	}
	cgt_destroy(&cg);
}

struct fired {
	char rule[32];
	int n;
};

static void on_alert(const struct cgp_alert *a, void *ctx)
{
	struct fired *f = ctx;

	if (a->state == CGP_ALERT_FIRING && f->n++ == 0)
		snprintf(f->rule, sizeof(f->rule), "%s", a->rule);
}

/* One rule judges the sample, as the agent's loop does. */
static int judge(struct cgp_engine *e, const struct cgp_sample *s, uint64_t now)
{
	struct fired f = {0};
	struct cgp_attribution a = cgp_attribution_unknown;

	a.path = cg.rel;
	a.is_container = true;
	assert_int_equal(cgp_engine_eval(e, s, &a, now, on_alert, &f), 0);
	return f.n;
}

static struct cgp_playbook *rule_on(const char *metric)
{
	char yaml[256], err[256] = "";
	struct cgp_playbook *pb = NULL;

	snprintf(yaml, sizeof(yaml),
		 "version: 1\nrules:\n  - name: r\n    metric: %s\n    above: 80\n    for: 0s\n"
		 "    severity: critical\n",
		 metric);
	if (cgp_playbook_parse("test", yaml, strlen(yaml), &pb, err, sizeof(err)))
		fail_msg("%s", err);
	return pb;
}

/* A cgroup limited to 128 MiB reads a file twice its limit: its usage sits at the limit (page cache), but its
 * working set (usage - inactive_file, what the kubelet judges) is the kernel's and far below the limit: a rule on
 * mem_working_set_pct above 80 does not fire (one on mem_pct, the raw usage, would). Then anon memory grows to 90%
 * of the limit: the working set follows it (the page cache gives way) and the rule fires. */
static void test_page_cache_working_set(void **state)
{
	const uint64_t limit = 128 * MIB;
	struct cgp_playbook *ws_pb = rule_on("mem_working_set_pct"), *usage_pb = rule_on("mem_pct");
	struct cgp_engine *ws = cgp_engine_new(ws_pb), *usage = cgp_engine_new(usage_pb);
	const struct cgp_sample *s;
	int fds[2], err;
	pid_t reader, toucher;
	char c;

	(void)state;
	assert_non_null(ws);
	assert_non_null(usage);
	err = cgt_scratch_file(2 * limit, scratch, sizeof(scratch));
	if (err) {
		printf("SKIP: no filesystem with a real page cache for a %lu MiB file (tmpfs only?)\n",
		       (unsigned long)(2 * limit / MIB));
		skip();
	}
	assert_int_equal(cgt_create(&cg, "pagecache"), 0);
	assert_int_equal(cgt_set_mem_limit(&cg, limit), 0);
	assert_int_equal(pipe(fds), 0);
	reader = cgt_spawn_reader(&cg, scratch, 2 * limit, fds[1]);
	assert_true(reader > 0);
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(fx_sweep(&fx), 0);
	s = fx_find(&fx, cg.id);
	assert_non_null(s);
	check_mem_stat(s, &cg, "after reading 256 MiB");
	printf("# page cache: usage %.1f MiB (mem_pct %.1f), working set %.1f MiB of a %lu MiB limit\n",
	       s->mem_bytes / (double)MIB, s->m[CGP_METRIC_MEM_PCT].value, s->mem_working_set_bytes / (double)MIB,
	       (unsigned long)(limit / MIB));
	/* the cache filled the cgroup, and most of it is inactive: not memory pressure */
	assert_true(s->mem_bytes > limit * 0.8);
	assert_true(s->mem_file_bytes > limit / 2);
	assert_true(s->mem_working_set_bytes < limit / 2);
	printf("# rules: mem_working_set_pct %.1f, mem_pct %.1f\n", s->m[CGP_METRIC_MEM_WORKING_SET_PCT].value,
	       s->m[CGP_METRIC_MEM_PCT].value);
	assert_int_equal(judge(ws, s, s->ts_ns), 0);
	assert_int_equal(judge(usage, s, s->ts_ns), 1); /* what judging raw usage would have raised */

	toucher = cgt_spawn_toucher(&cg, limit * 9 / 10, fds[1]);
	assert_true(toucher > 0);
	assert_int_equal(read(fds[0], &c, 1), 1);
	assert_int_equal(fx_sweep(&fx), 0);
	s = fx_find(&fx, cg.id);
	assert_non_null(s);
	check_mem_stat(s, &cg, "after 115 MiB of anon");
	assert_true(s->mem_working_set_bytes > limit * 0.8);
	printf("# rules: mem_working_set_pct %.1f\n", s->m[CGP_METRIC_MEM_WORKING_SET_PCT].value);
	assert_int_equal(judge(ws, s, s->ts_ns), 1);
	cgp_engine_free(ws);
	cgp_engine_free(usage);
	cgp_playbook_free(ws_pb);
	cgp_playbook_free(usage_pb);
	close(fds[0]);
	close(fds[1]);
	cgt_destroy(&cg);
	cgt_scratch_done(scratch);
}

/* The sweep's own work per record in steady state: every record of every hierarchy (on a hybrid host the v1
 * memory and cpu ones, joined to their cgroup v2 twin) costs at most one lookup of per-cgroup state. */
static void test_sweep_one_probe_per_record(void **state)
{
	(void)state;
	assert_int_equal(cgt_create(&cg, "probe"), 0);
	for (int i = 0; i < 4; i++) /* the first sweeps meet it and join its v1 twins */
		assert_int_equal(fx_sweep(&fx), 0);
	assert_non_null(fx_find(&fx, cg.id));
	printf("# steady sweep: %lu records (every hierarchy), %lu lookups, %lu cgroups\n",
	       (unsigned long)fx.sp.stats.records, (unsigned long)fx.sp.stats.probes,
	       (unsigned long)fx.sp.stats.cgroups);
	assert_true(fx.sp.stats.records >= fx.sp.stats.cgroups);
	assert_true(fx.sp.stats.probes >= fx.sp.stats.cgroups);
	assert_true(fx.sp.stats.probes <= fx.sp.stats.records);
	cgt_destroy(&cg);
}

/* After every test, passed or failed: a failed assertion leaves the test before its own cgt_destroy, and the next
 * test's cgt_create would reuse the struct and lose the cgroup. */
static int destroy_cgroups(void **state)
{
	(void)state;
	if (stepped_ns) /* a failed assertion left the wall clock stepped: put it back */
		step_wall_clock(-stepped_ns);
	cgt_destroy(&cg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_memory_matches_kernel, destroy_cgroups),
	    cmocka_unit_test_teardown(test_oom_kill_reported_once, destroy_cgroups),
	    cmocka_unit_test_teardown(test_oom_time_after_clock_step, destroy_cgroups),
	    cmocka_unit_test_teardown(test_page_cache_working_set, destroy_cgroups),
	    cmocka_unit_test_teardown(test_sweep_one_probe_per_record, destroy_cgroups),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_memory", tests, setup, teardown);
}
