/* SPDX-License-Identifier: GPL-2.0 */
/* A Sample event serialized in one pass, with the bytes protobuf-c's cgpulse__v1__event__pack would make. */
#ifndef CGP_SAMPLE_PACK_H
#define CGP_SAMPLE_PACK_H

#include <stdbool.h>

#include "cgpulse/v1/event.pb-c.h"
#include "lib/bytebuf.h"

/* True when ev is a Sample event this packer writes whole (no unknown fields anywhere). */
bool cgp_sample_pack_handles(const Cgpulse__V1__Event *ev);
/* Appends the serialized ev (cgp_sample_pack_handles(ev) must hold) to out; 0 or -ENOMEM. */
int cgp_sample_pack(const Cgpulse__V1__Event *ev, struct cgp_buf *out);

#endif
