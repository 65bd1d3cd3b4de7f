// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>
#include <errno.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include "caps.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

static bool has(const struct __user_cap_data_struct *d, int cap)
{
	return d[cap / 32].effective & (1u << (cap % 32));
}

const char *cgp_missing_capability(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};
	bool admin;

	if (syscall(SYS_capget, &h, d))
		return "CAP_BPF (capget failed)";
	admin = has(d, CAP_SYS_ADMIN);
	/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON on every kernel */
	if (!admin && !has(d, CAP_BPF))
		return "CAP_BPF";
	if (!admin && !has(d, CAP_PERFMON))
		return "CAP_PERFMON";
	/* cgroup id → path with open_by_handle_at() */
	if (!has(d, CAP_DAC_READ_SEARCH))
		return "CAP_DAC_READ_SEARCH";
	return NULL;
}

int cgp_drop_capabilities(void)
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2] = {};

	/* the bounding set first, while CAP_SETPCAP is still ours */
	for (int cap = 0; cap <= 63; cap++)
		if (cap != CAP_DAC_READ_SEARCH && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	d[CAP_DAC_READ_SEARCH / 32].effective = 1u << (CAP_DAC_READ_SEARCH % 32);
	d[CAP_DAC_READ_SEARCH / 32].permitted = 1u << (CAP_DAC_READ_SEARCH % 32);
	if (syscall(SYS_capset, &h, d))
		return -errno;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
}
