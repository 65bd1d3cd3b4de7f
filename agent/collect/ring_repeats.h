/* SPDX-License-Identifier: GPL-2.0 */
/* Records the kernel's rings give twice. An agent restarting on kept pins takes the previous agent's link pins
 * away and attaches its own programs; the kernel releases a link whose last reference was a pin through a
 * workqueue, so for a moment both agents' programs sit on the same tracepoint and write one kill, one mkdir,
 * twice into the same pinned ring. Tracing links cannot be swapped in one step, and a gap would lose records:
 * the overlap stays, and the reader drops the second copy here. A copy is the same record key (an OOM victim's
 * pid, tgid and cgroup; a cgroup's id and kind) within CGP_REPEAT_WINDOW_NS of boot time of the first: both
 * programs run in the same tracepoint call, microseconds apart, while the kernel marks a task an OOM victim
 * once in its life and never gives a cgroup id twice. */
#ifndef CGP_RING_REPEATS_H
#define CGP_RING_REPEATS_H

#include <stdbool.h>
#include <stdint.h>

#define CGP_REPEAT_WINDOW_NS 10000000ULL /* 10 ms */
#define CGP_REPEAT_KEEP	     32		 /* records remembered: the copies lie a few records apart at most */

struct cgp_ring_repeats {
	struct {
		uint64_t k0, k1, ts_boot_ns;
	} seen[CGP_REPEAT_KEEP];
	unsigned next;
};

/* True when (k0, k1) was seen within the window of ts_boot_ns: a copy. Otherwise remembers it. */
bool cgp_ring_repeat(struct cgp_ring_repeats *r, uint64_t k0, uint64_t k1, uint64_t ts_boot_ns);

#endif
