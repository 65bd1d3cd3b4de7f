// SPDX-License-Identifier: GPL-2.0
/* getaddrinfo_a with SIGEV_NONE: no signal, no callback thread of ours; the loop polls gai_error. */
#include "lib/resolver.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/tcp_addr.h"

#define SLOTS 2

/* A lookup's memory must outlive anyone who gave up on it: glibc writes into it until it ends. Static slots are
 * reachable to the end, so a lookup still stuck at exit is no leak either. */
struct slot {
	bool used;	 /* glibc may still write into it */
	bool abandoned;	 /* nobody wants the answer */
	struct gaicb cb; /* ar_name, ar_service point into host and port */
	struct addrinfo hints;
	char host[256], port[32];
};

static struct slot slots[SLOTS];

struct cgp_resolver {
	struct slot *cur;	/* the lookup this resolver waits for */
	struct addrinfo *ready; /* a numeric host's answer, given at once */
};

/* Frees what abandoned lookups that finished since left behind. */
static void reap(void)
{
	for (int i = 0; i < SLOTS; i++) {
		struct slot *s = &slots[i];

		if (s->used && s->abandoned && gai_error(&s->cb) != EAI_INPROGRESS) {
			if (s->cb.ar_result)
				freeaddrinfo(s->cb.ar_result);
			memset(s, 0, sizeof(*s));
		}
	}
}

struct cgp_resolver *cgp_resolver_new(void)
{
	return calloc(1, sizeof(struct cgp_resolver));
}

void cgp_resolver_free(struct cgp_resolver *rs)
{
	if (!rs)
		return;
	cgp_resolver_cancel(rs);
	reap();
	if (rs->ready)
		freeaddrinfo(rs->ready);
	free(rs);
}

int cgp_resolver_start(struct cgp_resolver *rs, const char *addr, char *why, size_t whylen)
{
	struct gaicb *list[1];
	struct slot *s = NULL;
	int r;

	cgp_resolver_cancel(rs);
	reap();
	for (int i = 0; i < SLOTS && !s; i++)
		if (!slots[i].used)
			s = &slots[i];
	if (!s) {
		snprintf(why, whylen, "cannot resolve '%s': earlier lookups are still running", addr);
		return -EBUSY;
	}
	if (cgp_tcp_addr_split(addr, s->host, sizeof(s->host), s->port, sizeof(s->port))) {
		snprintf(why, whylen, "'%s' is not HOST:PORT", addr);
		return -EINVAL;
	}
	s->hints = (struct addrinfo){.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST};
	if (s->host[0] && !getaddrinfo(s->host, s->port, &s->hints, &rs->ready)) {
		memset(s, 0, sizeof(*s)); /* an address, not a name: nothing to wait for */
		return 0;
	}
	s->hints = (struct addrinfo){.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	s->cb = (struct gaicb){.ar_name = s->host[0] ? s->host : NULL, .ar_service = s->port, .ar_request = &s->hints};
	list[0] = &s->cb;
	r = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (r) {
		snprintf(why, whylen, "cannot resolve '%s': %s", addr, gai_strerror(r));
		return r == EAI_MEMORY ? -ENOMEM : -EAGAIN;
	}
	s->used = true;
	rs->cur = s;
	return 0;
}

int cgp_resolver_poll(struct cgp_resolver *rs, struct addrinfo **res, char *why, size_t whylen)
{
	struct slot *s = rs->cur;
	int r;

	*res = NULL;
	if (rs->ready) {
		*res = rs->ready;
		rs->ready = NULL;
		return 1;
	}
	if (!s) {
		snprintf(why, whylen, "no lookup running");
		return -EINVAL;
	}
	r = gai_error(&s->cb);
	if (r == EAI_INPROGRESS)
		return 0;
	rs->cur = NULL;
	if (r) {
		snprintf(why, whylen, "cannot resolve '%s': %s", s->host, gai_strerror(r));
		if (s->cb.ar_result)
			freeaddrinfo(s->cb.ar_result);
		memset(s, 0, sizeof(*s));
		return -EHOSTUNREACH;
	}
	*res = s->cb.ar_result;
	memset(s, 0, sizeof(*s));
	return 1;
}

void cgp_resolver_cancel(struct cgp_resolver *rs)
{
	struct slot *s = rs->cur;

	if (rs->ready) {
		freeaddrinfo(rs->ready);
		rs->ready = NULL;
	}
	if (!s)
		return;
	rs->cur = NULL;
	/* a lookup glibc has not started is taken back; a running one is left to end by itself */
	gai_cancel(&s->cb);
	s->abandoned = true;
	reap();
}

int cgp_tcp_connect_addrinfo(const struct addrinfo *res, const char *addr, char *why, size_t whylen)
{
	int err = -EHOSTUNREACH, one = 1;

	snprintf(why, whylen, "cannot connect to %s: no address", addr);
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

		if (fd >= 0) {
			/* batches are written whole; an OOM event must not wait for Nagle */
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (!connect(fd, ai->ai_addr, ai->ai_addrlen) || errno == EINPROGRESS)
				return fd;
		}
		err = -errno;
		snprintf(why, whylen, "cannot connect to %s: %s", addr, strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	return err;
}
