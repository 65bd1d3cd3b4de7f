// SPDX-License-Identifier: GPL-2.0
/* Spool: send order, ack, rewind after a reconnect, and what goes first when it is full. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <cmocka.h>

#include "events/spool.h"
#include "events/spool_queue.h"

/* Chunks are mapped: count the mappings made (glibc's own mmap does the work). */
static unsigned long maps;
extern void *__mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	maps++;
	return __mmap(addr, len, prot, flags, fd, off);
}

/* Pushes seq with a payload naming it, so the content can be checked too. */
static void push(struct cgp_spool *sp, uint64_t seq, bool sample, size_t len)
{
	char buf[512];

	memset(buf, 'x', sizeof(buf));
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)seq);
	assert_int_equal(cgp_spool_push(sp, seq, sample, buf, len), 0);
}

/* Hands out every unsent event; returns how many, and their seqs in out. */
static size_t drain(struct cgp_spool *sp, uint64_t *out, size_t max)
{
	const struct cgp_spool_entry *e;
	size_t n = 0;

	while ((e = cgp_spool_peek_unsent(sp))) {
		char want[32];

		snprintf(want, sizeof(want), "%llu", (unsigned long long)e->seq);
		assert_memory_equal(e->data, want, strlen(want));
		assert_true(n < max);
		out[n++] = e->seq;
		cgp_spool_mark_sent(sp);
	}
	return n;
}

static void test_order_ack_rewind(void **state)
{
	struct cgp_spool *sp = cgp_spool_new("me", 0, 100);
	uint64_t got[16];
	struct cgp_spool_stats st;

	(void)state;
	/* samples and OOM/alert events interleaved: sending merges them back into seq order */
	push(sp, 1, true, 20);
	push(sp, 2, false, 20);
	push(sp, 3, true, 20);
	push(sp, 4, true, 20);
	push(sp, 5, false, 20);
	assert_int_equal(cgp_spool_base_seq(sp, "me"), 1);
	assert_int_equal(drain(sp, got, 16), 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(got[i], i + 1);
	push(sp, 6, true, 20);
	assert_int_equal(drain(sp, got, 16), 1);
	assert_int_equal(got[0], 6);

	assert_int_equal(cgp_spool_ack(sp, "me", 3), 3);
	assert_int_equal(cgp_spool_base_seq(sp, "me"), 4);
	/* a stale ack releases nothing */
	assert_int_equal(cgp_spool_ack(sp, "me", 2), 0);
	/* reconnect: everything unacknowledged again, oldest first */
	cgp_spool_rewind(sp);
	assert_int_equal(drain(sp, got, 16), 3);
	assert_int_equal(got[0], 4);
	assert_int_equal(got[1], 5);
	assert_int_equal(got[2], 6);
	assert_int_equal(cgp_spool_ack(sp, "me", 6), 3);
	assert_null(cgp_spool_peek_unsent(sp));
	/* empty: every seq so far is done */
	assert_int_equal(cgp_spool_base_seq(sp, "me"), 7);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.events, 0);
	assert_int_equal(st.bytes, 0);
	assert_int_equal(st.pushed_total, 6);
	assert_int_equal(st.acked_total, 6);
	assert_int_equal(st.acked_seq, 6);
	cgp_spool_free(sp);
}

/* mark_sent hands out the queue the peek just found without looking again; a call between the two that changes the
 * queues (here a push that drops the peeked sample) makes it look again, so the right event is handed out. */
static void test_mark_after_peek_and_push(void **state)
{
	struct cgp_spool *sp = cgp_spool_new("me", 0, 2);
	const struct cgp_spool_entry *e;
	uint64_t got[4];

	(void)state;
	push(sp, 1, true, 20);
	push(sp, 2, false, 20);
	e = cgp_spool_peek_unsent(sp);
	assert_int_equal(e->seq, 1);
	push(sp, 3, false, 20);	 /* full: sample 1 goes */
	cgp_spool_mark_sent(sp); /* hands out 2, the oldest unsent now */
	assert_int_equal(cgp_spool_in_flight(sp), 1);
	assert_int_equal(drain(sp, got, 4), 1);
	assert_int_equal(got[0], 3);
	cgp_spool_free(sp);
}

static void test_refusals(void **state)
{
	struct cgp_spool *sp = cgp_spool_new("me", 100, 0);

	(void)state;
	assert_null(cgp_spool_new("me", 0, 0));
	push(sp, 5, true, 10);
	assert_int_equal(cgp_spool_push(sp, 5, true, "x", 1), -EINVAL);
	assert_int_equal(cgp_spool_push(sp, 4, false, "x", 1), -EINVAL);
	char big[101] = {0};

	assert_int_equal(cgp_spool_push(sp, 6, false, big, sizeof(big)), -E2BIG);
	/* a refused push changes nothing */
	assert_int_equal(cgp_spool_base_seq(sp, "me"), 5);
	cgp_spool_free(sp);
}

/* Full by count: the oldest samples go, OOM kills and alerts stay while any sample is left. */
static void test_full_drops_samples_first(void **state)
{
	struct cgp_spool *sp = cgp_spool_new("me", 0, 4);
	struct cgp_spool_drops d;
	struct cgp_spool_stats st;
	uint64_t got[16];

	(void)state;
	push(sp, 1, false, 10); /* OOM */
	push(sp, 2, true, 10);
	push(sp, 3, true, 10);
	push(sp, 4, false, 10); /* alert */
	assert_false(cgp_spool_take_drops(sp, &d));
	push(sp, 5, true, 10); /* drops 2 */
	push(sp, 6, true, 10); /* drops 3 */
	assert_int_equal(drain(sp, got, 16), 4);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 4);
	assert_int_equal(got[2], 5);
	assert_int_equal(got[3], 6);
	assert_true(cgp_spool_take_drops(sp, &d));
	assert_int_equal(d.samples, 2);
	assert_int_equal(d.others, 0);
	assert_int_equal(d.first_seq, 2);
	assert_int_equal(d.last_seq, 3);
	assert_false(cgp_spool_take_drops(sp, &d));
	/* the holes at 2 and 3 do not hold back base_seq: 1 is still the oldest held */
	assert_int_equal(cgp_spool_base_seq(sp, "me"), 1);
	assert_int_equal(cgp_spool_ack(sp, "me", 1), 1);
	assert_int_equal(cgp_spool_base_seq(sp, "me"), 4);

	/* only OOM/alert events left: then the oldest of those goes */
	push(sp, 7, false, 10);
	push(sp, 8, false, 10);	 /* drops sample 5 */
	push(sp, 9, false, 10);	 /* drops sample 6 */
	push(sp, 10, false, 10); /* no sample left: drops 4 */
	assert_true(cgp_spool_take_drops(sp, &d));
	assert_int_equal(d.samples, 2);
	assert_int_equal(d.others, 1);
	assert_int_equal(d.first_seq, 4);
	assert_int_equal(d.last_seq, 6);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.events, 4);
	assert_int_equal(st.dropped_samples_total, 4);
	assert_int_equal(st.dropped_others_total, 1);
	/* 7..10 were pushed after the last drain: all unsent */
	assert_int_equal(drain(sp, got, 16), 4);
	assert_int_equal(got[0], 7);
	assert_int_equal(got[3], 10);
	cgp_spool_free(sp);
}

/* Full by bytes: enough old samples go to make room for one large event. A record costs its event padded to 8
 * bytes plus a 16-byte header: 40 bytes for 20, 136 for 120. */
static void test_full_by_bytes(void **state)
{
	struct cgp_spool *sp = cgp_spool_new("me", 200, 0);
	struct cgp_spool_drops d;
	struct cgp_spool_stats st;
	uint64_t got[16];

	(void)state;
	for (uint64_t s = 1; s <= 5; s++)
		push(sp, s, s != 3, 20); /* 3 is an OOM */
	/* hand out 1..3 only: sent but unacknowledged events can be dropped too, and the cursor must follow */
	for (int i = 0; i < 3; i++)
		cgp_spool_mark_sent(sp);
	push(sp, 6, true, 120); /* 200 held, needs 136: samples 1, 2, 4, 5 go, OOM 3 stays */
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.events, 2);
	assert_int_equal(st.bytes, 176);
	assert_true(cgp_spool_take_drops(sp, &d));
	assert_int_equal(d.samples, 4);
	assert_int_equal(d.others, 0);
	assert_int_equal(d.first_seq, 1);
	assert_int_equal(d.last_seq, 5);
	/* 3 was handed out before; 6 is next */
	assert_int_equal(drain(sp, got, 16), 1);
	assert_int_equal(got[0], 6);
	cgp_spool_rewind(sp);
	assert_int_equal(drain(sp, got, 16), 2);
	assert_int_equal(got[0], 3);
	assert_int_equal(got[1], 6);
	cgp_spool_free(sp);
}

/* What the spool maps is what it holds, plus at most a partly released and a partly filled chunk per queue:
 * the bound on --spool-bytes is a bound on memory. Also with events larger than a chunk. */
static void test_memory_is_what_it_holds(void **state)
{
	const size_t bound = 4u << 20, slack = 4 * (64u << 10);
	struct cgp_spool *sp = cgp_spool_new("me", bound, 0);
	static char big[100 << 10];
	struct cgp_spool_stats st;
	uint64_t seq = 0, seed = 1;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		size_t len = 100 + (seed >> 33) % 300;

		seq++;
		if (i % 10000 == 5000) {
			memset(big, 'b', sizeof(big));
			assert_int_equal(cgp_spool_push(sp, seq, false, big, sizeof(big)), 0);
		} else {
			push(sp, seq, seq % 50 != 0, len);
		}
		if (i % 3 == 0)
			cgp_spool_mark_sent(sp);
		if (i % 1000 == 999) {
			cgp_spool_get_stats(sp, &st);
			assert_true(st.bytes <= bound);
			assert_true(st.mapped <= st.bytes + slack);
			assert_true(st.mapped + st.spare <= bound + slack); /* spares too: the bound is one on memory */
		}
		if (i == 60000)
			cgp_spool_ack(sp, "me", seq - 5000); /* the collector is back for a moment */
	}
	cgp_spool_get_stats(sp, &st);
	assert_true(st.bytes > bound - (1u << 10));
	assert_true(st.dropped_samples_total > 50000);
	assert_int_equal(st.dropped_others_total, 0);
	cgp_spool_ack(sp, "me", seq);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.events, 0);
	assert_true(st.mapped <= 2 * (64u << 10)); /* one chunk kept per queue */
	assert_int_equal(st.spare, 0);		   /* the round that ended here gave back what it mapped */
	cgp_spool_free(sp);
}

/* One interval's samples pushed, sent and acked, `rounds` times; the mappings of the last round. */
static unsigned long rounds_of(struct cgp_spool *sp, uint64_t *seq, size_t per_round, int rounds)
{
	unsigned long before = 0;
	uint64_t got[1];

	for (int r = 0; r < rounds; r++) {
		before = maps;
		for (size_t i = 0; i < per_round; i++)
			push(sp, ++*seq, true, 232); /* a sample of the bench's cgroups, a 256-byte record */
		while (cgp_spool_peek_unsent(sp))
			cgp_spool_mark_sent(sp);
		assert_int_equal(cgp_spool_ack(sp, "me", *seq), per_round);
		assert_int_equal(drain(sp, got, 1), 0);
	}
	return maps - before;
}

/* At 1,000 containers an interval's samples take 4 chunks: each round maps them and gives them back, nothing is
 * kept between intervals (the agent's RSS there stays what it was). At 10,000 they take 40: a round keeps what
 * the last one used, mapped and faulted in once instead of once an interval. */
static void test_spares_only_for_big_rounds(void **state)
{
	struct cgp_spool *sp = cgp_spool_new("me", 64u << 20, 0);
	struct cgp_spool_stats st;
	uint64_t seq = 0;
	unsigned long small, big;

	(void)state;
	small = rounds_of(sp, &seq, 1000, 5);
	cgp_spool_get_stats(sp, &st);
	printf("# 1,000 samples a round: %lu mappings a round, %zu B of spares\n", small, st.spare);
	assert_int_equal(st.spare, 0);
	assert_true(small >= 3);
	rounds_of(sp, &seq, 2000, 3); /* an ack an interval late: two intervals held, still nothing kept */
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.spare, 0);
	big = rounds_of(sp, &seq, 10000, 5);
	cgp_spool_get_stats(sp, &st);
	printf("# 10,000 samples a round: %lu mappings a round, %zu B of spares\n", big, st.spare);
	assert_true(big <= 1); /* was 37 (every chunk but the kept one, every round), then 17 (all but 16 kept) */
	assert_true(st.spare <= 10000 * 256 + (64u << 10));
	/* back to small rounds: the spares go with the first one */
	rounds_of(sp, &seq, 1000, 1);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.spare, 0);
	cgp_spool_free(sp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_order_ack_rewind),	       cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_full_drops_samples_first),   cmocka_unit_test(test_full_by_bytes),
	    cmocka_unit_test(test_memory_is_what_it_holds),    cmocka_unit_test(test_mark_after_peek_and_push),
	    cmocka_unit_test(test_spares_only_for_big_rounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
