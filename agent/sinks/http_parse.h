/* SPDX-License-Identifier: GPL-2.0 */
/* What the HTTP server reads from a client, as pure functions (no I/O, no allocation), so each can be tested
 * and fuzzed alone (tests/fuzz/fuzz_http_parse.c): the since= query value, Accept-Encoding, the Authorization
 * header's bearer token, the token check itself, and the key that groups a client's connections. */
#ifndef CGP_HTTP_PARSE_H
#define CGP_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* since=SEQ: a decimal uint64 and nothing else (no sign, no space, no overflow). 0 or -EINVAL. */
int cgp_http_parse_since(const char *s, uint64_t *out);

/* Accept-Encoding names gzip (or x-gzip) with a q-value above 0. NULL: false. */
bool cgp_http_accepts_gzip(const char *accept_encoding);

/* "Bearer TOKEN" (scheme case-insensitive, RFC 6750's token68 characters): true with the token's span in
 * s[*off, *off + *len); false for another scheme, an empty or malformed token, or NULL. */
bool cgp_http_bearer(const char *authorization, size_t *off, size_t *len);

/* a[0..alen) == b[0..blen), in time that depends on blen (the secret's length) only, never on where the two
 * differ: a client cannot learn the token a byte at a time. */
bool cgp_http_token_equal(const void *a, size_t alen, const void *b, size_t blen);

/* A token file's content: surrounding white space (a trailing newline) trimmed, then 1 to 4096 visible ASCII
 * characters. The token's span in buf[*off, *off + *len); -EINVAL when there is none or it holds anything else. */
int cgp_http_token_from_file(const char *buf, size_t n, size_t *off, size_t *len);

/* Connections of one client are counted together: an IPv4 address (IPv4-mapped IPv6 too), or an IPv6 /64 (what
 * one host is usually given). Never 0. */
uint64_t cgp_http_client_key(const struct sockaddr *sa, socklen_t len);

#endif
