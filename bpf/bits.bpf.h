/* SPDX-License-Identifier: GPL-2.0 */
/* Bit helpers for histogram slots (as in bcc libbpf-tools bits.bpf.h): branch-light log2 of a u64. */
#ifndef CGP_BITS_BPF_H
#define CGP_BITS_BPF_H

static __always_inline __u64 cgp_log2(__u32 v)
{
	__u32 shift, r;

	r = (v > 0xFFFF) << 4;
	v >>= r;
	shift = (v > 0xFF) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xF) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u64 cgp_log2l(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? cgp_log2(hi) + 32 : cgp_log2(v);
}

/* slot 0: < 1 us; slot i: [2^(i-1), 2^i) us; the last slot takes everything longer */
static __always_inline __u32 cgp_runq_slot(__u64 wait_ns)
{
	__u64 us = wait_ns / 1000;
	__u32 s = us ? cgp_log2l(us) + 1 : 0;

	return s < CGP_RUNQ_SLOTS ? s : CGP_RUNQ_SLOTS - 1;
}

#endif
