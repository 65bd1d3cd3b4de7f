// SPDX-License-Identifier: GPL-2.0
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "collect/btf_slim.h"

struct names {
	char **v;
	size_t n, cap;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* name up to a ___flavour suffix: the name CO-RE matches kernel types on */
static int add_name(struct names *s, const char *name, size_t len)
{
	const char *flavour = strstr(name, "___");

	if (flavour && (size_t)(flavour - name) < len)
		len = (size_t)(flavour - name);
	if (!len)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		char **v = realloc(s->v, cap * sizeof(*v));

		if (!v)
			return -1;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n] = strndup(name, len);
	return s->v[s->n++] ? 0 : -1;
}

static bool has_name(const struct names *s, const char *name)
{
	return name[0] && bsearch(&name, s->v, s->n, sizeof(*s->v), cmp_str);
}

/* The kernel type a program attaches to, as libbpf looks it up: btf_trace_<tp> for tp_btf, bpf_iter_<target> for
 * iterators, the function itself for fentry and the like. */
static int add_attach_target(struct names *s, const char *sec)
{
	static const struct {
		const char *sec, *prefix;
	} kinds[] = {{"tp_btf/", "btf_trace_"}, {"iter/", "bpf_iter_"}, {"iter.s/", "bpf_iter_"},
		     {"fentry/", ""},		{"fexit/", ""},		{"fmod_ret/", ""},
		     {"fentry.s/", ""},		{"fexit.s/", ""},	{"lsm/", "bpf_lsm_"}};
	char name[256];

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t l = strlen(kinds[i].sec);
		int n;

		if (strncmp(sec, kinds[i].sec, l))
			continue;
		n = snprintf(name, sizeof(name), "%s%s", kinds[i].prefix, sec + l);
		return n > 0 && (size_t)n < sizeof(name) ? add_name(s, name, (size_t)n) : -1;
	}
	return 0;
}

static int object_names(const struct bpf_object *obj, struct names *s)
{
	const struct btf *ob = bpf_object__btf(obj);
	struct bpf_program *p;

	if (!ob)
		return -1;
	for (__u32 id = 1; id < btf__type_cnt(ob); id++) {
		const char *name = btf__name_by_offset(ob, btf__type_by_id(ob, id)->name_off);

		if (name && add_name(s, name, strlen(name)))
			return -1;
	}
	bpf_object__for_each_program(p, obj) if (add_attach_target(s, bpf_program__section_name(p))) return -1;
	qsort(s->v, s->n, sizeof(*s->v), cmp_str);
	return 0;
}

static void push(uint8_t *full, uint32_t *stack, size_t *sp, __u32 id)
{
	if (id && !full[id]) {
		full[id] = 1;
		stack[(*sp)++] = id;
	}
}

/* Marks what a kept type holds by value, down to pointers (which keep only the id they point to). */
static void mark_closure(const struct btf *v, uint8_t *full, uint32_t *stack, size_t sp)
{
	while (sp) {
		const struct btf_type *t = btf__type_by_id(v, stack[--sp]);

		switch (btf_kind(t)) {
		case BTF_KIND_STRUCT:
		case BTF_KIND_UNION:
			for (int i = 0; i < btf_vlen(t); i++)
				push(full, stack, &sp, btf_members(t)[i].type);
			break;
		case BTF_KIND_ARRAY:
			push(full, stack, &sp, btf_array(t)->type);
			push(full, stack, &sp, btf_array(t)->index_type);
			break;
		case BTF_KIND_FUNC_PROTO:
			for (int i = 0; i < btf_vlen(t); i++)
				push(full, stack, &sp, btf_params(t)[i].type);
			push(full, stack, &sp, t->type);
			break;
		case BTF_KIND_TYPEDEF:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_FUNC:
		case BTF_KIND_VAR:
		case BTF_KIND_DECL_TAG:
			push(full, stack, &sp, t->type);
			break;
		default: /* PTR: its target stays a stub; INT, ENUM, FWD, FLOAT: nothing more */
			break;
		}
	}
}

/* A type nobody reads: same kind, size and referenced id (its id must stay where it is), no name, and none of
 * the members, parameters or values that follow it. */
static int add_stub(struct btf *dst, const struct btf *v, const struct btf_type *t)
{
	union {
		struct btf_type t;
		char raw[sizeof(struct btf_type) + 16];
	} stub;
	size_t sz = sizeof(struct btf_type);

	memcpy(&stub.t, t, sizeof(stub.t));
	stub.t.name_off = 0;
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_FUNC_PROTO:
	case BTF_KIND_DATASEC:
		stub.t.info &= ~0xffffu; /* vlen */
		break;
	case BTF_KIND_INT:
	case BTF_KIND_VAR:
	case BTF_KIND_DECL_TAG:
	case BTF_KIND_ARRAY: /* a fixed tail of ids and counts, no strings */
		sz += btf_kind(t) == BTF_KIND_ARRAY ? sizeof(struct btf_array) : sizeof(__u32);
		memcpy(stub.raw + sizeof(stub.t), t + 1, sz - sizeof(stub.t));
		break;
	default:
		break;
	}
	return btf__add_type(dst, v, &stub.t);
}

void *cgp_btf_slim(const struct btf *vmlinux, const struct bpf_object *obj, size_t *size)
{
	__u32 n = btf__type_cnt(vmlinux), raw_size;
	struct names names = {0};
	uint8_t *full = calloc(n, 1);
	uint32_t *stack = calloc(n, sizeof(*stack));
	struct btf *dst = btf__new_empty();
	void *out = NULL;
	const void *raw;
	size_t sp = 0;

	if (!full || !stack || !dst || object_names(obj, &names))
		goto done;
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(vmlinux, id);

		if (has_name(&names, btf__name_by_offset(vmlinux, t->name_off)))
			push(full, stack, &sp, id);
	}
	mark_closure(vmlinux, full, stack, sp);
	for (__u32 id = 1; id < n; id++) { /* in id order: each lands on the id it has in the kernel */
		const struct btf_type *t = btf__type_by_id(vmlinux, id);
		int got = full[id] ? btf__add_type(dst, vmlinux, t) : add_stub(dst, vmlinux, t);

		if (got != (int)id)
			goto done;
	}
	raw = btf__raw_data(dst, &raw_size);
	out = raw ? malloc(raw_size) : NULL;
	if (out) {
		memcpy(out, raw, raw_size);
		*size = raw_size;
	}
done:
	for (size_t i = 0; i < names.n; i++)
		free(names.v[i]);
	free(names.v);
	free(full);
	free(stack);
	btf__free(dst);
	return out;
}
