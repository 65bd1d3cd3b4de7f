// SPDX-License-Identifier: GPL-2.0
/* Container names from runtime state.
 *
 * The fixture tests lay out each runtime's state files in a temporary directory, shaped as the runtimes write
 * them (containerd CRI and Docker bundles, CRI-O and podman userdata, runc state.json, Docker config.v2.json),
 * and run always. The real_* tests read the files that a real runc and a real containerd wrote: they run only
 * when tests/scripts/test_container_meta.sh starts those containers and passes them in
 *   CGP_META_ROOTS  = "runc=DIR containerd=DIR namespaces=NS"
 *   CGP_META_EXPECT = records "id|runtime|pid|pod|namespace|container|image" separated by ';'
 * and skip with the reason otherwise. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

/* the file itself, for its cache's static helpers: they take the hash key as a parameter, so a test can put two
 * ids under one key */
#include "names/container_meta.c"
#include "names/container_path.h"

#define CRI_ID	       "2032491dcae31e6746f47daa0ac74564f2843a1bd847c5e6c4eb501ca132ac36"
#define CRI_SANDBOX_ID "7bd5db88ae6e5e52e941a2709ed9c18d7572f32db6ea44e8afe783227711151a"
#define MOBY_ID	       "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970"
#define CRIO_ID	       "0ba8ac17e4e7a31fb82279503552fe94e64bab4745bf6fd2ff231e7c8ca8bed0"
#define PODMAN_ID      "0e768f8db752fcd648adb264498daa1d8f31562320e881d6a9ec593d24b1f779"
#define BAD_ID	       "358607a37e7ada357032e7f5729c9ae6a3efdb7962acbcbe47ff6a3c5506cb1c"

static char dir[64]; /* short: fixture paths are built from it with snprintf */

static void put(const char *rel, const char *text)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void fixture_roots(struct cgp_meta_roots *r, char buf[6][PATH_MAX])
{
	snprintf(buf[0], PATH_MAX, "%s/containerd", dir);
	snprintf(buf[1], PATH_MAX, "%s/runc-a,%s/runc", dir, dir);
	snprintf(buf[2], PATH_MAX, "%s/crio", dir);
	snprintf(buf[3], PATH_MAX, "%s/podman", dir);
	snprintf(buf[4], PATH_MAX, "%s/docker", dir);
	*r = (struct cgp_meta_roots){.containerd_state = buf[0],
				     .containerd_namespaces = "k8s.io,default,moby",
				     .runc_roots = buf[1],
				     .crio_containers = buf[2],
				     .podman_containers = buf[3],
				     .docker_containers = buf[4]};
}

static int setup(void **state)
{
	char bundle[PATH_MAX + 64];
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/cgpulse-test-meta-XXXXXX");
	if (!mkdtemp(dir))
		return -1;

	/* containerd CRI: a workload container and its pod's sandbox */
	put("containerd/io.containerd.runtime.v2.task/k8s.io/" CRI_ID "/config.json",
	    "{\"ociVersion\":\"1.0.2-dev\",\"process\":{\"args\":[\"/checkout\"]},\"annotations\":{"
	    "\"io.kubernetes.cri.container-name\":\"api\","
	    "\"io.kubernetes.cri.container-type\":\"container\","
	    "\"io.kubernetes.cri.image-name\":\"registry.example/shop/checkout:1.4.2\","
	    "\"io.kubernetes.cri.sandbox-id\":\"" CRI_SANDBOX_ID "\","
	    "\"io.kubernetes.cri.sandbox-name\":\"checkout-7f9c6d8b5-x2kqz\","
	    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	    "\"io.kubernetes.cri.sandbox-uid\":\"55c6c714-b240-4dec-9a45-57b61696ab6e\"},"
	    "\"linux\":{\"cgroupsPath\":\"kubepods-burstable-pod55c6c714_b240_4dec_9a45_57b61696ab6e.slice:cri-"
	    "containerd:" CRI_ID "\"}}");
	put("containerd/io.containerd.runtime.v2.task/k8s.io/" CRI_SANDBOX_ID "/config.json",
	    "{\"annotations\":{\"io.kubernetes.cri.container-type\":\"sandbox\","
	    "\"io.kubernetes.cri.sandbox-name\":\"checkout-7f9c6d8b5-x2kqz\","
	    "\"io.kubernetes.cri.sandbox-namespace\":\"shop\","
	    "\"io.kubernetes.cri.sandbox-uid\":\"55c6c714-b240-4dec-9a45-57b61696ab6e\"}}");
	/* Docker through containerd's "moby" namespace: an empty bundle, names in config.v2.json */
	put("containerd/io.containerd.runtime.v2.task/moby/" MOBY_ID "/config.json",
	    "{\"ociVersion\":\"1.0.2-dev\",\"hostname\":\"4f797c539e6c\"}");
	put("docker/" MOBY_ID "/config.v2.json",
	    "{\"ID\":\"" MOBY_ID "\",\"Name\":\"/redis-cache\",\"Config\":{\"Hostname\":\"4f797c539e6c\","
	    "\"Image\":\"redis:7.2\",\"Labels\":{\"com.example.team\":\"cache\"}},\"State\":{\"Running\":true}}");
	/* CRI-O */
	put("crio/" CRIO_ID "/userdata/config.json",
	    "{\"annotations\":{\"io.kubernetes.container.name\":\"kube-proxy\","
	    "\"io.kubernetes.cri-o.ContainerType\":\"container\","
	    "\"io.kubernetes.cri-o.ImageName\":\"registry.k8s.io/kube-proxy:v1.28.2\","
	    "\"io.kubernetes.cri-o.Name\":\"k8s_kube-proxy_kube-proxy-8xk2p_kube-system_2ca4a155_0\","
	    "\"io.kubernetes.pod.name\":\"kube-proxy-8xk2p\","
	    "\"io.kubernetes.pod.namespace\":\"kube-system\","
	    "\"io.kubernetes.pod.uid\":\"2ca4a155-3599-498d-bb9d-4446693fa3ea\"}}");
	/* podman: the bundle says little; containers/storage has the name and the image */
	put("podman/" PODMAN_ID "/userdata/config.json",
	    "{\"annotations\":{\"io.container.manager\":\"libpod\",\"org.opencontainers.image.stopSignal\":\"15\"}}");
	put("podman/containers.json",
	    "[{\"id\":\"0000\",\"names\":[\"other\"]},{\"id\":\"" PODMAN_ID "\",\"names\":[\"web\"],\"image\":"
	    "\"a1b2\",\"metadata\":\"{\\\"image-name\\\":\\\"docker.io/library/nginx:1.25\\\",\\\"name\\\":"
	    "\\\"web\\\"}\"}]");
	/* runc: annotations as labels, one more in the bundle's config.json only */
	snprintf(bundle, sizeof(bundle), "%s/bundles/cgp-demo", dir);
	put("bundles/cgp-demo/config.json", "{\"annotations\":{\"io.kubernetes.pod.name\":\"ignored-labels-win\","
					    "\"io.kubernetes.cri.image-name\":\"local/busybox:1\"}}");
	char runc_state[PATH_MAX * 2];
	snprintf(runc_state, sizeof(runc_state),
		 "{\"id\":\"cgp-demo\",\"init_process_pid\":4242,\"config\":{\"labels\":["
		 "\"io.kubernetes.container.name=burner\",\"io.kubernetes.pod.name=load-1\","
		 "\"io.kubernetes.pod.namespace=bench\",\"odd-label-without-equals\",\"bundle=%s\"],"
		 "\"cgroups\":{\"path\":\"/cgpulse-test-4242/cgp-demo\"}}}",
		 bundle);
	put("runc/cgp-demo/state.json", runc_state);
	/* runc also has state for the CRI container, as it does under a real containerd */
	put("runc/" CRI_ID "/state.json", "{\"id\":\"" CRI_ID "\",\"config\":{\"labels\":[\"bundle=/nowhere\"]}}");
	/* a truncated file */
	put("containerd/io.containerd.runtime.v2.task/default/" BAD_ID "/config.json", "{\"annotations\":{\"io.");
	return 0;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void expect(const char *got, const char *want)
{
	if (!want)
		assert_null(got);
	else
		assert_string_equal(got ? got : "(null)", want);
}

static void check_read(const char *id, enum cgp_runtime hint, enum cgp_runtime rt, const char *pod, const char *ns,
		       const char *uid, const char *container, const char *image, bool sandbox)
{
	char buf[6][PATH_MAX];
	struct cgp_meta_roots r;
	struct cgp_container_meta m;

	fixture_roots(&r, buf);
	assert_int_equal(cgp_meta_read(&r, id, hint, &m), 0);
	assert_string_equal(cgp_runtime_name(m.runtime), cgp_runtime_name(rt));
	expect(m.pod, pod);
	expect(m.pod_namespace, ns);
	expect(m.pod_uid, uid);
	expect(m.container, container);
	expect(m.image, image);
	assert_int_equal(m.sandbox, sandbox);
	cgp_container_meta_clear(&m);
}

static void test_containerd_cri(void **state)
{
	(void)state;
	check_read(CRI_ID, CGP_RT_UNKNOWN, CGP_RT_CONTAINERD, "checkout-7f9c6d8b5-x2kqz", "shop",
		   "55c6c714-b240-4dec-9a45-57b61696ab6e", "api", "registry.example/shop/checkout:1.4.2", false);
	check_read(CRI_SANDBOX_ID, CGP_RT_CONTAINERD, CGP_RT_CONTAINERD, "checkout-7f9c6d8b5-x2kqz", "shop",
		   "55c6c714-b240-4dec-9a45-57b61696ab6e", NULL, NULL, true);
}

static void test_docker_via_moby(void **state)
{
	(void)state;
	check_read(MOBY_ID, CGP_RT_UNKNOWN, CGP_RT_DOCKER, NULL, NULL, NULL, "redis-cache", "redis:7.2", false);
	check_read(MOBY_ID, CGP_RT_DOCKER, CGP_RT_DOCKER, NULL, NULL, NULL, "redis-cache", "redis:7.2", false);
}

static void test_crio(void **state)
{
	(void)state;
	check_read(CRIO_ID, CGP_RT_CRIO, CGP_RT_CRIO, "kube-proxy-8xk2p", "kube-system",
		   "2ca4a155-3599-498d-bb9d-4446693fa3ea", "kube-proxy", "registry.k8s.io/kube-proxy:v1.28.2", false);
}

static void test_podman(void **state)
{
	(void)state;
	check_read(PODMAN_ID, CGP_RT_PODMAN, CGP_RT_PODMAN, NULL, NULL, NULL, "web", "docker.io/library/nginx:1.25",
		   false);
}

/* labels win over the bundle for a field both name; the bundle fills what the labels lack */
static void test_runc_labels_and_bundle(void **state)
{
	(void)state;
	check_read("cgp-demo", CGP_RT_UNKNOWN, CGP_RT_RUNC, "load-1", "bench", NULL, "burner", "local/busybox:1",
		   false);
}

/* The hint decides between two runtimes that both hold state for one id. */
static void test_hint_order(void **state)
{
	(void)state;
	check_read(CRI_ID, CGP_RT_RUNC, CGP_RT_RUNC, NULL, NULL, NULL, NULL, NULL, false);
}

static void test_errors(void **state)
{
	char buf[6][PATH_MAX];
	struct cgp_meta_roots r;
	struct cgp_container_meta m;
	(void)state;

	fixture_roots(&r, buf);
	assert_int_equal(cgp_meta_read(&r, BAD_ID, CGP_RT_UNKNOWN, &m), -EBADMSG);
	assert_int_equal(cgp_meta_read(&r, "no-such-container", CGP_RT_UNKNOWN, &m), -ENOENT);
	assert_int_equal(cgp_meta_read(&r, "../containerd", CGP_RT_UNKNOWN, &m), -EINVAL);
	assert_int_equal(cgp_meta_read(&r, "..", CGP_RT_UNKNOWN, &m), -EINVAL);
	assert_int_equal(cgp_meta_read(&r, "", CGP_RT_UNKNOWN, &m), -EINVAL);
	assert_null(m.pod);

	/* every source off */
	struct cgp_meta_roots none = {0};
	assert_int_equal(cgp_meta_read(&none, CRI_ID, CGP_RT_UNKNOWN, &m), -ENOENT);
}

static void test_known_id_with_path(void **state)
{
	char buf[6][PATH_MAX];
	struct cgp_meta_roots r;
	struct cgp_container_ref ref;
	enum cgp_runtime rt;
	(void)state;

	fixture_roots(&r, buf);
	assert_true(cgp_meta_known_id(CRI_ID, &r, &rt));
	assert_int_equal(rt, CGP_RT_CONTAINERD);
	assert_true(cgp_meta_known_id(MOBY_ID, &r, &rt));
	assert_int_equal(rt, CGP_RT_DOCKER);
	assert_true(cgp_meta_known_id(CRIO_ID, &r, &rt));
	assert_int_equal(rt, CGP_RT_CRIO);
	assert_true(cgp_meta_known_id("cgp-demo", &r, &rt));
	assert_int_equal(rt, CGP_RT_RUNC);
	assert_false(cgp_meta_known_id("nope", &r, &rt));
	assert_false(cgp_meta_known_id("..", &r, &rt));

	assert_int_equal(cgp_container_path_parse("/cgpulse-test-4242/cgp-demo", cgp_meta_known_id, &r, &ref),
			 CGP_CPATH_CONTAINER);
	assert_string_equal(ref.id, "cgp-demo");
	assert_int_equal(ref.runtime, CGP_RT_RUNC);
	/* a bare id in a custom parent is named by the runtime that holds it */
	assert_int_equal(cgp_container_path_parse("/ci/" MOBY_ID, cgp_meta_known_id, &r, &ref), CGP_CPATH_CONTAINER);
	assert_int_equal(ref.runtime, CGP_RT_DOCKER);
}

static void test_cache_lru_and_retry(void **state)
{
	char buf[6][PATH_MAX];
	struct cgp_meta_roots r;
	struct cgp_meta_cache_stats st;
	(void)state;

	fixture_roots(&r, buf);
	struct cgp_meta_cache *c = cgp_meta_cache_new(&r, 2, UINT64_MAX / 2);
	assert_non_null(c);

	const struct cgp_container_meta *m = cgp_meta_cache_get(c, CRI_ID, CGP_RT_CONTAINERD);
	assert_non_null(m);
	assert_string_equal(m->container, "api");
	assert_non_null(cgp_meta_cache_get(c, CRI_ID, CGP_RT_CONTAINERD));
	cgp_meta_cache_get_stats(c, &st);
	assert_int_equal(st.reads, 1);
	assert_int_equal(st.hits, 1);

	/* a miss is remembered: no second read before the retry time */
	assert_null(cgp_meta_cache_get(c, "late-starter", CGP_RT_UNKNOWN));
	assert_null(cgp_meta_cache_get(c, "late-starter", CGP_RT_UNKNOWN));
	cgp_meta_cache_get_stats(c, &st);
	assert_int_equal(st.reads, 2);
	assert_int_equal(st.misses, 1);

	/* the third id evicts the least recently used (CRI_ID, touched before late-starter) */
	m = cgp_meta_cache_get(c, "cgp-demo", CGP_RT_RUNC);
	assert_non_null(m);
	assert_string_equal(m->pod, "load-1");
	cgp_meta_cache_get_stats(c, &st);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.entries, 2);

	enum cgp_runtime rt = CGP_RT_UNKNOWN;
	assert_true(cgp_meta_cache_known_id("cgp-demo", c, &rt));
	assert_int_equal(rt, CGP_RT_RUNC);
	assert_true(cgp_meta_cache_known_id(CRIO_ID, c, &rt)); /* not cached: falls through to the disk */
	assert_int_equal(rt, CGP_RT_CRIO);

	cgp_meta_cache_forget(c, "cgp-demo");
	cgp_meta_cache_forget(c, "never-seen");
	cgp_meta_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1);
	assert_null(cgp_meta_cache_get(c, "../x", CGP_RT_UNKNOWN));
	cgp_meta_cache_free(c);

	/* retry 0: a container whose state appears after its first event is named on the next lookup */
	c = cgp_meta_cache_new(&r, 4, 0);
	assert_non_null(c);
	assert_null(cgp_meta_cache_get(c, "late-starter", CGP_RT_UNKNOWN));
	put("runc/late-starter/state.json", "{\"config\":{\"labels\":[\"io.kubernetes.container.name=late\"]}}");
	m = cgp_meta_cache_get(c, "late-starter", CGP_RT_UNKNOWN);
	assert_non_null(m);
	assert_string_equal(m->container, "late");
	cgp_meta_cache_free(c);

	assert_null(cgp_meta_cache_new(&r, 0, 0));
}

/* Many ids through a small cache: the bounds hold and every answer is the right one. */
static void test_cache_churn(void **state)
{
	char buf[6][PATH_MAX];
	struct cgp_meta_roots r;
	struct cgp_meta_cache_stats st;
	char id[32];
	(void)state;

	fixture_roots(&r, buf);
	struct cgp_meta_cache *c = cgp_meta_cache_new(&r, 8, UINT64_MAX / 2);
	assert_non_null(c);
	for (int i = 0; i < 200; i++) {
		snprintf(id, sizeof(id), "ghost-%d", i % 13);
		assert_null(cgp_meta_cache_get(c, id, CGP_RT_UNKNOWN));
		if (i % 5 == 0)
			assert_non_null(cgp_meta_cache_get(c, CRIO_ID, CGP_RT_UNKNOWN));
		if (i % 7 == 0)
			cgp_meta_cache_forget(c, id);
	}
	const struct cgp_container_meta *m = cgp_meta_cache_get(c, CRIO_ID, CGP_RT_UNKNOWN);
	assert_non_null(m);
	assert_string_equal(m->container, "kube-proxy");
	cgp_meta_cache_get_stats(c, &st);
	assert_true(st.entries <= 8);
	assert_true(st.evictions > 0);
	cgp_meta_cache_free(c);
}

/* Ids that share a hash key: each is found by comparing it, and evicting or forgetting any one of a chain (its
 * head, middle or tail) leaves the others found. */
static void test_cache_ids_under_one_key(void **state)
{
	char buf[6][PATH_MAX];
	struct cgp_meta_roots r;
	struct cgp_meta_cache_stats st;
	const struct cgp_container_meta *m;
	(void)state;

	fixture_roots(&r, buf);
	struct cgp_meta_cache *c = cgp_meta_cache_new(&r, 3, UINT64_MAX / 2);
	assert_non_null(c);
	/* chain under key 7, newest first: cgp-demo, CRIO_ID, CRI_ID */
	assert_string_equal(get_keyed(c, 7, CRI_ID, CGP_RT_CONTAINERD)->container, "api");
	assert_string_equal(get_keyed(c, 7, CRIO_ID, CGP_RT_UNKNOWN)->container, "kube-proxy");
	assert_string_equal(get_keyed(c, 7, "cgp-demo", CGP_RT_RUNC)->pod, "load-1");
	assert_int_equal(c->ids.len, 1);
	assert_string_equal(get_keyed(c, 7, CRI_ID, CGP_RT_CONTAINERD)->container, "api");
	assert_string_equal(get_keyed(c, 7, CRIO_ID, CGP_RT_UNKNOWN)->container, "kube-proxy");
	assert_string_equal(get_keyed(c, 7, "cgp-demo", CGP_RT_RUNC)->pod, "load-1");
	cgp_meta_cache_get_stats(c, &st);
	assert_int_equal(st.reads, 3);
	assert_int_equal(st.hits, 3);

	/* evict the middle of the chain: CRIO_ID is the least recently used */
	get_keyed(c, 7, CRI_ID, CGP_RT_CONTAINERD);
	get_keyed(c, 7, "cgp-demo", CGP_RT_RUNC);
	assert_null(get_keyed(c, 7, "ghost-1", CGP_RT_UNKNOWN));
	assert_int_equal(find(c, 7, CRIO_ID), NIL);
	assert_int_not_equal(find(c, 7, CRI_ID), NIL);
	assert_int_not_equal(find(c, 7, "cgp-demo"), NIL);
	assert_int_not_equal(find(c, 7, "ghost-1"), NIL);

	/* evict the head: ghost-1, newest in the chain, is the least recently used */
	get_keyed(c, 7, CRI_ID, CGP_RT_CONTAINERD);
	get_keyed(c, 7, "cgp-demo", CGP_RT_RUNC);
	assert_null(get_keyed(c, 7, "ghost-2", CGP_RT_UNKNOWN));
	assert_int_equal(find(c, 7, "ghost-1"), NIL);
	assert_string_equal(get_keyed(c, 7, CRI_ID, CGP_RT_CONTAINERD)->container, "api");
	assert_string_equal(get_keyed(c, 7, "cgp-demo", CGP_RT_RUNC)->pod, "load-1");

	/* evict the tail: CRI_ID, oldest in the chain, for an id under a key of its own */
	get_keyed(c, 7, "ghost-2", CGP_RT_UNKNOWN);
	get_keyed(c, 7, "cgp-demo", CGP_RT_RUNC);
	assert_string_equal(get_keyed(c, 8, CRIO_ID, CGP_RT_UNKNOWN)->container, "kube-proxy");
	assert_int_equal(find(c, 7, CRI_ID), NIL);
	assert_int_equal(c->ids.len, 2);
	cgp_meta_cache_get_stats(c, &st);
	assert_int_equal(st.evictions, 3);
	assert_int_equal(st.entries, 3);
	/* every read was a first sight of its id (ghosts are remembered misses): nothing was read twice */
	assert_int_equal(st.reads, 6);

	/* forget, in chain order ghost-2, cgp-demo: the key leaves the map with its last id */
	forget_keyed(c, 7, "never-seen");
	forget_keyed(c, 7, "cgp-demo");
	m = get_keyed(c, 8, CRIO_ID, CGP_RT_UNKNOWN);
	assert_non_null(m);
	assert_int_equal(find(c, 7, "cgp-demo"), NIL);
	assert_int_not_equal(find(c, 7, "ghost-2"), NIL);
	forget_keyed(c, 7, "ghost-2");
	assert_int_equal(c->ids.len, 1);
	cgp_meta_cache_get_stats(c, &st);
	assert_int_equal(st.entries, 1);
	cgp_meta_cache_free(c);
}

/* ---- names read from the state a real runc and a real containerd wrote ---- */

static bool real_roots(struct cgp_meta_roots *r, char buf[3][PATH_MAX])
{
	const char *env = getenv("CGP_META_ROOTS");
	if (!env || !getenv("CGP_META_EXPECT")) {
		print_message(
		    "skip: CGP_META_ROOTS and CGP_META_EXPECT are set by tests/scripts/test_container_meta.sh, "
		    "which starts real runc and containerd containers\n");
		return false;
	}
	*r = (struct cgp_meta_roots){0};
	const char *keys[] = {"runc=", "containerd=", "namespaces="};
	const char **dst[] = {&r->runc_roots, &r->containerd_state, &r->containerd_namespaces};
	for (int i = 0; i < 3; i++) {
		const char *p = strstr(env, keys[i]);
		buf[i][0] = '\0';
		if (p && (p == env || p[-1] == ' ')) {
			p += strlen(keys[i]);
			size_t n = strcspn(p, " ");
			if (n < PATH_MAX) {
				memcpy(buf[i], p, n);
				buf[i][n] = '\0';
			}
		}
		*dst[i] = buf[i];
	}
	return true;
}

/* One "id|runtime|pid|pod|namespace|container|image" record; an empty field means "not recorded". */
static bool split_record(char *rec, char *f[7])
{
	for (int i = 0; i < 7; i++) {
		f[i] = strsep(&rec, "|");
		if (!f[i])
			return false;
	}
	return rec == NULL;
}

static const char *or_null(const char *s)
{
	return *s ? s : NULL;
}

/* The container's cgroup in every hierarchy → id and runtime → names, the way the agent will go. */
static void check_cgroups(const char *pid, char *f[7], struct cgp_meta_cache *cache)
{
	char path[64], line[4096];
	int lines = 0;

	snprintf(path, sizeof(path), "/proc/%s/cgroup", pid);
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char *cg = strchr(line, ':');
		cg = cg ? strchr(cg + 1, ':') : NULL;
		assert_non_null(cg);
		cg[strcspn(cg, "\n")] = '\0';
		struct cgp_container_ref ref;
		enum cgp_cpath_kind kind = cgp_container_path_parse(cg + 1, cgp_meta_cache_known_id, cache, &ref);
		if (kind != CGP_CPATH_CONTAINER)
			print_message("%s: %s is not a container\n", path, cg + 1);
		assert_int_equal(kind, CGP_CPATH_CONTAINER);
		assert_string_equal(ref.id, f[0]);
		assert_string_equal(cgp_runtime_name(ref.runtime), f[1]);
		const struct cgp_container_meta *cm = cgp_meta_cache_get(cache, ref.id, ref.runtime);
		assert_non_null(cm);
		expect(cm->pod, or_null(f[3]));
		expect(cm->container, or_null(f[5]));
		lines++;
	}
	fclose(fp);
	assert_true(lines > 0);
}

static void test_real_state(void **state)
{
	char buf[3][PATH_MAX];
	struct cgp_meta_roots r;
	char *f[7], *rec;
	int n = 0;
	(void)state;

	if (!real_roots(&r, buf))
		skip();
	char *all = strdup(getenv("CGP_META_EXPECT")), *cursor = all;
	assert_non_null(all);
	struct cgp_meta_cache *cache = cgp_meta_cache_new(&r, 16, 0);
	assert_non_null(cache);

	while ((rec = strsep(&cursor, ";"))) {
		if (!*rec)
			continue;
		assert_true(split_record(rec, f));
		print_message("checking %s container %s (pid %s)\n", f[1], f[0], f[2]);
		struct cgp_container_meta m;
		assert_int_equal(cgp_meta_read(&r, f[0], CGP_RT_UNKNOWN, &m), 0);
		assert_string_equal(cgp_runtime_name(m.runtime), f[1]);
		expect(m.pod, or_null(f[3]));
		expect(m.pod_namespace, or_null(f[4]));
		expect(m.container, or_null(f[5]));
		expect(m.image, or_null(f[6]));
		cgp_container_meta_clear(&m);
		check_cgroups(f[2], f, cache);
		n++;
	}
	assert_true(n > 0);
	cgp_meta_cache_free(cache);
	free(all);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_containerd_cri),
	    cmocka_unit_test(test_docker_via_moby),
	    cmocka_unit_test(test_crio),
	    cmocka_unit_test(test_podman),
	    cmocka_unit_test(test_runc_labels_and_bundle),
	    cmocka_unit_test(test_hint_order),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_known_id_with_path),
	    cmocka_unit_test(test_cache_lru_and_retry),
	    cmocka_unit_test(test_cache_churn),
	    cmocka_unit_test(test_cache_ids_under_one_key),
	    cmocka_unit_test(test_real_state),
	};
	return cmocka_run_group_tests_name("container_meta", tests, setup, teardown);
}
