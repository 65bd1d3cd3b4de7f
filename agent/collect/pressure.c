// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "collect/pressure.h"

static int total_of(const char *line, uint64_t *ns)
{
	const char *t = strstr(line, " total=");
	char *end;
	unsigned long long us;

	if (!t)
		return -EINVAL;
	errno = 0;
	us = strtoull(t + 7, &end, 10);
	if (end == t + 7 || errno)
		return -EINVAL;
	*ns = (uint64_t)us * 1000;
	return 0;
}

int cgp_pressure_parse(const char *text, uint64_t *some_ns, uint64_t *full_ns)
{
	const char *some = strstr(text, "some "), *full = strstr(text, "full ");

	*full_ns = 0;
	if (!some || (some != text && some[-1] != '\n') || total_of(some, some_ns))
		return -EINVAL;
	if (full && (full == text || full[-1] == '\n'))
		return total_of(full, full_ns);
	return 0;
}

/* The three files stay open and are read again from offset 0 each sweep: one pread a file, not open+read+close
 * (the kernel renders the file anew at offset 0). Opened on first use; a failed open is tried again next time. */
static int psi_fd[3] = {-1, -1, -1};

static int read_one(int i, const char *path, uint64_t *some, uint64_t *full)
{
	char buf[512];
	ssize_t n;

	if (psi_fd[i] < 0 && (psi_fd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = pread(psi_fd[i], buf, sizeof(buf) - 1, 0);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return cgp_pressure_parse(buf, some, full);
}

int cgp_pressure_read_system(uint64_t out[CGP_PSI_MAX])
{
	int err = read_one(0, "/proc/pressure/cpu", &out[CGP_PSI_CPU_SOME], &out[CGP_PSI_CPU_FULL]);

	if (!err)
		err = read_one(1, "/proc/pressure/memory", &out[CGP_PSI_MEM_SOME], &out[CGP_PSI_MEM_FULL]);
	if (!err)
		err = read_one(2, "/proc/pressure/io", &out[CGP_PSI_IO_SOME], &out[CGP_PSI_IO_FULL]);
	return err;
}
