/* SPDX-License-Identifier: GPL-2.0 */
/* A Sample event serialized in one pass from the agent's own records, with the bytes protobuf-c's
 * cgpulse__v1__event__pack makes of cgp_event_build_sample's Event. */
#ifndef CGP_SAMPLE_PACK_H
#define CGP_SAMPLE_PACK_H

#include "collect/sample.h"
#include "events/event_encode.h"
#include "lib/bytebuf.h"
#include "names/attribution.h"

/* Appends the serialized Sample event of s (the envelope m, s->ts_ns, a as its Attribution) to out; 0 or -ENOMEM. */
int cgp_sample_pack(const struct cgp_event_meta *m, const struct cgp_sample *s, const struct cgp_attribution *a,
		    struct cgp_buf *out);

/* What every Sample of one envelope (node, instance_id) starts with, made once: the publisher's samples copy it
 * instead of measuring and checking the same two strings each time. */
struct cgp_sample_head {
	const char *node, *instance_id; /* the caller's strings, or their sanitized copies in fixed */
	size_t node_n, instance_id_n;
	size_t fixed_used; /* room their sanitized forms took (only for strings that are not UTF-8) */
	char fixed[sizeof(((struct cgp_event_build *)0)->fixed)];
};

/* The strings must outlive h. */
void cgp_sample_head_init(struct cgp_sample_head *h, const char *node, const char *instance_id);
/* cgp_sample_pack with the envelope's head made by cgp_sample_head_init and this seq: the same bytes. */
int cgp_sample_pack_head(const struct cgp_sample_head *h, uint64_t seq, const struct cgp_sample *s,
			 const struct cgp_attribution *a, struct cgp_buf *out);

#endif
