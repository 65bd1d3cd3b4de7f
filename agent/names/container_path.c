// SPDX-License-Identifier: GPL-2.0
/* cgroup path → container id, runtime, pod UID and QoS class.
 *
 * Layouts handled (v1 and v2 look the same; only the driver changes the names):
 *   systemd driver:  <slice>/docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope,
 *                    crio-conmon-<id>.scope, libpod-<id>.scope, libpod-conmon-<id>.scope, nerdctl-<id>.scope,
 *                    runc-<id>.scope; pods as kubepods.slice/kubepods-<qos>.slice/kubepods-<qos>-pod<uid>.slice
 *                    with '-' in the UID written as '_' (systemd uses '-' for nesting).
 *   cgroupfs driver: /docker/<id>, /kubepods/<qos>/pod<uid>/<id>, <parent>/crio-<id>, <parent>/crio-conmon-<id>,
 *                    /libpod_parent/libpod-<id>, and any <parent>/<id> the caller's predicate knows (runc, ctr).
 *   runc's own systemd notation "slice:prefix:id", seen when a path is taken from a config rather than the tree.
 * The deepest container-looking component wins, so cgroups a runtime or the payload makes below the container
 * (crun's "container", podman's split mode, systemd inside a container) still map to the container. */
#include "names/container_path.h"

#include <ctype.h>
#include <string.h>

#define MAX_COMPONENTS 256 /* deeper paths are not a layout any runtime makes */
#define HEX_ID_LEN     64

struct comp {
	const char *s;
	size_t len;
	size_t end; /* offset just past this component in the original path */
};

enum id_rule { ID_HEX64, ID_ANY };

/* Runtime prefixes of systemd scope / cgroupfs names; a monitor's prefix must precede its runtime's own. */
static const struct prefix_rule {
	const char *prefix;
	enum cgp_runtime rt;
	enum id_rule rule;
	enum cgp_cpath_kind kind;
	bool scope_only; /* only as "<prefix>-<id>.scope" or "slice:prefix:id" */
} prefixes[] = {
    {"docker", CGP_RT_DOCKER, ID_HEX64, CGP_CPATH_CONTAINER, false},
    {"cri-containerd", CGP_RT_CONTAINERD, ID_HEX64, CGP_CPATH_CONTAINER, false},
    {"crio-conmon", CGP_RT_CRIO, ID_HEX64, CGP_CPATH_MONITOR, false},
    {"crio", CGP_RT_CRIO, ID_HEX64, CGP_CPATH_CONTAINER, false},
    {"libpod-conmon", CGP_RT_PODMAN, ID_HEX64, CGP_CPATH_MONITOR, false},
    {"libpod", CGP_RT_PODMAN, ID_HEX64, CGP_CPATH_CONTAINER, false},
    {"nerdctl", CGP_RT_CONTAINERD, ID_HEX64, CGP_CPATH_CONTAINER, false},
    {"runc", CGP_RT_RUNC, ID_ANY, CGP_CPATH_CONTAINER, true},
};

/* systemd unit types that never name a container themselves */
static const char *const unit_suffixes[] = {".slice", ".service", ".scope", ".mount", ".socket", ".swap", ".target"};

static bool eq(const char *s, size_t len, const char *lit)
{
	return strlen(lit) == len && memcmp(s, lit, len) == 0;
}

static bool starts_with(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len >= n && memcmp(s, lit, n) == 0;
}

static bool ends_with(const char *s, size_t len, const char *lit)
{
	size_t n = strlen(lit);
	return len >= n && memcmp(s + len - n, lit, n) == 0;
}

static bool is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return len > 0;
}

/* runc's rule for ids: [A-Za-z0-9_+.-]+, and never "." or ".." (ids become directory names) */
static bool is_runtime_id(const char *s, size_t len)
{
	if (len == 0 || len >= CGP_CONTAINER_ID_MAX || eq(s, len, ".") || eq(s, len, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '_' && c != '+' && c != '-' && c != '.')
			return false;
	}
	return true;
}

static bool id_ok(const char *s, size_t len, enum id_rule rule)
{
	return rule == ID_HEX64 ? len == HEX_ID_LEN && is_hex(s, len) : is_runtime_id(s, len);
}

/* A pod UID as the kubelet writes it: 8-4-4-4-12 hex with '-' (cgroupfs) or '_' (systemd), or the 32-hex hash
 * static pods get. Written out with dashes. */
static bool parse_uid(const char *s, size_t len, char out[CGP_POD_UID_MAX])
{
	if (len == 32 && is_hex(s, len)) {
		memcpy(out, s, len);
		out[len] = '\0';
		return true;
	}
	if (len != 36)
		return false;
	for (size_t i = 0; i < len; i++) {
		bool sep = i == 8 || i == 13 || i == 18 || i == 23;
		if (sep ? (s[i] != '-' && s[i] != '_') : !isxdigit((unsigned char)s[i]))
			return false;
		out[i] = sep ? '-' : s[i];
	}
	out[len] = '\0';
	return true;
}

static bool is_kubepods(const struct comp *c)
{
	return eq(c->s, c->len, "kubepods") || eq(c->s, c->len, "kubepods.slice") ||
	       ends_with(c->s, c->len, "-kubepods.slice");
}

static bool is_qos_level(const struct comp *c, enum cgp_qos *qos)
{
	const char *s = c->s;
	size_t len = c->len;
	if (ends_with(s, len, ".slice")) { /* kubepods-burstable.slice, kubelet-kubepods-besteffort.slice */
		len -= strlen(".slice");
		if (!ends_with(s, len, "kubepods-burstable") && !ends_with(s, len, "kubepods-besteffort"))
			return false;
	} else if (!eq(s, len, "burstable") && !eq(s, len, "besteffort")) {
		return false;
	}
	*qos = ends_with(s, len, "burstable") ? CGP_QOS_BURSTABLE : CGP_QOS_BESTEFFORT;
	return true;
}

/* pod<uid> (cgroupfs) or <...>kubepods[-<qos>]-pod<uid>.slice (systemd) */
static bool is_pod(const struct comp *c, char uid[CGP_POD_UID_MAX], enum cgp_qos *qos)
{
	const char *s = c->s;
	size_t len = c->len;
	*qos = CGP_QOS_NONE;
	if (!ends_with(s, len, ".slice"))
		return starts_with(s, len, "pod") && parse_uid(s + 3, len - 3, uid);
	len -= strlen(".slice");
	const char *pod = NULL;
	for (size_t i = 0; i + 4 <= len; i++) /* the last "-pod": a slice name's words are joined by '-' */
		if (memcmp(s + i, "-pod", 4) == 0)
			pod = s + i;
	if (!pod || !parse_uid(pod + 4, len - (size_t)(pod + 4 - s), uid))
		return false;
	size_t head = (size_t)(pod - s);
	if (ends_with(s, head, "-burstable"))
		*qos = CGP_QOS_BURSTABLE;
	else if (ends_with(s, head, "-besteffort"))
		*qos = CGP_QOS_BESTEFFORT;
	return true;
}

/* Finds the kubepods parent, the QoS level and the pod below it (the kubelet's only two shapes: kubepods/pod
 * for guaranteed, kubepods/<qos>/pod otherwise). Returns the pod component's index or -1; *k8s_end is the
 * index of the first component past the kubepods/QoS/pod chain. */
static int find_pod(const struct comp *c, int n, struct cgp_container_ref *out, int *k8s_end)
{
	int j = n - 1;
	while (j >= 0 && !is_kubepods(&c[j])) /* the deepest: a node nested in a pod (kind, sysbox) has two */
		j--;
	*k8s_end = 0;
	if (j < 0)
		return -1;
	*k8s_end = ++j;

	enum cgp_qos level = CGP_QOS_NONE, named;
	if (j < n && is_qos_level(&c[j], &level))
		*k8s_end = ++j;
	if (j < n && is_pod(&c[j], out->pod_uid, &named)) {
		out->qos = level != CGP_QOS_NONE ? level : named != CGP_QOS_NONE ? named : CGP_QOS_GUARANTEED;
		*k8s_end = j + 1;
		return j;
	}
	out->pod_uid[0] = '\0';
	return -1;
}

/* A driver mismatch (containerd's cgroupfs driver fed the kubelet's systemd parent) leaves runc's notation as a
 * literal directory: system.slice/containerd.service/kubepods-<qos>-pod<uid>.slice:cri-containerd:<id>. */
static void pod_in_systemd_name(const struct comp *c, struct cgp_container_ref *out)
{
	const char *colon = memchr(c->s, ':', c->len);
	struct comp slice = {.s = c->s, .len = colon ? (size_t)(colon - c->s) : 0};
	enum cgp_qos named;

	if (!colon || !memmem(slice.s, slice.len, "kubepods", strlen("kubepods")) ||
	    !is_pod(&slice, out->pod_uid, &named)) {
		out->pod_uid[0] = '\0';
		return;
	}
	out->qos = named != CGP_QOS_NONE ? named : CGP_QOS_GUARANTEED;
}

static bool copy_id(const char *s, size_t len, struct cgp_container_ref *out)
{
	if (len >= sizeof(out->id))
		return false;
	memcpy(out->id, s, len);
	out->id[len] = '\0';
	return true;
}

/* "<prefix>-<id>[.scope]" or runc's "slice:prefix:id" against the runtime prefix table */
static enum cgp_cpath_kind match_prefixed(const char *s, size_t len, struct cgp_container_ref *out)
{
	const char *colon = memchr(s, ':', len);
	const char *pfx = s, *id;
	size_t pfx_len = 0, id_len;
	bool scoped = ends_with(s, len, ".scope");

	if (colon) {
		pfx = colon + 1;
		const char *colon2 = memchr(pfx, ':', len - (size_t)(pfx - s));
		if (!colon2)
			return CGP_CPATH_NONE;
		pfx_len = (size_t)(colon2 - pfx);
		id = colon2 + 1;
		id_len = len - (size_t)(id - s);
		scoped = true;
	} else {
		if (scoped)
			len -= strlen(".scope");
		id = NULL;
		id_len = 0;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		const struct prefix_rule *r = &prefixes[i];
		size_t n = strlen(r->prefix);
		if (r->scope_only && !scoped)
			continue;
		if (colon) {
			if (pfx_len != n || memcmp(pfx, r->prefix, n) != 0)
				continue;
		} else {
			if (len <= n + 1 || memcmp(s, r->prefix, n) != 0 || s[n] != '-')
				continue;
			id = s + n + 1;
			id_len = len - n - 1;
		}
		if (!id_ok(id, id_len, r->rule) || !copy_id(id, id_len, out))
			continue;
		out->runtime = r->rt;
		return r->kind;
	}
	return CGP_CPATH_NONE;
}

static bool is_unit_name(const char *s, size_t len)
{
	for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++)
		if (ends_with(s, len, unit_suffixes[i]))
			return true;
	return false;
}

/* One component that carries no runtime prefix: the caller's predicate first (it knows the runtime), then a bare
 * 64-hex id placed by its parent (Docker's /docker, the kubelet's cgroupfs pods). */
static enum cgp_cpath_kind match_bare(const struct comp *c, int i, bool in_kubepods, cgp_known_id_fn known, void *arg,
				      struct cgp_container_ref *out)
{
	const char *s = c[i].s;
	size_t len = c[i].len;

	if (is_unit_name(s, len) || !is_runtime_id(s, len) || !copy_id(s, len, out))
		return CGP_CPATH_NONE;
	enum cgp_runtime rt = CGP_RT_UNKNOWN;
	if (known && known(out->id, arg, &rt)) {
		out->runtime = rt;
		return CGP_CPATH_CONTAINER;
	}
	if (len != HEX_ID_LEN || !is_hex(s, len))
		return CGP_CPATH_NONE;
	if (i > 0 && eq(c[i - 1].s, c[i - 1].len, "docker"))
		out->runtime = CGP_RT_DOCKER;
	/* under kubepods: containerd's CRI with the cgroupfs driver (cri-dockerd looks alike; the predicate knows) */
	else if (in_kubepods)
		out->runtime = CGP_RT_CONTAINERD;
	return CGP_CPATH_CONTAINER;
}

enum cgp_cpath_kind cgp_container_path_parse(const char *path, cgp_known_id_fn known, void *arg,
					     struct cgp_container_ref *out)
{
	struct comp c[MAX_COMPONENTS];
	int n = 0;

	memset(out, 0, sizeof(*out));
	if (!path)
		return CGP_CPATH_NONE;
	for (const char *p = path; *p;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		if (n == MAX_COMPONENTS)
			return CGP_CPATH_NONE;
		const char *e = strchrnul(p, '/');
		c[n++] = (struct comp){.s = p, .len = (size_t)(e - p), .end = (size_t)(e - path)};
		p = e;
	}

	int k8s_end;
	int pod = find_pod(c, n, out, &k8s_end);
	for (int i = n - 1; i >= k8s_end; i--) {
		enum cgp_cpath_kind kind = match_prefixed(c[i].s, c[i].len, out);
		if (kind == CGP_CPATH_NONE)
			kind = match_bare(c, i, k8s_end > 0, known, arg, out);
		if (kind != CGP_CPATH_NONE) {
			if (pod < 0)
				pod_in_systemd_name(&c[i], out);
			out->kind = kind;
			out->cgroup_len = c[i].end;
			return kind;
		}
		out->id[0] = '\0';
		out->runtime = CGP_RT_UNKNOWN;
	}
	if (pod >= 0) {
		out->kind = CGP_CPATH_POD;
		out->cgroup_len = c[pod].end;
	}
	return out->kind;
}

bool cgp_container_id_valid(const char *id)
{
	return id && is_runtime_id(id, strlen(id));
}

const char *cgp_runtime_name(enum cgp_runtime rt)
{
	switch (rt) {
	case CGP_RT_DOCKER:
		return "docker";
	case CGP_RT_CONTAINERD:
		return "containerd";
	case CGP_RT_CRIO:
		return "cri-o";
	case CGP_RT_PODMAN:
		return "podman";
	case CGP_RT_RUNC:
		return "runc";
	case CGP_RT_UNKNOWN:
		break;
	}
	return "";
}

const char *cgp_qos_name(enum cgp_qos qos)
{
	switch (qos) {
	case CGP_QOS_GUARANTEED:
		return "guaranteed";
	case CGP_QOS_BURSTABLE:
		return "burstable";
	case CGP_QOS_BESTEFFORT:
		return "besteffort";
	case CGP_QOS_NONE:
		break;
	}
	return "";
}
