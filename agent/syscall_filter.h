/* SPDX-License-Identifier: GPL-2.0 */
/* A seccomp allow-list of the syscalls the agent's loop makes once its programs are attached (agent/syscall_filter.c
 * holds the list, one line per syscall with who needs it). Anything else is refused: the agent logs the
 * syscall's name and exits, so a forgotten one shows at once in tests, never as a silent failure.
 *
 * Adding a syscall a new feature needs: run that feature with `--seccomp log`, which lets every syscall through
 * and has the kernel log those off the list (`dmesg | grep 'type=1326'`, "syscall=N"; `scmp_sys_resolver N`
 * names it; the kernel rate-limits those lines, so run again until none is new), then add each to the table in
 * agent/syscall_filter.c with a word on who needs it. */
#ifndef CGP_SYSCALL_FILTER_H
#define CGP_SYSCALL_FILTER_H

enum cgp_seccomp_mode {
	CGP_SECCOMP_ENFORCE, /* a syscall off the list ends the agent, naming the syscall (the default) */
	CGP_SECCOMP_LOG,     /* allowed, and logged by the kernel (audit type 1326): to find what a feature needs */
	CGP_SECCOMP_OFF,
};

/* "enforce", "log", "off" → mode; -1 for anything else. */
int cgp_seccomp_mode_parse(const char *s);
/* Installs the filter on the calling thread (and the threads it makes later). Needs no_new_privs or
 * CAP_SYS_ADMIN. 0 or -errno. */
int cgp_seccomp_install(enum cgp_seccomp_mode mode);

#endif
