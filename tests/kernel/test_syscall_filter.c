/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's syscall filter (agent/syscall_filter.c), installed by the agent's own function in a child
 * process on the real kernel: what the loop uses still works; what it must never do (open_by_handle_at, the
 * container escape CAP_DAC_READ_SEARCH allowed; ptrace; execve; packet sockets; loading a BPF program; mount)
 * ends the process with the syscall named on stderr; in log mode the same syscall goes through. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "syscall_filter.h"

enum forbidden { F_NONE, F_OPEN_BY_HANDLE, F_PTRACE, F_EXECVE, F_PACKET, F_BPF_LOAD, F_MOUNT };

/* An ASan build's filter also lets through what LeakSanitizer and the symbolizer need (ptrace, execve...) */
#if defined(__SANITIZE_ADDRESS__)
#define SANITIZER_BUILD 1
#else
#define SANITIZER_BUILD 0
#endif

/* What the loop does, all of it allowed: files, sockets of the allowed families, a bpf() command that only
 * reads. 0 when each gives the answer it gives without a filter. */
static int allowed_work(void)
{
	char buf[64];
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), s;
	union bpf_attr a;

	if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0)
		return 1;
	close(fd);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 2;
	close(s);
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 3;
	close(s);
	memset(&a, 0, sizeof(a));
	a.map_fd = 12345; /* not a map: EBADF (or EPERM without CAP_BPF), not the filter */
	if (syscall(SYS_bpf, BPF_MAP_LOOKUP_ELEM, &a, sizeof(a)) != -1 || (errno != EBADF && errno != EPERM))
		return 4;
	return 0;
}

static void do_forbidden(enum forbidden f)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char h[8];
	} fh = {8, 0xfe, {0}};
	union bpf_attr a;

	switch (f) {
	case F_OPEN_BY_HANDLE:
		syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
		break;
	case F_PTRACE:
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		break;
	case F_EXECVE:
		execl("/bin/true", "true", (char *)NULL);
		break;
	case F_PACKET:
		socket(AF_PACKET, SOCK_RAW, 0);
		break;
	case F_BPF_LOAD:
		memset(&a, 0, sizeof(a));
		syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
		break;
	case F_MOUNT:
		syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, NULL);
		break;
	case F_NONE:
		break;
	}
}

/* Runs the child: install (mode), the allowed work, then the forbidden syscall, then exit 0. Returns the wait
 * status; the child's stderr in err. */
static int run_child(enum cgp_seccomp_mode mode, enum forbidden f, char *err, size_t errlen)
{
	int p[2], status = 0;
	ssize_t n, got = 0;
	pid_t pid;

	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		dup2(p[1], 2);
		close(p[0]);
		/* the agent sets no_new_privs when it drops its capabilities, just before */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || cgp_seccomp_install(mode))
			_exit(90);
		if (allowed_work())
			_exit(91);
		do_forbidden(f);
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], err + got, errlen - 1 - (size_t)got)) > 0)
		got += n;
	err[got] = 0;
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_allowed_work(void **state)
{
	char err[1024];
	int st = run_child(CGP_SECCOMP_ENFORCE, F_NONE, err, sizeof(err));

	(void)state;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("the loop's own syscalls failed under the filter: status %#x, stderr: %s", st, err);
}

static void test_forbidden(void **state)
{
	static const struct {
		enum forbidden f;
		const char *name;
		bool sanitizer_allows;
	} cases[] = {
	    {F_OPEN_BY_HANDLE, "open_by_handle_at", false},
	    {F_PTRACE, "ptrace", true},
	    {F_EXECVE, "execve", true},
	    {F_PACKET, "socket", false},
	    {F_BPF_LOAD, "bpf", false},
	    {F_MOUNT, "mount", false},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[1024], want[64];
		int st;

		if (SANITIZER_BUILD && cases[i].sanitizer_allows) {
			print_message("  %s: allowed in this ASan build (LeakSanitizer, the symbolizer)\n",
				      cases[i].name);
			continue;
		}
		st = run_child(CGP_SECCOMP_ENFORCE, cases[i].f, err, sizeof(err));

		snprintf(want, sizeof(want), "seccomp: syscall %s (", cases[i].name);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 128 + SIGSYS || !strstr(err, want))
			fail_msg("%s: want exit %d and \"%s\", got status %#x, stderr: %s", cases[i].name, 128 + SIGSYS,
				 want, st, err);
		print_message("  %s: refused, \"%.*s\"\n", cases[i].name, (int)strcspn(err, ";"), err);
	}
}

/* --seccomp log: the same syscall is let through (the kernel logs it), so a missing one can be found. */
static void test_log_mode(void **state)
{
	char err[1024];
	int st = run_child(CGP_SECCOMP_LOG, F_MOUNT, err, sizeof(err));

	(void)state;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("log mode stopped the process: status %#x, stderr: %s", st, err);
	assert_int_equal(cgp_seccomp_mode_parse("enforce"), CGP_SECCOMP_ENFORCE);
	assert_int_equal(cgp_seccomp_mode_parse("log"), CGP_SECCOMP_LOG);
	assert_int_equal(cgp_seccomp_mode_parse("off"), CGP_SECCOMP_OFF);
	assert_int_equal(cgp_seccomp_mode_parse("on"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allowed_work),
	    cmocka_unit_test(test_forbidden),
	    cmocka_unit_test(test_log_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
