/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's HTTP endpoint (libmicrohttpd), run inside the agent's own epoll loop as libmicrohttpd's
 * suspend_resume_epoll.c example does: no thread of its own. The server accepts connections itself and hands
 * each to libmicrohttpd only when http_conns.h admits it (a cap per client and in all, a deadline on a whole
 * request's headers, /healthz-only reserve slots when the pool is full). With tls_cert/tls_key it speaks only
 * TLS (GnuTLS, through libmicrohttpd), and picks up new files without a restart; with token_file, /v1/events
 * (and /metrics, with auth_metrics) want "Authorization: Bearer TOKEN": 401 without, 403 with a wrong one.
 * /healthz is always open. Serves
 *   GET /metrics              the body the agent's callback renders (Prometheus text format)
 *   GET /healthz              200 "ok", or 503 and the reason
 *   GET /v1/events?since=SEQ  a long-lived chunked stream of delimited cgpulse.v1.Event (varint length, event):
 *                             the held events after SEQ (a Gap first when some are gone), then live ones.
 *                             Without since: from the oldest held event. Accept-Encoding: gzip is honoured,
 *                             flushed after every batch of events.
 * A stream reads the ring of recent events (events/event_ring.h, filled by the publisher) through its own
 * cursor; each run resumes the suspended streams when the ring holds something new, whatever their consumers'
 * speed. A stream's own queue is bounded: its cursor into the ring, one batch of encoded bytes, and a fixed
 * kernel send buffer. A consumer that falls behind the ring gets a Gap event naming the seqs it missed, never a
 * silent jump. /metrics renders the metrics the loop keeps current (sinks/metrics.h).
 *
 * Wiring into an epoll loop:
 *   h = cgp_http_new(&cfg, why, sizeof(why));
 *   epoll_ctl(ADD, cgp_http_fd(h), EPOLLIN);
 *   loop: timeout = min(own timeout, cgp_http_timeout_ms(h)); epoll_wait(...);
 *         handle own fds (publishing into the ring); cgp_http_run(h);   (every iteration: cheap)
 */
#ifndef CGP_HTTP_SERVER_H
#define CGP_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "events/event_ring.h"
#include "lib/bytebuf.h"
#include "sinks/http_conns.h"

/* 24785 is "cgpul(se)" typed on a phone keypad. Not in Prometheus' exporter range (9100-9999, all allocated, new
 * exporters continue above 10000), not cAdvisor's 8080, netdata's 19999, the kubelet's 10248-10260, the
 * NodePort range 30000-32767 or Linux's ephemeral range 32768-60999, and not in /etc/services. */
#define CGP_HTTP_DEFAULT_PORT 24785
/* Loopback by default: /v1/events names every pod and process on the node. Serving the network is asked for
 * (--http 0.0.0.0:24785), with a token and TLS (README, HTTP). */
#define CGP_HTTP_DEFAULT_ADDR "127.0.0.1:24785"

struct cgp_metrics;

struct cgp_http_cfg {
	const char *addr;		   /* "ADDR:PORT" or "[V6]:PORT"; NULL: CGP_HTTP_DEFAULT_ADDR; port 0: any */
	const char *node, *instance_id;	   /* envelope of Gap events; must outlive the server */
	struct cgp_event_ring *ring;	   /* recent events for /v1/events (borrowed); NULL: no stream (503) */
	unsigned max_streams;		   /* concurrent /v1/events streams; 0: 16 */
	unsigned max_connections;	   /* the main pool; 0: 64 */
	unsigned max_per_client;	   /* of one client in the main pool; 0: 8 */
	unsigned reserve;		   /* /healthz-only slots for connections the pool turns away; 0: 4 */
	unsigned header_timeout_s;	   /* a request's whole headers (TLS handshake included) within; 0: 10 */
	unsigned idle_timeout_s;	   /* a connection that moves no byte for this long is closed; 0: 60 */
	unsigned stream_sndbuf;		   /* kernel send buffer of a stream's socket, bytes; 0: 256 KiB */
	const struct cgp_metrics *metrics; /* what /metrics renders (borrowed); NULL: 503 */
	const char *tls_cert, *tls_key;	   /* PEM files (both or neither): TLS only; reread when they change */
	const char *token_file;		   /* the bearer token /v1/events wants; reread when it changes */
	bool auth_metrics;		   /* /metrics wants the token too */
};

enum cgp_http_endpoint {
	CGP_HTTP_EP_METRICS,
	CGP_HTTP_EP_HEALTHZ,
	CGP_HTTP_EP_EVENTS,
	CGP_HTTP_EP_OTHER, /* 404, 405 */
	CGP_HTTP_EP_MAX,
};

struct cgp_http_stats {
	uint64_t requests[CGP_HTTP_EP_MAX]; /* by endpoint */
	uint64_t errors[CGP_HTTP_EP_MAX];   /* answered with a 4xx or 5xx */
	uint64_t streams_open;		    /* /v1/events streams now */
	uint64_t streams_refused;	    /* over max_streams */
	uint64_t events_streamed;	    /* events written to streams, counted once per stream */
	uint64_t gaps_sent;		    /* Gap events written to streams */
	uint64_t events_missed;		    /* sum of those gaps' sizes */
	uint64_t ring_events, ring_bytes;   /* held now */
	uint64_t ring_evicted;		    /* pushed out of the ring, total */
	uint64_t refused[CGP_REFUSED_MAX];  /* connections refused or cut, by reason (http_conns.h) */
	uint64_t conns_main, conns_reserve; /* open now */
	uint64_t auth_missing;		    /* 401: no bearer token */
	uint64_t auth_wrong;		    /* 403: a wrong one */
	bool tls;
	uint64_t tls_reloads, tls_reloads_failed;     /* new certificate files taken, or refused */
	uint64_t token_reloads, token_reloads_failed; /* the same for the token file */
};

struct cgp_http;

/* Binds, reads the TLS and token files, and starts serving (nothing happens until cgp_http_run). NULL with the
 * reason in why. */
struct cgp_http *cgp_http_new(const struct cgp_http_cfg *cfg, char *why, size_t whylen);
/* Ends every stream and closes every connection. */
void cgp_http_free(struct cgp_http *h);

/* An epoll fd (libmicrohttpd's own, and a wake-up for streams that publish resumed): add it to the agent's
 * epoll for EPOLLIN; readable means call cgp_http_run. */
int cgp_http_fd(const struct cgp_http *h);
/* Milliseconds until cgp_http_run must be called even without readiness; -1: no deadline. */
int cgp_http_timeout_ms(struct cgp_http *h);
/* Does the pending work without blocking: accept, read, answer, stream, close connections past their deadline,
 * and (at most once a second) take changed TLS or token files. 0, or -EIO when libmicrohttpd fails. */
int cgp_http_run(struct cgp_http *h);
/* The port actually bound (for port 0). */
int cgp_http_port(const struct cgp_http *h);

/* /healthz: 200 "ok" when ok, else 503 with the reason (copied). A new server starts "starting" (503). */
void cgp_http_set_health(struct cgp_http *h, bool ok, const char *reason);

void cgp_http_get_stats(const struct cgp_http *h, struct cgp_http_stats *st);

#endif
