/* SPDX-License-Identifier: GPL-2.0 */
/* Which capability the agent lacks, if any, so that it can say so in one line before touching anything; and
 * giving them all up once the programs are attached. */
#ifndef CGP_CAPS_H
#define CGP_CAPS_H

/* NULL when the effective set holds what loading and attaching need; else the name of the first missing. */
const char *cgp_missing_capability(void);

/* Once the programs are attached, no capability is left: maps, rings and iterator links are used through fds
 * already held, cgroups are named by walking their trees by path (world-readable), and the runtimes' state is
 * read as its owner, uid 0. One exception, asked of the kernel with bpf_probe_fd (a map fd): a kernel before
 * 5.19 with kernel.unprivileged_bpf_disabled refuses bpf() on those fds without CAP_BPF, which is then kept
 * (*kept names it; NULL when nothing is). Clears the bounding set and sets no_new_privs. 0 or -errno. */
int cgp_drop_capabilities(int bpf_probe_fd, const char **kept);

#endif
