/* SPDX-License-Identifier: GPL-2.0 */
/* A sweep_records ring record back to a whole struct cgp_cgroup_rec: the kernel side sends only the blocks of
 * fields its hierarchy can fill (bpf/cgpulse.h, enum cgp_rec_layout); the blocks it did not send read as 0. */
#ifndef CGP_SWEEP_REC_H
#define CGP_SWEEP_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <linux/types.h>
#include "cgpulse.h"

/* Whether len is what the record's flags say it holds (the layout cgp_rec_unpack reads). */
static inline bool cgp_rec_valid(const void *data, size_t len)
{
	__u32 flags;

	if (len < CGP_REC_HEAD_BYTES)
		return false;
	memcpy(&flags, (const char *)data + offsetof(struct cgp_cgroup_rec, flags), sizeof(flags));
	return len == cgp_rec_bytes(flags);
}

/* False (r untouched) when len is not what the record's flags say it holds. r's flags lose the layout bits. */
bool cgp_rec_unpack(const void *data, size_t len, struct cgp_cgroup_rec *r);
/* r's ring bytes with the blocks layout names, as the kernel side writes them (tests: the inverse of
 * cgp_rec_unpack); cgp_rec_bytes(layout) of them. */
size_t cgp_rec_pack(const struct cgp_cgroup_rec *r, __u32 layout, void *out);

#endif
