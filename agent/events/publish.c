// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include "lib/clock.h"
#include "sinks/collector_client.h"
#include "commands.h"
#include "events/event_json.h"
#include "collect/loader.h"
#include "lib/log.h"
#include "events/event_text.h"
#include "events/publish.h"
#include "events/spool.h"

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

/* the built event in p->b goes to every sink */
static void fan_out(struct cgp_publisher *p, bool urgent)
{
	bool is_sample = cgp_event_is_sample(&p->b.ev);

	p->published++;
	cgp_buf_clear(&p->pb);
	if (cgp_event_pack(&p->b, &p->pb)) {
		cgp_err("out of memory encoding event %" PRIu64, p->seq);
		return;
	}
	if (p->spool) {
		if (cgp_spool_push(p->spool, p->seq, is_sample, cgp_buf_head(&p->pb), cgp_buf_size(&p->pb)))
			p->spool_refused++; /* counted by the spool's own drop figures too */
		if (p->cc && (urgent || !is_sample))
			cgp_cc_kick(p->cc); /* OOM kills and alerts leave at once; samples go in batches */
	}
	if (p->hook)
		p->hook(p->hook_arg, p->seq, cgp_buf_head(&p->pb), cgp_buf_size(&p->pb));
	if (p->out && p->json) {
		cgp_buf_clear(&p->js);
		if (!cgp_event_json_append(&p->b.ev, CGP_JSON_ENVELOPE, &p->js)) {
			fwrite(cgp_buf_head(&p->js), 1, cgp_buf_size(&p->js), p->out);
			fputc('\n', p->out);
			if (!is_sample)
				fflush(p->out);
		}
	}
}

static void attribution_of(const struct cgp_cgname *n, struct cgp_attribution *a)
{
	memset(a, 0, sizeof(*a));
	if (!n || n->ref.kind != CGP_CPATH_CONTAINER)
		return;
	a->container_id = n->ref.id;
	a->runtime = n->runtime;
	a->pod = n->pod;
	a->namespace_ = n->pod_namespace;
	a->container_name = n->container;
	a->pod_uid = n->ref.pod_uid;
	a->qos_class = cgp_qos_name(n->ref.qos);
	a->image = n->image;
}

void cgp_pub_sample(struct cgp_publisher *p, const struct cgp_sample *s)
{
	struct cgp_event_meta m = next_meta(p);
	struct cgp_attribution a = {
	    .container_id = s->container_id,
	    .runtime = s->runtime,
	    .pod = s->pod,
	    .namespace_ = s->pod_namespace,
	    .container_name = s->container_name,
	    .pod_uid = s->pod_uid,
	    .qos_class = s->qos_class,
	    .image = s->image,
	};

	cgp_event_build_sample(&p->b, &m, s, &a);
	fan_out(p, false);
	if (p->out && !p->json && p->text_samples)
		cgp_print_sample(p->out, s);
}

void cgp_pub_oom(struct cgp_publisher *p, const struct cgp_oom_event *e)
{
	struct cgp_event_meta m = next_meta(p);
	struct cgp_attribution a = {
	    .container_id = e->container_id,
	    .runtime = e->runtime,
	    .pod = e->pod,
	    .namespace_ = e->pod_namespace,
	    .container_name = e->container_name,
	    .image = e->image,
	};

	cgp_event_build_oom_kill(&p->b, &m, e, &a);
	fan_out(p, true);
	if (p->out && !p->json)
		cgp_print_oom(p->out, e);
}

void cgp_pub_alert(struct cgp_publisher *p, const struct cgp_alert *al, const struct cgp_cgname *n)
{
	struct cgp_event_meta m = next_meta(p);
	struct cgp_attribution a;

	attribution_of(n, &a);
	cgp_event_build_alert(&p->b, &m, al, &a);
	fan_out(p, true);
	if (p->out && !p->json)
		cgp_print_alert(p->out, al, n && n->container[0] ? n->container : NULL);
}

void cgp_pub_cgroup(struct cgp_publisher *p, bool started, uint64_t cgroup_id, uint64_t ts_ns,
		    const struct cgp_cgname *n)
{
	struct cgp_event_meta m = next_meta(p);
	struct cgp_attribution a;
	const char *path = n ? n->path : "";

	attribution_of(n, &a);
	if (started)
		cgp_event_build_cgroup_started(&p->b, &m, ts_ns, cgroup_id, path, &a);
	else
		cgp_event_build_cgroup_stopped(&p->b, &m, ts_ns, cgroup_id, path, &a);
	fan_out(p, false); /* text mode: too chatty for people; JSON and the collector get them */
}

void cgp_pub_dropped(struct cgp_publisher *p)
{
	struct cgp_spool_drops d;
	struct cgp_event_meta m;

	if (!p->spool || !cgp_spool_take_drops(p->spool, &d))
		return;
	m = next_meta(p);
	cgp_event_build_dropped(&p->b, &m, cgp_wall_ns(), &d);
	fan_out(p, true);
	cgp_info("spool full: dropped %" PRIu64 " samples and %" PRIu64 " other events (seq %" PRIu64 "..%" PRIu64
		 "), reported as a Dropped event",
		 d.samples, d.others, d.first_seq, d.last_seq);
}

/* splits "a b c" (attached) or "name: reason; name: reason; " (skipped) in place */
static size_t split(char *s, const char *sep, char **out, size_t max)
{
	size_t n = 0;
	char *save = NULL;

	for (char *t = strtok_r(s, sep, &save); t && n < max; t = strtok_r(NULL, sep, &save))
		if (*t)
			out[n++] = t;
	return n;
}

void cgp_pub_agent_started(struct cgp_publisher *p, const struct cgp_bpf *b)
{
	char attached[sizeof(b->attached)], skipped[sizeof(b->skipped)], *a[32], *sk[32];
	struct cgp_event_meta m = next_meta(p);
	struct utsname u;
	size_t na, ns;

	uname(&u);
	memcpy(attached, b->attached, sizeof(attached));
	memcpy(skipped, b->skipped, sizeof(skipped));
	na = split(attached, " ", a, 32);
	ns = split(skipped, ";", sk, 32);
	for (size_t i = 0; i < ns; i++)
		while (*sk[i] == ' ')
			sk[i]++;
	cgp_event_build_agent_started(&p->b, &m, cgp_wall_ns(), CGP_VERSION, u.release, b->fs.hybrid ? "hybrid" : "v2",
				      a, na, sk, ns, b->max_cgroups);
	fan_out(p, true);
}
