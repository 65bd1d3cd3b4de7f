// SPDX-License-Identifier: GPL-2.0
/* Dedup state: instances found by the project's hash map (lib/idmap) keyed by cgp_idmap_strkey(id), each a
 * watermark plus a ring bitmap indexed by seq modulo its size, valid for seqs in (watermark, watermark + size].
 * Agents send in seq order, so the bitmap is almost always empty. */
#include "collector/dedup.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lib/idmap.h"

struct saved {
	uint64_t acked, nbits, above;
	uint64_t *bits; /* a copy, or NULL */
};

struct cgp_dedup_instance {
	struct cgp_dedup *d;
	struct cgp_dedup_instance *next;	 /* another id under the same key */
	struct cgp_dedup_instance *touched_next; /* the group's list of changed instances */
	uint64_t group;				 /* the group that saved this instance's state, 0: none */
	struct saved saved;
	uint64_t acked; /* watermark */
	uint64_t *bits; /* ring bitmap of seqs above the watermark */
	uint64_t nbits; /* power of two, 0 before the first out-of-order seq */
	uint64_t above; /* set bits */
	char id[];
};

struct cgp_dedup {
	struct cgp_idmap ids; /* cgp_idmap_strkey(id) → the instances under that key, a chain whose ids differ */
	size_t n;
	struct cgp_dedup_instance *last; /* batches come from one instance: skip the hash most of the time */
	uint64_t group;			 /* the open group's number, 0: none */
	uint64_t groups;		 /* groups begun */
	struct cgp_dedup_instance *touched;
};

struct cgp_dedup *cgp_dedup_new(void)
{
	struct cgp_dedup *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (cgp_idmap_init(&d->ids, 64)) {
		free(d);
		return NULL;
	}
	return d;
}

void cgp_dedup_free(struct cgp_dedup *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ids.cap; i++)
		for (struct cgp_dedup_instance *in = d->ids.keys[i] ? d->ids.vals[i] : NULL, *nx; in; in = nx) {
			nx = in->next;
			free(in->bits);
			free(in->saved.bits);
			free(in);
		}
	cgp_idmap_free(&d->ids);
	free(d);
}

/* cgp_dedup_get with the key given, so a test can put two ids under one key. */
static struct cgp_dedup_instance *get_keyed(struct cgp_dedup *d, uint64_t key, const char *instance_id)
{
	struct cgp_dedup_instance *head = cgp_idmap_get(&d->ids, key), *in;
	size_t len;

	for (in = head; in; in = in->next)
		if (!strcmp(in->id, instance_id))
			return d->last = in;
	len = strlen(instance_id);
	in = calloc(1, sizeof(*in) + len + 1);
	if (!in)
		return NULL;
	memcpy(in->id, instance_id, len + 1);
	in->d = d;
	if (head) {
		/* a key already taken: the new id joins its chain, the map stays as it is */
		in->next = head->next;
		head->next = in;
	} else if (cgp_idmap_put(&d->ids, key, in)) {
		free(in);
		return NULL;
	}
	d->n++;
	return d->last = in;
}

struct cgp_dedup_instance *cgp_dedup_get(struct cgp_dedup *d, const char *instance_id)
{
	if (d->last && !strcmp(d->last->id, instance_id))
		return d->last;
	return get_keyed(d, cgp_idmap_strkey(instance_id), instance_id);
}

static bool test_bit(const struct cgp_dedup_instance *in, uint64_t seq)
{
	uint64_t i = seq & (in->nbits - 1);

	return in->nbits && (in->bits[i / 64] >> (i % 64) & 1);
}

static void flip_bit(struct cgp_dedup_instance *in, uint64_t seq)
{
	uint64_t i = seq & (in->nbits - 1);

	in->bits[i / 64] ^= (uint64_t)1 << (i % 64);
}

/* Moves the watermark over seqs already stored just above it. */
static void advance(struct cgp_dedup_instance *in)
{
	while (in->above && test_bit(in, in->acked + 1)) {
		flip_bit(in, in->acked + 1);
		in->above--;
		in->acked++;
	}
}

/* Makes the window cover seq: a bigger ring, with the stored seqs moved to their new places. */
static int grow(struct cgp_dedup_instance *in, uint64_t seq)
{
	uint64_t need = seq - in->acked, nbits = in->nbits ? in->nbits : 4096;
	uint64_t *bits;

	if (need > CGP_DEDUP_WINDOW_MAX)
		return -ERANGE;
	while (nbits < need)
		nbits *= 2;
	bits = calloc(nbits / 64, sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	for (uint64_t s = in->acked + 1, left = in->above; left && s <= in->acked + in->nbits; s++)
		if (test_bit(in, s)) {
			uint64_t i = s & (nbits - 1);

			bits[i / 64] |= (uint64_t)1 << (i % 64);
			left--;
		}
	free(in->bits);
	in->bits = bits;
	in->nbits = nbits;
	return 0;
}

/* Inside a group, the first change of an instance keeps a copy of its state for a rollback. */
static int save(struct cgp_dedup_instance *in)
{
	struct cgp_dedup *d = in->d;

	if (!d->group || in->group == d->group)
		return 0;
	in->saved = (struct saved){.acked = in->acked, .nbits = in->nbits, .above = in->above};
	if (in->above) { /* bits of an instance with nothing above its watermark are all clear */
		in->saved.bits = malloc(in->nbits / 8);
		if (!in->saved.bits)
			return -ENOMEM;
		memcpy(in->saved.bits, in->bits, in->nbits / 8);
	}
	in->group = d->group;
	in->touched_next = d->touched;
	d->touched = in;
	return 0;
}

void cgp_dedup_begin(struct cgp_dedup *d)
{
	if (d->group)
		cgp_dedup_commit(d);
	d->group = ++d->groups;
}

void cgp_dedup_commit(struct cgp_dedup *d)
{
	for (struct cgp_dedup_instance *in = d->touched; in; in = in->touched_next) {
		free(in->saved.bits);
		in->saved.bits = NULL;
		in->group = 0;
	}
	d->touched = NULL;
	d->group = 0;
}

void cgp_dedup_rollback(struct cgp_dedup *d)
{
	for (struct cgp_dedup_instance *in = d->touched; in; in = in->touched_next) {
		in->acked = in->saved.acked;
		in->above = in->saved.above;
		if (in->nbits)
			memset(in->bits, 0, in->nbits / 8);
		if (in->saved.bits) {
			/* the ring only grows, and a seq keeps its place while nbits stays: put the old bits back */
			for (uint64_t s = in->acked + 1; s <= in->acked + in->saved.nbits; s++) {
				uint64_t i = s & (in->saved.nbits - 1);

				if (in->saved.bits[i / 64] >> (i % 64) & 1) {
					uint64_t j = s & (in->nbits - 1);

					in->bits[j / 64] |= (uint64_t)1 << (j % 64);
				}
			}
			free(in->saved.bits);
			in->saved.bits = NULL;
		}
		in->group = 0;
	}
	d->touched = NULL;
	d->group = 0;
}

int cgp_dedup_add(struct cgp_dedup_instance *in, uint64_t seq)
{
	if (seq <= in->acked)
		return 0;
	if (save(in))
		return -ENOMEM;
	if (seq == in->acked + 1 && !in->above) {
		in->acked = seq; /* the common case: in order, nothing pending */
		return 1;
	}
	if (seq - in->acked > in->nbits) {
		int err = grow(in, seq);

		if (err)
			return err;
	}
	if (test_bit(in, seq))
		return 0;
	flip_bit(in, seq);
	in->above++;
	advance(in);
	return 1;
}

int cgp_dedup_floor(struct cgp_dedup_instance *in, uint64_t base_seq)
{
	if (!base_seq || base_seq - 1 <= in->acked)
		return 0;
	if (save(in))
		return -ENOMEM;
	/* forget stored seqs that fall below the new watermark */
	for (uint64_t s = in->acked + 1; in->above && s < base_seq && s <= in->acked + in->nbits; s++)
		if (test_bit(in, s)) {
			flip_bit(in, s);
			in->above--;
		}
	in->acked = base_seq - 1;
	advance(in);
	return 0;
}

uint64_t cgp_dedup_acked(const struct cgp_dedup_instance *in)
{
	return in->acked;
}

const char *cgp_dedup_instance_id(const struct cgp_dedup_instance *in)
{
	return in->id;
}

size_t cgp_dedup_instances(const struct cgp_dedup *d)
{
	return d->n;
}
