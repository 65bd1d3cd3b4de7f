// SPDX-License-Identifier: GPL-2.0
#include "collect/cputime.h"

struct cgp_cputime cgp_cputime_adjust(uint64_t rtime, uint64_t utime, uint64_t stime, const struct cgp_cputime *prev)
{
	struct cgp_cputime r;

	/* run time did not grow past what was reported (or went backwards): report the same again */
	if (prev->user_ns + prev->system_ns >= rtime)
		return *prev;
	/* without a sample of one kind all of it is the other's; the clamps below converge to the ratio later */
	if (stime == 0)
		utime = rtime;
	else if (utime == 0)
		stime = rtime;
	else
		stime = (uint64_t)((unsigned __int128)stime * rtime / ((unsigned __int128)stime + utime));
	if (stime > rtime)
		stime = rtime;
	/* neither goes backwards: system first, then user, each at the other's expense */
	if (stime < prev->system_ns)
		stime = prev->system_ns;
	utime = rtime - stime;
	if (utime < prev->user_ns) {
		utime = prev->user_ns;
		stime = rtime - utime;
	}
	r.user_ns = utime;
	r.system_ns = stime;
	return r;
}
