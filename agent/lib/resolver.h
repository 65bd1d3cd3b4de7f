/* SPDX-License-Identifier: GPL-2.0 */
/* Name resolution that never blocks the caller's loop: HOST:PORT is looked up by glibc's getaddrinfo_a in its
 * own threads while the loop polls for the answer, and gives up after a timeout. A numeric host is answered at
 * once. A lookup given up on (a DNS server that never answers) may run on inside glibc until its own timeouts end;
 * its memory stays in a static slot until then, and a new lookup takes the other slot, so at most two run. */
#ifndef CGP_RESOLVER_H
#define CGP_RESOLVER_H

#include <netdb.h>
#include <stddef.h>

struct cgp_resolver;

/* One lookup at a time per resolver; NULL when out of memory. */
struct cgp_resolver *cgp_resolver_new(void);
void cgp_resolver_free(struct cgp_resolver *rs);

/* Starts resolving addr ("host:port", "[v6]:port") for a TCP connect. 0, or -EINVAL (not HOST:PORT), -EBUSY (two
 * lookups already run in glibc), -EAGAIN/-ENOMEM, with why. */
int cgp_resolver_start(struct cgp_resolver *rs, const char *addr, char *why, size_t whylen);
/* 1: done, with the addresses in *res (freeaddrinfo them); 0: still running; < 0: failed, with why. */
int cgp_resolver_poll(struct cgp_resolver *rs, struct addrinfo **res, char *why, size_t whylen);
/* Gives up on the running lookup (a timeout): its answer, if it ever comes, is dropped. */
void cgp_resolver_cancel(struct cgp_resolver *rs);

/* Starts a non-blocking TCP connect to the first of res that takes one: the fd, or -errno with why. */
int cgp_tcp_connect_addrinfo(const struct addrinfo *res, const char *addr, char *why, size_t whylen);

#endif
