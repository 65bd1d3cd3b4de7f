// SPDX-License-Identifier: GPL-2.0
/* The group is the dedup state's group (taken back whole) plus the event log's bytes since its last sync (cut
 * back whole), plus the list of (owner, instance) that wait for an Ack. */
#include "collector/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector/dedup.h"
#include "collector/event_log.h"
#include "lib/log.h"

#define LOG_EVERY_NS 1000000000ULL /* a failing disk is logged at most once a second (with the count) */

struct pending {
	void *owner;
	struct cgp_dedup_instance *in;
};

struct cgp_store {
	char path[256];
	struct cgp_dedup *dedup;
	struct cgp_event_log *log;
	struct pending *p;
	size_t np, cap;
	bool open;					  /* a group is open */
	int err;					  /* the open group failed: it will be taken back */
	bool cut_back_failed;				  /* the file could not be cut back: refuse until it can */
	uint64_t group_events, group_dups, group_batches; /* of the open group */
	uint64_t logged_ns, unlogged;
	struct cgp_store_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int cgp_store_open(struct cgp_store **out, const char *path, char *why, size_t whylen)
{
	struct cgp_store *st = calloc(1, sizeof(*st));
	struct cgp_event_log_replay replay;
	int err;

	*out = NULL;
	if (!st)
		return -ENOMEM;
	snprintf(st->path, sizeof(st->path), "%s", path && strcmp(path, "-") ? path : "stdout");
	st->dedup = cgp_dedup_new();
	if (!st->dedup) {
		free(st);
		return -ENOMEM;
	}
	err = cgp_event_log_open(&st->log, path, st->dedup, &replay, why, whylen);
	if (err) {
		cgp_dedup_free(st->dedup);
		free(st);
		return err;
	}
	st->st.replayed = replay.records;
	st->st.trimmed = replay.trimmed;
	st->st.durable = cgp_event_log_durable(st->log);
	*out = st;
	return 0;
}

static int add_pending(struct cgp_store *st, void *owner, struct cgp_dedup_instance *in)
{
	/* one Ack per connection and instance per group: the latest says it all */
	for (size_t i = st->np; i-- > 0;)
		if (st->p[i].owner == owner && st->p[i].in == in)
			return 0;
	if (st->np == st->cap) {
		size_t cap = st->cap ? 2 * st->cap : 64;
		struct pending *p = realloc(st->p, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		st->p = p;
		st->cap = cap;
	}
	st->p[st->np++] = (struct pending){owner, in};
	return 0;
}

const char *cgp_store_batch(struct cgp_store *st, const struct cgp_wire_batch *b, void *owner, uint64_t *stored,
			    uint64_t *dups, char *why, size_t whylen)
{
	const char *id = b->instance_id[0] ? b->instance_id : b->n_events ? b->events[0]->instance_id : "";
	struct cgp_dedup_instance *in;
	int r;

	*stored = *dups = 0;
	if (!id[0])
		return "batch names no instance";
	/* check the whole batch before storing any of it */
	for (size_t k = 0; k < b->n_events; k++) {
		if (strcmp(b->events[k]->instance_id, id)) {
			char e1[64], e2[64];

			snprintf(why, whylen, "batch of instance '%s' holds an event of '%s'",
				 cgp_log_escape(e1, sizeof(e1), id),
				 cgp_log_escape(e2, sizeof(e2), b->events[k]->instance_id));
			return why;
		}
		if (b->events[k]->body_case == CGPULSE__V1__EVENT__BODY__NOT_SET) {
			snprintf(why, whylen, "event seq %llu has no body", (unsigned long long)b->events[k]->seq);
			return why;
		}
	}
	if (!st->open) {
		cgp_dedup_begin(st->dedup);
		st->open = true;
		st->err = st->cut_back_failed ? -EIO : 0;
		st->group_events = st->group_dups = st->group_batches = 0;
	}
	/* base_seq says which seqs will never come; it may move the floor only up to what the batch carries, so a
	 * batch cannot claim seqs done beyond its own events (an empty batch moves nothing) */
	if (b->base_seq > 1) {
		uint64_t low = UINT64_MAX;
		bool claims;

		for (size_t k = 0; k < b->n_events; k++)
			if (b->events[k]->seq < low)
				low = b->events[k]->seq;
		claims = b->base_seq > low;
		if (!b->n_events) {
			in = cgp_dedup_get(st->dedup, id);
			claims = !in || b->base_seq - 1 > cgp_dedup_acked(in);
		}
		if (claims) {
			st->st.refused_floor++;
			if (b->n_events)
				snprintf(why, whylen, "batch claims seqs below %llu done but carries seq %llu",
					 (unsigned long long)b->base_seq, (unsigned long long)low);
			else
				snprintf(why, whylen, "empty batch claims seqs below %llu done",
					 (unsigned long long)b->base_seq);
			return why;
		}
	}
	in = cgp_dedup_get(st->dedup, id);
	if (!in)
		return "out of memory";
	if (b->n_events) {
		uint64_t floor = cgp_dedup_acked(in), top = 0;

		if (b->base_seq && b->base_seq - 1 > floor)
			floor = b->base_seq - 1;
		for (size_t i = 0; i < b->n_events; i++)
			if (b->events[i]->seq > top)
				top = b->events[i]->seq;
		if (top > floor + CGP_DEDUP_WINDOW_MAX) {
			snprintf(why, whylen, "seq %llu is too far past the acknowledged %llu", (unsigned long long)top,
				 (unsigned long long)floor);
			return why;
		}
	}
	if (add_pending(st, owner, in))
		return "out of memory";
	if (st->err)
		return NULL; /* the group is lost already: this batch fails with it */
	if (cgp_dedup_floor(in, b->base_seq)) {
		st->err = -ENOMEM;
		return NULL;
	}
	for (size_t i = 0; i < b->n_events; i++) {
		const Cgpulse__V1__Event *ev = b->events[i];

		r = cgp_dedup_add(in, ev->seq);
		if (r < 0) {
			st->err = r;
			return NULL;
		}
		if (r == 0) {
			(*dups)++;
			continue;
		}
		/* a .pb log stores the bytes the agent sent, a JSONL log the unpacked event */
		r = cgp_event_log_write(st->log, ev, b->raw[i].data, b->raw[i].len);
		st->group_events++;
		if (r) {
			st->err = r;
			return NULL;
		}
		(*stored)++;
	}
	st->group_dups += *dups;
	st->group_batches++;
	return NULL;
}

static void log_failure(struct cgp_store *st, int err, size_t conns)
{
	uint64_t now = now_ns();

	st->unlogged++;
	if (st->logged_ns && now - st->logged_ns < LOG_EVERY_NS)
		return;
	cgp_err("collector: cannot store to %s: %s; %llu group(s) of batches taken back and not acknowledged "
		"(last: %llu events from %zu connection(s)); the agents keep them and send them again",
		st->path, strerror(-err), (unsigned long long)st->unlogged, (unsigned long long)st->group_events,
		conns);
	st->logged_ns = now;
	st->unlogged = 0;
}

void cgp_store_commit(struct cgp_store *st, const struct cgp_store_sink *sink)
{
	char why[160];
	int err;

	if (!st->open)
		return;
	err = st->err;
	if (!err && cgp_event_log_pending(st->log)) {
		err = cgp_event_log_sync(st->log);
		if (!err)
			st->st.syncs++;
	}
	if (!err) {
		cgp_dedup_commit(st->dedup);
		st->st.groups++;
		st->st.batches += st->group_batches;
		st->st.events_stored += st->group_events;
		st->st.duplicates += st->group_dups;
		for (size_t i = 0; i < st->np; i++)
			if (st->p[i].owner)
				sink->ack(st->p[i].owner, cgp_dedup_instance_id(st->p[i].in),
					  cgp_dedup_acked(st->p[i].in), sink->ctx);
	} else {
		cgp_dedup_rollback(st->dedup);
		st->st.failed_groups++;
		st->st.failed_events += st->group_events;
		if (cgp_event_log_rollback(st->log)) {
			if (!st->cut_back_failed)
				cgp_err(
				    "collector: cannot cut %s back to its last synced length: refusing batches until "
				    "it can",
				    st->path);
			st->cut_back_failed = true;
		} else {
			st->cut_back_failed = false;
		}
		log_failure(st, err, st->np);
		snprintf(why, sizeof(why), "cannot store: %s; not acknowledged", strerror(-err));
		for (size_t i = 0; i < st->np; i++)
			if (st->p[i].owner)
				sink->fail(st->p[i].owner, why, sink->ctx);
	}
	st->np = 0;
	st->open = false;
}

void cgp_store_forget(struct cgp_store *st, const void *owner)
{
	for (size_t i = 0; i < st->np; i++)
		if (st->p[i].owner == owner)
			st->p[i].owner = NULL;
}

void cgp_store_get_stats(const struct cgp_store *st, struct cgp_store_stats *out)
{
	*out = st->st;
	out->instances = cgp_dedup_instances(st->dedup);
}

void cgp_store_close(struct cgp_store *st)
{
	static const struct cgp_store_sink none = {0};

	if (!st)
		return;
	if (st->open) {
		/* nobody is left to acknowledge, but what was received is kept if it can be */
		for (size_t i = 0; i < st->np; i++)
			st->p[i].owner = NULL;
		cgp_store_commit(st, &none);
	}
	cgp_event_log_close(st->log);
	cgp_dedup_free(st->dedup);
	free(st->p);
	free(st);
}
