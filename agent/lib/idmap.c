// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "lib/idmap.h"

static size_t slot_of(uint64_t key, size_t cap)
{
	key ^= key >> 33; /* murmur3 finalizer: cgroup ids are sequential, spread them */
	key *= 0xff51afd7ed558ccdULL;
	key ^= key >> 33;
	return key & (cap - 1);
}

int cgp_idmap_init(struct cgp_idmap *m, size_t hint)
{
	size_t cap = 16;

	while (cap < hint * 2)
		cap <<= 1;
	m->keys = calloc(cap, sizeof(*m->keys));
	m->vals = calloc(cap, sizeof(*m->vals));
	m->cap = cap;
	m->len = 0;
	if (!m->keys || !m->vals) {
		cgp_idmap_free(m);
		return -ENOMEM;
	}
	return 0;
}

void cgp_idmap_free(struct cgp_idmap *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->len = 0;
}

static size_t find(const struct cgp_idmap *m, uint64_t key)
{
	size_t i = slot_of(key, m->cap);

	while (m->keys[i] && m->keys[i] != key)
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *cgp_idmap_get(const struct cgp_idmap *m, uint64_t key)
{
	size_t i;

	if (!m->cap || !key)
		return NULL;
	i = find(m, key);
	return m->keys[i] ? m->vals[i] : NULL;
}

static int grow(struct cgp_idmap *m)
{
	struct cgp_idmap n;
	int err = cgp_idmap_init(&n, m->cap);

	if (err)
		return err;
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			cgp_idmap_put(&n, m->keys[i], m->vals[i]);
	cgp_idmap_free(m);
	*m = n;
	return 0;
}

int cgp_idmap_put(struct cgp_idmap *m, uint64_t key, void *val)
{
	size_t i;

	if (!key)
		return -EINVAL;
	if (!m->cap || (m->len + 1) * 10 > m->cap * 7) {
		int err = m->cap ? grow(m) : cgp_idmap_init(m, 8);

		if (err)
			return err;
	}
	i = find(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key;
		m->len++;
	}
	m->vals[i] = val;
	return 0;
}

void *cgp_idmap_del(struct cgp_idmap *m, uint64_t key)
{
	size_t i, j, home;
	void *val;

	if (!m->cap || !key)
		return NULL;
	i = find(m, key);
	if (!m->keys[i])
		return NULL;
	val = m->vals[i];
	m->keys[i] = 0;
	m->vals[i] = NULL;
	m->len--;
	/* backward shift: pull later members of the probe run into the hole so lookups never stop early */
	for (j = (i + 1) & (m->cap - 1); m->keys[j]; j = (j + 1) & (m->cap - 1)) {
		home = slot_of(m->keys[j], m->cap);
		if (((j - home) & (m->cap - 1)) >= ((j - i) & (m->cap - 1))) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->keys[j] = 0;
			m->vals[j] = NULL;
			i = j;
		}
	}
	return val;
}

uint64_t cgp_idmap_strkey(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	return h ? h : 1;
}

void cgp_idmap_clear(struct cgp_idmap *m)
{
	if (m->keys)
		memset(m->keys, 0, m->cap * sizeof(*m->keys));
	m->len = 0;
}

void cgp_idmap_free_all(struct cgp_idmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			(free_val ? free_val : free)(m->vals[i]);
	cgp_idmap_free(m);
}
