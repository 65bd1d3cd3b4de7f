/* SPDX-License-Identifier: GPL-2.0 */
/* A playbook alert as Alertmanager's API v2 takes it (a postable alert, POST /api/v2/alerts): labels alertname
 * (the rule), severity, node, namespace, pod, container, cgroup (those known); annotations summary, description
 * (figure, value, threshold, how long it held, the limit it was judged against), runbook_url, action,
 * recommended_limit, evidence; startsAt when it began to fire; endsAt when it resolved; generatorURL. Pure:
 * strings that are not UTF-8 (a cgroup path is any bytes) have their bad bytes shown as '?'. */
#ifndef CGP_AM_PAYLOAD_H
#define CGP_AM_PAYLOAD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "names/attribution.h"
#include "playbook/alert.h"

struct cgp_am_origin {
	const char *node;	   /* the node label */
	const char *generator_url; /* NULL or "": no generatorURL */
};

/* The alert as posted: a firing one (fired NULL), or the resolve of the one that fired as `fired`, whose labels,
 * startsAt and generatorURL it keeps so that Alertmanager matches the two (NULL: made from a and at, startsAt
 * a->ts_ns - a->held_ns). NULL when out of memory. */
json_t *cgp_am_payload(const struct cgp_alert *a, const struct cgp_attribution *at, const struct cgp_am_origin *o,
		       const json_t *fired);

/* ns since the epoch as RFC 3339 in UTC with milliseconds ("2023-11-14T22:13:20.123Z"); out holds 32 bytes. */
void cgp_am_time(uint64_t ns, char out[32]);

#endif
