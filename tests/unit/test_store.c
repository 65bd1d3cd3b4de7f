// SPDX-License-Identifier: GPL-2.0
/* The collector's store: an Ack only for what is on disk. A write that fails (the file size limit stands in for
 * a full disk: write(2) fails with EFBIG as it would with ENOSPC) takes the group back: no Ack, the file cut back
 * to its last synced length, and the same events stored once the agent sends them again. Real files. */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "collector/store.h"
#include "events/event_encode.h"
#include "events/frame.h"
#include "events/wire.h"
#include "fixtures.h"

struct sink_log {
	unsigned acks, fails;
	uint64_t acked;
	char why[200];
};

static void on_ack(void *owner, const char *instance_id, uint64_t acked_seq, void *ctx)
{
	struct sink_log *l = ctx;

	(void)owner;
	assert_string_equal(instance_id, "inst");
	l->acks++;
	l->acked = acked_seq;
}

static void on_fail(void *owner, const char *why, void *ctx)
{
	struct sink_log *l = ctx;

	(void)owner;
	l->fails++;
	snprintf(l->why, sizeof(l->why), "%s", why);
}

/* A decoded batch of samples first..last of "inst" (none when last < first) with base_seq base. */
static struct cgp_wire_msg batch_base(uint64_t first, uint64_t last, uint64_t base, struct cgp_buf *frame,
				      struct cgp_buf *scratch)
{
	struct cgp_batch b;
	struct cgp_event_build eb;
	struct cgp_sample s = fx_sample();
	struct cgp_attribution a = fx_attribution(FX_WEB);
	struct cgp_wire_msg m;
	struct cgp_buf enc = CGP_BUF_INIT;
	const uint8_t *f;
	size_t len;
	char why[128];
	struct cgp_frame_decoder dec;

	cgp_batch_init(&b);
	for (uint64_t q = first; q <= last; q++) {
		struct cgp_event_meta meta = {.node = "n", .instance_id = "inst", .seq = q};

		cgp_event_build_sample(&eb, &meta, &s, &a);
		cgp_buf_clear(&enc);
		assert_int_equal(cgp_event_pack(&eb, &enc), 0);
		assert_int_equal(cgp_batch_add(&b, cgp_buf_head(&enc), cgp_buf_size(&enc)), 0);
	}
	cgp_buf_clear(frame);
	assert_int_equal(cgp_batch_finish(&b, "inst", base, 1, frame), 0);
	cgp_frame_decoder_init(&dec, 1 << 24);
	assert_int_equal(cgp_frame_decoder_feed(&dec, cgp_buf_head(frame), cgp_buf_size(frame)), 0);
	assert_int_equal(cgp_frame_decoder_next(&dec, &f, &len), 1);
	/* the decoded batch points into the frame: keep a copy that outlives the decoder */
	cgp_buf_clear(frame);
	assert_int_equal(cgp_buf_append(frame, f, len), 0);
	cgp_frame_decoder_free(&dec);
	assert_int_equal(
	    cgp_wire_decode(cgp_buf_head(frame), cgp_buf_size(frame), 1 << 26, scratch, &m, why, sizeof(why)), 0);
	cgp_batch_free(&b);
	cgp_buf_free(&enc);
	return m;
}

/* ... as an agent sends it. */
static struct cgp_wire_msg batch(uint64_t first, uint64_t last, struct cgp_buf *frame, struct cgp_buf *scratch)
{
	return batch_base(first, last, first, frame, scratch);
}

static off_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_ack_only_what_is_on_disk(void **state)
{
	char path[] = "/tmp/cgp-store-test.XXXXXX", why[200];
	struct sink_log log = {0};
	struct cgp_store_sink sink = {.ack = on_ack, .fail = on_fail, .ctx = &log};
	struct cgp_buf frame = CGP_BUF_INIT, scratch = CGP_BUF_INIT;
	struct cgp_store *st;
	struct cgp_store_stats ss;
	struct cgp_wire_msg m;
	struct rlimit old, lim;
	uint64_t stored, dups;
	int owner, fd = mkstemp(path);
	off_t synced;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cgp_store_open(&st, path, why, sizeof(why)), 0);
	m = batch(1, 10, &frame, &scratch);
	assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
	cgp_wire_msg_free(&m);
	assert_int_equal(stored, 10);
	assert_int_equal(log.acks, 0); /* nothing before the group is durable */
	cgp_store_commit(st, &sink);
	assert_int_equal(log.acks, 1);
	assert_int_equal(log.acked, 10);
	synced = size_of(path);
	assert_true(synced > 0);

	/* the disk fills up in the middle of a large group */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)synced + 100000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	m = batch(11, 1000, &frame, &scratch);
	assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
	cgp_wire_msg_free(&m);
	cgp_store_commit(st, &sink);
	assert_int_equal(log.acks, 1); /* no Ack for what was not written */
	assert_int_equal(log.fails, 1);
	assert_non_null(strstr(log.why, "not acknowledged"));
	assert_int_equal(size_of(path), synced); /* no half record left in front of the next */
	cgp_store_get_stats(st, &ss);
	assert_int_equal(ss.failed_groups, 1);
	assert_int_equal(ss.events_stored, 10);

	/* space is back: the agent sends the same events again, and they are new */
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	m = batch(11, 1000, &frame, &scratch);
	assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
	cgp_wire_msg_free(&m);
	assert_int_equal(stored, 990);
	assert_int_equal(dups, 0);
	cgp_store_commit(st, &sink);
	assert_int_equal(log.acks, 2);
	assert_int_equal(log.acked, 1000);
	/* a resend of what is stored: duplicates, acknowledged at once */
	m = batch(5, 20, &frame, &scratch);
	assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
	cgp_wire_msg_free(&m);
	assert_int_equal(dups, 16);
	cgp_store_forget(st, &owner); /* its connection went: nothing is handed to it */
	cgp_store_commit(st, &sink);
	assert_int_equal(log.acks, 2);
	cgp_store_get_stats(st, &ss);
	assert_int_equal(ss.events_stored, 1000);
	assert_true(ss.durable);
	cgp_store_close(st);

	/* what is in the file is read back: each seq once */
	assert_int_equal(cgp_store_open(&st, path, why, sizeof(why)), 0);
	cgp_store_get_stats(st, &ss);
	assert_int_equal(ss.replayed, 1000);
	assert_int_equal(ss.instances, 1);
	cgp_store_close(st);
	unlink(path);
	cgp_buf_free(&frame);
	cgp_buf_free(&scratch);
}

/* A stored line with a number past int64 (valid JSON; jansson refuses it as an integer) is still read back: its
 * seq counts against a resend. A seq past 2^53 cannot be kept exact, and its line is skipped. */
static void test_replay_numbers_past_int64(void **state)
{
	static const char lines[] =
	    "{\"type\":\"sample\",\"instance_id\":\"inst\",\"seq\":1,\"mem_bytes\":18446744073709551615}\n"
	    "{\"type\":\"sample\",\"instance_id\":\"inst\",\"seq\":2,\"mem_bytes\":1}\n"
	    "{\"type\":\"sample\",\"instance_id\":\"inst\",\"seq\":18446744073709551615}\n";
	char path[] = "/tmp/cgp-store-test.XXXXXX", why[200];
	struct cgp_buf frame = CGP_BUF_INIT, scratch = CGP_BUF_INIT;
	struct cgp_store *st;
	struct cgp_store_stats ss;
	struct cgp_wire_msg m;
	uint64_t stored, dups;
	int owner, fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, lines, sizeof(lines) - 1), (ssize_t)(sizeof(lines) - 1));
	close(fd);
	assert_int_equal(cgp_store_open(&st, path, why, sizeof(why)), 0);
	cgp_store_get_stats(st, &ss);
	assert_int_equal(ss.replayed, 2);
	m = batch(1, 3, &frame, &scratch);
	assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
	cgp_wire_msg_free(&m);
	assert_int_equal(dups, 2);
	assert_int_equal(stored, 1);
	cgp_store_close(st);
	unlink(path);
	cgp_buf_free(&frame);
	cgp_buf_free(&scratch);
}

/* --out to a device or a FIFO (/dev/null for a benchmark): nothing to sync or read back, and each group is
 * acknowledged once written (fdatasync would fail with EINVAL and no Ack would ever be sent). */
static void test_not_a_file(void **state)
{
	char why[200];
	struct sink_log log = {0};
	struct cgp_store_sink sink = {.ack = on_ack, .fail = on_fail, .ctx = &log};
	struct cgp_buf frame = CGP_BUF_INIT, scratch = CGP_BUF_INIT;
	struct cgp_store *st;
	struct cgp_store_stats ss;
	struct cgp_wire_msg m;
	uint64_t stored, dups;
	int owner;

	(void)state;
	assert_int_equal(cgp_store_open(&st, "/dev/null", why, sizeof(why)), 0);
	for (uint64_t first = 1; first < 300; first += 100) {
		m = batch(first, first + 99, &frame, &scratch);
		assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
		cgp_wire_msg_free(&m);
		cgp_store_commit(st, &sink);
	}
	assert_int_equal(log.fails, 0);
	assert_int_equal(log.acks, 3);
	assert_int_equal(log.acked, 300);
	cgp_store_get_stats(st, &ss);
	assert_int_equal(ss.events_stored, 300);
	assert_int_equal(ss.failed_groups, 0);
	assert_false(ss.durable);
	cgp_store_close(st);
	cgp_buf_free(&frame);
	cgp_buf_free(&scratch);
}

/* base_seq moves the floor only up to what a batch carries (issue 15: one empty batch with base_seq 2^62 used to
 * silence an agent). A legitimate jump over dropped seqs, to the batch's first event, still moves it. */
static void test_floor_only_by_what_is_carried(void **state)
{
	char path[] = "/tmp/cgp-store-floor.XXXXXX", why[200];
	struct sink_log log = {0};
	struct cgp_store_sink sink = {.ack = on_ack, .fail = on_fail, .ctx = &log};
	struct cgp_buf frame = CGP_BUF_INIT, scratch = CGP_BUF_INIT;
	struct cgp_store *st;
	struct cgp_store_stats ss;
	struct cgp_wire_msg m;
	uint64_t stored, dups;
	int owner, fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cgp_store_open(&st, path, why, sizeof(why)), 0);
	m = batch(1, 10, &frame, &scratch);
	assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
	cgp_wire_msg_free(&m);
	cgp_store_commit(st, &sink);
	assert_int_equal(log.acked, 10);

	m = batch_base(1, 0, 1ull << 62, &frame, &scratch); /* empty */
	assert_non_null(strstr(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)), "empty batch"));
	cgp_wire_msg_free(&m);
	m = batch_base(20, 20, 1ull << 62, &frame, &scratch);
	assert_non_null(
	    strstr(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)), "carries seq 20"));
	cgp_wire_msg_free(&m);
	m = batch_base(1, 0, 5, &frame, &scratch); /* empty, claims nothing new: acknowledged */
	assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
	cgp_wire_msg_free(&m);
	cgp_store_commit(st, &sink);
	assert_int_equal(log.acked, 10);

	m = batch_base(30, 31, 30, &frame, &scratch); /* 11..29 dropped by the agent */
	assert_null(cgp_store_batch(st, m.batch, &owner, &stored, &dups, why, sizeof(why)));
	cgp_wire_msg_free(&m);
	cgp_store_commit(st, &sink);
	assert_int_equal(log.acked, 31);
	cgp_store_get_stats(st, &ss);
	assert_int_equal(ss.refused_floor, 2);
	assert_int_equal(ss.events_stored, 12);
	cgp_store_close(st);
	unlink(path);
	cgp_buf_free(&frame);
	cgp_buf_free(&scratch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ack_only_what_is_on_disk),
	    cmocka_unit_test(test_floor_only_by_what_is_carried),
	    cmocka_unit_test(test_not_a_file),
	    cmocka_unit_test(test_replay_numbers_past_int64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
