// SPDX-License-Identifier: GPL-2.0
/* libFuzzer: the playbook parser (agent/playbook/parse.c, yaml_load.c) on any bytes. What parses must print
 * (cgpulse playbook show) as YAML that parses back to as many rules; nothing may crash, leak or take long (the
 * fuzzer's -timeout catches a parse that is not linear). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playbook/playbook.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cgp_playbook *pb = NULL, *back = NULL;
	char err[512];
	char *text;

	if (size > CGP_PLAYBOOK_MAX_BYTES)
		return 0; /* what cgp_playbook_load_file refuses before parsing */
	if (cgp_playbook_parse("fuzz", (const char *)data, size, &pb, err, sizeof(err))) {
		if (!err[0])
			abort(); /* every refusal says why */
		return 0;
	}
	text = cgp_playbook_format(pb);
	if (!text)
		abort();
	if (cgp_playbook_parse("shown", text, strlen(text), &back, err, sizeof(err))) {
		fprintf(stderr, "the printed playbook does not parse back: %s\n%s\n", err, text);
		abort();
	}
	if (back->nrules != pb->nrules)
		abort();
	for (size_t i = 0; i < pb->nrules; i++)
		if (strcmp(pb->rules[i].name, back->rules[i].name) || pb->rules[i].for_ns != back->rules[i].for_ns ||
		    strcmp(pb->rules[i].action, back->rules[i].action))
			abort();
	free(text);
	cgp_playbook_free(back);
	cgp_playbook_free(pb);
	return 0;
}
