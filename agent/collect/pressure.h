/* SPDX-License-Identifier: GPL-2.0 */
/* The whole system's PSI (/proc/pressure/cpu, memory, io): the root cgroup's pressure, which the kernel keeps
 * apart from every cgroup's (bpf/psi.bpf.h reads the others in the sweep). Reading the files has the kernel bring
 * its totals up to date first, so they are fresh. */
#ifndef CGP_PRESSURE_H
#define CGP_PRESSURE_H

#include <stdint.h>
#include <linux/types.h>
#include "cgpulse.h" /* enum cgp_psi */

/* "some avg10=.. avg60=.. avg300=.. total=N" and "full ... total=M" lines (total in µs) into ns. A missing full
 * line (cpu before 5.13) reads 0. 0, or -EINVAL when there is no some line. */
int cgp_pressure_parse(const char *text, uint64_t *some_ns, uint64_t *full_ns);
/* All three files, by enum cgp_psi. 0, or -errno (-ENOENT: the kernel has no PSI, or it is off). */
int cgp_pressure_read_system(uint64_t out[CGP_PSI_MAX]);

#endif
