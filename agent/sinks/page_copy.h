/* SPDX-License-Identifier: GPL-2.0 */
/* The snapshot a metrics page writes from (sinks/metrics.h, sinks/cadvisor.h): every cgroup's record copied out
 * of its store into one block, in id order, with the labels each one points at copied after them, so that the
 * sweep may change or free the store's records while the page is read. No I/O. */
#ifndef CGP_PAGE_COPY_H
#define CGP_PAGE_COPY_H

#include <stddef.h>

#include "lib/idmap.h"

/* Copies the values of map: records of `size` bytes starting with their uint64_t id, each with a char *labels at
 * labels_off (a NUL-terminated string). The copies' labels point into the same block. *n records; NULL with *n
 * 0 for an empty map; NULL with *n > 0 when out of memory. free() the block. */
void *cgp_page_copy(const struct cgp_idmap *map, size_t size, size_t labels_off, size_t *n);

#endif
