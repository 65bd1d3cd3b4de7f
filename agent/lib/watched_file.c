// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lib/watched_file.h"

static void sig_from(const struct stat *st, struct cgp_file_sig *sig)
{
	sig->dev = st->st_dev;
	sig->ino = st->st_ino;
	sig->size = (uint64_t)st->st_size;
	sig->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

void cgp_file_sig_of(const char *path, struct cgp_file_sig *sig)
{
	struct stat st;

	memset(sig, 0, sizeof(*sig));
	if (!stat(path, &st))
		sig_from(&st, sig);
}

bool cgp_file_sig_equal(const struct cgp_file_sig *a, const struct cgp_file_sig *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

int cgp_file_read(const char *path, size_t max, char **buf, size_t *len, struct cgp_file_sig *sig, char *why,
		  size_t whylen)
{
	struct stat st;
	size_t got = 0;
	char *b = NULL;
	int fd, err = 0;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err = -EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		err = -EFBIG;
		goto out;
	}
	sig_from(&st, sig);
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			goto out;
		}
		if (!n)
			break; /* shrank meanwhile: what is there */
		got += (size_t)n;
	}
	b[got] = 0;
	*buf = b;
	*len = got;
	b = NULL;
out:
	if (err)
		snprintf(why, whylen, "%s: %s", path,
			 err == -EFBIG	  ? "larger than expected"
			 : err == -EINVAL ? "not a regular file"
					  : strerror(-err));
	free(b);
	if (fd >= 0)
		close(fd);
	return err;
}
