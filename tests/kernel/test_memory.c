// SPDX-License-Identifier: GPL-2.0
/* Memory usage, limit and OOM kills per cgroup against the kernel's own files, and the OOM ring-buffer event. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgtest.h"
#include "collect/rings.h"

static struct agentfx fx;
static struct cgt cg;

static int setup(void **state)
{
	(void)state;
	return fx_open(&fx, NULL);
}

static int teardown(void **state)
{
	(void)state;
	cgt_destroy(&cg);
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

/* A process exceeding 20 MiB: exactly one OOM event for that cgroup and victim, and oom_kills equals the
 * kernel's own counter. */
static void test_oom_kill_reported_once(void **state)
{
	struct oom_seen seen = {};
	const struct cgp_cgname *n;
	const struct cgp_sample *s;
	int status, mine = 0;
	pid_t pid;

	(void)state;
	assert_int_equal(cgt_create(&cg, "oom"), 0);
	assert_int_equal(cgt_set_mem_limit(&cg, 20ULL << 20), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	fx.oom = on_oom;
	fx.oom_ctx = &seen;
	pid = cgt_spawn_toucher(&cg, 64ULL << 20, -1);
	assert_int_equal(cgt_wait(pid, &status), 0);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
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
	cgt_destroy(&cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_memory_matches_kernel),
	    cmocka_unit_test(test_oom_kill_reported_once),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_memory", tests, setup, teardown);
}
