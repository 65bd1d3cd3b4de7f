// SPDX-License-Identifier: GPL-2.0
/* The one BPF object of cgpulse: every program file is included here so all programs share one copy of each
 * map. (Linking separate objects with `bpftool gen object` mis-relocates shared maps with libbpf 1.1, the
 * version Debian 12 ships: the second object's relocations point past the merged .maps section.) */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "maps.bpf.h"

#include "cpu.bpf.c"
#include "sweep.bpf.c"
#include "reclaim.bpf.c"
#include "oom.bpf.c"
#include "cgroup.bpf.c"
#include "flush.bpf.c"

char LICENSE[] SEC("license") = "GPL";
