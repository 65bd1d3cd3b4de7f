// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "collect/runq_hist.h"
#include "collect/window.h"

static const struct cgp_cputime no_cputime;

void cgp_totals_of(const struct cgp_cgroup_rec *r, struct cgp_totals *t)
{
	t->cpu_ns = r->cpu_ns;
	t->oom_kills = r->oom_kills;
	memcpy(t->runq, r->runq_waits, sizeof(t->runq));
	t->cpu_periods = r->cpu_periods;
	t->cpu_throttled_periods = r->cpu_throttled_periods;
	t->cpu_throttled_ns = r->cpu_throttled_ns;
	/* what that sweep reported, from what the one before it had */
	if (r->flags & CGP_REC_PSI)
		for (int i = 0; i < CGP_PSI_MAX; i++)
			t->psi_ns[i] = r->psi_ns[i] > t->psi_ns[i] ? r->psi_ns[i] : t->psi_ns[i];
	if (r->flags & CGP_REC_CPUTIME)
		t->cputime = cgp_cputime_adjust(r->cpu_rtime_ns, r->cpu_utime_ns, r->cpu_stime_ns, &t->cputime);
}

static uint64_t grown(uint64_t cur, const uint64_t *prev)
{
	if (!prev)
		return cur;
	return cur >= *prev ? cur - *prev : cur;
}

/* CFS bandwidth counters and user/system time, each only where the kernel gives it (flags). */
static void cpu_figures(struct cgp_sample *s, const struct cgp_cgroup_rec *r, const struct cgp_totals *prev)
{
	s->has_cpu_bandwidth = r->flags & CGP_REC_CPU_MAX;
	if (s->has_cpu_bandwidth) {
		s->cpu_periods = r->cpu_periods;
		s->cpu_throttled_periods = r->cpu_throttled_periods;
		s->cpu_throttled_ns = r->cpu_throttled_ns;
		s->has_cpu_spec = true;
		s->cpu_quota_us = r->cpu_quota_us;
		s->cpu_period_us = r->cpu_period_us;
		s->cpu_shares = r->cpu_shares;
		/* the kernel's totals run since the cgroup was made, not since we first saw it: no first window */
		if (prev) {
			s->cpu_periods_window = grown(r->cpu_periods, &prev->cpu_periods);
			s->cpu_throttled_periods_window = grown(r->cpu_throttled_periods, &prev->cpu_throttled_periods);
			s->cpu_throttled_ns_window = grown(r->cpu_throttled_ns, &prev->cpu_throttled_ns);
		}
	}
	s->has_cpu_user_system = r->flags & CGP_REC_CPUTIME;
	if (s->has_cpu_user_system) {
		struct cgp_cputime t = cgp_cputime_adjust(r->cpu_rtime_ns, r->cpu_utime_ns, r->cpu_stime_ns,
							  prev ? &prev->cputime : &no_cputime);

		s->cpu_user_ns = t.user_ns;
		s->cpu_system_ns = t.system_ns;
	}
}

/* PSI totals never go backwards: a fresh total is an estimate of what the kernel's next aggregation will add
 * (bpf/psi.bpf.h), which can come out a little ahead of it; the figure then holds until the kernel catches up. */
static void psi_figures(struct cgp_sample *s, const struct cgp_cgroup_rec *r, const struct cgp_totals *prev)
{
	s->has_psi = r->flags & CGP_REC_PSI;
	if (!s->has_psi)
		return;
	for (int i = 0; i < CGP_PSI_MAX; i++) {
		uint64_t before = prev ? prev->psi_ns[i] : 0;

		s->psi_total_ns[i] = r->psi_ns[i] > before ? r->psi_ns[i] : before;
		s->psi_window_ns[i] = prev ? s->psi_total_ns[i] - before : 0; /* totals since the cgroup was made */
	}
}

/* The memory figures beyond usage, each only where the kernel gives it (flags). */
static void memory_figures(struct cgp_sample *s, const struct cgp_cgroup_rec *r)
{
	s->has_mem_stat = r->flags & CGP_REC_MEM_STAT;
	if (s->has_mem_stat) {
		s->mem_inactive_file_bytes = r->mem_inactive_file_bytes;
		s->mem_anon_bytes = r->mem_anon_bytes;
		s->mem_file_bytes = r->mem_file_bytes;
		/* the kubelet's working set: clean inactive page cache is reclaimable at will, not pressure */
		s->mem_working_set_bytes =
		    r->mem_bytes > r->mem_inactive_file_bytes ? r->mem_bytes - r->mem_inactive_file_bytes : 0;
	}
	s->has_swap = r->flags & CGP_REC_SWAP;
	if (s->has_swap)
		s->mem_swap_bytes = r->mem_swap_bytes;
	s->has_mem_events = true;
	s->mem_events_max = r->mem_events[CGP_MEM_EV_MAX];
	s->mem_events_oom = r->mem_events[CGP_MEM_EV_OOM];
	s->has_mem_events_high = !(r->flags & CGP_REC_MEM_V1);
	if (s->has_mem_events_high)
		s->mem_events_high = r->mem_events[CGP_MEM_EV_HIGH];
	s->has_mem_events_oom_group_kill = r->flags & CGP_REC_MEM_GROUP_KILL;
	if (s->has_mem_events_oom_group_kill)
		s->mem_events_oom_group_kill = r->mem_events[CGP_MEM_EV_OOM_GROUP_KILL];
}

/* The window's run-queue histogram and its count: one pass, the first window's branch out of the loop (10,000
 * records a sweep). 32-bit counts from the kernel: the difference modulo 2^32 is right across a wrap. */
static void runq_window(struct cgp_sample *s, const struct cgp_cgroup_rec *r, const struct cgp_totals *prev)
{
	uint64_t n = 0;

	if (prev)
		for (int i = 0; i < CGP_RUNQ_SLOTS; i++)
			n += s->runq_hist_window[i] = (uint32_t)(r->runq_waits[i] - prev->runq[i]);
	else
		for (int i = 0; i < CGP_RUNQ_SLOTS; i++)
			n += s->runq_hist_window[i] = r->runq_waits[i];
	s->runq_waits_window = n;
}

void cgp_window_sample(struct cgp_sample *s, uint64_t cgroup_id, const struct cgp_cgroup_rec *r,
		       const struct cgp_totals *prev, double cpu_limit_cores, double window_s, uint64_t now_ns,
		       const struct cgp_node *node)
{
	static const double runq_q[2] = {0.50, 0.99};
	double runq_at[2];

	memset(s, 0, sizeof(*s));
	s->cgroup_id = cgroup_id;
	s->ts_ns = now_ns;
	s->window_s = window_s;
	s->first_window = !prev;
	s->cpu_ns_total = r->cpu_ns;
	s->cpu_ns_window = grown(r->cpu_ns, prev ? &prev->cpu_ns : NULL);
	s->cpu_cores = window_s > 0 ? (double)s->cpu_ns_window / (window_s * 1e9) : 0;
	s->voluntary_switches = r->voluntary_switches;
	s->involuntary_switches = r->involuntary_switches;
	runq_window(s, r, prev);
	/* an empty window's quantiles are 0, as the memset left them */
	if (s->runq_waits_window) {
		cgp_runq_quantiles_us(s->runq_hist_window, CGP_RUNQ_SLOTS, s->runq_waits_window, runq_q, runq_at, 2);
		s->runq_p50_us = runq_at[0];
		s->runq_p99_us = runq_at[1];
	}
	s->has_mem = r->flags & CGP_REC_MEM;
	s->mem_bytes = r->mem_bytes;
	s->mem_limit_bytes = r->mem_limit_bytes;
	s->oom_kills = r->oom_kills;
	if (s->has_mem)
		memory_figures(s, r);
	/* the first window of a cgroup counts no OOM kill: those are reported as they happen, from the ring */
	s->oom_kills_window = prev && r->oom_kills >= prev->oom_kills ? r->oom_kills - prev->oom_kills : 0;
	s->reclaim_ns_total = r->reclaim_ns;
	s->reclaims_total = r->reclaims;
	s->cpu_limit_cores = cpu_limit_cores;
	cpu_figures(s, r, prev);
	psi_figures(s, r, prev);
	cgp_measure_zeroed(s, node); /* s->m[] is zero from the memset above */
}
