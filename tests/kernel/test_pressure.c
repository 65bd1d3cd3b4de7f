// SPDX-License-Identifier: GPL-2.0
/* PSI per cgroup against the kernel's own pressure files: a CPU-contended cgroup (cpu.pressure) and a
 * memory-starved one, reclaiming its page cache under a tight limit (memory.pressure), every window and in
 * total. Where the kernel has no PSI, the figures must be absent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <signal.h>
#include <unistd.h>
#include <cmocka.h>
#include "agentfx.h"
#include "cgtest.h"

#define MIB (1ULL << 20)

static struct agentfx fx;
static struct cgt cg;
static char scratch[512];

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

static bool psi_on(void)
{
	return access("/proc/pressure/cpu", R_OK) == 0;
}

/* ours within tol (a fraction) of the kernel's, or within slack ns of it */
static bool near_ns(uint64_t ours, uint64_t kernel, double tol, uint64_t slack)
{
	double d = fabs((double)ours - (double)kernel);

	return d <= (double)kernel * tol || d <= (double)slack;
}

/* Two tasks on one CPU, in one cgroup: one always waits, so cpu some grows by about the window's length. Each 1 s
 * window's growth equals the growth of cpu.pressure total= over the same window (read right after the sweep),
 * within 10% (the kernel's own figure would jump by its 2 s averaging period instead), and the totals agree. */
static void test_cpu_pressure(void **state)
{
	const int windows = 5;
	const struct cgp_sample *s;
	uint64_t k0, k1;
	pid_t p[2];

	(void)state;
	if (!psi_on()) {
		printf("SKIP: this kernel has PSI off (no /proc/pressure)\n");
		skip();
	}
	assert_int_equal(cgt_create(&cg, "psicpu"), 0);
	p[0] = cgt_spawn_burner(&cg, 0, windows + 3.0);
	p[1] = cgt_spawn_burner(&cg, 0, windows + 3.0);
	usleep(500000);
	assert_int_equal(fx_sweep(&fx), 0);
	k0 = cgt_pressure_ns(&cg, "cpu", "some");
	for (int i = 0; i < windows; i++) {
		sleep(1);
		assert_int_equal(fx_sweep(&fx), 0);
		k1 = cgt_pressure_ns(&cg, "cpu", "some");
		s = fx_find(&fx, cg.id);
		assert_non_null(s);
		assert_true(s->has_psi);
		printf("# cpu some, window %d: cgpulse %.4f s (total %.4f s), kernel %.4f s (total %.4f s)\n", i + 1,
		       s->psi_window_ns[CGP_PSI_CPU_SOME] / 1e9, s->psi_total_ns[CGP_PSI_CPU_SOME] / 1e9,
		       (k1 - k0) / 1e9, k1 / 1e9);
		assert_true(k1 - k0 > 500000000ULL); /* the setup: one task always waited */
		assert_true(near_ns(s->psi_window_ns[CGP_PSI_CPU_SOME], k1 - k0, 0.10, 20000000));
		assert_true(near_ns(s->psi_total_ns[CGP_PSI_CPU_SOME], k1, 0.02, 20000000));
		/* the playbook metric: the window's share, ~100% (one task always waited) */
		assert_true(s->m[CGP_METRIC_PSI_CPU_SOME_PCT].known);
		assert_true(fabs(s->m[CGP_METRIC_PSI_CPU_SOME_PCT].value -
				 (double)s->psi_window_ns[CGP_PSI_CPU_SOME] / (s->window_s * 1e9) * 100) < 1e-9);
		assert_true(s->m[CGP_METRIC_PSI_CPU_SOME_PCT].value > 50);
		k0 = k1;
	}
	kill(p[0], SIGKILL);
	kill(p[1], SIGKILL);
	cgt_wait(p[0], NULL);
	cgt_wait(p[1], NULL);
	cgt_destroy(&cg);
}

/* A 32 MiB cgroup reads a 48 MiB file over and over: its working set does not fit, so it reclaims and refaults
 * what it just dropped (thrashes), and stalls on memory. Every window and the totals (some and full) follow
 * memory.pressure; after the reader stops the totals equal the file's within a millisecond or two. */
static void test_memory_pressure(void **state)
{
	const uint64_t limit = 32 * MIB;
	const struct cgp_sample *s;
	uint64_t k0, k1, some, full;
	int fds[2], err;
	char c;
	pid_t reader;

	(void)state;
	if (!psi_on()) {
		printf("SKIP: this kernel has PSI off (no /proc/pressure)\n");
		skip();
	}
	err = cgt_scratch_file(48 * MIB, scratch, sizeof(scratch));
	if (err) {
		printf("SKIP: no filesystem with a real page cache for a 48 MiB file (tmpfs only?)\n");
		skip();
	}
	assert_int_equal(cgt_create(&cg, "psimem"), 0);
	assert_int_equal(cgt_set_mem_limit(&cg, limit), 0);
	assert_int_equal(fx_sweep(&fx), 0);
	assert_int_equal(pipe(fds), 0);
	k0 = cgt_pressure_ns(&cg, "memory", "some");
	reader = cgt_spawn_rereader(&cg, scratch, 48 * MIB, 4.0, fds[1]);
	assert_true(reader > 0);
	for (int i = 0; i < 3; i++) {
		sleep(1);
		assert_int_equal(fx_sweep(&fx), 0);
		k1 = cgt_pressure_ns(&cg, "memory", "some");
		s = fx_find(&fx, cg.id);
		assert_non_null(s);
		printf("# memory some, window %d: cgpulse %.4f s (total %.4f s), kernel %.4f s (total %.4f s)\n", i + 1,
		       s->psi_window_ns[CGP_PSI_MEM_SOME] / 1e9, s->psi_total_ns[CGP_PSI_MEM_SOME] / 1e9,
		       (k1 - k0) / 1e9, k1 / 1e9);
		assert_true(near_ns(s->psi_total_ns[CGP_PSI_MEM_SOME], k1, 0.10, 20000000));
		k0 = k1;
	}
	assert_int_equal(read(fds[0], &c, 1), 1); /* the reader is done: nothing stalls any more */
	usleep(200000);
	assert_int_equal(fx_sweep(&fx), 0);
	some = cgt_pressure_ns(&cg, "memory", "some");
	full = cgt_pressure_ns(&cg, "memory", "full");
	s = fx_find(&fx, cg.id);
	assert_non_null(s);
	printf("# memory pressure after the load: cgpulse some %.4f s full %.4f s, kernel some %.4f s full %.4f s\n",
	       s->psi_total_ns[CGP_PSI_MEM_SOME] / 1e9, s->psi_total_ns[CGP_PSI_MEM_FULL] / 1e9, some / 1e9,
	       full / 1e9);
	assert_true(some > 20000000ULL); /* the setup: it really stalled (20 ms at least; fast disks stall less) */
	assert_true(near_ns(s->psi_total_ns[CGP_PSI_MEM_SOME], some, 0.01, 2000000));
	assert_true(near_ns(s->psi_total_ns[CGP_PSI_MEM_FULL], full, 0.01, 2000000));
	close(fds[0]);
	close(fds[1]);
	cgt_destroy(&cg);
	cgt_scratch_done(scratch);
	scratch[0] = 0;
}

/* After every test, passed or failed: a failed assertion leaves the test before its own cgt_destroy, and the next
 * test's cgt_create would reuse the struct and lose the cgroup. */
static int destroy_cgroups(void **state)
{
	(void)state;
	cgt_destroy(&cg);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_cpu_pressure, destroy_cgroups),
	    cmocka_unit_test_teardown(test_memory_pressure, destroy_cgroups),
	};

	if (!cgt_can_run())
		return 0;
	return cmocka_run_group_tests_name("kernel_pressure", tests, setup, teardown);
}
