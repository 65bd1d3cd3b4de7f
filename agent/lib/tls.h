/* SPDX-License-Identifier: GPL-2.0 */
/* TLS over a non-blocking socket (GnuTLS, which libmicrohttpd already brings): the collector protocol's transport
 * when the collector has a certificate. Calls never block; they say -EAGAIN and which way the socket must be
 * ready (cgp_tls_wants_write), as recv and send would. */
#ifndef CGP_TLS_H
#define CGP_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct cgp_tls_cred;
struct cgp_tls;

/* A server's certificate (chain) and key, PEM. NULL with why. */
struct cgp_tls_cred *cgp_tls_server_cred(const char *cert_file, const char *key_file, char *why, size_t whylen);
/* What a client trusts: the CA certificates in ca_file (PEM), or the system's when NULL. NULL with why. */
struct cgp_tls_cred *cgp_tls_client_cred(const char *ca_file, char *why, size_t whylen);
void cgp_tls_cred_free(struct cgp_tls_cred *c);

/* A session on fd (the caller keeps and closes fd). A client sends server_name (SNI) and verifies the server's
 * certificate against it (an IP address is matched against the certificate's IP addresses). NULL with why. */
struct cgp_tls *cgp_tls_server(struct cgp_tls_cred *c, int fd, char *why, size_t whylen);
struct cgp_tls *cgp_tls_client(struct cgp_tls_cred *c, int fd, const char *server_name, char *why, size_t whylen);
void cgp_tls_free(struct cgp_tls *t);

/* 0 once the handshake is done, -EAGAIN while it needs the socket again, -EPROTO with why (not TLS, a certificate
 * that does not verify, ...). */
int cgp_tls_handshake(struct cgp_tls *t, char *why, size_t whylen);
/* As recv/send: bytes, 0 at the end of the stream (recv), -EAGAIN, or -EPROTO/-ECONNRESET. A send that said
 * -EAGAIN must be called again with the same bytes at the head of what is sent. */
ssize_t cgp_tls_recv(struct cgp_tls *t, void *buf, size_t n);
ssize_t cgp_tls_send(struct cgp_tls *t, const void *buf, size_t n);
/* recv/send on fd, through t when it is not NULL: bytes, 0 (end of stream), or -errno (no SIGPIPE). */
ssize_t cgp_sock_recv(struct cgp_tls *t, int fd, void *buf, size_t n);
ssize_t cgp_sock_send(struct cgp_tls *t, int fd, const void *buf, size_t n);
/* The last -EAGAIN was for want of room to write (else: of bytes to read). */
bool cgp_tls_wants_write(const struct cgp_tls *t);

#endif
