// SPDX-License-Identifier: GPL-2.0
/* `cgpulse playbook check FILE` and `cgpulse playbook show`: validate a playbook, print the one in force. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "lib/log.h"
#include "playbook/playbook.h"

int cgp_playbook_open(const char *file, struct cgp_playbook **out)
{
	char err[512];
	int rc =
	    file ? cgp_playbook_load_file(file, out, err, sizeof(err)) : cgp_playbook_default(out, err, sizeof(err));

	if (rc)
		fprintf(stderr, "%s\n", err); /* already "file:line:column: reason" */
	return rc;
}

/* A Prometheus duration ("30s", "1m", "1h30m"): what a range selector takes. */
static bool prom_duration(const char *s)
{
	uint64_t ns;

	return *s && strspn(s, "0123456789smhdwy") == strlen(s) && !cgp_duration_parse(s, &ns) && ns;
}

int cgp_cmd_playbook(const char *verb, const char *file, const struct cgp_opts *o)
{
	const char *win = o->rate_window ? o->rate_window : "1m";
	struct cgp_playbook *pb;
	char *text;
	int err;

	if (strcmp(verb, "check") && strcmp(verb, "show") && strcmp(verb, "export")) {
		cgp_err("playbook: unknown verb '%s' (check FILE | show [--playbook FILE] | export --prometheus-rules "
			"[--playbook FILE])",
			verb);
		return -EINVAL;
	}
	if (!strcmp(verb, "export") && !o->prometheus_rules) {
		cgp_err("playbook export: in which format? (--prometheus-rules)");
		return -EINVAL;
	}
	if (!prom_duration(win)) {
		cgp_err("--rate-window '%s': not a duration Prometheus takes (for example 30s, 1m, 2m30s)", win);
		return -EINVAL;
	}
	if (!strcmp(verb, "check") && !file) {
		cgp_err("playbook check: which file? (cgpulse playbook check FILE)");
		return -EINVAL;
	}
	err = cgp_playbook_open(file, &pb);
	if (err)
		return err;
	if (!strcmp(verb, "check")) {
		printf("%s: ok\n", file);
	} else {
		text = !strcmp(verb, "export") ? cgp_playbook_prometheus_rules(pb, win) : cgp_playbook_format(pb);
		if (!text) {
			cgp_playbook_free(pb);
			return -ENOMEM;
		}
		fputs(text, stdout);
		free(text);
	}
	cgp_playbook_free(pb);
	return 0;
}
