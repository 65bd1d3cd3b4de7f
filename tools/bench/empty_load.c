// SPDX-License-Identifier: GPL-2.0
/* Loads and attaches the empty tp_btf sched_switch program (empty.bpf.c), prints its program id, and keeps it
 * attached until stdin reaches EOF or a signal arrives. The harness reads the program's run_time_ns/run_cnt
 * with bpftool; nothing is pinned, so the program goes with this process and cannot be left behind. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "empty.skel.h"

static void on_signal(int sig)
{
	(void)sig; /* only to interrupt read() */
}

int main(void)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct sigaction sa = {.sa_handler = on_signal};
	struct empty_bpf *skel;
	char buf[64];
	int err;

	/* die with the harness, so a killed benchmark leaves nothing attached */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	skel = empty_bpf__open_and_load();
	if (!skel) {
		fprintf(stderr, "empty_load: loading the empty program: %s\n", strerror(errno));
		return 1;
	}
	err = empty_bpf__attach(skel);
	if (!err)
		err = bpf_obj_get_info_by_fd(bpf_program__fd(skel->progs.bench_empty), &info, &len);
	if (err) {
		fprintf(stderr, "empty_load: attaching: %s\n", strerror(-err));
		empty_bpf__destroy(skel);
		return 1;
	}
	printf("bench_empty %u\n", info.id);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	empty_bpf__destroy(skel);
	return 0;
}
