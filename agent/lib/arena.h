/* SPDX-License-Identifier: GPL-2.0 */
/* A bump allocator whose pieces are all let go at once: for what is unpacked together and dropped together (a
 * received Batch's events, events/wire.c), where a malloc and a free per field cost more than the decoding. */
#ifndef CGP_ARENA_H
#define CGP_ARENA_H

#include <stddef.h>

struct cgp_arena_chunk;

struct cgp_arena {
	struct cgp_arena_chunk *head; /* the chunk being filled; older ones follow it */
	size_t chunk_bytes;	      /* room a new chunk gets (a larger piece gets a chunk of its own size) */
};

void cgp_arena_init(struct cgp_arena *a, size_t chunk_bytes);
/* n bytes aligned for any type, or NULL when out of memory. Live until cgp_arena_free. */
void *cgp_arena_alloc(struct cgp_arena *a, size_t n);
void cgp_arena_free(struct cgp_arena *a); /* every piece; the arena can be used again */

#endif
