// SPDX-License-Identifier: GPL-2.0
/* Reference collector: one epoll loop over many agents. Decodes frames, stores each (instance, seq) once as a
 * JSON line or a delimited protobuf Event, and acknowledges what is stored. A connection that sends something
 * malformed is closed with a logged reason; the others carry on. Counters on SIGUSR1 and at exit. */
#include <errno.h>
#include <getopt.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "collector/dedup.h"
#include "collector/event_log.h"
#include "events/frame.h"
#include "lib/log.h"
#include "lib/tcp_addr.h"
#include "events/wire.h"

#define READ_CHUNK (256u << 10)
#define OUTBUF_MAX (4u << 20) /* acks an agent does not read: past this it is not listening */

struct conn {
	struct conn *prev, *next; /* every open connection, so exit can close them */
	int fd;
	char peer[INET6_ADDRSTRLEN + 16];
	struct cgp_frame_decoder dec;
	struct cgp_buf out;
	bool want_out;
	uint64_t frames, stored, duplicates;
};

struct counters {
	uint64_t accepted, open, closed_bad, frames, batches, events_stored, duplicates, bytes_in;
};

static struct {
	int epfd, lfd, sfd;
	size_t max_frame, max_inflate;
	struct cgp_dedup *dedup;
	struct cgp_event_log *log;
	struct cgp_buf scratch;
	struct conn *conns;
	struct counters c;
} S;

static void print_counters(void)
{
	fprintf(stderr,
		"cgpulse-collector: connections=%llu open=%llu closed_bad=%llu frames=%llu batches=%llu "
		"events_stored=%llu duplicates=%llu bytes_in=%llu instances=%zu\n",
		(unsigned long long)S.c.accepted, (unsigned long long)S.c.open, (unsigned long long)S.c.closed_bad,
		(unsigned long long)S.c.frames, (unsigned long long)S.c.batches, (unsigned long long)S.c.events_stored,
		(unsigned long long)S.c.duplicates, (unsigned long long)S.c.bytes_in, cgp_dedup_instances(S.dedup));
}

/* why: a protocol error, logged and counted; NULL: the peer left (or we exit), which is normal. */
static void conn_close(struct conn *c, const char *why)
{
	if (why) {
		cgp_info("collector: closing %s: %s (after %llu frames, %llu events stored)", c->peer, why,
			 (unsigned long long)c->frames, (unsigned long long)c->stored);
		S.c.closed_bad++;
	} else {
		cgp_debug("collector: %s left (after %llu frames, %llu events stored)", c->peer,
			  (unsigned long long)c->frames, (unsigned long long)c->stored);
	}
	if (c->prev)
		c->prev->next = c->next;
	else
		S.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	close(c->fd); /* also leaves the epoll set */
	cgp_frame_decoder_free(&c->dec);
	cgp_buf_free(&c->out);
	free(c);
	S.c.open--;
}

static void conn_watch(struct conn *c)
{
	bool want = cgp_buf_size(&c->out) > 0;
	struct epoll_event ev = {.events = EPOLLIN | (want ? EPOLLOUT : 0), .data.ptr = c};

	if (want != c->want_out && !epoll_ctl(S.epfd, EPOLL_CTL_MOD, c->fd, &ev))
		c->want_out = want;
}

/* Writes what the socket takes; false when the connection had to be closed. */
static bool conn_flush(struct conn *c)
{
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
			conn_close(c, errno == EPIPE || errno == ECONNRESET ? NULL : why);
			return false;
		}
		cgp_buf_consume(&c->out, (size_t)n);
	}
	if (cgp_buf_size(&c->out) > OUTBUF_MAX) {
		conn_close(c, "peer does not read its acks");
		return false;
	}
	conn_watch(c);
	return true;
}

/* Stores the new events of one batch and queues its ack. Returns NULL or why the connection must close. */
static const char *handle_batch(struct conn *c, const struct cgp_wire_batch *b, char *why, size_t whylen)
{
	const char *id = b->instance_id[0] ? b->instance_id : b->n_events ? b->events[0]->instance_id : "";
	struct cgp_dedup_instance *in;
	int r;

	if (!id[0])
		return "batch names no instance";
	/* check the whole batch before storing any of it */
	for (size_t k = 0; k < b->n_events; k++) {
		if (strcmp(b->events[k]->instance_id, id)) {
			snprintf(why, whylen, "batch of instance '%.40s' holds an event of '%.40s'", id,
				 b->events[k]->instance_id);
			return why;
		}
		if (b->events[k]->body_case == CGPULSE__V1__EVENT__BODY__NOT_SET) {
			snprintf(why, whylen, "event seq %llu has no body", (unsigned long long)b->events[k]->seq);
			return why;
		}
	}
	in = cgp_dedup_get(S.dedup, id);
	if (!in)
		return "out of memory";
	cgp_dedup_floor(in, b->base_seq);
	for (size_t i = 0; i < b->n_events; i++) {
		const Cgpulse__V1__Event *ev = b->events[i];

		r = cgp_dedup_add(in, ev->seq);
		if (r == -ERANGE) {
			snprintf(why, whylen, "seq %llu is too far past the acknowledged %llu",
				 (unsigned long long)ev->seq, (unsigned long long)cgp_dedup_acked(in));
			return why;
		}
		if (r < 0)
			return "out of memory";
		if (r == 0) {
			c->duplicates++;
			S.c.duplicates++;
			continue;
		}
		/* a .pb log stores the bytes the agent sent, a JSONL log the unpacked event */
		r = cgp_event_log_write(S.log, ev, b->raw[i].data, b->raw[i].len);
		if (r) {
			cgp_err("collector: cannot store an event: %s", strerror(-r));
			exit(1); /* acknowledging what was not stored would lose it */
		}
		c->stored++;
		S.c.events_stored++;
	}
	/* the ack promises the events are stored: hand them to the kernel first */
	r = cgp_event_log_flush(S.log);
	if (r) {
		cgp_err("collector: cannot write the output: %s", strerror(-r));
		exit(1);
	}
	S.c.batches++;
	if (cgp_wire_append_ack(&c->out, id, cgp_dedup_acked(in)))
		return "out of memory";
	return NULL;
}

static void conn_readable(struct conn *c)
{
	char why[192];
	const char *bad = NULL;
	bool eof = false;

	for (;;) {
		uint8_t *w = cgp_frame_decoder_space(&c->dec, READ_CHUNK);
		ssize_t n;

		if (!w) {
			conn_close(c, "out of memory");
			return;
		}
		n = recv(c->fd, w, READ_CHUNK, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			snprintf(why, sizeof(why), "recv: %s", strerror(errno));
			conn_close(c, errno == ECONNRESET ? NULL : why);
			return;
		}
		if (n == 0) {
			eof = true;
			break;
		}
		cgp_frame_decoder_commit(&c->dec, (size_t)n);
		S.c.bytes_in += (size_t)n;

		const uint8_t *frame;
		size_t len;
		int r;

		while ((r = cgp_frame_decoder_next(&c->dec, &frame, &len)) == 1) {
			struct cgp_wire_msg m;

			c->frames++;
			S.c.frames++;
			if (cgp_wire_decode(frame, len, S.max_inflate, &S.scratch, &m, why, sizeof(why))) {
				bad = why;
				break;
			}
			if (m.ack)
				bad = "an agent sent an Ack";
			else
				bad = handle_batch(c, m.batch, why, sizeof(why));
			cgp_wire_msg_free(&m);
			if (bad)
				break;
		}
		if (!bad && r < 0)
			bad = cgp_frame_decoder_error(&c->dec);
		if (bad) {
			char reason[sizeof(why)];

			/* a frame that cannot be parsed leaves no way to find the next one; the acks of the good
			 * frames before it still go out */
			snprintf(reason, sizeof(reason), "%s", bad);
			if (conn_flush(c))
				conn_close(c, reason);
			return;
		}
		/* answer as we go, so a stream of batches is acknowledged while it flows */
		if (!conn_flush(c))
			return;
	}
	if (eof) {
		int r = cgp_frame_decoder_finish(&c->dec);

		snprintf(why, sizeof(why), "%s", r ? cgp_frame_decoder_error(&c->dec) : "");
		if (conn_flush(c))
			conn_close(c, r ? why : NULL);
		return;
	}
	conn_flush(c);
}

static void accept_all(void)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(S.lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				cgp_err("collector: accept: %s", strerror(errno));
			return;
		}
		struct conn *c = calloc(1, sizeof(*c));
		char host[INET6_ADDRSTRLEN], port[8];

		if (!c) {
			close(fd);
			continue;
		}
		c->fd = fd;
		cgp_frame_decoder_init(&c->dec, S.max_frame);
		if (getnameinfo((struct sockaddr *)&ss, sl, host, sizeof(host), port, sizeof(port),
				NI_NUMERICHOST | NI_NUMERICSERV))
			snprintf(c->peer, sizeof(c->peer), "fd %d", fd);
		else
			snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

		if (epoll_ctl(S.epfd, EPOLL_CTL_ADD, fd, &ev)) {
			cgp_err("collector: epoll_ctl: %s", strerror(errno));
			close(fd);
			free(c);
			continue;
		}
		c->next = S.conns;
		if (S.conns)
			S.conns->prev = c;
		S.conns = c;
		S.c.accepted++;
		S.c.open++;
		cgp_debug("collector: %s connected", c->peer);
	}
}

static void usage(FILE *f)
{
	fprintf(f, "usage: cgpulse-collector --listen ADDR:PORT [--out FILE.jsonl|FILE.pb|-] [--port-file FILE]\n"
		   "                         [--max-frame BYTES] [-v]\n"
		   "Stores events from cgpulse agents once each: JSON lines (default: stdout) or, for a .pb file,\n"
		   "delimited protobuf cgpulse.v1.Event. Counters on SIGUSR1 and at exit (SIGINT, SIGTERM).\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"out", required_argument, NULL, 'o'},
	    {"port-file", required_argument, NULL, 'p'},
	    {"max-frame", required_argument, NULL, 'm'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *listen_addr = NULL, *out = NULL, *port_file = NULL;
	struct cgp_event_log_replay replay;
	char why[256];
	sigset_t sigs;
	int o, err;

	S.max_frame = CGP_FRAME_MAX_DEFAULT;
	S.max_inflate = CGP_INFLATE_MAX_DEFAULT;
	while ((o = getopt_long(argc, argv, "l:o:p:m:vh", opts, NULL)) != -1) {
		switch (o) {
		case 'l':
			listen_addr = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'm':
			S.max_frame = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			cgp_verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!listen_addr || optind != argc || !S.max_frame) {
		usage(stderr);
		return 2;
	}
	S.dedup = cgp_dedup_new();
	if (!S.dedup)
		return 1;
	err = cgp_event_log_open(&S.log, out, S.dedup, &replay, why, sizeof(why));
	if (err) {
		cgp_err("collector: %s", why);
		return 1;
	}
	if (replay.records || replay.trimmed)
		cgp_info("collector: %s holds %llu events of %zu instances (%llu bytes of a cut-short record trimmed)",
			 out, (unsigned long long)replay.records, cgp_dedup_instances(S.dedup),
			 (unsigned long long)replay.trimmed);
	S.lfd = cgp_tcp_listen(listen_addr, 1024, why, sizeof(why));
	if (S.lfd < 0) {
		cgp_err("collector: %s", why);
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	S.sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	S.epfd = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &S.lfd}, sev = {.events = EPOLLIN, .data.ptr = &S.sfd};

	if (S.sfd < 0 || S.epfd < 0 || epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.lfd, &lev) ||
	    epoll_ctl(S.epfd, EPOLL_CTL_ADD, S.sfd, &sev)) {
		cgp_err("collector: %s", strerror(errno));
		return 1;
	}
	cgp_info("collector: listening on %s (port %d), storing to %s", listen_addr, cgp_tcp_local_port(S.lfd),
		 out ? out : "stdout");
	if (port_file) {
		FILE *f = fopen(port_file, "w");

		if (!f || fprintf(f, "%d\n", cgp_tcp_local_port(S.lfd)) < 0 || fclose(f)) {
			cgp_err("collector: cannot write %s", port_file);
			return 1;
		}
	}
	for (bool running = true; running;) {
		struct epoll_event evs[64];
		int n = epoll_wait(S.epfd, evs, 64, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cgp_err("collector: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &S.lfd) {
				accept_all();
			} else if (evs[i].data.ptr == &S.sfd) {
				struct signalfd_siginfo si;

				while (read(S.sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						print_counters();
					else
						running = false;
				}
			} else {
				struct conn *c = evs[i].data.ptr;

				/* EPOLLOUT first: conn_readable may free c */
				if ((evs[i].events & EPOLLOUT) && !conn_flush(c))
					continue;
				if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					conn_readable(c);
			}
		}
	}
	cgp_event_log_close(S.log);
	print_counters();
	while (S.conns)
		conn_close(S.conns, NULL);
	cgp_dedup_free(S.dedup);
	cgp_buf_free(&S.scratch);
	close(S.lfd);
	close(S.sfd);
	close(S.epfd);
	return 0;
}
