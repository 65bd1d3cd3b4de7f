// SPDX-License-Identifier: GPL-2.0
/* Chunks are mmap'd, not malloc'd: munmap gives a released chunk's pages back at once, whatever the heap around
 * it looks like. The tail chunk, once emptied, is kept for the next records instead of being mapped again. */
#include "events/spool_queue.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

struct cgp_sq_chunk {
	struct cgp_sq_chunk *next;
	size_t size;  /* mapped, this header included */
	size_t used;  /* bytes of records in data */
	size_t waste; /* room left unused when the next record did not fit: counted in the queue's bytes */
	uint8_t data[];
};

static size_t room(const struct cgp_sq_chunk *c)
{
	return c->size - sizeof(*c) - c->used;
}

static struct cgp_sq_chunk *chunk_new(struct cgp_sq *q, size_t need)
{
	size_t size = CGP_SQ_CHUNK;
	struct cgp_sq_chunk *c;

	if (need + sizeof(*c) > size)
		size = (need + sizeof(*c) + 4095) & ~(size_t)4095;
	if (size == CGP_SQ_CHUNK && q->spare) {
		c = q->spare;
		q->spare = c->next;
		q->spares--;
	} else {
		c = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (c == MAP_FAILED)
			return NULL;
	}
	c->next = NULL;
	c->size = size;
	c->used = c->waste = 0;
	return c;
}

static struct cgp_sq_rec *rec_at(struct cgp_sq_pos p)
{
	return (struct cgp_sq_rec *)(p.c->data + p.off);
}

/* A position at the end of a chunk that has a successor means the start of the successor. */
static struct cgp_sq_pos normal(struct cgp_sq_pos p)
{
	while (p.c && p.off == p.c->used && p.c->next) {
		p.c = p.c->next;
		p.off = 0;
	}
	return p;
}

size_t cgp_sq_push_cost(const struct cgp_sq *q, size_t len)
{
	size_t size = cgp_sq_rec_size(len);

	return q->n && room(q->tail) < size ? size + room(q->tail) : size;
}

int cgp_sq_push(struct cgp_sq *q, uint64_t seq, uint32_t seg, const void *data, size_t len)
{
	size_t size = cgp_sq_rec_size(len);
	struct cgp_sq_rec *r;

	if (len > UINT32_MAX)
		return -E2BIG;
	if (!q->n && q->tail && room(q->tail) < size)
		cgp_sq_free(q); /* an empty chunk too small for this record: the record gets one of its own */
	if (!q->tail || room(q->tail) < size) {
		struct cgp_sq_chunk *c = chunk_new(q, size);

		if (!c)
			return -ENOMEM;
		q->mapped += c->size;
		if (++q->chunks > q->peak)
			q->peak = q->chunks;
		if (q->tail) {
			q->tail->waste = room(q->tail);
			q->bytes += q->tail->waste;
			q->tail->next = c;
		} else {
			q->head = c;
			q->head_off = 0;
			q->cur = (struct cgp_sq_pos){c, 0};
		}
		q->tail = c;
	}
	r = (struct cgp_sq_rec *)(q->tail->data + q->tail->used);
	r->seq = seq;
	r->len = (uint32_t)len;
	r->seg = seg;
	if (len)
		memcpy(r->data, data, len);
	q->tail->used += size;
	q->n++;
	q->bytes += size;
	return 0;
}

struct cgp_sq_rec *cgp_sq_head(const struct cgp_sq *q)
{
	return q->n ? rec_at((struct cgp_sq_pos){q->head, q->head_off}) : NULL;
}

static void trim_spares(struct cgp_sq *q)
{
	while (q->spares > q->spare_max) {
		struct cgp_sq_chunk *c = q->spare;

		q->spare = c->next;
		q->spares--;
		munmap(c, c->size);
	}
}

/* Down to one chunk: the round that ends says how many spares the next may use. */
static void end_round(struct cgp_sq *q)
{
	q->spare_max = q->peak > CGP_SQ_SPARE_FROM ? q->peak - 1 : 0; /* all but the one the queue keeps */
	q->peak = 1;
	trim_spares(q);
}

/* While records are held, (head, head_off) is the oldest one; an emptied head chunk is unmapped at once, except
 * the last one, which starts over. */
void cgp_sq_pop(struct cgp_sq *q)
{
	size_t size;

	if (!q->n)
		return;
	size = cgp_sq_rec_size(cgp_sq_head(q)->len);
	q->head_off += size;
	q->n--;
	q->bytes -= size;
	if (q->sent)
		q->sent--;
	else
		q->cur = (struct cgp_sq_pos){q->head, q->head_off};
	if (q->head_off < q->head->used)
		return;
	if (q->head->next) {
		struct cgp_sq_chunk *c = q->head;

		if (q->cur.c == c)
			q->cur = (struct cgp_sq_pos){c->next, 0};
		q->head = c->next;
		q->head_off = 0;
		q->mapped -= c->size;
		q->bytes -= c->waste;
		q->chunks--;
		if (c->size == CGP_SQ_CHUNK && q->spares < q->spare_max) {
			c->next = q->spare;
			q->spare = c;
			q->spares++;
		} else {
			munmap(c, c->size);
		}
		if (q->chunks == 1)
			end_round(q);
	} else {
		q->head->used = 0;
		q->head_off = 0;
		q->cur = (struct cgp_sq_pos){q->head, 0};
	}
}

struct cgp_sq_rec *cgp_sq_unsent(struct cgp_sq *q)
{
	if (q->sent >= q->n)
		return NULL;
	q->cur = normal(q->cur);
	return rec_at(q->cur);
}

void cgp_sq_mark_sent(struct cgp_sq *q)
{
	struct cgp_sq_rec *r = cgp_sq_unsent(q);

	if (!r)
		return;
	q->cur.off += cgp_sq_rec_size(r->len);
	q->sent++;
}

void cgp_sq_rewind(struct cgp_sq *q)
{
	q->cur = (struct cgp_sq_pos){q->head, q->head_off};
	q->sent = 0;
}

void cgp_sq_free(struct cgp_sq *q)
{
	while (q->head) {
		struct cgp_sq_chunk *c = q->head;

		q->head = c->next;
		munmap(c, c->size);
	}
	q->spare_max = 0;
	trim_spares(q);
	memset(q, 0, sizeof(*q));
}
