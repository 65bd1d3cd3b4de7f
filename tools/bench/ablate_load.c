// SPDX-License-Identifier: GPL-2.0
/* Loads and attaches one step of ablate.bpf.c (named on the command line), prints "NAME ID", and keeps it
 * attached until stdin reaches EOF or a signal arrives. Nothing is pinned: the program goes with us. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "ablate.skel.h"

static void on_signal(int sig)
{
	(void)sig; /* only to interrupt read() */
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct bpf_program *p, *want = NULL;
	struct bpf_link *link = NULL;
	struct ablate_bpf *skel;
	char buf[64];
	int err;

	if (argc != 2) {
		fprintf(stderr,
			"usage: ablate_load abl_storage|abl_fields|abl_percpu|abl_full|abl_nostate|abl_nohelper\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* die with the harness: nothing stays attached */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	skel = ablate_bpf__open();
	if (!skel) {
		fprintf(stderr, "ablate_load: %s\n", strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(p, skel->obj)
	{
		if (!strcmp(bpf_program__name(p), argv[1]))
			want = p;
		else
			bpf_program__set_autoload(p, false);
	}
	if (!want) {
		fprintf(stderr, "ablate_load: no program %s\n", argv[1]);
		ablate_bpf__destroy(skel);
		return 2;
	}
	err = ablate_bpf__load(skel);
	if (!err) {
		link = bpf_program__attach(want);
		err = link ? 0 : -errno;
	}
	if (!err)
		err = bpf_obj_get_info_by_fd(bpf_program__fd(want), &info, &len);
	if (err) {
		fprintf(stderr, "ablate_load: %s: %s\n", argv[1], strerror(-err));
		bpf_link__destroy(link);
		ablate_bpf__destroy(skel);
		return 1;
	}
	printf("%s %u\n", argv[1], info.id);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	bpf_link__destroy(link);
	ablate_bpf__destroy(skel);
	return 0;
}
