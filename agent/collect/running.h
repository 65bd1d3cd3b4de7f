/* SPDX-License-Identifier: GPL-2.0 */
/* Charging the tasks that are running right now: cgp_tick (bpf/cpu.bpf.c) run once on each CPU, so a task that
 * never leaves its CPU is charged every interval, not only when it is switched out. */
#ifndef CGP_RUNNING_H
#define CGP_RUNNING_H

#include <stdint.h>

struct cgp_bpf;

struct cgp_running_stats {
	uint64_t runs;	   /* CPUs charged */
	uint64_t failures; /* runs the kernel refused (an offline CPU is not one): that CPU waits for its switch */
};

/* Runs cgp_tick on every online CPU; adds to st. */
void cgp_charge_running(const struct cgp_bpf *b, struct cgp_running_stats *st);

#endif
