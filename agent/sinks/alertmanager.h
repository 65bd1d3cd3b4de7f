/* SPDX-License-Identifier: GPL-2.0 */
/* Playbook alerts into Prometheus Alertmanager (API v2, POST /api/v2/alerts), to every Alertmanager given (an
 * HA pair does not gossip alerts: each gets every one, as Prometheus does). What is sent and when is
 * sinks/am_payload.h and sinks/am_queue.h; this file is the HTTP client: libcurl's multi interface (loaded
 * when the first client is made: sinks/curl_load.h), whose sockets and timer feed an epoll fd of the sink's own
 * that the agent's loop watches, so nothing here blocks (a host name is resolved by libcurl's resolver thread).
 * TLS (a CA file), and a bearer token or basic auth read from files, re-read when they change (rotated secrets).
 *
 *   setup: cgp_am_new; watch cgp_am_fd(am) for EPOLLIN
 *   loop:  cgp_am_alert(am, alert, attribution)   for every alert the playbook raises
 *          timeout = min(..., cgp_am_tick(am))      starts due posts and libcurl's timeouts
 *          cgp_am_handle(am)                        when its fd is readable
 */
#ifndef CGP_ALERTMANAGER_H
#define CGP_ALERTMANAGER_H

#include <stdbool.h>
#include <stddef.h>

#include "names/attribution.h"
#include "playbook/alert.h"
#include "sinks/am_payload.h"
#include "sinks/am_queue.h"

#define CGP_AM_MAX_URLS CGP_AMQ_MAX_TARGETS

struct cgp_am_cfg {
	const char *urls[CGP_AM_MAX_URLS]; /* http(s)://host:port[/prefix]; /api/v2/alerts is added */
	size_t n_urls;
	double resend_s;	       /* a firing alert is posted again this often (below Alertmanager's
					  resolve_timeout, 5m by default) */
	double min_firing_s;	       /* a resolve waits until the alert has been active this long */
	size_t max_alerts;	       /* alerts held: firing, and resolves not yet delivered */
	const char *ca_file;	       /* NULL: the system's CAs */
	const char *bearer_token_file; /* NULL: none */
	const char *user;	       /* basic auth, with password_file */
	const char *password_file;
	const char *generator_url; /* generatorURL of every alert; NULL: none */
	unsigned timeout_ms;	   /* one post; 0: 10 s */
	unsigned backoff_min_ms;   /* 0: 500 ms */
	unsigned backoff_max_ms;   /* 0: the smaller of 30 s and resend_s */
};

struct cgp_am_stats {
	size_t n_targets;
	char url[CGP_AM_MAX_URLS][160]; /* as shown: without credentials */
	struct cgp_amq_stats q;
};

struct cgp_am;

/* Checks the URLs and the files named (a clear reason in why). NULL on error. */
struct cgp_am *cgp_am_new(const struct cgp_am_cfg *cfg, const char *node, char *why, size_t whylen);
void cgp_am_free(struct cgp_am *am);

/* The fd the loop watches (EPOLLIN): readable when a socket of the sink's has something for it. */
int cgp_am_fd(const struct cgp_am *am);
/* A playbook alert (firing or resolved) and who its cgroup is; it leaves with the next cgp_am_tick. */
void cgp_am_alert(struct cgp_am *am, const struct cgp_alert *a, const struct cgp_attribution *at);
/* Runs libcurl's timeouts and starts the posts that are due. ms until it needs to run again, -1: not before an
 * alert or its fd. */
int cgp_am_tick(struct cgp_am *am);
/* Its fd was readable. */
void cgp_am_handle(struct cgp_am *am);
/* A resolve still waits for some Alertmanager (the agent's exit gives them a moment). */
bool cgp_am_resolves_pending(const struct cgp_am *am);

void cgp_am_get_stats(const struct cgp_am *am, struct cgp_am_stats *st);

#endif
