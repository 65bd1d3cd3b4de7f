// SPDX-License-Identifier: GPL-2.0
/* One connection: a frame decoder in, an output buffer of Acks out. Acks are appended by the store's commit and
 * written at the end of the turn; a connection the commit fails is closed there too, never inside the commit. */
#include "collector/conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "events/frame.h"
#include "events/wire.h"
#include "lib/log.h"

#define READ_CHUNK (256u << 10)
#define OUTBUF_MAX (4u << 20) /* acks an agent does not read: past this it is not listening */

struct cgp_conn {
	struct cgp_conn *prev, *next; /* every open connection, so exit can close them */
	int fd;
	char peer[INET6_ADDRSTRLEN + 16];
	struct cgp_frame_decoder dec;
	struct cgp_buf out;
	bool want_out;
	bool dirty;	  /* Acks were appended this turn: write them */
	bool ending;	  /* nothing more is read: close after this turn's Acks */
	bool unstored;	  /* ending because the store could not keep its batches */
	char reason[200]; /* why it ends ("": the peer ended its stream) */
	char *instance;	  /* the one agent instance this connection speaks for: its first batch's */
	char *node;	  /* the one node its events come from: its first event's */
	uint64_t frames, stored, duplicates;
};

/* why: a protocol error, logged and counted; NULL: the peer left (or we exit), which is normal. */
static void conn_close(struct cgp_conns *cs, struct cgp_conn *c, const char *why)
{
	if (why) {
		cgp_info("collector: closing %s: %s (after %llu frames, %llu events stored)", c->peer, why,
			 (unsigned long long)c->frames, (unsigned long long)c->stored);
		if (c->unstored)
			cs->c.closed_unstored++;
		else
			cs->c.closed_bad++;
	} else {
		cgp_debug("collector: %s left (after %llu frames, %llu events stored)", c->peer,
			  (unsigned long long)c->frames, (unsigned long long)c->stored);
	}
	cgp_store_forget(cs->store, c);
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd); /* also leaves the epoll set */
	cgp_frame_decoder_free(&c->dec);
	cgp_buf_free(&c->out);
	free(c->instance);
	free(c->node);
	free(c);
	cs->c.open--;
}

static void conn_watch(struct cgp_conns *cs, struct cgp_conn *c)
{
	bool want = cgp_buf_size(&c->out) > 0;
	struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};

	if (want != c->want_out && !epoll_ctl(cs->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		c->want_out = want;
}

/* Writes what the socket takes; false when the connection had to be closed. */
static bool conn_flush(struct cgp_conns *cs, struct cgp_conn *c)
{
	c->dirty = false;
	while (cgp_buf_size(&c->out)) {
		ssize_t n = send(c->fd, cgp_buf_head(&c->out), cgp_buf_size(&c->out), MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			char why[96];

			/* an agent that got every ack it needed may hang up before the last ones */
			snprintf(why, sizeof(why), "send: %s", strerror(errno));
			conn_close(cs, c, errno == EPIPE || errno == ECONNRESET ? NULL : why);
			return false;
		}
		cgp_buf_consume(&c->out, (size_t)n);
	}
	if (cgp_buf_size(&c->out) > OUTBUF_MAX) {
		conn_close(cs, c, "peer does not read its acks");
		return false;
	}
	conn_watch(cs, c);
	return true;
}

/* Stops reading c; it is closed at the end of the turn, after its Acks. */
static void end(struct cgp_conn *c, const char *why)
{
	if (!c->ending)
		snprintf(c->reason, sizeof(c->reason), "%s", why);
	c->ending = c->dirty = true;
}

/* A connection speaks for one node and one agent instance, those of its first batch: a batch naming another is
 * refused, so one connection cannot write for every agent it has heard of. NULL or why. */
static const char *check_bound(struct cgp_conns *cs, struct cgp_conn *c, const struct cgp_wire_batch *b, char *why,
			       size_t whylen)
{
	const char *id = b->instance_id[0] ? b->instance_id : b->n_events ? b->events[0]->instance_id : "";
	char e1[64], e2[64];

	if (!id[0])
		return NULL; /* the store refuses it */
	if (!c->instance && !(c->instance = strdup(id)))
		return "out of memory";
	if (strcmp(c->instance, id)) {
		cs->c.refused_instance++;
		snprintf(why, whylen, "batch of instance '%s' on a connection of instance '%s'",
			 cgp_log_escape(e1, sizeof(e1), id), cgp_log_escape(e2, sizeof(e2), c->instance));
		return why;
	}
	for (size_t k = 0; k < b->n_events; k++) {
		const char *node = b->events[k]->node;

		if (!c->node && !(c->node = strdup(node)))
			return "out of memory";
		if (strcmp(c->node, node)) {
			cs->c.refused_node++;
			snprintf(why, whylen, "event of node '%s' on a connection of node '%s'",
				 cgp_log_escape(e1, sizeof(e1), node), cgp_log_escape(e2, sizeof(e2), c->node));
			return why;
		}
	}
	return NULL;
}

static void conn_readable(struct cgp_conns *cs, struct cgp_conn *c)
{
	char why[192];
	const char *bad = NULL;
	bool eof = false;

	for (;;) {
		uint8_t *w = cgp_frame_decoder_space(&c->dec, READ_CHUNK);
		ssize_t n;

		if (!w) {
			conn_close(cs, c, "out of memory");
			return;
		}
		n = recv(c->fd, w, READ_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			snprintf(why, sizeof(why), "recv: %s", strerror(errno));
			conn_close(cs, c, errno == ECONNRESET ? NULL : why);
			return;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		cgp_frame_decoder_commit(&c->dec, (size_t)n);
		cs->c.bytes_in += (size_t)n;

		const uint8_t *frame;
		size_t len;
		int r;

		while ((r = cgp_frame_decoder_next(&c->dec, &frame, &len)) == 1) {
			struct cgp_wire_msg m;
			uint64_t stored, dups;

			c->frames++;
			cs->c.frames++;
			if (cgp_wire_decode(frame, len, cs->max_inflate, &cs->scratch, &m, why, sizeof(why))) {
				bad = why;
				break;
			}
			if (m.ack) {
				bad = "an agent sent an Ack";
			} else if (!(bad = check_bound(cs, c, m.batch, why, sizeof(why)))) {
				bad = cgp_store_batch(cs->store, m.batch, c, &stored, &dups, why, sizeof(why));
				c->stored += stored;
				c->duplicates += dups;
			}
			cgp_wire_msg_free(&m);
			if (bad)
				break;
		}
		if (!bad && r < 0)
			bad = cgp_frame_decoder_error(&c->dec);
		if (bad) {
			/* a frame that cannot be parsed leaves no way to find the next one; the good frames before it
			 * are still acknowledged once the turn's group is durable */
			end(c, bad);
			return;
		}
	}
	if (eof) {
		/* a peer that half-closed still gets the acks of this turn's batches */
		end(c, cgp_frame_decoder_finish(&c->dec) ? cgp_frame_decoder_error(&c->dec) : "");
	}
}

static void on_ack(void *owner, const char *instance_id, uint64_t acked_seq, void *ctx)
{
	struct cgp_conn *c = owner;

	(void)ctx;
	if (cgp_wire_append_ack(&c->out, instance_id, acked_seq))
		end(c, "out of memory");
	c->dirty = true;
}

static void on_fail(void *owner, const char *why, void *ctx)
{
	struct cgp_conn *c = owner;

	(void)ctx;
	/* the agent still holds these events: it reconnects and sends them again */
	c->ending = false;
	end(c, why);
	c->unstored = true;
}

void cgp_conns_turn_end(struct cgp_conns *cs)
{
	struct cgp_store_sink sink = {.ack = on_ack, .fail = on_fail, .ctx = cs};

	cgp_store_commit(cs->store, &sink);
	for (struct cgp_conn *c = cs->list, *nx; c; c = nx) {
		nx = c->next;
		if (!c->dirty)
			continue;
		if (!conn_flush(cs, c))
			continue;
		if (c->ending)
			conn_close(cs, c, c->reason[0] ? c->reason : NULL);
	}
}

void cgp_conns_event(struct cgp_conns *cs, struct cgp_conn *c, uint32_t events)
{
	/* EPOLLOUT first: a failed write frees c */
	if ((events & EPOLLOUT) && !conn_flush(cs, c))
		return;
	if (c->ending)
		return; /* nothing more is read from it */
	if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
		conn_readable(cs, c);
}

void cgp_conns_accept(struct cgp_conns *cs, int lfd)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				cgp_err("collector: accept: %s", strerror(errno));
			return;
		}
		struct cgp_conn *c = calloc(1, sizeof(*c));
		char host[INET6_ADDRSTRLEN], port[8];

		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		cgp_frame_decoder_init(&c->dec, cs->max_frame);
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
				NI_NUMERICHOST | NI_NUMERICSERV))
			snprintf(c->peer, sizeof(c->peer), "fd %d", fd);
		else
			snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

		if (epoll_ctl(cs->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			cgp_err("collector: epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		c->next = cs->list;
		if (cs->list)
			cs->list->prev = c;
		cs->list = c;
		cs->c.accepted++;
		cs->c.open++;
		cgp_debug("collector: %s connected", c->peer);
	}
}

void cgp_conns_close_all(struct cgp_conns *cs)
{
	while (cs->list)
		conn_close(cs, cs->list, NULL);
	cgp_buf_free(&cs->scratch);
}
