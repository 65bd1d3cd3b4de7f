// SPDX-License-Identifier: GPL-2.0
/* Container names from the runtimes' state on the node, and a bounded LRU cache of them.
 *
 * Every runtime records what the kubelet (or the user) asked for as OCI annotations in the bundle's config.json;
 * only the keys differ: containerd's CRI writes io.kubernetes.cri.*, CRI-O and cri-dockerd io.kubernetes.pod.* /
 * io.kubernetes.container.name. runc keeps the annotations as "key=value" labels in its state.json. Docker keeps
 * the container's name and image in config.v2.json; podman in containers/storage's containers.json. */
#include "names/container_meta.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/idmap.h"

const struct cgp_meta_roots cgp_meta_default_roots = {
    .containerd_state = "/run/containerd",
    .containerd_namespaces = "k8s.io,default,moby",
    .runc_roots = "/run/runc",
    .crio_containers = "/run/containers/storage/overlay-containers",
    .podman_containers = "/var/lib/containers/storage/overlay-containers",
    .docker_containers = "/var/lib/docker/containers",
};

enum field { F_POD, F_NAMESPACE, F_POD_UID, F_CONTAINER, F_IMAGE };

/* Annotation keys per field, the more specific first. */
static const struct {
	const char *key;
	enum field field;
} annotation_keys[] = {
    {"io.kubernetes.cri.sandbox-name", F_POD},
    {"io.kubernetes.pod.name", F_POD},
    {"io.kubernetes.cri.sandbox-namespace", F_NAMESPACE},
    {"io.kubernetes.pod.namespace", F_NAMESPACE},
    {"io.kubernetes.cri.sandbox-uid", F_POD_UID},
    {"io.kubernetes.pod.uid", F_POD_UID},
    {"io.kubernetes.cri.container-name", F_CONTAINER},
    {"io.kubernetes.container.name", F_CONTAINER},
    {"io.kubernetes.cri.image-name", F_IMAGE},
    {"io.kubernetes.cri-o.ImageName", F_IMAGE},
};

/* How each runtime marks the pod's sandbox container. */
static const struct {
	const char *key, *value;
} sandbox_marks[] = {
    {"io.kubernetes.cri.container-type", "sandbox"},
    {"io.kubernetes.cri-o.ContainerType", "sandbox"},
    {"io.kubernetes.docker.type", "podsandbox"},
};

static char **field_ptr(struct cgp_container_meta *m, enum field f)
{
	switch (f) {
	case F_POD:
		return &m->pod;
	case F_NAMESPACE:
		return &m->pod_namespace;
	case F_POD_UID:
		return &m->pod_uid;
	case F_CONTAINER:
		return &m->container;
	case F_IMAGE:
		break;
	}
	return &m->image;
}

/* Sets a field the sources read so far left unknown: the first source to name a field wins. */
static int set_field(struct cgp_container_meta *m, enum field f, const char *v)
{
	char **p = field_ptr(m, f);
	if (*p || !v || !*v)
		return 0;
	*p = strdup(v);
	return *p ? 0 : -ENOMEM;
}

static const char *str_at(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

static int apply_annotations(const json_t *ann, struct cgp_container_meta *m)
{
	if (!json_is_object(ann))
		return 0;
	for (size_t i = 0; i < sizeof(annotation_keys) / sizeof(annotation_keys[0]); i++) {
		int err = set_field(m, annotation_keys[i].field, str_at(ann, annotation_keys[i].key));
		if (err)
			return err;
	}
	for (size_t i = 0; i < sizeof(sandbox_marks) / sizeof(sandbox_marks[0]); i++) {
		const char *v = str_at(ann, sandbox_marks[i].key);
		if (v && strcmp(v, sandbox_marks[i].value) == 0)
			m->sandbox = true;
	}
	return 0;
}

/* Loads a JSON file; -ENOENT when it is not there, -EBADMSG when it is not JSON. */
static int load_json(const char *path, json_t **out)
{
	json_error_t jerr;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	*out = json_loadfd(fd, 0, &jerr);
	close(fd);
	return *out ? 0 : -EBADMSG;
}

/* snprintf into a path buffer; -ENAMETOOLONG rather than a truncated path that could name another file */
__attribute__((format(printf, 3, 4))) static int fmt_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool on(const char *s)
{
	return s && *s;
}

/* Calls fn for each element of a comma-separated list until one returns 0. Returns 0, the first error other than
 * -ENOENT, or -ENOENT. */
static int each_item(const char *list, int (*fn)(const char *item, void *arg), void *arg)
{
	char item[PATH_MAX];
	int ret = -ENOENT;

	for (const char *p = list; on(p);) {
		const char *e = strchrnul(p, ',');
		size_t n = (size_t)(e - p);
		if (n > 0 && n < sizeof(item)) {
			memcpy(item, p, n);
			item[n] = '\0';
			int err = fn(item, arg);
			if (err == 0)
				return 0;
			if (ret == -ENOENT)
				ret = err;
		}
		p = *e ? e + 1 : e;
	}
	return ret;
}

struct read_ctx {
	const struct cgp_meta_roots *roots;
	const char *id;
	struct cgp_container_meta *m;
};

/* Docker: config.v2.json has the name ("/web"), the image as asked for, and cri-dockerd's labels. */
static int read_docker(struct read_ctx *x)
{
	char path[PATH_MAX];
	json_t *j;
	int err = fmt_path(path, sizeof(path), "%s/%s/config.v2.json", x->roots->docker_containers, x->id);
	if (!err)
		err = load_json(path, &j);
	if (err)
		return err;
	const json_t *cfg = json_object_get(j, "Config");
	err = apply_annotations(json_object_get(cfg, "Labels"), x->m);
	const char *name = str_at(j, "Name");
	if (!err && name)
		err = set_field(x->m, F_CONTAINER, name[0] == '/' ? name + 1 : name);
	if (!err)
		err = set_field(x->m, F_IMAGE, str_at(cfg, "Image"));
	x->m->runtime = CGP_RT_DOCKER;
	json_decref(j);
	return err;
}

static int read_containerd_ns(const char *ns, void *arg)
{
	struct read_ctx *x = arg;
	char path[PATH_MAX];
	json_t *j;
	int err = fmt_path(path, sizeof(path), "%s/io.containerd.runtime.v2.task/%s/%s/config.json",
			   x->roots->containerd_state, ns, x->id);
	if (!err)
		err = load_json(path, &j);
	if (err)
		return err;
	err = apply_annotations(json_object_get(j, "annotations"), x->m);
	json_decref(j);
	x->m->runtime = strcmp(ns, "moby") == 0 ? CGP_RT_DOCKER : CGP_RT_CONTAINERD;
	/* Docker's bundle carries no names; its own record does, and without it the id is still Docker's */
	if (!err && x->m->runtime == CGP_RT_DOCKER && on(x->roots->docker_containers) && read_docker(x) == -ENOMEM)
		err = -ENOMEM;
	return err;
}

static int read_containerd(struct read_ctx *x)
{
	if (!on(x->roots->containerd_state))
		return -ENOENT;
	return each_item(x->roots->containerd_namespaces, read_containerd_ns, x);
}

/* CRI-O and podman share containers/storage's layout: <dir>/<id>/userdata/config.json. */
static int read_userdata(const char *dir, struct read_ctx *x)
{
	char path[PATH_MAX];
	json_t *j;
	int err = fmt_path(path, sizeof(path), "%s/%s/userdata/config.json", dir, x->id);
	if (!err)
		err = load_json(path, &j);
	if (err)
		return err;
	const json_t *ann = json_object_get(j, "annotations");
	err = apply_annotations(ann, x->m);
	const char *manager = str_at(ann, "io.container.manager");
	x->m->runtime = manager && strcmp(manager, "libpod") == 0 ? CGP_RT_PODMAN : CGP_RT_CRIO;
	json_decref(j);
	return err;
}

static int read_crio(struct read_ctx *x)
{
	return on(x->roots->crio_containers) ? read_userdata(x->roots->crio_containers, x) : -ENOENT;
}

/* podman: the bundle's annotations, then containers/storage's record of the name and the image. */
static int read_podman(struct read_ctx *x)
{
	if (!on(x->roots->podman_containers))
		return -ENOENT;
	int err = read_userdata(x->roots->podman_containers, x);
	if (err && err != -ENOENT)
		return err;
	bool bundle = !err;

	char path[PATH_MAX];
	json_t *list;
	int lerr = fmt_path(path, sizeof(path), "%s/containers.json", x->roots->podman_containers);
	if (!lerr)
		lerr = load_json(path, &list);
	if (lerr)
		return bundle ? 0 : lerr;
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c)
	{
		if (!json_is_string(json_object_get(c, "id")) || strcmp(str_at(c, "id"), x->id) != 0)
			continue;
		err = set_field(x->m, F_CONTAINER, json_string_value(json_array_get(json_object_get(c, "names"), 0)));
		/* "metadata" is JSON inside a JSON string */
		const char *md = str_at(c, "metadata");
		json_t *mj = md ? json_loads(md, 0, NULL) : NULL;
		if (!err)
			err = set_field(x->m, F_IMAGE, str_at(mj, "image-name"));
		json_decref(mj);
		bundle = true;
		break;
	}
	json_decref(list);
	x->m->runtime = CGP_RT_PODMAN;
	return err ? err : bundle ? 0 : -ENOENT;
}

/* runc: state.json's config.labels holds the annotations as "key=value" and the bundle as "bundle=<dir>"; the
 * bundle's config.json is read too in case a runtime keeps more there than in the labels. */
static int read_runc_root(const char *root, void *arg)
{
	struct read_ctx *x = arg;
	char path[PATH_MAX];
	json_t *j;
	int err = fmt_path(path, sizeof(path), "%s/%s/state.json", root, x->id);
	if (!err)
		err = load_json(path, &j);
	if (err)
		return err;

	json_t *ann = json_object();
	const char *bundle = NULL;
	size_t i;
	json_t *l;
	if (!ann) {
		json_decref(j);
		return -ENOMEM;
	}
	json_array_foreach(json_object_get(json_object_get(j, "config"), "labels"), i, l)
	{
		const char *kv = json_string_value(l), *eqs = kv ? strchr(kv, '=') : NULL;
		if (!eqs)
			continue;
		if (strncmp(kv, "bundle=", strlen("bundle=")) == 0)
			bundle = eqs + 1;
		char key[256];
		size_t n = (size_t)(eqs - kv);
		if (n >= sizeof(key))
			continue;
		memcpy(key, kv, n);
		key[n] = '\0';
		json_object_set_new(ann, key, json_string(eqs + 1));
	}
	err = apply_annotations(ann, x->m);
	json_decref(ann);
	if (!err && bundle && fmt_path(path, sizeof(path), "%s/config.json", bundle) == 0) {
		json_t *cfg;
		if (load_json(path, &cfg) == 0) {
			err = apply_annotations(json_object_get(cfg, "annotations"), x->m);
			json_decref(cfg);
		}
	}
	json_decref(j);
	x->m->runtime = CGP_RT_RUNC;
	return err;
}

static int read_runc(struct read_ctx *x)
{
	return each_item(x->roots->runc_roots, read_runc_root, x);
}

static int read_docker_source(struct read_ctx *x)
{
	return on(x->roots->docker_containers) ? read_docker(x) : -ENOENT;
}

typedef int (*source_fn)(struct read_ctx *x);

/* Default order: the CRI runtimes first (they carry pod names), plain runc last (containerd's and Docker's
 * containers have runc state too, with less in it). */
static const struct {
	enum cgp_runtime rt;
	source_fn read;
} sources[] = {
    {CGP_RT_CONTAINERD, read_containerd}, {CGP_RT_CRIO, read_crio}, {CGP_RT_PODMAN, read_podman},
    {CGP_RT_DOCKER, read_docker_source},  {CGP_RT_RUNC, read_runc},
};

void cgp_container_meta_clear(struct cgp_container_meta *m)
{
	free(m->pod);
	free(m->pod_namespace);
	free(m->pod_uid);
	free(m->container);
	free(m->image);
	memset(m, 0, sizeof(*m));
}

int cgp_meta_read(const struct cgp_meta_roots *roots, const char *id, enum cgp_runtime hint,
		  struct cgp_container_meta *out)
{
	enum { NSRC = sizeof(sources) / sizeof(sources[0]) };
	struct read_ctx x = {.roots = roots, .id = id, .m = out};
	int first_err = -ENOENT;

	memset(out, 0, sizeof(*out));
	if (!cgp_container_id_valid(id))
		return -EINVAL;
	/* the hinted runtime's source first, then the others in the default order */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < NSRC; i++) {
			if ((pass == 0) != (sources[i].rt == hint))
				continue;
			int err = sources[i].read(&x);
			if (err == 0)
				return 0;
			cgp_container_meta_clear(out);
			if (err == -ENOMEM)
				return err;
			if (first_err == -ENOENT)
				first_err = err;
		}
	}
	return first_err;
}

/* The runtimes whose state for a container is <dir>/<id>, in the order they are asked (after containerd's
 * namespaces, before runc's roots). */
struct plain_dir {
	const char *dir;
	enum cgp_runtime rt;
};
#define PLAIN_DIRS 3

static void plain_dirs(const struct cgp_meta_roots *r, struct plain_dir out[PLAIN_DIRS])
{
	out[0] = (struct plain_dir){r->crio_containers, CGP_RT_CRIO};
	out[1] = (struct plain_dir){r->podman_containers, CGP_RT_PODMAN};
	out[2] = (struct plain_dir){r->docker_containers, CGP_RT_DOCKER};
}

static bool dir_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

struct known_ctx {
	const struct cgp_meta_roots *roots;
	const char *id;
	const char *ns;
};

static int known_containerd_ns(const char *ns, void *arg)
{
	struct known_ctx *k = arg;
	char path[PATH_MAX];
	if (fmt_path(path, sizeof(path), "%s/io.containerd.runtime.v2.task/%s/%s", k->roots->containerd_state, ns,
		     k->id) ||
	    !dir_exists(path))
		return -ENOENT;
	k->ns = strcmp(ns, "moby") == 0 ? "moby" : "";
	return 0;
}

static int known_runc_root(const char *root, void *arg)
{
	struct known_ctx *k = arg;
	char path[PATH_MAX];
	return fmt_path(path, sizeof(path), "%s/%s", root, k->id) == 0 && dir_exists(path) ? 0 : -ENOENT;
}

bool cgp_meta_known_id(const char *id, void *arg, enum cgp_runtime *rt)
{
	const struct cgp_meta_roots *r = arg;
	struct known_ctx k = {.roots = r, .id = id};
	char path[PATH_MAX];

	if (!cgp_container_id_valid(id))
		return false;
	if (on(r->containerd_state) && each_item(r->containerd_namespaces, known_containerd_ns, &k) == 0) {
		*rt = k.ns[0] ? CGP_RT_DOCKER : CGP_RT_CONTAINERD;
		return true;
	}
	struct plain_dir dirs[PLAIN_DIRS];

	plain_dirs(r, dirs);
	for (size_t i = 0; i < PLAIN_DIRS; i++) {
		if (on(dirs[i].dir) && fmt_path(path, sizeof(path), "%s/%s", dirs[i].dir, id) == 0 &&
		    dir_exists(path)) {
			*rt = dirs[i].rt;
			return true;
		}
	}
	if (each_item(r->runc_roots, known_runc_root, &k) == 0) {
		*rt = CGP_RT_RUNC;
		return true;
	}
	return false;
}

/* The cache: a fixed pool of entries, found through the project's hash map (lib/idmap) keyed by
 * cgp_idmap_strkey(id), and a doubly linked LRU list for eviction. Ids that share a key form a short chain, told
 * apart by comparing the id. Indices instead of pointers inside the pool, so it is one allocation. The helpers
 * take the key as a parameter, so a test can put two ids under one key. */
#define NIL UINT32_MAX

struct entry {
	char id[CGP_CONTAINER_ID_MAX];
	struct cgp_container_meta meta;
	bool used, found;
	uint64_t retry_at_ns; /* when !found: no new read before this */
	uint64_t key;	      /* cgp_idmap_strkey(id) */
	uint32_t knext;	      /* next entry under the same key */
	uint32_t prev, next;  /* LRU: head is the most recent */
};

/* A state directory whose entries are the ids a runtime knows (<root>/<id>): its names, read again only when its
 * mtime (or the directory itself) changed since, so a round of checks costs one stat() per directory, not one per
 * cgroup and directory (at 10,000 young cgroups those were ~88 ms of system time every other sweep). */
struct state_dir {
	char *path;
	enum cgp_runtime rt;
	bool exists, racy; /* racy: changed so near its read that a change within the same tick keeps the mtime */
	bool read;	   /* names holds its entries as of mtime */
	struct timespec mtime;
	dev_t dev;
	ino_t ino;
	uint64_t round;		/* the round it was last looked at in */
	struct cgp_idmap names; /* cgp_idmap_strkey(entry) → &names_mark: a hit is confirmed by stat() */
};

#define RACY_NS (2ULL * 1000000000ULL) /* covers any file system's timestamp granularity that matters here */

struct cgp_meta_cache {
	struct cgp_meta_roots roots; /* own copies */
	struct state_dir *dirs;	     /* in the order cgp_meta_known_id looks */
	size_t n_dirs;
	uint64_t round; /* cgp_meta_cache_round: 0 = look at every directory on every check */
	struct entry *e;
	uint32_t cap, used, head, tail, free_hint;
	/* key → the first entry under it. Sized for cap keys at creation, so it never grows: a put cannot fail */
	struct cgp_idmap ids;
	uint64_t retry_ns;
	struct cgp_meta_cache_stats st;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void free_roots(struct cgp_meta_roots *r)
{
	free((char *)r->containerd_state);
	free((char *)r->containerd_namespaces);
	free((char *)r->runc_roots);
	free((char *)r->crio_containers);
	free((char *)r->podman_containers);
	free((char *)r->docker_containers);
}

static char names_mark;

static int state_dir_add(struct cgp_meta_cache *c, const char *path, enum cgp_runtime rt)
{
	struct state_dir *d = realloc(c->dirs, (c->n_dirs + 1) * sizeof(*d));

	if (!d)
		return -ENOMEM;
	c->dirs = d;
	d += c->n_dirs;
	memset(d, 0, sizeof(*d));
	d->rt = rt;
	if (!(d->path = strdup(path)) || cgp_idmap_init(&d->names, 16)) {
		free(d->path);
		return -ENOMEM;
	}
	c->n_dirs++;
	return 0;
}

static int containerd_ns_dir(const char *ns, void *arg)
{
	struct cgp_meta_cache *c = arg;
	char path[PATH_MAX];

	if (fmt_path(path, sizeof(path), "%s/io.containerd.runtime.v2.task/%s", c->roots.containerd_state, ns))
		return -ENOENT; /* no id fits under it either */
	return state_dir_add(c, path, strcmp(ns, "moby") == 0 ? CGP_RT_DOCKER : CGP_RT_CONTAINERD) ? -ENOMEM : -ENOENT;
}

static int runc_root_dir(const char *root, void *arg)
{
	return state_dir_add(arg, root, CGP_RT_RUNC) ? -ENOMEM : -ENOENT;
}

/* The directories cgp_meta_known_id looks in, in its order. 0 or -ENOMEM. */
static int state_dirs_make(struct cgp_meta_cache *c)
{
	const struct cgp_meta_roots *r = &c->roots;
	struct plain_dir dirs[PLAIN_DIRS];

	/* each_item goes on while its function fails: -ENOENT walks the whole list, -ENOMEM is returned */
	if (on(r->containerd_state) && each_item(r->containerd_namespaces, containerd_ns_dir, c) == -ENOMEM)
		return -ENOMEM;
	plain_dirs(r, dirs);
	for (size_t i = 0; i < PLAIN_DIRS; i++)
		if (on(dirs[i].dir) && state_dir_add(c, dirs[i].dir, dirs[i].rt))
			return -ENOMEM;
	return each_item(r->runc_roots, runc_root_dir, c) == -ENOMEM ? -ENOMEM : 0;
}

static uint64_t ts_ns(const struct timespec *t)
{
	return (uint64_t)t->tv_sec * 1000000000ull + (uint64_t)t->tv_nsec;
}

/* The directory as it is now: one stat(), and a read of its entries when it changed (or changed so lately that
 * another change within the same timestamp tick would not show). On a failed read every id is looked up by
 * stat() until the next good one. */
static void state_dir_look(struct cgp_meta_cache *c, struct state_dir *d)
{
	struct timespec before;
	struct stat st;
	struct dirent *e;
	DIR *dir;

	c->st.dir_stats++;
	if (stat(d->path, &st) || !S_ISDIR(st.st_mode)) {
		d->exists = d->read = false;
		return;
	}
	d->exists = true;
	if (d->read && !d->racy && st.st_dev == d->dev && st.st_ino == d->ino && st.st_mtim.tv_sec == d->mtime.tv_sec &&
	    st.st_mtim.tv_nsec == d->mtime.tv_nsec)
		return;
	clock_gettime(CLOCK_REALTIME, &before);
	d->read = false;
	cgp_idmap_clear(&d->names);
	dir = opendir(d->path);
	if (!dir)
		return;
	c->st.dir_reads++;
	for (errno = 0; (e = readdir(dir)); errno = 0)
		if (cgp_idmap_put(&d->names, cgp_idmap_strkey(e->d_name), &names_mark))
			break;
	d->read = !e && !errno; /* all of it, or not trusted */
	closedir(dir);
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->mtime = st.st_mtim;
	d->racy = ts_ns(&st.st_mtim) + RACY_NS >= ts_ns(&before);
}

/* The id has a directory under d: a name its read did not list was not there when it was read. */
static bool state_dir_has(struct cgp_meta_cache *c, struct state_dir *d, const char *id)
{
	char path[PATH_MAX];

	if (!c->round || d->round != c->round) {
		state_dir_look(c, d);
		d->round = c->round;
	}
	if (!d->exists)
		return false;
	if (d->read && !cgp_idmap_get(&d->names, cgp_idmap_strkey(id)))
		return false;
	c->st.dir_stats++;
	return fmt_path(path, sizeof(path), "%s/%s", d->path, id) == 0 && dir_exists(path);
}

struct cgp_meta_cache *cgp_meta_cache_new(const struct cgp_meta_roots *roots, size_t capacity, uint64_t retry_ns)
{
	if (capacity == 0 || capacity > (1u << 24))
		return NULL;
	struct cgp_meta_cache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cap = (uint32_t)capacity;
	c->e = calloc(c->cap, sizeof(*c->e));
	c->retry_ns = retry_ns;
	c->head = c->tail = NIL;
	const char *src[] = {roots->containerd_state, roots->containerd_namespaces, roots->runc_roots,
			     roots->crio_containers,  roots->podman_containers,	    roots->docker_containers};
	const char **dst[] = {&c->roots.containerd_state, &c->roots.containerd_namespaces, &c->roots.runc_roots,
			      &c->roots.crio_containers,  &c->roots.podman_containers,	   &c->roots.docker_containers};
	bool ok = c->e && cgp_idmap_init(&c->ids, c->cap) == 0;
	for (size_t i = 0; i < sizeof(src) / sizeof(src[0]); i++) {
		*dst[i] = dup_or_null(src[i]);
		ok = ok && (!src[i] || *dst[i]);
	}
	if (!ok || state_dirs_make(c)) {
		cgp_meta_cache_free(c);
		return NULL;
	}
	return c;
}

void cgp_meta_cache_free(struct cgp_meta_cache *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; c->e && i < c->cap; i++)
		cgp_container_meta_clear(&c->e[i].meta);
	free(c->e);
	cgp_idmap_free(&c->ids);
	for (size_t i = 0; i < c->n_dirs; i++) {
		free(c->dirs[i].path);
		cgp_idmap_free(&c->dirs[i].names);
	}
	free(c->dirs);
	free_roots(&c->roots);
	free(c);
}

static uint32_t first_under(const struct cgp_meta_cache *c, uint64_t key)
{
	const struct entry *e = cgp_idmap_get(&c->ids, key);
	return e ? (uint32_t)(e - c->e) : NIL;
}

static uint32_t find(const struct cgp_meta_cache *c, uint64_t key, const char *id)
{
	for (uint32_t i = first_under(c, key); i != NIL; i = c->e[i].knext)
		if (strcmp(c->e[i].id, id) == 0)
			return i;
	return NIL;
}

static void lru_unlink(struct cgp_meta_cache *c, uint32_t i)
{
	struct entry *e = &c->e[i];
	if (e->prev != NIL)
		c->e[e->prev].next = e->next;
	else
		c->head = e->next;
	if (e->next != NIL)
		c->e[e->next].prev = e->prev;
	else
		c->tail = e->prev;
}

static void lru_push_front(struct cgp_meta_cache *c, uint32_t i)
{
	c->e[i].prev = NIL;
	c->e[i].next = c->head;
	if (c->head != NIL)
		c->e[c->head].prev = i;
	c->head = i;
	if (c->tail == NIL)
		c->tail = i;
}

static void remove_entry(struct cgp_meta_cache *c, uint32_t i)
{
	struct entry *e = &c->e[i];
	uint32_t first = first_under(c, e->key);
	if (first == i) {
		if (e->knext == NIL)
			cgp_idmap_del(&c->ids, e->key);
		else
			cgp_idmap_put(&c->ids, e->key, &c->e[e->knext]); /* replaces: cannot fail */
	} else {
		uint32_t *p = &c->e[first].knext;
		while (*p != i)
			p = &c->e[*p].knext;
		*p = e->knext;
	}
	lru_unlink(c, i);
	cgp_container_meta_clear(&e->meta);
	e->used = false;
	c->used--;
	c->free_hint = i;
}

static uint32_t new_entry(struct cgp_meta_cache *c, uint64_t key, const char *id)
{
	if (c->used == c->cap) {
		remove_entry(c, c->tail);
		c->st.evictions++;
	}
	uint32_t i = c->free_hint;
	while (c->e[i].used)
		i = (i + 1) % c->cap;
	struct entry *e = &c->e[i];
	memset(e, 0, sizeof(*e));
	strcpy(e->id, id); /* length checked by cgp_container_id_valid */
	e->used = true;
	e->key = key;
	e->knext = first_under(c, e->key);
	cgp_idmap_put(&c->ids, e->key, e); /* at most cap keys: cannot fail */
	lru_push_front(c, i);
	c->used++;
	c->free_hint = (i + 1) % c->cap;
	return i;
}

/* Reads the state into entry i; a miss is remembered until retry_ns has passed. */
static void fill(struct cgp_meta_cache *c, uint32_t i, enum cgp_runtime hint)
{
	struct entry *e = &c->e[i];
	int err = cgp_meta_read(&c->roots, e->id, hint, &e->meta);
	c->st.reads++;
	e->found = err == 0;
	if (err == -ENOENT)
		c->st.misses++;
	else if (err)
		c->st.errors++;
	if (err)
		e->retry_at_ns = now_ns() + c->retry_ns;
}

static const struct cgp_container_meta *get_keyed(struct cgp_meta_cache *c, uint64_t key, const char *id,
						  enum cgp_runtime hint)
{
	uint32_t i = find(c, key, id);
	if (i == NIL) {
		i = new_entry(c, key, id);
		fill(c, i, hint);
	} else {
		lru_unlink(c, i);
		lru_push_front(c, i);
		if (!c->e[i].found && now_ns() >= c->e[i].retry_at_ns)
			fill(c, i, hint);
		else
			c->st.hits++;
	}
	return c->e[i].found ? &c->e[i].meta : NULL;
}

const struct cgp_container_meta *cgp_meta_cache_get(struct cgp_meta_cache *c, const char *id, enum cgp_runtime hint)
{
	return cgp_container_id_valid(id) ? get_keyed(c, cgp_idmap_strkey(id), id, hint) : NULL;
}

static void forget_keyed(struct cgp_meta_cache *c, uint64_t key, const char *id)
{
	uint32_t i = find(c, key, id);
	if (i != NIL)
		remove_entry(c, i);
}

void cgp_meta_cache_forget(struct cgp_meta_cache *c, const char *id)
{
	if (cgp_container_id_valid(id))
		forget_keyed(c, cgp_idmap_strkey(id), id);
}

void cgp_meta_cache_round(struct cgp_meta_cache *c, uint64_t round)
{
	c->round = round;
}

bool cgp_meta_cache_known_id(const char *id, void *arg, enum cgp_runtime *rt)
{
	struct cgp_meta_cache *c = arg;
	uint32_t i = cgp_container_id_valid(id) ? find(c, cgp_idmap_strkey(id), id) : NIL;
	if (i != NIL && c->e[i].found) {
		*rt = c->e[i].meta.runtime;
		return true;
	}
	if (!cgp_container_id_valid(id))
		return false;
	/* as cgp_meta_known_id looks, from the directories' entries */
	for (size_t k = 0; k < c->n_dirs; k++)
		if (state_dir_has(c, &c->dirs[k], id)) {
			*rt = c->dirs[k].rt;
			return true;
		}
	return false;
}

void cgp_meta_cache_get_stats(const struct cgp_meta_cache *c, struct cgp_meta_cache_stats *s)
{
	*s = c->st;
	s->entries = c->used;
}
