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

static int read_one(const char *path, uint64_t *some, uint64_t *full)
{
	char buf[512];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return cgp_pressure_parse(buf, some, full);
}

int cgp_pressure_read_system(uint64_t out[CGP_PSI_MAX])
{
	int err = read_one("/proc/pressure/cpu", &out[CGP_PSI_CPU_SOME], &out[CGP_PSI_CPU_FULL]);

	if (!err)
		err = read_one("/proc/pressure/memory", &out[CGP_PSI_MEM_SOME], &out[CGP_PSI_MEM_FULL]);
	if (!err)
		err = read_one("/proc/pressure/io", &out[CGP_PSI_IO_SOME], &out[CGP_PSI_IO_FULL]);
	return err;
}
