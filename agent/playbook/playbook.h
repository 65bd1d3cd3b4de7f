/* SPDX-License-Identifier: GPL-2.0 */
/* The playbook: threshold rules read from YAML (playbook_parse.c), the embedded default (playbook_default.c),
 * the recommended new limit (playbook_recommend.c) and the per-cgroup rule engine (playbook_engine.c).
 * Pure logic: no I/O except reading a playbook file, no clock (the caller passes the time). */
#ifndef CGP_PLAYBOOK_H
#define CGP_PLAYBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/measure.h"
#include "collect/sample.h"
#include "names/attribution.h"
#include "playbook/alert.h"

#define CGP_PLAYBOOK_VERSION   1
#define CGP_PLAYBOOK_MAX_RULES 256	  /* keeps the engine's per-cgroup state bounded */
#define CGP_PLAYBOOK_MAX_BYTES (1u << 20) /* a larger file is a mistake, not a playbook */
/* A playbook nests 4 deep (top, rules, rule, band) and 256 rules take ~6,000 nodes: anything far past that is
 * refused where it crosses the bound, in time linear in the file (playbook/yaml_load.h says why it matters). */
#define CGP_PLAYBOOK_MAX_DEPTH 32
#define CGP_PLAYBOOK_MAX_NODES 16384

enum cgp_cmp {
	CGP_CMP_ABOVE = 1,   /* value > above */
	CGP_CMP_BETWEEN = 2, /* lo <= value <= hi */
};

enum cgp_select {
	CGP_SELECT_CONTAINERS = 1, /* cgroups the caller marks is_container (the default) */
	CGP_SELECT_ALL,
	CGP_SELECT_GLOB, /* fnmatch(3) on the cgroup path, '*' also matching '/' */
};

struct cgp_rule {
	char *name;
	enum cgp_metric metric;
	enum cgp_cmp cmp;
	double above;	 /* CGP_CMP_ABOVE */
	double lo, hi;	 /* CGP_CMP_BETWEEN, lo < hi */
	uint64_t for_ns; /* 0: fires on the first sample that meets the condition */
	enum cgp_severity severity;
	bool has_resolve_below;
	double resolve_below; /* firing resolves only when value < this; without it, when the condition is false */
	enum cgp_select select;
	char *select_glob; /* CGP_SELECT_GLOB only, else NULL */
	char *action;	   /* never NULL, may be "" */
	char *runbook;	   /* never NULL, may be "" */
	unsigned line;	   /* 1-based line of the rule in its file */
};

struct cgp_playbook {
	char *source; /* the name given to the parser (file path, or "(default)") */
	int version;
	size_t nrules;
	struct cgp_rule *rules;
};

/* Parse a playbook from buf[0..len). On error returns -EINVAL (-ENOMEM, ...) and writes
 * "name:line:column: reason" (1-based) into err; *out is set only on success. */
int cgp_playbook_parse(const char *name, const char *buf, size_t len, struct cgp_playbook **out, char *err,
		       size_t errlen);
/* Read and parse a file; errors that have no position are "path: reason". */
int cgp_playbook_load_file(const char *path, struct cgp_playbook **out, char *err, size_t errlen);
/* The embedded default playbook (agent/playbook/default.yaml), parsed. */
int cgp_playbook_default(struct cgp_playbook **out, char *err, size_t errlen);
void cgp_playbook_free(struct cgp_playbook *pb);
/* The playbook as YAML that parses back to the same rules (`cgpulse playbook show`); malloc'd, NULL on ENOMEM. */
char *cgp_playbook_format(const struct cgp_playbook *pb);
const struct cgp_rule *cgp_playbook_find(const struct cgp_playbook *pb, const char *name);

/* "5m", "90s", "250ms", "1h30m", "0" -> nanoseconds. 0, -EINVAL (unparsable or negative) or -ERANGE. */
int cgp_duration_parse(const char *s, uint64_t *out_ns);

/* The default playbook's YAML text, embedded by playbook_default.c; not NUL-terminated by contract. */
extern const char cgp_playbook_default_yaml[];
extern const size_t cgp_playbook_default_yaml_len;

/* The concrete new limit an alert recommends, same unit as limit; 0 when no limit change helps
 * (the limit is the node's, or the metric has no limit). See playbook_recommend.c for the arithmetic. */
double cgp_recommend_limit(enum cgp_metric m, enum cgp_severity sev, enum cgp_limit_kind kind, double limit,
			   double peak_raw);

/* Called on every state change (firing, resolved). The alert and its strings are valid until it returns. */
typedef void (*cgp_alert_cb)(const struct cgp_alert *alert, void *ctx);

struct cgp_engine;

/* The engine borrows pb: keep it alive until cgp_engine_set_playbook replaced it or cgp_engine_free. */
struct cgp_engine *cgp_engine_new(const struct cgp_playbook *pb);
void cgp_engine_free(struct cgp_engine *e);
/* SIGHUP reload: state of rules that keep their name is kept (the new thresholds apply from the next sample);
 * rules that are gone resolve (reason "rule_removed"). 0 or -ENOMEM (then the old playbook stays in force). */
int cgp_engine_set_playbook(struct cgp_engine *e, const struct cgp_playbook *pb, uint64_t now_ns, cgp_alert_cb cb,
			    void *ctx);
/* Evaluate every rule on one cgroup's sample. now_ns drives `for:` (a clock going backwards restarts the
 * wait, it never fires early) and is stamped into alerts. No allocation unless a rule becomes pending.
 * 0, or -ENOMEM if a new pending state could not be stored (that rule is skipped this time). */
int cgp_engine_eval(struct cgp_engine *e, const struct cgp_sample *s, const struct cgp_attribution *a, uint64_t now_ns,
		    cgp_alert_cb cb, void *ctx);
/* An OOM kill from the ring buffer, measured by cgp_measure_oom: oom_kills rules see the value 1 at once
 * (reason "oom_kill"). A kill that the next samples also count (oom_kills_window) does not fire again while
 * the rule is firing. */
int cgp_engine_oom(struct cgp_engine *e, uint64_t cgroup_id, const struct cgp_attribution *a,
		   const struct cgp_measure *m, uint64_t now_ns, cgp_alert_cb cb, void *ctx);
/* The cgroup was removed: firing rules resolve (reason "cgroup_removed"), its state is freed. */
void cgp_engine_cgroup_gone(struct cgp_engine *e, uint64_t cgroup_id, uint64_t now_ns, cgp_alert_cb cb, void *ctx);
/* Treat cgroups with state but no sample for max_age_ns as removed (a missed rmdir must not pin memory). */
void cgp_engine_expire(struct cgp_engine *e, uint64_t max_age_ns, uint64_t now_ns, cgp_alert_cb cb, void *ctx);
/* Cgroups that have a pending or firing rule (the engine's memory is proportional to this). */
size_t cgp_engine_tracked(const struct cgp_engine *e);

#endif
