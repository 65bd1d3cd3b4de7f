/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's page counters (a memcg's memory.usage and memory.max, in pages), as its page_counter.h has them. */
#ifndef CGP_PAGE_COUNTER_BPF_H
#define CGP_PAGE_COUNTER_BPF_H

#include <bpf/bpf_helpers.h>

#define CGP_LONG_MAX 0x7fffffffffffffffULL

/* PAGE_COUNTER_MAX, LONG_MAX / PAGE_SIZE on 64-bit kernels: a max at or above it means "no limit" (memory.max
 * reads "max"). The page size is known only at load (the agent sets it from sysconf), so it is an argument. */
static __always_inline __u64 cgp_page_counter_max(__u64 page_size)
{
	return CGP_LONG_MAX / page_size;
}

/* A page counter's max in bytes; 0 for no limit. */
static __always_inline __u64 cgp_limit_bytes(unsigned long max, __u64 page_size)
{
	return max >= cgp_page_counter_max(page_size) ? 0 : max * page_size;
}

#endif
