/* SPDX-License-Identifier: GPL-2.0 */
/* Which (instance, seq) a collector has stored: per instance a watermark (every seq up to it is done) and a
 * bitmap window of the seqs stored above it. Answers "is this new?" and "what do I ack?". Pure, no I/O. */
#ifndef CGP_DEDUP_H
#define CGP_DEDUP_H

#include <stddef.h>
#include <stdint.h>

#define CGP_DEDUP_WINDOW_MAX (1u << 24) /* seqs tracked above the watermark (2 MiB of bitmap per instance) */

struct cgp_dedup;
struct cgp_dedup_instance; /* one agent instance's state; stable until cgp_dedup_free */

struct cgp_dedup *cgp_dedup_new(void);
void cgp_dedup_free(struct cgp_dedup *d);
/* The state of instance_id, created when new; NULL when out of memory. */
struct cgp_dedup_instance *cgp_dedup_get(struct cgp_dedup *d, const char *instance_id);
/* 1: seq is new and now recorded (store the event); 0: a duplicate (or seq 0); -ERANGE: seq is more than
 * CGP_DEDUP_WINDOW_MAX past the watermark; -ENOMEM. */
int cgp_dedup_add(struct cgp_dedup_instance *in, uint64_t seq);
/* Batch.base_seq: every seq below base_seq is done. 0 or -ENOMEM (inside a group). */
int cgp_dedup_floor(struct cgp_dedup_instance *in, uint64_t base_seq);
/* The highest seq with every seq from 1 to it done: the Ack to send. */
uint64_t cgp_dedup_acked(const struct cgp_dedup_instance *in);
const char *cgp_dedup_instance_id(const struct cgp_dedup_instance *in);
size_t cgp_dedup_instances(const struct cgp_dedup *d);

/* Groups: what add and floor change from begin on can be taken back whole by rollback (the events of a group
 * the collector could not write must be new again when the agent resends them), or kept by commit. Outside a
 * group changes are kept at once. begin returns 0; add and floor may fail with -ENOMEM inside a group. */
void cgp_dedup_begin(struct cgp_dedup *d);
void cgp_dedup_commit(struct cgp_dedup *d);
void cgp_dedup_rollback(struct cgp_dedup *d);

#endif
