/* SPDX-License-Identifier: GPL-2.0 */
/* Where a collector stores events: JSON lines (event_json.h) or delimited protobuf Events (a path ending in
 * ".pb"), to a file or stdout. An existing file is read back at open, so a restarted collector still knows
 * which (instance, seq) it stored, and a record cut short by a crash is trimmed off. */
#ifndef CGP_EVENT_LOG_H
#define CGP_EVENT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgpulse/v1/event.pb-c.h"
#include "collector/dedup.h"

struct cgp_event_log;

struct cgp_event_log_replay {
	uint64_t records; /* records read back */
	uint64_t skipped; /* lines that were not events (JSONL only) */
	uint64_t trimmed; /* bytes of an incomplete last record cut off */
};

/* path NULL or "-": JSON lines on stdout. Records every (instance, seq) found in an existing file in d.
 * Returns 0, or a negative errno with the reason in why. */
int cgp_event_log_open(struct cgp_event_log **out, const char *path, struct cgp_dedup *d,
		       struct cgp_event_log_replay *replay, char *why, size_t whylen);
/* Appends one event; raw is its serialized form (written as is to a .pb log). Buffered, and written (write(2))
 * when the buffer is large: nothing is durable before cgp_event_log_sync. 0 or -errno (-ENOSPC, -EIO, ...). */
int cgp_event_log_write(struct cgp_event_log *l, const Cgpulse__V1__Event *ev, const uint8_t *raw, size_t rawlen);
/* Writes what is buffered and makes everything written durable (fdatasync; a pipe or terminal cannot be
 * synced, and is only written). 0, or -errno: then nothing since the last sync may be counted on. */
int cgp_event_log_sync(struct cgp_event_log *l);
/* Takes back everything since the last successful sync: the buffer is dropped and the file cut back, so no half
 * record stays in front of the next ones. 0 or -errno. */
int cgp_event_log_rollback(struct cgp_event_log *l);
/* Bytes written or buffered since the last sync. */
uint64_t cgp_event_log_pending(const struct cgp_event_log *l);
/* True when acknowledgements can promise the disk (a regular file, synced); false for stdout to a pipe. */
bool cgp_event_log_durable(const struct cgp_event_log *l);
void cgp_event_log_close(struct cgp_event_log *l);

#endif
