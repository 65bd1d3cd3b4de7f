// SPDX-License-Identifier: GPL-2.0
/* The collector client against an in-process collector on 127.0.0.1 (real sockets, the real dedup): delivery
 * and acks, resend after a lost connection, drops reported once the collector is back, a collector that stops
 * acknowledging, one that speaks garbage, and the compressor's state mapped once a burst. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sinks/collector_client.h"
#include "collector/dedup.h"
#include "events/event_encode.h"
#include "events/publish.h"
#include "events/frame.h"
#include "lib/tcp_addr.h"
#include "events/wire.h"

#define INSTANCE "cc-test"

/* The fake collector: one connection at a time. */
struct server {
	int lfd, fd;
	bool ack, garbage;
	struct cgp_frame_decoder dec;
	struct cgp_buf scratch;
	struct cgp_dedup *dedup;
	uint64_t received[4096];      /* seqs in arrival order, resends included */
	char received_from[4096][40]; /* and whose */
	size_t n_received;
	uint64_t first_base_seq;
	unsigned accepted;
};

static struct server srv;
static char addr[64];

static void server_listen(int port)
{
	char why[128];

	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	srv.lfd = cgp_tcp_listen(addr, 8, why, sizeof(why));
	assert_true(srv.lfd >= 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", cgp_tcp_local_port(srv.lfd));
}

static void server_drop_conn(void)
{
	if (srv.fd >= 0)
		close(srv.fd);
	srv.fd = -1;
	cgp_frame_decoder_free(&srv.dec);
	cgp_frame_decoder_init(&srv.dec, CGP_FRAME_MAX_DEFAULT);
}

static void server_poll(void)
{
	uint8_t buf[65536];
	ssize_t n;

	if (srv.lfd >= 0 && srv.fd < 0) {
		srv.fd = accept4(srv.lfd, NULL, NULL, SOCK_NONBLOCK);
		if (srv.fd >= 0) {
			srv.accepted++;
			if (srv.garbage)
				assert_int_equal(send(srv.fd, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11, 0),
						 11);
		}
	}
	if (srv.fd < 0)
		return;
	while ((n = recv(srv.fd, buf, sizeof(buf), 0)) > 0) {
		const uint8_t *f;
		size_t len;
		char why[128];

		assert_int_equal(cgp_frame_decoder_feed(&srv.dec, buf, (size_t)n), 0);
		while (cgp_frame_decoder_next(&srv.dec, &f, &len) == 1) {
			struct cgp_wire_msg m;
			struct cgp_buf out = CGP_BUF_INIT;

			assert_int_equal(cgp_wire_decode(f, len, 1 << 20, &srv.scratch, &m, why, sizeof(why)), 0);
			assert_non_null(m.batch);
			/* a batch holds one instance's events, named by the batch */
			struct cgp_dedup_instance *in = cgp_dedup_get(srv.dedup, m.batch->instance_id);

			if (!srv.first_base_seq)
				srv.first_base_seq = m.batch->base_seq;
			cgp_dedup_floor(in, m.batch->base_seq);
			for (size_t i = 0; i < m.batch->n_events; i++) {
				assert_true(srv.n_received < 4096);
				assert_string_equal(m.batch->events[i]->instance_id, m.batch->instance_id);
				snprintf(srv.received_from[srv.n_received], 40, "%s", m.batch->instance_id);
				srv.received[srv.n_received++] = m.batch->events[i]->seq;
				cgp_dedup_add(in, m.batch->events[i]->seq);
			}
			if (srv.ack) {
				assert_int_equal(cgp_wire_append_ack(&out, m.batch->instance_id, cgp_dedup_acked(in)),
						 0);
				assert_int_equal(send(srv.fd, cgp_buf_head(&out), cgp_buf_size(&out), 0),
						 (ssize_t)cgp_buf_size(&out));
			}
			cgp_buf_free(&out);
			cgp_wire_msg_free(&m);
		}
	}
	if (n == 0)
		server_drop_conn(); /* the client hung up */
}

static int setup(void **state)
{
	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.fd = -1;
	srv.ack = true;
	srv.dedup = cgp_dedup_new();
	cgp_frame_decoder_init(&srv.dec, CGP_FRAME_MAX_DEFAULT);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	server_drop_conn();
	cgp_frame_decoder_free(&srv.dec);
	if (srv.lfd >= 0)
		close(srv.lfd);
	cgp_buf_free(&srv.scratch);
	cgp_dedup_free(srv.dedup);
	return 0;
}

static uint64_t ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Runs client and server until done() holds or 5 s pass, as the agent's loop would. */
/* When set, the loop below does what the agent's loop does after each turn: report the spool's drops through
 * this publisher while the collector is connected, and send urgent events at once. */
static struct cgp_publisher *drop_pub;
static unsigned drop_reports;

static void after_turn(struct cgp_cc *cc)
{
	struct cgp_cc_stats st;

	if (!drop_pub)
		return;
	cgp_cc_get_stats(cc, &st);
	if (cgp_pub_report_drops(drop_pub, st.connected, ms() * 1000000ULL, 50 * 1000000ULL))
		drop_reports++;
	if (drop_pub->urgent) {
		drop_pub->urgent = false;
		cgp_cc_kick(cc);
	}
}

static bool run_until(struct cgp_cc *cc, int epfd, bool (*done)(struct cgp_cc *, struct cgp_spool *),
		      struct cgp_spool *sp)
{
	for (uint64_t end = ms() + 5000; ms() < end;) {
		struct epoll_event ev;

		after_turn(cc);
		cgp_cc_tick(cc);
		assert_int_equal(cgp_cc_epoll_sync(cc, epfd, (epoll_data_t){.ptr = cc}), 0);
		if (epoll_wait(epfd, &ev, 1, 5) == 1)
			cgp_cc_handle(cc, ev.events);
		assert_int_equal(cgp_cc_epoll_sync(cc, epfd, (epoll_data_t){.ptr = cc}), 0);
		server_poll();
		if (done(cc, sp))
			return true;
	}
	return false;
}

static void push_as(struct cgp_spool *sp, const char *instance, uint64_t seq, bool sample)
{
	struct cgp_event_meta m = {.node = "n", .instance_id = instance, .seq = seq};
	struct cgp_sample s = {.cgroup_id = seq, .ts_ns = seq};
	struct cgp_oom_event o = {.cgroup_id = seq, .ts_ns = seq};
	struct cgp_attribution a = cgp_attribution_unknown;
	struct cgp_event_build b;
	struct cgp_buf enc = CGP_BUF_INIT;

	a.path = "/p";
	if (sample)
		cgp_event_build_sample(&b, &m, &s, &a);
	else
		cgp_event_build_oom_kill(&b, &m, &o, &a);
	assert_int_equal(cgp_event_pack(&b, &enc), 0);
	assert_int_equal(cgp_spool_push(sp, seq, sample, cgp_buf_head(&enc), cgp_buf_size(&enc)), 0);
	cgp_buf_free(&enc);
}

static void push(struct cgp_spool *sp, uint64_t seq, bool sample)
{
	push_as(sp, INSTANCE, seq, sample);
}

static bool spool_empty(struct cgp_cc *cc, struct cgp_spool *sp)
{
	struct cgp_spool_stats st;

	(void)cc;
	cgp_spool_get_stats(sp, &st);
	return !st.events && !cgp_spool_has_drops(sp);
}

static bool got_100(struct cgp_cc *cc, struct cgp_spool *sp)
{
	(void)cc;
	(void)sp;
	return srv.n_received >= 100;
}

static bool disconnected(struct cgp_cc *cc, struct cgp_spool *sp)
{
	struct cgp_cc_stats st;

	(void)sp;
	cgp_cc_get_stats(cc, &st);
	return st.disconnects > 0;
}

static bool failed_twice(struct cgp_cc *cc, struct cgp_spool *sp)
{
	struct cgp_cc_stats st;

	(void)sp;
	cgp_cc_get_stats(cc, &st);
	return st.connect_failures >= 2;
}

static void test_deliver_and_ack(void **state)
{
	struct cgp_spool *sp = cgp_spool_new(INSTANCE, 0, 1000);
	struct cgp_cc_cfg cfg = {.batch_max_events = 16, .zlevel = 1};
	struct cgp_cc *cc;
	struct cgp_cc_stats st;
	int epfd = epoll_create1(0);

	(void)state;
	server_listen(0);
	cfg.addr = addr;
	cc = cgp_cc_new(&cfg, sp);
	assert_non_null(cc);
	for (uint64_t s = 1; s <= 100; s++)
		push(sp, s, s % 10);
	cgp_cc_kick(cc); /* not connected yet: a no-op */
	assert_true(run_until(cc, epfd, spool_empty, sp));
	assert_int_equal(srv.n_received, 100);
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(srv.received[i], i + 1);
	assert_int_equal(srv.first_base_seq, 1);
	cgp_cc_get_stats(cc, &st);
	assert_true(st.connected);
	assert_int_equal(st.connects, 1);
	assert_int_equal(st.events_sent, 100);
	assert_int_equal(st.batches_sent, 7); /* 16 per batch */
	assert_int_equal(st.acked_seq, 100);
	/* nothing to wait for: the client needs no timer */
	assert_int_equal(cgp_cc_tick(cc), -1);
	cgp_cc_free(cc);
	cgp_spool_free(sp);
	close(epfd);
}

/* The collector takes events without acknowledging them and then goes away: everything is sent again. */
static void test_resend_after_reconnect(void **state)
{
	struct cgp_spool *sp = cgp_spool_new(INSTANCE, 0, 1000);
	struct cgp_cc_cfg cfg = {.backoff_min_ms = 10, .backoff_max_ms = 50};
	struct cgp_cc *cc;
	struct cgp_cc_stats st;
	int epfd = epoll_create1(0);

	(void)state;
	server_listen(0);
	cfg.addr = addr;
	cc = cgp_cc_new(&cfg, sp);
	srv.ack = false;
	for (uint64_t s = 1; s <= 100; s++)
		push(sp, s, true);
	assert_true(run_until(cc, epfd, got_100, sp));
	server_drop_conn();
	srv.ack = true;
	assert_true(run_until(cc, epfd, spool_empty, sp));
	assert_int_equal(srv.n_received, 200);
	assert_int_equal(srv.received[100], 1); /* from the oldest again */
	cgp_cc_get_stats(cc, &st);
	assert_int_equal(st.connects, 2);
	assert_int_equal(st.disconnects, 1);
	assert_string_equal(st.last_error, "collector closed the connection");
	cgp_cc_free(cc);
	cgp_spool_free(sp);
	close(epfd);
}

/* Nobody listens while 30 events go into a spool of 10: the collector, once up, gets the 10 newest and a
 * Dropped event, and acknowledges past the 20 that will never come (base_seq). */
static void test_drops_reported_when_back(void **state)
{
	struct cgp_spool *sp = cgp_spool_new(INSTANCE, 0, 10);
	struct cgp_cc_cfg cfg = {.backoff_min_ms = 10, .backoff_max_ms = 20};
	static struct cgp_publisher pub;
	struct cgp_cc *cc;
	struct cgp_cc_stats st;
	int epfd = epoll_create1(0), port;

	(void)state;
	server_listen(0);
	port = cgp_tcp_local_port(srv.lfd);
	close(srv.lfd); /* the collector is away */
	srv.lfd = -1;
	cfg.addr = addr;
	cc = cgp_cc_new(&cfg, sp);
	assert_non_null(cc);
	cgp_pub_init(&pub, "n", false, NULL);
	snprintf(pub.instance_id, sizeof(pub.instance_id), "%s", INSTANCE);
	pub.spool = sp;
	drop_reports = 0;
	for (uint64_t seq = 1; seq <= 30; seq++)
		push(sp, seq, seq != 5); /* 5 is an OOM kill: it stays */
	pub.seq = 30;			 /* the Dropped reports come after them */
	drop_pub = &pub;
	assert_true(run_until(cc, epfd, failed_twice, sp));
	assert_int_equal(drop_reports, 0); /* not while nobody listens */
	server_listen(port);
	assert_true(run_until(cc, epfd, spool_empty, sp));
	/* what the spool held went first; the Dropped event (31) then went into the full spool and pushed out
	 * sample 22, sent but not yet acknowledged: that is reported too (32) */
	assert_int_equal(drop_reports, 2);
	assert_int_equal(srv.n_received, 12);
	assert_int_equal(srv.received[0], 5);
	assert_int_equal(srv.received[1], 22);
	assert_int_equal(srv.received[9], 30);
	assert_int_equal(srv.received[10], 31);
	assert_int_equal(srv.received[11], 32);
	assert_int_equal(srv.first_base_seq, 5);
	cgp_cc_get_stats(cc, &st);
	assert_int_equal(st.acked_seq, 32);
	drop_pub = NULL;
	cgp_pub_free(&pub);
	cgp_cc_free(cc);
	cgp_spool_free(sp);
	close(epfd);
}

static void test_silent_or_garbage_collector(void **state)
{
	struct cgp_spool *sp = cgp_spool_new(INSTANCE, 0, 100);
	struct cgp_cc_cfg cfg = {.ack_timeout_ms = 100, .backoff_min_ms = 10};
	struct cgp_cc *cc;
	struct cgp_cc_stats st;
	int epfd = epoll_create1(0);

	(void)state;
	server_listen(0);
	cfg.addr = addr;
	cc = cgp_cc_new(&cfg, sp);
	srv.ack = false;
	push(sp, 1, true);
	assert_true(run_until(cc, epfd, disconnected, sp));
	cgp_cc_get_stats(cc, &st);
	assert_string_equal(st.last_error, "collector stopped acknowledging");
	cgp_cc_free(cc);
	close(epfd);

	/* a collector that answers with something that is not a frame */
	server_drop_conn();
	srv.garbage = true;
	epfd = epoll_create1(0);
	cc = cgp_cc_new(&cfg, sp);
	assert_true(run_until(cc, epfd, disconnected, sp));
	cgp_cc_get_stats(cc, &st);
	assert_non_null(strstr(st.last_error, "malformed"));
	cgp_cc_free(cc);
	cgp_spool_free(sp);
	close(epfd);
}

/* A restarted agent: the spool directory holds 30 events of the instance before, which go first, in batches
 * of that instance, and are released by Acks naming it; then the new instance's own. */
static void test_previous_instance_first(void **state)
{
	char dir[] = "/tmp/cgp-cc-test.XXXXXX", why[256], cmd[64];
	struct cgp_cc_cfg cfg = {.batch_max_events = 8, .zlevel = 1};
	struct cgp_spool *sp;
	struct cgp_spool_stats st;
	struct cgp_cc *cc;
	int epfd = epoll_create1(0);

	(void)state;
	assert_non_null(mkdtemp(dir));
	sp = cgp_spool_new("old-instance", 1 << 20, 0);
	assert_int_equal(cgp_spool_open_dir(sp, dir, why, sizeof(why)), 0);
	for (uint64_t s = 1; s <= 30; s++)
		push_as(sp, "old-instance", s, s % 7);
	cgp_spool_free(sp); /* the old agent goes, its collector never reached */

	sp = cgp_spool_new(INSTANCE, 1 << 20, 0);
	assert_int_equal(cgp_spool_open_dir(sp, dir, why, sizeof(why)), 0);
	for (uint64_t s = 1; s <= 5; s++)
		push(sp, s, true);
	server_listen(0);
	cfg.addr = addr;
	cc = cgp_cc_new(&cfg, sp);
	assert_true(run_until(cc, epfd, spool_empty, sp));
	assert_int_equal(srv.n_received, 35);
	for (size_t i = 0; i < 30; i++) {
		assert_string_equal(srv.received_from[i], "old-instance");
		assert_int_equal(srv.received[i], i + 1);
	}
	assert_string_equal(srv.received_from[30], INSTANCE);
	assert_int_equal(srv.received[34], 5);
	assert_int_equal(cgp_dedup_acked(cgp_dedup_get(srv.dedup, "old-instance")), 30);
	cgp_spool_get_stats(sp, &st);
	assert_int_equal(st.instances, 1); /* the old one, all acknowledged, is forgotten */
	assert_int_equal(st.acked_seq, 5);
	cgp_cc_free(cc);
	cgp_spool_free(sp);
	close(epfd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Sends while a burst is made (the agent's sweep publishes 1,024 samples at a time) map the compressor's state
 * once for the whole burst, and it is given back when the burst is over; without a burst each send maps it. */
static void test_burst_maps_compressor_once(void **state)
{
	struct cgp_spool *sp = cgp_spool_new(INSTANCE, 0, 1000);
	struct cgp_cc_cfg cfg = {.batch_max_events = 16, .zlevel = 1};
	struct cgp_cc_stats st;
	uint64_t seq = 1, first;
	struct cgp_cc *cc;
	int epfd = epoll_create1(0);

	(void)state;
	server_listen(0);
	cfg.addr = addr;
	cc = cgp_cc_new(&cfg, sp);
	assert_non_null(cc);
	push(sp, seq++, true);
	assert_true(run_until(cc, epfd, spool_empty, sp)); /* connected, one batch sent and acknowledged */
	cgp_cc_get_stats(cc, &st);
	first = st.compressor_maps;
	assert_int_equal(first, 1);
	cgp_cc_burst(cc, true);
	for (int send = 0; send < 4; send++) {
		for (int i = 0; i < 20; i++)
			push(sp, seq++, true);
		cgp_cc_kick(cc);
		assert_true(run_until(cc, epfd, spool_empty, sp));
	}
	cgp_cc_burst(cc, false);
	cgp_cc_get_stats(cc, &st);
	assert_int_equal(st.batches_sent, 1 + 4 * 2); /* 20 events are two batches of 16 at most */
	assert_int_equal(st.compressor_maps, first + 1);
	for (int send = 0; send < 3; send++) {
		for (int i = 0; i < 20; i++)
			push(sp, seq++, true);
		cgp_cc_kick(cc);
		assert_true(run_until(cc, epfd, spool_empty, sp));
	}
	cgp_cc_get_stats(cc, &st);
	assert_int_equal(st.compressor_maps, first + 1 + 3);
	assert_int_equal(srv.n_received, seq - 1);
	cgp_cc_free(cc);
	cgp_spool_free(sp);
	close(epfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_deliver_and_ack, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resend_after_reconnect, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drops_reported_when_back, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_silent_or_garbage_collector, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_previous_instance_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_burst_maps_compressor_once, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
