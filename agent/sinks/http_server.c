// SPDX-License-Identifier: GPL-2.0
/* HTTP in the agent's own event loop: libmicrohttpd with MHD_USE_EPOLL and no thread, as in its
 * suspend_resume_epoll.c example. An event stream whose consumer has everything is suspended; the next run
 * after the ring grew resumes it. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <microhttpd.h>
#include <zlib.h>

#include "events/event_encode.h"
#include "events/event_ring.h"
#include "events/frame.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/tcp_addr.h"
#include "sinks/http_server.h"
#include "sinks/cadvisor.h"
#include "sinks/metrics.h"

#define STREAM_BLOCK 16384     /* libmicrohttpd's buffer for one chunk of a stream */
#define STREAM_BATCH 65536     /* event bytes taken from the ring per refill: one gzip flush per batch */
#define GZIP_WBITS   (14 + 16) /* 16 KiB window, gzip wrapper: a stream's deflate state stays under 100 KiB */
#define GZIP_MEMLVL  6
#define EVENTS_TYPE  "application/vnd.google.protobuf; proto=cgpulse.v1.Event; encoding=delimited"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct stream {
	struct cgp_http *h;
	struct MHD_Connection *conn;
	struct stream *prev, *next;
	uint64_t after; /* the last seq this consumer was given (or told it missed) */
	bool suspended;
	bool gzip, gzip_done;
	z_stream z;
	struct cgp_buf out; /* bytes ready for libmicrohttpd: at most one batch */
};

struct cgp_http {
	struct MHD_Daemon *d;
	/* what the agent polls: libmicrohttpd's epoll fd. A resumed connection does not make it readable in
	 * external-epoll mode, so after resuming streams the next run is due at once (woken). */
	int ep;
	bool woken;
	int port;
	struct cgp_http_cfg cfg;
	struct cgp_event_ring *ring;
	uint64_t ring_seen;	/* the ring's last seq when the streams were last resumed */
	struct stream *streams; /* every open stream, suspended or not */
	bool closing;
	bool healthy;
	char health_reason[256];
	struct cgp_buf raw; /* one batch before compression */
	struct cgp_buf gap; /* one encoded Gap event */
	struct cgp_http_stats st;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	cgp_debug("http: %s", msg);
}

/* Accept-Encoding names gzip (or x-gzip) without q=0. */
static bool accepts_gzip(struct MHD_Connection *c)
{
	const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING);

	while (v && *v) {
		size_t n = strcspn(v, ",");
		const char *tok = v, *semi;
		size_t tl;

		v += n + (v[n] == ',');
		while (n && (*tok == ' ' || *tok == '\t'))
			tok++, n--;
		semi = memchr(tok, ';', n);
		tl = semi ? (size_t)(semi - tok) : n;
		while (tl && (tok[tl - 1] == ' ' || tok[tl - 1] == '\t'))
			tl--;
		if (!((tl == 4 && !strncasecmp(tok, "gzip", 4)) || (tl == 6 && !strncasecmp(tok, "x-gzip", 6))))
			continue;
		if (semi) {
			const char *q = semi + 1;

			while (*q == ' ' || *q == '\t')
				q++;
			if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=' && strtod(q + 2, NULL) <= 0)
				return false;
		}
		return true;
	}
	return false;
}

/* Appends the deflate output of in[0..len) with the given flush to out. */
static int deflate_into(z_stream *z, const void *in, size_t len, int flush, struct cgp_buf *out)
{
	z->next_in = (Bytef *)in;
	z->avail_in = (uInt)len;
	do {
		size_t room = 4096 + len / 2;
		uint8_t *w = cgp_buf_reserve(out, room);
		int rc;

		if (!w)
			return -ENOMEM;
		z->next_out = w;
		z->avail_out = (uInt)room;
		rc = deflate(z, flush);
		if (rc == Z_STREAM_ERROR)
			return -EIO;
		out->len += room - z->avail_out;
	} while (z->avail_out == 0 || z->avail_in);
	return 0;
}

static int gzip_once(const void *in, size_t len, struct cgp_buf *out)
{
	z_stream z = {0};
	int err;

	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	err = deflate_into(&z, in, len, Z_FINISH, out);
	deflateEnd(&z);
	return err;
}

static enum MHD_Result reply(struct MHD_Connection *c, struct cgp_http *h, enum cgp_http_endpoint ep, unsigned status,
			     const char *type, const void *body, size_t len, bool gzip)
{
	struct cgp_buf z = CGP_BUF_INIT;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (status >= 400)
		h->st.errors[ep]++;
	if (gzip && gzip_once(body, len, &z) == 0) {
		body = cgp_buf_head(&z);
		len = cgp_buf_size(&z);
	} else {
		gzip = false;
	}
	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	cgp_buf_free(&z);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (ep == CGP_HTTP_EP_METRICS)
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, ep == CGP_HTTP_EP_EVENTS ? "GET" : "GET, HEAD");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, struct cgp_http *h, enum cgp_http_endpoint ep,
				  unsigned status, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static enum MHD_Result reply_text(struct MHD_Connection *c, struct cgp_http *h, enum cgp_http_endpoint ep,
				  unsigned status, const char *fmt, ...)
{
	char body[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(body))
		n = sizeof(body) - 1;
	return reply(c, h, ep, status, "text/plain; charset=utf-8", body, (size_t)n, false);
}

/* A rendered exposition (err from its renderer) as the answer on endpoint ep. */
static enum MHD_Result reply_rendered(struct cgp_http *h, struct MHD_Connection *c, enum cgp_http_endpoint ep, int err,
				      struct cgp_buf *body)
{
	enum MHD_Result ret;

	if (err)
		ret = reply_text(c, h, ep, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering metrics: %s\n", strerror(-err));
	else
		ret =
		    reply(c, h, ep, MHD_HTTP_OK, METRICS_TYPE, cgp_buf_head(body), cgp_buf_size(body), accepts_gzip(c));
	cgp_buf_free(body);
	return ret;
}

static enum MHD_Result serve_metrics(struct cgp_http *h, struct MHD_Connection *c)
{
	struct cgp_buf body = CGP_BUF_INIT;
	struct cgp_http_stats st;

	if (!h->cfg.metrics)
		return reply_text(c, h, CGP_HTTP_EP_METRICS, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n");
	cgp_http_get_stats(h, &st);
	return reply_rendered(h, c, CGP_HTTP_EP_METRICS, cgp_metrics_render(h->cfg.metrics, &st, &body), &body);
}

static enum MHD_Result serve_cadvisor(struct cgp_http *h, struct MHD_Connection *c)
{
	struct cgp_buf body = CGP_BUF_INIT;

	if (!h->cfg.cadvisor)
		return reply_text(c, h, CGP_HTTP_EP_CADVISOR, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n");
	return reply_rendered(h, c, CGP_HTTP_EP_CADVISOR, cgp_cadvisor_render(h->cfg.cadvisor, &body), &body);
}

static enum MHD_Result serve_healthz(struct cgp_http *h, struct MHD_Connection *c)
{
	if (h->healthy) /* "ok", and what the agent said it runs with */
		return reply_text(c, h, CGP_HTTP_EP_HEALTHZ, MHD_HTTP_OK, "%s\n", h->health_reason);
	return reply_text(c, h, CGP_HTTP_EP_HEALTHZ, MHD_HTTP_SERVICE_UNAVAILABLE, "%s\n", h->health_reason);
}

/* Takes up to one batch of events (and Gaps) from the ring into s->out, compressed when asked. */
static int stream_fill(struct stream *s)
{
	struct cgp_http *h = s->h;
	struct cgp_buf *raw = s->gzip ? &h->raw : &s->out;
	const struct cgp_ring_event *ev;
	uint64_t first, last;
	size_t start = cgp_buf_size(raw);
	int err = 0;

	while (!err && cgp_buf_size(raw) - start < STREAM_BATCH) {
		switch (cgp_event_ring_since(h->ring, s->after, &ev, &first, &last)) {
		case CGP_RING_WAIT:
			goto out;
		case CGP_RING_GAP: {
			cgp_buf_clear(&h->gap);
			err =
			    cgp_event_encode_gap(h->cfg.node, h->cfg.instance_id, cgp_wall_ns(), first, last, &h->gap);
			if (!err)
				err = cgp_frame_append(raw, cgp_buf_head(&h->gap), cgp_buf_size(&h->gap));
			if (!err) {
				s->after = last;
				h->st.gaps_sent++;
				h->st.events_missed += last - first + 1;
			}
			break;
		}
		case CGP_RING_EVENT:
			err = cgp_frame_append(raw, ev->data, ev->len);
			if (!err) {
				s->after = ev->seq;
				h->st.events_streamed++;
			}
			break;
		}
	}
out:
	if (s->gzip) {
		/* a sync flush per batch: the consumer can decode all of it now, not when the window fills */
		if (!err && cgp_buf_size(raw))
			err = deflate_into(&s->z, cgp_buf_head(raw), cgp_buf_size(raw), Z_SYNC_FLUSH, &s->out);
		cgp_buf_clear(raw); /* shared by every stream */
	}
	return err;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	size_t n;

	(void)pos;
	if (!cgp_buf_size(&s->out) && !s->h->closing && stream_fill(s)) {
		cgp_err("http: out of memory filling an event stream; closing it");
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (!cgp_buf_size(&s->out) && s->h->closing && s->gzip && !s->gzip_done) {
		s->gzip_done = true; /* the gzip trailer, so a consumer sees a complete stream at shutdown */
		if (deflate_into(&s->z, "", 0, Z_FINISH, &s->out))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (!cgp_buf_size(&s->out)) {
		if (s->h->closing)
			return MHD_CONTENT_READER_END_OF_STREAM;
		/* nothing to send: out of libmicrohttpd's loop until the ring grows */
		s->suspended = true;
		MHD_suspend_connection(s->conn);
		return 0;
	}
	n = cgp_buf_size(&s->out) < max ? cgp_buf_size(&s->out) : max;
	memcpy(buf, cgp_buf_head(&s->out), n);
	cgp_buf_consume(&s->out, n);
	return (ssize_t)n;
}

/* libmicrohttpd is done with the stream's response: the connection is closed. */
static void stream_free(void *cls)
{
	struct stream *s = cls;
	struct cgp_http *h = s->h;

	if (s->prev)
		s->prev->next = s->next;
	else
		h->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	h->st.streams_open--;
	if (s->gzip)
		deflateEnd(&s->z);
	cgp_buf_free(&s->out);
	free(s);
}

static enum MHD_Result serve_events(struct cgp_http *h, struct MHD_Connection *c)
{
	const char *since = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since");
	const union MHD_ConnectionInfo *ci;
	struct cgp_event_ring_stats rs;
	struct MHD_Response *r;
	struct stream *s;
	enum MHD_Result ret;
	uint64_t after;
	char hdr[32];

	if (!h->ring)
		return reply_text(c, h, CGP_HTTP_EP_EVENTS, MHD_HTTP_SERVICE_UNAVAILABLE, "no event stream here\n");
	cgp_event_ring_get_stats(h->ring, &rs);
	if (since) {
		char *end;

		errno = 0;
		after = strtoull(since, &end, 10);
		if (!*since || *end || errno || *since == '-')
			return reply_text(c, h, CGP_HTTP_EP_EVENTS, MHD_HTTP_BAD_REQUEST,
					  "since=%.40s: not a sequence number\n", since);
		/* an agent restart starts seq again at 1: an old consumer must not wait for seqs that never come */
		if (after > rs.last_seq)
			return reply_text(c, h, CGP_HTTP_EP_EVENTS, MHD_HTTP_CONFLICT,
					  "since=%" PRIu64
					  " is ahead of this agent instance (%s), whose last seq is %" PRIu64
					  ": start again with since=0\n",
					  after, h->cfg.instance_id, rs.last_seq);
	} else {
		/* from the oldest event held, without a Gap for what went before */
		after = rs.first_seq ? rs.first_seq - 1 : rs.last_seq;
	}
	if (h->st.streams_open >= h->cfg.max_streams) {
		h->st.streams_refused++;
		return reply_text(c, h, CGP_HTTP_EP_EVENTS, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "too many event streams (%u)\n", h->cfg.max_streams);
	}
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	/* a fixed buffer (no autotuning to megabytes): a stalled consumer pins little memory and, once it reads
	 * again, meets its Gap soon instead of megabytes of stale events */
	if (ci && setsockopt(ci->connect_fd, SOL_SOCKET, SO_SNDBUF, &h->cfg.stream_sndbuf, sizeof(int)))
		cgp_debug("http: SO_SNDBUF on an event stream: %s", strerror(errno));
	s = calloc(1, sizeof(*s));
	if (!s)
		return MHD_NO;
	s->h = h;
	s->conn = c;
	s->after = after;
	s->gzip = accepts_gzip(c);
	if (s->gzip && deflateInit2(&s->z, 1, Z_DEFLATED, GZIP_WBITS, GZIP_MEMLVL, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(s);
		return MHD_NO;
	}
	s->next = h->streams;
	if (h->streams)
		h->streams->prev = s;
	h->streams = s;
	h->st.streams_open++;
	/* from here on stream_free owns s, whatever happens to the response */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, stream_read, s, stream_free);
	if (!r) {
		stream_free(s);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, EVENTS_TYPE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	if (s->gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	MHD_add_response_header(r, "X-Cgpulse-Instance-Id", h->cfg.instance_id);
	snprintf(hdr, sizeof(hdr), "%" PRIu64, rs.last_seq);
	MHD_add_response_header(r, "X-Cgpulse-Last-Seq", hdr);
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **state)
{
	static int seen;
	struct cgp_http *h = cls;
	enum cgp_http_endpoint ep = CGP_HTTP_EP_OTHER;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET), head = !strcmp(method, MHD_HTTP_METHOD_HEAD);

	(void)version;
	(void)upload;
	if (!*state) { /* headers only so far: answer once any request body is read (and ignored) */
		*state = &seen;
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (!strcmp(url, "/metrics"))
		ep = CGP_HTTP_EP_METRICS;
	else if (!strcmp(url, "/healthz"))
		ep = CGP_HTTP_EP_HEALTHZ;
	else if (!strcmp(url, "/v1/events"))
		ep = CGP_HTTP_EP_EVENTS;
	else if (!strcmp(url, "/metrics/cadvisor"))
		ep = CGP_HTTP_EP_CADVISOR;
	h->st.requests[ep]++;
	if (ep == CGP_HTTP_EP_OTHER)
		return reply_text(c, h, ep, MHD_HTTP_NOT_FOUND,
				  "not found; try /metrics, /metrics/cadvisor, /healthz, /v1/events\n");
	if (!get && !(head && ep != CGP_HTTP_EP_EVENTS))
		return reply_text(c, h, ep, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed\n", method);
	switch (ep) {
	case CGP_HTTP_EP_METRICS:
		return serve_metrics(h, c);
	case CGP_HTTP_EP_HEALTHZ:
		return serve_healthz(h, c);
	case CGP_HTTP_EP_CADVISOR:
		return serve_cadvisor(h, c);
	default:
		return serve_events(h, c);
	}
}

static int mhd_fd(const struct cgp_http *h)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

static int watch(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};

	return fd < 0 ? -1 : epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

struct cgp_http *cgp_http_new(const struct cgp_http_cfg *cfg, char *why, size_t whylen)
{
	struct cgp_http *h = calloc(1, sizeof(*h));
	int fd;

	if (!h) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	h->ep = -1;
	h->cfg = *cfg;
	h->ring = cfg->ring;
	if (!h->cfg.addr)
		h->cfg.addr = CGP_HTTP_DEFAULT_ADDR;
	if (!h->cfg.node)
		h->cfg.node = "";
	if (!h->cfg.instance_id)
		h->cfg.instance_id = "";
	if (!h->cfg.max_streams)
		h->cfg.max_streams = 16;
	if (!h->cfg.max_connections)
		h->cfg.max_connections = 64;
	if (!h->cfg.idle_timeout_s)
		h->cfg.idle_timeout_s = 60;
	if (!h->cfg.stream_sndbuf || h->cfg.stream_sndbuf > INT_MAX)
		h->cfg.stream_sndbuf = 256u << 10;
	snprintf(h->health_reason, sizeof(h->health_reason), "starting");
	fd = cgp_tcp_listen(h->cfg.addr, 64, why, whylen);
	if (fd < 0)
		goto fail;
	h->port = cgp_tcp_local_port(fd);
	h->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request,
				h, MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_CONNECTION_LIMIT, h->cfg.max_connections,
				MHD_OPTION_CONNECTION_TIMEOUT, h->cfg.idle_timeout_s, MHD_OPTION_EXTERNAL_LOGGER,
				mhd_log, NULL, MHD_OPTION_END);
	if (!h->d) {
		close(fd);
		snprintf(why, whylen, "%s: libmicrohttpd could not start", h->cfg.addr);
		goto fail;
	}
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	if (h->ep < 0 || watch(h->ep, mhd_fd(h))) {
		snprintf(why, whylen, "epoll for HTTP: %s", strerror(errno));
		goto fail;
	}
	return h;
fail:
	if (h->d)
		MHD_stop_daemon(h->d);
	if (h->ep > 0)
		close(h->ep);
	free(h);
	return NULL;
}

void cgp_http_free(struct cgp_http *h)
{
	if (!h)
		return;
	/* libmicrohttpd must not be stopped with suspended connections: end each stream cleanly first */
	h->closing = true;
	for (struct stream *s = h->streams; s; s = s->next) {
		if (s->suspended) {
			s->suspended = false;
			MHD_resume_connection(s->conn);
		}
	}
	MHD_run(h->d);
	MHD_stop_daemon(h->d);
	close(h->ep);
	cgp_buf_free(&h->raw);
	cgp_buf_free(&h->gap);
	free(h);
}

int cgp_http_fd(const struct cgp_http *h)
{
	return h->ep;
}

int cgp_http_port(const struct cgp_http *h)
{
	return h->port;
}

int cgp_http_timeout_ms(struct cgp_http *h)
{
	MHD_UNSIGNED_LONG_LONG ms;

	if (h->woken)
		return 0;
	if (MHD_get_timeout(h->d, &ms) != MHD_YES)
		return -1;
	return ms < INT_MAX ? (int)ms : INT_MAX;
}

/* The ring grew since the streams were last resumed: resume the ones waiting, and be run again at once (a
 * resumed connection does not make libmicrohttpd's epoll fd readable). */
static void resume_streams(struct cgp_http *h)
{
	struct cgp_event_ring_stats rs;

	if (!h->ring)
		return;
	cgp_event_ring_get_stats(h->ring, &rs);
	/* evictions count too: an event too large for the ring is a Gap for the waiting streams */
	if (rs.last_seq == h->ring_seen)
		return;
	h->ring_seen = rs.last_seq;
	for (struct stream *s = h->streams; s; s = s->next) {
		if (!s->suspended)
			continue;
		s->suspended = false;
		MHD_resume_connection(s->conn);
		h->woken = true;
	}
}

int cgp_http_run(struct cgp_http *h)
{
	h->woken = false;
	resume_streams(h);
	return MHD_run(h->d) == MHD_YES ? 0 : -EIO;
}

void cgp_http_set_health(struct cgp_http *h, bool ok, const char *reason)
{
	h->healthy = ok;
	snprintf(h->health_reason, sizeof(h->health_reason), "%s",
		 reason && *reason ? reason
		 : ok		   ? "ok"
				   : "unhealthy");
}

void cgp_http_get_stats(const struct cgp_http *h, struct cgp_http_stats *st)
{
	struct cgp_event_ring_stats rs;

	*st = h->st;
	if (!h->ring)
		return;
	cgp_event_ring_get_stats(h->ring, &rs);
	st->ring_events = rs.events;
	st->ring_bytes = rs.bytes;
	st->ring_evicted = rs.evicted_total;
}
