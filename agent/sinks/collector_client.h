/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's side of the collector protocol: a non-blocking TCP client that sends batches from the spool,
 * reads Acks to release it, and reconnects with exponential backoff and jitter, resending what was not
 * acknowledged. The spool may hold events of earlier agent instances (replayed from its directory): each batch
 * carries the events of one instance, and each Ack releases the events of the instance it names. It owns one socket
 * that the agent's epoll watches; nothing here blocks: a host name is resolved in glibc's threads (lib/resolver),
 * polled from cgp_cc_tick, with a timeout.
 *
 *   loop:  cgp_cc_epoll_sync(cc, epfd, data)  after any call below, so epoll watches the right fd and events
 *          cgp_cc_handle(cc, events)          when epoll reports the socket
 *          cgp_cc_tick(cc)                    on the agent's timer: connects, retries, detects a silent collector
 *          cgp_cc_kick(cc)                    after pushing events into the spool: send them now
 */
#ifndef CGP_COLLECTOR_CLIENT_H
#define CGP_COLLECTOR_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "events/spool.h"

struct cgp_cc_cfg {
	const char *addr;	     /* HOST:PORT of the collector */
	const char *tls_ca;	     /* TLS, trusting the CA certificates in this PEM file ... */
	bool tls;		     /* ... or the system's (when tls_ca is NULL) */
	const char *tls_server_name; /* what the certificate must name (and SNI); NULL: the host of addr */
	const char *token_file;	     /* its token, sent first on every connection (read again each time); NULL: none */
	size_t batch_max_events;     /* 0: 1024 */
	size_t batch_max_bytes;	     /* uncompressed; 0: 512 KiB */
	int zlevel;		     /* zlib level 1..9 for batches; 0 sends them uncompressed */
	unsigned backoff_min_ms;     /* 0: 200 ms; doubles per failed try ... */
	unsigned backoff_max_ms;     /* ... up to this (0: 10 s); each wait is drawn from [backoff/2, backoff] */
	unsigned connect_timeout_ms; /* 0: 5 s */
	unsigned
	    resolve_timeout_ms;	 /* looking up the collector's name (in glibc's threads, never in the loop); 0: 5 s */
	unsigned ack_timeout_ms; /* sent events with no ack for this long: reconnect. 0: 30 s */
};

struct cgp_cc_stats {
	bool connected;
	uint64_t connects, disconnects, connect_failures;
	uint64_t resolve_timeouts; /* lookups of the collector's name given up (counted in connect_failures too) */
	uint64_t batches_sent, events_sent, bytes_sent; /* resends included */
	uint64_t acks;
	uint64_t acks_unknown;	  /* Acks naming an instance the spool no longer holds (a late duplicate) */
	uint64_t acked_seq;	  /* the last Ack's */
	uint64_t compressor_maps; /* times the compressor's state was mapped (once a burst: cgp_cc_burst) */
	char last_error[128];	  /* why the last connection ended or failed; "" if none */
};

struct cgp_cc;

/* The spool stays the caller's; cfg strings are copied. NULL on bad cfg or out of memory. */
struct cgp_cc *cgp_cc_new(const struct cgp_cc_cfg *cfg, struct cgp_spool *sp);
void cgp_cc_free(struct cgp_cc *cc);

/* Keeps epfd watching the client's socket with the events it needs (adds, modifies; a closed socket left
 * epoll by itself). data is what epoll_wait will hand back for it. 0 or -errno. */
int cgp_cc_epoll_sync(struct cgp_cc *cc, int epfd, epoll_data_t data);
uint32_t cgp_cc_epoll_events(const struct cgp_cc *cc); /* what the socket should be watched for */

/* Socket events from epoll (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP). */
void cgp_cc_handle(struct cgp_cc *cc, uint32_t events);
/* Timers: starts a connect when the backoff has passed, gives up a slow connect or a collector that stopped
 * acknowledging. Returns ms until it next needs to run, or -1 when only socket events matter. */
int cgp_cc_tick(struct cgp_cc *cc);
/* New events in the spool: batch and send what the socket takes now. */
void cgp_cc_kick(struct cgp_cc *cc);
/* The caller is making a burst of events and sends them as it goes (a sweep's publishing): the compressor's state
 * stays mapped from one send to the next until the burst is over (on false) and everything is sent. */
void cgp_cc_burst(struct cgp_cc *cc, bool on);

void cgp_cc_get_stats(const struct cgp_cc *cc, struct cgp_cc_stats *st);

#endif
