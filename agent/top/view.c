// SPDX-License-Identifier: GPL-2.0
#include <curses.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "top/view.h"

#define FIG_COLS 8 /* the figure columns between NAME and ALERTS */
static const struct {
	enum top_col col;
	int width;
} figs[FIG_COLS] = {
    {TOP_COL_CPU, 6},	  {TOP_COL_CPU_PCT, 6}, {TOP_COL_THR_PCT, 5}, {TOP_COL_MEM, 7},
    {TOP_COL_MEM_PCT, 6}, {TOP_COL_PSI_MEM, 5}, {TOP_COL_PSI_CPU, 5}, {TOP_COL_OOM, 4},
};

/* 1023 B, 12.3K, 456M, 1.2G: seven columns at most */
static void bytes(char *buf, size_t len, uint64_t b)
{
	static const char unit[] = "BKMGTP";
	double v = (double)b;
	int u = 0;

	while (v >= 1000 && u < 5) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u && v < 10 ? "%.1f%c" : "%.0f%c", v, unit[u]);
}

static void figure(const struct top_row *r, enum top_col c, char *buf, size_t len)
{
	snprintf(buf, len, "-");
	switch (c) {
	case TOP_COL_CPU:
		if (r->has_cpu)
			snprintf(buf, len, "%.2f", r->cpu_cores);
		break;
	case TOP_COL_CPU_PCT:
		if (r->has_cpu) /* of the node: no limit of its own, marked so a 2% is not read as "of its limit" */
			snprintf(buf, len, "%.1f%s", r->cpu_pct, r->cpu_pct_of_node ? "n" : "");
		break;
	case TOP_COL_THR_PCT:
		if (r->has_thr)
			snprintf(buf, len, "%.0f", r->thr_pct);
		break;
	case TOP_COL_MEM:
		if (r->has_mem)
			bytes(buf, len, r->mem_bytes);
		break;
	case TOP_COL_MEM_PCT:
		if (r->has_mem)
			snprintf(buf, len, "%.1f", r->mem_pct);
		break;
	case TOP_COL_PSI_MEM:
		if (r->has_psi_mem)
			snprintf(buf, len, "%.1f", r->psi_mem_pct);
		break;
	case TOP_COL_PSI_CPU:
		if (r->has_psi_cpu)
			snprintf(buf, len, "%.1f", r->psi_cpu_pct);
		break;
	case TOP_COL_OOM:
		snprintf(buf, len, "%" PRIu64, r->oom_kills);
		break;
	default:
		break;
	}
}

static void alerts(const struct top_row *r, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < r->n_firing && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? "," : "", r->firing[i].rule);
	if (r->n_firing_more && used < len)
		snprintf(buf + used, len - used, ",+%u", r->n_firing_more);
}

/* NAME takes what the figures and a short ALERTS column leave, ALERTS the rest of a wide screen */
static int name_width(int width)
{
	int figs_w = 0, w;

	for (int i = 0; i < FIG_COLS; i++)
		figs_w += figs[i].width + 1;
	w = width - figs_w - 12; /* ALERTS keeps room for a rule name */
	if (w > 48)
		w = 48 + (w - 48) / 3;
	return w < 8 ? 8 : w;
}

void top_format_row(const struct top_row *r, const struct top_view_opts *o, int width, char *buf)
{
	int nw = name_width(width), used;
	char f[32], a[256];

	if (!r)
		used = snprintf(buf, (size_t)width + 1, "%-*.*s", nw, nw, top_col_title(TOP_COL_NAME));
	else /* the end of a long name says more than its start (the container, not the slice) */
		used = snprintf(buf, (size_t)width + 1, "%-*.*s", nw, nw,
				(int)strlen(r->name) > nw ? r->name + strlen(r->name) - nw : r->name);
	for (int i = 0; i < FIG_COLS && used < width; i++) {
		const char *t = top_col_title(figs[i].col);

		if (r)
			figure(r, figs[i].col, f, sizeof(f));
		used +=
		    snprintf(buf + used, (size_t)(width + 1 - used), " %*.*s", figs[i].width, figs[i].width, r ? f : t);
	}
	if (used < width) {
		if (r)
			alerts(r, a, sizeof(a));
		snprintf(buf + used, (size_t)(width + 1 - used), " %s", r ? a : top_col_title(TOP_COL_ALERTS));
	}
	(void)o;
}

static void header(char *buf, size_t len, const struct top_model *m, const struct top_view_opts *o, size_t shown,
		   const char *source)
{
	snprintf(buf, len,
		 "cgpulse top  %s  node %s  every %.1fs  %zu %s of %zu cgroups  %" PRIu64 " firing  sort %s%s%s%s",
		 source, m->node[0] ? m->node : "?", m->window_s, shown, o->all ? "shown" : "containers", m->rows.len,
		 m->alerts_firing, top_col_title(o->sort), o->ascending ? " (asc)" : "",
		 o->filter && *o->filter ? "  filter " : "", o->filter && *o->filter ? o->filter : "");
}

void top_print(FILE *f, const struct top_model *m, const struct top_view_opts *o, int width, const char *source)
{
	const struct top_row *rows[4096];
	size_t n = top_model_select(m, o, rows, sizeof(rows) / sizeof(rows[0]));
	char line[1024];

	if (width > (int)sizeof(line) - 1)
		width = (int)sizeof(line) - 1;
	header(line, sizeof(line), m, o, n, source);
	fprintf(f, "%s\n", line);
	top_format_row(NULL, o, width, line);
	fprintf(f, "%s\n", line);
	for (size_t i = 0; i < n; i++) {
		top_format_row(rows[i], o, width, line);
		fprintf(f, "%s\n", line);
	}
}

/* ---- the live screen ---- */

enum { PAIR_CRIT = 1, PAIR_WARN, PAIR_TITLE };

int top_screen_begin(void)
{
	if (!initscr())
		return -1;
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	if (has_colors()) {
		start_color();
		use_default_colors();
		init_pair(PAIR_CRIT, COLOR_RED, -1);
		init_pair(PAIR_WARN, COLOR_YELLOW, -1);
		init_pair(PAIR_TITLE, COLOR_BLACK, COLOR_CYAN);
	}
	return 0;
}

void top_screen_end(void)
{
	if (!isendwin())
		endwin();
}

int top_screen_key(void)
{
	int c = getch();

	return c == ERR ? -1 : c;
}

static const char *const help_lines[] = {
    "cgpulse top: containers as the running agent measures them (CPU of the limit, throttling, working set,",
    "pressure, OOM kills, the playbook's firing rules). A figure the kernel does not give is shown as -.",
    "",
    "  sort:   n name   c CPU cores   C CPU%   t throttled%   m memory   M memory%",
    "          p memory pressure   P CPU pressure   o OOM kills   a alerts   r reverse",
    "  A       every cgroup / containers only      /  filter by name (Enter to apply, empty to clear)",
    "  space   pause / resume      ?  this help     q  quit",
    "",
    "CPU% ending in n is of the node's CPUs: the cgroup has no CPU limit. MEM is the working set when the agent",
    "reports it (what the kubelet judges by). Firing rules: red critical, yellow warning.",
};

void top_screen_draw(const struct top_model *m, const struct top_view_opts *o, const struct top_screen_state *s)
{
	const struct top_row *rows[4096];
	int h, w, y = 0;
	size_t n;
	char line[1024];

	getmaxyx(stdscr, h, w);
	if (w > (int)sizeof(line) - 1)
		w = (int)sizeof(line) - 1;
	erase();
	n = top_model_select(m, o, rows, sizeof(rows) / sizeof(rows[0]));
	header(line, sizeof(line), m, o, n, s->source);
	mvaddnstr(y++, 0, line, w);
	if (s->help) {
		for (size_t i = 0; i < sizeof(help_lines) / sizeof(help_lines[0]) && y < h; i++)
			mvaddnstr(++y, 0, help_lines[i], w);
		refresh();
		return;
	}
	top_format_row(NULL, o, w, line);
	attron(COLOR_PAIR(PAIR_TITLE) | A_BOLD);
	mvaddnstr(y, 0, line, w);
	for (int i = (int)strlen(line); i < w; i++)
		addch(' ');
	attroff(COLOR_PAIR(PAIR_TITLE) | A_BOLD);
	y++;
	for (size_t i = 0; i < n && y < h - 1; i++, y++) {
		const struct top_row *r = rows[i];
		int attr = 0;

		if (r->n_firing)
			attr =
			    COLOR_PAIR(r->firing[0].severity >= CGPULSE__V1__SEVERITY__SEVERITY_CRITICAL ? PAIR_CRIT
													 : PAIR_WARN) |
			    A_BOLD;
		top_format_row(r, o, w, line);
		attron(attr);
		mvaddnstr(y, 0, line, w);
		attroff(attr);
	}
	if (s->editing_filter)
		snprintf(line, sizeof(line), "filter: %s_", s->filter);
	else
		snprintf(line, sizeof(line), "%s%s", s->paused ? "PAUSED  " : "",
			 s->status && *s->status ? s->status : "? help  q quit");
	attron(A_REVERSE);
	mvaddnstr(h - 1, 0, line, w);
	attroff(A_REVERSE);
	refresh();
}
