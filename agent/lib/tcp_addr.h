/* SPDX-License-Identifier: GPL-2.0 */
/* HOST:PORT (or [IPv6]:PORT) to a TCP socket: a non-blocking listener or a non-blocking connect. */
#ifndef CGP_TCP_ADDR_H
#define CGP_TCP_ADDR_H

#include <stddef.h>

/* Splits "host:port" / "[v6]:port". 0 or -EINVAL. */
int cgp_tcp_addr_split(const char *addr, char *host, size_t hostlen, char *port, size_t portlen);
/* A non-blocking, close-on-exec listening socket bound to addr (port 0: any free port). Returns the fd or a
 * negative errno, with the reason in why. */
int cgp_tcp_listen(const char *addr, int backlog, char *why, size_t whylen);
/* The port a socket is bound to, or -1. */
int cgp_tcp_local_port(int fd);
/* Starts a non-blocking connect: returns the fd (connected, or in progress: wait for EPOLLOUT and then read
 * SO_ERROR) or a negative errno with the reason in why. Resolving a name blocks; numeric addresses do not. */
int cgp_tcp_connect_start(const char *addr, char *why, size_t whylen);

#endif
