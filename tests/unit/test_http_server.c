// SPDX-License-Identifier: GPL-2.0
/* The HTTP server in an epoll loop of its own, as the agent runs it.
 *
 * Without arguments: cmocka tests in one thread. The test drives the loop and raw-socket clients in turn, so
 * every step is deterministic: /healthz, /metrics, errors, /v1/events with since=, Gap, live events, gzip
 * flushed per batch, a consumer that stops reading next to one that keeps up, and shutdown with open streams.
 *
 * `test_http_server serve --port-file F --ctl FIFO [--ring-events N]`: serves synthetic events on 127.0.0.1
 * (any free port, written to F) for tests/scripts/test_http.sh, which drives it with curl, promtool and
 * Google's protobuf runtime. Commands, one per line on the FIFO:
 *   publish N PER_TICK [PAD]  publish N sample events, PER_TICK per 1 ms tick, paths padded to PAD bytes
 *   health ok | health bad REASON...
 *   stats FILE                once every publish before it is done: write the server's counters to FILE
 *   quit
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
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
#include <sys/timerfd.h>
#include <zlib.h>

#include <isa-l/igzip_lib.h>

#include <cmocka.h>

#include "events/event_encode.h"
#include "events/event_ring.h"
#include "events/frame.h"
#include "sinks/http_server.h"
#include "sinks/metrics.h"

/* igzip calls, counted in front of the library's (test_metrics_gzip_pieces) */
static unsigned long deflates;

int isal_deflate(struct isal_zstream *z)
{
	static int (*real)(struct isal_zstream *);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "isal_deflate");
	deflates++;
	return real(z);
}

#define NODE	 "test-node"
#define INSTANCE "http-test-instance"

/* ---- synthetic events and metrics, shared by both modes ---- */

struct gen {
	struct cgp_event_build b;
	struct cgp_buf pb;
	uint64_t seq;
	char path[4096];
};

/* Encodes the next sample event; pad > 0 makes its path that long, for volume. */
static void gen_next(struct gen *g, size_t pad)
{
	struct cgp_event_meta m = {.node = NODE, .instance_id = INSTANCE, .seq = ++g->seq};
	struct cgp_sample s = {
	    .cgroup_id = 1000 + g->seq % 7,
	    .ts_ns = 1700000000000000000ULL + g->seq,
	    .window_s = 1.0,
	    .cpu_ns_total = g->seq * 1000,
	};
	struct cgp_attribution a = cgp_attribution_unknown;
	int n = snprintf(g->path, sizeof(g->path), "/test/cg-%" PRIu64, g->seq % 7);

	if (pad >= sizeof(g->path))
		pad = sizeof(g->path) - 1;
	while ((size_t)n < pad)
		g->path[n++] = 'p';
	g->path[n] = 0;
	a.path = g->path;
	cgp_event_build_sample(&g->b, &m, &s, &a);
	cgp_buf_clear(&g->pb);
	if (cgp_event_pack(&g->b, &g->pb))
		abort();
}

struct metrics_ctx {
	struct cgp_metrics *m;
};

/* Two cgroups, one with label values that need escaping, and the agent's counters, as the loop hands them. */
static int fill_metrics(struct metrics_ctx *x)
{
	static const struct cgp_bpf_prog_stat progs[] = {{"cgp_sched_switch", 123456789, 1000}, {"cgp_oom", 0, 0}};
	struct cgp_attribution aa = cgp_attribution_unknown, ab = cgp_attribution_unknown;
	struct cgp_agent_counters c;
	struct cgp_sample a = {
	    .cgroup_id = 4026531835ULL,
	    .cpu_ns_total = 987654321012ULL,
	    .cpu_limit_cores = 2,
	    .has_mem = true,
	    .mem_bytes = 104857600,
	    .mem_limit_bytes = 268435456,
	    .oom_kills = 1,
	    .voluntary_switches = 10,
	    .involuntary_switches = 2,
	    .runq_hist_window = {[0] = 3, [5] = 7, [23] = 1},
	};
	struct cgp_sample b = a;
	int err;

	aa.path = "/kubepods.slice/web.scope";
	aa.is_container = true;
	aa.container_id = "3f4e5d6c7b8a";
	aa.runtime = "containerd";
	aa.pod = "web-7d9f8";
	aa.pod_namespace = "shop";
	aa.container_name = "nginx";
	b.cgroup_id = 77;
	ab.path = "/odd\\dir/\"quoted\"\nline \xff";
	b.has_mem = false;
	b.cpu_limit_cores = 0;
	x->m = cgp_metrics_new();
	if (!x->m)
		return -ENOMEM;
	if ((err = cgp_metrics_sample(x->m, &a, &aa)) || (err = cgp_metrics_sample(x->m, &b, &ab)))
		return err;
	c = (struct cgp_agent_counters){
	    .events_published = 5,
	    .cgroups_tracked = 2,
	    .sweeps = 3,
	    .sweep_seconds_total = 0.003,
	    .last_sweep_seconds = 0.001,
	    .bpf_stats_enabled = true,
	    .n_progs = 2,
	    .records_lost = {[CGP_DROP_SWEEP_FULL] = 4},
	};
	memcpy(c.progs, progs, sizeof(progs));
	cgp_metrics_set_agent(x->m, &c);
	return 0;
}

static int epoll_add(int ep, int fd, uint32_t tag)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = tag};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* ---- serve mode ---- */

struct server {
	struct cgp_http *h;
	struct cgp_event_ring *ring;
	struct metrics_ctx mx;
	struct gen g;
	int ep, ctl, tfd;
	char cmd[8192];
	size_t cmd_len;
	uint64_t to_publish, per_tick;
	size_t pad;
	bool quit;
};

static void arm(struct server *s, bool on)
{
	struct itimerspec its = {.it_interval.tv_nsec = on ? 1000000 : 0, .it_value.tv_nsec = on ? 1000000 : 0};

	timerfd_settime(s->tfd, 0, &its, NULL);
}

static void write_stats(struct server *s, const char *file)
{
	struct cgp_http_stats st;
	char tmp[4200];
	FILE *f;

	cgp_http_get_stats(s->h, &st);
	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f,
		"published=%" PRIu64 " last_seq=%" PRIu64 " streams_open=%" PRIu64 " events_streamed=%" PRIu64
		" gaps_sent=%" PRIu64 " events_missed=%" PRIu64 " ring_events=%" PRIu64 " requests_events=%" PRIu64
		"\n",
		s->g.seq, s->g.seq, st.streams_open, st.events_streamed, st.gaps_sent, st.events_missed, st.ring_events,
		st.requests[CGP_HTTP_EP_EVENTS]);
	fclose(f);
	rename(tmp, file); /* the script waits for the file: it appears complete */
}

/* Runs complete command lines while no publish is pending: a later command sees the earlier one done. */
static void run_commands(struct server *s)
{
	char *nl;

	while (!s->to_publish && !s->quit && (nl = memchr(s->cmd, '\n', s->cmd_len))) {
		unsigned long long n, per;
		size_t pad = 0;
		char arg[4096];

		*nl = 0;
		if (sscanf(s->cmd, "publish %llu %llu %zu", &n, &per, &pad) >= 2 && per) {
			s->to_publish = n;
			s->per_tick = per;
			s->pad = pad;
			arm(s, true);
		} else if (!strcmp(s->cmd, "health ok")) {
			cgp_http_set_health(s->h, true, NULL);
		} else if (!strncmp(s->cmd, "health bad ", 11)) {
			cgp_http_set_health(s->h, false, s->cmd + 11);
		} else if (sscanf(s->cmd, "stats %4095s", arg) == 1) {
			write_stats(s, arg);
		} else if (!strcmp(s->cmd, "quit")) {
			s->quit = true;
		} else {
			fprintf(stderr, "test_http_server: unknown command: %s\n", s->cmd);
		}
		s->cmd_len -= (size_t)(nl + 1 - s->cmd);
		memmove(s->cmd, nl + 1, s->cmd_len);
	}
}

static void publish_tick(struct server *s)
{
	uint64_t ticks;

	if (read(s->tfd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	for (uint64_t i = 0; i < s->per_tick && s->to_publish; i++, s->to_publish--) {
		gen_next(&s->g, s->pad);
		if (cgp_event_ring_push(s->ring, s->g.seq, cgp_buf_head(&s->g.pb), cgp_buf_size(&s->g.pb)))
			fprintf(stderr, "test_http_server: publish %" PRIu64 " failed\n", s->g.seq);
	}
	if (!s->to_publish)
		arm(s, false);
}

static int serve(int argc, char **argv)
{
	const char *port_file = NULL, *ctl = NULL;
	struct cgp_http_cfg cfg = {.addr = "127.0.0.1:0", .node = NODE, .instance_id = INSTANCE};
	static struct server s;
	size_t ring_events = 16384;
	char why[256];
	FILE *f;
	int rc = 1;

	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port-file"))
			port_file = argv[i + 1];
		else if (!strcmp(argv[i], "--ctl"))
			ctl = argv[i + 1];
		else if (!strcmp(argv[i], "--ring-events"))
			ring_events = strtoul(argv[i + 1], NULL, 10);
	}
	if (!port_file || !ctl) {
		fprintf(stderr, "usage: %s serve --port-file FILE --ctl FIFO [--ring-events N]\n", argv[0]);
		return 2;
	}
	s.ring = cgp_event_ring_new(ring_events, 64u << 20); /* the count bounds the ring in these tests */
	if (!s.ring || fill_metrics(&s.mx))
		return 1;
	cfg.metrics = s.mx.m;
	cfg.ring = s.ring;
	s.h = cgp_http_new(&cfg, why, sizeof(why));
	if (!s.h) {
		fprintf(stderr, "test_http_server: %s\n", why);
		goto out;
	}
	/* O_RDWR: the FIFO then never reports EOF between two writers */
	s.ctl = open(ctl, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	s.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	s.ep = epoll_create1(EPOLL_CLOEXEC);
	if (s.ctl < 0 || s.tfd < 0 || s.ep < 0 || epoll_add(s.ep, cgp_http_fd(s.h), 1) || epoll_add(s.ep, s.ctl, 2) ||
	    epoll_add(s.ep, s.tfd, 3)) {
		perror("test_http_server: setup");
		goto out;
	}
	f = fopen(port_file, "w");
	if (!f)
		goto out;
	fprintf(f, "%d\n", cgp_http_port(s.h));
	fclose(f);
	while (!s.quit) {
		struct epoll_event evs[8];
		int n = epoll_wait(s.ep, evs, 8, cgp_http_timeout_ms(s.h));

		if (n < 0 && errno != EINTR)
			goto out;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 2) {
				ssize_t r = read(s.ctl, s.cmd + s.cmd_len, sizeof(s.cmd) - 1 - s.cmd_len);

				if (r > 0)
					s.cmd_len += (size_t)r;
			} else if (evs[i].data.u32 == 3) {
				publish_tick(&s);
			}
		}
		run_commands(&s);
		if (cgp_http_run(s.h))
			goto out;
	}
	rc = 0;
out:
	cgp_http_free(s.h);
	cgp_event_ring_free(s.ring);
	cgp_metrics_free(s.mx.m);
	cgp_buf_free(&s.g.pb);
	if (s.ep > 0)
		close(s.ep);
	if (s.tfd > 0)
		close(s.tfd);
	if (s.ctl > 0)
		close(s.ctl);
	return rc;
}

/* ---- in-process tests: a raw HTTP/1.1 client ---- */

struct client {
	int fd;
	struct cgp_buf raw; /* every byte received */
	size_t pos;	    /* parsed up to here */
	bool have_head, chunked, gzip, done, eof;
	int status;
	size_t chunks; /* of the body, the closing one left out */
	char head[4096];
	struct cgp_buf body; /* de-chunked; still compressed when gzip */
	z_stream z;
	bool zinit;
	struct cgp_buf inflated; /* body, inflated, when gzip */
	size_t zin;		 /* body bytes already inflated */
	size_t hop;		 /* start of the first frame not yet hopped over (last_seq) */
	uint64_t last_seq;
};

/* What the server sent, decompressed. */
static const struct cgp_buf *plain(const struct client *c)
{
	return c->gzip ? &c->inflated : &c->body;
}

static struct client *client_open(int port, int rcvbuf, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static struct client *client_open(int port, int rcvbuf, const char *fmt, ...)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct client *c = calloc(1, sizeof(*c));
	char req[1024];
	va_list ap;
	int n;

	assert_non_null(c);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->fd >= 0);
	/* before connect, so the window stays this small: a consumer that reads nothing fills up at once */
	if (rcvbuf)
		assert_int_equal(setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	va_start(ap, fmt);
	n = vsnprintf(req, sizeof(req), fmt, ap);
	va_end(ap);
	assert_int_equal(send(c->fd, req, (size_t)n, MSG_NOSIGNAL), n);
	assert_int_equal(fcntl(c->fd, F_SETFL, O_NONBLOCK), 0);
	return c;
}

static void client_free(struct client *c)
{
	if (!c)
		return;
	close(c->fd);
	if (c->zinit)
		inflateEnd(&c->z);
	cgp_buf_free(&c->raw);
	cgp_buf_free(&c->body);
	cgp_buf_free(&c->inflated);
	free(c);
}

static void client_parse(struct client *c)
{
	const char *d = (const char *)c->raw.data;

	if (!c->have_head) {
		const char *end = memmem(d, c->raw.len, "\r\n\r\n", 4);
		size_t n;

		if (!end)
			return;
		n = (size_t)(end - d) + 4;
		assert_true(n < sizeof(c->head));
		memcpy(c->head, d, n);
		c->head[n] = 0;
		assert_int_equal(sscanf(c->head, "HTTP/1.%*d %d", &c->status), 1);
		c->chunked = strcasestr(c->head, "\r\nTransfer-Encoding: chunked\r\n") != NULL;
		c->gzip = strcasestr(c->head, "\r\nContent-Encoding: gzip\r\n") != NULL;
		c->have_head = true;
		c->pos = n;
	}
	while (!c->done && c->pos < c->raw.len) {
		if (!c->chunked) {
			assert_int_equal(cgp_buf_append(&c->body, d + c->pos, c->raw.len - c->pos), 0);
			c->pos = c->raw.len;
			break;
		}
		const char *crlf = memmem(d + c->pos, c->raw.len - c->pos, "\r\n", 2);
		unsigned long size;

		if (!crlf)
			break;
		size = strtoul(d + c->pos, NULL, 16);
		if (size == 0) {
			c->done = true;
			break;
		}
		if ((size_t)(crlf - d) + 2 + size + 2 > c->raw.len)
			break;
		assert_int_equal(cgp_buf_append(&c->body, crlf + 2, size), 0);
		c->chunks++;
		c->pos = (size_t)(crlf - d) + 2 + size + 2;
	}
	if (!c->gzip)
		return;
	if (!c->zinit) {
		assert_int_equal(inflateInit2(&c->z, 15 + 16), Z_OK);
		c->zinit = true;
	}
	while (c->zin < c->body.len) {
		uint8_t *w = cgp_buf_reserve(&c->inflated, 65536);
		int rc;

		c->z.next_in = c->body.data + c->zin;
		c->z.avail_in = (uInt)(c->body.len - c->zin);
		c->z.next_out = w;
		c->z.avail_out = 65536;
		rc = inflate(&c->z, Z_SYNC_FLUSH);
		assert_true(rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR);
		c->inflated.len += 65536 - c->z.avail_out;
		c->zin = c->body.len - c->z.avail_in;
		if (rc != Z_OK || c->z.avail_out)
			break;
	}
}

static void client_poll(struct client *c)
{
	for (;;) {
		uint8_t *w = cgp_buf_reserve(&c->raw, 65536);
		ssize_t n = recv(c->fd, w, 65536, 0);

		if (n > 0) {
			c->raw.len += (size_t)n;
			continue;
		}
		if (n == 0)
			c->eof = true;
		break;
	}
	client_parse(c);
}

/* The events in a client's (plain) body so far: seq, or a Gap as seq 0 with first/last. */
struct got {
	uint64_t seq[40000], gap_first[64], gap_last[64];
	size_t n, gaps;
};

static void decode(const struct client *c, struct got *g)
{
	const struct cgp_buf *p = plain(c);
	size_t i = 0;

	g->n = g->gaps = 0;
	while (i < p->len) {
		uint64_t len;
		int h = cgp_varint_get(p->data + i, p->len - i, &len);
		Cgpulse__V1__Event *ev;

		assert_true(h >= 0);
		if (h == 0 || i + (size_t)h + len > p->len)
			break; /* the rest is still on its way */
		ev = cgpulse__v1__event__unpack(NULL, len, p->data + i + h);
		assert_non_null(ev);
		assert_string_equal(ev->instance_id, INSTANCE);
		assert_true(g->n < sizeof(g->seq) / sizeof(g->seq[0]));
		if (ev->body_case == CGPULSE__V1__EVENT__BODY_GAP) {
			assert_int_equal(ev->seq, 0);
			assert_int_equal(ev->gap->missed, ev->gap->last_missed_seq - ev->gap->first_missed_seq + 1);
			assert_true(g->gaps < 64);
			g->gap_first[g->gaps] = ev->gap->first_missed_seq;
			g->gap_last[g->gaps++] = ev->gap->last_missed_seq;
		} else {
			assert_int_equal(ev->body_case, CGPULSE__V1__EVENT__BODY_SAMPLE);
		}
		g->seq[g->n++] = ev->seq;
		cgpulse__v1__event__free_unpacked(ev, NULL);
		i += (size_t)h + len;
	}
}

/* Every seq after `after` up to the last one received is accounted for, in order: received, or inside the
 * Gap that came in its place. Returns the last seq accounted for. */
static uint64_t check_continuous(const struct got *g, uint64_t after)
{
	size_t gi = 0;

	for (size_t i = 0; i < g->n; i++) {
		if (g->seq[i] == 0) {
			assert_int_equal(g->gap_first[gi], after + 1);
			after = g->gap_last[gi++];
		} else {
			assert_int_equal(g->seq[i], after + 1);
			after = g->seq[i];
		}
	}
	return after;
}

struct fx {
	struct cgp_http *h;
	struct cgp_event_ring *ring;
	struct metrics_ctx mx;
	struct gen g;
	int ep, port;
	struct client *cl[8];
};

static struct fx *fx_new(size_t ring_events)
{
	struct cgp_http_cfg cfg = {
	    .addr = "127.0.0.1:0",
	    .node = NODE,
	    .instance_id = INSTANCE,
	    .max_streams = 3,
	};
	struct fx *f = calloc(1, sizeof(*f));
	char why[256];

	assert_non_null(f);
	assert_int_equal(fill_metrics(&f->mx), 0);
	f->ring = cgp_event_ring_new(ring_events ? ring_events : 16384, 64u << 20);
	assert_non_null(f->ring);
	cfg.metrics = f->mx.m;
	cfg.ring = f->ring;
	f->h = cgp_http_new(&cfg, why, sizeof(why));
	if (!f->h)
		fail_msg("cgp_http_new: %s", why);
	f->port = cgp_http_port(f->h);
	assert_true(f->port > 0);
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	assert_int_equal(epoll_add(f->ep, cgp_http_fd(f->h), 1), 0);
	return f;
}

static void fx_free(struct fx *f)
{
	cgp_http_free(f->h); /* with streams still open: they end cleanly, nothing leaks */
	for (int i = 0; i < 8; i++)
		client_free(f->cl[i]);
	cgp_event_ring_free(f->ring);
	cgp_metrics_free(f->mx.m);
	cgp_buf_free(&f->g.pb);
	close(f->ep);
	free(f);
}

static void publish(struct fx *f, size_t n, size_t pad)
{
	while (n--) {
		gen_next(&f->g, pad);
		assert_int_equal(cgp_event_ring_push(f->ring, f->g.seq, cgp_buf_head(&f->g.pb), cgp_buf_size(&f->g.pb)),
				 0);
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static unsigned long runs; /* cgp_http_run calls by pump: the agent's loop turns */

/* Runs the loop as the agent does, reading every client except `skip`, until done(f) or 5 s. */
static bool pump(struct fx *f, bool (*done)(struct fx *f, void *arg), void *arg, const struct client *skip)
{
	uint64_t end = now_ms() + 5000;

	while (now_ms() < end) {
		struct epoll_event ev;
		int t = cgp_http_timeout_ms(f->h);

		epoll_wait(f->ep, &ev, 1, t < 0 || t > 5 ? 5 : t);
		assert_int_equal(cgp_http_run(f->h), 0);
		runs++;
		for (int i = 0; i < 8; i++)
			if (f->cl[i] && f->cl[i] != skip)
				client_poll(f->cl[i]);
		if (done(f, arg))
			return true;
	}
	return false;
}

static bool answered(struct fx *f, void *arg)
{
	(void)f;
	return ((struct client *)arg)->done || ((struct client *)arg)->eof;
}

static bool have_head(struct fx *f, void *arg)
{
	(void)f;
	return ((struct client *)arg)->have_head;
}

/* The client has received events up to the last published seq. Hops over frames once each and unpacks only
 * the last complete one, so waiting stays cheap on a long stream. */
static bool caught_up(struct fx *f, void *arg)
{
	struct client *c = arg;
	const struct cgp_buf *p = plain(c);
	size_t last = SIZE_MAX;
	uint64_t len;
	int h;

	while ((h = cgp_varint_get(p->data + c->hop, p->len - c->hop, &len)) > 0 &&
	       c->hop + (size_t)h + len <= p->len) {
		last = c->hop;
		c->hop += (size_t)h + len;
	}
	if (last != SIZE_MAX) {
		Cgpulse__V1__Event *ev;

		h = cgp_varint_get(p->data + last, p->len - last, &len);
		ev = cgpulse__v1__event__unpack(NULL, len, p->data + last + h);
		assert_non_null(ev);
		c->last_seq = ev->seq ? ev->seq : ev->gap->last_missed_seq;
		cgpulse__v1__event__free_unpacked(ev, NULL);
	}
	return c->last_seq == f->g.seq;
}

/* Nothing pending: no deadline and nothing readable. */
static bool idle(struct fx *f, void *arg)
{
	struct epoll_event ev;

	(void)arg;
	return cgp_http_timeout_ms(f->h) == -1 && epoll_wait(f->ep, &ev, 1, 0) == 0;
}

static struct client *get(struct fx *f, int slot, const char *req)
{
	f->cl[slot] = client_open(f->port, 0, "%s", req);
	assert_true(pump(f, answered, f->cl[slot], NULL));
	return f->cl[slot];
}

static const void *strnstr_(const struct cgp_buf *b, const char *s)
{
	return memmem(b->data, b->len, s, strlen(s));
}

static void body_is(const struct client *c, const char *want)
{
	assert_int_equal(plain(c)->len, strlen(want));
	assert_memory_equal(plain(c)->data, want, strlen(want));
}

static void test_healthz_and_errors(void **state)
{
	struct fx *f = fx_new(0);
	struct client *c;

	(void)state;
	c = get(f, 0, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->status, 503);
	body_is(c, "starting\n");
	cgp_http_set_health(f->h, false, "programs not attached");
	c = get(f, 1, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->status, 503);
	body_is(c, "programs not attached\n");
	cgp_http_set_health(f->h, true, NULL);
	c = get(f, 2, "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->status, 200);
	body_is(c, "ok\n");

	c = get(f, 3, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->status, 404);
	c = get(f, 4, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc");
	assert_int_equal(c->status, 405);
	assert_non_null(strcasestr(c->head, "\r\nAllow: GET, HEAD\r\n"));
	c = get(f, 5, "GET /v1/events?since=abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->status, 400);
	publish(f, 3, 0);
	/* a seq this instance never reached (the agent restarted): refused, not a stream that waits forever */
	c = get(f, 6, "GET /v1/events?since=4 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->status, 409);
	assert_non_null(memmem(plain(c)->data, plain(c)->len, INSTANCE, strlen(INSTANCE)));

	struct cgp_http_stats st;

	cgp_http_get_stats(f->h, &st);
	assert_int_equal(st.requests[CGP_HTTP_EP_HEALTHZ], 3);
	assert_int_equal(st.errors[CGP_HTTP_EP_HEALTHZ], 2);
	assert_int_equal(st.requests[CGP_HTTP_EP_OTHER], 1);
	assert_int_equal(st.requests[CGP_HTTP_EP_METRICS], 1);
	assert_int_equal(st.requests[CGP_HTTP_EP_EVENTS], 2);
	assert_int_equal(st.streams_open, 0);
	fx_free(f);
}

static void test_metrics_endpoint(void **state)
{
	struct fx *f = fx_new(0);
	struct client *c;
	struct cgp_buf want = CGP_BUF_INIT;

	(void)state;
	c = get(f, 0, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->status, 200);
	assert_non_null(strcasestr(c->head, "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
	assert_false(c->gzip);
	assert_non_null(strnstr_(plain(c), "\ncgpulse_cgroup_memory_bytes{cgroup_id=\"4026531835\""));
	assert_non_null(strnstr_(plain(c), "\ncgpulse_http_requests_total{endpoint=\"/metrics\"} 1\n"));

	/* gzip when asked: the same exposition (up to the counters that moved) */
	c = get(f, 1,
		"GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: br, gzip;q=0.5\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->status, 200);
	assert_true(c->gzip);
	assert_int_equal(cgp_metrics_render(f->mx.m, NULL, &want), 0);
	/* the per-cgroup families, up to the agent's own (its CPU time and RSS move between two renders) */
	{
		const char *agent = strnstr_(&want, "# HELP cgpulse_events_published_total");
		size_t n = agent ? (size_t)(agent - (const char *)want.data) : 0;

		assert_true(n > 0 && plain(c)->len > want.len);
		assert_memory_equal(plain(c)->data, want.data, n);
	}
	cgp_buf_free(&want);
	/* q=0 refuses it */
	c = get(f, 2, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip;q=0\r\nConnection: close\r\n\r\n");
	assert_false(c->gzip);
	fx_free(f);
}

static void test_events_since_and_live(void **state)
{
	struct fx *f = fx_new(0);
	static struct got g;
	struct epoll_event ev;
	struct client *c;

	(void)state;
	publish(f, 5, 0);
	c = f->cl[0] = client_open(f->port, 0, "GET /v1/events?since=2 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(pump(f, caught_up, c, NULL));
	assert_int_equal(c->status, 200);
	assert_true(c->chunked);
	assert_non_null(strcasestr(c->head, "\r\nX-Cgpulse-Instance-Id: " INSTANCE "\r\n"));
	decode(c, &g);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.seq[0], 3);
	assert_int_equal(g.seq[2], 5);

	/* live: the stream is suspended with nothing to send, the loop has nothing to do (no busy polling), and
	 * after a turn that published, the server's run resumes the stream and asks to run again at once (no
	 * missed wake-up) */
	assert_true(pump(f, idle, NULL, NULL));
	assert_int_equal(epoll_wait(f->ep, &ev, 1, 0), 0);
	publish(f, 2, 0);
	assert_int_equal(cgp_http_run(f->h), 0);
	assert_int_equal(cgp_http_timeout_ms(f->h), 0);
	assert_true(pump(f, caught_up, c, NULL));
	decode(c, &g);
	assert_int_equal(g.n, 5);
	assert_int_equal(check_continuous(&g, 2), 7);

	/* resume where it left off: exactly what follows */
	f->cl[1] = client_open(f->port, 0, "GET /v1/events?since=6 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(pump(f, caught_up, f->cl[1], NULL));
	decode(f->cl[1], &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.seq[0], 7);
	/* no since: everything held */
	f->cl[2] = client_open(f->port, 0, "GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(pump(f, caught_up, f->cl[2], NULL));
	decode(f->cl[2], &g);
	assert_int_equal(g.n, 7);
	assert_int_equal(check_continuous(&g, 0), 7);

	/* max_streams is 3 */
	f->cl[3] = client_open(f->port, 0, "GET /v1/events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(pump(f, answered, f->cl[3], NULL));
	assert_int_equal(f->cl[3]->status, 503);

	struct cgp_http_stats st;

	cgp_http_get_stats(f->h, &st);
	assert_int_equal(st.streams_open, 3);
	assert_int_equal(st.streams_refused, 1);
	assert_int_equal(st.events_streamed, 5 + 1 + 7);
	assert_int_equal(f->g.seq, 7);
	assert_int_equal(st.gaps_sent, 0);
	fx_free(f);
}

static void test_gap_when_ring_moved_on(void **state)
{
	struct fx *f = fx_new(4);
	static struct got g;

	(void)state;
	publish(f, 10, 0);
	f->cl[0] = client_open(f->port, 0, "GET /v1/events?since=0 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(pump(f, caught_up, f->cl[0], NULL));
	decode(f->cl[0], &g);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.gaps, 1);
	assert_int_equal(g.seq[0], 0);
	assert_int_equal(g.gap_first[0], 1);
	assert_int_equal(g.gap_last[0], 6);
	assert_int_equal(check_continuous(&g, 0), 10);
	fx_free(f);
}

/* Compressed, and each batch flushed: a consumer decodes events while the stream is still open. */
static void test_gzip_stream_flushed(void **state)
{
	struct fx *f = fx_new(0);
	static struct got g;
	struct client *c;

	(void)state;
	publish(f, 3, 0);
	c = f->cl[0] =
	    client_open(f->port, 0, "GET /v1/events?since=0 HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n");
	assert_true(pump(f, caught_up, c, NULL));
	assert_true(c->gzip);
	publish(f, 1, 0);
	assert_true(pump(f, caught_up, c, NULL));
	publish(f, 200, 300);
	assert_true(pump(f, caught_up, c, NULL));
	decode(c, &g);
	assert_int_equal(g.n, 204);
	assert_int_equal(check_continuous(&g, 0), 204);
	assert_false(c->done);
	/* the sample paths repeat: compression pays */
	assert_true(c->body.len * 4 < c->inflated.len);
	fx_free(f);
}

/* A consumer that stops reading holds nothing up: publishing goes on, another consumer gets every event,
 * and the stalled one later gets a Gap for what went past it. */
static void test_slow_consumer(void **state)
{
	struct fx *f = fx_new(256);
	static struct got g;
	struct client *slow, *fast;
	struct cgp_http_stats st;
	uint64_t last;

	(void)state;
	slow = f->cl[0] = client_open(f->port, 4096, "GET /v1/events?since=0 HTTP/1.1\r\nHost: x\r\n\r\n");
	fast = f->cl[1] = client_open(f->port, 0, "GET /v1/events?since=0 HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_true(pump(f, have_head, fast, slow));
	for (int batch = 0; batch < 100; batch++) {
		publish(f, 50, 1000);
		assert_true(pump(f, caught_up, fast, slow));
	}
	decode(fast, &g);
	assert_int_equal(g.n, 5000);
	assert_int_equal(g.gaps, 0);
	assert_int_equal(check_continuous(&g, 0), 5000);

	/* the stalled consumer reads again: what it missed comes as a Gap, then the ring's events */
	assert_true(pump(f, caught_up, slow, NULL));
	decode(slow, &g);
	assert_true(g.gaps >= 1);
	last = check_continuous(&g, 0);
	assert_int_equal(last, 5000);
	assert_true(g.n - g.gaps < 5000);
	cgp_http_get_stats(f->h, &st);
	assert_int_equal(f->g.seq, 5000);
	assert_int_equal(st.gaps_sent, g.gaps);
	assert_int_equal(st.events_streamed, 5000 + g.n - g.gaps);
	assert_int_equal(st.events_missed + (g.n - g.gaps), 5000);
	print_message("slow consumer: %zu events, %zu gap(s) for %" PRIu64 " missed; fast consumer: 5000 events\n",
		      g.n - g.gaps, g.gaps, st.events_missed);
	fx_free(f);
}

/* A large page leaves in chunks as large as libmicrohttpd's buffer takes, one send(2) and one loop turn each,
 * plain and gzip: not one chunk per 16 KiB piece of text (gzip: ~5 KiB chunks, 4x the sends and turns). */
static void test_page_in_large_chunks(void **state)
{
	struct fx *f = fx_new(0);
	struct cgp_attribution a = cgp_attribution_unknown;
	struct cgp_sample s = {.has_mem = true, .mem_bytes = 1 << 20, .cpu_ns_total = 12345678};
	char path[128];
	const char *req[2] = {"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			      "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n"};
	struct cgp_buf want = CGP_BUF_INIT;

	(void)state;
	a.path = path;
	for (int i = 0; i < 3000; i++) {
		s.cgroup_id = 100000 + (uint64_t)i;
		s.mem_bytes += (uint64_t)i * 4099;
		s.cpu_ns_total += (uint64_t)i * 7919;
		snprintf(path, sizeof(path), "/kubepods.slice/pod-%d.slice/cri-containerd-%08x.scope", i / 3,
			 i * 2654435761u);
		assert_int_equal(cgp_metrics_sample(f->mx.m, &s, &a), 0);
	}
	for (int k = 0; k < 2; k++) {
		unsigned long r0 = runs;
		struct client *c = get(f, k, req[k]);
		size_t per = c->body.len / (c->chunks ? c->chunks : 1);

		assert_int_equal(c->status, 200);
		assert_int_equal(c->gzip, k == 1);
		print_message("%s: %zu bytes (%zu plain) in %zu chunks (%zu bytes a chunk), %lu loop turns\n",
			      k ? "gzip" : "plain", c->body.len, plain(c)->len, c->chunks, per, runs - r0);
		/* the page whole: the per-cgroup families as one render gives them */
		cgp_buf_clear(&want);
		assert_int_equal(cgp_metrics_render(f->mx.m, NULL, &want), 0);
		{
			const char *agent = strnstr_(&want, "# HELP cgpulse_events_published_total");
			size_t n = agent ? (size_t)(agent - (const char *)want.data) : 0;

			assert_true(n > 1000000 && plain(c)->len > n);
			assert_memory_equal(plain(c)->data, want.data, n);
		}
		/* every chunk but the last as large as libmicrohttpd's buffer allows (~16 KiB of its 32 KiB pool) */
		assert_true(c->chunks >= 2);
		assert_true(c->body.len / (c->chunks - 1) >= 12288);
		assert_true(runs - r0 <= c->chunks + 8);
	}
	cgp_buf_free(&want);
	fx_free(f);
}

/* A gzip page is compressed in pieces of ~512 KiB, not 16 or 48: igzip copies ~64 KiB of each call's input into
 * its own buffer (an 82 MB page at 10,000 cgroups was copied ~3x over in 16 KiB pieces, ~2.3x in 48 KiB ones). The
 * page inflates to the plain one. */
static void test_metrics_gzip_pieces(void **state)
{
	struct fx *f = fx_new(0);
	struct cgp_attribution a = cgp_attribution_unknown;
	struct cgp_sample s = {.has_mem = true, .mem_bytes = 1 << 20, .has_psi = true, .runq_hist_window = {[3] = 1}};
	struct client *c;
	unsigned long calls;
	size_t plain_len;
	char path[64];

	(void)state;
	for (unsigned i = 0; i < 400; i++) {
		s.cgroup_id = 1000 + i;
		snprintf(path, sizeof(path), "/cgpulse-test-bench/cg%05u", i);
		a.path = path;
		assert_int_equal(cgp_metrics_sample(f->mx.m, &s, &a), 0);
	}
	c = get(f, 0, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_false(c->gzip);
	plain_len = plain(c)->len;
	calls = deflates;
	c = get(f, 1, "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n");
	calls = deflates - calls;
	assert_true(c->gzip);
	print_message("gzip page: %zu bytes in %lu igzip calls\n", plain_len, calls);
	/* the same page, up to the agent's own figures that move between two scrapes */
	assert_true(plain(c)->len > plain_len - 2048 && plain(c)->len < plain_len + 2048);
	assert_memory_equal(plain(c)->data, plain(f->cl[0])->data, plain_len / 2);
	/* 48 KiB pieces: ~plain_len / 49152 calls */
	assert_true(plain_len > 1000000);
	assert_true(calls <= plain_len / (400 * 1024) + 2);
	fx_free(f);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_healthz_and_errors),	  cmocka_unit_test(test_metrics_endpoint),
	    cmocka_unit_test(test_events_since_and_live), cmocka_unit_test(test_gap_when_ring_moved_on),
	    cmocka_unit_test(test_gzip_stream_flushed),	  cmocka_unit_test(test_slow_consumer),
	    cmocka_unit_test(test_page_in_large_chunks),  cmocka_unit_test(test_metrics_gzip_pieces),
	};

	if (argc > 1 && !strcmp(argv[1], "serve"))
		return serve(argc, argv);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
