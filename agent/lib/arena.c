// SPDX-License-Identifier: GPL-2.0
/* Bump allocator over a list of malloc'd chunks. */
#include "lib/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>

struct cgp_arena_chunk {
	struct cgp_arena_chunk *next;
	size_t used, size;
	alignas(max_align_t) unsigned char data[];
};

void cgp_arena_init(struct cgp_arena *a, size_t chunk_bytes)
{
	a->head = NULL;
	a->chunk_bytes = chunk_bytes;
}

void *cgp_arena_alloc(struct cgp_arena *a, size_t n)
{
	const size_t align = alignof(max_align_t);
	struct cgp_arena_chunk *c = a->head;
	size_t at, size;

	if (n > SIZE_MAX / 2)
		return NULL;
	n = (n + align - 1) & ~(align - 1);
	if (c && c->size - c->used >= n) {
		at = c->used;
		c->used += n;
		return c->data + at;
	}
	size = n > a->chunk_bytes ? n : a->chunk_bytes;
	c = malloc(sizeof(*c) + size);
	if (!c)
		return NULL;
	c->size = size;
	c->used = n;
	/* a piece larger than a chunk goes behind the head, so the head's room is not given up for it */
	if (n > a->chunk_bytes && a->head) {
		c->next = a->head->next;
		a->head->next = c;
	} else {
		c->next = a->head;
		a->head = c;
	}
	return c->data;
}

void cgp_arena_free(struct cgp_arena *a)
{
	while (a->head) {
		struct cgp_arena_chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}
