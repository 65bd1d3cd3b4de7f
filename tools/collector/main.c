// SPDX-License-Identifier: GPL-2.0
/* Reference collector: one epoll loop over many agents (conn.c). Stores each (instance, seq) once as a JSON line
 * or a delimited protobuf Event, and acknowledges what is on disk (store.c: one fdatasync per loop turn for every
 * agent). A connection that sends something malformed is closed with a logged reason; the others carry on.
 * Counters on SIGUSR1 and at exit. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "collector/conn.h"
#include "collector/store.h"
#include "events/frame.h"
#include "lib/log.h"
#include "lib/tcp_addr.h"
#include "lib/token.h"

static struct {
	int sfd;
	struct cgp_conns cs;
} S;

static void print_counters(void)
{
	struct cgp_store_stats st;

	cgp_store_get_stats(S.cs.store, &st);
	fprintf(stderr,
		"cgpulse-collector: connections=%llu open=%llu closed_bad=%llu frames=%llu batches=%llu "
		"events_stored=%llu duplicates=%llu bytes_in=%llu instances=%zu groups=%llu syncs=%llu "
		"failed_groups=%llu failed_events=%llu closed_unstored=%llu refused_instance=%llu refused_node=%llu "
		"refused_floor=%llu refused_cap=%llu closed_idle=%llu closed_frame_timeout=%llu closed_memory=%llu "
		"accept_errors=%llu refused_no_token=%llu refused_bad_token=%llu refused_tls=%llu\n",
		(unsigned long long)S.cs.c.accepted, (unsigned long long)S.cs.c.open,
		(unsigned long long)S.cs.c.closed_bad, (unsigned long long)S.cs.c.frames,
		(unsigned long long)st.batches, (unsigned long long)st.events_stored, (unsigned long long)st.duplicates,
		(unsigned long long)S.cs.c.bytes_in, st.instances, (unsigned long long)st.groups,
		(unsigned long long)st.syncs, (unsigned long long)st.failed_groups,
		(unsigned long long)st.failed_events, (unsigned long long)S.cs.c.closed_unstored,
		(unsigned long long)S.cs.c.refused_instance, (unsigned long long)S.cs.c.refused_node,
		(unsigned long long)st.refused_floor, (unsigned long long)S.cs.c.refused_cap,
		(unsigned long long)S.cs.c.closed_idle, (unsigned long long)S.cs.c.closed_frame_timeout,
		(unsigned long long)S.cs.c.closed_memory, (unsigned long long)S.cs.c.accept_errors,
		(unsigned long long)S.cs.c.refused_no_token, (unsigned long long)S.cs.c.refused_bad_token,
		(unsigned long long)S.cs.c.refused_tls);
}

/* A rotated Secret: new connections want the new token; a file that cannot be read keeps the old one. */
static void reload_token(const char *path)
{
	char tok[sizeof(S.cs.token)], why[256];

	if (!path)
		return;
	if (cgp_token_load(path, tok, why, sizeof(why))) {
		cgp_err("collector: --token-file %s; keeping the token read before", why);
		return;
	}
	memcpy(S.cs.token, tok, sizeof(tok));
	cgp_info("collector: token read again from %s", path);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: cgpulse-collector --listen ADDR:PORT [--out FILE.jsonl|FILE.pb|-] [--port-file FILE]\n"
		"                         [--max-frame BYTES] [--max-connections N] [--idle-timeout S]\n"
		"                         [--frame-timeout S] [--max-buffered BYTES] [-v]\n"
		"Stores events from cgpulse agents once each: JSON lines (default: stdout) or, for a .pb file,\n"
		"delimited protobuf cgpulse.v1.Event. Counters on SIGUSR1 and at exit (SIGINT, SIGTERM).\n"
		"Limits: --max-connections open at once (default 1024, or what the fd limit leaves); a connection\n"
		"nothing is read from for --idle-timeout S (300) is closed, and one whose frame is not whole\n"
		"--frame-timeout S (30) after its first byte (the first frame: after connecting); partial frames\n"
		"of every connection together hold at most --max-buffered BYTES (128 MiB): past it the largest goes.\n"
		"--token-file FILE: agents must send the token in FILE (cgpulse run --collector-token-file) before\n"
		"anything else; SIGHUP reads it again.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"out", required_argument, NULL, 'o'},
	    {"port-file", required_argument, NULL, 'p'},
	    {"max-frame", required_argument, NULL, 'm'},
	    {"token-file", required_argument, NULL, 1005},
	    {"tls-cert", required_argument, NULL, 1006},
	    {"tls-key", required_argument, NULL, 1007},
	    {"max-connections", required_argument, NULL, 1001},
	    {"idle-timeout", required_argument, NULL, 1002},
	    {"frame-timeout", required_argument, NULL, 1003},
	    {"max-buffered", required_argument, NULL, 1004},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *listen_addr = NULL, *out = NULL, *port_file = NULL, *token_file = NULL;
	const char *tls_cert = NULL, *tls_key = NULL;
	struct cgp_store_stats st;
	char why[256];
	sigset_t sigs;
	int o, err;

	S.cs.max_frame = CGP_FRAME_MAX_DEFAULT;
	S.cs.max_inflate = CGP_INFLATE_MAX_DEFAULT;
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
			S.cs.max_frame = strtoul(optarg, NULL, 0);
			break;
		case 1005:
			token_file = optarg;
			break;
		case 1006:
			tls_cert = optarg;
			break;
		case 1007:
			tls_key = optarg;
			break;
		case 1001:
			S.cs.lim.max_conns = strtoul(optarg, NULL, 0);
			break;
		case 1002:
			S.cs.lim.idle_s = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 1003:
			S.cs.lim.frame_s = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case 1004:
			S.cs.lim.max_buffered = strtoul(optarg, NULL, 0);
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
	if (!listen_addr || optind != argc || !S.cs.max_frame) {
		usage(stderr);
		return 2;
	}
	if (token_file && cgp_token_load(token_file, S.cs.token, why, sizeof(why))) {
		cgp_err("collector: --token-file %s", why);
		return 1;
	}
	if (!tls_cert != !tls_key) {
		cgp_err("collector: TLS wants both a certificate and a key (--tls-cert, --tls-key)");
		return 2;
	}
	if (tls_cert && !(S.cs.tls = cgp_tls_server_cred(tls_cert, tls_key, why, sizeof(why)))) {
		cgp_err("collector: --tls-cert/--tls-key %s", why);
		return 1;
	}
	if (!tls_cert && token_file)
		cgp_info("collector: the token crosses the network in clear; --tls-cert/--tls-key");
	err = cgp_store_open(&S.cs.store, out, why, sizeof(why));
	if (err) {
		cgp_err("collector: %s", why);
		return 1;
	}
	cgp_store_get_stats(S.cs.store, &st);
	if (st.replayed || st.trimmed)
		cgp_info("collector: %s holds %llu events of %zu instances (%llu bytes of a cut-short record trimmed)",
			 out, (unsigned long long)st.replayed, st.instances, (unsigned long long)st.trimmed);
	S.cs.lfd = cgp_tcp_listen(listen_addr, 1024, why, sizeof(why));
	if (S.cs.lfd < 0) {
		cgp_err("collector: %s", why);
		return 1;
	}
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	S.sfd = signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC);
	S.cs.epfd = epoll_create1(EPOLL_CLOEXEC);
	cgp_conns_setup(&S.cs, S.cs.epfd, S.cs.lfd);
	struct epoll_event lev = {.events = EPOLLIN, .data.ptr = &S.cs.lfd},
			   sev = {.events = EPOLLIN, .data.ptr = &S.sfd};

	if (S.sfd < 0 || S.cs.epfd < 0 || epoll_ctl(S.cs.epfd, EPOLL_CTL_ADD, S.cs.lfd, &lev) ||
	    epoll_ctl(S.cs.epfd, EPOLL_CTL_ADD, S.sfd, &sev)) {
		cgp_err("collector: %s", strerror(errno));
		return 1;
	}
	cgp_info("collector: listening on %s (port %d%s%s), storing to %s%s", listen_addr, cgp_tcp_local_port(S.cs.lfd),
		 S.cs.tls ? ", TLS" : "", S.cs.token[0] ? ", token" : "", out ? out : "stdout",
		 st.durable ? "; acknowledged once on disk (fdatasync)" : "; acknowledged once written (not a file)");
	if (port_file) {
		FILE *f = fopen(port_file, "w");

		if (!f || fprintf(f, "%d\n", cgp_tcp_local_port(S.cs.lfd)) < 0 || fclose(f)) {
			cgp_err("collector: cannot write %s", port_file);
			return 1;
		}
	}
	for (bool running = true; running;) {
		struct epoll_event evs[64];
		int n = epoll_wait(S.cs.epfd, evs, 64, cgp_conns_timers(&S.cs));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			cgp_err("collector: epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == &S.cs.lfd) {
				cgp_conns_accept(&S.cs);
			} else if (evs[i].data.ptr == &S.sfd) {
				struct signalfd_siginfo si;

				while (read(S.sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						print_counters();
					else if (si.ssi_signo == SIGHUP)
						reload_token(token_file);
					else
						running = false;
				}
			} else {
				cgp_conns_event(&S.cs, evs[i].data.ptr, evs[i].events);
			}
		}
		/* one group per turn, for every agent: durable first, then acknowledged */
		cgp_conns_turn_end(&S.cs);
	}
	print_counters();
	cgp_conns_close_all(&S.cs);
	cgp_store_close(S.cs.store);
	cgp_tls_cred_free(S.cs.tls);
	close(S.cs.lfd);
	close(S.sfd);
	close(S.cs.epfd);
	return 0;
}
