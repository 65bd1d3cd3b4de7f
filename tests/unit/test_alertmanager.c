// SPDX-License-Identifier: GPL-2.0
/* The Alertmanager client (libcurl's multi interface driven through its epoll fd, as the agent's loop drives it)
 * against an HTTP server of this test's own on 127.0.0.1 (real sockets): what a post looks like (path, headers,
 * body), a bearer token read again when its file is replaced, basic auth, a re-send of a firing alert, retries
 * after 503s with the counters that say so, a 400 that refuses the alerts for good, URL forms, options that
 * are refused with a reason, and libcurl mapped only once a client is made. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixtures.h"
#include "lib/clock.h"
#include "lib/tcp_addr.h"
#include "sinks/alertmanager.h"

#define MAX_REQS 16

struct req {
	char head[4096]; /* request line and headers */
	json_t *body;
};

/* One connection at a time; each answered with the next status and closed. */
static struct server {
	int lfd, fd, port;
	char buf[65536];
	size_t len;
	int status[MAX_REQS]; /* answer to request i (0: 200) */
	struct req reqs[MAX_REQS];
	size_t n;
} srv;

static char dir[64];

static int setup(void **state)
{
	char why[128];

	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.fd = -1;
	srv.lfd = cgp_tcp_listen("127.0.0.1:0", 8, why, sizeof(why));
	assert_true(srv.lfd >= 0);
	srv.port = cgp_tcp_local_port(srv.lfd);
	snprintf(dir, sizeof(dir), "/tmp/cgp-am-test-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	for (size_t i = 0; i < srv.n; i++)
		json_decref(srv.reqs[i].body);
	if (srv.fd >= 0)
		close(srv.fd);
	close(srv.lfd);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void write_file(const char *name, const char *text)
{
	char path[128], tmp[140];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0); /* a new inode, as a Kubernetes secret update makes */
}

static const char *file(const char *name)
{
	static char path[4][128];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", dir, name);
	return path[k];
}

/* Reads what the connection has; a whole request is recorded and answered. */
static void serve(void)
{
	char *end, *cl;
	size_t need;
	ssize_t n;

	if (srv.fd < 0) {
		srv.fd = accept(srv.lfd, NULL, NULL);
		srv.len = 0;
		return;
	}
	n = recv(srv.fd, srv.buf + srv.len, sizeof(srv.buf) - 1 - srv.len, MSG_DONTWAIT);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			close(srv.fd);
			srv.fd = -1;
		}
		return;
	}
	srv.len += (size_t)n;
	srv.buf[srv.len] = 0;
	end = strstr(srv.buf, "\r\n\r\n");
	if (!end)
		return;
	cl = strcasestr(srv.buf, "\r\nContent-Length: ");
	need = (size_t)(end + 4 - srv.buf) + (cl ? strtoul(cl + 18, NULL, 10) : 0);
	if (srv.len < need)
		return;
	assert_true(srv.n < MAX_REQS);
	struct req *r = &srv.reqs[srv.n];
	int status = srv.status[srv.n] ? srv.status[srv.n] : 200;
	char answer[256];

	snprintf(r->head, sizeof(r->head), "%.*s", (int)(end - srv.buf), srv.buf);
	r->body = json_loadb(end + 4, need - (size_t)(end + 4 - srv.buf), 0, NULL);
	srv.n++;
	n = snprintf(answer, sizeof(answer), "HTTP/1.1 %d X\r\nContent-Length: 7\r\nConnection: close\r\n\r\nanswer!",
		     status);
	assert_int_equal(send(srv.fd, answer, (size_t)n, MSG_NOSIGNAL), n);
	close(srv.fd);
	srv.fd = -1;
}

/* The agent's loop in small: until the server has n requests, or about max_ms of turns. */
static void run(struct cgp_am *am, size_t n, int max_ms)
{
	uint64_t end = cgp_mono_ns() + (uint64_t)max_ms * 1000000;

	while (srv.n < n && cgp_mono_ns() < end) {
		struct pollfd p[2] = {{.fd = cgp_am_fd(am), .events = POLLIN},
				      {.fd = srv.fd >= 0 ? srv.fd : srv.lfd, .events = POLLIN}};
		int t = cgp_am_tick(am);

		if (poll(p, 2, t < 0 || t > 10 ? 10 : t) > 0) {
			if (p[0].revents)
				cgp_am_handle(am);
			if (p[1].revents)
				serve();
		}
	}
	/* let the client see the answer of the last request */
	for (int i = 0; i < 20; i++) {
		struct pollfd p = {.fd = cgp_am_fd(am), .events = POLLIN};

		cgp_am_tick(am);
		if (poll(&p, 1, 5) > 0)
			cgp_am_handle(am);
	}
}

static struct cgp_am_cfg cfg(void)
{
	static char url[64];
	struct cgp_am_cfg c = {.n_urls = 1,
			       .resend_s = 60,
			       .min_firing_s = 0,
			       .max_alerts = 16,
			       .backoff_min_ms = 20,
			       .backoff_max_ms = 40};

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	c.urls[0] = url;
	return c;
}

static struct cgp_amq_target_stats stats(const struct cgp_am *am)
{
	struct cgp_am_stats st;

	cgp_am_get_stats(am, &st);
	return st.q.t[0];
}

/* A client with this configuration, fx_alert fired into it. */
static struct cgp_am *fired(const struct cgp_am_cfg *c)
{
	struct cgp_alert a = fx_alert();
	struct cgp_attribution at = fx_attribution(FX_WEB);
	char why[256];
	struct cgp_am *am = cgp_am_new(c, "node-1", why, sizeof(why));

	if (!am)
		fail_msg("%s", why);
	cgp_am_alert(am, &a, &at);
	return am;
}

static bool has_header(const struct req *r, const char *h)
{
	return strstr(r->head, h) != NULL;
}

static bool mapped(const char *lib)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	bool found = false;

	assert_non_null(f);
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, lib) != NULL;
	fclose(f);
	return found;
}

/* libcurl is not linked in: an agent without --alertmanager never maps it (first test: nothing loaded it yet). */
static void test_libcurl_on_demand(void **state)
{
	struct cgp_am_cfg c = cfg();
	char why[256];
	struct cgp_am *am;

	(void)state;
	assert_false(mapped("/libcurl"));
	am = cgp_am_new(&c, "node-1", why, sizeof(why));
	assert_non_null(am);
	assert_true(mapped("/libcurl"));
	cgp_am_free(am);
}

static void test_post_bearer_resend(void **state)
{
	struct cgp_am_cfg c = cfg();
	struct cgp_alert a = fx_alert();
	struct cgp_attribution at = fx_attribution(FX_WEB);
	struct cgp_am *am;
	char why[256];
	const json_t *x;

	(void)state;
	write_file("token", "tok-1\n");
	c.bearer_token_file = file("token");
	c.resend_s = 1;
	am = cgp_am_new(&c, "node-1", why, sizeof(why));
	assert_non_null(am);
	assert_int_equal(cgp_am_tick(am), -1); /* nothing to do: no timeout */
	cgp_am_alert(am, &a, &at);
	run(am, 1, 3000);
	assert_int_equal(srv.n, 1);
	assert_true(!strncmp(srv.reqs[0].head, "POST /api/v2/alerts HTTP/1.1\r\n", 30));
	assert_true(has_header(&srv.reqs[0], "\r\nAuthorization: Bearer tok-1\r\n"));
	assert_true(has_header(&srv.reqs[0], "\r\nContent-Type: application/json\r\n"));
	assert_false(has_header(&srv.reqs[0], "Expect:"));
	assert_int_equal(json_array_size(srv.reqs[0].body), 1);
	x = json_array_get(srv.reqs[0].body, 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(x, "labels"), "alertname")),
			    "cpu_critical");
	assert_null(json_object_get(x, "endsAt"));
	assert_int_equal(stats(am).posts_ok, 1);
	assert_int_equal(stats(am).sent_firing, 1);
	assert_true(stats(am).up);

	/* the same alert again a period later, as it was */
	run(am, 2, 3000);
	assert_int_equal(srv.n, 2);
	assert_true(json_equal(srv.reqs[1].body, srv.reqs[0].body));

	/* the token is replaced (a rotated secret): the next post carries the new one; the resolve has an endsAt */
	write_file("token", "tok-2");
	a.state = CGP_ALERT_RESOLVED;
	a.ts_ns += 1000000000;
	cgp_am_alert(am, &a, &at);
	run(am, 3, 3000);
	assert_int_equal(srv.n, 3);
	assert_true(has_header(&srv.reqs[2], "\r\nAuthorization: Bearer tok-2\r\n"));
	x = json_array_get(srv.reqs[2].body, 0);
	assert_string_equal(json_string_value(json_object_get(x, "endsAt")), "2023-11-14T22:18:21.000Z");
	assert_string_equal(json_string_value(json_object_get(x, "startsAt")), "2023-11-14T22:18:20.000Z");
	assert_int_equal(stats(am).sent_resolved, 1);
	assert_false(cgp_am_resolves_pending(am));
	/* nothing left to post: no more requests */
	run(am, 4, 300);
	assert_int_equal(srv.n, 3);
	cgp_am_free(am);
}

static void test_retry_after_failures(void **state)
{
	struct cgp_am_cfg c = cfg();
	struct cgp_am *am;

	(void)state;
	srv.status[0] = 503;
	srv.status[1] = 500;
	am = fired(&c);
	run(am, 3, 3000);
	assert_int_equal(srv.n, 3);
	assert_true(json_equal(srv.reqs[2].body, srv.reqs[0].body));
	assert_int_equal(stats(am).posts_failed, 2);
	assert_int_equal(stats(am).retries, 2);
	assert_int_equal(stats(am).posts_ok, 1);
	assert_int_equal(stats(am).sent_firing, 1);
	assert_true(stats(am).up);
	cgp_am_free(am);
}

static void test_rejected(void **state)
{
	struct cgp_am_cfg c = cfg();
	struct cgp_am *am;

	(void)state;
	srv.status[0] = 400;
	am = fired(&c);
	run(am, 2, 300); /* not tried again before the next period */
	assert_int_equal(srv.n, 1);
	assert_int_equal(stats(am).posts_rejected, 1);
	assert_int_equal(stats(am).rejected, 1);
	assert_int_equal(stats(am).posts_failed, 0);
	cgp_am_free(am);
}

/* Basic auth from a file, a path prefix, and credentials in the URL kept out of what is shown. */
static void test_basic_auth_and_urls(void **state)
{
	struct cgp_am_cfg c = cfg();
	struct cgp_am_stats st;
	struct cgp_am *am;
	char url[2][96];

	(void)state;
	write_file("password", "p w\n");
	c.user = "u";
	c.password_file = file("password");
	snprintf(url[0], sizeof(url[0]), "http://127.0.0.1:%d/am/", srv.port);
	c.urls[0] = url[0];
	am = fired(&c);
	run(am, 1, 3000);
	assert_int_equal(srv.n, 1);
	assert_true(!strncmp(srv.reqs[0].head, "POST /am/api/v2/alerts HTTP/1.1\r\n", 33));
	assert_true(has_header(&srv.reqs[0], "\r\nAuthorization: Basic dTpwIHc=\r\n")); /* u:p w */
	cgp_am_get_stats(am, &st);
	snprintf(url[1], sizeof(url[1]), "http://127.0.0.1:%d/am", srv.port);
	assert_string_equal(st.url[0], url[1]);
	cgp_am_free(am);

	c = cfg();
	snprintf(url[0], sizeof(url[0]), "http://v:secret@127.0.0.1:%d/api/v2/alerts", srv.port);
	c.urls[0] = url[0];
	am = fired(&c);
	run(am, 2, 3000);
	assert_int_equal(srv.n, 2);
	assert_true(!strncmp(srv.reqs[1].head, "POST /api/v2/alerts HTTP/1.1\r\n", 30));
	assert_true(has_header(&srv.reqs[1], "\r\nAuthorization: Basic djpzZWNyZXQ=\r\n")); /* v:secret */
	cgp_am_get_stats(am, &st);
	snprintf(url[1], sizeof(url[1]), "http://127.0.0.1:%d/api/v2/alerts", srv.port);
	assert_string_equal(st.url[0], url[1]);
	cgp_am_free(am);
}

static void refused(struct cgp_am_cfg c, const char *reason)
{
	char why[256] = "";
	struct cgp_am *am = cgp_am_new(&c, "node-1", why, sizeof(why));

	assert_null(am);
	if (!strstr(why, reason))
		fail_msg("want a reason with \"%s\", got \"%s\"", reason, why);
}

static void test_refused(void **state)
{
	struct cgp_am_cfg c;

	(void)state;
	c = cfg();
	c.urls[0] = "ftp://127.0.0.1:9093";
	refused(c, "not an http:// or https:// URL");
	c.urls[0] = "http:///api";
	refused(c, "no host");
	c.urls[0] = "https://am:9093?x=1";
	refused(c, "a query or fragment");
	c = cfg();
	c.bearer_token_file = "/nonexistent/token";
	refused(c, "/nonexistent/token: No such file or directory");
	write_file("empty", "\n");
	c.bearer_token_file = file("empty");
	refused(c, "empty");
	write_file("two", "a\nb\n");
	c.bearer_token_file = file("two");
	refused(c, "more than one line");
	c.user = "u";
	c.password_file = file("two");
	refused(c, "exclude each other");
	c = cfg();
	c.user = "u";
	refused(c, "needs both");
	c = cfg();
	c.ca_file = "/nonexistent/ca.crt";
	refused(c, "--alertmanager-ca /nonexistent/ca.crt");
	c = cfg();
	c.n_urls = 0;
	refused(c, "between 1 and");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_libcurl_on_demand, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_post_bearer_resend, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retry_after_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rejected, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_basic_auth_and_urls, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
