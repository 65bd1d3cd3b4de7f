// SPDX-License-Identifier: GPL-2.0
/* Ring of recent events: since() lookups, eviction by count and by bytes, and the Gap a consumer gets for
 * what was pushed out before it read it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_ring.h"
#include "heap.h"

/* Pushes seq with a payload naming it (len bytes, at least the digits). */
static void push(struct cgp_event_ring *r, uint64_t seq, size_t len)
{
	static char buf[32768];

	memset(buf, 'x', sizeof(buf));
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)seq);
	assert_int_equal(cgp_event_ring_push(r, seq, buf, len), 0);
}

/* Everything a consumer that has seen up to `after` reads, as seqs, with a gap written as -first,-last. */
static size_t read_all(const struct cgp_event_ring *r, uint64_t after, int64_t *out, size_t max)
{
	const struct cgp_ring_event *ev;
	uint64_t first, last;
	size_t n = 0;

	for (;;) {
		switch (cgp_event_ring_since(r, after, &ev, &first, &last)) {
		case CGP_RING_WAIT:
			return n;
		case CGP_RING_GAP:
			assert_true(n + 2 <= max);
			assert_true(first == after + 1 && last >= first);
			out[n++] = -(int64_t)first;
			out[n++] = -(int64_t)last;
			after = last;
			break;
		case CGP_RING_EVENT: {
			char want[32];

			snprintf(want, sizeof(want), "%llu", (unsigned long long)ev->seq);
			assert_memory_equal(ev->data, want, strlen(want));
			assert_true(ev->seq > after);
			assert_true(n < max);
			out[n++] = (int64_t)ev->seq;
			after = ev->seq;
			break;
		}
		}
	}
}

static void test_since(void **state)
{
	struct cgp_event_ring *r = cgp_event_ring_new(8, 1 << 20);
	int64_t got[32];
	const struct cgp_ring_event *ev;
	uint64_t f, l;

	(void)state;
	assert_non_null(r);
	assert_int_equal(cgp_event_ring_since(r, 0, &ev, &f, &l), CGP_RING_WAIT);
	for (uint64_t s = 1; s <= 5; s++)
		push(r, s, 16);
	assert_int_equal(read_all(r, 0, got, 32), 5);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[4], 5);
	assert_int_equal(read_all(r, 3, got, 32), 2);
	assert_int_equal(got[0], 4);
	assert_int_equal(got[1], 5);
	assert_int_equal(read_all(r, 5, got, 32), 0);
	/* a consumer ahead of the ring (another instance's seq) just waits; the HTTP layer refuses it earlier */
	assert_int_equal(read_all(r, 99, got, 32), 0);

	/* seqs only grow */
	assert_int_equal(cgp_event_ring_push(r, 5, "5", 1), -EINVAL);
	assert_int_equal(cgp_event_ring_push(r, 2, "2", 1), -EINVAL);
	cgp_event_ring_free(r);
}

static void test_evict_by_count_gives_gap(void **state)
{
	struct cgp_event_ring *r = cgp_event_ring_new(4, 1 << 20);
	struct cgp_event_ring_stats st;
	int64_t got[32];

	(void)state;
	for (uint64_t s = 1; s <= 10; s++)
		push(r, s, 16);
	cgp_event_ring_get_stats(r, &st);
	assert_int_equal(st.events, 4);
	assert_int_equal(st.bytes, 64);
	assert_int_equal(st.first_seq, 7);
	assert_int_equal(st.last_seq, 10);
	assert_int_equal(st.evicted_total, 6);
	assert_int_equal(st.evicted_upto, 6);

	/* seen 2: missed 3..6, then 7..10 */
	assert_int_equal(read_all(r, 2, got, 32), 6);
	assert_int_equal(got[0], -3);
	assert_int_equal(got[1], -6);
	assert_int_equal(got[2], 7);
	assert_int_equal(got[5], 10);
	/* from the very start: 1..6 gone */
	assert_int_equal(read_all(r, 0, got, 32), 6);
	assert_int_equal(got[0], -1);
	assert_int_equal(got[1], -6);
	/* seen 6 exactly: nothing missed */
	assert_int_equal(read_all(r, 6, got, 32), 4);
	assert_int_equal(got[0], 7);
	cgp_event_ring_free(r);
}

static void test_evict_by_bytes(void **state)
{
	struct cgp_event_ring *r = cgp_event_ring_new(100, 1000);
	struct cgp_event_ring_stats st;
	int64_t got[32];

	(void)state;
	for (uint64_t s = 1; s <= 5; s++)
		push(r, s, 300);
	cgp_event_ring_get_stats(r, &st);
	assert_int_equal(st.events, 3);
	assert_int_equal(st.bytes, 900);
	assert_int_equal(st.first_seq, 3);
	push(r, 6, 100); /* fits beside 3..5 */
	cgp_event_ring_get_stats(r, &st);
	assert_int_equal(st.events, 4);
	assert_int_equal(st.bytes, 1000);
	push(r, 7, 1); /* one byte over: the oldest goes */
	cgp_event_ring_get_stats(r, &st);
	assert_int_equal(st.first_seq, 4);
	assert_int_equal(st.bytes, 701);
	assert_int_equal(read_all(r, 1, got, 32), 6);
	assert_int_equal(got[0], -2);
	assert_int_equal(got[1], -3);
	assert_int_equal(got[2], 4);
	assert_int_equal(got[5], 7);
	cgp_event_ring_free(r);
}

/* An event larger than the whole ring is never held: a consumer gets a Gap for it, not a silent jump. */
static void test_too_big(void **state)
{
	struct cgp_event_ring *r = cgp_event_ring_new(100, 100);
	static char big[101];
	int64_t got[32];

	(void)state;
	push(r, 1, 10);
	push(r, 2, 10);
	assert_int_equal(cgp_event_ring_push(r, 3, big, sizeof(big)), -E2BIG);
	push(r, 4, 10);
	assert_int_equal(read_all(r, 1, got, 32), 3);
	assert_int_equal(got[0], -2);
	assert_int_equal(got[1], -3);
	assert_int_equal(got[2], 4);
	cgp_event_ring_free(r);
}

/* Seqs from the publisher go up by one; the ring still finds the right place when they do not. */
static void test_sparse_seqs_and_wraparound(void **state)
{
	struct cgp_event_ring *r = cgp_event_ring_new(5, 1 << 20);
	int64_t got[32];

	(void)state;
	for (uint64_t s = 10; s <= 100; s += 10)
		push(r, s, 8); /* 60..100 held, the array wrapped around */
	assert_int_equal(read_all(r, 75, got, 32), 3);
	assert_int_equal(got[0], 80);
	assert_int_equal(got[2], 100);
	assert_int_equal(read_all(r, 60, got, 32), 4);
	assert_int_equal(got[0], 70);
	assert_int_equal(read_all(r, 49, got, 32), 7);
	assert_int_equal(got[0], -50);
	assert_int_equal(got[1], -50);
	assert_int_equal(got[2], 60);
	cgp_event_ring_free(r);
}

/* The agent's ring (16,384 events, 1 MiB): what it costs is what it holds. Its index of event slots grows with
 * the events held; a full-size index was 384 KiB from the start, and all of it resident once the ring had gone
 * round. The events' bytes go into one buffer mapped whole, of which only the pages written cost RSS. Events of
 * ~240 B (a sample's) fill the byte bound at ~4,400. */
static void test_memory_follows_what_is_held(void **state)
{
	const size_t max_events = 16384, max_bytes = 1u << 20, len = 240;
	struct cgp_event_ring *r;
	struct cgp_event_ring_stats st;
	size_t base, few, full;
	uint64_t seq = 0;

	(void)state;
	if (!HEAP_FIGURES_ARE_MALLOCS) {
		printf("# skipped under ASan: its allocator is not malloc's, whose figures this test reads\n");
		skip();
	}
	base = heap_in_use();
	r = cgp_event_ring_new(max_events, max_bytes);
	assert_non_null(r);
	for (int i = 0; i < 100; i++)
		push(r, ++seq, len);
	cgp_event_ring_get_stats(r, &st);
	few = heap_in_use() - base + st.touched;
	for (size_t i = 0; i < 3 * max_bytes / len; i++) /* round the ring three times */
		push(r, ++seq, len);
	cgp_event_ring_get_stats(r, &st);
	full = heap_in_use() - base + st.touched;
	printf("# 100 events of %zu B: %zu B of heap and buffer; the ring full (1 MiB of events), gone round: %zu B\n",
	       len, few, full);
	assert_true(few <= 100 * (len + 32) + 8192);
	/* the events, the buffer's slack, and the slots of the events held (rounded up to a power of two) */
	assert_true(full <= max_bytes + (16u << 10) + max_bytes / len * 2 * sizeof(struct cgp_ring_event) + 16384);
	cgp_event_ring_free(r);
}

/* A push copies into the ring's own buffer: no malloc per event (a malloc and a free per sample were most of what a
 * push cost). Only the index of slots is allocated, as it grows, and an event larger than the buffer's slack. */
static unsigned long mallocs;
#if HEAP_FIGURES_ARE_MALLOCS /* ASan's allocator stands in front of malloc's: counting there would bypass it */
extern void *__libc_malloc(size_t n);

void *malloc(size_t n)
{
	mallocs++;
	return __libc_malloc(n);
}
#endif

static void test_no_malloc_per_event(void **state)
{
	struct cgp_event_ring *r = cgp_event_ring_new(16384, 1u << 20);
	unsigned long before;
	int64_t got[8];
	uint64_t seq = 0;

	(void)state;
	assert_non_null(r);
	if (!HEAP_FIGURES_ARE_MALLOCS) {
		cgp_event_ring_free(r);
		printf(
		    "# skipped under ASan: its allocator stands in front of malloc's, whose calls this test counts\n");
		skip();
	}
	for (int i = 0; i < 20000; i++) /* past the index's largest size (the byte bound holds ~4,400 of these) */
		push(r, ++seq, 240);
	before = mallocs;
	for (int i = 0; i < 20000; i++) /* round the ring ~4.5 times, events of varied size */
		push(r, ++seq, 100 + (size_t)(i * 37) % 900);
	printf("# 20,000 pushes, ring full: %lu mallocs\n", mallocs - before);
	assert_int_equal(mallocs - before, 0);
	assert_int_equal(read_all(r, seq - 2, got, 8), 2); /* what is held still reads back as pushed */
	cgp_event_ring_free(r);
}

/* Events past the buffer's slack each take their own copy, mixed with small ones, and all read back. */
static void test_large_events_beside_small(void **state)
{
	struct cgp_event_ring *r = cgp_event_ring_new(64, 64u << 10);
	struct cgp_event_ring_stats st;
	int64_t got[256];
	uint64_t seq = 0;
	size_t n;

	(void)state;
	assert_non_null(r);
	for (int i = 0; i < 500; i++)
		push(r, ++seq, i % 7 == 3 ? 1000 * (size_t)(17 + i % 11) : 8 + (size_t)(i * 131) % 1000);
	cgp_event_ring_get_stats(r, &st);
	n = read_all(r, 0, got, 256);
	assert_true(n >= 3);
	assert_true(got[0] < 0 && got[1] == -(int64_t)st.evicted_upto); /* the gap first, then every held event */
	assert_int_equal(n - 2, st.events);
	assert_true(st.bytes <= 64u << 10);
	cgp_event_ring_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_since),
	    cmocka_unit_test(test_evict_by_count_gives_gap),
	    cmocka_unit_test(test_evict_by_bytes),
	    cmocka_unit_test(test_too_big),
	    cmocka_unit_test(test_sparse_seqs_and_wraparound),
	    cmocka_unit_test(test_memory_follows_what_is_held),
	    cmocka_unit_test(test_no_malloc_per_event),
	    cmocka_unit_test(test_large_events_beside_small),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
