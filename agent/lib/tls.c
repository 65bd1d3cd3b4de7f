// SPDX-License-Identifier: GPL-2.0
/* GnuTLS sessions on our own non-blocking sockets: gnutls reads and writes the fd itself; EAGAIN comes back as
 * GNUTLS_E_AGAIN and gnutls_record_get_direction says which way. */
#include "lib/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct cgp_tls_cred {
	gnutls_certificate_credentials_t x509;
};

struct cgp_tls {
	gnutls_session_t s;
	size_t again; /* bytes of a send that said EAGAIN: gnutls holds them, the next send finishes it */
	bool want_write;
	char name[256];
};

static struct cgp_tls_cred *cred_new(char *why, size_t whylen)
{
	struct cgp_tls_cred *c = calloc(1, sizeof(*c));

	if (!c || gnutls_certificate_allocate_credentials(&c->x509) < 0) {
		snprintf(why, whylen, "out of memory");
		free(c);
		return NULL;
	}
	return c;
}

struct cgp_tls_cred *cgp_tls_server_cred(const char *cert_file, const char *key_file, char *why, size_t whylen)
{
	struct cgp_tls_cred *c = cred_new(why, whylen);
	int r;

	if (!c)
		return NULL;
	r = gnutls_certificate_set_x509_key_file(c->x509, cert_file, key_file, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		snprintf(why, whylen, "%s, %s: %s", cert_file, key_file, gnutls_strerror(r));
		cgp_tls_cred_free(c);
		return NULL;
	}
	return c;
}

struct cgp_tls_cred *cgp_tls_client_cred(const char *ca_file, char *why, size_t whylen)
{
	struct cgp_tls_cred *c = cred_new(why, whylen);
	int r;

	if (!c)
		return NULL;
	r = ca_file ? gnutls_certificate_set_x509_trust_file(c->x509, ca_file, GNUTLS_X509_FMT_PEM)
		    : gnutls_certificate_set_x509_system_trust(c->x509);
	if (r <= 0) {
		snprintf(why, whylen, "%s: %s", ca_file ? ca_file : "the system's CA certificates",
			 r < 0 ? gnutls_strerror(r) : "no certificate in it");
		cgp_tls_cred_free(c);
		return NULL;
	}
	return c;
}

void cgp_tls_cred_free(struct cgp_tls_cred *c)
{
	if (!c)
		return;
	gnutls_certificate_free_credentials(c->x509);
	free(c);
}

static struct cgp_tls *session(struct cgp_tls_cred *c, int fd, unsigned flags, char *why, size_t whylen)
{
	struct cgp_tls *t = calloc(1, sizeof(*t));
	int r;

	if (!t) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	r = gnutls_init(&t->s, flags | GNUTLS_NONBLOCK);
	if (r >= 0)
		r = gnutls_set_default_priority(t->s);
	if (r >= 0)
		r = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, c->x509);
	if (r < 0) {
		snprintf(why, whylen, "TLS session: %s", gnutls_strerror(r));
		cgp_tls_free(t);
		return NULL;
	}
	gnutls_transport_set_int(t->s, fd);
	gnutls_handshake_set_timeout(t->s, 0); /* the caller's deadlines bound it */
	return t;
}

struct cgp_tls *cgp_tls_server(struct cgp_tls_cred *c, int fd, char *why, size_t whylen)
{
	return session(c, fd, GNUTLS_SERVER, why, whylen);
}

struct cgp_tls *cgp_tls_client(struct cgp_tls_cred *c, int fd, const char *server_name, char *why, size_t whylen)
{
	struct cgp_tls *t = session(c, fd, GNUTLS_CLIENT, why, whylen);
	unsigned char ip[16];
	bool is_ip;

	if (!t)
		return NULL;
	snprintf(t->name, sizeof(t->name), "%s", server_name);
	is_ip = inet_pton(AF_INET, server_name, ip) == 1 || inet_pton(AF_INET6, server_name, ip) == 1;
	/* SNI carries names only (RFC 6066); the certificate is checked against the name or the address */
	if (!is_ip)
		gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, server_name, strlen(server_name));
	gnutls_session_set_verify_cert(t->s, server_name, 0);
	return t;
}

void cgp_tls_free(struct cgp_tls *t)
{
	if (!t)
		return;
	if (t->s)
		gnutls_deinit(t->s);
	free(t);
}

int cgp_tls_handshake(struct cgp_tls *t, char *why, size_t whylen)
{
	int r = gnutls_handshake(t->s);

	t->want_write = false;
	if (r == GNUTLS_E_SUCCESS)
		return 0;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		t->want_write = gnutls_record_get_direction(t->s) == 1;
		return -EAGAIN;
	}
	if (r == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR) {
		gnutls_datum_t out;
		unsigned status = gnutls_session_get_verify_cert_status(t->s);

		if (!gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0)) {
			snprintf(why, whylen, "TLS: the certificate of %s does not verify: %s", t->name, out.data);
			gnutls_free(out.data);
			return -EPROTO;
		}
	}
	snprintf(why, whylen, "TLS handshake: %s", gnutls_strerror(r));
	return -EPROTO;
}

static ssize_t result(struct cgp_tls *t, ssize_t r)
{
	t->want_write = false; /* else epoll would keep reporting a writable socket nobody writes to */
	if (r >= 0)
		return r;
	if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED) {
		t->want_write = gnutls_record_get_direction(t->s) == 1;
		return -EAGAIN;
	}
	if (r == GNUTLS_E_PREMATURE_TERMINATION)
		return -ECONNRESET;
	return -EPROTO;
}

ssize_t cgp_tls_recv(struct cgp_tls *t, void *buf, size_t n)
{
	return result(t, gnutls_record_recv(t->s, buf, n));
}

ssize_t cgp_tls_send(struct cgp_tls *t, const void *buf, size_t n)
{
	ssize_t r;

	if (t->again) {
		/* gnutls holds the record of the send that said EAGAIN: finish that one */
		r = result(t, gnutls_record_send(t->s, NULL, 0));
		if (r >= 0) {
			r = r > 0 ? r : (ssize_t)t->again; /* the bytes of that send */
			t->again = 0;
		}
		return r;
	}
	r = result(t, gnutls_record_send(t->s, buf, n));
	if (r == -EAGAIN)
		t->again = n < gnutls_record_get_max_size(t->s) ? n : gnutls_record_get_max_size(t->s);
	return r;
}

ssize_t cgp_sock_recv(struct cgp_tls *t, int fd, void *buf, size_t n)
{
	ssize_t r;

	if (t)
		return cgp_tls_recv(t, buf, n);
	r = recv(fd, buf, n, 0);
	return r < 0 ? -errno : r;
}

ssize_t cgp_sock_send(struct cgp_tls *t, int fd, const void *buf, size_t n)
{
	ssize_t r;

	if (t)
		return cgp_tls_send(t, buf, n);
	r = send(fd, buf, n, MSG_NOSIGNAL);
	return r < 0 ? -errno : r;
}

bool cgp_tls_wants_write(const struct cgp_tls *t)
{
	return t->want_write;
}
