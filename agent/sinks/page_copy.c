// SPDX-License-Identifier: GPL-2.0
/* One block for a page's snapshot: a large one goes back to the system whole when the page is done. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sinks/page_copy.h"

static int by_id(const void *a, const void *b)
{
	uint64_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x < y ? -1 : x > y;
}

void *cgp_page_copy(const struct cgp_idmap *map, size_t size, size_t labels_off, size_t *n)
{
	size_t text = 0, k = 0;
	char *v, *t;

	*n = map->len;
	if (!map->len)
		return NULL;
	for (size_t i = 0; i < map->cap; i++)
		if (map->keys[i])
			text += strlen(*(char *const *)((const char *)map->vals[i] + labels_off)) + 1;
	v = malloc(map->len * size + text);
	if (!v)
		return NULL;
	t = v + map->len * size;
	for (size_t i = 0; i < map->cap; i++) {
		char *rec;
		const char *labels;
		size_t len;

		if (!map->keys[i])
			continue;
		rec = v + k++ * size;
		memcpy(rec, map->vals[i], size);
		memcpy(&labels, rec + labels_off, sizeof(labels));
		len = strlen(labels) + 1;
		memcpy(t, labels, len);
		memcpy(rec + labels_off, &t, sizeof(t));
		t += len;
	}
	qsort(v, k, size, by_id);
	return v;
}
