// SPDX-License-Identifier: GPL-2.0
/* The loop's syscalls, and nothing else. Taken from strace of the agent's whole loop (sampling, the kernel's
 * rings, HTTP with TLS and a token, event streams, the collector and its reconnects, playbook and credential
 * reloads, a real OOM kill, cgroups made and removed, the exit path) and from what glibc's resolver does for
 * --collector HOST. */
#include <errno.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <seccomp.h>

#include "lib/log.h"
#include "syscall_filter.h"

#ifndef CGP_SANITIZER_BUILD
#if defined(__SANITIZE_ADDRESS__)
#define CGP_SANITIZER_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CGP_SANITIZER_BUILD 1
#endif
#endif
#endif
#ifndef CGP_SANITIZER_BUILD
#define CGP_SANITIZER_BUILD 0
#endif

/* One line per syscall: who needs it. Names the running architecture lacks (open on arm64) are skipped. */
static const struct {
	const char *name, *why;
} allowed[] = {
    /* the loop */
    {"epoll_wait", "the loop, libmicrohttpd's epoll"},
    {"epoll_pwait", "glibc's epoll_wait on some architectures"},
    {"epoll_ctl", "the loop, libmicrohttpd, the collector socket"},
    {"epoll_create1", "libmicrohttpd daemons started when new TLS files come"},
    {"read", "signalfd, timerfd, sockets, files"},
    {"readv", "stdio"},
    {"write", "stdout events, logs, sockets"},
    {"writev", "stdio, sockets"},
    {"close", "fds of every kind"},
    {"fcntl", "libmicrohttpd, glibc"},
    {"ioctl", "stdio's isatty, the resolver's FIONREAD"},
    {"timerfd_settime", "the sampling timer"},
    {"eventfd2", "libmicrohttpd's wake-ups"},
    /* BPF: maps, the sweep's iterator, program figures (commands that load or attach are refused below) */
    {"bpf", "the sweep's iterator, the drops map, program figures"},
    /* files: runtime state, /proc/self, the playbook, TLS and token files, cgroup walks */
    {"openat", "files"},
    {"open", "files (older architectures)"},
    {"newfstatat", "stat(2): cgroup ids, changed files"},
    {"fstat", "files"},
    {"stat", "files (older architectures)"},
    {"lstat", "files (older architectures)"},
    {"statx", "glibc's stat on newer kernels"},
    {"lseek", "stdio"},
    {"pread64", "files"},
    {"getdents64", "walking cgroup trees by path"},
    {"unlink", "removing the pins at exit (older architectures)"},
    {"unlinkat", "removing the pins at exit"},
    {"rmdir", "removing the pin directory at exit"},
    /* --spool-dir: segments written, synced, cut back, retired; the state file replaced */
    {"fdatasync", "spool segments made durable"},
    {"fsync", "the spool directory's entries made durable"},
    {"ftruncate", "a torn spool segment cut back"},
    {"renameat", "the spool's state file replaced"},
    {"renameat2", "renameat on newer architectures"},
    {"rename", "rename (older architectures)"},
    {"fchmod", "spool files made 0600"},
    {"mkdir", "the spool directory (older architectures)"},
    {"mkdirat", "the spool directory"},
    {"flock", "the spool directory's lock"},
    {"dup", "the spool directory listed"},
    /* sockets: HTTP, the collector, the resolver */
    {"accept4", "HTTP connections"},
    {"accept", "HTTP connections (older glibc)"},
    {"socket", "the collector, the resolver (address families limited below)"},
    {"connect", "the collector, the resolver"},
    {"getsockopt", "connect results"},
    {"setsockopt", "send buffers, TCP options"},
    {"getsockname", "the HTTP listener"},
    {"getpeername", "libmicrohttpd"},
    {"shutdown", "connections past their deadline"},
    {"recvfrom", "sockets"},
    {"recvmsg", "sockets, the resolver's netlink"},
    {"sendto", "sockets"},
    {"sendmsg", "sockets"},
    {"sendmmsg", "the resolver's parallel A/AAAA queries"},
    {"poll", "the resolver"},
    {"ppoll", "the resolver on some architectures"},
    {"bind", "the resolver's netlink socket"},
    /* memory and the C library */
    {"mmap", "malloc, libraries loaded by the resolver"},
    {"munmap", "malloc"},
    {"mremap", "realloc"},
    {"mprotect", "malloc's arenas, libraries"},
    {"madvise", "free, malloc_trim"},
    {"brk", "malloc"},
    {"futex", "glibc locks"},
    {"getrandom", "GnuTLS"},
    {"clock_gettime", "clocks (when the vDSO is not used)"},
    {"clock_nanosleep", "short waits"},
    {"nanosleep", "short waits"},
    {"gettimeofday", "clocks"},
    {"uname", "GnuTLS, glibc"},
    {"getpid", "glibc, logs"},
    {"gettid", "glibc"},
    {"getuid", "glibc"},
    {"geteuid", "glibc"},
    {"sysinfo", "node figures"},
    {"rt_sigprocmask", "glibc"},
    {"rt_sigreturn", "signal handlers"},
    {"tgkill", "abort(3): a failed assertion still dumps core"},
    {"sched_yield", "glibc"},
    {"restart_syscall", "the kernel, after a stop"},
    {"exit", "threads"},
    {"exit_group", "exit"},
    /* threads: libcurl's resolver for --alertmanager HOST (clone limited to threads, below) */
    {"clone", "threads only (CLONE_THREAD), below"},
    {"clone3", "answers ENOSYS, below: glibc falls back to clone"},
    {"set_robust_list", "a new thread"},
    {"rseq", "a new thread"},
    {"rt_sigaction", "libcurl's SIGPIPE handling"},
    {"socketpair", "libcurl's resolver thread wakes its owner (unix only, below)"},
#if CGP_SANITIZER_BUILD
    /* ASan builds only (make test-asan, never shipped): LeakSanitizer's check at exit stops the world with a
     * ptrace-ing clone, and a report runs llvm-symbolizer */
    {"ptrace", "LeakSanitizer"},
    {"wait4", "LeakSanitizer"},
    {"waitid", "LeakSanitizer"},
    {"prctl", "LeakSanitizer"},
    {"sigaltstack", "sanitizers"},
    {"getppid", "LeakSanitizer"},
    {"getdents", "LeakSanitizer's thread lister (refused there, the check would wait forever)"},
    {"kill", "LeakSanitizer"},
    {"tkill", "LeakSanitizer"},
    {"sched_getaffinity", "sanitizers"},
    {"readlink", "sanitizers"},
    {"readlinkat", "sanitizers"},
    {"pipe", "the symbolizer"},
    {"pipe2", "the symbolizer"},
    {"dup2", "the symbolizer"},
    {"dup3", "the symbolizer"},
    {"execve", "the symbolizer"},
    {"fork", "the symbolizer"},
    {"vfork", "the symbolizer"},
#endif
};

/* bpf() commands that make or attach something: the loop only reads what is loaded already. */
static const int bpf_refused[] = {
    BPF_MAP_CREATE,	  BPF_PROG_LOAD,	 BPF_PROG_ATTACH, BPF_PROG_DETACH,	BPF_RAW_TRACEPOINT_OPEN,
    BPF_BTF_LOAD,	  BPF_LINK_CREATE,	 BPF_LINK_UPDATE, BPF_MAP_FREEZE,	BPF_PROG_BIND_MAP,
    BPF_OBJ_PIN,	  BPF_ENABLE_STATS,	 BPF_OBJ_GET,	  BPF_BTF_GET_FD_BY_ID, BPF_PROG_GET_FD_BY_ID,
    BPF_MAP_GET_FD_BY_ID, BPF_LINK_GET_FD_BY_ID,
};

/* socket(2) families: inet for HTTP and the collector, unix and netlink for glibc's resolver. No packet
 * sockets, no others. */
static const int families[] = {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK};

#define NAMES 512
static char *names[NAMES]; /* syscall numbers → names, made before the filter, read by the handler */

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	static const char
	    head[] = "cgpulse: error: seccomp: syscall ",
	    tail[] = " refused: not in the agent's allow-list, or not with these arguments (agent/syscall_filter.c); "
		     "exiting. --seccomp log lists what a feature misses (dmesg | grep type=1326)\n";
	char num[24];
	int n = si->si_syscall, i = sizeof(num);
	const char *name = n >= 0 && n < NAMES && names[n] ? names[n] : "?";

	(void)sig;
	(void)uc;
	num[--i] = ')';
	do
		num[--i] = (char)('0' + (n < 0 ? 0 : n) % 10);
	while ((n /= 10) > 0 && i > 2);
	num[--i] = '(';
	num[--i] = ' ';
	/* async-signal-safe: write(2) and exit_group(2) only, the latter raw: a sanitizer's _exit would run its
	 * leak check here, with syscalls of its own */
	if (write(2, head, sizeof(head) - 1) < 0 || write(2, name, strlen(name)) < 0 ||
	    write(2, num + i, sizeof(num) - (size_t)i) < 0 || write(2, tail, sizeof(tail) - 1) < 0)
		syscall(SYS_exit_group, 128 + SIGSYS);
	syscall(SYS_exit_group, 128 + SIGSYS);
}

int cgp_seccomp_mode_parse(const char *s)
{
	return !strcmp(s, "enforce") ? CGP_SECCOMP_ENFORCE
	       : !strcmp(s, "log")   ? CGP_SECCOMP_LOG
	       : !strcmp(s, "off")   ? CGP_SECCOMP_OFF
				     : -1;
}

static int allow_if_arg0(scmp_filter_ctx ctx, int nr, uint64_t v)
{
	const struct scmp_arg_cmp eq = {.arg = 0, .op = SCMP_CMP_EQ, .datum_a = v, .datum_b = 0};

	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &eq);
}

/* Threads (libcurl's resolver, for --alertmanager): clone(2) only with CLONE_THREAD, so no new process; clone3's
 * flags sit in memory a filter cannot read, so it answers ENOSYS and glibc falls back to clone(2). */
static int thread_rules(scmp_filter_ctx ctx)
{
	const struct scmp_arg_cmp thread = {
	    .arg = 0, .op = SCMP_CMP_MASKED_EQ, .datum_a = CLONE_THREAD, .datum_b = CLONE_THREAD};
	int err, nr = seccomp_syscall_resolve_name("clone3");

	if (CGP_SANITIZER_BUILD)
		return 0; /* allowed whole, in the table */
	if (nr >= 0 && (err = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0)))
		return err;
	return seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("clone"), 1, &thread);
}

static int rules(scmp_filter_ctx ctx)
{
	static const char *const special[] = {"bpf", "socket", "socketpair", "clone", "clone3"};
	int err;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i].name);
		bool below = false;

		for (size_t k = 0; k < sizeof(special) / sizeof(special[0]); k++)
			below |= !strcmp(allowed[i].name, special[k]) && !(CGP_SANITIZER_BUILD && k >= 3);
		if (nr == __NR_SCMP_ERROR || nr < 0 || below)
			continue; /* not on this architecture, or allowed with conditions below */
		if ((err = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0)))
			return err;
	}
	/* bpf(): each command this header knows but those that make or attach something (commands newer than
	 * the header are refused: the loop has no use for them) */
	for (int cmd = 0; cmd <= BPF_PROG_BIND_MAP; cmd++) {
		bool refused = false;

		for (size_t i = 0; i < sizeof(bpf_refused) / sizeof(bpf_refused[0]); i++)
			refused |= bpf_refused[i] == cmd;
		if (!refused && (err = allow_if_arg0(ctx, seccomp_syscall_resolve_name("bpf"), (uint64_t)cmd)))
			return err;
	}
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if ((err = allow_if_arg0(ctx, seccomp_syscall_resolve_name("socket"), (uint64_t)families[i])))
			return err;
	/* socketpair(2): unix only (libcurl's resolver thread wakes its owner through one) */
	if ((err = allow_if_arg0(ctx, seccomp_syscall_resolve_name("socketpair"), AF_UNIX)))
		return err;
	return thread_rules(ctx);
}

int cgp_seccomp_install(enum cgp_seccomp_mode mode)
{
	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	scmp_filter_ctx ctx;
	int err;

	if (mode == CGP_SECCOMP_OFF)
		return 0;
	for (int i = 0; i < NAMES; i++)
		if (!names[i])
			names[i] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
	if (mode == CGP_SECCOMP_ENFORCE && sigaction(SIGSYS, &sa, NULL))
		return -errno;
	ctx = seccomp_init(mode == CGP_SECCOMP_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
	if (!ctx)
		return -ENOMEM;
	err = rules(ctx);
	if (!err)
		err = seccomp_load(ctx);
	seccomp_release(ctx);
	if (err)
		cgp_err("seccomp: %s", strerror(-err));
	return err;
}
