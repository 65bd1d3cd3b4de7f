/* SPDX-License-Identifier: GPL-2.0 */
/* Which capability the agent lacks, if any, so that it can say so in one line before touching anything. */
#ifndef CGP_CAPS_H
#define CGP_CAPS_H

/* NULL when the effective set holds what loading and attaching need; else the name of the first missing. */
const char *cgp_missing_capability(void);

/* Once the programs are attached, keep only CAP_DAC_READ_SEARCH (cgroup ids → paths, the runtimes' state):
 * maps, rings and iterator links are used through fds we already hold. Also clears the bounding set and sets
 * no_new_privs. 0 or -errno. */
int cgp_drop_capabilities(void);

#endif
