/* SPDX-License-Identifier: GPL-2.0 */
/* malloc's own figure of the heap in use, for tests that bound what a structure holds. Under ASan the
 * allocator is not malloc's and these figures say nothing: such tests skip (HEAP_FIGURES_ARE_MALLOCS 0). */
#ifndef CGT_HEAP_H
#define CGT_HEAP_H

#include <malloc.h>
#include <stdint.h>

#ifndef __has_feature
#define __has_feature(x) 0
#endif
#if defined(__SANITIZE_ADDRESS__) || __has_feature(address_sanitizer)
#define HEAP_FIGURES_ARE_MALLOCS 0
#else
#define HEAP_FIGURES_ARE_MALLOCS 1
#endif

/* Bytes in use: small blocks and mmapped ones. */
static inline uint64_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

#endif
