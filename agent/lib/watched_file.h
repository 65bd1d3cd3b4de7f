/* SPDX-License-Identifier: GPL-2.0 */
/* A small file read whole, and noticed when it changes: what a mounted Kubernetes Secret or ConfigMap needs
 * (the kubelet swaps a symlink, so the path names a new inode), or a file edited in place (a new mtime/size). */
#ifndef CGP_WATCHED_FILE_H
#define CGP_WATCHED_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Who the file at a path is now: all zero when it cannot be stat'ed. */
struct cgp_file_sig {
	uint64_t dev, ino, size;
	int64_t mtime_ns;
};

void cgp_file_sig_of(const char *path, struct cgp_file_sig *sig);
bool cgp_file_sig_equal(const struct cgp_file_sig *a, const struct cgp_file_sig *b);

/* Reads a regular file of at most max bytes into a malloc'd, NUL-terminated *buf (*len bytes before the NUL) and
 * says who it was (sig, from the open file). 0 or -errno (-EFBIG when larger than max); the reason in why. */
int cgp_file_read(const char *path, size_t max, char **buf, size_t *len, struct cgp_file_sig *sig, char *why,
		  size_t whylen);

#endif
