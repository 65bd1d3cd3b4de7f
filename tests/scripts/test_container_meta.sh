#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Names read from the state files a real runc and a real containerd wrote: starts one container with each (busybox
# rootfs, a memory limit, Kubernetes annotations, a cgroup under /cgpulse-test-meta-<pid>), then runs the
# test_container_meta binary with their state roots so its real_state test goes from each container's
# /proc/<pid>/cgroup to its id, runtime and names.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/containers.sh"

bin=${CGP_BUILD:-build}/tests/test_container_meta
[ -x "$bin" ] || cgp_skip "$bin is not built"
cgp_need_containers
cgp_init
cgp_rootfs || cgp_fail "rootfs"
cgp_cgroup_parent meta
mem=$((64 << 20))

rid=cgp-runc-$$
cgp_runc_start -a io.kubernetes.pod.name=load-7d4c9 -a io.kubernetes.pod.namespace=bench \
	-a io.kubernetes.container.name=burner -a io.kubernetes.pod.uid=0f3c6a2e-5b1d-4e8a-9c47-2d8e61b7a904 \
	"$rid" "$CGP_CGROUP_PARENT/$rid" "$mem" sleep 600 || cgp_fail "runc did not start $rid"
rpid=$CGP_PID

cgp_containerd_start || cgp_fail "containerd did not start"
image=cgpulse.test/busybox:1
cgp_oci_image "$image" || cgp_fail "image import"
cid=cgp-ctr-$$
cgp_ctr_start -a io.kubernetes.cri.container-name=web -a io.kubernetes.cri.sandbox-name=frontend-5d8f7 \
	-a io.kubernetes.cri.sandbox-namespace=shop -a io.kubernetes.cri.container-type=container \
	-a "io.kubernetes.cri.image-name=$image" \
	"$cid" "$CGP_CGROUP_PARENT/$cid" "$mem" "$image" sleep 600 || cgp_fail "ctr did not start $cid"
cpid=$CGP_PID

# the runtimes applied what we asked for, so the containers are the real thing and not a half-started one
for c in "$rid" "$cid"; do
	got=$(cgp_memory_limit "$CGP_CGROUP_PARENT/$c")
	[ "$got" = "$mem" ] || cgp_fail "$c: memory limit $got, want $mem"
done

export CGP_META_ROOTS="runc=$CGP_RUNC_ROOT containerd=$CGP_CONTAINERD_STATE namespaces=$CGP_CTR_NS"
export CGP_META_EXPECT="$rid|runc|$rpid|load-7d4c9|bench|burner|;$cid|containerd|$cpid|frontend-5d8f7|shop|web|$image"
out=$("$bin" 2>&1)
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || cgp_fail "$bin exited $rc"
echo "$out" | grep -q '^\[       OK \] test_real_state' || cgp_fail "test_real_state did not run"
