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

struct cgp_conn_counters {
	uint64_t accepted, open, closed_bad, closed_unstored, frames, bytes_in;
	uint64_t refused_instance, refused_node; /* batches naming another instance or node than the connection's */
};

struct cgp_conn;

struct cgp_conns {
	int epfd;
	size_t max_frame, max_inflate;
	struct cgp_store *store;
	struct cgp_buf scratch; /* inflated batches */
	struct cgp_conn *list;	/* every open connection */
	struct cgp_conn_counters c;
};

/* Accepts every pending connection on the listening socket lfd (non-blocking). */
void cgp_conns_accept(struct cgp_conns *cs, int lfd);
/* epoll reported events on c (the epoll data pointer of a connection is its struct cgp_conn). */
void cgp_conns_event(struct cgp_conns *cs, struct cgp_conn *c, uint32_t events);
/* End of a loop turn: the store commits the turn's group; Acks go out, or the connections whose batches could
 * not be stored are closed with the reason. */
void cgp_conns_turn_end(struct cgp_conns *cs);
void cgp_conns_close_all(struct cgp_conns *cs);

#endif
