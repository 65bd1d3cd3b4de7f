/* SPDX-License-Identifier: GPL-2.0 */
/* /metrics in the Prometheus text exposition format (version 0.0.4): the latest sample of every cgroup and
 * the agent's own counters. Every name starts with cgpulse_, every family has HELP and TYPE, counters end in
 * _total; the output passes `promtool check metrics`. The agent's loop hands samples and counters down; the HTTP
 * server renders on a scrape. No I/O except /proc/self at render time. */
#ifndef CGP_METRICS_H
#define CGP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/types.h>

#include "cgpulse.h" /* enum cgp_drop */
#include "collect/loader.h"
#include "collect/sample.h"
#include "lib/bytebuf.h"
#include "names/attribution.h"
#include "sinks/alertmanager.h"
#include "sinks/cadvisor.h"
#include "sinks/http_server.h"

/* What the agent knows about itself, as of its loop's last turn. */
struct cgp_agent_counters {
	uint64_t events_published;	    /* every event given a seq */
	uint64_t events_encode_failed;	    /* out of memory encoding: lost to every sink */
	uint64_t events_sent;		    /* acknowledged by the collector */
	uint64_t spool_dropped_samples;	    /* sample events the spool dropped unacknowledged */
	uint64_t spool_dropped_others;	    /* other events the spool dropped unacknowledged */
	uint64_t spool_refused;		    /* events the spool could not take at all */
	uint64_t spool_events, spool_bytes; /* spool depth now */
	uint64_t spool_memory_bytes;	    /* memory the spool's events take (its bound holds for it) */
	uint64_t spool_instances;	    /* agent instances with events in the spool: ours and previous ones */
	uint64_t spool_replayed;	    /* events of previous instances taken from the spool directory */
	bool spool_disk;		    /* --spool-dir: the spool_disk_* families below */
	uint64_t spool_disk_bytes, spool_disk_segments;
	uint64_t spool_disk_write_errors; /* writes to the spool directory that failed (events kept in memory) */
	uint64_t spool_disk_syncs;
	uint64_t spool_disk_corrupt_records; /* torn or corrupt records found at start, skipped */
	bool collector;			     /* a collector is configured: the collector_* families below */
	bool collector_connected;	     /* now */
	uint64_t collector_connects;	     /* connections made */
	uint64_t collector_failures;	     /* connects that failed, and connections lost */
	uint64_t collector_resolve_timeouts; /* lookups of the collector's name given up */
	uint64_t collector_batches;	     /* batches sent, resends included */
	uint64_t records_lost[CGP_DROP_MAX]; /* the kernel side's drops map, by enum cgp_drop */
	uint64_t ring_records_malformed;     /* kernel ring records of the wrong size, skipped */
	uint64_t ring_records_repeated;	     /* second copies of a kernel ring record (a restart's overlap), skipped */
	uint64_t oom_events;		     /* OOM kills read from the kernel's ring */
	uint64_t cgroups_tracked;
	uint64_t cgroups_gone;		    /* cgroups forgotten because they disappeared */
	uint64_t memcg_unjoined;	    /* v1 memory/cpu cgroups with no cgroup v2 twin (last sweep) */
	uint64_t names_resolved_by_id;	    /* paths not learned from a mkdir event, found by file handle */
	uint64_t names_unresolved;	    /* cgroup ids whose path could not be found: their samples are skipped */
	uint64_t names_walks;		    /* walks of the cgroup2 tree by path: at start, then for unnamed ids */
	uint64_t v1_walks;		    /* walks of a v1 hierarchy (hybrid hosts), for the v1 → v2 join */
	uint64_t names_tombstones;	    /* removed cgroups still nameable now */
	uint64_t names_tombstones_evicted;  /* dropped before their grace period: more than CGP_TOMBSTONES_MAX */
	uint64_t cgroup_started_lost;	    /* cgroup_started events not made: no memory to hold their place */
	uint64_t runtime_state_reads;	    /* reads of a runtime's state files for names */
	uint64_t runtime_state_errors;	    /* of those, failed otherwise than "no such container" */
	uint64_t runtime_state_evictions;   /* names cache entries dropped to stay within its bound */
	uint64_t playbook_cgroups_tracked;  /* cgroups with a pending or firing rule */
	struct cgp_cadvisor_stats cadvisor; /* /metrics/cadvisor's cgroups and its cap's overflow */
	uint64_t running_charge_failures;   /* runs of cgp_tick the kernel refused (collect/running.h) */
	uint64_t sweeps;		    /* completed sweeps */
	uint64_t sweeps_missed;		    /* intervals with no sweep: the loop was busy for a whole interval */
	uint64_t playbook_reloads;	    /* SIGHUP or a changed --playbook file */
	uint64_t playbook_reloads_refused;  /* of those, refused (the playbook in force stayed) */
	double sweep_seconds_total;	    /* time spent in them */
	double last_sweep_seconds;
	bool alertmanager;	/* --alertmanager given: the alertmanager_* families below */
	struct cgp_am_stats am; /* per Alertmanager, and the queue they share */
	bool bpf_stats_enabled; /* kernel.bpf_stats_enabled = 1 */
	struct cgp_bpf_prog_stat progs[CGP_MAX_PROGS];
	size_t n_progs;
};

struct cgp_metrics;

struct cgp_metrics *cgp_metrics_new(void);
void cgp_metrics_free(struct cgp_metrics *m);

/* Keeps the sample as its cgroup's latest (labels from a) and adds its window's run-queue histogram to the
 * cgroup's cumulative one. 0 or -ENOMEM. */
int cgp_metrics_sample(struct cgp_metrics *m, const struct cgp_sample *s, const struct cgp_attribution *a);
/* Label sets escaped so far: a cgroup's are made again only when its attribution was filled again (rev). */
uint64_t cgp_metrics_labels_made(const struct cgp_metrics *m);
/* The cgroup is gone: its series disappear from the next render. */
void cgp_metrics_gone(struct cgp_metrics *m, uint64_t cgroup_id);
/* The agent's counters for the next renders (copied). Until the first call no agent families are written. */
void cgp_metrics_set_agent(struct cgp_metrics *m, const struct cgp_agent_counters *c);

/* The exposition: per-cgroup families (cgroups in id order), then the agent's, then the HTTP server's own (http
 * may be NULL). A page holds the figures as they are now (a compact copy: samples, gone cgroups and counters
 * handed down later change nothing in it) and writes the text a piece at a time, so a scrape holds one piece of
 * it, never all of it. The agent's CPU time and RSS are read from /proc/self when the page gets there. */
struct cgp_metrics_page;

/* NULL when out of memory. */
struct cgp_metrics_page *cgp_metrics_page_new(const struct cgp_metrics *m, const struct cgp_http_stats *http);
/* Appends the page's next want bytes or more (whole series: a cgroup's histogram stays in one piece), fewer only
 * at its end; *done once all of it was appended. 0 or -ENOMEM. */
int cgp_metrics_page_next(struct cgp_metrics_page *p, struct cgp_buf *out, size_t want, bool *done);
void cgp_metrics_page_free(struct cgp_metrics_page *p);
/* The whole page at once, appended to out. 0 or -ENOMEM. */
int cgp_metrics_render(const struct cgp_metrics *m, const struct cgp_http_stats *http, struct cgp_buf *out);

/* Appends name="v" (v escaped; NULL as ""), after a comma unless first. */
void cgp_metrics_put_label(struct cgp_text *w, const char *name, const char *v, bool first);

/* Appends v as a label value, escaped for the text format (\\, \", \n) and with invalid UTF-8 replaced. */
int cgp_metrics_escape_label(struct cgp_buf *out, const char *v);

#endif
