// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "names/cgroup_names.h"
#include "lib/log.h"

#define NAMES_RETRY_NS	(30ULL * 1000000000ULL) /* how long a new cgroup may still turn out to be a container */
#define META_RETRY_NS	(2ULL * 1000000000ULL)	/* a container whose state was not there yet is read again */
#define META_CACHE	4096
#define NAMES_REWALK_NS (10ULL * 1000000000ULL) /* the tree is walked again for unnamed ids at most this often */

static char empty[] = "";

const struct cgp_attribution cgp_attribution_unknown = {
    .path = "(unknown)",
    .container_id = "",
    .runtime = "",
    .pod = "",
    .pod_namespace = "",
    .container_name = "",
    .image = "",
    .pod_uid = "",
    .qos_class = "",
};

/* The one place the attribution record is filled: after anything it is made of changed. */
static void attribute(struct cgp_cgname *c)
{
	static uint64_t revs; /* every filling gets a number of its own: never 0, never reused */
	bool ctr = c->ref.kind == CGP_CPATH_CONTAINER;

	c->attr = (struct cgp_attribution){
	    .path = c->path,
	    .is_container = ctr,
	    .container_id = ctr ? c->ref.id : "",
	    .runtime = ctr ? c->runtime : "",
	    .pod = c->pod,
	    .pod_namespace = c->pod_namespace,
	    .container_name = c->container,
	    .image = c->image,
	    .pod_uid = c->ref.pod_uid,
	    .qos_class = cgp_qos_name(c->ref.qos),
	    .rev = ++revs,
	};
}

int cgp_names_init(struct cgp_names *n, const struct cgp_cgroupfs *fs, const struct cgp_meta_roots *roots,
		   uint64_t grace_ns)
{
	memset(n, 0, sizeof(*n));
	n->fs = fs;
	n->grace_ns = grace_ns;
	n->meta = cgp_meta_cache_new(roots ? roots : &cgp_meta_default_roots, META_CACHE, META_RETRY_NS);
	if (!n->meta || cgp_idmap_init(&n->live, 256) || cgp_idmap_init(&n->dead, 64) ||
	    cgp_idmap_init(&n->unseen, 16)) {
		cgp_names_free(n);
		return -ENOMEM;
	}
	return 0;
}

static void set_str(char **dst, const char *src)
{
	if (*dst != empty)
		free(*dst);
	*dst = src && *src ? strdup(src) : NULL;
	if (!*dst)
		*dst = empty;
}

static void name_free(void *p)
{
	struct cgp_cgname *c = p;

	if (!c)
		return;
	free(c->path);
	set_str(&c->pod, NULL);
	set_str(&c->pod_namespace, NULL);
	set_str(&c->container, NULL);
	set_str(&c->image, NULL);
	free(c);
}

void cgp_names_free(struct cgp_names *n)
{
	cgp_idmap_free_all(&n->live, name_free);
	cgp_idmap_free_all(&n->dead, name_free);
	cgp_buf_free(&n->graves);
	cgp_idmap_free(&n->unseen);
	cgp_buf_free(&n->unannounced);
	cgp_meta_cache_free(n->meta);
	n->meta = NULL;
}

/* With ask_runtimes, ids without a runtime prefix are looked up in the runtimes' state (plain runc, ctr). Not at
 * mkdir time: the runtime writes its state just after making the cgroup, and a miss would be cached. */
static void classify(struct cgp_names *n, struct cgp_cgname *c, bool ask_runtimes)
{
	struct cgp_container_ref was = c->ref;
	const char *runtime = c->runtime;

	cgp_container_path_parse(c->path, ask_runtimes ? cgp_meta_cache_known_id : NULL, n->meta, &c->ref);
	c->runtime = cgp_runtime_name(c->ref.runtime);
	/* a young cgroup asked about again and still nobody's container: the same record, and the same fill number
	 * (so the sinks do not escape its labels again every 2 s) */
	if (c->attr.rev && was.kind == c->ref.kind && was.runtime == c->ref.runtime && was.qos == c->ref.qos &&
	    runtime == c->runtime && !strcmp(was.id, c->ref.id) && !strcmp(was.pod_uid, c->ref.pod_uid))
		return;
	attribute(c);
}

static struct cgp_cgname *add(struct cgp_names *n, uint64_t id, const char *path, uint64_t now)
{
	struct cgp_cgname *c = cgp_idmap_get(&n->live, id);

	if (c) /* already known (the walk and a mkdir event may both report it) */
		return c;
	c = calloc(1, sizeof(*c));
	if (!c || !(c->path = strdup(path)) || cgp_idmap_put(&n->live, id, c)) {
		if (c)
			free(c->path);
		free(c);
		return NULL;
	}
	c->id = id;
	c->pod = c->pod_namespace = c->container = c->image = empty;
	c->first_seen_ns = now;
	classify(n, c, false);
	return c;
}

void cgp_names_mkdir(struct cgp_names *n, uint64_t id, const char *path, uint64_t born_ns, uint64_t now_ns)
{
	struct cgp_cgname *c;

	/* an old record read late (the ring keeps what was not read yet) of a cgroup already gone: an id is
	 * never reused, so a tombstone means the cgroup is over; live and dead never hold the same id */
	if (cgp_idmap_get(&n->dead, id))
		return;
	c = cgp_idmap_get(&n->live, id);
	if (c && c->born_ns) /* the same record twice */
		return;
	c = add(n, id, path[0] ? path : "/", now_ns);
	if (!c)
		return;
	c->born_ns = born_ns ? born_ns : now_ns;
	if (cgp_buf_append(&n->unannounced, &id, sizeof(id)))
		n->stats.unannounced++;
}

size_t cgp_names_take_started(struct cgp_names *n, uint64_t id, uint64_t now_ns, const struct cgp_cgname **out,
			      size_t max)
{
	uint64_t *ids = (uint64_t *)(n->unannounced.data + n->unannounced.off);
	size_t got = 0, kept = 0, len = cgp_buf_size(&n->unannounced) / sizeof(uint64_t);

	for (size_t i = 0; i < len; i++) {
		uint64_t u = ids[i];
		const struct cgp_cgname *c = cgp_idmap_get(&n->live, u);
		bool due;

		if (!c)
			c = cgp_idmap_get(&n->dead, u);
		if (id)
			due = u == id;
		else
			due = !c || c->named || c->removed_ns ||
			      (c->checked_ns && now_ns - c->born_ns >= CGP_ANNOUNCE_WAIT_NS);
		if (due && c && got < max)
			out[got++] = c;
		else if (!due || c)
			ids[kept++] = u; /* not due, or no room left in out: next time */
	}
	n->unannounced.len = n->unannounced.off + kept * sizeof(uint64_t);
	return got;
}

/* Drops the oldest tombstone when expired (or when forced); false when there is none to drop. */
static bool bury_oldest(struct cgp_names *n, uint64_t now_ns, bool force)
{
	while (cgp_buf_size(&n->graves)) {
		uint64_t id;
		struct cgp_cgname *c;

		memcpy(&id, cgp_buf_head(&n->graves), sizeof(id));
		c = cgp_idmap_get(&n->dead, id);
		if (c && !force && now_ns - c->removed_ns < n->grace_ns)
			return false;
		cgp_buf_consume(&n->graves, sizeof(id));
		if (!c)
			continue;
		if (c->ref.kind == CGP_CPATH_CONTAINER)
			cgp_meta_cache_forget(n->meta, c->ref.id);
		name_free(cgp_idmap_del(&n->dead, id));
		return true;
	}
	return false;
}

void cgp_names_rmdir(struct cgp_names *n, uint64_t id, uint64_t now_ns)
{
	struct cgp_cgname *c = cgp_idmap_del(&n->live, id);

	cgp_idmap_del(&n->unseen, id);
	if (!c)
		return;
	c->removed_ns = now_ns;
	if (cgp_idmap_put(&n->dead, id, c) || cgp_buf_append(&n->graves, &id, sizeof(id))) {
		name_free(cgp_idmap_del(&n->dead, id));
		return;
	}
	while (n->dead.len > CGP_TOMBSTONES_MAX && bury_oldest(n, now_ns, true))
		n->stats.evicted++;
}

struct walk_ctx {
	struct cgp_names *n;
	uint64_t now;
};

static void walk_one(void *ctx, uint64_t id, const char *rel)
{
	struct walk_ctx *w = ctx;

	if (!cgp_idmap_get(&w->n->dead, id))
		add(w->n, id, rel, w->now);
}

int cgp_names_walk(struct cgp_names *n, uint64_t now_ns)
{
	struct walk_ctx w = {n, now_ns};

	n->walked_ns = now_ns;
	n->stats.walks++;
	return cgp_cgroup_walk(n->fs->v2_fd, walk_one, &w);
}

/* An id no mkdir record named (one lost when the ring was full, or made before the walk at start): the tree is
 * walked again, at most every NAMES_REWALK_NS; an id that walk does not find either is not in our view of the
 * tree and never triggers another. */
static struct cgp_cgname *find_by_walk(struct cgp_names *n, uint64_t id, uint64_t now)
{
	struct cgp_cgname *c;

	if (cgp_idmap_get(&n->unseen, id) || now - n->walked_ns < NAMES_REWALK_NS)
		return NULL;
	cgp_names_walk(n, now);
	c = cgp_idmap_get(&n->live, id);
	if (!c && cgp_idmap_put(&n->unseen, id, (void *)1))
		return NULL; /* no memory: it may cost another walk later */
	return c;
}

/* names are read late: runtimes write their state after they make the cgroup */
static void name_container(struct cgp_names *n, struct cgp_cgname *c, uint64_t now, bool now_or_never)
{
	const struct cgp_container_meta *m;

	if (c->ref.kind != CGP_CPATH_CONTAINER) {
		/* plain runc / ctr containers carry no prefix: known only once the runtime's state exists */
		if (now_or_never || (now - c->first_seen_ns < NAMES_RETRY_NS && now - c->checked_ns >= META_RETRY_NS)) {
			c->checked_ns =
			    now; /* asking every sweep would cost every young cgroup a lookup per interval */
			/* a sweep's checks (one time) look at each runtime's state directory once; an OOM kill's now */
			cgp_meta_cache_round(n->meta, now_or_never ? 0 : now);
			classify(n, c, true);
		}
		if (c->ref.kind != CGP_CPATH_CONTAINER) {
			c->named = now - c->first_seen_ns >= NAMES_RETRY_NS;
			return;
		}
	}
	m = cgp_meta_cache_get(n->meta, c->ref.id, c->ref.runtime);
	if (!m)
		return; /* not there yet: the cache retries after META_RETRY_NS */
	if (!m->pod && !m->container && !m->image && now - c->first_seen_ns < NAMES_RETRY_NS) {
		/* state written before its annotations (or a runtime that names nothing): look again later */
		cgp_meta_cache_forget(n->meta, c->ref.id);
		return;
	}
	set_str(&c->pod, m->pod);
	set_str(&c->pod_namespace, m->pod_namespace);
	set_str(&c->container, m->container);
	set_str(&c->image, m->image);
	if (m->runtime != CGP_RT_UNKNOWN) /* the runtime whose state named it knows best */
		c->runtime = cgp_runtime_name(m->runtime);
	c->named = true;
	attribute(c);
}

const struct cgp_cgname *cgp_names_get(struct cgp_names *n, uint64_t id, uint64_t now_ns)
{
	struct cgp_cgname *c = cgp_idmap_get(&n->live, id);

	if (!c) {
		c = cgp_idmap_get(&n->dead, id);
		if (c)
			return c;
		c = find_by_walk(n, id, now_ns);
		if (!c) {
			n->stats.unresolved++;
			return NULL;
		}
		n->stats.resolved_by_id++;
	}
	if (!c->named)
		name_container(n, c, now_ns, false);
	return c;
}

const struct cgp_cgname *cgp_names_get_fresh(struct cgp_names *n, uint64_t id, uint64_t now_ns)
{
	struct cgp_cgname *c = cgp_idmap_get(&n->live, id);
	const char *base;

	if (!c || c->named)
		return cgp_names_get(n, id, now_ns);
	/* forget a cached "no such container" from before the runtime wrote its state */
	base = strrchr(c->path, '/');
	if (base && base[1])
		cgp_meta_cache_forget(n->meta, base + 1);
	if (c->ref.kind == CGP_CPATH_CONTAINER)
		cgp_meta_cache_forget(n->meta, c->ref.id);
	name_container(n, c, now_ns, true);
	return c;
}

void cgp_names_expire(struct cgp_names *n, uint64_t now_ns)
{
	/* tombstones are kept oldest first: expiring stops at the first one still in its grace period */
	while (bury_oldest(n, now_ns, false))
		n->stats.expired++;
	n->stats.live = n->live.len;
	n->stats.tombstones = n->dead.len;
}
