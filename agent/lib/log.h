/* SPDX-License-Identifier: GPL-2.0 */
/* One way to log, as bpftool's p_err/p_info: errors and notices to stderr, debug only with -v. */
#ifndef CGP_LOG_H
#define CGP_LOG_H

#include <stdbool.h>
#include <stddef.h>

extern bool cgp_verbose;

void cgp_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cgp_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cgp_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* src as a log can carry it, whatever bytes a peer chose: printable ASCII kept, '\\' and every other byte as \xNN,
 * cut with "..." to fit cap (at least 8) bytes with the NUL. Returns dst. */
const char *cgp_log_escape(char *dst, size_t cap, const char *src);
/* libbpf's own messages: warnings always, the rest only with -v */
void cgp_log_setup_libbpf(void);

#endif
