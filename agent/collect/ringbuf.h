/* SPDX-License-Identifier: GPL-2.0 */
/* A reader of one BPF ring buffer map that maps its data once. libbpf's ring_buffer maps the data area twice,
 * back to back, so that a record wrapping past the end reads as one piece; the kernel inserts every page of a
 * ring's mapping when it is made, so each ring cost twice its size in RSS (2 MiB for the agent's three rings).
 * Here the rare record that wraps is copied out in two pieces instead. Same protocol as libbpf's
 * ringbuf_process_ring: records in order, a busy one ends the read, discarded ones skipped. */
#ifndef CGP_RINGBUF_H
#define CGP_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

/* A record, len bytes; a negative return stops the read and is returned by cgp_ringbuf_consume. */
typedef int (*cgp_ringbuf_fn)(void *ctx, const void *data, size_t len);

struct cgp_ringbuf {
	int map_fd; /* poll/epoll-able: readable when the ring holds records */
	size_t size;
	uint64_t mask;
	unsigned long *consumer_pos; /* one writable page */
	const unsigned long *producer_pos;
	const uint8_t *data; /* size bytes, mapped once */
	uint8_t *wrap;	     /* a record that wraps past the end, put together */
	size_t wrap_cap;
	uint64_t wrapped; /* records read that way (tests: the path is taken) */
	cgp_ringbuf_fn fn;
	void *ctx;
};

/* 0 or -errno. */
int cgp_ringbuf_open(struct cgp_ringbuf *rb, int map_fd, cgp_ringbuf_fn fn, void *ctx);
/* Hands each record written so far to fn; the number of records, or fn's negative return, or -errno. */
int64_t cgp_ringbuf_consume(struct cgp_ringbuf *rb);
void cgp_ringbuf_close(struct cgp_ringbuf *rb);
/* The bytes of RSS the ring's mappings take (every page is inserted at mmap): for tests and the record. */
size_t cgp_ringbuf_mapped_bytes(const struct cgp_ringbuf *rb);

#endif
