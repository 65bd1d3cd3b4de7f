/* SPDX-License-Identifier: GPL-2.0 */
/* cgpulse.v1.Event → one flat JSON object with the proto's field names (proto/README.md, "JSON form"):
 * what `cgpulse run --json` prints and what the collector writes to a .jsonl file. The text is written
 * directly (a collector writes 200,000 of these a second; building jansson objects costs 3× that), and the
 * jansson form is parsed from the same text, so there is one definition of the format. */
#ifndef CGP_EVENT_JSON_H
#define CGP_EVENT_JSON_H

#include <jansson.h>

#include "lib/bytebuf.h"
#include "cgpulse/v1/event.pb-c.h"

#define CGP_JSON_ENVELOPE 0x1 /* include node, instance_id and seq */

/* Appends the event as one line of compact JSON, without the newline. 0, -ENOMEM, or -EINVAL when the event
 * has no body. */
int cgp_event_json_append(const Cgpulse__V1__Event *ev, unsigned flags, struct cgp_buf *out);
/* The same as a jansson object (json_decref it), or NULL when out of memory or the event has no body. */
json_t *cgp_event_json(const Cgpulse__V1__Event *ev, unsigned flags);

#endif
