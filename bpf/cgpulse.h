/* SPDX-License-Identifier: GPL-2.0 */
/* The one header both sides share: map keys, map values and ring-buffer records, in __u32/__u64 only.
 * Names here are what `bpftool map dump` prints, so they say what they hold. */
#ifndef CGPULSE_H
#define CGPULSE_H

#define CGP_RUNQ_SLOTS	24   /* log2 buckets in microseconds: 0: <1us, i: [2^(i-1), 2^i) us, last: the rest */
#define CGP_MAX_CGROUPS 8192 /* default size of the per-cgroup maps; the agent resizes with --max-cgroups */
#define CGP_COMM_LEN	16
/* The sweep_records ring: a sweep with more records than it holds goes on in further walks (passes) */
#define CGP_SWEEP_RING_BYTES (512 * 1024)

/* Per-CPU figures of one cgroup, in the slot the cgroup owns (cgroup_cpu map, per-CPU array).
 * cgroup_id says which cgroup a CPU's copy belongs to: a slot is reused after rmdir and a CPU's copy
 * is reset the first time the new owner runs there, so a copy with another id counts for nothing. */
struct cgp_cpu {
	__u64 cgroup_id;
	__u64 cpu_ns;		    /* growth of the tasks' se.sum_exec_runtime while in this cgroup */
	__u64 voluntary_switches;   /* growth of task nvcsw */
	__u64 involuntary_switches; /* growth of task nivcsw */
	__u64 runq_delay_ns;	    /* growth of task sched_info.run_delay: time runnable but waiting */
	__u64 reclaim_ns;	    /* time in memcg reclaim (vmscan memcg_reclaim_begin → end) */
	__u64 reclaims;
};

/* Run-queue wait histogram of one cgroup (cgroup_runq map, shared array, same slot as cgroup_cpu). */
struct cgp_runq {
	__u64 cgroup_id;
	__u64 waits[CGP_RUNQ_SLOTS];
};

/* What the sweep learnt of a cgroup, kept in the id_hint map by its place in the walk (not pinned): its cgroup id
 * and CPU slot, valid only while serial names the same cgroup (bpf/sweep_hint.bpf.h). */
#define CGP_HINT_KINDS 2 /* kinds of walk kept: cgroup2, a v1 hierarchy with the memory controller */
struct cgp_id_hint {
	__u64 serial;
	__u64 cgroup_id;
	__u32 slot;
	__u32 has_slot;
};

/* Task-local state: what the kernel's own per-task counters were when the task was last switched out,
 * and which cgroup slot the task was last charged to (so the hot path needs no hash lookup). */
struct cgp_task {
	__u64 sum_exec_runtime;
	__u64 run_delay;
	__u64 pcount;
	__u64 nvcsw;
	__u64 nivcsw;
	__u64 cgroup_id;
	__u32 slot;
	__u32 reclaim_depth;
	__u64 reclaim_start_ns;
};

/* Counters of what did not fit or was lost (drops map, per-CPU array indexed by enum cgp_drop). */
enum cgp_drop {
	CGP_DROP_SLOTS_FULL = 0, /* a cgroup found no free slot: its figures are not collected */
	CGP_DROP_TASK_STORAGE,	 /* task storage could not be created: that switch was not charged */
	CGP_DROP_OOM_RINGBUF,	 /* an OOM record did not fit in the ring buffer */
	CGP_DROP_SWEEP_FULL, /* a sweep record could not be written, even in a further pass: that cgroup missed a sweep
			      */
	CGP_DROP_CGROUP_EVENT, /* a mkdir/rmdir record did not fit in cgroup_events: path found later by id */
	CGP_DROP_MAX,
};

/* Iterator output, one per cgroup per sweep: all figures of one cgroup, summed over CPUs in the kernel. */
enum cgp_rec_flags {
	CGP_REC_DFL = 1 << 0,	   /* cgroup_id is a cgroup v2 id */
	CGP_REC_CPU = 1 << 1,	   /* CPU figures present (the cgroup has run since attach) */
	CGP_REC_MEM = 1 << 2,	   /* memory figures present (the memory controller is on this cgroup) */
	CGP_REC_MEM_V1 = 1 << 3,   /* memory figures come from a v1 memory hierarchy (hybrid host) */
	CGP_REC_CPU_MAX = 1 << 4,  /* the cpu controller is on this cgroup: cpu_quota_us/cpu_period_us are set */
	CGP_REC_MEM_STAT = 1 << 5, /* mem_anon/file/inactive_file_bytes read (the kernel's memcg stats layout known) */
	CGP_REC_MEM_GROUP_KILL = 1 << 6, /* the kernel counts oom_group_kill (mem_events[CGP_MEM_EV_OOM_GROUP_KILL]) */
	CGP_REC_SWAP = 1 << 7,		 /* set by the agent, not the kernel side: swap is accounted (mem_swap_bytes) */
	CGP_REC_CPUTIME = 1 << 8,	 /* cpu_rtime/utime/stime_ns read from the cgroup's flushed base stats */
	CGP_REC_PSI = 1 << 9,		 /* psi_ns: PSI is on for this cgroup */
};

/* PSI stall totals, in the order of cgp_cgroup_rec.psi_ns: "some" = at least one task stalled on the resource,
 * "full" = all non-idle tasks stalled at once (*.pressure's some and full lines) */
enum cgp_psi {
	CGP_PSI_CPU_SOME = 0,
	CGP_PSI_CPU_FULL,
	CGP_PSI_MEM_SOME,
	CGP_PSI_MEM_FULL,
	CGP_PSI_IO_SOME,
	CGP_PSI_IO_FULL,
	CGP_PSI_MAX,
};

/* memory.events counters, in the order of cgp_cgroup_rec.mem_events */
enum cgp_mem_event {
	CGP_MEM_EV_HIGH = 0,	   /* usage went over memory.high (v2 only: v1 has no memory.high) */
	CGP_MEM_EV_MAX,		   /* usage was about to go over the limit (a charge hit memory.max) */
	CGP_MEM_EV_OOM,		   /* the OOM killer was invoked for the cgroup */
	CGP_MEM_EV_OOM_KILL,	   /* a process was OOM-killed */
	CGP_MEM_EV_OOM_GROUP_KILL, /* the whole cgroup was OOM-killed (memory.oom.group, v2, kernels since 5.16) */
	CGP_MEM_EVENTS,
};

/* A whole record as the agent holds it. In the sweep_records ring a record carries only the blocks of fields the
 * hierarchy its walk is on can fill, in this order (cgp_rec_bytes): the head; cgroup v2's (CPU, CPUTIME, PSI);
 * the memory controller's (MEM); the cpu controller's (CPU_MAX). A v1 memory record is then 112 bytes, and a
 * cgroup v2 one on a host whose memory and cpu controllers are on v1 hierarchies 232, not 376 each: the ring is
 * written fresh each sweep, by the program and then read by the agent. */
struct cgp_cgroup_rec {
	__u64 cgroup_id;
	__u32 flags;
	__u32 level;
	/* with CGP_REC_CPU: */
	__u64 cpu_ns;
	__u64 voluntary_switches;
	__u64 involuntary_switches;
	__u64 runq_delay_ns;
	__u64 reclaim_ns;
	__u64 reclaims;
	__u32 runq_waits[CGP_RUNQ_SLOTS]; /* low 32 bits of the totals: keeps a sweep's ring small */
	/* with CGP_REC_CPUTIME, the cgroup's own CPU time as cpu.stat has it before scaling (ns, hierarchical): */
	__u64 cpu_rtime_ns; /* sum_exec_runtime: cpu.stat usage_usec */
	__u64 cpu_utime_ns; /* tick-sampled user time; the agent scales user and system to add up to rtime, */
	__u64 cpu_stime_ns; /* as the kernel's cputime_adjust() does for cpu.stat user_usec / system_usec */
	/* with CGP_REC_PSI: stall time, ns, total (cpu/memory/io.pressure total=, in µs there), by enum cgp_psi */
	__u64 psi_ns[CGP_PSI_MAX];
	/* with CGP_REC_MEM: */
	__u64 mem_bytes;
	__u64 mem_limit_bytes;		  /* 0: no limit */
	__u64 oom_kills;		  /* the kernel's own count: memcg memory_events[MEMCG_OOM_KILL] */
	__u64 mem_swap_bytes;		  /* v2 memory.swap.current; v1 memory.memsw.usage - memory.usage */
	__u64 mem_events[CGP_MEM_EVENTS]; /* the memcg's memory_events[] (memory.events, hierarchical) */
	/* and with CGP_REC_MEM_STAT (pages of the memcg's flushed stats, in bytes, hierarchical as memory.stat): */
	__u64 mem_anon_bytes;	       /* anon (v1 total_rss) */
	__u64 mem_file_bytes;	       /* file (v1 total_cache) */
	__u64 mem_inactive_file_bytes; /* inactive_file (v1 total_inactive_file) */
	/* with CGP_REC_CPU_MAX: the CFS bandwidth settings and counters (cpu.max / cpu.cfs_*, cpu.stat) */
	__u64 cpu_quota_us;	     /* CFS bandwidth quota (cpu.max / cpu.cfs_quota_us); 0: no limit */
	__u64 cpu_period_us;	     /* CFS bandwidth period */
	__u64 cpu_periods;	     /* nr_periods */
	__u64 cpu_throttled_periods; /* nr_throttled */
	__u64 cpu_throttled_ns;	     /* throttled_time (v2 prints it as throttled_usec) */
	__u64 cpu_shares; /* the task group's weight in cpu.shares units (v1 cpu.shares; v2 cpu.weight 100 = 1024) */
};

/* Which blocks a record in the ring carries (in its flags, beside enum cgp_rec_flags), and their bytes. A block
 * is there whether or not its figures are (those have their own flags, and are 0 when absent). */
enum cgp_rec_layout {
	CGP_REC_HAS_V2 = 1 << 16,      /* cpu_ns .. psi_ns: a cgroup v2 walk's */
	CGP_REC_HAS_MEM = 1 << 17,     /* mem_bytes .. mem_inactive_file_bytes: the hierarchy has memory */
	CGP_REC_HAS_CPU_MAX = 1 << 18, /* cpu_quota_us .. cpu_shares: the hierarchy has cpu */
	CGP_REC_LAYOUT = CGP_REC_HAS_V2 | CGP_REC_HAS_MEM | CGP_REC_HAS_CPU_MAX,
};

#define CGP_REC_HEAD_BYTES    16  /* cgroup_id, flags, level */
#define CGP_REC_V2_BYTES      216 /* cpu_ns .. psi_ns */
#define CGP_REC_MEM_BYTES     96  /* mem_bytes .. mem_inactive_file_bytes */
#define CGP_REC_CPU_MAX_BYTES 48  /* cpu_quota_us .. cpu_shares */

/* The bytes of a record with these flags in the sweep_records ring (without the ring's own 8-byte header). */
static inline __u32 cgp_rec_bytes(__u32 flags)
{
	return CGP_REC_HEAD_BYTES + (flags & CGP_REC_HAS_V2 ? CGP_REC_V2_BYTES : 0) +
	       (flags & CGP_REC_HAS_MEM ? CGP_REC_MEM_BYTES : 0) +
	       (flags & CGP_REC_HAS_CPU_MAX ? CGP_REC_CPU_MAX_BYTES : 0);
}

#define CGP_PATH_LEN 256

enum cgp_cgroup_event_kind { CGP_CGROUP_MKDIR = 1, CGP_CGROUP_RMDIR = 2 };

/* A cgroup v2 directory made or removed (cgroup_events ring buffer): the agent learns paths when cgroups are
 * born, so an event about a cgroup that is already gone still names it. */
struct cgp_cgroup_event {
	__u64 ts_boot_ns;
	__u64 cgroup_id;
	__u32 kind; /* enum cgp_cgroup_event_kind */
	__u32 level;
	char path[CGP_PATH_LEN]; /* relative to the cgroup2 root; cut at CGP_PATH_LEN - 1 */
};

/* What the agent instance running now leaves for the next one on the node: the agent_state map, pinned, so it
 * outlives an agent killed without warning (with --keep-pins). Written by userspace only, through mmap. */
#define CGP_INSTANCE_ID_LEN 40

enum cgp_agent_flags {
	CGP_AGENT_COLLECTOR = 1, /* it pushed to a collector: what it had not had acknowledged was owed to one */
	CGP_AGENT_SPOOL_DIR = 2, /* it journaled its spool to a directory */
};

struct cgp_agent_state {
	char instance_id[CGP_INSTANCE_ID_LEN]; /* NUL-terminated; empty: no agent yet */
	__u64 last_seq;			       /* the last sequence number it published */
	__u64 acked_seq;		       /* the collector acknowledged every seq up to this */
	__u32 flags;			       /* enum cgp_agent_flags */
	__u32 pad;
};

/* One OOM kill, sent through the oom_events ring buffer the moment the kernel picks the victim. */
struct cgp_oom_rec {
	__u64 ts_boot_ns; /* bpf_ktime_get_boot_ns() */
	__u64 cgroup_id;  /* victim's cgroup v2 id */
	__u64 memcg_id;	  /* victim's memory cgroup id in its own hierarchy (v1 on hybrid) */
	__u32 pid;	  /* thread id */
	__u32 tgid;	  /* process id */
	__u64 rss_anon_bytes;
	__u64 rss_file_bytes;
	__u64 rss_shmem_bytes;
	__u64 pgtables_bytes;
	__s32 oom_score_adj;
	__u32 memcg_v1; /* 1 when memcg_id is on a v1 hierarchy */
	char comm[CGP_COMM_LEN];
	__u64 mem_limit_bytes; /* the victim's memory cgroup's limit; 0: none */
};

#endif
