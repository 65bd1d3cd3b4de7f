/* SPDX-License-Identifier: GPL-2.0 */
/* One pass over a message in the shapes the agent writes (each known field once, proto3 scalars, strings,
 * submessages, packed numbers), straight into protobuf-c's generated struct: the collector unpacks 10,000
 * samples a second a node, and protobuf-c's two-pass unpack was 43% of its instructions an event. Anything else
 * (an unknown field, a field given twice, a repeated string, a wire type that does not match) is not decoded
 * here: NULL, and the caller unpacks with protobuf-c, which has the whole of protobuf's rules. */
#ifndef CGP_PB_UNPACK_H
#define CGP_PB_UNPACK_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#include "lib/arena.h"

/* The message, its memory from a (which must let it all go at once: nothing here frees), or NULL when the bytes
 * are not in those shapes or are not valid protobuf (a's pieces taken so far are left to it). */
ProtobufCMessage *cgp_pb_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len,
				ProtobufCAllocator *a);

/* protobuf-c's allocator over an arena: one bump a piece, and nothing to free a piece at a time (the arena lets
 * every piece go at once: cgp_arena_free). For this unpack and for protobuf-c's. */
ProtobufCAllocator cgp_pb_arena_allocator(struct cgp_arena *a);

#endif
