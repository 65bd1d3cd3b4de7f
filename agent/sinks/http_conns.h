/* SPDX-License-Identifier: GPL-2.0 */
/* Who may hold a connection to the HTTP server, and for how long: the bookkeeping only (no socket is touched
 * here; http_server.c accepts, shuts down and hands connections to libmicrohttpd).
 *
 * - The main pool holds at most max_main connections, and at most max_per_client of one client
 *   (cgp_http_client_key: an IPv4 address or an IPv6 /64), so one client cannot take the server.
 * - A connection must complete a request's headers within header_ns of being accepted (or of its previous
 *   request's end, on a kept-alive connection): a deadline on the whole header, which a client trickling a byte
 *   at a time cannot push back, unlike an idle timer.
 * - A connection the main pool turns away gets one of `reserve` slots served by a second, /healthz-only server
 *   with a short deadline, so a liveness probe is answered while the pool is full. When the reserve is full too,
 *   a connection there that is not being answered makes room: that of the client holding the most connections,
 *   if it holds more than the newcomer's, else the oldest one older than reserve_min_age_ns (a probe sends its
 *   request at once; an idle connection never does); else the new one is closed at once.
 * Every refusal is counted by reason. */
#ifndef CGP_HTTP_CONNS_H
#define CGP_HTTP_CONNS_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/idmap.h"

enum cgp_http_refusal {
	CGP_REFUSED_CONNECTION_LIMIT, /* the main pool was full: the connection went to the reserve */
	CGP_REFUSED_CLIENT_LIMIT,     /* its client held max_per_client: the connection went to the reserve */
	CGP_REFUSED_RESERVE_FULL,     /* no reserve slot either: closed at once */
	CGP_REFUSED_RESERVE_EVICTED,  /* a reserve connection closed to make room for a newer one */
	CGP_REFUSED_HEADER_DEADLINE,  /* a request's headers not complete in time: closed */
	CGP_REFUSED_ACCEPT_ERROR,     /* accept(2) failed (out of fds, memory): accepting paused a moment */
	CGP_REFUSED_MAX,
};

struct cgp_conns_cfg {
	unsigned max_main, max_per_client, reserve;
	uint64_t header_ns, reserve_header_ns, reserve_min_age_ns;
};

struct cgp_conn {
	int fd;
	uint64_t client;
	uint64_t wait_since_ns; /* waiting for a request's headers since then (accept, or the last request's end) */
	bool in_request;	/* headers read: no deadline until the request is over */
	bool reserve;		/* served by the /healthz-only reserve */
	bool closing;		/* shut down here (deadline, eviction): its server closes it on its next run */
	void *owner;		/* the caller's (which server has it) */
	struct cgp_conn *prev, *next;
};

struct cgp_conns {
	struct cgp_conns_cfg cfg;
	struct cgp_idmap per_client;  /* client key → main connections it holds (as uintptr_t) */
	struct cgp_idmap by_fd;	      /* fd + 1 → struct cgp_conn */
	struct cgp_conn *head, *tail; /* oldest first */
	unsigned n_main, n_reserve;   /* open, closing ones included: they still hold their fd */
	uint64_t refused[CGP_REFUSED_MAX];
};

int cgp_conns_init(struct cgp_conns *s, const struct cgp_conns_cfg *cfg);
void cgp_conns_free(struct cgp_conns *s);

/* A connection just accepted. NULL: refused outright (counted; close fd) or out of memory (*oom). Else its
 * record, c->reserve saying which server takes it; *evict, when set, is an older reserve connection to shut
 * down now (already counted and marked closing). */
struct cgp_conn *cgp_conns_admit(struct cgp_conns *s, int fd, uint64_t client, uint64_t now_ns, struct cgp_conn **evict,
				 bool *oom);
struct cgp_conn *cgp_conns_by_fd(const struct cgp_conns *s, int fd);
/* Its server closed it: forgotten and freed. */
void cgp_conns_closed(struct cgp_conns *s, struct cgp_conn *c);
void cgp_conns_request_started(struct cgp_conn *c);
void cgp_conns_request_done(struct cgp_conn *c, uint64_t now_ns);
/* The oldest connection past its header deadline, marked closing and counted; NULL when none is. */
struct cgp_conn *cgp_conns_next_expired(struct cgp_conns *s, uint64_t now_ns);
/* Nanoseconds until the next header deadline (0: one has passed), UINT64_MAX when none is pending. */
uint64_t cgp_conns_next_deadline_ns(const struct cgp_conns *s, uint64_t now_ns);

#endif
