// SPDX-License-Identifier: GPL-2.0
/* cgpulse-top, run as `cgpulse top`: a live table of the node's containers, like top. A program of its own so that
 * its libraries (ncurses, libcurl) never weigh on the agent's memory. It reads a running agent's /v1/events stream
 * (so it costs the node nothing more and shows the very alerts the agent raised); with no agent running it
 * starts one of its own (`cgpulse run` on loopback, nothing pinned) and reads that. --batch prints one table and
 * exits, as top -b. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <curl/curl.h>
#include <curses.h>

#include "events/frame.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "top/model.h"
#include "top/view.h"

#define DEFAULT_AGENT  "http://127.0.0.1:24785"
#define EXPIRE_WINDOWS 3  /* a row no event named for this many intervals leaves */
#define BATCH_WAIT_S   15 /* --batch gives up waiting for a whole sweep after this long */

struct top {
	const char *agent; /* base URL */
	const char *token_file;
	bool batch;
	int width;
	struct top_view_opts view;
	struct top_screen_state screen;
	struct top_model model;
	struct cgp_frame_decoder dec;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	char url[512], status[256], source[160], own_url[64];
	uint64_t since; /* the last seq seen: a reconnect resumes after it */
	/* --batch: the stream may begin in the middle of a sweep (the agent's ring keeps the latest events, not
	 * whole sweeps), so the first sweep that counts is the one after the first seen, and it is whole once a
	 * sample of the sweep after it arrives */
	uint64_t first_sample_ts, whole_sweep_ts;
	bool sweep_complete, stream_failed;
	pid_t own; /* the agent we started, or 0 */
	bool dirty;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct top *t = arg;
	const uint8_t *frame;
	size_t len = size * n, flen;
	int r;

	if (cgp_frame_decoder_feed(&t->dec, data, len))
		return 0; /* out of memory: curl ends the transfer, we reconnect */
	while ((r = cgp_frame_decoder_next(&t->dec, &frame, &flen)) == 1) {
		Cgpulse__V1__Event *ev = cgpulse__v1__event__unpack(NULL, flen, frame);

		if (!ev) {
			snprintf(t->status, sizeof(t->status), "an event the stream sent did not decode");
			continue;
		}
		top_model_event(&t->model, ev, cgp_mono_ns());
		if (ev->seq)
			t->since = ev->seq;
		if (ev->body_case == CGPULSE__V1__EVENT__BODY_SAMPLE) {
			if (!t->first_sample_ts)
				t->first_sample_ts = ev->ts_ns;
			else if (!t->whole_sweep_ts && ev->ts_ns > t->first_sample_ts)
				t->whole_sweep_ts = ev->ts_ns;
			else if (t->whole_sweep_ts && ev->ts_ns > t->whole_sweep_ts)
				t->sweep_complete = true;
		}
		cgpulse__v1__event__free_unpacked(ev, NULL);
		t->dirty = true;
	}
	return r < 0 ? 0 : len;
}

static int start_stream(struct top *t)
{
	char auth[600];

	snprintf(t->url, sizeof(t->url), "%s/v1/events?since=%llu", t->agent, (unsigned long long)t->since);
	cgp_frame_decoder_free(&t->dec);
	cgp_frame_decoder_init(&t->dec, CGP_FRAME_MAX_DEFAULT);
	t->easy = curl_easy_init();
	if (!t->easy)
		return -ENOMEM;
	curl_slist_free_all(t->headers);
	t->headers = NULL;
	if (t->token_file) {
		char tok[512] = "";
		FILE *f = fopen(t->token_file, "re");

		if (!f || !fgets(tok, sizeof(tok), f)) {
			if (f)
				fclose(f);
			cgp_err("top: --token-file %s: cannot read it", t->token_file);
			return -EINVAL;
		}
		fclose(f);
		tok[strcspn(tok, "\r\n")] = 0;
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		t->headers = curl_slist_append(NULL, auth);
	}
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "gzip");
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(t->easy, CURLOPT_FAILONERROR, 1L);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_multi_add_handle(t->multi, t->easy);
	return 0;
}

/* The stream ended (the agent stopped or restarted, a network hiccup): say why, and start again after the last
 * seq seen; a restarted agent counts from 1 again, which the agent answers with 409: start from 0 then. */
static void stream_ended(struct top *t, CURLcode rc)
{
	long code = 0;

	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &code);
	snprintf(t->status, sizeof(t->status), "stream from %s ended: %s%s; reconnecting", t->agent,
		 curl_easy_strerror(rc), code == 401 || code == 403 ? " (a token is needed: --token-file)" : "");
	if (code == 409)
		t->since = 0;
	curl_multi_remove_handle(t->multi, t->easy);
	curl_easy_cleanup(t->easy);
	t->easy = NULL;
	t->stream_failed = true;
	t->dirty = true;
}

static void pump(struct top *t, int wait_ms)
{
	CURLMsg *msg;
	int running, left;

	if (!t->easy && start_stream(t))
		return;
	curl_multi_poll(t->multi, NULL, 0, wait_ms, NULL);
	curl_multi_perform(t->multi, &running);
	while ((msg = curl_multi_info_read(t->multi, &left)))
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->easy)
			stream_ended(t, msg->data.result);
}

/* No agent answered: start one of our own on loopback, with nothing pinned, and read its stream. Its log goes to a
 * file (a pipe nobody reads would stall it once full); the line that names its port is read from there. */
static int start_own_agent(struct top *t, double interval_s)
{
	char iv[32], log[] = "/tmp/cgpulse-top-XXXXXX", line[512] = "", *p = NULL;
	int fd = mkstemp(log), port = 0;
	uint64_t end = cgp_mono_ns() + 10000000000ULL;
	FILE *f;

	if (fd < 0)
		return -errno;
	snprintf(iv, sizeof(iv), "%g", interval_s);
	t->own = fork();
	if (t->own < 0) {
		close(fd);
		return -errno;
	}
	if (t->own == 0) {
		char self[4096], *slash;
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 16);

		self[n > 0 ? n : 0] = 0;
		slash = strrchr(self, '/'); /* the agent is installed beside us */
		strcpy(slash ? slash + 1 : self, "cgpulse");
		dup2(fd, STDERR_FILENO);
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execl(self, "cgpulse", "run", "--no-pin", "--json", "--http", "127.0.0.1:0", "--interval", iv,
		      (char *)NULL);
		_exit(127);
	}
	close(fd);
	f = fopen(log, "re");
	unlink(log); /* ours alone from here; gone when both ends close */
	while (f && !port && cgp_mono_ns() < end && waitpid(t->own, NULL, WNOHANG) == 0) {
		if (!fgets(line, sizeof(line), f)) {
			clearerr(f);
			usleep(50000);
			continue;
		}
		p = strstr(line, "http port ");
		if (p)
			port = atoi(p + 10);
	}
	if (f)
		fclose(f);
	if (port <= 0) {
		cgp_err("top: no agent at %s, and one of our own did not start%s%s", t->agent, line[0] ? ": " : "",
			line);
		return -ECONNREFUSED;
	}
	snprintf(t->source, sizeof(t->source), "own agent (pid %d)", (int)t->own);
	snprintf(t->own_url, sizeof(t->own_url), "http://127.0.0.1:%d", port);
	t->agent = t->own_url;
	return 0;
}

/* Is anything listening where the agent should be? One short try. */
static bool agent_answers(const char *base)
{
	char url[600];
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (!c)
		return false;
	snprintf(url, sizeof(url), "%s/healthz", base);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 1500L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	curl_easy_cleanup(c);
	return rc == CURLE_OK;
}

static bool sort_key(struct top *t, int c)
{
	for (int k = 0; k < TOP_COL_MAX; k++)
		if (top_col_key((enum top_col)k) == c) {
			t->view.ascending = t->view.sort == (enum top_col)k ? !t->view.ascending : k == TOP_COL_NAME;
			t->view.sort = (enum top_col)k;
			snprintf(t->status, sizeof(t->status), "sorted by %s", top_col_title(t->view.sort));
			return true;
		}
	return false;
}

/* One key; false to quit. */
static bool key(struct top *t, int c)
{
	struct top_screen_state *s = &t->screen;
	size_t n = strlen(s->filter);

	t->dirty = true;
	if (s->editing_filter) {
		if (c == '\n' || c == '\r' || c == KEY_ENTER || c == 27) {
			s->editing_filter = false;
			t->view.filter = s->filter;
		} else if ((c == 127 || c == 8 || c == KEY_BACKSPACE) && n) {
			s->filter[n - 1] = 0;
		} else if (c >= 32 && c < 127 && n + 1 < sizeof(s->filter)) {
			s->filter[n] = (char)c;
			s->filter[n + 1] = 0;
		}
		return true;
	}
	if (s->help && c != '?' && c != 'q') {
		s->help = false;
		return true;
	}
	switch (c) {
	case 'q':
		return false;
	case '?':
		s->help = !s->help;
		break;
	case ' ':
		s->paused = !s->paused;
		break;
	case 'A':
		t->view.all = !t->view.all;
		snprintf(t->status, sizeof(t->status), "%s", t->view.all ? "every cgroup" : "containers only");
		break;
	case 'r':
		t->view.ascending = !t->view.ascending;
		break;
	case '/':
		s->editing_filter = true;
		break;
	default:
		if (!sort_key(t, c))
			snprintf(t->status, sizeof(t->status), "key '%c' does nothing: ? for help", c >= 32 ? c : '?');
	}
	return true;
}

static int screen_width(int asked)
{
	struct winsize ws;

	if (asked > 0)
		return asked;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col > 0)
		return ws.ws_col;
	return 120;
}

static int run_batch(struct top *t)
{
	uint64_t end = cgp_mono_ns() + (uint64_t)BATCH_WAIT_S * 1000000000ULL;

	while (!stop && !t->sweep_complete && cgp_mono_ns() < end)
		pump(t, 100);
	if (!t->model.samples) {
		cgp_err("top: no sample from %s within %d s%s%s", t->agent, BATCH_WAIT_S, t->status[0] ? ": " : "",
			t->status);
		return 1;
	}
	top_print(stdout, &t->model, &t->view, screen_width(t->width), t->source);
	return 0;
}

static int run_screen(struct top *t)
{
	uint64_t drawn = 0;
	int c;

	if (top_screen_begin()) {
		cgp_err("top: cannot use this terminal (TERM=%s); try --batch", getenv("TERM") ? getenv("TERM") : "");
		return 1;
	}
	t->screen.source = t->source;
	t->screen.status = t->status;
	while (!stop) {
		pump(t, 100);
		while ((c = top_screen_key()) >= 0)
			if (!key(t, c))
				goto out;
		top_model_expire(&t->model, cgp_mono_ns(), EXPIRE_WINDOWS);
		/* a paused screen still takes events (so resuming shows now), it only stops redrawing */
		if (t->dirty && (!t->screen.paused || cgp_mono_ns() - drawn > 200000000ULL) &&
		    cgp_mono_ns() - drawn > 100000000ULL) {
			if (!t->screen.paused || !drawn)
				top_screen_draw(&t->model, &t->view, &t->screen);
			drawn = cgp_mono_ns();
			t->dirty = false;
		}
	}
out:
	top_screen_end();
	return 0;
}

static const char usage[] =
    "Usage: cgpulse top [OPTIONS]\n"
    "\n"
    "A live table of the node's containers as the running agent measures them: CPU cores and % of the limit,\n"
    "throttled %, memory working set and % of the limit, memory and CPU pressure, OOM kills, and the\n"
    "playbook's firing rules. Keys: ? help, q quit (press ? inside for the rest).\n"
    "\n"
    "  --agent URL        the running agent's HTTP endpoint (default " DEFAULT_AGENT "); when nothing answers\n"
    "                     there, top starts an agent of its own (as root) and reads that\n"
    "  --token-file FILE  bearer token for an agent that asks for one\n"
    "  --interval SECONDS the own agent's sampling interval (default 1)\n"
    "  -b, --batch        print one table, once a whole sweep has arrived, and exit (as top -b)\n"
    "  --once             the same as --batch\n"
    "  --width N          --batch: line width (default: the terminal's, else 120)\n"
    "  --sort COLUMN      name, cpu, cpu%, thr%, mem, mem%, psim, psic, oom, alerts (default cpu)\n"
    "  --all              every cgroup, not only containers\n"
    "  --filter TEXT      only rows whose name or path contains TEXT\n";

static int parse_sort(const char *s, enum top_col *out)
{
	static const char *const names[TOP_COL_MAX] = {"name", "cpu",  "cpu%", "thr%", "mem",
						       "mem%", "psim", "psic", "oom",  "alerts"};

	for (int i = 0; i < TOP_COL_MAX; i++)
		if (!strcmp(s, names[i])) {
			*out = (enum top_col)i;
			return 0;
		}
	cgp_err("top: --sort %s: not a column (name, cpu, cpu%%, thr%%, mem, mem%%, psim, psic, oom, alerts)", s);
	return -EINVAL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"agent", required_argument, NULL, 'a'},
	    {"token-file", required_argument, NULL, 'T'},
	    {"interval", required_argument, NULL, 'i'},
	    {"batch", no_argument, NULL, 'b'},
	    {"once", no_argument, NULL, 'b'},
	    {"width", required_argument, NULL, 'w'},
	    {"sort", required_argument, NULL, 's'},
	    {"all", no_argument, NULL, 'A'},
	    {"filter", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct top t = {.agent = DEFAULT_AGENT, .view = {.sort = TOP_COL_CPU}};
	double interval = 1;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "bh", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			t.agent = optarg;
			break;
		case 'T':
			t.token_file = optarg;
			break;
		case 'i':
			interval = atof(optarg);
			if (interval < 0.1) {
				cgp_err("top: --interval %s: at least 0.1", optarg);
				return 2;
			}
			break;
		case 'b':
			t.batch = true;
			break;
		case 'w':
			t.width = atoi(optarg);
			break;
		case 's':
			if (parse_sort(optarg, &t.view.sort))
				return 2;
			t.view.ascending = t.view.sort == TOP_COL_NAME;
			break;
		case 'A':
			t.view.all = true;
			break;
		case 'f':
			snprintf(t.screen.filter, sizeof(t.screen.filter), "%s", optarg);
			t.view.filter = t.screen.filter;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) || top_model_init(&t.model) || !(t.multi = curl_multi_init()))
		return 1;
	snprintf(t.source, sizeof(t.source), "agent %s", t.agent);
	if (!agent_answers(t.agent) && start_own_agent(&t, interval)) {
		rc = 1;
		goto out;
	}
	rc = t.batch ? run_batch(&t) : run_screen(&t);
out:
	if (t.easy) {
		curl_multi_remove_handle(t.multi, t.easy);
		curl_easy_cleanup(t.easy);
	}
	curl_slist_free_all(t.headers);
	curl_multi_cleanup(t.multi);
	curl_global_cleanup();
	if (t.own > 0) {
		kill(t.own, SIGTERM);
		waitpid(t.own, NULL, 0);
	}
	cgp_frame_decoder_free(&t.dec);
	top_model_free(&t.model);
	return rc;
}
