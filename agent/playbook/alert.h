/* SPDX-License-Identifier: GPL-2.0 */
/* An alert raised by the playbook engine: what was measured, against what, for how long, and what to do. */
#ifndef CGP_ALERT_H
#define CGP_ALERT_H

#include <stdint.h>
#include "collect/measure.h" /* enum cgp_limit_kind */

#define CGP_EVIDENCE_MAX 16

enum cgp_alert_state { CGP_ALERT_FIRING = 1, CGP_ALERT_RESOLVED = 2 };
enum cgp_severity { CGP_SEV_WARNING = 1, CGP_SEV_CRITICAL = 2 };

struct cgp_alert {
	uint64_t ts_ns;	    /* wall clock of the evaluation that changed state */
	uint64_t cgroup_id; /* cgroup v2 id */
	const char *path;   /* cgroup path; never NULL */
	const char *rule;   /* rule name from the playbook */
	enum cgp_severity severity;
	enum cgp_alert_state state;
	const char *metric; /* cpu_pct | mem_pct | oom_kills | runq_p99_us */
	double value;	    /* the latest value */
	double threshold;   /* the threshold that was crossed (fire) or the resolve threshold (resolve) */
	uint64_t held_ns;   /* how long the condition held before firing (or fired before resolving) */
	double limit;	    /* the limit the percentage is of: cores for CPU, bytes for memory; 0 for others */
	enum cgp_limit_kind limit_kind;
	double evidence[CGP_EVIDENCE_MAX]; /* recent values, oldest first */
	unsigned evidence_len;
	const char *action;	  /* playbook action text */
	const char *runbook;	  /* may be "" */
	double recommended_limit; /* concrete new limit, same unit as limit; 0 if none */
	const char *reason;	  /* "threshold", "cgroup_removed", "oom_kill", ... */
};

#endif
