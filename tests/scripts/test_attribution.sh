#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# One attribution record on every event type: a real runc container, in a Kubernetes pod's cgroup (kubepods,
# burstable, pod UID) with the kubelet's annotations and an image, whose child is OOM-killed while its init
# lives on, then deleted. Every event the agent emits about it - cgroup_started, sample, oom_kill, the
# oom_kill rule's alert, cgroup_stopped - must carry all eight fields (container id, runtime, pod, namespace,
# container name, image, pod UID, QoS class): in the JSON lines, and, decoded from /v1/events by Google's
# protobuf runtime, in the Attribution message and the flat fields alike.
set -u
PY=/usr/bin/python3
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/containers.sh"
cgp_need_containers
for c in curl protoc; do command -v $c >/dev/null || cgp_skip "$c not installed"; done
$PY -c 'import google.protobuf' 2>/dev/null || cgp_skip "python3-protobuf not installed"
B=${CGP_BUILD:-build}/cgpulse
cgp_init
cgp_rootfs || cgp_fail "rootfs"
cgp_cgroup_parent attr
CGP_RUNC_ROOT=$CGP_TMP/runc
mkdir -p "$CGP_RUNC_ROOT" "$CGP_TMP/py"
protoc --proto_path=proto --python_out="$CGP_TMP/py" proto/cgpulse/v1/event.proto || cgp_fail "protoc"

out=$CGP_TMP/agent.out
"$B" run --json --interval 0.5 --no-pin --http 127.0.0.1:0 --runc-root "$CGP_RUNC_ROOT" --containerd-state "" \
	>"$out" 2>"$CGP_TMP/agent.err" &
agent=$!
cgp_defer "kill $agent 2>/dev/null; wait $agent 2>/dev/null"
for i in $(seq 100); do grep -q 'http port [1-9]' "$CGP_TMP/agent.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$CGP_TMP/agent.err")
[ -n "$port" ] || cgp_fail "agent did not start: $(cat "$CGP_TMP/agent.err")"

uid=0b6e9a52-7c1d-4e3f-9a8b-1c2d3e4f5a6b
id=cgp-attr-$$
image=registry.example/shop/indexer:2.1
# the kubelet's cgroupfs layout: kubepods/<qos>/pod<uid>/<container id>
cgpath=$CGP_CGROUP_PARENT/kubepods/burstable/pod$uid/$id
cgp_runc_start -a io.kubernetes.pod.name=search-7c4f -a io.kubernetes.pod.namespace=shop \
	-a io.kubernetes.container.name=indexer -a io.kubernetes.cri.image-name=$image \
	"$id" "$cgpath" $((16 << 20)) sh -c 'sleep 1.5; tail /dev/zero; sleep 600' || cgp_fail "runc $id"
for i in $(seq 80); do grep -q '"type":"oom_kill"' "$out" && break; sleep 0.1; done
grep -q '"type":"oom_kill"' "$out" || cgp_fail "no OOM kill"
sleep 1.2 # samples after the kill, and the alert
runc --root "$CGP_RUNC_ROOT" delete -f "$id"
for i in $(seq 40); do grep -q '"type":"cgroup_stopped"' "$out" && break; sleep 0.1; done
# the whole stream so far: curl ends it after 2 s (exit 28), what arrived is complete events
curl -s --max-time 2 -o "$CGP_TMP/events.pb" "http://127.0.0.1:$port/v1/events?since=0"
kill -TERM "$agent"
wait "$agent"

$PY - "$CGP_TMP/py" "$out" "$CGP_TMP/events.pb" "$id" "$uid" "$image" "$here/../lib" <<'PY' || cgp_fail "attribution"
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[7]]
from cgpulse.v1 import event_pb2 as pb
from delimited import events
out, stream, cid, uid, image = sys.argv[2:7]
WANT = dict(container_id=cid, runtime="runc", pod="search-7c4f", namespace="shop", container_name="indexer",
            image=image, pod_uid=uid, qos_class="burstable")
TYPES = {"cgroup_started", "sample", "oom_kill", "alert", "cgroup_stopped"}

def mine(path):
    return path.endswith("/" + cid)

# JSON lines, the proto's field names
rows = [json.loads(l) for l in open(out) if l.startswith("{")]
seen = set()
for r in rows:
    if r["type"] in TYPES and mine(r.get("path", "")):
        if r["type"] == "sample" and not r.get("pod"):
            continue  # the first sample may come before runc wrote its state: names are read late
        for k, v in WANT.items():
            assert r.get(k) == v, "JSON %s seq %d: %s = %r, want %r" % (r["type"], r["seq"], k, r.get(k), v)
        seen.add(r["type"])
assert seen == TYPES, "JSON: event types with the container's names: %s, want %s" % (sorted(seen), sorted(TYPES))
o = [r for r in rows if r["type"] == "oom_kill" and mine(r["path"])][0]
assert o["container_running"], o

# the same events on the stream, decoded by Google's runtime: one Attribution record, and the flat fields
seen = set()
for ev in events(pb, open(stream, "rb").read(), partial=True):  # cut by curl's timeout
    body = ev.WhichOneof("body")
    if body not in TYPES:
        continue
    msg = getattr(ev, body)
    if not mine(msg.path) or (body == "sample" and not msg.pod):
        continue
    assert msg.HasField("attribution"), "%s seq %d: no Attribution" % (body, ev.seq)
    for k, v in WANT.items():
        assert getattr(msg.attribution, k) == v, "%s seq %d: attribution.%s = %r" % (body, ev.seq, k,
                                                                                   getattr(msg.attribution, k))
        assert getattr(msg, k) == v, "%s seq %d: %s = %r" % (body, ev.seq, k, getattr(msg, k))
    seen.add(body)
assert seen == TYPES, "stream: event types with the Attribution: %s, want %s" % (sorted(seen), sorted(TYPES))
print("# %s: all eight fields on %s, in JSON and in the Attribution message" % (cid, ", ".join(sorted(TYPES))))
PY
echo "attribution: ok"
