// SPDX-License-Identifier: GPL-2.0
/* Table of real cgroup paths, one test per row, for every layout Docker, containerd (CRI, ctr, nerdctl), CRI-O,
 * podman and runc make with the systemd and cgroupfs drivers. Ids and pod UIDs are taken from paths people posted
 * from real nodes (GitHub issues of kubernetes/minikube, containerd/containerd #4900, netdata/netdata #4868,
 * kontena/pharos-cluster #440, containerd/cri #290) so the shapes are the runtimes' own, not our guess. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "names/container_path.h"

#define ID_DOCKER_DEB  "4f797c539e6c745de61a93ca3ff892358ecbcaccd8414d5db545c38428142970"
#define ID_DOCKER_EL   "9ec39b91f3d70e1beff50a308f77067065ea6be0d91a3378375056cd4422cf3d"
#define ID_KIND_NODE   "d6701ec289c56e4391acb11d07474b3139466857a305490575508a8b7a9fcf22"
#define ID_SHIM	       "abddff03dfd7710c79a750ce3e730365cbb2c8247a974170c1062683bc3e9152"
#define ID_CRI	       "2032491dcae31e6746f47daa0ac74564f2843a1bd847c5e6c4eb501ca132ac36"
#define ID_CRI_STATIC  "2884d57c0e100d7a9a2f9487ce0bc2986bca3430e988af7a4865aff061f51ac5"
#define ID_CRI_FS      "ee8247ebce1c2d2a855e27e5de33b61c385f92ecbfb32387aabc9eb56c47b7e7"
#define ID_CRIO	       "0ba8ac17e4e7a31fb82279503552fe94e64bab4745bf6fd2ff231e7c8ca8bed0"
#define ID_CRIO2       "358607a37e7ada357032e7f5729c9ae6a3efdb7962acbcbe47ff6a3c5506cb1c"
#define ID_CRICTL      "0e768f8db752fcd648adb264498daa1d8f31562320e881d6a9ec593d24b1f779"
#define ID_PODMAN      ID_CRICTL /* podman's ids have the same shape */
#define ID_MOBY_PARENT "7dea796eb5d6826a85978fa316612874aa3d576ac576495bed83d77fbc9dc744"

#define UID_SHIM_SD "9692aa0e_748e_11e8_8dfa_76d458035df6"
#define UID_SHIM    "9692aa0e-748e-11e8-8dfa-76d458035df6"
#define UID_CRI_SD  "55c6c714_b240_4dec_9a45_57b61696ab6e"
#define UID_CRI	    "55c6c714-b240-4dec-9a45-57b61696ab6e"
#define UID_STATIC  "8daa50c3a64c9ff60bb9eab7b44b56fd"
#define UID_FS	    "7e44ee88-1e65-4a16-8cdf-9a90c819180e"
#define UID_CRIO_SD "2ca4a155_3599_498d_bb9d_4446693fa3ea"
#define UID_CRIO    "2ca4a155-3599-498d-bb9d-4446693fa3ea"

#define BURSTABLE_SD  "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
#define BESTEFFORT_SD "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"

struct row {
	const char *name;
	const char *path;
	enum cgp_cpath_kind kind;
	enum cgp_runtime rt;
	const char *id;
	const char *pod_uid;
	enum cgp_qos qos;
	const char *cgroup;  /* the container's (or pod's) own cgroup; NULL: the whole path */
	int max_known_calls; /* -1: don't care */
};

#define C CGP_CPATH_CONTAINER
#define M CGP_CPATH_MONITOR
#define P CGP_CPATH_POD
#define N CGP_CPATH_NONE

static const struct row rows[] = {
    /* Docker, cgroupfs driver (Debian default on v1) and systemd driver (EL, and every v2 distro) */
    {"docker_cgroupfs", "/docker/" ID_DOCKER_DEB, C, CGP_RT_DOCKER, ID_DOCKER_DEB, "", 0, NULL, -1},
    {"docker_systemd", "/system.slice/docker-" ID_DOCKER_EL ".scope", C, CGP_RT_DOCKER, ID_DOCKER_EL, "", 0, NULL, 0},
    {"docker_systemd_payload_child", "/system.slice/docker-" ID_DOCKER_EL ".scope/init.scope", C, CGP_RT_DOCKER,
     ID_DOCKER_EL, "", 0, "/system.slice/docker-" ID_DOCKER_EL ".scope", 0},
    {"docker_in_docker", "/docker/" ID_KIND_NODE "/docker/" ID_DOCKER_DEB, C, CGP_RT_DOCKER, ID_DOCKER_DEB, "", 0, NULL,
     -1},
    {"docker_rootless_v2", "/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" ID_DOCKER_EL ".scope", C,
     CGP_RT_DOCKER, ID_DOCKER_EL, "", 0, NULL, 0},
    {"docker_custom_parent_known", "/ci-jobs/" ID_MOBY_PARENT, C, CGP_RT_DOCKER, ID_MOBY_PARENT, "", 0, NULL, -1},
    {"bare_hex_custom_parent_unknown", "/ci-jobs/" ID_DOCKER_DEB, C, CGP_RT_UNKNOWN, ID_DOCKER_DEB, "", 0, NULL, -1},

    /* Kubernetes with dockershim / cri-dockerd, systemd driver */
    {"k8s_docker_systemd_besteffort", BESTEFFORT_SD UID_SHIM_SD ".slice/docker-" ID_SHIM ".scope", C, CGP_RT_DOCKER,
     ID_SHIM, UID_SHIM, CGP_QOS_BESTEFFORT, NULL, 0},

    /* containerd CRI, systemd driver */
    {"cri_containerd_systemd_burstable", BURSTABLE_SD UID_CRI_SD ".slice/cri-containerd-" ID_CRI ".scope", C,
     CGP_RT_CONTAINERD, ID_CRI, UID_CRI, CGP_QOS_BURSTABLE, NULL, 0},
    {"cri_containerd_systemd_static_pod", BURSTABLE_SD UID_STATIC ".slice/cri-containerd-" ID_CRI_STATIC ".scope", C,
     CGP_RT_CONTAINERD, ID_CRI_STATIC, UID_STATIC, CGP_QOS_BURSTABLE, NULL, 0},
    {"cri_containerd_systemd_guaranteed",
     "/kubepods.slice/kubepods-pod" UID_CRI_SD ".slice/cri-containerd-" ID_CRI ".scope", C, CGP_RT_CONTAINERD, ID_CRI,
     UID_CRI, CGP_QOS_GUARANTEED, NULL, 0},
    {"cri_containerd_kind_cgroup_root",
     "/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
     "kubelet-kubepods-besteffort-pod" UID_CRI_SD ".slice/cri-containerd-" ID_CRI ".scope",
     C, CGP_RT_CONTAINERD, ID_CRI, UID_CRI, CGP_QOS_BESTEFFORT, NULL, 0},
    {"cri_containerd_parent_given_by_crictl", "/system.slice/system-getty.slice/cri-containerd-" ID_CRICTL ".scope", C,
     CGP_RT_CONTAINERD, ID_CRICTL, "", 0, NULL, 0},
    /* containerd's cgroupfs driver handed the kubelet's systemd parent: runc's notation becomes a directory */
    {"cri_containerd_driver_mismatch",
     "/system.slice/containerd.service/kubepods-besteffort-pod" UID_CRI_SD ".slice:cri-containerd:" ID_CRI, C,
     CGP_RT_CONTAINERD, ID_CRI, UID_CRI, CGP_QOS_BESTEFFORT, NULL, 0},

    /* containerd CRI, cgroupfs driver (k3s, kubeadm on v1 before 1.22) */
    {"cri_containerd_cgroupfs_burstable", "/kubepods/burstable/pod" UID_FS "/" ID_CRI_FS, C, CGP_RT_CONTAINERD,
     ID_CRI_FS, UID_FS, CGP_QOS_BURSTABLE, NULL, -1},
    {"cri_containerd_cgroupfs_guaranteed", "/kubepods/pod" UID_FS "/" ID_CRI_FS, C, CGP_RT_CONTAINERD, ID_CRI_FS,
     UID_FS, CGP_QOS_GUARANTEED, NULL, -1},
    {"cri_containerd_cgroupfs_besteffort", "/kubepods/besteffort/pod" UID_FS "/" ID_CRI_FS, C, CGP_RT_CONTAINERD,
     ID_CRI_FS, UID_FS, CGP_QOS_BESTEFFORT, NULL, -1},
    {"cri_containerd_cgroupfs_kind_root", "/kubelet/kubepods/burstable/pod" UID_FS "/" ID_CRI_FS, C, CGP_RT_CONTAINERD,
     ID_CRI_FS, UID_FS, CGP_QOS_BURSTABLE, NULL, -1},
    {"cri_containerd_cgroupfs_sloppy_slashes", "//kubepods/burstable//pod" UID_FS "/" ID_CRI_FS "/", C,
     CGP_RT_CONTAINERD, ID_CRI_FS, UID_FS, CGP_QOS_BURSTABLE, "//kubepods/burstable//pod" UID_FS "/" ID_CRI_FS, -1},

    /* CRI-O, systemd driver; the node itself a Docker container (minikube), so the deepest match must win */
    {"crio_systemd_in_docker_node", "/docker/" ID_KIND_NODE BESTEFFORT_SD UID_CRIO_SD ".slice/crio-" ID_CRIO2 ".scope",
     C, CGP_RT_CRIO, ID_CRIO2, UID_CRIO, CGP_QOS_BESTEFFORT, NULL, 0},
    {"kind_node_in_a_pod", "/kubepods/burstable/pod" UID_FS "/" ID_CRI_FS BESTEFFORT_SD UID_CRIO_SD ".slice", P,
     CGP_RT_UNKNOWN, "", UID_CRIO, CGP_QOS_BESTEFFORT, NULL, 0},
    {"crio_systemd", BESTEFFORT_SD UID_CRIO_SD ".slice/crio-" ID_CRIO ".scope", C, CGP_RT_CRIO, ID_CRIO, UID_CRIO,
     CGP_QOS_BESTEFFORT, NULL, 0},
    {"crio_systemd_conmon", BESTEFFORT_SD UID_CRIO_SD ".slice/crio-conmon-" ID_CRIO ".scope", M, CGP_RT_CRIO, ID_CRIO,
     UID_CRIO, CGP_QOS_BESTEFFORT, NULL, 0},
    {"crio_systemd_crun_child", BESTEFFORT_SD UID_CRIO_SD ".slice/crio-" ID_CRIO ".scope/container", C, CGP_RT_CRIO,
     ID_CRIO, UID_CRIO, CGP_QOS_BESTEFFORT, BESTEFFORT_SD UID_CRIO_SD ".slice/crio-" ID_CRIO ".scope", -1},
    /* the sandbox cgroup CRI-O makes cgroupfs-style inside a systemd pod slice */
    {"crio_systemd_sandbox_dir", BESTEFFORT_SD UID_CRIO_SD ".slice/crio-" ID_CRIO2, C, CGP_RT_CRIO, ID_CRIO2, UID_CRIO,
     CGP_QOS_BESTEFFORT, NULL, 0},
    {"crio_cgroupfs", "/kubepods/burstable/pod" UID_FS "/crio-" ID_CRIO, C, CGP_RT_CRIO, ID_CRIO, UID_FS,
     CGP_QOS_BURSTABLE, NULL, 0},
    {"crio_cgroupfs_conmon", "/kubepods/burstable/pod" UID_FS "/crio-conmon-" ID_CRIO, M, CGP_RT_CRIO, ID_CRIO, UID_FS,
     CGP_QOS_BURSTABLE, NULL, 0},
    {"crio_cgroupfs_default_parent", "/crio/crio-" ID_CRIO, C, CGP_RT_CRIO, ID_CRIO, "", 0, NULL, 0},

    /* podman */
    {"podman_systemd", "/machine.slice/libpod-" ID_PODMAN ".scope", C, CGP_RT_PODMAN, ID_PODMAN, "", 0, NULL, 0},
    {"podman_systemd_conmon", "/machine.slice/libpod-conmon-" ID_PODMAN ".scope", M, CGP_RT_PODMAN, ID_PODMAN, "", 0,
     NULL, 0},
    {"podman_split_payload", "/machine.slice/libpod-" ID_PODMAN ".scope/container", C, CGP_RT_PODMAN, ID_PODMAN, "", 0,
     "/machine.slice/libpod-" ID_PODMAN ".scope", -1},
    {"podman_pod", "/machine.slice/machine-libpod_pod_" ID_CRIO ".slice/libpod-" ID_PODMAN ".scope", C, CGP_RT_PODMAN,
     ID_PODMAN, "", 0, NULL, 0},
    {"podman_cgroupfs", "/libpod_parent/libpod-" ID_PODMAN, C, CGP_RT_PODMAN, ID_PODMAN, "", 0, NULL, 0},
    {"podman_rootless", "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_PODMAN ".scope", C,
     CGP_RT_PODMAN, ID_PODMAN, "", 0, NULL, 0},

    /* nerdctl (containerd) and runc with the systemd driver: prefix from "slice:prefix:id" */
    {"nerdctl_systemd", "/system.slice/nerdctl-" ID_CRI ".scope", C, CGP_RT_CONTAINERD, ID_CRI, "", 0, NULL, 0},
    {"runc_systemd", "/system.slice/runc-cgp-demo.scope", C, CGP_RT_RUNC, "cgp-demo", "", 0, NULL, 0},

    /* plain runc and ctr with a parent of their own: only the runtime's state knows the id */
    {"runc_own_parent", "/cgpulse-test-4242/cgp-demo", C, CGP_RT_RUNC, "cgp-demo", "", 0, NULL, -1},
    {"runc_own_parent_child_cgroup", "/cgpulse-test-4242/cgp-demo/worker", C, CGP_RT_RUNC, "cgp-demo", "", 0,
     "/cgpulse-test-4242/cgp-demo", -1},
    {"ctr_run_cgroup_flag", "/cgpulse-test-4242/ctr-web", C, CGP_RT_CONTAINERD, "ctr-web", "", 0, NULL, -1},
    {"ctr_run_default_parent", "/default/ctr-web", C, CGP_RT_CONTAINERD, "ctr-web", "", 0, NULL, -1},
    {"unknown_name_own_parent", "/cgpulse-test-4242/not-a-container", N, CGP_RT_UNKNOWN, "", "", 0, NULL, -1},

    /* not containers */
    {"root", "/", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"empty", "", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"systemd_service", "/system.slice/containerd.service", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"user_session", "/user.slice/user-0.slice/session-3.scope", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"init_scope", "/init.scope", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"kubepods_root", "/kubepods.slice", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"qos_slice", "/kubepods.slice/kubepods-burstable.slice", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"qos_cgroupfs", "/kubepods/besteffort", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"docker_parent_alone", "/docker", N, CGP_RT_UNKNOWN, "", "", 0, NULL, -1},
    {"docker_scope_short_id", "/system.slice/docker-4f797c539e6c.scope", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 0},
    {"pod_cgroup_systemd", BURSTABLE_SD UID_CRI_SD ".slice", P, CGP_RT_UNKNOWN, "", UID_CRI, CGP_QOS_BURSTABLE, NULL,
     0},
    {"pod_cgroup_cgroupfs", "/kubepods/pod" UID_FS, P, CGP_RT_UNKNOWN, "", UID_FS, CGP_QOS_GUARANTEED, NULL, 0},
    {"pod_bad_uid", "/kubepods/burstable/podnot-a-uid/" ID_CRI_FS, C, CGP_RT_CONTAINERD, ID_CRI_FS, "", 0, NULL, -1},
    {"podcast_is_not_a_pod", "/podcast/pod" UID_FS, N, CGP_RT_UNKNOWN, "", "", 0, NULL, -1},
    {"traversal_is_not_an_id", "/cgpulse-test-4242/..", N, CGP_RT_UNKNOWN, "", "", 0, NULL, 1},
};

static int known_calls;

/* Stands in for the runtimes' state directories: what runc, ctr and Docker's containerd namespace hold. */
static bool fake_known(const char *id, void *arg, enum cgp_runtime *rt)
{
	(void)arg;
	known_calls++;
	if (strcmp(id, "cgp-demo") == 0)
		*rt = CGP_RT_RUNC;
	else if (strcmp(id, "ctr-web") == 0)
		*rt = CGP_RT_CONTAINERD;
	else if (strcmp(id, ID_MOBY_PARENT) == 0)
		*rt = CGP_RT_DOCKER;
	else
		return false;
	return true;
}

static void test_row(void **state)
{
	const struct row *r = *state;
	struct cgp_container_ref ref;

	known_calls = 0;
	enum cgp_cpath_kind kind = cgp_container_path_parse(r->path, fake_known, NULL, &ref);
	assert_int_equal(kind, r->kind);
	assert_int_equal(ref.kind, r->kind);
	assert_string_equal(cgp_runtime_name(ref.runtime), cgp_runtime_name(r->rt));
	assert_string_equal(ref.id, r->id);
	assert_string_equal(ref.pod_uid, r->pod_uid);
	assert_string_equal(cgp_qos_name(ref.qos), cgp_qos_name(r->qos));
	if (r->kind == N) {
		assert_int_equal(ref.cgroup_len, 0);
	} else {
		const char *own = r->cgroup ? r->cgroup : r->path;
		assert_int_equal(ref.cgroup_len, strlen(own));
		assert_memory_equal(r->path, own, ref.cgroup_len);
	}
	if (r->max_known_calls >= 0)
		assert_true(known_calls <= r->max_known_calls);
}

/* Layouts without a runtime prefix need the predicate; without one they are not containers, except a bare
 * 64-hex id, which no other software names a cgroup with. */
static void test_no_predicate(void **state)
{
	struct cgp_container_ref ref;
	(void)state;

	assert_int_equal(cgp_container_path_parse("/cgpulse-test-4242/cgp-demo", NULL, NULL, &ref), N);
	assert_int_equal(cgp_container_path_parse("/docker/" ID_DOCKER_DEB, NULL, NULL, &ref), C);
	assert_int_equal(ref.runtime, CGP_RT_DOCKER);
	assert_int_equal(cgp_container_path_parse(NULL, NULL, NULL, &ref), N);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(cgp_runtime_name(CGP_RT_CRIO), "cri-o");
	assert_string_equal(cgp_runtime_name(CGP_RT_UNKNOWN), "");
	assert_string_equal(cgp_qos_name(CGP_QOS_BESTEFFORT), "besteffort");
	assert_string_equal(cgp_qos_name(CGP_QOS_NONE), "");
}

/* A path deeper than any runtime makes is refused rather than half-parsed. */
static void test_too_deep(void **state)
{
	struct cgp_container_ref ref;
	size_t n = 300;
	char *p = malloc(n * 2 + 80);
	(void)state;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		memcpy(p + 2 * i, "/a", 2);
	strcpy(p + 2 * n, "/docker-" ID_DOCKER_EL ".scope");
	assert_int_equal(cgp_container_path_parse(p, NULL, NULL, &ref), N);
	free(p);
}

int main(void)
{
	enum { NROWS = sizeof(rows) / sizeof(rows[0]) };
	struct CMUnitTest tests[NROWS + 3];

	for (size_t i = 0; i < NROWS; i++)
		tests[i] =
		    (struct CMUnitTest){.name = rows[i].name, .test_func = test_row, .initial_state = (void *)&rows[i]};
	tests[NROWS] = (struct CMUnitTest)cmocka_unit_test(test_no_predicate);
	tests[NROWS + 1] = (struct CMUnitTest)cmocka_unit_test(test_names);
	tests[NROWS + 2] = (struct CMUnitTest)cmocka_unit_test(test_too_deep);
	return _cmocka_run_group_tests("container_path", tests, NROWS + 3, NULL, NULL);
}
