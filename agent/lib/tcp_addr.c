// SPDX-License-Identifier: GPL-2.0
/* TCP addresses and sockets for the collector protocol. */
#include "lib/tcp_addr.h"

#include <errno.h>
#include <stdbool.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int cgp_tcp_addr_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = addr;
	size_t hl;

	if (addr[0] == '[') {
		const char *close = strchr(addr, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		h = addr + 1;
		hl = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -EINVAL;
		hl = (size_t)(colon - addr);
	}
	if (hl >= hostlen || strlen(colon + 1) >= portlen || !colon[1])
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int resolve(const char *addr, bool passive, struct addrinfo **res, char *why, size_t whylen)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	char host[256], port[32];
	int r;

	if (cgp_tcp_addr_split(addr, host, sizeof(host), port, sizeof(port))) {
		snprintf(why, whylen, "'%s' is not HOST:PORT", addr);
		return -EINVAL;
	}
	if (passive)
		hints.ai_flags = AI_PASSIVE;
	r = getaddrinfo(host[0] ? host : NULL, port, &hints, res);
	if (r) {
		snprintf(why, whylen, "cannot resolve '%s': %s", addr, gai_strerror(r));
		return -EHOSTUNREACH;
	}
	return 0;
}

int cgp_tcp_listen(const char *addr, int backlog, char *why, size_t whylen)
{
	struct addrinfo *res;
	int fd, err, one = 1;

	err = resolve(addr, true, &res, why, whylen);
	if (err)
		return err;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* a restarted collector must not wait out TIME_WAIT of its old connections */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) || listen(fd, backlog))
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	err = -errno;
	snprintf(why, whylen, "cannot listen on %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return err;
}

int cgp_tcp_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

int cgp_tcp_connect_start(const char *addr, char *why, size_t whylen)
{
	struct addrinfo *res;
	int fd, err, one = 1;

	err = resolve(addr, false, &res, why, whylen);
	if (err)
		return err;
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* batches are written whole; an OOM event must not wait for Nagle */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, res->ai_addr, res->ai_addrlen) && errno != EINPROGRESS)
		goto fail;
	freeaddrinfo(res);
	return fd;
fail:
	err = -errno;
	snprintf(why, whylen, "cannot connect to %s: %s", addr, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(res);
	return err;
}
