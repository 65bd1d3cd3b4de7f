/* SPDX-License-Identifier: GPL-2.0 */
/* /metrics/cadvisor: the latest samples under cAdvisor's names, types, HELP and labels, as the kubelet exposes
 * them on its own /metrics/cadvisor (id = the cgroup path, name, image, container, pod, namespace), so the
 * community's rules and dashboards read cgpulse unchanged. Which cgroups get series is chosen here
 * (--metrics-cgroups) and bounded by a cap whose overflow is counted; the loop hands samples down as it does to
 * sinks/metrics.h and pulls the counters for /metrics. No I/O. */
#ifndef CGP_CADVISOR_H
#define CGP_CADVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/sample.h"
#include "lib/bytebuf.h"
#include "names/attribution.h"

#define CGP_CADVISOR_DEFAULT_MAX_CGROUPS 10000

enum cgp_cadvisor_select {
	CGP_CADVISOR_CONTAINERS = 0, /* containers, their pods' cgroups and the root, as the kubelet (the default) */
	CGP_CADVISOR_ALL,	     /* every cgroup */
	CGP_CADVISOR_GLOB,	     /* CONTAINERS, and every cgroup whose path matches (fnmatch, '*' matches '/') */
};

struct cgp_cadvisor_cfg {
	enum cgp_cadvisor_select select;
	const char *glob;   /* CGP_CADVISOR_GLOB only; must outlive the store */
	size_t max_cgroups; /* cgroups with series at once; 0: CGP_CADVISOR_DEFAULT_MAX_CGROUPS */
};

struct cgp_cadvisor_stats {
	uint64_t cgroups;	/* cgroups with series now */
	uint64_t over_cap;	/* selected cgroups without series now: the cap was reached */
	uint64_t refused_total; /* cgroups turned away by the cap, each counted once while it lives */
	uint64_t labels_made;	/* label sets escaped: made again only when a cgroup's names change */
};

/* "all", "containers" or a glob of cgroup paths (starting with '/') into cfg. 0, or -EINVAL with the reason
 * in why. */
int cgp_cadvisor_parse_select(const char *arg, struct cgp_cadvisor_cfg *cfg, char *why, size_t whylen);

struct cgp_cadvisor;

struct cgp_cadvisor *cgp_cadvisor_new(const struct cgp_cadvisor_cfg *cfg);
void cgp_cadvisor_free(struct cgp_cadvisor *c);

/* Keeps the sample as its cgroup's latest when the cgroup is selected and within the cap. start_ns: when the
 * cgroup was made (wall clock; the time it was first seen when the kernel's mkdir time is unknown). 0 or
 * -ENOMEM. */
int cgp_cadvisor_sample(struct cgp_cadvisor *c, const struct cgp_sample *s, const struct cgp_attribution *a,
			uint64_t start_ns);
/* The cgroup is gone: its series disappear, its place under the cap is free. */
void cgp_cadvisor_gone(struct cgp_cadvisor *c, uint64_t cgroup_id);
void cgp_cadvisor_get_stats(const struct cgp_cadvisor *c, struct cgp_cadvisor_stats *st);

/* The exposition (text format 0.0.4, cgroups in id order). A page holds the figures as they are now (a compact
 * copy: samples and gone cgroups handed down later change nothing in it) and writes the text a piece at a time,
 * as sinks/metrics.h's page does. */
struct cgp_cadvisor_page;

/* NULL when out of memory. */
struct cgp_cadvisor_page *cgp_cadvisor_page_new(const struct cgp_cadvisor *c);
/* Appends the page's next want bytes or more (whole series), fewer only at its end; *done once all of it was
 * appended. 0 or -ENOMEM. */
int cgp_cadvisor_page_next(struct cgp_cadvisor_page *p, struct cgp_buf *out, size_t want, bool *done);
void cgp_cadvisor_page_free(struct cgp_cadvisor_page *p);
/* The whole page at once, appended to out. 0 or -ENOMEM. */
int cgp_cadvisor_render(const struct cgp_cadvisor *c, struct cgp_buf *out);

#endif
