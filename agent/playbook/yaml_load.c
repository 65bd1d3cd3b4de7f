// SPDX-License-Identifier: GPL-2.0
/* A bounded yaml_parser_load: the document is built from events, so nesting and size are checked as the
 * parser goes, not after it has read everything. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "playbook/yaml_load.h"

#define MAX_ANCHORS 256 /* aliases are looked up linearly: a bound keeps that cheap */
#define GO_ON	    2	/* step(): neither a whole document nor the end yet */

struct open_coll {
	int id;
	bool map;
	int key;      /* a mapping's key waiting for its value, 0: none */
	char *anchor; /* registered when the collection ends, so no alias can point into itself */
};

struct anchor {
	char *name;
	int id;
};

struct loader {
	yaml_document_t *doc;
	const struct cgp_yaml_limits *lim;
	struct open_coll *stack;
	unsigned depth, nodes;
	struct anchor anchors[MAX_ANCHORS];
	unsigned n_anchors;
	yaml_mark_t *where;
	char *why;
	size_t whylen;
};

static int refuse(struct loader *l, yaml_mark_t m, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(struct loader *l, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;

	*l->where = m;
	va_start(ap, fmt);
	vsnprintf(l->why, l->whylen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int count_node(struct loader *l, yaml_mark_t m)
{
	if (++l->nodes > l->lim->max_nodes)
		return refuse(l, m, "more than %u YAML nodes in one document", l->lim->max_nodes);
	return 0;
}

/* Hangs node id under the collection open at the top, or leaves it as the root. */
static int attach(struct loader *l, int id)
{
	struct open_coll *top;

	if (!l->depth)
		return 0;
	top = &l->stack[l->depth - 1];
	if (!top->map)
		return yaml_document_append_sequence_item(l->doc, top->id, id) ? 0 : -ENOMEM;
	if (!top->key) {
		top->key = id;
		return 0;
	}
	if (!yaml_document_append_mapping_pair(l->doc, top->id, top->key, id))
		return -ENOMEM;
	top->key = 0;
	return 0;
}

static int add_anchor(struct loader *l, const char *name, int id, yaml_mark_t m)
{
	if (!name)
		return 0;
	if (l->n_anchors == MAX_ANCHORS)
		return refuse(l, m, "more than %d anchors in one document", MAX_ANCHORS);
	l->anchors[l->n_anchors].name = strdup(name);
	if (!l->anchors[l->n_anchors].name)
		return -ENOMEM;
	l->anchors[l->n_anchors++].id = id;
	return 0;
}

/* The latest anchor of that name: YAML lets a later anchor take over a name. */
static int find_anchor(const struct loader *l, const char *name)
{
	for (unsigned i = l->n_anchors; i-- > 0;)
		if (!strcmp(l->anchors[i].name, name))
			return l->anchors[i].id;
	return 0;
}

static void set_mark(struct loader *l, int id, yaml_mark_t m)
{
	yaml_document_get_node(l->doc, id)->start_mark = m;
}

static int on_collection_start(struct loader *l, const yaml_event_t *ev)
{
	bool map = ev->type == YAML_MAPPING_START_EVENT;
	const yaml_char_t *anchor = map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
	int id, err;

	if (l->depth == l->lim->max_depth)
		return refuse(l, ev->start_mark, "nesting deeper than %u levels", l->lim->max_depth);
	if ((err = count_node(l, ev->start_mark)))
		return err;
	id = map ? yaml_document_add_mapping(l->doc, NULL, ev->data.mapping_start.style)
		 : yaml_document_add_sequence(l->doc, NULL, ev->data.sequence_start.style);
	if (!id)
		return -ENOMEM;
	set_mark(l, id, ev->start_mark);
	if ((err = attach(l, id)))
		return err;
	l->stack[l->depth] = (struct open_coll){.id = id, .map = map};
	if (anchor && !(l->stack[l->depth].anchor = strdup((const char *)anchor)))
		return -ENOMEM;
	l->depth++;
	return 0;
}

static int on_collection_end(struct loader *l, const yaml_event_t *ev)
{
	struct open_coll *top = &l->stack[--l->depth];
	int err = add_anchor(l, top->anchor, top->id, ev->start_mark);

	free(top->anchor);
	top->anchor = NULL;
	return err;
}

static int on_scalar(struct loader *l, const yaml_event_t *ev)
{
	int id, err;

	if ((err = count_node(l, ev->start_mark)))
		return err;
	id = yaml_document_add_scalar(l->doc, NULL, ev->data.scalar.value, (int)ev->data.scalar.length,
				      ev->data.scalar.style);
	if (!id)
		return -ENOMEM;
	set_mark(l, id, ev->start_mark);
	if ((err = add_anchor(l, (const char *)ev->data.scalar.anchor, id, ev->start_mark)))
		return err;
	return attach(l, id);
}

static int on_alias(struct loader *l, const yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	int id = find_anchor(l, name), err;

	if (!id)
		return refuse(l, ev->start_mark, "alias '*%.64s' names no anchor defined before it", name);
	if ((err = count_node(l, ev->start_mark)))
		return err;
	return attach(l, id);
}

/* 1: a document is complete; 0: the stream ended; GO_ON; < 0: an error. */
static int step(struct loader *l, yaml_parser_t *yp, bool *in_doc)
{
	yaml_event_t ev;
	int ret = GO_ON;

	if (!yaml_parser_parse(yp, &ev))
		return yp->error == YAML_MEMORY_ERROR ? -ENOMEM : -EBADMSG;
	switch (ev.type) {
	case YAML_STREAM_END_EVENT:
		ret = 0;
		break;
	case YAML_DOCUMENT_START_EVENT:
		if (!yaml_document_initialize(l->doc, NULL, NULL, NULL, 1, 1))
			ret = -ENOMEM;
		else
			*in_doc = true;
		break;
	case YAML_DOCUMENT_END_EVENT:
		ret = 1;
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		ret = on_collection_start(l, &ev) ?: GO_ON;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		ret = on_collection_end(l, &ev) ?: GO_ON;
		break;
	case YAML_SCALAR_EVENT:
		ret = on_scalar(l, &ev) ?: GO_ON;
		break;
	case YAML_ALIAS_EVENT:
		ret = on_alias(l, &ev) ?: GO_ON;
		break;
	default: /* stream start, no event */
		break;
	}
	yaml_event_delete(&ev);
	return ret == 0 && *in_doc ? -EBADMSG : ret; /* a stream cannot end inside a document */
}

int cgp_yaml_load(yaml_parser_t *yp, yaml_document_t *doc, const struct cgp_yaml_limits *lim, yaml_mark_t *where,
		  char *why, size_t whylen)
{
	struct loader l = {.doc = doc, .lim = lim, .where = where, .why = why, .whylen = whylen};
	bool in_doc = false;
	int ret;

	memset(doc, 0, sizeof(*doc));
	l.stack = calloc(lim->max_depth ? lim->max_depth : 1, sizeof(*l.stack));
	if (!l.stack)
		return -ENOMEM;
	do
		ret = step(&l, yp, &in_doc);
	while (ret == GO_ON);
	for (unsigned i = 0; i < l.depth; i++)
		free(l.stack[i].anchor);
	for (unsigned i = 0; i < l.n_anchors; i++)
		free(l.anchors[i].name);
	free(l.stack);
	if (ret < 0 && in_doc)
		yaml_document_delete(doc);
	if (ret == 0 && !yaml_document_initialize(doc, NULL, NULL, NULL, 1, 1))
		ret = -ENOMEM;
	return ret;
}
