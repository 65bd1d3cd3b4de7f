// SPDX-License-Identifier: GPL-2.0
/* One libcurl easy handle per Alertmanager, reused (its connection stays open between posts), at most one post
 * in flight each; the multi handle's sockets go into the sink's own epoll fd and its timer into a deadline the
 * loop's timeout honours. */
#include "sinks/alertmanager.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "lib/version.h"
#include "sinks/curl_load.h"

#define API_PATH	   "/api/v2/alerts"
#define BATCH_MAX	   64 /* alerts per post, as Prometheus sends them */
#define SECRET_MAX	   (64u << 10)
#define CONNECT_TIMEOUT_MS 5000

/* A token or password file: read again when it changes (Kubernetes rotates mounted secrets). */
struct secret {
	const char *path;
	char *value;
	struct stat seen;
	bool failed; /* the last read failed (logged once) */
};

struct target {
	unsigned idx;
	CURL *easy;
	char *url;
	char shown[160]; /* the URL without credentials, for logs and labels */
	struct curl_slist *headers;
	char *body;
	size_t batch_n;
	bool in_flight;
	bool reported; /* its failure was logged: say when it delivers again */
	char errbuf[CURL_ERROR_SIZE];
	char resp[256]; /* the start of the answer, for the log of a refusal */
	size_t resp_len;
};

struct cgp_am {
	const struct cgp_curl *cu;
	struct cgp_am_cfg cfg;
	struct cgp_am_origin origin;
	char *node, *generator_url;
	CURLM *multi;
	int ep;
	uint64_t curl_due; /* mono ns libcurl wants its timeout run at; UINT64_MAX: none */
	struct cgp_amq *q;
	struct target t[CGP_AM_MAX_URLS];
	size_t n;
	struct secret token, password;
	bool curl_inited, drop_logged;
};

/* "https://user:pw@host:9093/am/" → url "https://user:pw@host:9093/am/api/v2/alerts", shown
 * "https://host:9093/am". 0, or -EINVAL with the reason. */
static int parse_url(const char *in, char **url, char *shown, size_t shownlen, char *why, size_t whylen)
{
	size_t skip = !strncasecmp(in, "http://", 7) ? 7 : !strncasecmp(in, "https://", 8) ? 8 : 0;
	const char *auth = in + skip, *path, *at;
	size_t len = strlen(in);

	if (!skip) {
		snprintf(why, whylen, "--alertmanager %s: not an http:// or https:// URL", in);
		return -EINVAL;
	}
	path = auth + strcspn(auth, "/?#");
	if (*path == '?' || *path == '#') {
		snprintf(why, whylen, "--alertmanager %s: a query or fragment has no place in it", in);
		return -EINVAL;
	}
	at = memchr(auth, '@', (size_t)(path - auth));
	if (path == (at ? at + 1 : auth)) {
		snprintf(why, whylen, "--alertmanager %s: no host", in);
		return -EINVAL;
	}
	while (len > (size_t)(path - in) && in[len - 1] == '/')
		len--;
	snprintf(shown, shownlen, "%.*s%.*s", (int)skip, in, (int)(len - (size_t)((at ? at + 1 : auth) - in)),
		 at ? at + 1 : auth);
	if (len >= strlen(API_PATH) && !strncmp(in + len - strlen(API_PATH), API_PATH, strlen(API_PATH)))
		*url = strndup(in, len);
	else if (asprintf(url, "%.*s%s", (int)len, in, API_PATH) < 0)
		*url = NULL;
	if (!*url) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* Reads the secret again if its file changed. 0, or -errno with the reason in why (the old value stays). */
static int secret_refresh(struct secret *s, char *why, size_t whylen)
{
	struct stat st;
	char *v;
	ssize_t n;
	int fd, err;

	if (stat(s->path, &st)) {
		err = -errno;
		snprintf(why, whylen, "%s: %s", s->path, strerror(errno));
		return err;
	}
	if (s->value && st.st_ino == s->seen.st_ino && st.st_size == s->seen.st_size &&
	    st.st_mtim.tv_sec == s->seen.st_mtim.tv_sec && st.st_mtim.tv_nsec == s->seen.st_mtim.tv_nsec)
		return 0;
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	v = malloc(SECRET_MAX + 1);
	if (fd < 0 || !v) {
		err = fd < 0 ? -errno : -ENOMEM;
		snprintf(why, whylen, "%s: %s", s->path, strerror(-err));
		free(v);
		if (fd >= 0)
			close(fd);
		return err;
	}
	n = read(fd, v, SECRET_MAX + 1);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (n > (ssize_t)SECRET_MAX || n <= 0) {
		snprintf(why, whylen, "%s: %s", s->path,
			 n < 0 ? strerror(-err)
			 : n   ? "larger than 64 KiB: not a secret"
			       : "empty");
		free(v);
		return err ? err : -EINVAL;
	}
	while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r' || v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	v[n] = 0;
	if (!n || strpbrk(v, "\r\n")) {
		snprintf(why, whylen, "%s: %s", s->path, n ? "more than one line" : "empty");
		free(v);
		return -EINVAL;
	}
	free(s->value);
	s->value = v;
	s->seen = st;
	return 0;
}

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct cgp_am *am = userp;
	struct epoll_event ev = {.data.fd = s};

	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		epoll_ctl(am->ep, EPOLL_CTL_DEL, s, NULL); /* fails harmlessly when libcurl closed it already */
		return 0;
	}
	ev.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
	if (epoll_ctl(am->ep, EPOLL_CTL_MOD, s, &ev) && (errno != ENOENT || epoll_ctl(am->ep, EPOLL_CTL_ADD, s, &ev))) {
		cgp_err("alertmanager: watching a socket: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int on_timer(CURLM *multi, long ms, void *userp)
{
	struct cgp_am *am = userp;

	(void)multi;
	am->curl_due = ms < 0 ? UINT64_MAX : cgp_mono_ns() + (uint64_t)ms * 1000000ULL;
	return 0;
}

/* The answer's body: only its start is kept, for the log. */
static size_t on_body(char *p, size_t size, size_t n, void *userp)
{
	struct target *t = userp;
	size_t len = size * n, room = sizeof(t->resp) - 1 - t->resp_len;

	memcpy(t->resp + t->resp_len, p, len < room ? len : room);
	t->resp_len += len < room ? len : room;
	t->resp[t->resp_len] = 0;
	return len;
}

static int setup_target(struct cgp_am *am, struct target *t, const char *in, char *why, size_t whylen)
{
	long timeout = am->cfg.timeout_ms ? (long)am->cfg.timeout_ms : 10000;
	int err = parse_url(in, &t->url, t->shown, sizeof(t->shown), why, whylen);

	if (err)
		return err;
	t->easy = am->cu->easy_init();
	if (!t->easy) {
		snprintf(why, whylen, "libcurl: out of memory");
		return -ENOMEM;
	}
	am->cu->easy_setopt(t->easy, CURLOPT_URL, t->url);
	if (am->cu->easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK) {
		snprintf(why, whylen, "libcurl older than 7.85 (no CURLOPT_PROTOCOLS_STR)");
		return -ENOTSUP;
	}
	am->cu->easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	am->cu->easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS,
			    timeout < CONNECT_TIMEOUT_MS ? timeout : CONNECT_TIMEOUT_MS);
	am->cu->easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, timeout);
	am->cu->easy_setopt(t->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	am->cu->easy_setopt(t->easy, CURLOPT_USERAGENT, "cgpulse/" CGP_VERSION);
	am->cu->easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
	am->cu->easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	am->cu->easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
	if (am->cfg.ca_file)
		am->cu->easy_setopt(t->easy, CURLOPT_CAINFO, am->cfg.ca_file);
	if (am->cfg.user) {
		am->cu->easy_setopt(t->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		am->cu->easy_setopt(t->easy, CURLOPT_USERNAME, am->cfg.user);
	}
	return 0;
}

static int check_cfg(const struct cgp_am_cfg *c, char *why, size_t whylen)
{
	if (!c->n_urls || c->n_urls > CGP_AM_MAX_URLS) {
		snprintf(why, whylen, "--alertmanager: between 1 and %d URLs", CGP_AM_MAX_URLS);
		return -EINVAL;
	}
	if (c->bearer_token_file && (c->user || c->password_file)) {
		snprintf(why, whylen, "a bearer token and basic auth exclude each other");
		return -EINVAL;
	}
	if (!c->user != !c->password_file) {
		snprintf(why, whylen, "basic auth needs both --alertmanager-user and --alertmanager-password-file");
		return -EINVAL;
	}
	if (c->ca_file && access(c->ca_file, R_OK)) {
		snprintf(why, whylen, "--alertmanager-ca %s: %s", c->ca_file, strerror(errno));
		return -errno;
	}
	if (!(c->resend_s >= 1) || c->min_firing_s < 0 || !c->max_alerts) {
		snprintf(why, whylen, "--alertmanager-resend must be at least 1 s and the queue at least 1 alert");
		return -EINVAL;
	}
	return 0;
}

struct cgp_am *cgp_am_new(const struct cgp_am_cfg *cfg, const char *node, char *why, size_t whylen)
{
	uint64_t resend_ns = (uint64_t)(cfg->resend_s * 1e9);
	uint64_t backoff_max = cfg->backoff_max_ms ? cfg->backoff_max_ms * 1000000ULL : 30000000000ULL;
	struct cgp_amq_cfg qc = {
	    .n_targets = (unsigned)cfg->n_urls,
	    .max_alerts = cfg->max_alerts,
	    .batch_max = BATCH_MAX,
	    .resend_ns = resend_ns,
	    .min_firing_ns = (uint64_t)(cfg->min_firing_s * 1e9),
	    .backoff_min_ns = (cfg->backoff_min_ms ? cfg->backoff_min_ms : 500) * 1000000ULL,
	    /* an Alertmanager back from a restart has its alerts again within one re-send period */
	    .backoff_max_ns = cfg->backoff_max_ms || backoff_max < resend_ns ? backoff_max : resend_ns,
	    .seed = cgp_wall_ns() ^ ((uint64_t)getpid() << 32),
	};
	struct cgp_am *am;

	if (check_cfg(cfg, why, whylen))
		return NULL;
	am = calloc(1, sizeof(*am));
	if (!am) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	am->cfg = *cfg;
	am->ep = -1;
	am->cu = cgp_curl_load(why, whylen);
	if (!am->cu)
		goto fail;
	am->curl_due = UINT64_MAX;
	am->token.path = cfg->bearer_token_file;
	am->password.path = cfg->password_file;
	if ((am->token.path && secret_refresh(&am->token, why, whylen)) ||
	    (am->password.path && secret_refresh(&am->password, why, whylen)))
		goto fail;
	am->node = strdup(node ? node : "");
	am->generator_url = cfg->generator_url ? strdup(cfg->generator_url) : NULL;
	am->origin.node = am->node;
	am->origin.generator_url = am->generator_url;
	am->q = cgp_amq_new(&qc);
	am->ep = epoll_create1(EPOLL_CLOEXEC);
	if (!am->node || (cfg->generator_url && !am->generator_url) || !am->q || am->ep < 0) {
		snprintf(why, whylen, "%s", am->ep < 0 ? strerror(errno) : "out of memory");
		goto fail;
	}
	if (am->cu->global_init(CURL_GLOBAL_DEFAULT)) {
		snprintf(why, whylen, "libcurl did not initialise");
		goto fail;
	}
	am->curl_inited = true;
	am->multi = am->cu->multi_init();
	if (!am->multi) {
		snprintf(why, whylen, "libcurl: out of memory");
		goto fail;
	}
	am->cu->multi_setopt(am->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	am->cu->multi_setopt(am->multi, CURLMOPT_SOCKETDATA, am);
	am->cu->multi_setopt(am->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	am->cu->multi_setopt(am->multi, CURLMOPT_TIMERDATA, am);
	for (size_t i = 0; i < cfg->n_urls; i++) {
		am->t[i].idx = (unsigned)i;
		am->n++;
		if (setup_target(am, &am->t[i], cfg->urls[i], why, whylen))
			goto fail;
	}
	return am;
fail:
	cgp_am_free(am);
	return NULL;
}

void cgp_am_free(struct cgp_am *am)
{
	if (!am)
		return;
	for (size_t i = 0; i < am->n && am->cu; i++) {
		struct target *t = &am->t[i];

		if (t->in_flight)
			am->cu->multi_remove_handle(am->multi, t->easy);
		if (t->easy)
			am->cu->easy_cleanup(t->easy);
		am->cu->slist_free_all(t->headers);
		free(t->body);
		free(t->url);
	}
	if (am->multi)
		am->cu->multi_cleanup(am->multi);
	if (am->curl_inited)
		am->cu->global_cleanup();
	if (am->ep >= 0)
		close(am->ep);
	cgp_amq_free(am->q);
	free(am->token.value);
	free(am->password.value);
	free(am->node);
	free(am->generator_url);
	free(am);
}

int cgp_am_fd(const struct cgp_am *am)
{
	return am->ep;
}

void cgp_am_alert(struct cgp_am *am, const struct cgp_alert *a, const struct cgp_attribution *at)
{
	uint64_t now = cgp_mono_ns();
	const json_t *fired;
	int err;

	if (a->state == CGP_ALERT_FIRING) {
		err = cgp_amq_fire(am->q, a->rule, a->cgroup_id, cgp_am_payload(a, at, &am->origin, NULL), now);
		if (err && !am->drop_logged) {
			cgp_err("alertmanager: alert %s on %s dropped: %s (counted in "
				"cgpulse_alertmanager_alerts_dropped_total; logged once)",
				a->rule, a->path,
				err == -ENOSPC ? "the queue is full of firing alerts" : strerror(-err));
			am->drop_logged = true;
		}
		return;
	}
	fired = cgp_amq_fired(am->q, a->rule, a->cgroup_id);
	/* without the alert it fired with (dropped) there is nothing to resolve: the queue counts it */
	cgp_amq_resolve(am->q, a->rule, a->cgroup_id, fired ? cgp_am_payload(a, at, &am->origin, fired) : NULL, now);
}

/* The secret as of now, or the one read before if it cannot be read now (said once). false: none at all. */
static bool secret_now(struct secret *s, char *why, size_t whylen)
{
	if (!s->path)
		return true;
	if (!secret_refresh(s, why, whylen)) {
		s->failed = false;
		return true;
	}
	if (!s->failed)
		cgp_err("alertmanager: %s%s", why, s->value ? "; keeping the one read before" : "");
	s->failed = true;
	return s->value != NULL;
}

/* The request's headers and credentials as of now; false (with why) when they cannot be had. */
static bool credentials(struct cgp_am *am, struct target *t, char *why, size_t whylen)
{
	struct curl_slist *h = NULL;
	char *bearer = NULL;
	bool ok;

	if (!secret_now(&am->token, why, whylen) || !secret_now(&am->password, why, whylen))
		return false;
	if (am->password.value)
		am->cu->easy_setopt(t->easy, CURLOPT_PASSWORD, am->password.value);
	if (am->token.value && asprintf(&bearer, "Authorization: Bearer %s", am->token.value) < 0)
		bearer = NULL;
	/* "Expect:" none: libcurl would wait for a 100 Continue before a larger body */
	ok = (!am->token.value || bearer) && (h = am->cu->slist_append(h, "Content-Type: application/json")) &&
	     am->cu->slist_append(h, "Expect:") && (!bearer || am->cu->slist_append(h, bearer));
	if (bearer) {
		explicit_bzero(bearer, strlen(bearer));
		free(bearer);
	}
	if (!ok) {
		am->cu->slist_free_all(h);
		snprintf(why, whylen, "out of memory");
		return false;
	}
	am->cu->slist_free_all(t->headers);
	t->headers = h;
	am->cu->easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	return true;
}

static void start_post(struct cgp_am *am, struct target *t, uint64_t now)
{
	json_t *batch = json_array();
	char why[256];

	if (!batch)
		return;
	t->batch_n = cgp_amq_take(am->q, t->idx, now, batch);
	if (!t->batch_n) {
		json_decref(batch);
		return;
	}
	free(t->body);
	t->body = json_dumps(batch, JSON_COMPACT);
	json_decref(batch);
	if (!t->body) {
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	if (!credentials(am, t, why, sizeof(why)))
		goto fail;
	am->cu->easy_setopt(t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(t->body));
	am->cu->easy_setopt(t->easy, CURLOPT_POSTFIELDS, t->body);
	t->resp_len = 0;
	t->resp[0] = 0;
	t->errbuf[0] = 0;
	if (am->cu->multi_add_handle(am->multi, t->easy) != CURLM_OK) {
		snprintf(why, sizeof(why), "libcurl refused the request");
		goto fail;
	}
	t->in_flight = true;
	return;
fail:
	cgp_debug("alertmanager %s: post not made: %s", t->shown, why);
	cgp_amq_done(am->q, t->idx, CGP_AMQ_FAILED, now);
}

/* What an answer means: 2xx taken; 408, 429, 5xx, 401/403 (credentials may be on their way) and no answer are
 * tried again after a backoff; another 4xx refuses these alerts for good. */
static enum cgp_amq_outcome judge(CURLcode rc, long code)
{
	if (rc != CURLE_OK)
		return CGP_AMQ_FAILED;
	if (code >= 200 && code < 300)
		return CGP_AMQ_OK;
	if (code >= 400 && code < 500 && code != 401 && code != 403 && code != 408 && code != 429)
		return CGP_AMQ_REJECTED;
	return CGP_AMQ_FAILED;
}

static void ended(struct cgp_am *am, struct target *t, CURLcode rc)
{
	uint64_t now = cgp_mono_ns();
	long code = 0;
	enum cgp_amq_outcome o;

	am->cu->easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	am->cu->multi_remove_handle(am->multi, t->easy);
	t->in_flight = false;
	free(t->body);
	t->body = NULL;
	o = judge(rc, code);
	if (o == CGP_AMQ_FAILED) {
		char why[CURL_ERROR_SIZE + 64];

		if (rc != CURLE_OK)
			snprintf(why, sizeof(why), "%s", t->errbuf[0] ? t->errbuf : am->cu->easy_strerror(rc));
		else
			snprintf(why, sizeof(why), "HTTP %ld: %.120s", code, t->resp);
		if (!t->reported)
			cgp_info("alertmanager %s: %s; retrying with backoff (alerts are kept, up to %zu)", t->shown,
				 why, am->cfg.max_alerts);
		else
			cgp_debug("alertmanager %s: %s", t->shown, why);
		t->reported = true;
	} else if (o == CGP_AMQ_REJECTED) {
		cgp_err("alertmanager %s refused %zu alert(s): HTTP %ld: %.200s", t->shown, t->batch_n, code, t->resp);
	} else if (t->reported) {
		cgp_info("alertmanager %s: delivering again", t->shown);
		t->reported = false;
	}
	cgp_amq_done(am->q, t->idx, o, now);
}

static void finished(struct cgp_am *am)
{
	CURLMsg *m;
	int left;

	while ((m = am->cu->multi_info_read(am->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		for (size_t i = 0; i < am->n; i++) {
			if (am->t[i].easy == m->easy_handle) {
				ended(am, &am->t[i], m->data.result);
				break;
			}
		}
	}
}

static void run_timeout(struct cgp_am *am, uint64_t now)
{
	int running;

	if (am->curl_due > now)
		return;
	am->curl_due = UINT64_MAX;
	am->cu->multi_socket_action(am->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	finished(am);
}

int cgp_am_tick(struct cgp_am *am)
{
	uint64_t now = cgp_mono_ns(), next;

	run_timeout(am, now);
	for (size_t i = 0; i < am->n; i++)
		if (!am->t[i].in_flight && cgp_amq_next(am->q, am->t[i].idx) <= now)
			start_post(am, &am->t[i], now);
	run_timeout(am, now); /* a post just added asks for its first step at once: take it now */
	next = am->curl_due;
	for (size_t i = 0; i < am->n; i++) {
		uint64_t d = cgp_amq_next(am->q, am->t[i].idx);

		if (d < next)
			next = d;
	}
	if (next == UINT64_MAX)
		return -1;
	now = cgp_mono_ns();
	if (next <= now)
		return 0;
	return (next - now) / 1000000ULL >= INT_MAX ? INT_MAX : (int)((next - now + 999999ULL) / 1000000ULL);
}

void cgp_am_handle(struct cgp_am *am)
{
	struct epoll_event evs[16];
	int n = epoll_wait(am->ep, evs, 16, 0), running;

	for (int i = 0; i < n; i++) {
		int f = (evs[i].events & EPOLLIN ? CURL_CSELECT_IN : 0) |
			(evs[i].events & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
			(evs[i].events & (EPOLLERR | EPOLLHUP) ? CURL_CSELECT_ERR : 0);

		am->cu->multi_socket_action(am->multi, evs[i].data.fd, f, &running);
	}
	finished(am);
}

bool cgp_am_resolves_pending(const struct cgp_am *am)
{
	return cgp_amq_resolves_pending(am->q);
}

void cgp_am_get_stats(const struct cgp_am *am, struct cgp_am_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->n_targets = am->n;
	for (size_t i = 0; i < am->n; i++)
		snprintf(st->url[i], sizeof(st->url[i]), "%s", am->t[i].shown);
	cgp_amq_get_stats(am->q, &st->q);
}
