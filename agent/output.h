/* SPDX-License-Identifier: GPL-2.0 */
/* The agent's stdout: one line per sample or event, as text for people or JSON (jansson) for programs. */
#ifndef CGP_OUTPUT_H
#define CGP_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>
#include "alert.h"
#include "sample.h"

void cgp_print_sample_header(FILE *f);
void cgp_print_sample(FILE *f, const struct cgp_sample *s, bool json);
void cgp_print_oom(FILE *f, const struct cgp_oom_event *e, bool json);
void cgp_print_alert(FILE *f, const struct cgp_alert *a, bool json);

#endif
