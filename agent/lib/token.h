/* SPDX-License-Identifier: GPL-2.0 */
/* Shared secrets in files (a mounted Kubernetes Secret): read, trimmed, checked, and compared in constant time. */
#ifndef CGP_TOKEN_H
#define CGP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#define CGP_TOKEN_MAX 4096

/* a[0..alen) == b[0..blen), in time that depends on blen (the secret's length) only, never on where the two
 * differ: a peer cannot learn the token a byte at a time. */
bool cgp_token_equal(const void *a, size_t alen, const void *b, size_t blen);

/* A token file's content: surrounding white space (a trailing newline) trimmed, then 1 to CGP_TOKEN_MAX visible
 * ASCII characters. The token's span in buf[*off, *off + *len); -EINVAL when there is none or it holds anything
 * else. */
int cgp_token_span(const char *buf, size_t n, size_t *off, size_t *len);

/* Reads the token in path into out (CGP_TOKEN_MAX + 1 bytes, NUL-terminated). 0 or -errno, the reason in why. */
int cgp_token_load(const char *path, char *out, char *why, size_t whylen);

#endif
