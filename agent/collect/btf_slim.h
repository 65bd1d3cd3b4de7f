/* SPDX-License-Identifier: GPL-2.0 */
/* The kernel's BTF cut down to what loading our object reads from it, for libbpf's load: parsing the whole of
 * /sys/kernel/btf/vmlinux (5.5 MB on 6.18, held twice while libbpf reads and copies it) was the agent's peak RSS.
 *
 * Every type keeps its id, kind and size, so the ids libbpf hands the kernel (tp_btf and iterator attach
 * targets, kfuncs) are the kernel's own. Types the object names (by the name CO-RE matches on, the ___flavour
 * cut off) and the attach targets keep everything, with all they hold by value (members, array elements,
 * typedef targets, function parameters) recursively; a pointer keeps its target's id only, since CO-RE reads
 * through a pointer as a relocation of the pointed-to type by its own name. Everything else loses its name,
 * members, parameters and values: libbpf never looks there. */
#ifndef CGP_BTF_SLIM_H
#define CGP_BTF_SLIM_H

#include <stddef.h>

struct btf;
struct bpf_object;

/* The slim BTF of vmlinux for obj, as raw BTF bytes (malloc'd, *size set), or NULL. */
void *cgp_btf_slim(const struct btf *vmlinux, const struct bpf_object *obj, size_t *size);

#endif
