/* SPDX-License-Identifier: GPL-2.0 */
/* Maps shared by all programs (one object, bpf/cgpulse.bpf.c). Sizes are defaults; the agent sets them from
 * --max-cgroups before load. */
#ifndef CGP_MAPS_BPF_H
#define CGP_MAPS_BPF_H

#include "cgpulse.h"

#define CGP_MAX_CPUS 1024 /* bound of the loops over CPUs (the kernel's NR_CPUS on distribution builds is 8192) */

/* cgroup v2 id → slot in cgroup_cpu / cgroup_runq */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, CGP_MAX_CGROUPS);
	__type(key, __u64);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgroup_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CGP_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, struct cgp_cpu);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgroup_cpu SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CGP_MAX_CGROUPS);
	__type(key, __u32);
	__type(value, struct cgp_runq);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgroup_runq SEC(".maps");

/* slots given back by cgroup_rmdir, reused before new ones are taken */
struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, CGP_MAX_CGROUPS);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} free_slots SEC(".maps");

struct cgp_slot_alloc {
	__u64 next_slot; /* slots below this were handed out at least once */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cgp_slot_alloc);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} slot_alloc SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct cgp_task);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} task_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CGP_DROP_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} drops SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oom_events SEC(".maps");

/* the agent instance running now, for the next one (no program uses it: userspace writes it through mmap) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct cgp_agent_state);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} agent_state SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} cgroup_events SEC(".maps");

/* One sweep's records. A cgroup iterator cannot carry a walk across read() calls (it returns -EOPNOTSUPP once
 * the first 32 KiB seq buffer is full), so the iterator writes here in one session and the agent drains it
 * right after. Small and fixed (every page is in the agent's RSS from mmap on; agent/collect/ringbuf.c maps them
 * once): a walk that fills it stops and the agent walks again from there (bpf/sweep.bpf.c). Not pinned: it holds
 * nothing between sweeps. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, CGP_SWEEP_RING_BYTES);
} sweep_records SEC(".maps");

static __always_inline void cgp_count_drop(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&drops, &what);

	if (n)
		*n += 1;
}

#endif
