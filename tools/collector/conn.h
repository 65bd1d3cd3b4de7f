/* SPDX-License-Identifier: GPL-2.0 */
/* The collector's agent connections: accept, read frames, hand batches to the store, and write the Acks the
 * store hands back once a group is durable. A connection that breaks the protocol is closed with a logged reason;
 * the others carry on. Everything runs in the collector's one epoll loop; nothing blocks. The loop calls
 * cgp_conns_turn_end after every turn: that is when the turn's group is committed and its Acks go out. */
#ifndef CGP_COLLECTOR_CONN_H
#define CGP_COLLECTOR_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collector/store.h"
#include "lib/bytebuf.h"
#include "lib/tls.h"
#include "lib/token.h"

struct cgp_conn_counters {
	uint64_t accepted, open, closed_bad, closed_unstored, frames, bytes_in;
	uint64_t refused_instance, refused_node; /* batches naming another instance or node than the connection's */
	uint64_t refused_cap;			 /* connections closed at once: --max-connections were open */
	uint64_t closed_idle;			 /* nothing read for --idle-timeout */
	uint64_t closed_frame_timeout;		 /* a frame (the first one: from connecting) not whole in time */
	uint64_t closed_memory;			 /* the largest partial frame, when all of them passed the budget */
	uint64_t accept_errors;			 /* accept failed (EMFILE...): the listener paused, backing off */
	uint64_t refused_no_token, refused_bad_token; /* no Hello before a batch; a Hello with another token */
	uint64_t refused_tls;			      /* TLS handshakes that failed (a client not speaking TLS...) */
};

/* Limits; 0 in any field: its default. */
struct cgp_conn_limits {
	size_t max_conns;    /* open connections (default 1024, at most what the fd limit leaves) */
	unsigned idle_s;     /* close a connection nothing was read from for this long (default 300) */
	unsigned frame_s;    /* a frame must be whole this long after its first byte; the first frame this
				long after connecting (default 30) */
	size_t max_buffered; /* bytes held by every partial frame together (default 128 MiB) */
};

struct cgp_conn;

struct cgp_conns {
	int epfd, lfd;
	size_t max_frame, max_inflate;
	struct cgp_conn_limits lim;
	struct cgp_tls_cred *tls;      /* --tls-cert/--tls-key: every connection speaks TLS; NULL: plain TCP */
	char token[CGP_TOKEN_MAX + 1]; /* "": no token wanted; else the first frame must be a Hello with it */
	struct cgp_store *store;
	struct cgp_buf scratch; /* inflated batches */
	struct cgp_conn *list;	/* every open connection */
	struct cgp_conn_counters c;
	size_t buffered;	      /* bytes the decoders hold */
	uint64_t paused_until_ns;     /* the listener is out of epoll until then (accept failed) */
	uint64_t backoff_ns;	      /* the next pause */
	uint64_t logged_ns, unlogged; /* rate-limited log of refusals */
	uint64_t swept_ns;
};

/* Fills in the limits' defaults (the fd limit caps max_conns). */
void cgp_conns_setup(struct cgp_conns *cs, int epfd, int lfd);
/* Accepts every pending connection on the listening socket (non-blocking). */
void cgp_conns_accept(struct cgp_conns *cs);
/* Deadlines (idle, frame) and the listener's back-off: call every turn; returns the ms until it next needs to
 * run, for epoll_wait (-1: nothing is waiting on time). */
int cgp_conns_timers(struct cgp_conns *cs);
/* epoll reported events on c (the epoll data pointer of a connection is its struct cgp_conn). */
void cgp_conns_event(struct cgp_conns *cs, struct cgp_conn *c, uint32_t events);
/* End of a loop turn: the store commits the turn's group; Acks go out, or the connections whose batches could
 * not be stored are closed with the reason. */
void cgp_conns_turn_end(struct cgp_conns *cs);
void cgp_conns_close_all(struct cgp_conns *cs);

#endif
