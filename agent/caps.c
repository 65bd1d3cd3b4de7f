// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
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

static int caps(bool set, struct __user_cap_data_struct d[2])
{
	struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};

	return syscall(set ? SYS_capset : SYS_capget, &h, d) ? -errno : 0;
}

const char *cgp_missing_capability(void)
{
	struct __user_cap_data_struct d[2] = {};
	bool admin;

	if (caps(false, d))
		return "CAP_BPF (capget failed)";
	admin = has(d, CAP_SYS_ADMIN);
	/* CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON on every kernel */
	if (!admin && !has(d, CAP_BPF))
		return "CAP_BPF";
	if (!admin && !has(d, CAP_PERFMON))
		return "CAP_PERFMON";
	return NULL;
}

/* Kernels before 5.19 ("bpf: refine kernel.unprivileged_bpf_disabled behaviour") refuse every bpf() command, even
 * on fds the process holds, to a process without CAP_BPF while kernel.unprivileged_bpf_disabled is set; later ones
 * ask it only to create maps and load programs. Asked of the kernel, not guessed from its version (distributions
 * backport): the effective set is emptied for one bpf() call on a map fd, then raised again from the permitted
 * set. */
static bool bpf_wants_capability(int probe_fd, const struct __user_cap_data_struct d[2])
{
	struct __user_cap_data_struct none[2];
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	bool wants;

	if (probe_fd < 0)
		return false;
	memcpy(none, d, sizeof(none));
	none[0].effective = none[1].effective = 0;
	if (caps(true, none))
		return false;
	memset(&info, 0, sizeof(info));
	wants = bpf_obj_get_info_by_fd(probe_fd, &info, &len) && errno == EPERM;
	caps(true, (struct __user_cap_data_struct *)d);
	return wants;
}

int cgp_drop_capabilities(int bpf_probe_fd, const char **kept)
{
	struct __user_cap_data_struct d[2] = {};
	int keep = -1, err;

	*kept = NULL;
	if ((err = caps(false, d)))
		return err;
	if (bpf_wants_capability(bpf_probe_fd, d)) {
		keep = has(d, CAP_BPF) ? CAP_BPF : CAP_SYS_ADMIN;
		*kept = keep == CAP_BPF ? "CAP_BPF" : "CAP_SYS_ADMIN";
	}
	/* the bounding set first, while CAP_SETPCAP is still ours */
	for (int cap = 0; cap <= 63; cap++)
		if (cap != keep && prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -errno;
	memset(d, 0, sizeof(d));
	if (keep >= 0) {
		d[keep / 32].effective = 1u << (keep % 32);
		d[keep / 32].permitted = 1u << (keep % 32);
	}
	if ((err = caps(true, d)))
		return err;
	return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ? -errno : 0;
}
