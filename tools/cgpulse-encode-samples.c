// SPDX-License-Identifier: GPL-2.0
/* Writes one event of every type, encoded by the agent's own encoder, for an independent decoder to check
 * (tests/scripts/test_proto_roundtrip.sh): DIR/events.pb (delimited Events), DIR/events.jsonl (their JSON
 * form) and DIR/frames.bin (the collector protocol: a plain batch, a zlib batch and an ack, as frames).
 * The values are fixed; the test holds the same values. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "events/event_encode.h"
#include "events/event_json.h"
#include "events/frame.h"
#include "events/sample_pack.h"
#include "events/wire.h"
#include "fixtures.h"

#define NODE	 "node-1"
#define INSTANCE "5f0c3a1e9d2b4c6a8e7f1029384756ab"
#define PREVIOUS "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"

static int write_file(const char *dir, const char *name, const struct cgp_buf *b)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(cgp_buf_head(b), 1, cgp_buf_size(b), f) != cgp_buf_size(b) || fclose(f)) {
		fprintf(stderr, "cgpulse-encode-samples: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

/* Adds one serialized event to every output. */
static int emit_packed(const struct cgp_buf *ev, struct cgp_buf *pb, struct cgp_buf *jsonl, struct cgp_batch *batch)
{
	Cgpulse__V1__Event *e = cgpulse__v1__event__unpack(NULL, cgp_buf_size(ev), cgp_buf_head(ev));
	int err = e ? 0 : -EBADMSG;

	if (!err)
		err = cgp_frame_append(pb, cgp_buf_head(ev), cgp_buf_size(ev));
	if (!err)
		err = cgp_batch_add(batch, cgp_buf_head(ev), cgp_buf_size(ev));
	if (!err)
		err = cgp_event_json_append(e, CGP_JSON_ENVELOPE, jsonl);
	if (!err)
		err = cgp_buf_append(jsonl, "\n", 1);
	if (e)
		cgpulse__v1__event__free_unpacked(e, NULL);
	return err;
}

/* Adds the built event to every output. */
static int emit(struct cgp_event_build *b, struct cgp_buf *pb, struct cgp_buf *jsonl, struct cgp_batch *batch)
{
	struct cgp_buf ev = CGP_BUF_INIT;
	int err = cgp_event_pack(b, &ev);

	if (!err)
		err = emit_packed(&ev, pb, jsonl, batch);
	cgp_buf_free(&ev);
	return err;
}

/* A Sample goes out as the agent sends it: packed from its records by events/sample_pack.c. */
static int emit_sample(const struct cgp_event_meta *m, const struct cgp_sample *s, const struct cgp_attribution *a,
		       struct cgp_buf *pb, struct cgp_buf *jsonl, struct cgp_batch *batch)
{
	struct cgp_buf ev = CGP_BUF_INIT;
	int err = cgp_sample_pack(m, s, a, &ev);

	if (!err)
		err = emit_packed(&ev, pb, jsonl, batch);
	cgp_buf_free(&ev);
	return err;
}

int main(int argc, char **argv)
{
	struct cgp_buf pb = CGP_BUF_INIT, jsonl = CGP_BUF_INIT, frames = CGP_BUF_INIT;
	struct cgp_event_meta m = {.node = NODE, .instance_id = INSTANCE, .seq = 1};
	struct cgp_event_build b;
	struct cgp_attribution web = fx_attribution(FX_WEB), oomed = fx_attribution("/test/oom");
	struct cgp_attribution fresh = fx_attribution("/kubepods.slice/new.scope");
	struct cgp_attribution odd = cgp_attribution_unknown;
	struct cgp_buf gap = CGP_BUF_INIT;
	struct cgp_batch batch;
	int err = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: cgpulse-encode-samples DIR\n");
		return 2;
	}
	cgp_batch_init(&batch);

	struct cgp_sample s = fx_sample();

	err |= emit_sample(&m, &s, &web, &pb, &jsonl, &batch);

	/* no memory figures; a path that is not UTF-8 (any bytes are a valid cgroup name) */
	struct cgp_sample s2 = {.cgroup_id = 1, .ts_ns = 1700000001000000000ull, .window_s = 0.5, .cpu_cores = 0.0};

	odd.path = "/odd-\xff\xfe-name";
	m.seq = 2;
	err |= emit_sample(&m, &s2, &odd, &pb, &jsonl, &batch);

	struct cgp_oom_event o = fx_oom();

	m.seq = 3;
	cgp_event_build_oom_kill(&b, &m, &o, &oomed);
	err |= emit(&b, &pb, &jsonl, &batch);

	struct cgp_alert a = fx_alert();

	m.seq = 4;
	cgp_event_build_alert(&b, &m, &a, &web);
	err |= emit(&b, &pb, &jsonl, &batch);

	m.seq = 5;
	cgp_event_build_cgroup(&b, &m, true, 1700000003000000000ull, 4026532000ull, &fresh);
	err |= emit(&b, &pb, &jsonl, &batch);

	m.seq = 6;
	cgp_event_build_cgroup(&b, &m, false, 1700000004000000000ull, 4026532000ull, &fresh);
	err |= emit(&b, &pb, &jsonl, &batch);

	err |= cgp_event_encode_gap(NODE, INSTANCE, 1700000005000000000ull, 100, 149, &gap);
	err |= emit_packed(&gap, &pb, &jsonl, &batch);
	cgp_buf_free(&gap);

	/* a previous instance's drops, replayed from a spool directory */
	struct cgp_spool_drops d = {
	    .instance_id = PREVIOUS, .samples = 10, .others = 1, .first_seq = 7, .last_seq = 40};

	m.seq = 41;
	cgp_event_build_dropped(&b, &m, 1700000006000000000ull, &d);
	err |= emit(&b, &pb, &jsonl, &batch);

	struct cgp_bpf bpf = {.n_attached = 2, .n_skipped = 1, .max_cgroups = 8192};
	struct cgp_previous_instance prev = {.instance_id = PREVIOUS,
					     .last_seq = 24,
					     .acked_seq = 9,
					     .handed_over = false,
					     .spool_replayed = 3,
					     .spool_corrupt = 1};

	bpf.attached[0] = "cgp_switch";
	bpf.attached[1] = "cgp_oom_victim";
	bpf.skipped[0] = (struct cgp_prog_skip){"cgp_reclaim_in/out", "no vmscan memcg reclaim tracepoints"};
	bpf.fs.hybrid = true;
	m.seq = 42;
	cgp_event_build_agent_started(&b, &m, 1700000007000000000ull, "1.2.3", "6.18.0", &bpf, &prev);
	err |= emit(&b, &pb, &jsonl, &batch);

	/* the same events as one plain batch, then again (re-read from events.pb) as one zlib batch, then an ack */
	err |= cgp_batch_finish(&batch, INSTANCE, 1, 0, &frames);
	for (const uint8_t *p = cgp_buf_head(&pb), *end = p + cgp_buf_size(&pb); p < end;) {
		uint64_t n;
		int h = cgp_varint_get(p, (size_t)(end - p), &n);

		if (h <= 0)
			return 1;
		err |= cgp_batch_add(&batch, p + h, (size_t)n);
		p += h + n;
	}
	err |= cgp_batch_finish(&batch, INSTANCE, 1, 6, &frames);
	err |= cgp_wire_append_ack(&frames, INSTANCE, 42);
	if (err) {
		fprintf(stderr, "cgpulse-encode-samples: encoding failed\n");
		return 1;
	}
	err = write_file(argv[1], "events.pb", &pb) || write_file(argv[1], "events.jsonl", &jsonl) ||
	      write_file(argv[1], "frames.bin", &frames);
	cgp_batch_free(&batch);
	cgp_buf_free(&pb);
	cgp_buf_free(&jsonl);
	cgp_buf_free(&frames);
	return err;
}
