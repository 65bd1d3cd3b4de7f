/* SPDX-License-Identifier: GPL-2.0 */
/* Which capability the agent lacks, if any, so that it can say so in one line before touching anything. */
#ifndef CGP_CAPS_H
#define CGP_CAPS_H

/* NULL when the effective set holds what loading and attaching need; else the name of the first missing. */
const char *cgp_missing_capability(void);

#endif
