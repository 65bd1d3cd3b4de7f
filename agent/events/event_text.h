/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's text output for people: one row per sample, one line per OOM kill or alert, naming the
 * container when one is known. (JSON goes through the event encoder, with the proto's field names.) */
#ifndef CGP_EVENT_TEXT_H
#define CGP_EVENT_TEXT_H

#include <stdio.h>
#include "collect/sample.h"
#include "names/attribution.h"
#include "playbook/alert.h"

void cgp_print_sample_header(FILE *f);
void cgp_print_sample(FILE *f, const struct cgp_sample *s, const struct cgp_attribution *a);
void cgp_print_oom(FILE *f, const struct cgp_oom_event *e, const struct cgp_attribution *a);
void cgp_print_alert(FILE *f, const struct cgp_alert *al, const struct cgp_attribution *a);

#endif
