// SPDX-License-Identifier: GPL-2.0
/* The sampler's arithmetic on records fed by hand (no kernel): windows from running totals, a total that goes
 * backwards, 32-bit run-queue counts that wrap, a cgroup that is gone from one sweep to the next, and every
 * playbook metric measured once, against the limit or the node. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "collect/loader.h"
#include "collect/runq_hist.h"
#include "collect/sampler.h"
#include "collect/window.h"

#define NS 1000000000ULL

static const struct cgp_node node = {.cpus = 4, .mem_bytes = 8ULL << 30};

static struct cgp_cgroup_rec rec(uint64_t id, uint64_t cpu_ns)
{
	return (struct cgp_cgroup_rec){.cgroup_id = id, .flags = CGP_REC_DFL | CGP_REC_CPU, .cpu_ns = cpu_ns};
}

static void test_window_arithmetic(void **state)
{
	struct cgp_cgroup_rec cur = rec(7, 3 * NS);
	struct cgp_totals prev = {0};
	struct cgp_sample s;

	(void)state;
	/* first sight: the window holds everything since the cgroup's first event, and counts no OOM kill */
	cur.oom_kills = 2;
	cur.flags |= CGP_REC_MEM;
	cur.mem_bytes = 1ULL << 30;
	cur.mem_limit_bytes = 2ULL << 30;
	cgp_window_sample(&s, 7, &cur, NULL, 2.0, 2.0, 5 * NS, &node);
	assert_int_equal(s.cpu_ns_window, 3 * NS);
	assert_true(s.cpu_cores == 1.5);
	assert_int_equal(s.oom_kills_window, 0);
	assert_int_equal(s.ts_ns, 5 * NS);
	/* measured once, here: the CPU against its 2-core limit, memory against its own limit */
	assert_true(s.m[CGP_METRIC_CPU_PCT].known);
	assert_true(s.m[CGP_METRIC_CPU_PCT].value == 75.0);
	assert_int_equal(s.m[CGP_METRIC_CPU_PCT].limit_kind, CGP_LIMIT_CGROUP);
	assert_true(s.m[CGP_METRIC_MEM_PCT].value == 50.0);
	/* the memory.stat figures came with it: no MEM_STAT flag, none of them */
	assert_false(s.has_mem_stat);
	assert_true(s.has_mem_events);
	assert_true(s.has_mem_events_high); /* a v2 record */
	assert_false(s.has_mem_events_oom_group_kill);
	assert_false(s.has_swap);

	/* a normal window */
	cgp_totals_of(&cur, &prev);
	cur.cpu_ns = 4 * NS;
	cur.oom_kills = 3;
	cgp_window_sample(&s, 7, &cur, &prev, 0, 1.0, 6 * NS, &node);
	assert_int_equal(s.cpu_ns_window, NS);
	assert_int_equal(s.cpu_ns_total, 4 * NS);
	assert_int_equal(s.oom_kills_window, 1);
	/* no limit of its own: a share of the node's 4 CPUs */
	assert_int_equal(s.m[CGP_METRIC_CPU_PCT].limit_kind, CGP_LIMIT_NODE);
	assert_true(s.m[CGP_METRIC_CPU_PCT].value == 25.0);
	assert_true(s.m[CGP_METRIC_OOM_KILLS].value == 1);

	/* the kernel side started the cgroup over (its slot was taken back): count from zero, never a huge jump */
	cgp_totals_of(&cur, &prev);
	cur.cpu_ns = NS / 2;
	cur.oom_kills = 0;
	cgp_window_sample(&s, 7, &cur, &prev, 0, 1.0, 7 * NS, &node);
	assert_int_equal(s.cpu_ns_window, NS / 2);
	assert_int_equal(s.oom_kills_window, 0);

	/* 32-bit run-queue counts wrap: the window is the difference modulo 2^32 */
	cgp_totals_of(&cur, &prev);
	prev.runq[3] = 0xfffffff0u;
	cur.runq_waits[3] = 0x10;
	prev.runq[5] = 100;
	cur.runq_waits[5] = 130;
	cur.flags &= ~CGP_REC_MEM;
	cgp_window_sample(&s, 7, &cur, &prev, 0, 1.0, 8 * NS, &node);
	assert_int_equal(s.runq_hist_window[3], 0x20);
	assert_int_equal(s.runq_hist_window[5], 30);
	assert_int_equal(s.runq_waits_window, 0x20 + 30);
	assert_true(s.runq_p99_us > 0);
	assert_true(s.m[CGP_METRIC_RUNQ_P99_US].value == s.runq_p99_us);
	/* no memory figures: no memory metric, rather than a made-up 0 % */
	assert_false(s.has_mem);
	assert_false(s.m[CGP_METRIC_MEM_PCT].known);
}

/* The run-queue window in one pass (each slot the difference modulo 2^32, or the totals in a first window), its
 * count, and its p50/p99 exactly as cgp_runq_quantile_us gives them on the window's histogram; an empty window's
 * quantiles 0 (no quantile computed for it). */
static void test_runq_window_exact(void **state)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (int round = 0; round < 2000; round++) {
		struct cgp_cgroup_rec cur = rec(5, NS);
		struct cgp_totals prev = {0};
		bool first = round % 4 == 0, empty = round % 7 == 0;
		uint64_t want_n = 0;
		struct cgp_sample s;

		for (int i = 0; i < CGP_RUNQ_SLOTS; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			prev.runq[i] = (uint32_t)x;
			/* sparse windows, some slots wrapping past 2^32 */
			cur.runq_waits[i] = empty || x % 3 ? prev.runq[i] : prev.runq[i] + (uint32_t)(x >> 40) % 50;
		}
		cgp_window_sample(&s, 5, &cur, first ? NULL : &prev, 0, 1.0, 2 * NS, &node);
		for (int i = 0; i < CGP_RUNQ_SLOTS; i++) {
			uint32_t want = first ? cur.runq_waits[i] : (uint32_t)(cur.runq_waits[i] - prev.runq[i]);

			assert_int_equal(s.runq_hist_window[i], want);
			want_n += want;
		}
		assert_int_equal(s.runq_waits_window, want_n);
		assert_true(s.runq_p50_us == cgp_runq_quantile_us(s.runq_hist_window, CGP_RUNQ_SLOTS, 0.50));
		assert_true(s.runq_p99_us == cgp_runq_quantile_us(s.runq_hist_window, CGP_RUNQ_SLOTS, 0.99));
		assert_true(s.m[CGP_METRIC_RUNQ_P99_US].known && s.m[CGP_METRIC_RUNQ_P99_US].value == s.runq_p99_us);
		if (!want_n)
			assert_true(s.runq_p50_us == 0 && s.runq_p99_us == 0);
	}
}

static bool find(const struct cgp_sampler *sp, uint64_t id, struct cgp_sample *out)
{
	size_t it = 0;

	while (cgp_sampler_next(sp, &it, out))
		if (out->cgroup_id == id)
			return true;
	return false;
}

static void sweep(struct cgp_sampler *sp, uint64_t t, const struct cgp_cgroup_rec *recs, size_t n)
{
	cgp_sampler_begin(sp, t, t);
	assert_int_equal(cgp_sampler_take_v2(sp, recs, n), 0);
	assert_int_equal(cgp_sampler_end(sp), 0);
}

static void test_sweeps_and_gone(void **state)
{
	struct cgp_cgroup_rec r[3] = {rec(10, NS), rec(11, 2 * NS), rec(12, 0)};
	struct cgp_sampler sp;
	struct cgp_sample s;

	(void)state;
	assert_int_equal(cgp_sampler_init(&sp, NULL), 0);
	sp.node = node;
	sweep(&sp, 1 * NS, r, 3);
	assert_int_equal(sp.stats.cgroups, 3);
	assert_int_equal(sp.n_gone, 0);

	/* 11 is gone from the walk (removed between two sweeps): listed once, then forgotten */
	r[0].cpu_ns = 1500000000ULL;
	r[1] = r[2];
	r[1].cpu_ns = NS / 4;
	sweep(&sp, 2 * NS, r, 2);
	assert_int_equal(sp.n_gone, 1);
	assert_int_equal(sp.gone[0], 11);
	assert_int_equal(sp.stats.cgroups, 2);
	assert_int_equal(sp.stats.cgroups_gone, 1);
	assert_false(find(&sp, 11, &s));
	assert_true(find(&sp, 10, &s));
	assert_int_equal(s.cpu_ns_window, NS / 2);
	assert_true(s.window_s == 1.0);
	assert_true(s.cpu_cores == 0.5);
	assert_true(find(&sp, 12, &s));
	assert_int_equal(s.cpu_ns_window, NS / 4);

	/* iteration reads, it does not advance: asking twice gives the same window */
	assert_true(find(&sp, 10, &s));
	assert_int_equal(s.cpu_ns_window, NS / 2);

	/* a cgroup new in this sweep: its first window is everything it did so far */
	r[1] = rec(13, 3 * NS);
	sweep(&sp, 3 * NS, r, 2);
	assert_int_equal(sp.n_gone, 1);
	assert_int_equal(sp.gone[0], 12);
	assert_true(find(&sp, 13, &s));
	assert_int_equal(s.cpu_ns_window, 3 * NS);
	assert_true(find(&sp, 10, &s));
	assert_int_equal(s.cpu_ns_window, 0);
	cgp_sampler_free(&sp);
}

/* Steady state (the same cgroups sweep after sweep): one lookup of per-cgroup state per record, whatever the
 * number of cgroups; a new cgroup costs its lookup and an insert, and none of the others more. */
static void test_one_probe_per_record(void **state)
{
	enum { N = 5000 };
	static struct cgp_cgroup_rec r[N + 1];
	struct cgp_sampler sp;

	(void)state;
	assert_int_equal(cgp_sampler_init(&sp, NULL), 0);
	for (size_t i = 0; i < N; i++)
		r[i] = rec(100 + i, i);
	sweep(&sp, 1 * NS, r, N);
	for (int k = 2; k < 5; k++) {
		sweep(&sp, (uint64_t)k * NS, r, N);
		assert_int_equal(sp.stats.probes, N);
	}
	r[N] = rec(1, 0);
	sweep(&sp, 5 * NS, r, N + 1);
	assert_int_equal(sp.stats.probes, N + 1);
	assert_int_equal(sp.stats.cgroups, N + 1);
	cgp_sampler_free(&sp);
}

/* The working set is usage minus inactive file pages, never below 0; figures a v1 hierarchy or an older kernel
 * lacks are absent, not 0. */
static void test_memory_figures(void **state)
{
	struct cgp_cgroup_rec cur = rec(9, 0);
	struct cgp_sample s;

	(void)state;
	cur.flags |= CGP_REC_MEM | CGP_REC_MEM_STAT | CGP_REC_SWAP | CGP_REC_MEM_GROUP_KILL;
	cur.mem_bytes = 128ULL << 20;
	cur.mem_limit_bytes = 128ULL << 20;
	cur.mem_inactive_file_bytes = 120ULL << 20;
	cur.mem_file_bytes = 126ULL << 20;
	cur.mem_anon_bytes = 1ULL << 20;
	cur.mem_swap_bytes = 4096;
	cur.mem_events[CGP_MEM_EV_HIGH] = 4;
	cur.mem_events[CGP_MEM_EV_MAX] = 35;
	cur.mem_events[CGP_MEM_EV_OOM] = 1;
	cur.mem_events[CGP_MEM_EV_OOM_GROUP_KILL] = 1;
	cgp_window_sample(&s, 9, &cur, NULL, 0, 1.0, NS, &node);
	assert_true(s.has_mem_stat);
	assert_int_equal(s.mem_working_set_bytes, 8ULL << 20);
	assert_int_equal(s.mem_file_bytes, 126ULL << 20);
	assert_true(s.has_swap);
	assert_int_equal(s.mem_swap_bytes, 4096);
	assert_int_equal(s.mem_events_max, 35);
	assert_int_equal(s.mem_events_oom, 1);
	assert_true(s.has_mem_events_high);
	assert_int_equal(s.mem_events_high, 4);
	assert_true(s.has_mem_events_oom_group_kill);
	assert_int_equal(s.mem_events_oom_group_kill, 1);

	/* stats flushed after usage was read can say more is inactive than is charged: floored at 0 */
	cur.mem_inactive_file_bytes = 130ULL << 20;
	cgp_window_sample(&s, 9, &cur, NULL, 0, 1.0, NS, &node);
	assert_int_equal(s.mem_working_set_bytes, 0);

	/* a v1 hierarchy: no memory.high, no memory.oom.group; the kernel side never sets GROUP_KILL there */
	cur.flags = (cur.flags | CGP_REC_MEM_V1) & ~(CGP_REC_MEM_GROUP_KILL | CGP_REC_SWAP);
	cgp_window_sample(&s, 9, &cur, NULL, 0, 1.0, NS, &node);
	assert_false(s.has_mem_events_high);
	assert_int_equal(s.mem_events_high, 0);
	assert_false(s.has_mem_events_oom_group_kill);
	assert_false(s.has_swap);
	assert_true(s.has_mem_events);
}

/* Throttling counts per window, from the kernel's totals; user and system scaled to the run time, and carried
 * from one sweep to the next so that neither ever goes backwards. */
static void test_cpu_figures(void **state)
{
	struct cgp_cgroup_rec cur = rec(11, 0);
	struct cgp_totals prev = {0};
	struct cgp_sample s;

	(void)state;
	cur.flags |= CGP_REC_CPU_MAX | CGP_REC_CPUTIME;
	cur.cpu_quota_us = 20000;
	cur.cpu_period_us = 100000;
	cur.cpu_periods = 10;
	cur.cpu_throttled_periods = 8;
	cur.cpu_throttled_ns = 700000000;
	cur.cpu_rtime_ns = 1000;
	cur.cpu_utime_ns = 3;
	cur.cpu_stime_ns = 1;
	cgp_window_sample(&s, 11, &cur, NULL, 0.2, 1.0, NS, &node);
	assert_true(s.has_cpu_bandwidth);
	assert_true(s.first_window);
	assert_int_equal(s.cpu_periods, 10);
	/* the kernel's totals run since the cgroup was made: the first window holds none of them */
	assert_int_equal(s.cpu_periods_window, 0);
	assert_int_equal(s.cpu_throttled_periods_window, 0);
	assert_true(s.has_cpu_user_system);
	assert_int_equal(s.cpu_user_ns, 750);
	assert_int_equal(s.cpu_system_ns, 250);

	cgp_totals_of(&cur, &prev);
	cur.cpu_periods = 20;
	cur.cpu_throttled_periods = 17;
	cur.cpu_throttled_ns = 1500000000;
	/* now the samples say mostly system: user time may not drop below the 750 reported */
	cur.cpu_rtime_ns = 1100;
	cur.cpu_utime_ns = 3;
	cur.cpu_stime_ns = 30;
	cgp_window_sample(&s, 11, &cur, &prev, 0.2, 1.0, 2 * NS, &node);
	assert_int_equal(s.cpu_periods_window, 10);
	assert_int_equal(s.cpu_throttled_periods_window, 9);
	assert_int_equal(s.cpu_throttled_ns_window, 800000000);
	assert_int_equal(s.cpu_user_ns, 750);
	assert_int_equal(s.cpu_system_ns, 350);

	/* no cpu controller, no flush: absent */
	cur.flags &= ~(CGP_REC_CPU_MAX | CGP_REC_CPUTIME);
	cgp_window_sample(&s, 11, &cur, &prev, 0, 1.0, 3 * NS, &node);
	assert_false(s.has_cpu_bandwidth);
	assert_int_equal(s.cpu_periods, 0);
	assert_false(s.has_cpu_user_system);
	assert_int_equal(s.cpu_user_ns, 0);
}

/* The sweep_records ring holds the cgroups there are at load, in one pass a hierarchy, within the floor (the RSS
 * of a host of up to ~1,360 cgroups is unchanged) and --max-cgroups records' worth. */
static void test_sweep_ring_size(void **state)
{
	const uint32_t rec = sizeof(struct cgp_cgroup_rec) + 8;

	(void)state;
	assert_int_equal(cgp_sweep_ring_bytes(0, 8192), CGP_SWEEP_RING_BYTES); /* the count not known */
	assert_int_equal(cgp_sweep_ring_bytes(1002, 8192), CGP_SWEEP_RING_BYTES);
	assert_int_equal(cgp_sweep_ring_bytes(CGP_SWEEP_RING_BYTES / rec, 8192), CGP_SWEEP_RING_BYTES);
	assert_int_equal(cgp_sweep_ring_bytes(CGP_SWEEP_RING_BYTES / rec + 1, 8192), 2 * CGP_SWEEP_RING_BYTES);
	assert_int_equal(cgp_sweep_ring_bytes(10002, 12000), 4u << 20);
	assert_true(cgp_sweep_ring_bytes(10002, 12000) / rec >= 10002);
	assert_int_equal(cgp_sweep_ring_bytes(10002, 2000), 1u << 20); /* --max-cgroups bounds it */
	assert_int_equal(cgp_sweep_ring_bytes(10002, 100), CGP_SWEEP_RING_BYTES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_arithmetic), cmocka_unit_test(test_runq_window_exact),
	    cmocka_unit_test(test_sweeps_and_gone),   cmocka_unit_test(test_one_probe_per_record),
	    cmocka_unit_test(test_memory_figures),    cmocka_unit_test(test_cpu_figures),
	    cmocka_unit_test(test_sweep_ring_size),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
