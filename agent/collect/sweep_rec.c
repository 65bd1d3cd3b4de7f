// SPDX-License-Identifier: GPL-2.0
#include <stddef.h>
#include <string.h>
#include "collect/sweep_rec.h"

/* The blocks after the head in their order: the flag that says a record carries it, and where its run of fields
 * lies in the whole struct. */
static const struct {
	__u32 flag;
	size_t off, len;
} blocks[] = {
    {CGP_REC_HAS_V2, offsetof(struct cgp_cgroup_rec, cpu_ns), CGP_REC_V2_BYTES},
    {CGP_REC_HAS_MEM, offsetof(struct cgp_cgroup_rec, mem_bytes), CGP_REC_MEM_BYTES},
    {CGP_REC_HAS_CPU_MAX, offsetof(struct cgp_cgroup_rec, cpu_quota_us), CGP_REC_CPU_MAX_BYTES},
};

/* Each block a run of fields that ends where the next begins, as bpf/sweep.bpf.c's write_rec places them. */
_Static_assert(offsetof(struct cgp_cgroup_rec, cpu_ns) == CGP_REC_HEAD_BYTES, "head");
_Static_assert(offsetof(struct cgp_cgroup_rec, mem_bytes) - offsetof(struct cgp_cgroup_rec, cpu_ns) == CGP_REC_V2_BYTES,
	       "cgroup v2 block");
_Static_assert(offsetof(struct cgp_cgroup_rec, cpu_quota_us) - offsetof(struct cgp_cgroup_rec, mem_bytes) ==
		   CGP_REC_MEM_BYTES,
	       "memory block");
_Static_assert(sizeof(struct cgp_cgroup_rec) - offsetof(struct cgp_cgroup_rec, cpu_quota_us) == CGP_REC_CPU_MAX_BYTES,
	       "cpu block");

/* One block: copied when the record carries it, else zeroed. Inline with each block's constant length, so that
 * the copies are a few vector moves and not a call each (20,000 records a sweep at 10,000 cgroups). */
static inline const unsigned char *block(const unsigned char *p, __u32 flags, __u32 flag, void *to, size_t len)
{
	if (!(flags & flag)) {
		memset(to, 0, len);
		return p;
	}
	memcpy(to, p, len);
	return p + len;
}

bool cgp_rec_unpack(const void *data, size_t len, struct cgp_cgroup_rec *r)
{
	const unsigned char *p = data;
	__u32 flags;

	if (!cgp_rec_valid(data, len))
		return false;
	memcpy(&flags, p + offsetof(struct cgp_cgroup_rec, flags), sizeof(flags));
	memcpy(r, p, CGP_REC_HEAD_BYTES);
	r->flags &= ~(__u32)CGP_REC_LAYOUT;
	p += CGP_REC_HEAD_BYTES;
	/* blocks[]' order, each length a constant */
	p = block(p, flags, CGP_REC_HAS_V2, &r->cpu_ns, CGP_REC_V2_BYTES);
	p = block(p, flags, CGP_REC_HAS_MEM, &r->mem_bytes, CGP_REC_MEM_BYTES);
	block(p, flags, CGP_REC_HAS_CPU_MAX, &r->cpu_quota_us, CGP_REC_CPU_MAX_BYTES);
	return true;
}

size_t cgp_rec_pack(const struct cgp_cgroup_rec *r, __u32 layout, void *out)
{
	unsigned char *p = out;
	__u32 flags = (r->flags & ~(__u32)CGP_REC_LAYOUT) | (layout & CGP_REC_LAYOUT);

	memcpy(p, r, CGP_REC_HEAD_BYTES);
	memcpy(p + offsetof(struct cgp_cgroup_rec, flags), &flags, sizeof(flags));
	p += CGP_REC_HEAD_BYTES;
	for (size_t i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++)
		if (layout & blocks[i].flag) {
			memcpy(p, (const char *)r + blocks[i].off, blocks[i].len);
			p += blocks[i].len;
		}
	return (size_t)(p - (unsigned char *)out);
}
