// SPDX-License-Identifier: GPL-2.0
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "collect/features.h"
#include "lib/log.h"

static const struct btf_type *named(const struct btf *b, const char *name, int kind)
{
	int id = btf__find_by_name_kind(b, name, kind);

	return id > 0 ? btf__type_by_id(b, id) : NULL;
}

static bool has_member(const struct btf *b, const char *type, const char *member)
{
	const struct btf_type *t = named(b, type, BTF_KIND_STRUCT);
	const struct btf_member *m;

	if (!t)
		return false;
	m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		if (!strcmp(btf__name_by_offset(b, m->name_off), member))
			return true;
	return false;
}

static bool has_enumerator(const struct btf *b, const char *type, const char *value)
{
	const struct btf_type *t = named(b, type, BTF_KIND_ENUM);
	const struct btf_enum *e;

	if (!t)
		return false;
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++)
		if (!strcmp(btf__name_by_offset(b, e->name_off), value))
			return true;
	return false;
}

void cgp_features_check(const struct btf *vmlinux, struct cgp_features *f)
{
	memset(f, 0, sizeof(*f));
	f->memcg_stats = has_member(vmlinux, "mem_cgroup", "vmstats") &&
			 has_member(vmlinux, "memcg_vmstats", "state") &&
			 has_enumerator(vmlinux, "memcg_stat_item", "MEMCG_NR_STAT");
	if (!f->memcg_stats)
		cgp_info("figure absent on this kernel: working set, anon, file, inactive_file (its memcg statistics "
			 "layout is not one cgpulse knows)");
	f->oom_group_kill = has_enumerator(vmlinux, "memcg_memory_event", "MEMCG_OOM_GROUP_KILL");
	if (!f->oom_group_kill)
		cgp_info("figure absent on this kernel: memory.events oom_group_kill (kernels since 5.16)");
	f->psi = access("/proc/pressure/cpu", R_OK) == 0 && has_member(vmlinux, "cgroup", "psi");
	if (!f->psi)
		cgp_info("figure absent on this kernel: pressure (PSI is off: no /proc/pressure; boot with psi=1)");
}
