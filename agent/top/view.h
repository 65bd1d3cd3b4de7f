/* SPDX-License-Identifier: GPL-2.0 */
/* `cgpulse top`'s output: the table as lines of a given width (shared by the live screen and --batch), and the
 * live screen itself (ncurses): header, column titles (the sort column marked), rows (firing rules in colour),
 * a status line and the help. */
#ifndef CGP_TOP_VIEW_H
#define CGP_TOP_VIEW_H

#include <stdbool.h>
#include <stdio.h>

#include "top/model.h"

/* One row, or the titles (r NULL), formatted to width columns into buf (at least width + 1 bytes). */
void top_format_row(const struct top_row *r, const struct top_view_opts *o, int width, char *buf);
/* --batch: the header, the titles and every selected row, width columns wide. */
void top_print(FILE *f, const struct top_model *m, const struct top_view_opts *o, int width, const char *source);

struct top_screen_state {
	const char *source; /* where the figures come from, for the header */
	const char *status; /* one line: what just happened (a key's effect, a connection lost) */
	bool paused, help, editing_filter;
	char filter[64];
};

/* Takes the terminal (ncurses), and gives it back as it was with top_screen_end, whatever happened. */
int top_screen_begin(void);
void top_screen_end(void);
void top_screen_draw(const struct top_model *m, const struct top_view_opts *o, const struct top_screen_state *s);
/* The next key pressed, or -1 when none is waiting (never blocks). */
int top_screen_key(void);

#endif
