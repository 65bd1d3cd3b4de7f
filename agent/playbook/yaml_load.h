/* SPDX-License-Identifier: GPL-2.0 */
/* One YAML document built from libyaml's events, with a bound on nesting depth and on the number of nodes.
 * libyaml's own loader (yaml_parser_load) takes a document whole, and its scanner costs O(flow depth) per token
 * (it walks one saved "simple key" per open flow collection for every token), so "[[[[...]]]]" 100,000 deep is
 * quadratic: 22 s for 200 KB. Read event by event, a document is refused at the first collection past the
 * depth bound, before the scanner has gone deep: the work is linear in the input. */
#ifndef CGP_YAML_LOAD_H
#define CGP_YAML_LOAD_H

#include <stddef.h>
#include <yaml.h>

struct cgp_yaml_limits {
	unsigned max_depth; /* open sequences and mappings at once */
	unsigned max_nodes; /* nodes and aliases in one document */
};

/* Reads the next document of the stream into doc (a yaml_document_t as yaml_parser_load makes, with each node's
 * start_mark set; anchors shared, not copied). Returns 1 with a document, 0 at the end of the stream (doc
 * empty: yaml_document_get_root_node gives NULL), -EBADMSG on a YAML syntax error (the parser's problem fields
 * say where and why), -EINVAL when a limit or an alias is wrong (*where and why say so), -ENOMEM. doc must be
 * deleted after a return of 0 or 1 only. */
int cgp_yaml_load(yaml_parser_t *yp, yaml_document_t *doc, const struct cgp_yaml_limits *lim, yaml_mark_t *where,
		  char *why, size_t whylen);

#endif
