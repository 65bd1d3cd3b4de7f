// SPDX-License-Identifier: GPL-2.0
/* Collector client state machine: IDLE (waiting out a backoff) → CONNECTING → CONNECTED → IDLE on any failure.
 * Only one batch is kept in our own buffer at a time; the socket buffer bounds what is in flight, and the spool
 * holds every unacknowledged event, so a reconnect simply rewinds the spool. */
#include "sinks/collector_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/bytebuf.h"
#include "events/frame.h"
#include "lib/log.h"
#include "lib/resolver.h"
#include "lib/tcp_addr.h"
#include "lib/tls.h"
#include "lib/token.h"
#include "events/wire.h"

enum cc_state { CC_IDLE, CC_RESOLVING, CC_CONNECTING, CC_HANDSHAKE, CC_CONNECTED };

#define RESOLVE_POLL_MS 20 /* how often the loop asks whether the name is resolved, while it is */

struct cgp_cc {
	struct cgp_cc_cfg cfg;
	char *addr, *token_file;
	struct cgp_spool *sp;
	struct cgp_resolver *rs;
	struct cgp_tls_cred *cred; /* NULL: plain TCP */
	struct cgp_tls *tls;	   /* the connection's session */
	char *server_name;	   /* what the certificate must name */
	enum cc_state state;
	int fd;
	int reg_fd; /* fd as registered in the caller's epoll, -1 when not */
	uint32_t reg_events;
	struct cgp_buf out, scratch;
	struct cgp_frame_decoder dec;
	struct cgp_batch batch;
	char batch_instance[CGP_JOURNAL_ID_MAX]; /* whose events the batch being built holds */
	char conn_instance[CGP_JOURNAL_ID_MAX];	 /* the one instance this connection speaks for ("": none yet) */
	uint64_t backoff_ms, next_try_ms, since_ms, last_ack_ms;
	uint64_t rng;
	unsigned failures_in_row;
	bool burst; /* cgp_cc_burst: the compressor's state is kept between sends */
	struct cgp_cc_stats st;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t next_rand(struct cgp_cc *cc)
{
	cc->rng ^= cc->rng << 13;
	cc->rng ^= cc->rng >> 7;
	cc->rng ^= cc->rng << 17;
	return cc->rng;
}

struct cgp_cc *cgp_cc_new(const struct cgp_cc_cfg *cfg, struct cgp_spool *sp)
{
	struct cgp_cc *cc;
	struct timespec ts;

	if (!cfg->addr || !sp)
		return NULL;
	cc = calloc(1, sizeof(*cc));
	if (!cc)
		return NULL;
	cc->cfg = *cfg;
	cc->addr = strdup(cfg->addr);
	if (!cc->addr) {
		cgp_cc_free(cc);
		return NULL;
	}
	cc->cfg.addr = cc->addr;
	if (cfg->token_file && !(cc->cfg.token_file = cc->token_file = strdup(cfg->token_file))) {
		cgp_cc_free(cc);
		return NULL;
	}
	if (!cc->cfg.batch_max_events)
		cc->cfg.batch_max_events = 1024;
	if (!cc->cfg.batch_max_bytes)
		cc->cfg.batch_max_bytes = 512u << 10;
	if (!cc->cfg.backoff_min_ms)
		cc->cfg.backoff_min_ms = 200;
	if (!cc->cfg.backoff_max_ms)
		cc->cfg.backoff_max_ms = 10000;
	if (cc->cfg.backoff_max_ms < cc->cfg.backoff_min_ms)
		cc->cfg.backoff_max_ms = cc->cfg.backoff_min_ms;
	if (!cc->cfg.connect_timeout_ms)
		cc->cfg.connect_timeout_ms = 5000;
	if (!cc->cfg.resolve_timeout_ms)
		cc->cfg.resolve_timeout_ms = 5000;
	cc->rs = cgp_resolver_new();
	if (!cc->rs) {
		cgp_cc_free(cc);
		return NULL;
	}
	if (cfg->tls || cfg->tls_ca) {
		char host[256], port[32], why[256];

		/* trust is read now, before the loop (and any syscall filter) starts */
		cc->cred = cgp_tls_client_cred(cfg->tls_ca, why, sizeof(why));
		if (!cc->cred || cgp_tcp_addr_split(cc->addr, host, sizeof(host), port, sizeof(port)) ||
		    !(cc->server_name = strdup(cfg->tls_server_name ? cfg->tls_server_name : host))) {
			if (!cc->cred)
				cgp_err("--collector-tls-ca %s", why);
			cgp_cc_free(cc);
			return NULL;
		}
	}
	if (!cc->cfg.ack_timeout_ms)
		cc->cfg.ack_timeout_ms = 30000;
	cc->sp = sp;
	cc->fd = cc->reg_fd = -1;
	cc->backoff_ms = cc->cfg.backoff_min_ms;
	/* agents restarted together must not retry in lockstep: seed the jitter per process and moment */
	clock_gettime(CLOCK_REALTIME, &ts);
	cc->rng = ((uint64_t)getpid() << 32) ^ (uint64_t)ts.tv_nsec ^ (uintptr_t)cc;
	cc->rng *= 0x100000001b3ull;
	if (!cc->rng)
		cc->rng = 1;
	cgp_frame_decoder_init(&cc->dec, CGP_FRAME_MAX_DEFAULT);
	cgp_batch_init(&cc->batch);
	return cc;
}

static void close_socket(struct cgp_cc *cc)
{
	cgp_tls_free(cc->tls);
	cc->tls = NULL;
	if (cc->fd >= 0)
		close(cc->fd); /* leaves the caller's epoll set with it */
	cc->fd = cc->reg_fd = -1;
	cc->reg_events = 0;
	cc->conn_instance[0] = 0;
	cgp_buf_clear(&cc->out);
	cgp_frame_decoder_free(&cc->dec);
	cgp_frame_decoder_init(&cc->dec, CGP_FRAME_MAX_DEFAULT);
	cgp_batch_release(&cc->batch); /* nothing goes out until a new connection: the compressor's state neither */
}

void cgp_cc_free(struct cgp_cc *cc)
{
	if (!cc)
		return;
	close_socket(cc);
	cgp_buf_free(&cc->out);
	cgp_buf_free(&cc->scratch);
	cgp_frame_decoder_free(&cc->dec);
	cgp_batch_free(&cc->batch);
	cgp_resolver_free(cc->rs);
	cgp_tls_cred_free(cc->cred);
	free(cc->server_name);
	free(cc->addr);
	free(cc->token_file);
	free(cc);
}

/* Ends the connection (or attempt) and schedules the next try after a jittered backoff. */
static void fail(struct cgp_cc *cc, const char *why)
{
	uint64_t wait = cc->backoff_ms / 2 + next_rand(cc) % (cc->backoff_ms / 2 + 1);

	if (cc->state == CC_CONNECTED) {
		cc->st.disconnects++;
		cgp_info("collector %s: connection lost: %s; retrying in %llu ms", cc->addr, why,
			 (unsigned long long)wait);
	} else {
		cc->st.connect_failures++;
		/* say it once, not on every retry while the collector is away */
		if (!cc->failures_in_row)
			cgp_info("collector %s: %s; retrying with backoff", cc->addr, why);
		else
			cgp_debug("collector %s: %s; retrying in %llu ms", cc->addr, why, (unsigned long long)wait);
		cc->failures_in_row++;
	}
	snprintf(cc->st.last_error, sizeof(cc->st.last_error), "%s", why);
	close_socket(cc);
	cc->state = CC_IDLE;
	cc->st.connected = false;
	cc->next_try_ms = now_ms() + wait;
	cc->backoff_ms = cc->backoff_ms * 2 > cc->cfg.backoff_max_ms ? cc->cfg.backoff_max_ms : cc->backoff_ms * 2;
}

/* Writes what the socket takes. false when the connection failed. */
static bool flush(struct cgp_cc *cc)
{
	while (cgp_buf_size(&cc->out)) {
		ssize_t n = cgp_sock_send(cc->tls, cc->fd, cgp_buf_head(&cc->out), cgp_buf_size(&cc->out));

		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			return true;
		if (n < 0) {
			char why[96];

			snprintf(why, sizeof(why), "send: %s", strerror((int)-n));
			fail(cc, why);
			return false;
		}
		cc->st.bytes_sent += (uint64_t)n;
		cgp_buf_consume(&cc->out, (size_t)n);
	}
	return true;
}

static bool awaiting_ack(const struct cgp_cc *cc);
static void start_connect(struct cgp_cc *cc);
static void resolving(struct cgp_cc *cc);

/* Everything this connection carried is acknowledged and the next events are another instance's: a new
 * connection for them, at once (not a failure: no backoff). */
static void switch_instance(struct cgp_cc *cc)
{
	cgp_debug("collector %s: instance %s delivered; connecting again for %s", cc->addr, cc->conn_instance,
		  cgp_spool_peek_unsent(cc->sp)->instance_id);
	close_socket(cc);
	cc->state = CC_IDLE;
	cc->st.connected = false;
	start_connect(cc);
}

/* Moves unsent spool events into batches while our buffer is empty and the socket keeps taking them. A batch
 * holds one instance's events: the spool hands out a previous instance's before ours. */
static void pump_batches(struct cgp_cc *cc)
{
	const struct cgp_spool_entry *e;
	/* the spool's own string of the batch's instance: most events compare by address */
	const char *batch_id = NULL;
	bool mapped;

	while (cc->state == CC_CONNECTED && flush(cc) && !cgp_buf_size(&cc->out) && cgp_spool_peek_unsent(cc->sp)) {
		while ((e = cgp_spool_peek_unsent(cc->sp))) {
			if (!cc->batch.events && cc->conn_instance[0] && strcmp(e->instance_id, cc->conn_instance)) {
				/* the collector binds a connection to its first batch's instance: once the one before
				 * (a previous instance's, from the spool directory) is acknowledged, connect again */
				if (!awaiting_ack(cc))
					switch_instance(cc);
				return;
			}
			if (!cc->batch.events) {
				snprintf(cc->batch_instance, sizeof(cc->batch_instance), "%s", e->instance_id);
				batch_id = e->instance_id;
			} else if (cc->batch.events >= cc->cfg.batch_max_events ||
				   cgp_batch_bytes(&cc->batch) + e->len > cc->cfg.batch_max_bytes ||
				   (e->instance_id != batch_id && strcmp(e->instance_id, cc->batch_instance)))
				break;
			if (cgp_batch_add(&cc->batch, e->data, e->len))
				goto nomem;
			cgp_spool_mark_sent(cc->sp);
		}
		if (!cc->batch.events)
			break;
		if (!cc->conn_instance[0])
			snprintf(cc->conn_instance, sizeof(cc->conn_instance), "%s", cc->batch_instance);
		cc->st.batches_sent++;
		cc->st.events_sent += cc->batch.events;
		mapped = cc->batch.zstate != NULL;
		if (cgp_batch_finish(&cc->batch, cc->batch_instance, cgp_spool_base_seq(cc->sp, cc->batch_instance),
				     cc->cfg.zlevel, &cc->out))
			goto nomem;
		cc->st.compressor_maps += !mapped && cc->batch.zstate;
	}
	return;
nomem:
	/* the spool still has the events: a reconnect resends them */
	cgp_batch_reset(&cc->batch);
	fail(cc, "out of memory building a batch");
}

/* The batches of one turn share the compressor's state. It goes back to the system once the spool has nothing
 * unsent and no burst is being made (cgp_cc_burst), so an agent holds nothing between intervals, and one whose
 * interval is many batches maps it once an interval, not once a send (at 10,000 containers that was 10 maps of
 * 276 KiB and ~700 page faults a second). */
static void pump(struct cgp_cc *cc)
{
	pump_batches(cc);
	if (!cc->burst && !cgp_spool_peek_unsent(cc->sp))
		cgp_batch_release(&cc->batch);
}

void cgp_cc_burst(struct cgp_cc *cc, bool on)
{
	cc->burst = on;
	if (!on && !cgp_spool_peek_unsent(cc->sp))
		cgp_batch_release(&cc->batch);
}

static bool awaiting_ack(const struct cgp_cc *cc)
{
	return cgp_spool_in_flight(cc->sp) > 0;
}

static void connected(struct cgp_cc *cc)
{
	if (cc->failures_in_row || cc->st.connects)
		cgp_info("collector %s: connected", cc->addr);
	cc->state = CC_CONNECTED;
	cc->st.connected = true;
	cc->st.connects++;
	cc->failures_in_row = 0;
	cc->last_ack_ms = now_ms();
	if (cc->token_file) {
		char tok[CGP_TOKEN_MAX + 1], why[256];
		int err = cgp_token_load(cc->token_file, tok, why, sizeof(why));

		if (!err)
			err = cgp_wire_append_hello(&cc->out, tok);
		explicit_bzero(tok, sizeof(tok));
		if (err) {
			fail(cc, err == -ENOMEM ? "out of memory" : why);
			return;
		}
	}
	/* the collector may have lost or never seen anything not acknowledged: send it all again */
	cgp_spool_rewind(cc->sp);
	pump(cc);
}

static void start_connect(struct cgp_cc *cc)
{
	char why[192];
	int err = cgp_resolver_start(cc->rs, cc->addr, why, sizeof(why));

	cc->since_ms = now_ms();
	cc->state = CC_RESOLVING; /* so fail() counts a failed attempt */
	if (err) {
		fail(cc, why);
		return;
	}
	resolving(cc);
}

/* The name is looked up outside the loop (lib/resolver): see whether it is known, then connect. */
static void resolving(struct cgp_cc *cc)
{
	struct addrinfo *res;
	char why[192];
	int r = cgp_resolver_poll(cc->rs, &res, why, sizeof(why)), fd;

	if (r == 0) {
		if (now_ms() - cc->since_ms >= cc->cfg.resolve_timeout_ms) {
			cgp_resolver_cancel(cc->rs);
			cc->st.resolve_timeouts++;
			fail(cc, "resolving the collector's name timed out");
		}
		return;
	}
	if (r < 0) {
		fail(cc, why);
		return;
	}
	fd = cgp_tcp_connect_addrinfo(res, cc->addr, why, sizeof(why));
	freeaddrinfo(res);
	if (fd < 0) {
		fail(cc, why);
		return;
	}
	cc->fd = fd;
	cc->since_ms = now_ms();
	cc->state = CC_CONNECTING;
}

static void handshake(struct cgp_cc *cc)
{
	char why[256];
	int r = cgp_tls_handshake(cc->tls, why, sizeof(why));

	if (r == -EAGAIN)
		return;
	if (r) {
		fail(cc, why);
		return;
	}
	connected(cc);
}

static void finish_connect(struct cgp_cc *cc)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(cc->fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (err) {
		char why[160];

		snprintf(why, sizeof(why), "cannot connect: %s", strerror(err));
		fail(cc, why);
		return;
	}
	if (cc->cred) {
		char why[256];

		cc->tls = cgp_tls_client(cc->cred, cc->fd, cc->server_name, why, sizeof(why));
		if (!cc->tls) {
			fail(cc, why);
			return;
		}
		cc->state = CC_HANDSHAKE;
		handshake(cc);
		return;
	}
	connected(cc);
}

static void on_readable(struct cgp_cc *cc)
{
	char why[192];

	if (cc->state == CC_CONNECTING) {
		finish_connect(cc);
		return;
	}
	if (cc->state != CC_CONNECTED)
		return;
	for (;;) {
		uint8_t *w = cgp_frame_decoder_space(&cc->dec, 4096);
		ssize_t n;

		if (!w) {
			fail(cc, "out of memory");
			return;
		}
		n = cgp_sock_recv(cc->tls, cc->fd, w, 4096);
		if (n == -EINTR)
			continue;
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n <= 0) {
			snprintf(why, sizeof(why), "%s", n ? strerror((int)-n) : "collector closed the connection");
			fail(cc, why);
			return;
		}
		cgp_frame_decoder_commit(&cc->dec, (size_t)n);

		const uint8_t *f;
		size_t len;
		int r;

		while ((r = cgp_frame_decoder_next(&cc->dec, &f, &len)) == 1) {
			struct cgp_wire_msg m;

			if (cgp_wire_decode(f, len, CGP_INFLATE_MAX_DEFAULT, &cc->scratch, &m, why, sizeof(why))) {
				fail(cc, why);
				return;
			}
			if (!m.ack) {
				cgp_wire_msg_free(&m);
				fail(cc, "collector sent something other than an Ack");
				return;
			}
			cgp_debug("collector %s: ack %s %llu", cc->addr, m.ack->instance_id,
				  (unsigned long long)m.ack->acked_seq);
			/* an instance the spool no longer holds: everything of it was acknowledged already */
			if (!cgp_spool_ack(cc->sp, m.ack->instance_id, m.ack->acked_seq) &&
			    cgp_spool_base_seq(cc->sp, m.ack->instance_id) == 0)
				cc->st.acks_unknown++;
			cc->st.acks++;
			cc->st.acked_seq = m.ack->acked_seq;
			cc->last_ack_ms = now_ms();
			/* a collector that acknowledges is healthy: the next failure starts from a short wait */
			cc->backoff_ms = cc->cfg.backoff_min_ms;
			cgp_wire_msg_free(&m);
		}
		if (r < 0) {
			fail(cc, cgp_frame_decoder_error(&cc->dec));
			return;
		}
	}
	pump(cc);
}

static void on_writable(struct cgp_cc *cc)
{
	if (cc->state == CC_CONNECTING)
		finish_connect(cc);
	else if (cc->state == CC_CONNECTED)
		pump(cc);
}

void cgp_cc_handle(struct cgp_cc *cc, uint32_t events)
{
	if (cc->state == CC_CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			finish_connect(cc);
		return;
	}
	if (cc->state == CC_HANDSHAKE) {
		handshake(cc);
		return;
	}
	if (events & EPOLLOUT)
		on_writable(cc);
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(cc);
}

void cgp_cc_kick(struct cgp_cc *cc)
{
	if (cc->state == CC_CONNECTED)
		pump(cc);
}

int cgp_cc_tick(struct cgp_cc *cc)
{
	uint64_t now = now_ms();

	switch (cc->state) {
	case CC_IDLE:
		if (now >= cc->next_try_ms)
			start_connect(cc);
		break;
	case CC_RESOLVING:
		resolving(cc);
		break;
	case CC_CONNECTING:
	case CC_HANDSHAKE:
		if (now - cc->since_ms >= cc->cfg.connect_timeout_ms)
			fail(cc, cc->state == CC_HANDSHAKE ? "TLS handshake timed out" : "connect timed out");
		break;
	case CC_CONNECTED:
		if (awaiting_ack(cc) && now - cc->last_ack_ms >= cc->cfg.ack_timeout_ms)
			fail(cc, "collector stopped acknowledging");
		else
			pump(cc);
		break;
	}
	now = now_ms();
	switch (cc->state) {
	case CC_IDLE:
		return cc->next_try_ms > now ? (int)(cc->next_try_ms - now) : 0;
	case CC_RESOLVING:
		return RESOLVE_POLL_MS;
	case CC_CONNECTING:
	case CC_HANDSHAKE:
		return (int)(cc->since_ms + cc->cfg.connect_timeout_ms - (now < cc->since_ms ? cc->since_ms : now));
	default:
		if (!awaiting_ack(cc))
			return -1;
		return cc->last_ack_ms + cc->cfg.ack_timeout_ms > now
			   ? (int)(cc->last_ack_ms + cc->cfg.ack_timeout_ms - now)
			   : 0;
	}
}

uint32_t cgp_cc_epoll_events(const struct cgp_cc *cc)
{
	switch (cc->state) {
	case CC_CONNECTING:
		return EPOLLOUT;
	case CC_HANDSHAKE:
		return EPOLLIN | (cgp_tls_wants_write(cc->tls) ? EPOLLOUT : 0);
	case CC_CONNECTED:
		return EPOLLIN | (cgp_buf_size(&cc->out) || (cc->tls && cgp_tls_wants_write(cc->tls)) ? EPOLLOUT : 0);
	default:
		return 0;
	}
}

int cgp_cc_epoll_sync(struct cgp_cc *cc, int epfd, epoll_data_t data)
{
	struct epoll_event ev = {.events = cgp_cc_epoll_events(cc), .data = data};

	if (cc->fd < 0)
		return 0;
	if (cc->reg_fd != cc->fd) {
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, cc->fd, &ev))
			return -errno;
		cc->reg_fd = cc->fd;
		cc->reg_events = ev.events;
	} else if (cc->reg_events != ev.events) {
		if (epoll_ctl(epfd, EPOLL_CTL_MOD, cc->fd, &ev))
			return -errno;
		cc->reg_events = ev.events;
	}
	return 0;
}

void cgp_cc_get_stats(const struct cgp_cc *cc, struct cgp_cc_stats *st)
{
	*st = cc->st;
}
