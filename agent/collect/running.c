// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgpulse.skel.h"
#include "collect/loader.h"
#include "collect/running.h"
#include "lib/log.h"

void cgp_charge_running(const struct cgp_bpf *b, struct cgp_running_stats *st)
{
	int fd = bpf_program__fd(b->skel->progs.cgp_tick);

	for (int cpu = 0; fd >= 0 && cpu < b->nr_cpus; cpu++) {
		/* the kernel runs the program on that CPU, in an IPI (the caller's own CPU: right here) */
		struct bpf_test_run_opts o = {.sz = sizeof(o), .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = (__u32)cpu};

		if (!bpf_prog_test_run_opts(fd, &o)) {
			st->runs++;
		} else if (errno != ENXIO) { /* ENXIO: the CPU is offline, its tasks run nowhere */
			if (!st->failures++)
				cgp_info("charging the task running on CPU %d: %s (it is charged when it is switched "
					 "out instead)",
					 cpu, strerror(errno));
		}
	}
}
