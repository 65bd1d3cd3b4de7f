// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include "events/event_json.h"
#include "events/event_text.h"
#include "events/publish.h"
#include "events/sample_pack.h"
#include "lib/clock.h"
#include "lib/log.h"
#include "lib/version.h"

static void new_instance_id(char *out, size_t len)
{
	uint8_t u[16] = {0};

	if (getrandom(u, sizeof(u), 0) != sizeof(u)) { /* never fails on Linux for 16 bytes; keep it unique anyway */
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		memcpy(u, &ts, sizeof(ts) < sizeof(u) ? sizeof(ts) : sizeof(u));
	}
	u[6] = (u[6] & 0x0f) | 0x40; /* UUID version 4 */
	u[8] = (u[8] & 0x3f) | 0x80;
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2],
		 u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

int cgp_pub_init(struct cgp_publisher *p, const char *node, bool json, FILE *out)
{
	memset(p, 0, sizeof(*p));
	if (!node)
		node = getenv("NODE_NAME");
	if (node && *node)
		snprintf(p->node, sizeof(p->node), "%s", node);
	else if (gethostname(p->node, sizeof(p->node) - 1))
		snprintf(p->node, sizeof(p->node), "unknown");
	new_instance_id(p->instance_id, sizeof(p->instance_id));
	p->json = json;
	p->out = out;
	return 0;
}

void cgp_pub_free(struct cgp_publisher *p)
{
	cgp_buf_free(&p->pb);
	cgp_buf_free(&p->js);
}

static struct cgp_event_meta next_meta(struct cgp_publisher *p)
{
	struct cgp_event_meta m = {.node = p->node, .instance_id = p->instance_id, .seq = ++p->seq};

	return m;
}

/* the encoded event in p->pb goes to the collector's spool and the HTTP ring */
static void deliver(struct cgp_publisher *p, bool is_sample, bool urgent)
{
	if (p->spool) {
		if (cgp_spool_push(p->spool, p->seq, is_sample, cgp_buf_head(&p->pb), cgp_buf_size(&p->pb)))
			p->spool_refused++;
		else if (urgent || !is_sample)
			p->urgent = true; /* OOM kills and alerts leave at once; samples go in batches */
	}
	if (p->ring && cgp_event_ring_push(p->ring, p->seq, cgp_buf_head(&p->pb), cgp_buf_size(&p->pb)))
		p->ring_refused++;
}

static bool wants_json(const struct cgp_publisher *p, bool is_sample)
{
	return p->out && p->json && !(is_sample && p->no_out_samples);
}

/* the built event in p->b, on stdout as JSON */
static void print_json(struct cgp_publisher *p, bool is_sample)
{
	cgp_buf_clear(&p->js);
	if (!cgp_event_json_append(&p->b.ev, CGP_JSON_ENVELOPE, &p->js)) {
		fwrite(cgp_buf_head(&p->js), 1, cgp_buf_size(&p->js), p->out);
		fputc('\n', p->out);
		if (!is_sample)
			fflush(p->out);
	}
}

static bool encoded(struct cgp_publisher *p, int err)
{
	if (!err)
		return true;
	p->encode_failed++;
	cgp_err("out of memory encoding event %" PRIu64, p->seq);
	return false;
}

/* the built event in p->b goes to every place a sink reads */
static void fan_out(struct cgp_publisher *p, bool urgent)
{
	bool is_sample = cgp_event_is_sample(&p->b.ev);

	p->published++;
	cgp_buf_clear(&p->pb);
	if (!encoded(p, cgp_event_pack(&p->b, &p->pb)))
		return;
	deliver(p, is_sample, urgent);
	if (wants_json(p, is_sample))
		print_json(p, is_sample);
}

/* One a cgroup an interval: packed straight from s and a; the protobuf-c Event is built only for JSON. */
void cgp_pub_sample(struct cgp_publisher *p, const struct cgp_sample *s, const struct cgp_attribution *a)
{
	struct cgp_event_meta m = next_meta(p);

	p->published++;
	cgp_buf_clear(&p->pb);
	if (!p->sample_head_made) {
		cgp_sample_head_init(&p->sample_head, p->node, p->instance_id);
		p->sample_head_made = true;
	}
	if (encoded(p, cgp_sample_pack_head(&p->sample_head, m.seq, s, a, &p->pb))) {
		deliver(p, true, false);
		if (wants_json(p, true)) {
			cgp_event_build_sample(&p->b, &m, s, a);
			print_json(p, true);
		}
	}
	if (p->out && !p->json && p->text_samples && !p->no_out_samples)
		cgp_print_sample(p->out, s, a);
}

void cgp_pub_oom(struct cgp_publisher *p, const struct cgp_oom_event *e, const struct cgp_attribution *a)
{
	struct cgp_event_meta m = next_meta(p);

	cgp_event_build_oom_kill(&p->b, &m, e, a);
	fan_out(p, true);
	if (p->out && !p->json)
		cgp_print_oom(p->out, e, a);
}

void cgp_pub_alert(struct cgp_publisher *p, const struct cgp_alert *al, const struct cgp_attribution *a)
{
	struct cgp_event_meta m = next_meta(p);

	cgp_event_build_alert(&p->b, &m, al, a);
	fan_out(p, true);
	if (p->out && !p->json)
		cgp_print_alert(p->out, al, a);
}

void cgp_pub_cgroup(struct cgp_publisher *p, bool started, uint64_t cgroup_id, uint64_t ts_ns,
		    const struct cgp_attribution *a)
{
	struct cgp_event_meta m = next_meta(p);

	cgp_event_build_cgroup(&p->b, &m, started, ts_ns, cgroup_id, a);
	fan_out(p, false); /* text mode: too chatty for people; JSON and the collector get them */
}

static void pub_dropped(struct cgp_publisher *p, const struct cgp_spool_drops *d)
{
	struct cgp_event_meta m = next_meta(p);

	cgp_event_build_dropped(&p->b, &m, cgp_wall_ns(), d);
	fan_out(p, true);
	cgp_info("spool full: dropped %" PRIu64 " samples and %" PRIu64 " other events (seq %" PRIu64 "..%" PRIu64
		 "%s%s), reported as a Dropped event",
		 d->samples, d->others, d->first_seq, d->last_seq, d->own ? "" : " of the previous instance ",
		 d->own ? "" : d->instance_id);
}

bool cgp_pub_report_drops(struct cgp_publisher *p, bool live, uint64_t now_ns, uint64_t interval_ns)
{
	struct cgp_spool_drops d[8];
	size_t n = 0;

	if (!p->spool || !live || !cgp_spool_has_drops(p->spool))
		return false;
	if (p->drops_reported_ns && now_ns - p->drops_reported_ns < interval_ns)
		return false;
	/* take every instance's first: publishing a report may drop more, which waits for the next interval */
	while (n < sizeof(d) / sizeof(d[0]) && cgp_spool_take_drops(p->spool, &d[n]))
		n++;
	if (!n)
		return false;
	p->drops_reported_ns = now_ns;
	for (size_t i = 0; i < n; i++)
		pub_dropped(p, &d[i]);
	return true;
}

void cgp_pub_agent_started(struct cgp_publisher *p, const struct cgp_bpf *b, const struct cgp_previous_instance *prev)
{
	struct cgp_event_meta m = next_meta(p);
	struct utsname u;

	uname(&u);
	cgp_event_build_agent_started(&p->b, &m, cgp_wall_ns(), CGP_VERSION, u.release, b, prev);
	fan_out(p, true);
}
