/* SPDX-License-Identifier: GPL-2.0 */
/* u64 → pointer hash (open addressing, linear probing, backward-shift delete). Key 0 is reserved: cgroup ids
 * are never 0. Grows at 70% load; lookups allocate nothing. */
#ifndef CGP_IDMAP_H
#define CGP_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct cgp_idmap {
	uint64_t *keys;
	void **vals;
	size_t cap; /* power of two */
	size_t len;
};

int cgp_idmap_init(struct cgp_idmap *m, size_t hint);
void cgp_idmap_free(struct cgp_idmap *m);
void *cgp_idmap_get(const struct cgp_idmap *m, uint64_t key);
/* Inserts or replaces; returns 0 or -ENOMEM. */
int cgp_idmap_put(struct cgp_idmap *m, uint64_t key, void *val);
/* Removes and returns the value, or NULL. */
void *cgp_idmap_del(struct cgp_idmap *m, uint64_t key);
/* Removes every entry (the values are not freed); keeps its room. */
void cgp_idmap_clear(struct cgp_idmap *m);
/* Frees every value with free_val (free(3) when NULL), then the map itself. */
void cgp_idmap_free_all(struct cgp_idmap *m, void (*free_val)(void *));

/* Iterate: for (size_t i = 0; i < m->cap; i++) if (m->keys[i]) ... m->vals[i] */

/* A string as a key: a 64-bit hash (FNV-1a, never 0). Two strings may share one: a map keyed so keeps, per key,
 * a chain of the entries whose strings differ, and compares the string on lookup. */
uint64_t cgp_idmap_strkey(const char *s);

#endif
