// SPDX-License-Identifier: GPL-2.0
#include "collect/ring_repeats.h"

bool cgp_ring_repeat(struct cgp_ring_repeats *r, uint64_t k0, uint64_t k1, uint64_t ts_boot_ns)
{
	for (unsigned i = 0; i < CGP_REPEAT_KEEP; i++) {
		uint64_t t = r->seen[i].ts_boot_ns;

		/* ts 0 is an empty entry: boot time is never 0 in a record */
		if (t && r->seen[i].k0 == k0 && r->seen[i].k1 == k1 &&
		    (t > ts_boot_ns ? t - ts_boot_ns : ts_boot_ns - t) <= CGP_REPEAT_WINDOW_NS)
			return true;
	}
	r->seen[r->next].k0 = k0;
	r->seen[r->next].k1 = k1;
	r->seen[r->next].ts_boot_ns = ts_boot_ns;
	r->next = (r->next + 1) % CGP_REPEAT_KEEP;
	return false;
}
