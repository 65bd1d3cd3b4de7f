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

#endif
