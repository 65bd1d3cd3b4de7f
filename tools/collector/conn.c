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
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "events/frame.h"
#include "events/wire.h"
#include "lib/log.h"

#define READ_CHUNK     (256u << 10)
#define OUTBUF_MAX     (4u << 20)      /* acks an agent does not read: past this it is not listening */
#define KEEP_BUF       (1u << 20)      /* a decoder buffer larger than this is freed once no frame is partial in it */
#define FD_SPARE       32	       /* fds the collector keeps for itself under the fd limit (store, epoll, logs) */
#define LOG_EVERY_NS   (10 * NS_PER_S) /* refusals of the same kind are logged at most this often */
#define NS_PER_S       1000000000ull
#define BACKOFF_MIN_NS (NS_PER_S / 10)
#define BACKOFF_MAX_NS NS_PER_S
#define HELLO_MAX      (CGP_TOKEN_MAX + 64) /* the frame limit until a connection said who it is */

struct cgp_conn {
	struct cgp_conn *prev, *next; /* every open connection, so exit can close them */
	int fd;
	char peer[INET6_ADDRSTRLEN + 16];
	struct cgp_frame_decoder dec;
	struct cgp_buf out;
	bool want_out;
	bool dirty;	     /* Acks were appended this turn: write them */
	bool ending;	     /* nothing more is read: close after this turn's Acks */
	bool unstored;	     /* ending because the store could not keep its batches */
	char reason[200];    /* why it ends ("": the peer ended its stream) */
	bool authed;	     /* gave the token (or none is wanted) */
	struct cgp_tls *tls; /* NULL: plain TCP */
	bool handshaken;     /* TLS is up (or not used) */
	uint64_t read_ns;    /* last bytes read (or connected) */
	uint64_t frame_ns;   /* the partial frame's first byte (or connected, for the first frame); 0: none */
	size_t held;	     /* the decoder's buffer, as counted in cs->buffered */
	char *instance;	     /* the one agent instance this connection speaks for: its first batch's */
	char *node;	     /* the one node its events come from: its first event's */
	uint64_t frames, stored, duplicates;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* A refusal that a flood repeats: the first is logged, then at most one line per LOG_EVERY_NS with the count. */
static void log_refusal(struct cgp_conns *cs, const char *what)
{
	uint64_t now = now_ns();

	cs->unlogged++;
	if (cs->logged_ns && now - cs->logged_ns < LOG_EVERY_NS)
		return;
	cgp_info("collector: %s (%llu refusal(s) since the last such line)", what, (unsigned long long)cs->unlogged);
	cs->logged_ns = now;
	cs->unlogged = 0;
}

void cgp_conns_setup(struct cgp_conns *cs, int epfd, int lfd)
{
	struct rlimit rl;
	size_t room = 1024;

	cs->epfd = epfd;
	cs->lfd = lfd;
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY)
		room = rl.rlim_cur > 2 * FD_SPARE ? (size_t)rl.rlim_cur - FD_SPARE : FD_SPARE;
	if (!cs->lim.max_conns)
		cs->lim.max_conns = room < 1024 ? room : 1024;
	else if (cs->lim.max_conns > room)
		cgp_info("collector: --max-connections %zu is more than the fd limit leaves room for (%zu): past it, "
			 "accept fails and the listener backs off",
			 cs->lim.max_conns, room);
	if (!cs->lim.idle_s)
		cs->lim.idle_s = 300;
	if (!cs->lim.frame_s)
		cs->lim.frame_s = 30;
	if (!cs->lim.max_buffered)
		cs->lim.max_buffered = 128u << 20;
	cs->backoff_ns = BACKOFF_MIN_NS;
}

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
	cs->buffered -= c->held;
	if (c->prev)
		c->prev->next = c->next;
	else
		cs->list = c->next;
	if (c->next)
		c->next->prev = c->prev;
	cgp_tls_free(c->tls);
	close(c->fd); /* also leaves the epoll set */
	cgp_frame_decoder_free(&c->dec);
	cgp_buf_free(&c->out);
	free(c->instance);
	free(c->node);
	free(c);
	cs->c.open--;
}

/* Closed by a limit (a flood closes many): counted, logged rate-limited. */
static void conn_drop(struct cgp_conns *cs, struct cgp_conn *c, uint64_t *counter, const char *what)
{
	char line[200];

	(*counter)++;
	snprintf(line, sizeof(line), "closing connections: %s (last %s)", what, c->peer);
	log_refusal(cs, line);
	cgp_debug("collector: closing %s: %s", c->peer, what);
	conn_close(cs, c, NULL);
}

/* Keeps cs->buffered equal to what the decoders hold; frees a large buffer no partial frame needs. */
static void account(struct cgp_conns *cs, struct cgp_conn *c)
{
	if (!cgp_frame_decoder_pending(&c->dec) && c->dec.buf.cap > KEEP_BUF) {
		size_t max = c->dec.max_frame;

		cgp_frame_decoder_free(&c->dec);
		cgp_frame_decoder_init(&c->dec, max);
	}
	cs->buffered = cs->buffered - c->held + c->dec.buf.cap;
	c->held = c->dec.buf.cap;
}

/* Over the budget for partial frames: the connection holding the most goes (a sender of real batches, a few
 * hundred KiB each, is never the largest while a flood holds megabytes). Its memory goes at once; it is closed at
 * the end of the turn, as epoll may still hand it out in this one. True when that was c itself. */
static bool over_budget(struct cgp_conns *cs, struct cgp_conn *c)
{
	bool self = false;

	while (cs->buffered > cs->lim.max_buffered) {
		struct cgp_conn *big = NULL;
		char line[200];

		for (struct cgp_conn *o = cs->list; o; o = o->next)
			if (!big || o->held > big->held)
				big = o;
		if (!big || !big->held)
			break;
		self |= big == c;
		cs->c.closed_memory++;
		snprintf(line, sizeof(line), "closing connections: partial frames over --max-buffered (last %s)",
			 big->peer);
		log_refusal(cs, line);
		big->ending = big->dirty = true;
		big->reason[0] = 0;
		cgp_frame_decoder_free(&big->dec);
		cgp_frame_decoder_init(&big->dec, cs->max_frame);
		account(cs, big);
	}
	return self;
}

static void conn_watch(struct cgp_conns *cs, struct cgp_conn *c)
{
	bool want = cgp_buf_size(&c->out) > 0 || (c->tls && cgp_tls_wants_write(c->tls));
	struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};

	if (want != c->want_out && !epoll_ctl(cs->epfd, EPOLL_CTL_MOD, c->fd, &ev))
		c->want_out = want;
}

/* Writes what the socket takes; false when the connection had to be closed. */
static bool conn_flush(struct cgp_conns *cs, struct cgp_conn *c)
{
	c->dirty = false;
	while (cgp_buf_size(&c->out)) {
		ssize_t n = cgp_sock_send(c->tls, c->fd, cgp_buf_head(&c->out), cgp_buf_size(&c->out));

		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n < 0) {
			char why[96];

			/* an agent that got every ack it needed may hang up before the last ones */
			snprintf(why, sizeof(why), "send: %s", strerror((int)-n));
			conn_close(cs, c, n == -EPIPE || n == -ECONNRESET ? NULL : why);
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

/* The first frame of a connection to a collector with a token. NULL, or why it is refused. */
static const char *check_hello(struct cgp_conns *cs, struct cgp_conn *c, const Cgpulse__V1__Hello *h)
{
	if (c->frames > 1)
		return "a Hello after the first frame";
	if (cs->token[0]) {
		const char *t = h->token ? h->token : "";

		if (!cgp_token_equal(t, strlen(t), cs->token, strlen(cs->token))) {
			cs->c.refused_bad_token++;
			log_refusal(cs, "refusing connections: wrong token");
			return "";
		}
	}
	c->authed = true;
	c->dec.max_frame = cs->max_frame;
	return NULL;
}

static void conn_readable(struct cgp_conns *cs, struct cgp_conn *c)
{
	char why[192];
	const char *bad = NULL;
	bool eof = false;

	if (!c->handshaken) {
		int r = cgp_tls_handshake(c->tls, why, sizeof(why));

		if (r == -EAGAIN) {
			conn_watch(cs, c);
			return;
		}
		if (r) {
			char line[240];

			cs->c.refused_tls++;
			snprintf(line, sizeof(line), "refusing connections: %.120s (last %s)", why, c->peer);
			log_refusal(cs, line);
			end(c, "");
			return;
		}
		c->handshaken = true;
		conn_watch(cs, c);
	}
	for (;;) {
		uint8_t *w = cgp_frame_decoder_space(&c->dec, READ_CHUNK);
		ssize_t n;

		if (!w) {
			conn_close(cs, c, "out of memory");
			return;
		}
		n = cgp_sock_recv(c->tls, c->fd, w, READ_CHUNK);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n < 0) {
			snprintf(why, sizeof(why), "recv: %s", strerror((int)-n));
			conn_close(cs, c, n == -ECONNRESET ? NULL : why);
			return;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		cgp_frame_decoder_commit(&c->dec, (size_t)n);
		cs->c.bytes_in += (size_t)n;
		c->read_ns = now_ns();
		if (!c->frame_ns)
			c->frame_ns = c->read_ns;

		const uint8_t *frame;
		size_t len;
		int r;

		while ((r = cgp_frame_decoder_next(&c->dec, &frame, &len)) == 1) {
			struct cgp_wire_msg m;
			uint64_t stored, dups;

			c->frame_ns = c->read_ns; /* a frame is whole: the next one starts now */
			c->frames++;
			cs->c.frames++;
			if (cgp_wire_decode(frame, len, cs->max_inflate, &cs->scratch, &m, why, sizeof(why))) {
				bad = why;
				break;
			}
			if (m.ack) {
				bad = "an agent sent an Ack";
			} else if (m.hello) {
				bad = check_hello(cs, c, m.hello);
			} else if (!c->authed) {
				cs->c.refused_no_token++;
				log_refusal(cs, "refusing connections: no token before the first batch");
				bad = "";
			} else if (!(bad = check_bound(cs, c, m.batch, why, sizeof(why)))) {
				bad = cgp_store_batch(cs->store, m.batch, c, &stored, &dups, why, sizeof(why));
				c->stored += stored;
				c->duplicates += dups;
			}
			cgp_wire_msg_free(&m);
			if (bad)
				break;
		}
		if (!bad && r < 0 && !c->authed) {
			/* a batch (larger than any Hello) from a sender that has not said who it is */
			cs->c.refused_no_token++;
			log_refusal(cs, "refusing connections: no token before the first batch");
			bad = "";
		} else if (!bad && r < 0) {
			bad = cgp_frame_decoder_error(&c->dec);
		}
		if (!bad && !cgp_frame_decoder_pending(&c->dec))
			c->frame_ns = 0;
		account(cs, c);
		if (over_budget(cs, c))
			return;
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
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) || !c->handshaken)
		conn_readable(cs, c);
}

/* accept failed for want of fds or memory: the listener leaves epoll for a back-off instead of spinning on a
 * connection it cannot take (the kernel keeps it in the backlog). */
static void pause_listener(struct cgp_conns *cs, int err)
{
	char what[160];

	cs->c.accept_errors++;
	snprintf(what, sizeof(what), "accept: %s; not accepting for %llu ms", strerror(err),
		 (unsigned long long)(cs->backoff_ns / 1000000));
	log_refusal(cs, what);
	if (!epoll_ctl(cs->epfd, EPOLL_CTL_DEL, cs->lfd, NULL))
		cs->paused_until_ns = now_ns() + cs->backoff_ns;
	cs->backoff_ns = cs->backoff_ns * 2 > BACKOFF_MAX_NS ? BACKOFF_MAX_NS : cs->backoff_ns * 2;
}

void cgp_conns_accept(struct cgp_conns *cs)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(cs->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				pause_listener(cs, errno);
			else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
				cgp_err("collector: accept: %s", strerror(errno));
			return;
		}
		cs->backoff_ns = BACKOFF_MIN_NS;
		if (cs->c.open >= cs->lim.max_conns) {
			cs->c.refused_cap++;
			log_refusal(cs, "refusing connections: --max-connections are open");
			close(fd);
			continue;
		}
		struct cgp_conn *c = calloc(1, sizeof(*c));
		char host[INET6_ADDRSTRLEN], port[8];

		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		c->read_ns = c->frame_ns = now_ns(); /* the first frame is due frame_s after connecting */
		c->authed = !cs->token[0];
		c->handshaken = !cs->tls;
		if (cs->tls && !(c->tls = cgp_tls_server(cs->tls, fd, host, sizeof(host)))) {
			cgp_err("collector: %s", host);
			close(fd);
			free(c);
			continue;
		}
		/* nothing larger than a Hello is read from a connection that has not said who it is */
		cgp_frame_decoder_init(&c->dec, c->authed ? cs->max_frame : HELLO_MAX);
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

int cgp_conns_timers(struct cgp_conns *cs)
{
	uint64_t now = now_ns(), next = UINT64_MAX;

	if (cs->paused_until_ns) {
		if (now >= cs->paused_until_ns) {
			struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &cs->lfd};

			cs->paused_until_ns = 0;
			if (epoll_ctl(cs->epfd, EPOLL_CTL_ADD, cs->lfd, &ev))
				cgp_err("collector: epoll_ctl (listener): %s", strerror(errno));
			cgp_conns_accept(cs); /* what waited in the backlog */
		}
		if (cs->paused_until_ns)
			next = cs->paused_until_ns;
	}
	/* deadlines are checked to the second: a sweep of every connection at most that often */
	if (cs->list && now - cs->swept_ns >= NS_PER_S) {
		uint64_t idle = cs->lim.idle_s * NS_PER_S, frame = cs->lim.frame_s * NS_PER_S;

		cs->swept_ns = now;
		for (struct cgp_conn *c = cs->list, *nx; c; c = nx) {
			nx = c->next;
			if (c->ending)
				continue;
			if (c->frame_ns && now - c->frame_ns >= frame)
				conn_drop(cs, c, &cs->c.closed_frame_timeout,
					  "a frame not whole within --frame-timeout");
			else if (now - c->read_ns >= idle)
				conn_drop(cs, c, &cs->c.closed_idle, "nothing read for --idle-timeout");
		}
	}
	if (cs->list && cs->swept_ns + NS_PER_S < next)
		next = cs->swept_ns + NS_PER_S;
	if (next == UINT64_MAX)
		return -1;
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

void cgp_conns_close_all(struct cgp_conns *cs)
{
	while (cs->list)
		conn_close(cs, cs->list, NULL);
	cgp_buf_free(&cs->scratch);
}
