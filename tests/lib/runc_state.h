/* SPDX-License-Identifier: GPL-2.0 */
/* runc's state for a container, written as runc writes it (the annotations as "key=value" labels in
 * <root>/<id>/state.json), for tests of the names stage without a runtime. */
#ifndef CGT_RUNC_STATE_H
#define CGT_RUNC_STATE_H

#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

/* labels: the JSON array's elements, e.g. "\"io.kubernetes.pod.name=web\"". 0 or -1. */
static inline int cgt_runc_state(const char *root, const char *id, const char *labels)
{
	char p[PATH_MAX + 256];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", root, id);
	if (mkdir(p, 0700))
		return -1;
	snprintf(p, sizeof(p), "%s/%s/state.json", root, id);
	f = fopen(p, "w");
	if (!f)
		return -1;
	fprintf(f, "{\"config\":{\"labels\":[%s]}}", labels);
	return fclose(f) ? -1 : 0;
}

#endif
