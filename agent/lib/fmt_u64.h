/* SPDX-License-Identifier: GPL-2.0 */
/* A whole number in decimal without printf: the JSON writer and the exposition text write one per figure. */
#ifndef CGP_FMT_U64_H
#define CGP_FMT_U64_H

#include <stddef.h>
#include <stdint.h>

#define CGP_FMT_U64_MAX 20 /* digits of UINT64_MAX */

/* v in decimal at p (room for CGP_FMT_U64_MAX bytes, no NUL written); its length. */
size_t cgp_fmt_u64(char *p, uint64_t v);

#endif
