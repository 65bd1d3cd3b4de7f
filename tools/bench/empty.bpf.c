// SPDX-License-Identifier: GPL-2.0
/* The baseline of the kernel-cost benchmark: a tp_btf sched_switch program that does nothing, so its
 * run_time_ns/run_cnt is the price of the hook itself (trampoline, stats accounting) on this machine, and
 * every cgpulse figure can be read as "this much above doing nothing on the same tracepoint". */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/sched_switch")
int BPF_PROG(bench_empty)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
