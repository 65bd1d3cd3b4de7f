#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Real containers, named from the node alone: runc and containerd (ctr) containers from a busybox rootfs with
# memory limits and Kubernetes annotations, under a cgroup parent of the test's own. The agent must
#  - attribute a CPU burner container's CPU to its container id and names (runc);
#  - report an OOM kill of a container's init (containerd) and of a child whose init lives on (runc, with
#    container_running), each with container id, pod and container name;
#  - still name a container that lived ~200 ms and was OOM-killed, after it is gone.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/containers.sh"
B=${CGP_BUILD:-build}/cgpulse
PY=/usr/bin/python3
cgp_need_containers
cgp_init
cgp_rootfs || cgp_fail "rootfs"
cgp_cgroup_parent ctr
cgp_containerd_start || cgp_fail "containerd did not start"
image=cgpulse.test/busybox:1
cgp_oci_image "$image" || cgp_fail "image import"
CGP_RUNC_ROOT=$CGP_TMP/runc
mkdir -p "$CGP_RUNC_ROOT"

out=$CGP_TMP/agent.out
"$B" run --json --interval 0.5 --no-pin --http 127.0.0.1:0 --runc-root "$CGP_RUNC_ROOT" --containerd-state "$CGP_CONTAINERD_STATE" \
	--containerd-namespaces "$CGP_CTR_NS" > "$out" 2> "$CGP_TMP/agent.err" &
agent=$!
cgp_defer "kill $agent 2>/dev/null; wait $agent 2>/dev/null"
for i in $(seq 100); do grep -q '"type":"sample"' "$out" 2>/dev/null && break; sleep 0.1; done
grep -q '"type":"sample"' "$out" || cgp_fail "agent did not start: $(cat "$CGP_TMP/agent.err")"

k8s() { # POD NS CONTAINER: the annotations the kubelet's CRI puts on a container
	echo "-a io.kubernetes.pod.name=$1 -a io.kubernetes.pod.namespace=$2 -a io.kubernetes.container.name=$3"
}
cri() {
	echo "-a io.kubernetes.cri.sandbox-name=$1 -a io.kubernetes.cri.sandbox-namespace=$2 -a io.kubernetes.cri.container-name=$3 -a io.kubernetes.cri.container-type=container -a io.kubernetes.cri.image-name=$image"
}
mem=$((32 << 20))

# 1. CPU of a burner (runc)
burn=cgp-burn-$$
# shellcheck disable=SC2046
cgp_runc_start $(k8s checkout-7f9c shop api) "$burn" "$CGP_CGROUP_PARENT/$burn" "$mem" sh -c 'while :; do :; done' ||
	cgp_fail "runc $burn"
sleep 2.2
runc --root "$CGP_RUNC_ROOT" kill "$burn" KILL

# 2. init OOM-killed (containerd): tail keeps /dev/zero in memory looking for a newline
init=cgp-oominit-$$
# shellcheck disable=SC2046
cgp_ctr_start $(cri cart-5d8f7 shop cart) "$init" "$CGP_CGROUP_PARENT/$init" $((16 << 20)) "$image" tail /dev/zero ||
	cgp_fail "ctr $init"

# 3. a child OOM-killed, init lives on (runc)
child=cgp-oomchild-$$
# shellcheck disable=SC2046
cgp_runc_start $(k8s search-66b shop indexer) "$child" "$CGP_CGROUP_PARENT/$child" $((16 << 20)) \
	sh -c 'tail /dev/zero; sleep 600' || cgp_fail "runc $child"

# 4. a container that lives ~200 ms: OOM-killed at once, then deleted (its cgroup goes) before we look
brief=cgp-brief-$$
# shellcheck disable=SC2046
cgp_runc_start $(k8s batch-1 jobs oneshot) "$brief" "$CGP_CGROUP_PARENT/$brief" $((8 << 20)) tail /dev/zero ||
	cgp_fail "runc $brief"
for i in $(seq 40); do
	[ "$(runc --root "$CGP_RUNC_ROOT" state "$brief" 2>/dev/null | sed -n 's/.*"status": "\(.*\)".*/\1/p')" = stopped ] && break
	sleep 0.05
done
runc --root "$CGP_RUNC_ROOT" delete -f "$brief"
[ ! -d "/sys/fs/cgroup/memory$CGP_CGROUP_PARENT/$brief" ] || cgp_fail "$brief's cgroup is still there"

for i in $(seq 60); do [ "$(grep -c '"type":"oom_kill"' "$out")" -ge 3 ] && break; sleep 0.1; done
sleep 1
kill -TERM "$agent"; wait "$agent"

$PY - "$out" "$burn" "$init" "$child" "$brief" <<'PY' || cgp_fail "attribution"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
burn, init, child, brief = sys.argv[2:6]
def one(pred, what):
    got = [r for r in rows if pred(r)]
    assert got, "no " + what
    return got
# 1. CPU attributed to the container's id and names
s = one(lambda r: r["type"] == "sample" and r.get("container_id") == burn, "sample of " + burn)
# the first sample may come before runc wrote its state (names are read late); once named, they stay
named = [r for r in s if r.get("pod")]
assert named and named[-1] is s[-1], s[-1]
best = max(named, key=lambda r: r["cpu_cores"])
assert best["runtime"] == "runc" and best["pod"] == "checkout-7f9c" and best["namespace"] == "shop" \
    and best["container_name"] == "api", best
assert best["cpu_cores"] > 0.5, best["cpu_cores"]
print("# burner %s: %.2f cores as pod %s/%s container %s" % (burn[:14], best["cpu_cores"], best["namespace"],
      best["pod"], best["container_name"]))
ooms = {r.get("container_id"): r for r in rows if r["type"] == "oom_kill"}
# 2. init OOM-killed, containerd
o = ooms.get(init)
assert o, "no OOM event for %s: %s" % (init, list(ooms))
assert o["runtime"] == "containerd" and o["pod"] == "cart-5d8f7" and o["namespace"] == "shop" \
    and o["container_name"] == "cart" and o["comm"] == "tail" and not o["container_running"], o
assert o["mem_limit_bytes"] == 16 << 20, o
# 3. child OOM-killed, init alive
o = ooms.get(child)
assert o, "no OOM event for " + child
assert o["pod"] == "search-66b" and o["container_name"] == "indexer" and o["comm"] == "tail", o
assert o["container_running"], o
# 4. short-lived container, already deleted, still named
o = ooms.get(brief)
assert o, "no OOM event for " + brief
assert o["pod"] == "batch-1" and o["namespace"] == "jobs" and o["container_name"] == "oneshot", o
# the default playbook's oom_kill rule fired for the containers, carrying their names
alerts = [r for r in rows if r["type"] == "alert" and r["rule"] == "oom_kill" and r["state"] == "firing"]
assert {a.get("container_id") for a in alerts} >= {init, child, brief}, alerts
for a in alerts:
    assert a.get("pod"), a
for c in (init, child, brief):
    print("# OOM in %s: pod %s container %s running %s" % (c[:16], ooms[c]["pod"], ooms[c]["container_name"],
          ooms[c]["container_running"]))
PY
echo "containers: ok"
