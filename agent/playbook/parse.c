/* SPDX-License-Identifier: GPL-2.0 */
/* The playbook's YAML form, both ways: parse (libyaml events built into a bounded document, yaml_load.c, so
 * every node keeps its line and column for the error) and format (`cgpulse playbook show`). Every error is
 * "file:line:column: reason", 1-based. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "lib/bytebuf.h"
#include "playbook/playbook.h"
#include "playbook/yaml_load.h"

struct pctx {
	const char *name;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
};

static const char *severity_name(enum cgp_severity s)
{
	return s == CGP_SEV_CRITICAL ? "critical" : s == CGP_SEV_WARNING ? "warning" : "unknown";
}

static void errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int fail(struct pctx *p, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct pctx *p, yaml_mark_t m, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	errf(p->err, p->errlen, "%s:%zu:%zu: %s", p->name, m.line + 1, m.column + 1, reason);
	return -EINVAL;
}

static yaml_node_t *node(struct pctx *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

static const char *scalar(yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int want_scalar(struct pctx *p, yaml_node_t *n, const char *key, const char **out)
{
	*out = "";
	if (n->type != YAML_SCALAR_NODE)
		return fail(p, n->start_mark, "%s: expected a single value, not a list or a mapping", key);
	*out = scalar(n);
	return 0;
}

static int want_number(struct pctx *p, yaml_node_t *n, const char *key, double *out)
{
	const char *s;
	char *end;
	int err = want_scalar(p, n, key, &s);

	if (err)
		return err;
	errno = 0;
	*out = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(*out))
		return fail(p, n->start_mark, "%s: '%s' is not a number", key, s);
	if (*out < 0)
		return fail(p, n->start_mark, "%s: %s is negative; thresholds are 0 or more", key, s);
	return 0;
}

static int want_string(struct pctx *p, yaml_node_t *n, const char *key, char **out)
{
	const char *s;
	int err = want_scalar(p, n, key, &s);

	if (err)
		return err;
	free(*out);
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int cgp_duration_parse(const char *s, uint64_t *out_ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {{"ms", 1000000ull}, {"s", 1000000000ull}, {"m", 60000000000ull}, {"h", 3600000000000ull}};
	uint64_t total = 0;

	while (*s == ' ')
		s++;
	if (!strcmp(s, "0")) { /* a bare 0 is unambiguous; any other number needs a unit */
		*out_ns = 0;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	while (*s) {
		uint64_t n = 0, ns = 0;
		size_t i, ulen = 0;

		if (*s < '0' || *s > '9')
			return -EINVAL;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (n > (UINT64_MAX - 9) / 10)
				return -ERANGE;
			n = n * 10 + (uint64_t)(*s - '0');
		}
		/* "ms" before "m": the longest unit that matches wins */
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			size_t l = strlen(units[i].unit);

			if (!strncmp(s, units[i].unit, l) && l > ulen) {
				ulen = l;
				ns = units[i].ns;
			}
		}
		if (!ulen)
			return -EINVAL;
		s += ulen;
		if (n > (UINT64_MAX - total) / ns)
			return -ERANGE;
		total += n * ns;
	}
	*out_ns = total;
	return 0;
}

enum rule_key {
	K_NAME,
	K_METRIC,
	K_ABOVE,
	K_BETWEEN,
	K_FOR,
	K_SEVERITY,
	K_RESOLVE_BELOW,
	K_SELECT,
	K_ACTION,
	K_RUNBOOK,
	K_MAX,
};

static const char *const rule_keys[K_MAX] = {
    "name", "metric", "above", "between", "for", "severity", "resolve_below", "select", "action", "runbook",
};

#define RULE_KEYS_HELP "name, metric, above, between, for, severity, resolve_below, select, action, runbook"

static bool valid_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
		      *s == '-' || *s == '.'))
			return false;
	return true;
}

static int parse_between(struct pctx *p, yaml_node_t *n, struct cgp_rule *r)
{
	yaml_node_item_t *items;
	int err;

	if (n->type != YAML_SEQUENCE_NODE || n->data.sequence.items.top - n->data.sequence.items.start != 2)
		return fail(p, n->start_mark, "between: expected a band of two numbers, e.g. [80, 95]");
	items = n->data.sequence.items.start;
	err = want_number(p, node(p, items[0]), "between", &r->lo);
	if (!err)
		err = want_number(p, node(p, items[1]), "between", &r->hi);
	if (err)
		return err;
	if (!(r->lo < r->hi))
		return fail(p, n->start_mark, "between: band upside down or empty: [%g, %g], the low end comes first",
			    r->lo, r->hi);
	r->cmp = CGP_CMP_BETWEEN;
	return 0;
}

static int parse_rule_value(struct pctx *p, enum rule_key k, yaml_node_t *v, struct cgp_rule *r)
{
	const char *s;
	uint64_t ns;
	int err;

	switch (k) {
	case K_NAME:
		if ((err = want_scalar(p, v, "name", &s)))
			return err;
		if (!valid_name(s))
			return fail(p, v->start_mark, "name: '%s' is not a rule name (letters, digits, '_', '-', '.')",
				    s);
		return want_string(p, v, "name", &r->name);
	case K_METRIC:
		if ((err = want_scalar(p, v, "metric", &s)))
			return err;
		r->metric = cgp_metric_by_name(s);
		if (r->metric != CGP_METRIC_NONE)
			return 0;
		return fail(p, v->start_mark, "metric: unknown metric '%s' (%s)", s, cgp_metric_names());
	case K_ABOVE:
		r->cmp = CGP_CMP_ABOVE;
		return want_number(p, v, "above", &r->above);
	case K_BETWEEN:
		return parse_between(p, v, r);
	case K_FOR:
		if ((err = want_scalar(p, v, "for", &s)))
			return err;
		err = cgp_duration_parse(s, &ns);
		if (err && s[strspn(s, " ")] == '-')
			return fail(p, v->start_mark, "for: negative duration '%s'", s);
		if (err == -ERANGE)
			return fail(p, v->start_mark, "for: duration '%s' is too long", s);
		if (err)
			return fail(p, v->start_mark,
				    "for: unparsable duration '%s' (a whole number and a unit: ms, s, m, h; e.g. 5m)",
				    s);
		r->for_ns = ns;
		return 0;
	case K_SEVERITY:
		if ((err = want_scalar(p, v, "severity", &s)))
			return err;
		if (!strcmp(s, "warning"))
			r->severity = CGP_SEV_WARNING;
		else if (!strcmp(s, "critical"))
			r->severity = CGP_SEV_CRITICAL;
		else
			return fail(p, v->start_mark, "severity: unknown severity '%s' (warning, critical)", s);
		return 0;
	case K_RESOLVE_BELOW:
		r->has_resolve_below = true;
		return want_number(p, v, "resolve_below", &r->resolve_below);
	case K_SELECT:
		if ((err = want_scalar(p, v, "select", &s)))
			return err;
		free(r->select_glob);
		r->select_glob = NULL;
		if (!strcmp(s, "containers")) {
			r->select = CGP_SELECT_CONTAINERS;
		} else if (!strcmp(s, "all")) {
			r->select = CGP_SELECT_ALL;
		} else if (s[0] == '/' || s[0] == '*') {
			r->select = CGP_SELECT_GLOB;
			return want_string(p, v, "select", &r->select_glob);
		} else {
			return fail(p, v->start_mark,
				    "select: '%s' is none of containers, all, or a cgroup path glob starting with '/'",
				    s);
		}
		return 0;
	case K_ACTION:
		return want_string(p, v, "action", &r->action);
	case K_RUNBOOK:
		return want_string(p, v, "runbook", &r->runbook);
	case K_MAX:
		break;
	}
	return -EINVAL;
}

/* Cross-field checks: what is missing is reported at the rule's first key, what conflicts at the later key. */
static int check_rule(struct pctx *p, yaml_node_t *n, yaml_node_t *const seen[K_MAX], struct cgp_rule *r)
{
	if (!seen[K_NAME])
		return fail(p, n->start_mark, "rule has no name");
	if (!seen[K_METRIC])
		return fail(p, n->start_mark, "rule '%s': missing metric", r->name);
	if (!seen[K_ABOVE] && !seen[K_BETWEEN])
		return fail(p, n->start_mark, "rule '%s': missing threshold (above: N or between: [LOW, HIGH])",
			    r->name);
	if (seen[K_ABOVE] && seen[K_BETWEEN]) {
		yaml_node_t *later = seen[K_ABOVE]->start_mark.index > seen[K_BETWEEN]->start_mark.index
					 ? seen[K_ABOVE]
					 : seen[K_BETWEEN];
		return fail(p, later->start_mark, "rule '%s': give either above or between, not both", r->name);
	}
	if (!seen[K_SEVERITY])
		return fail(p, n->start_mark, "rule '%s': missing severity (warning, critical)", r->name);
	/* resolve_below must lie under the firing threshold, or a firing rule would resolve while still true */
	if (r->has_resolve_below) {
		double fire = r->cmp == CGP_CMP_ABOVE ? r->above : r->lo;

		if (r->resolve_below > fire)
			return fail(p, seen[K_RESOLVE_BELOW]->start_mark,
				    "rule '%s': resolve_below %g is above the firing threshold %g", r->name,
				    r->resolve_below, fire);
	}
	return 0;
}

static int parse_rule(struct pctx *p, yaml_node_t *n, struct cgp_rule *r)
{
	yaml_node_t *seen[K_MAX] = {0};
	yaml_node_pair_t *pair;
	int err;

	r->line = (unsigned)n->start_mark.line + 1;
	r->select = CGP_SELECT_CONTAINERS;
	if (n->type != YAML_MAPPING_NODE)
		return fail(p, n->start_mark, "a rule is a mapping of name, metric, threshold, ...");
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node(p, pair->key), *v = node(p, pair->value);
		unsigned i;

		if (k->type != YAML_SCALAR_NODE)
			return fail(p, k->start_mark, "a rule key must be a plain word");
		for (i = 0; i < K_MAX && strcmp(scalar(k), rule_keys[i]); i++)
			;
		if (i == K_MAX)
			return fail(p, k->start_mark, "unknown key '%s' in rule (known: " RULE_KEYS_HELP ")",
				    scalar(k));
		if (seen[i])
			return fail(p, k->start_mark, "duplicate key '%s' (first at line %zu)", scalar(k),
				    seen[i]->start_mark.line + 1);
		seen[i] = k;
		err = parse_rule_value(p, (enum rule_key)i, v, r);
		if (err)
			return err;
	}
	err = check_rule(p, n, seen, r);
	if (err)
		return err;
	if (!r->action)
		r->action = strdup("");
	if (!r->runbook)
		r->runbook = strdup("");
	return r->action && r->runbook ? 0 : -ENOMEM;
}

static yaml_node_t *lookup(struct pctx *p, yaml_node_t *map, const char *key)
{
	yaml_node_pair_t *pair;

	for (pair = map->data.mapping.pairs.start; pair < map->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node(p, pair->key);

		if (k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), key))
			return node(p, pair->value);
	}
	return NULL;
}

static int parse_rules(struct pctx *p, yaml_node_t *seq, struct cgp_playbook *pb)
{
	yaml_node_item_t *item;
	size_t n, i, j;
	int err;

	if (seq->type != YAML_SEQUENCE_NODE)
		return fail(p, seq->start_mark, "rules: expected a list of rules ('- name: ...')");
	n = (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
	if (n > CGP_PLAYBOOK_MAX_RULES)
		return fail(p, seq->start_mark, "rules: %zu rules, at most %d", n, CGP_PLAYBOOK_MAX_RULES);
	pb->rules = calloc(n ? n : 1, sizeof(*pb->rules));
	if (!pb->rules)
		return -ENOMEM;
	for (item = seq->data.sequence.items.start, i = 0; i < n; item++, i++) {
		yaml_node_t *rn = node(p, *item);

		pb->nrules = i + 1; /* so that free() sees the partly filled rule */
		err = parse_rule(p, rn, &pb->rules[i]);
		if (err)
			return err;
		for (j = 0; j < i; j++)
			if (!strcmp(pb->rules[j].name, pb->rules[i].name))
				return fail(p, lookup(p, rn, "name")->start_mark,
					    "duplicate rule name '%s' (first at line %u)", pb->rules[i].name,
					    pb->rules[j].line);
	}
	return 0;
}

static int parse_root(struct pctx *p, yaml_node_t *root, struct cgp_playbook *pb)
{
	yaml_node_pair_t *pair;
	yaml_node_t *v, *seen_rules = NULL, *seen_version = NULL;
	const char *s;
	int err;

	if (root->type != YAML_MAPPING_NODE)
		return fail(p, root->start_mark, "a playbook is a mapping with 'version: 1' and 'rules:'");
	/* the version first: a file of another version may well have keys this one does not know */
	v = lookup(p, root, "version");
	if (!v)
		return fail(p, root->start_mark, "missing 'version: %d'", CGP_PLAYBOOK_VERSION);
	if ((err = want_scalar(p, v, "version", &s)))
		return err;
	if (strcmp(s, "1"))
		return fail(p, v->start_mark, "version: unsupported version '%s' (this cgpulse reads version %d)", s,
			    CGP_PLAYBOOK_VERSION);
	pb->version = CGP_PLAYBOOK_VERSION;
	for (pair = root->data.mapping.pairs.start; pair < root->data.mapping.pairs.top; pair++) {
		yaml_node_t *k = node(p, pair->key);
		yaml_node_t **seen;

		if (k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), "version"))
			seen = &seen_version;
		else if (k->type == YAML_SCALAR_NODE && !strcmp(scalar(k), "rules"))
			seen = &seen_rules;
		else
			return fail(p, k->start_mark, "unknown key '%s' at the top (known: version, rules)",
				    k->type == YAML_SCALAR_NODE ? scalar(k) : "?");
		if (*seen)
			return fail(p, k->start_mark, "duplicate key '%s' (first at line %zu)", scalar(k),
				    (*seen)->start_mark.line + 1);
		*seen = k;
	}
	v = lookup(p, root, "rules");
	if (!v)
		return fail(p, root->start_mark, "missing 'rules:'");
	return parse_rules(p, v, pb);
}

/* libyaml gives reader errors (bad UTF-8) as a byte offset only */
static void offset_mark(const char *buf, size_t len, size_t off, yaml_mark_t *m)
{
	size_t i;

	m->line = m->column = 0;
	for (i = 0; i < off && i < len; i++) {
		if (buf[i] == '\n') {
			m->line++;
			m->column = 0;
		} else {
			m->column++;
		}
	}
}

static int syntax_error(struct pctx *p, yaml_parser_t *yp, const char *buf, size_t len)
{
	yaml_mark_t m = yp->problem_mark;

	if (yp->error == YAML_MEMORY_ERROR)
		return -ENOMEM;
	if (yp->error == YAML_READER_ERROR)
		offset_mark(buf, len, yp->problem_offset, &m);
	if (yp->context)
		return fail(p, m, "YAML syntax error: %s (%s at line %zu column %zu)", yp->problem, yp->context,
			    yp->context_mark.line + 1, yp->context_mark.column + 1);
	return fail(p, m, "YAML syntax error: %s", yp->problem ? yp->problem : "malformed");
}

/* A document past the bounds is refused where it crosses them, without reading the rest (playbook.h). */
static int load(struct pctx *p, yaml_parser_t *yp, yaml_document_t *doc, const char *buf, size_t len)
{
	static const struct cgp_yaml_limits lim = {CGP_PLAYBOOK_MAX_DEPTH, CGP_PLAYBOOK_MAX_NODES};
	char why[256];
	yaml_mark_t where;
	int ret = cgp_yaml_load(yp, doc, &lim, &where, why, sizeof(why));

	if (ret == -EBADMSG)
		return syntax_error(p, yp, buf, len);
	if (ret == -ENOMEM)
		errf(p->err, p->errlen, "%s: out of memory", p->name);
	if (ret == -EINVAL)
		return fail(p, where, "%s", why);
	return ret;
}

int cgp_playbook_parse(const char *name, const char *buf, size_t len, struct cgp_playbook **out, char *err,
		       size_t errlen)
{
	struct pctx p = {.name = name, .err = err, .errlen = errlen};
	yaml_parser_t yp;
	yaml_document_t doc, next;
	yaml_node_t *root;
	struct cgp_playbook *pb;
	int ret;

	if (!yaml_parser_initialize(&yp))
		return -ENOMEM;
	yaml_parser_set_input_string(&yp, (const unsigned char *)buf, len);
	ret = load(&p, &yp, &doc, buf, len);
	if (ret < 0) {
		yaml_parser_delete(&yp);
		return ret;
	}
	p.doc = &doc;
	pb = calloc(1, sizeof(*pb));
	if (!pb || !(pb->source = strdup(name))) {
		ret = -ENOMEM;
		goto out;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		yaml_mark_t start = {0, 0, 0};

		ret = fail(&p, start, "empty playbook (expected 'version: 1' and 'rules:')");
		goto out;
	}
	ret = parse_root(&p, root, pb);
	if (ret)
		goto out;
	/* a second document would be silently ignored: refuse it */
	ret = load(&p, &yp, &next, buf, len);
	if (ret < 0)
		goto out;
	root = yaml_document_get_root_node(&next);
	ret = root ? fail(&p, root->start_mark, "a second YAML document; a playbook is one document") : 0;
	yaml_document_delete(&next);
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&yp);
	if (ret) {
		if (ret == -ENOMEM)
			errf(err, errlen, "%s: out of memory", name);
		cgp_playbook_free(pb);
		return ret;
	}
	*out = pb;
	return 0;
}

int cgp_playbook_load_file(const char *path, struct cgp_playbook **out, char *err, size_t errlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		errf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		errf(err, errlen, "%s: %s", path, strerror(-ret));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > (off_t)CGP_PLAYBOOK_MAX_BYTES) {
		ret = -EINVAL;
		errf(err, errlen, "%s: not a regular file of at most %u bytes", path, CGP_PLAYBOOK_MAX_BYTES);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		errf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	while (len < (size_t)st.st_size && (n = read(fd, buf + len, (size_t)st.st_size - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			errf(err, errlen, "%s: %s", path, strerror(-ret));
			goto out;
		}
		len += (size_t)n;
	}
	ret = cgp_playbook_parse(path, buf, len, out, err, errlen);
out:
	free(buf);
	close(fd);
	return ret;
}

void cgp_playbook_free(struct cgp_playbook *pb)
{
	size_t i;

	if (!pb)
		return;
	for (i = 0; i < pb->nrules; i++) {
		free(pb->rules[i].name);
		free(pb->rules[i].select_glob);
		free(pb->rules[i].action);
		free(pb->rules[i].runbook);
	}
	free(pb->rules);
	free(pb->source);
	free(pb);
}

const struct cgp_rule *cgp_playbook_find(const struct cgp_playbook *pb, const char *name)
{
	size_t i;

	for (i = 0; i < pb->nrules; i++)
		if (!strcmp(pb->rules[i].name, name))
			return &pb->rules[i];
	return NULL;
}

/* A growing string for the formatter; on ENOMEM it stays NULL and later appends are no-ops. */
/* YAML double-quoted scalar: always safe, whatever the text ('*' would start an alias, ':' a mapping, ...) */
static void sb_quoted(struct cgp_text *b, const char *s)
{
	cgp_text_printf(b, "\"");
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			cgp_text_printf(b, "\\%c", c);
		} else if (c < 0x20 || c == 0x7f) {
			cgp_text_printf(b, "\\x%02x", c);
		} else if (!strncmp(s, "\xc2\x85", 2) || !strncmp(s, "\xe2\x80\xa8", 3) ||
			   !strncmp(s, "\xe2\x80\xa9", 3)) {
			/* YAML's other line breaks (NEL, LS, PS): written raw they would fold to a space on reading
			 * back (found by fuzz_playbook: tests/fuzz/playbook/regress-line-separator) */
			cgp_text_printf(b, "\\%c", c == 0xc2 ? 'N' : s[2] == '\xa8' ? 'L' : 'P');
			s += c == 0xc2 ? 1 : 2;
		} else if (!strncmp(s, "\xef\xbb\xbf", 3)) { /* a byte order mark: escaped, whatever a reader does */
			cgp_text_printf(b, "\\uFEFF");
			s += 2;
		} else {
			cgp_text_printf(b, "%c", c);
		}
	}
	cgp_text_printf(b, "\"");
}

/* The shortest decimal that reads back as the same double. */
static void sb_number(struct cgp_text *b, double v)
{
	char tmp[32];
	int prec;

	for (prec = 6; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
	cgp_text_printf(b, "%s", tmp);
}

/* Largest units first, so 300 s prints as 5m and 5400 s as 1h30m; below 1 ms cannot come from a file. */
static void sb_duration(struct cgp_text *b, uint64_t ns)
{
	static const struct {
		const char *unit;
		uint64_t ns;
	} units[] = {{"h", 3600000000000ull}, {"m", 60000000000ull}, {"s", 1000000000ull}, {"ms", 1000000ull}};
	bool any = false;
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t n = ns / units[i].ns;

		if (n) {
			cgp_text_printf(b, "%llu%s", (unsigned long long)n, units[i].unit);
			ns -= n * units[i].ns;
			any = true;
		}
	}
	if (!any)
		cgp_text_printf(b, "0s");
}

char *cgp_playbook_format(const struct cgp_playbook *pb)
{
	struct cgp_buf buf = CGP_BUF_INIT;
	struct cgp_text b = {.b = &buf};
	size_t i;

	/* no rules is an empty list, not an empty value: "rules:" alone would not read back */
	cgp_text_printf(&b, "# playbook in force: %s\nversion: %d\nrules:%s\n", pb->source ? pb->source : "?",
			pb->version, pb->nrules ? "" : " []");
	for (i = 0; i < pb->nrules; i++) {
		const struct cgp_rule *r = &pb->rules[i];

		cgp_text_printf(&b, "  - name: %s\n    metric: %s\n", r->name, cgp_metric_name(r->metric));
		if (r->cmp == CGP_CMP_BETWEEN) {
			cgp_text_printf(&b, "    between: [");
			sb_number(&b, r->lo);
			cgp_text_printf(&b, ", ");
			sb_number(&b, r->hi);
			cgp_text_printf(&b, "]\n");
		} else {
			cgp_text_printf(&b, "    above: ");
			sb_number(&b, r->above);
			cgp_text_printf(&b, "\n");
		}
		cgp_text_printf(&b, "    for: ");
		sb_duration(&b, r->for_ns);
		cgp_text_printf(&b, "\n    severity: %s\n", severity_name(r->severity));
		if (r->has_resolve_below) {
			cgp_text_printf(&b, "    resolve_below: ");
			sb_number(&b, r->resolve_below);
			cgp_text_printf(&b, "\n");
		}
		if (r->select == CGP_SELECT_GLOB) {
			cgp_text_printf(&b, "    select: ");
			sb_quoted(&b, r->select_glob);
			cgp_text_printf(&b, "\n");
		} else {
			cgp_text_printf(&b, "    select: %s\n", r->select == CGP_SELECT_ALL ? "all" : "containers");
		}
		cgp_text_printf(&b, "    action: ");
		sb_quoted(&b, r->action);
		cgp_text_printf(&b, "\n    runbook: ");
		sb_quoted(&b, r->runbook);
		cgp_text_printf(&b, "\n");
	}
	if (b.err) {
		cgp_buf_free(&buf);
		return NULL;
	}
	return cgp_buf_take_string(&buf);
}
