// SPDX-License-Identifier: GPL-2.0
/* HTTP in the agent's own event loop: libmicrohttpd with MHD_USE_EPOLL and no thread, as in its
 * suspend_resume_epoll.c example. The listening socket is ours: each accepted connection is admitted
 * (http_conns.h) and handed to one of two libmicrohttpd daemons, the main one or the /healthz-only reserve.
 * New TLS files start a new pair of daemons for new connections; the old pair serves its connections (event
 * streams included) until they end. An event stream whose consumer has everything is suspended; the next run
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
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "events/event_encode.h"
#include "events/event_ring.h"
#include "events/frame.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/tcp_addr.h"
#include "lib/watched_file.h"
#include "sinks/gzip_body.h"
#include "sinks/http_parse.h"
#include "sinks/http_server.h"
#include "sinks/cadvisor.h"
#include "sinks/metrics.h"

#define STREAM_BLOCK 16384 /* libmicrohttpd's buffer for one chunk of a stream */
#define STREAM_BATCH 65536 /* event bytes taken from the ring per refill: one gzip flush per batch */
#define PAGE_PIECE   16384 /* metrics text written per refill of a page */
/* with gzip: igzip copies each call's input into its own window buffer, ~64 KiB of it whatever the input's size
 * (32 KiB in, then the 32 KiB history moved down): 16 KiB pieces copied a page ~3x over, 48 KiB pieces ~2.3x (at
 * 10,000 cgroups ~190 MB of copying an 82 MB scrape, a third of its callgrind instructions); 512 KiB pieces copy
 * an eighth of it. The piece's buffer (and its overshoot: one cgroup's histogram, or the agent's own families,
 * ~12 KiB) is reserved once per page; above malloc's mmap threshold, it goes back to the system with the page. */
#define GZIP_PIECE   (512 * 1024)
#define GZIP_SPARE   (32 * 1024)
#define EVENTS_TYPE  "application/vnd.google.protobuf; proto=cgpulse.v1.Event; encoding=delimited"
#define METRICS_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define ACCEPT_BATCH	   64		 /* connections accepted per run: the loop never spins on a flood */
#define ACCEPT_PAUSE_NS	   100000000ULL	 /* after accept(2) fails (EMFILE...): the backlog waits, the loop does not */
#define RESERVE_HEADER_NS  2000000000ULL /* a reserve slot is for a probe, which sends its request at once */
#define RESERVE_MIN_AGE_NS 50000000ULL	 /* a probe has sent its request by then, and is read before evictions */
#define FILE_CHECK_NS	   1000000000ULL /* TLS and token files are looked at once a second at most */
#define CRED_MAX_BYTES	   (1u << 20)

enum { MAIN, RESERVE };

struct gen;

/* What a daemon's callbacks get: the server, and which daemon of which generation they serve. */
struct dctx {
	struct cgp_http *h;
	struct gen *g;
	bool reserve;
};

/* A pair of daemons started with one set of TLS credentials; the newest takes new connections. */
struct gen {
	struct MHD_Daemon *d[2]; /* MAIN, RESERVE */
	struct dctx ctx[2];
	char *cert, *key; /* PEM, NUL-terminated; NULL without TLS */
	unsigned conns;	  /* connections its daemons hold */
	struct gen *next; /* older generations, serving their last connections */
};

struct stream {
	struct cgp_http *h;
	struct MHD_Connection *conn;
	struct stream *prev, *next;
	uint64_t after; /* the last seq this consumer was given (or told it missed) */
	bool suspended;
	bool gzip, gzip_done;
	struct cgp_gzip *z;
	struct cgp_buf out; /* bytes ready for libmicrohttpd: at most one batch */
};

struct cgp_http {
	int lfd;
	bool paused; /* lfd out of the epoll set after accept(2) failed, until paused_until */
	uint64_t paused_until;
	/* what the agent polls: the listener and every daemon's epoll fd. A resumed connection does not make those
	 * readable in external-epoll mode, so after resuming streams the next run is due at once (woken). */
	int ep;
	bool woken;
	int port;
	struct cgp_http_cfg cfg;
	struct gen *gen; /* newest first */
	struct cgp_conns conns;
	struct cgp_event_ring *ring;
	uint64_t ring_seen;	/* the ring's last seq when the streams were last resumed */
	struct stream *streams; /* every open stream, suspended or not */
	bool closing;
	bool healthy;
	bool reserve_reply; /* the reply being made is the reserve's: close the connection after it */
	char health_reason[256];
	struct cgp_buf raw; /* one batch before compression */
	struct cgp_buf gap; /* one encoded Gap event */
	/* credentials: what is in force, and who the files were when read (or last refused) */
	char *token;
	size_t token_len;
	struct cgp_file_sig cert_sig, key_sig, token_sig;
	struct cgp_file_sig cert_bad, key_bad, token_bad;
	uint64_t next_file_check;
	char mhd_last[512]; /* libmicrohttpd's last complaint, for the reason of a refused certificate */
	struct cgp_http_stats st;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct cgp_http *h = cls;
	char msg[512];
	size_t n;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	snprintf(h->mhd_last, sizeof(h->mhd_last), "%s", msg);
	cgp_debug("http: %s", msg);
}

static enum MHD_Result queue(struct MHD_Connection *c, struct cgp_http *h, unsigned status, struct MHD_Response *r)
{
	enum MHD_Result ret;

	if (h->reserve_reply)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply(struct MHD_Connection *c, struct cgp_http *h, enum cgp_http_endpoint ep, unsigned status,
			     const char *type, const void *body, size_t len)
{
	struct MHD_Response *r;

	if (status >= 400)
		h->st.errors[ep]++;
	r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, ep == CGP_HTTP_EP_EVENTS ? "GET" : "GET, HEAD");
	if (status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"cgpulse\"");
	return queue(c, h, status, r);
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
	return reply(c, h, ep, status, "text/plain; charset=utf-8", body, (size_t)n);
}

static bool accepts_gzip(struct MHD_Connection *c)
{
	return cgp_http_accepts_gzip(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING));
}

/* The bearer token, when the endpoint wants one: NULL to go on, else the 401/403 already queued (as *ret). */
static bool refused_auth(struct cgp_http *h, struct MHD_Connection *c, enum cgp_http_endpoint ep, enum MHD_Result *ret)
{
	const char *v;
	size_t off, len;

	if (!h->token || !(ep == CGP_HTTP_EP_EVENTS ||
			   ((ep == CGP_HTTP_EP_METRICS || ep == CGP_HTTP_EP_CADVISOR) && h->cfg.auth_metrics)))
		return false;
	v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	if (!v || !cgp_http_bearer(v, &off, &len)) {
		h->st.auth_missing++;
		*ret =
		    reply_text(c, h, ep, MHD_HTTP_UNAUTHORIZED,
			       "this endpoint wants \"Authorization: Bearer TOKEN\" (the agent's --http-token-file)\n");
		return true;
	}
	if (!cgp_http_token_equal(v + off, len, h->token, h->token_len)) {
		h->st.auth_wrong++;
		*ret = reply_text(c, h, ep, MHD_HTTP_FORBIDDEN, "wrong token\n");
		return true;
	}
	return false;
}

/* Up to max bytes of out into libmicrohttpd's buf; how many. */
static ssize_t hand_out(struct cgp_buf *out, char *buf, size_t max)
{
	size_t n = cgp_buf_size(out) < max ? cgp_buf_size(out) : max;

	memcpy(buf, cgp_buf_head(out), n);
	cgp_buf_consume(out, n);
	return (ssize_t)n;
}

/* A page of metrics being answered: the page's snapshot, one piece of text and, with gzip, its compression. */
struct page {
	struct cgp_metrics_page *m; /* one of the two */
	struct cgp_cadvisor_page *c;
	bool done; /* the page has been written whole into raw */
	bool gzip, gzip_done;
	struct cgp_gzip *z;
	struct cgp_buf raw; /* the page's next piece (before compression) */
	struct cgp_buf out; /* bytes ready for libmicrohttpd */
};

static void page_free(void *cls)
{
	struct page *p = cls;

	cgp_metrics_page_free(p->m);
	cgp_cadvisor_page_free(p->c);
	if (p->gzip)
		cgp_gzip_free(p->z);
	cgp_buf_free(&p->raw);
	cgp_buf_free(&p->out);
	free(p);
}

/* The page's next pieces into p->out (compressed when asked) until it holds want bytes or the page ends: a chunk
 * as large as libmicrohttpd offers is one send(2) and one loop turn (at 10,000 cgroups a gzip page was ~400 turns
 * of one ~7 KiB chunk each); 0, -ENOMEM or -EIO (the compressor). */
static int page_fill(struct page *p, size_t want)
{
	int err = 0;

	while (!err && cgp_buf_size(&p->out) < want && !(p->done && (!p->gzip || p->gzip_done))) {
		/* plain text goes straight to out, up to want; with gzip, a piece at a time through raw */
		struct cgp_buf *raw = p->gzip ? &p->raw : &p->out;
		size_t piece = p->gzip ? GZIP_PIECE : want - cgp_buf_size(&p->out);

		if (!p->done) {
			if (p->gzip) {
				cgp_buf_clear(raw);
				if (!cgp_buf_reserve(raw, GZIP_PIECE + GZIP_SPARE)) { /* once: the pieces reuse it */
					err = -ENOMEM;
					break;
				}
			}
			err = p->m ? cgp_metrics_page_next(p->m, raw, piece, &p->done)
				   : cgp_cadvisor_page_next(p->c, raw, piece, &p->done);
		}
		if (err || !p->gzip)
			continue;
		/* no flush between pieces: the consumer gets whole deflate blocks, the page ends with the trailer */
		err = cgp_gzip_put(p->z, cgp_buf_head(raw), cgp_buf_size(raw), p->done ? CGP_GZIP_END : CGP_GZIP_MORE,
				   &p->out);
		cgp_buf_clear(raw);
		p->gzip_done = p->done;
	}
	return err;
}

static ssize_t page_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct page *p = cls;
	int err;

	(void)pos;
	err = page_fill(p, max);
	if (err) {
		cgp_err("http: writing a metrics page: %s; closing its connection", strerror(-err));
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (!cgp_buf_size(&p->out))
		return MHD_CONTENT_READER_END_OF_STREAM;
	return hand_out(&p->out, buf, max);
}

/* A metrics page (NULL: out of memory taking its snapshot) as the answer on endpoint ep: streamed, chunked, so
 * the whole text is never held. */
static enum MHD_Result reply_page(struct cgp_http *h, struct MHD_Connection *c, enum cgp_http_endpoint ep,
				  struct cgp_metrics_page *m, struct cgp_cadvisor_page *cp)
{
	struct MHD_Response *r;
	struct page *p = (m || cp) ? calloc(1, sizeof(*p)) : NULL;

	if (!p) {
		cgp_metrics_page_free(m);
		cgp_cadvisor_page_free(cp);
		return reply_text(c, h, ep, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering metrics: %s\n",
				  strerror(ENOMEM));
	}
	p->m = m;
	p->c = cp;
	p->gzip = accepts_gzip(c);
	if (p->gzip && !(p->z = cgp_gzip_new())) {
		p->gzip = false;
		page_free(p);
		return reply_text(c, h, ep, MHD_HTTP_INTERNAL_SERVER_ERROR, "rendering metrics: %s\n",
				  strerror(ENOMEM));
	}
	/* from here on page_free owns p, whatever happens to the response */
	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK, page_read, p, page_free);
	if (!r) {
		page_free(p);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, METRICS_TYPE);
	MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (p->gzip)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip");
	if (ep == CGP_HTTP_EP_METRICS)
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, MHD_HTTP_HEADER_ACCEPT_ENCODING);
	return queue(c, h, MHD_HTTP_OK, r);
}

static enum MHD_Result serve_metrics(struct cgp_http *h, struct MHD_Connection *c)
{
	struct cgp_http_stats st;

	if (!h->cfg.metrics)
		return reply_text(c, h, CGP_HTTP_EP_METRICS, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n");
	cgp_http_get_stats(h, &st);
	return reply_page(h, c, CGP_HTTP_EP_METRICS, cgp_metrics_page_new(h->cfg.metrics, &st), NULL);
}

static enum MHD_Result serve_cadvisor(struct cgp_http *h, struct MHD_Connection *c)
{
	if (!h->cfg.cadvisor)
		return reply_text(c, h, CGP_HTTP_EP_CADVISOR, MHD_HTTP_SERVICE_UNAVAILABLE, "no metrics yet\n");
	return reply_page(h, c, CGP_HTTP_EP_CADVISOR, NULL, cgp_cadvisor_page_new(h->cfg.cadvisor));
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
			err = cgp_gzip_put(s->z, cgp_buf_head(raw), cgp_buf_size(raw), CGP_GZIP_SYNC, &s->out);
		cgp_buf_clear(raw); /* shared by every stream */
	}
	return err;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;

	(void)pos;
	if (!cgp_buf_size(&s->out) && !s->h->closing && stream_fill(s)) {
		cgp_err("http: out of memory filling an event stream; closing it");
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	if (!cgp_buf_size(&s->out) && s->h->closing && s->gzip && !s->gzip_done) {
		s->gzip_done = true; /* the gzip trailer, so a consumer sees a complete stream at shutdown */
		if (cgp_gzip_put(s->z, "", 0, CGP_GZIP_END, &s->out))
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
	return hand_out(&s->out, buf, max);
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
		cgp_gzip_free(s->z);
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
	uint64_t after;
	char hdr[32];

	if (!h->ring)
		return reply_text(c, h, CGP_HTTP_EP_EVENTS, MHD_HTTP_SERVICE_UNAVAILABLE, "no event stream here\n");
	cgp_event_ring_get_stats(h->ring, &rs);
	if (since) {
		if (cgp_http_parse_since(since, &after))
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
	if (s->gzip && !(s->z = cgp_gzip_new())) {
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
	return queue(c, h, MHD_HTTP_OK, r);
}

static struct cgp_conn *conn_of(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **state)
{
	static int seen;
	const struct dctx *x = cls;
	struct cgp_http *h = x->h;
	enum cgp_http_endpoint ep = CGP_HTTP_EP_OTHER;
	bool get = !strcmp(method, MHD_HTTP_METHOD_GET), head = !strcmp(method, MHD_HTTP_METHOD_HEAD);
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	if (!*state) { /* headers only so far: answer once any request body is read (and ignored) */
		struct cgp_conn *k = conn_of(c);

		if (k) /* the header deadline is met */
			cgp_conns_request_started(k);
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
	h->reserve_reply = x->reserve;
	if (x->reserve && !(ep == CGP_HTTP_EP_HEALTHZ && (get || head)))
		ret = reply_text(c, h, ep, MHD_HTTP_SERVICE_UNAVAILABLE,
				 "busy: connection limits reached; only /healthz is answered on this connection\n");
	else if (ep == CGP_HTTP_EP_OTHER)
		ret = reply_text(c, h, ep, MHD_HTTP_NOT_FOUND,
				 "not found; try /metrics, /metrics/cadvisor, /healthz, /v1/events\n");
	else if (!get && !(head && ep != CGP_HTTP_EP_EVENTS))
		ret = reply_text(c, h, ep, MHD_HTTP_METHOD_NOT_ALLOWED, "%s not allowed\n", method);
	else if (refused_auth(h, c, ep, &ret))
		;
	else if (ep == CGP_HTTP_EP_METRICS)
		ret = serve_metrics(h, c);
	else if (ep == CGP_HTTP_EP_HEALTHZ)
		ret = serve_healthz(h, c);
	else if (ep == CGP_HTTP_EP_CADVISOR)
		ret = serve_cadvisor(h, c);
	else
		ret = serve_events(h, c);
	h->reserve_reply = false;
	return ret;
}

/* libmicrohttpd took or let go of a connection we handed it: tie it to our record by its fd. */
static void on_conn_notify(void *cls, struct MHD_Connection *c, void **socket_context,
			   enum MHD_ConnectionNotificationCode code)
{
	const struct dctx *x = cls;
	struct cgp_conn *k;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);

		k = ci ? cgp_conns_by_fd(&x->h->conns, ci->connect_fd) : NULL;
		*socket_context = k;
		if (k)
			x->g->conns++;
		return;
	}
	k = *socket_context;
	*socket_context = NULL;
	if (!k)
		return;
	x->g->conns--;
	cgp_conns_closed(&x->h->conns, k);
}

/* A request is over (answered, or its connection gone): a kept-alive connection waits for the next headers. */
static void on_completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode toe)
{
	struct cgp_conn *k = conn_of(c);

	(void)cls;
	(void)state;
	(void)toe;
	if (k)
		cgp_conns_request_done(k, cgp_mono_ns());
}

static int mhd_fd(struct MHD_Daemon *d)
{
	const union MHD_DaemonInfo *i = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);

	return i ? i->epoll_fd : -1;
}

static int watch(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};

	return fd < 0 ? -1 : epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void gen_free(struct cgp_http *h, struct gen *g)
{
	for (int i = MAIN; i <= RESERVE; i++) {
		if (!g->d[i])
			continue;
		epoll_ctl(h->ep, EPOLL_CTL_DEL, mhd_fd(g->d[i]), NULL);
		MHD_stop_daemon(g->d[i]);
	}
	free(g->cert);
	free(g->key);
	free(g);
}

/* A pair of daemons; takes cert and key (NULL: plain HTTP). NULL with the reason in why. */
static struct gen *gen_start(struct cgp_http *h, char *cert, char *key, char *why, size_t whylen)
{
	struct gen *g = calloc(1, sizeof(*g));
	unsigned flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;

	if (!g) {
		free(cert);
		free(key);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	g->cert = cert;
	g->key = key;
	if (cert)
		flags |= MHD_USE_TLS;
	for (int i = MAIN; i <= RESERVE; i++) {
		/* the pools are bounded by http_conns.h; libmicrohttpd's own limit only backs that up (connections
		 * being closed still count there) */
		unsigned limit = (i == MAIN ? h->cfg.max_connections : h->cfg.reserve) + h->cfg.reserve + 8;
		unsigned idle = i == MAIN ? h->cfg.idle_timeout_s : (unsigned)(RESERVE_HEADER_NS / 1000000000ULL);
		struct MHD_OptionItem ops[] = {
		    {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)limit, NULL},
		    {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)idle, NULL},
		    {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_conn_notify, &g->ctx[i]},
		    {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, &g->ctx[i]},
		    {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, h},
		    {cert ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, key},
		    {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
		    {MHD_OPTION_END, 0, NULL},
		};

		g->ctx[i] = (struct dctx){.h = h, .g = g, .reserve = i == RESERVE};
		h->mhd_last[0] = 0;
		g->d[i] = MHD_start_daemon(flags, 0, NULL, NULL, on_request, &g->ctx[i], MHD_OPTION_ARRAY, ops,
					   MHD_OPTION_END);
		if (!g->d[i] || watch(h->ep, mhd_fd(g->d[i]))) {
			snprintf(why, whylen, "libmicrohttpd could not start%s%s", h->mhd_last[0] ? ": " : "",
				 h->mhd_last);
			gen_free(h, g);
			return NULL;
		}
	}
	g->next = h->gen;
	h->gen = g;
	return g;
}

/* Old generations whose last connection ended are stopped. */
static void gen_reap(struct cgp_http *h)
{
	if (!h->gen)
		return;
	for (struct gen **p = &h->gen->next; *p;) {
		struct gen *g = *p;

		if (g->conns) {
			p = &g->next;
			continue;
		}
		*p = g->next;
		gen_free(h, g);
	}
}

/* Reads the TLS files; 0 with the PEM texts, or -errno with why. */
static int read_tls(struct cgp_http *h, char **cert, char **key, struct cgp_file_sig *cs, struct cgp_file_sig *ks,
		    char *why, size_t whylen)
{
	size_t n;
	int err = cgp_file_read(h->cfg.tls_cert, CRED_MAX_BYTES, cert, &n, cs, why, whylen);

	if (!err)
		err = cgp_file_read(h->cfg.tls_key, CRED_MAX_BYTES, key, &n, ks, why, whylen);
	if (err) {
		free(*cert);
		*cert = *key = NULL;
	}
	return err;
}

static int read_token(struct cgp_http *h, struct cgp_file_sig *sig, char *why, size_t whylen)
{
	char *buf;
	size_t n, off, len;
	int err = cgp_file_read(h->cfg.token_file, 64 << 10, &buf, &n, sig, why, whylen);

	if (err)
		return err;
	if (cgp_http_token_from_file(buf, n, &off, &len)) {
		snprintf(why, whylen, "%s: no token in it (1 to 4096 visible ASCII characters, nothing else)",
			 h->cfg.token_file);
		free(buf);
		return -EINVAL;
	}
	memmove(buf, buf + off, len);
	buf[len] = 0;
	free(h->token);
	h->token = buf;
	h->token_len = len;
	return 0;
}

/* Files that changed since they were read (and not refused as they are now) are taken: a certificate starts a
 * new generation of daemons; a bad one is refused, logged once, and the credentials in force stay. */
static void check_files(struct cgp_http *h)
{
	struct cgp_file_sig cs, ks, ts;
	char why[512];

	if (h->cfg.tls_cert) {
		cgp_file_sig_of(h->cfg.tls_cert, &cs);
		cgp_file_sig_of(h->cfg.tls_key, &ks);
		if ((!cgp_file_sig_equal(&cs, &h->cert_sig) || !cgp_file_sig_equal(&ks, &h->key_sig)) &&
		    !(cgp_file_sig_equal(&cs, &h->cert_bad) && cgp_file_sig_equal(&ks, &h->key_bad))) {
			char *cert, *key;

			if (read_tls(h, &cert, &key, &cs, &ks, why, sizeof(why)) ||
			    !gen_start(h, cert, key, why, sizeof(why))) {
				h->cert_bad = cs;
				h->key_bad = ks;
				h->st.tls_reloads_failed++;
				cgp_err("http: new TLS files refused (%s); the certificate in force stays", why);
			} else {
				h->cert_sig = cs;
				h->key_sig = ks;
				h->st.tls_reloads++;
				cgp_info("http: new TLS certificate from %s in force for new connections",
					 h->cfg.tls_cert);
			}
		}
	}
	if (h->cfg.token_file) {
		cgp_file_sig_of(h->cfg.token_file, &ts);
		if (!cgp_file_sig_equal(&ts, &h->token_sig) && !cgp_file_sig_equal(&ts, &h->token_bad)) {
			if (read_token(h, &ts, why, sizeof(why))) {
				h->token_bad = ts;
				h->st.token_reloads_failed++;
				cgp_err("http: new token file refused (%s); the token in force stays", why);
			} else {
				h->token_sig = ts;
				h->st.token_reloads++;
				cgp_info("http: new token from %s in force", h->cfg.token_file);
			}
		}
	}
}

static bool is_loopback(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &sl))
		return false;
	if (ss.ss_family == AF_INET)
		return (ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) >> 24) == 127;
	return ss.ss_family == AF_INET6 && IN6_IS_ADDR_LOOPBACK(&((struct sockaddr_in6 *)&ss)->sin6_addr);
}

static int start_credentials(struct cgp_http *h, char *why, size_t whylen)
{
	char *cert = NULL, *key = NULL;
	int err;

	if (!h->cfg.tls_cert != !h->cfg.tls_key) {
		snprintf(why, whylen, "TLS wants both a certificate and a key (--http-tls-cert, --http-tls-key)");
		return -EINVAL;
	}
	if (h->cfg.tls_cert && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(why, whylen, "this libmicrohttpd was built without TLS");
		return -ENOTSUP;
	}
	if (h->cfg.token_file && (err = read_token(h, &h->token_sig, why, whylen)))
		return err;
	if (h->cfg.tls_cert && (err = read_tls(h, &cert, &key, &h->cert_sig, &h->key_sig, why, whylen)))
		return err;
	h->st.tls = h->cfg.tls_cert != NULL;
	return gen_start(h, cert, key, why, whylen) ? 0 : -EINVAL;
}

struct cgp_http *cgp_http_new(const struct cgp_http_cfg *cfg, char *why, size_t whylen)
{
	struct cgp_http *h = calloc(1, sizeof(*h));
	struct cgp_conns_cfg cc;

	if (!h) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	h->ep = h->lfd = -1;
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
	if (!h->cfg.max_per_client)
		h->cfg.max_per_client = 8;
	if (!h->cfg.reserve)
		h->cfg.reserve = 4;
	if (!h->cfg.header_timeout_s)
		h->cfg.header_timeout_s = 10;
	if (!h->cfg.idle_timeout_s)
		h->cfg.idle_timeout_s = 60;
	if (!h->cfg.stream_sndbuf || h->cfg.stream_sndbuf > INT_MAX)
		h->cfg.stream_sndbuf = 256u << 10;
	snprintf(h->health_reason, sizeof(h->health_reason), "starting");
	cc = (struct cgp_conns_cfg){
	    .max_main = h->cfg.max_connections,
	    .max_per_client = h->cfg.max_per_client,
	    .reserve = h->cfg.reserve,
	    .header_ns = h->cfg.header_timeout_s * 1000000000ULL,
	    .reserve_header_ns = RESERVE_HEADER_NS,
	    .reserve_min_age_ns = RESERVE_MIN_AGE_NS,
	};
	if (cgp_conns_init(&h->conns, &cc)) {
		snprintf(why, whylen, "out of memory");
		free(h);
		return NULL;
	}
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	if (h->ep < 0) {
		snprintf(why, whylen, "epoll for HTTP: %s", strerror(errno));
		goto fail;
	}
	h->lfd = cgp_tcp_listen(h->cfg.addr, 128, why, whylen);
	if (h->lfd < 0)
		goto fail;
	h->port = cgp_tcp_local_port(h->lfd);
	if (start_credentials(h, why, whylen))
		goto fail;
	if (watch(h->ep, h->lfd)) {
		snprintf(why, whylen, "epoll for HTTP: %s", strerror(errno));
		goto fail;
	}
	if (!is_loopback(h->lfd) && !h->token)
		cgp_info("http: %s serves /v1/events (every pod's names and OOM kills) to anyone who reaches it; "
			 "--http-token-file wants a token for it",
			 h->cfg.addr);
	if (!is_loopback(h->lfd) && h->token && !h->st.tls)
		cgp_info("http: the token crosses the network in clear on %s; --http-tls-cert/--http-tls-key",
			 h->cfg.addr);
	return h;
fail:
	cgp_http_free(h);
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
	for (struct gen *g = h->gen; g; g = g->next)
		for (int i = MAIN; i <= RESERVE; i++)
			MHD_run(g->d[i]);
	while (h->gen) {
		struct gen *g = h->gen;

		h->gen = g->next;
		gen_free(h, g);
	}
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->ep >= 0)
		close(h->ep);
	cgp_conns_free(&h->conns);
	cgp_buf_free(&h->raw);
	cgp_buf_free(&h->gap);
	free(h->token);
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

static int ms_until(uint64_t ns)
{
	uint64_t ms = (ns + 999999) / 1000000;

	return ms < INT_MAX ? (int)ms : INT_MAX;
}

int cgp_http_timeout_ms(struct cgp_http *h)
{
	uint64_t now = cgp_mono_ns(), d;
	int best = -1;

	if (h->woken)
		return 0;
	for (struct gen *g = h->gen; g; g = g->next) {
		for (int i = MAIN; i <= RESERVE; i++) {
			MHD_UNSIGNED_LONG_LONG ms;

			if (MHD_get_timeout(g->d[i], &ms) != MHD_YES)
				continue;
			if (best < 0 || ms < (MHD_UNSIGNED_LONG_LONG)best)
				best = ms < INT_MAX ? (int)ms : INT_MAX;
		}
	}
	d = cgp_conns_next_deadline_ns(&h->conns, now);
	if (d != UINT64_MAX && (best < 0 || ms_until(d) < best))
		best = ms_until(d);
	if (h->paused) {
		d = h->paused_until > now ? h->paused_until - now : 0;
		if (best < 0 || ms_until(d) < best)
			best = ms_until(d);
	}
	return best;
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

/* How many connections it handed to the daemons. */
static int accept_some(struct cgp_http *h, uint64_t now)
{
	int added = 0;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct cgp_conn *k, *evict;
		bool oom;
		int fd = accept4(h->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return added;
			/* out of fds or memory: the connection stays queued and the listener readable, so the loop
			 * would spin on it; it waits a moment instead (connections closing meanwhile free fds) */
			h->conns.refused[CGP_REFUSED_ACCEPT_ERROR]++;
			cgp_debug("http: accept: %s; accepting again in %llu ms", strerror(errno),
				  ACCEPT_PAUSE_NS / 1000000ULL);
			epoll_ctl(h->ep, EPOLL_CTL_DEL, h->lfd, NULL);
			h->paused = true;
			h->paused_until = now + ACCEPT_PAUSE_NS;
			return added;
		}
		k = cgp_conns_admit(&h->conns, fd, cgp_http_client_key((struct sockaddr *)&ss, sl), now, &evict, &oom);
		if (evict) /* its daemon sees the end and closes it on its next run */
			shutdown(evict->fd, SHUT_RDWR);
		if (!k) {
			close(fd);
			continue;
		}
		k->owner = h->gen;
		/* on failure libmicrohttpd closed fd; whether it told us (closed) or not, the record must go */
		if (MHD_add_connection(h->gen->d[k->reserve ? RESERVE : MAIN], fd, (struct sockaddr *)&ss, sl) ==
		    MHD_YES)
			added++;
		else if (cgp_conns_by_fd(&h->conns, fd) == k)
			cgp_conns_closed(&h->conns, k);
	}
	return added;
}

static int run_daemons(struct cgp_http *h)
{
	int err = 0;

	for (struct gen *g = h->gen; g; g = g->next)
		for (int i = MAIN; i <= RESERVE; i++)
			if (MHD_run(g->d[i]) != MHD_YES)
				err = -EIO;
	return err;
}

int cgp_http_run(struct cgp_http *h)
{
	uint64_t now = cgp_mono_ns();
	struct cgp_conn *k;
	int err;

	h->woken = false;
	if ((h->cfg.tls_cert || h->cfg.token_file) && now >= h->next_file_check) {
		h->next_file_check = now + FILE_CHECK_NS;
		check_files(h);
	}
	/* past the header deadline: shut down, so its daemon closes it on this run */
	while ((k = cgp_conns_next_expired(&h->conns, now)))
		shutdown(k->fd, SHUT_RDWR);
	resume_streams(h);
	/* requests already in are read before new connections are admitted: a probe waiting in the reserve is
	 * answered before a newcomer could take its slot */
	err = run_daemons(h);
	if (h->paused && now >= h->paused_until && !watch(h->ep, h->lfd))
		h->paused = false;
	if (!h->paused && accept_some(h, now) && run_daemons(h))
		err = -EIO;
	gen_reap(h);
	return err;
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
	memcpy(st->refused, h->conns.refused, sizeof(st->refused));
	st->conns_main = h->conns.n_main;
	st->conns_reserve = h->conns.n_reserve;
	if (!h->ring)
		return;
	cgp_event_ring_get_stats(h->ring, &rs);
	st->ring_events = rs.events;
	st->ring_bytes = rs.bytes;
	st->ring_evicted = rs.evicted_total;
}
