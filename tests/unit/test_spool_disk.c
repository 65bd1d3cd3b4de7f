// SPDX-License-Identifier: GPL-2.0
/* The spool directory: what one instance leaves is taken back by the next under its own instance id and seqs,
 * before the new one's; acknowledged and dropped events are not; a torn or corrupt tail is counted and skipped;
 * the directory and files are private; a second agent is refused; the bound holds on disk; an instance killed
 * with SIGKILL leaves every OOM kill it spooled. Real files in a temporary directory. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "events/handover.h"
#include "events/spool.h"

#define A   "aaaaaaaa-0000-4000-8000-000000000001"
#define B   "bbbbbbbb-0000-4000-8000-000000000002"
#define C   "cccccccc-0000-4000-8000-000000000003"
#define SEC 1000000000ULL

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cgp-spool-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	rmdir(dir); /* the spool makes it, 0700 */
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

/* The payload names the instance and seq, so what comes back can be checked byte for byte. */
static void payload(char *buf, size_t len, const char *id, uint64_t seq)
{
	memset(buf, '.', len);
	snprintf(buf, len, "%s/%llu", id, (unsigned long long)seq);
}

static void push(struct cgp_spool *sp, const char *id, uint64_t seq, bool sample, size_t len)
{
	char buf[4096];

	assert_true(len <= sizeof(buf));
	payload(buf, len, id, seq);
	assert_int_equal(cgp_spool_push(sp, seq, sample, buf, len), 0);
}

static struct cgp_spool *open_spool(const char *id, size_t max_bytes)
{
	struct cgp_spool *sp = cgp_spool_new(id, max_bytes, 0);
	char why[256];

	assert_non_null(sp);
	if (cgp_spool_open_dir(sp, dir, why, sizeof(why))) {
		print_error("%s\n", why);
		fail();
	}
	return sp;
}

/* Hands out everything unsent; checks each payload; returns how many, with "id/seq" strings in out. */
static size_t drain(struct cgp_spool *sp, char out[][64], size_t max)
{
	const struct cgp_spool_entry *e;
	size_t n = 0;

	while ((e = cgp_spool_peek_unsent(sp))) {
		char want[4096];

		payload(want, e->len, e->instance_id, e->seq);
		assert_memory_equal(e->data, want, e->len);
		assert_true(n < max);
		snprintf(out[n++], 64, "%.8s/%llu", e->instance_id, (unsigned long long)e->seq);
		cgp_spool_mark_sent(sp);
	}
	return n;
}

static void test_next_instance_sends_what_the_last_left(void **state)
{
	struct cgp_spool *sp = open_spool(A, 1 << 20);
	struct cgp_spool_previous prev;
	struct cgp_spool_stats st;
	char got[64][64];

	(void)state;
	cgp_spool_previous(sp, &prev);
	assert_false(prev.found); /* a new directory */
	for (uint64_t s = 1; s <= 10; s++)
		push(sp, A, s, s != 4 && s != 8, 100 + s); /* 4 and 8 are OOM kills */
	assert_int_equal(cgp_spool_ack(sp, A, 3), 3);
	cgp_spool_flush(sp, 10 * SEC);
	cgp_spool_free(sp);

	sp = open_spool(B, 1 << 20);
	cgp_spool_previous(sp, &prev);
	assert_true(prev.found);
	assert_string_equal(prev.instance_id, A);
	assert_int_equal(prev.last_seq, 10);
	assert_int_equal(prev.acked_seq, 3);
	assert_int_equal(prev.covered_seq, 10);
	assert_false(prev.lost);
	push(sp, B, 1, false, 50); /* the new instance's agent_started */
	push(sp, B, 2, true, 50);
	/* A's 4..10 first, in seq order, under A's id; then B's own */
	assert_int_equal(drain(sp, got, 64), 9);
	assert_string_equal(got[0], "aaaaaaaa/4");
	assert_string_equal(got[6], "aaaaaaaa/10");
	assert_string_equal(got[7], "bbbbbbbb/1");
	assert_string_equal(got[8], "bbbbbbbb/2");
	assert_int_equal(cgp_spool_base_seq(sp, A), 4);
	assert_int_equal(cgp_spool_base_seq(sp, B), 1);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.replayed, 7);
	assert_int_equal(st.instances, 2);
	assert_int_equal(st.journal.replay.corrupt_records, 0);
	/* A acknowledged: it is forgotten, its segments go */
	assert_int_equal(cgp_spool_ack(sp, A, 10), 7);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.instances, 1);
	assert_int_equal(cgp_spool_base_seq(sp, A), 0);
	cgp_spool_free(sp);

	/* C meets B's two events only */
	sp = open_spool(C, 1 << 20);
	assert_int_equal(drain(sp, got, 64), 2);
	assert_string_equal(got[0], "bbbbbbbb/1");
	cgp_spool_free(sp);
}

/* Samples dropped while the collector was away are not replayed, and their count is still to be reported. */
static void test_drops_survive_a_restart(void **state)
{
	struct cgp_spool *sp = cgp_spool_new(A, 64 << 10, 0);
	struct cgp_spool_drops d;
	char got[64][64], why[128];

	(void)state;
	assert_int_equal(cgp_spool_open_dir(sp, dir, why, sizeof(why)), 0);
	push(sp, A, 1, false, 1000); /* an OOM kill: kept while samples can go */
	for (uint64_t s = 2; s <= 200; s++)
		push(sp, A, s, true, 1000);
	assert_true(cgp_spool_has_drops(sp));
	cgp_spool_flush(sp, SEC);
	cgp_spool_free(sp);

	sp = open_spool(B, 64 << 10);
	assert_true(cgp_spool_take_drops(sp, &d));
	assert_string_equal(d.instance_id, A);
	assert_false(d.own);
	assert_true(d.samples > 100);
	assert_int_equal(d.others, 0);
	assert_int_equal(d.first_seq, 2);
	size_t n = drain(sp, got, 64);

	assert_true(n > 0);
	assert_string_equal(got[0], "aaaaaaaa/1");
	/* what is there and what was dropped add up to everything A spooled */
	assert_int_equal(n + d.samples, 200);
	assert_int_equal(d.last_seq, 200 - (n - 1));
	cgp_spool_free(sp);
}

/* Every segment file, by name. */
static size_t segments(char names[][400], size_t max)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strstr(de->d_name, ".samples") || strstr(de->d_name, ".others")) {
			assert_true(n < max);
			snprintf(names[n++], 400, "%s/%s", dir, de->d_name);
		}
	closedir(d);
	return n;
}

static void test_torn_and_corrupt_tails_are_skipped(void **state)
{
	struct cgp_spool *sp = open_spool(A, 1 << 20);
	struct cgp_spool_stats st;
	char got[64][64], names[8][400];
	struct stat s;
	int fd;

	(void)state;
	for (uint64_t q = 1; q <= 10; q++)
		push(sp, A, q, true, 200);
	for (uint64_t q = 11; q <= 20; q++)
		push(sp, A, q, false, 200);
	cgp_spool_free(sp);
	assert_int_equal(segments(names, 8), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(stat(names[i], &s), 0);
		if (strstr(names[i], ".samples")) {
			/* a write cut short: the last record loses its end */
			assert_int_equal(truncate(names[i], s.st_size - 7), 0);
		} else {
			/* a flipped byte inside the 6th record of the others (11..20): its checksum fails */
			char c;

			fd = open(names[i], O_RDWR);
			assert_true(fd >= 0);
			off_t at = s.st_size - 5 * (200 + 22) + 50;

			assert_int_equal(pread(fd, &c, 1, at), 1);
			c ^= 0x40;
			assert_int_equal(pwrite(fd, &c, 1, at), 1);
			close(fd);
		}
	}
	sp = open_spool(B, 1 << 20);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.journal.replay.corrupt_records, 2);
	assert_true(st.journal.replay.corrupt_bytes > 200);
	/* samples 1..9 and OOM kills 11..15: nothing after the damage, nothing damaged */
	assert_int_equal(drain(sp, got, 64), 14);
	assert_string_equal(got[8], "aaaaaaaa/9");
	assert_string_equal(got[9], "aaaaaaaa/11");
	assert_string_equal(got[13], "aaaaaaaa/15");
	cgp_spool_free(sp);
}

static void test_private_and_locked(void **state)
{
	struct cgp_spool *sp = open_spool(A, 1 << 20), *other;
	char names[8][400], why[256];
	struct stat s;

	(void)state;
	push(sp, A, 1, false, 10);
	push(sp, A, 2, true, 10);
	cgp_spool_flush(sp, SEC);
	assert_int_equal(stat(dir, &s), 0);
	assert_int_equal(s.st_mode & 0777, 0700);
	assert_int_equal(segments(names, 8), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(stat(names[i], &s), 0);
		assert_int_equal(s.st_mode & 0777, 0600);
	}
	/* a second agent on the same directory would interleave its records with ours */
	other = cgp_spool_new(B, 1 << 20, 0);
	assert_int_equal(cgp_spool_open_dir(other, dir, why, sizeof(why)), -EWOULDBLOCK);
	assert_non_null(strstr(why, "in use by another agent"));
	cgp_spool_free(other);
	cgp_spool_free(sp);
	/* a directory left open to others is closed up */
	assert_int_equal(chmod(dir, 0755), 0);
	sp = open_spool(B, 1 << 20);
	assert_int_equal(stat(dir, &s), 0);
	assert_int_equal(s.st_mode & 0777, 0700);
	cgp_spool_free(sp);
}

/* The collector away for long: the directory never holds more than the bound, and segments come and go. */
static void test_bound_on_disk(void **state)
{
	const size_t bound = 256 << 10;
	struct cgp_spool *sp = open_spool(A, bound);
	struct cgp_spool_stats st;
	uint64_t max_disk = 0, seq = 0;
	char names[256][400];

	(void)state;
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 500; i++) {
			seq++;
			push(sp, A, seq, seq % 97 != 0, 300);
		}
		cgp_spool_flush(sp, (uint64_t)round * SEC);
		cgp_spool_get_stats(sp, &st);
		if (st.journal.bytes > max_disk)
			max_disk = st.journal.bytes;
	}
	assert_true(max_disk <= bound);
	assert_true(st.dropped_samples_total > 5000);
	assert_int_equal(st.dropped_others_total, 0);
	assert_true(segments(names, 256) < 40);
	cgp_spool_free(sp);
	/* and what is left is exactly what the next instance gets: every OOM kill among it */
	sp = open_spool(B, bound);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.events, st.replayed);
	assert_true(st.replayed > 100);
	size_t ooms = 0;
	const struct cgp_spool_entry *e;

	while ((e = cgp_spool_peek_unsent(sp))) {
		ooms += e->seq % 97 == 0;
		cgp_spool_mark_sent(sp);
	}
	assert_int_equal(ooms, 10000 / 97);
	cgp_spool_free(sp);
}

/* Killed with SIGKILL: every OOM kill it had spooled is there, and the samples of every finished turn. */
static void test_sigkill_leaves_every_oom_kill(void **state)
{
	struct cgp_spool *sp;
	struct cgp_spool_stats st;
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		sp = open_spool(A, 1 << 20);
		for (uint64_t s = 1; s <= 30; s++)
			push(sp, A, s, s % 10 != 0, 100);
		cgp_spool_flush(sp, SEC); /* a turn ends */
		push(sp, A, 31, true, 100);
		push(sp, A, 32, false, 100); /* an OOM kill in the next turn: written at once */
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	sp = open_spool(B, 1 << 20);
	cgp_spool_get_stats(sp, &st);
	/* the sample of the unfinished turn was written with the OOM kill (samples go first) */
	assert_int_equal(st.replayed, 32);
	assert_int_equal(st.journal.replay.corrupt_records, 0);
	cgp_spool_free(sp);
}

static void test_handover(void **state)
{
	struct cgp_agent_state pinned = {.last_seq = 24, .acked_seq = 9, .flags = CGP_AGENT_COLLECTOR};
	struct cgp_handover h;
	struct cgp_spool *sp;

	(void)state;
	/* no spool directory: the previous instance's 10..24 are lost, and that is said */
	strcpy(pinned.instance_id, A);
	cgp_handover_begin(&h, &pinned, B, CGP_AGENT_COLLECTOR, NULL);
	assert_string_equal(h.prev.instance_id, A);
	assert_int_equal(h.prev.last_seq, 24);
	assert_int_equal(h.prev.acked_seq, 9);
	assert_false(h.prev.handed_over);
	/* the pinned state is B's now, kept current */
	assert_string_equal(pinned.instance_id, B);
	cgp_handover_note(&h, 7, 5);
	assert_int_equal(pinned.last_seq, 7);
	assert_int_equal(pinned.acked_seq, 5);

	/* B leaves 6..7 in the spool directory: C gets them */
	sp = open_spool(B, 1 << 20);
	push(sp, B, 6, true, 10);
	push(sp, B, 7, false, 10);
	cgp_spool_free(sp);
	sp = open_spool(C, 1 << 20);
	cgp_handover_begin(&h, &pinned, C, CGP_AGENT_COLLECTOR | CGP_AGENT_SPOOL_DIR, sp);
	assert_string_equal(h.prev.instance_id, B);
	assert_int_equal(h.prev.last_seq, 7);
	assert_true(h.prev.handed_over);
	assert_int_equal(h.prev.spool_replayed, 2);
	cgp_spool_free(sp);

	/* no pins (a reboot): the directory alone names C */
	sp = open_spool(A, 1 << 20);
	cgp_handover_begin(&h, NULL, A, CGP_AGENT_COLLECTOR, sp);
	assert_string_equal(h.prev.instance_id, C);
	assert_true(h.prev.handed_over);
	cgp_spool_free(sp);

	/* an agent without a collector owed nothing */
	memset(&pinned, 0, sizeof(pinned));
	strcpy(pinned.instance_id, A);
	pinned.last_seq = 100;
	cgp_handover_begin(&h, &pinned, B, 0, NULL);
	assert_true(h.prev.handed_over);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_next_instance_sends_what_the_last_left, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drops_survive_a_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_and_corrupt_tails_are_skipped, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_private_and_locked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound_on_disk, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sigkill_leaves_every_oom_kill, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handover, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
