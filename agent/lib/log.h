/* SPDX-License-Identifier: GPL-2.0 */
/* One way to log, as bpftool's p_err/p_info: errors and notices to stderr, debug only with -v. */
#ifndef CGP_LOG_H
#define CGP_LOG_H

#include <stdbool.h>

extern bool cgp_verbose;

void cgp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cgp_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cgp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* libbpf's own messages: warnings always, the rest only with -v */
void cgp_log_setup_libbpf(void);

#endif
