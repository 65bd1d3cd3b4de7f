/* SPDX-License-Identifier: GPL-2.0 */
/* The spool's journal on disk (`cgpulse run --spool-dir DIR`): what the in-memory spool holds, kept in
 * append-only segment files so that an agent killed before the collector acknowledged its events leaves them to
 * the next agent, which sends them with their original instance id and sequence numbers.
 *
 *   DIR/lock                     flock()ed by the one agent using DIR
 *   DIR/<number>.samples         segments of sample events, numbers growing across agents
 *   DIR/<number>.others          segments of every other event (OOM kills, alerts, ...)
 *   DIR/state                    per instance: acknowledged up to, dropped up to, drops not yet reported
 *
 * Every record is `u32 length, u32 crc32(type, payload), u8 type, payload`; a record cut short or failing its
 * checksum ends the reading of its file (counted and logged), so a torn tail is never replayed. Samples and
 * the rest go to separate segments because each kind is released oldest first (acknowledged, or dropped by the
 * spool's policy): a segment is deleted when its last record is released, and no file ever needs rewriting.
 * Files are 0600, the directory 0700. Nothing here knows the in-memory spool: replay hands records to a
 * visitor, and the spool says which records it still holds (hold/release). */
#ifndef CGP_SPOOL_DISK_H
#define CGP_SPOOL_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGP_JOURNAL_ID_MAX 64 /* instance ids are UUIDs (36 characters); longer ones are refused */

/* What the spool knows of one instance, kept in DIR/state. */
struct cgp_journal_state {
	char instance_id[CGP_JOURNAL_ID_MAX];
	uint64_t last_seq;				/* highest seq spooled */
	uint64_t acked_seq;				/* the collector's acknowledgement */
	uint64_t samples_dropped_upto;			/* every sample up to this seq was acknowledged or dropped */
	uint64_t others_dropped_upto;			/* likewise for the other events */
	uint64_t unreported_samples, unreported_others; /* dropped, not yet reported in a Dropped event */
	uint64_t unreported_first, unreported_last;	/* their lowest and highest seq */
	bool lost;					/* some of its events never reached the disk */
};

struct cgp_journal_visitor {
	/* The saved state of each instance, before any event. */
	void (*state)(void *ctx, const struct cgp_journal_state *st);
	/* One event record, in seq order per instance and kind. Returns true when the spool keeps it (and holds
	 * the record's segment with cgp_journal_hold). */
	bool (*event)(void *ctx, const char *instance_id, uint64_t seq, bool is_sample, const void *data, size_t len,
		      uint32_t seg);
	void *ctx;
};

struct cgp_journal_replay {
	uint64_t segments;		/* segment files read */
	uint64_t events;		/* event records read */
	uint64_t kept;			/* of those, held again by the spool */
	uint64_t corrupt_records;	/* records cut short or failing their checksum: the rest of that file skipped */
	uint64_t corrupt_bytes;		/* bytes skipped */
	char owner[CGP_JOURNAL_ID_MAX]; /* the instance that last wrote the state ("" if none) */
};

struct cgp_journal_stats {
	uint64_t bytes;	       /* on disk: segments and state */
	uint64_t segments;     /* segment files */
	uint64_t records;      /* event records written */
	uint64_t write_errors; /* writes that failed (a full disk): those records are only in memory */
	uint64_t syncs;	       /* fdatasync calls */
	struct cgp_journal_replay replay;
};

struct cgp_journal;

/* Opens (creates, 0700) dir and locks it against a second agent. seg_bytes is the size at which a segment is
 * closed and the next begun. 0, or -errno with the reason in why. */
int cgp_journal_open(struct cgp_journal **out, const char *dir, size_t seg_bytes, char *why, size_t whylen);
/* Hands what the directory holds to v: every saved state, then every event record. Segments are deleted once
 * replayed if the spool holds none of their records. Call once, before appending. */
void cgp_journal_replay(struct cgp_journal *j, const struct cgp_journal_visitor *v);
/* Stops using the directory; what it holds stays for the next agent. */
void cgp_journal_close(struct cgp_journal *j);

/* Appends one event record of instance_id (buffered; written at once for an urgent one). Returns the segment
 * holding it (counted as held once), or 0 when it could not be put on disk (counted; the spool still has it). */
uint32_t cgp_journal_append(struct cgp_journal *j, const char *instance_id, uint64_t seq, bool is_sample,
			    const void *data, size_t len, bool urgent);
/* The spool holds one more record of seg (a replayed one). */
void cgp_journal_hold(struct cgp_journal *j, uint32_t seg);
/* The spool released one record of seg. True when the segment holds nothing any more: reap it once the state
 * that explains why is saved. */
bool cgp_journal_release(struct cgp_journal *j, uint32_t seg);
/* Deletes the segments that hold nothing (except the ones being written). */
void cgp_journal_reap(struct cgp_journal *j);
bool cgp_journal_has_dead(const struct cgp_journal *j); /* there is such a segment */
/* Replaces DIR/state (write, then rename). 0 or -errno. */
int cgp_journal_save_state(struct cgp_journal *j, const char *owner, const struct cgp_journal_state *st, size_t n);
/* Writes buffered records. 0 or -errno (counted; those records stay only in memory). */
int cgp_journal_flush(struct cgp_journal *j);
/* fdatasync of what was written since the last sync; with urgent false only when a second has passed. */
int cgp_journal_sync(struct cgp_journal *j, bool urgent, uint64_t now_ns);
bool cgp_journal_has_urgent(const struct cgp_journal *j); /* urgent records written but not yet synced */
/* Bytes a record of len bytes of event adds on disk. */
size_t cgp_journal_record_bytes(size_t len);
void cgp_journal_get_stats(const struct cgp_journal *j, struct cgp_journal_stats *st);

#endif
