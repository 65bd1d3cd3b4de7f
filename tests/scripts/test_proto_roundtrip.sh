#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Every event type as the agent encodes it, decoded by an independent implementation: Google's protobuf
# runtime (Debian's python3-protobuf) with Python code that protoc generates from the checked-in .proto.
# Also checks the collector protocol's frames (plain batch, zlib batch, ack) and that the JSON form uses the
# proto's field names.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v protoc >/dev/null || { echo "SKIP: protoc not installed"; exit 77; }
$PY -c 'import google.protobuf' 2>/dev/null || { echo "SKIP: python3-protobuf not installed"; exit 77; }
[ -x "$B/cgpulse-encode-samples" ] || fail "$B/cgpulse-encode-samples not built"

mkdir -p "$tmp/py" "$tmp/out"
protoc --proto_path=proto --python_out="$tmp/py" proto/cgpulse/v1/event.proto || fail "protoc"
timeout 10 "$B/cgpulse-encode-samples" "$tmp/out" || fail "encoder exit $?"

timeout 30 $PY - "$tmp/py" "$tmp/out" "$PWD/tests/lib" <<'PY' || fail "independent decode"
import json, sys, zlib
sys.path[:0] = [sys.argv[1], sys.argv[3]]
from cgpulse.v1 import event_pb2 as pb
from delimited import messages as delimited
out = sys.argv[2]

NODE, INST = "node-1", "5f0c3a1e9d2b4c6a8e7f1029384756ab"
ATTR = dict(container_id="3f4e5d6c7b8a99887766554433221100ffeeddccbbaa99887766554433221100",
            runtime="containerd", pod="web-7d9f8-abcde", namespace="shop", container_name="nginx",
            pod_uid="0b6e9a52-7c1d-4e3f-9a8b-1c2d3e4f5a6b", qos_class="burstable",
            image="registry.example/shop/nginx:1.25")
WEB = "/kubepods.slice/kubepods-burstable.slice/web.scope"
NOATTR = {k: "" for k in ATTR}
PREV = "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6"
# (seq, ts_ns, body name, body fields) as tools/cgpulse-encode-samples.c wrote them
EXPECT = [
    (1, 1700000000123456789, "sample", dict(
        cgroup_id=4026531835, path=WEB, window_s=1.0, cpu_ns_total=987654321012, cpu_ns_window=750000000,
        cpu_cores=0.75, voluntary_switches=1000, involuntary_switches=20, runq_waits_window=321,
        runq_p50_us=3.5, runq_p99_us=812.25, has_mem=True, mem_bytes=104857600, mem_limit_bytes=268435456,
        oom_kills=2, reclaim_ns_total=5555, reclaims_total=7,
        runq_hist_window=[100, 0, 5, 200, 0, 0, 0, 0, 0, 0, 21],
        has_mem_stat=True, mem_working_set_bytes=73400320, mem_inactive_file_bytes=31457280,
        mem_anon_bytes=62914560, mem_file_bytes=41943040, has_swap=True, mem_swap_bytes=4096,
        has_mem_events=True, mem_events_max=17, mem_events_oom=3, has_mem_events_high=True, mem_events_high=5,
        has_mem_events_oom_group_kill=False, mem_events_oom_group_kill=0,
        has_cpu_bandwidth=True, cpu_periods=1200, cpu_throttled_periods=300, cpu_throttled_ns=4500000000,
        cpu_periods_window=10, cpu_throttled_periods_window=6, cpu_throttled_ns_window=120000000,
        has_cpu_user_system=True, cpu_user_ns=900000000000, cpu_system_ns=87654321012,
        has_psi=True, psi_cpu_some_ns=11000, psi_cpu_full_ns=22000, psi_memory_some_ns=33000,
        psi_memory_full_ns=44000, psi_io_some_ns=55000, psi_io_full_ns=66000, has_kernel_windows=True,
        mem_working_set_pct=27.34375, cpu_throttled_pct=60.0, psi_cpu_some_pct=12.5, psi_memory_some_pct=3.25,
        psi_memory_full_pct=1.5, psi_io_some_pct=0.0, **ATTR)),
    (2, 1700000001000000000, "sample", dict(
        cgroup_id=1, path="/odd-??-name", window_s=0.5, has_mem=False, mem_bytes=0, runq_hist_window=[],
        **NOATTR)),
    (3, 1700000002000000000, "oom_kill", dict(
        cgroup_id=4026531900, path="/test/oom", memcg_id=31, pid=4242, tgid=4240, comm="stress-ng-vm-wk",
        rss_anon_bytes=20971520, rss_file_bytes=4096, rss_shmem_bytes=8192, pgtables_bytes=65536,
        oom_score_adj=-999, **ATTR)),
    (4, 1700000300000000000, "alert", dict(
        cgroup_id=4026531835, path=WEB, rule="cpu_critical", severity=pb.SEVERITY_CRITICAL,
        state=pb.ALERT_STATE_FIRING, metric="cpu_pct", value=97.5, threshold=95.0, held_ns=300000000000,
        limit=1.0, limit_kind=pb.LIMIT_KIND_CGROUP, evidence=[96.0, 97.0, 97.5],
        action="scale up CPU (limit 1.0 -> 2.0) or scale out", runbook="https://runbooks.example/cpu",
        recommended_limit=2.0, reason="threshold", **ATTR)),
    (5, 1700000003000000000, "cgroup_started", dict(cgroup_id=4026532000, path="/kubepods.slice/new.scope", **ATTR)),
    (6, 1700000004000000000, "cgroup_stopped", dict(cgroup_id=4026532000, path="/kubepods.slice/new.scope", **ATTR)),
    (0, 1700000005000000000, "gap", dict(first_missed_seq=100, last_missed_seq=149, missed=50)),
    (41, 1700000006000000000, "dropped", dict(samples_dropped=10, others_dropped=1, first_dropped_seq=7,
                                              last_dropped_seq=40, reason="spool_full", dropped_instance_id=PREV)),
    (42, 1700000007000000000, "agent_started", dict(
        version="1.2.3", kernel="6.18.0", cgroup_mode="hybrid", programs_attached=["cgp_switch", "cgp_oom_victim"],
        programs_skipped=["cgp_reclaim_in/out: no vmscan memcg reclaim tracepoints"], max_cgroups=8192,
        previous_instance_id=PREV, previous_last_seq=24, previous_acked_seq=9, previous_handed_over=False,
        spool_replayed=3, spool_corrupt_records=1)),
]

def check_events(events, where):
    assert len(events) == len(EXPECT), "%s: %d events, want %d" % (where, len(events), len(EXPECT))
    for ev, (seq, ts, body, fields) in zip(events, EXPECT):
        what = "%s seq %d %s" % (where, seq, body)
        assert ev.node == NODE and ev.instance_id == INST, what + ": envelope"
        assert ev.seq == seq and ev.ts_ns == ts, what + ": seq/ts_ns %d/%d" % (ev.seq, ev.ts_ns)
        assert ev.WhichOneof("body") == body, what + ": body is " + str(ev.WhichOneof("body"))
        msg = getattr(ev, body)
        for k, want in fields.items():
            got = getattr(msg, k)
            if not isinstance(want, (int, float, str, bool)):
                got = list(got)
            assert got == want, "%s: %s = %r, want %r" % (what, k, got, want)
        # the one attribution record: every event that names a cgroup carries it whole, or none at all
        if "container_id" in fields:
            want = {k: v for k, v in fields.items() if k in ATTR}
            if any(want.values()):
                assert msg.HasField("attribution"), what + ": no attribution"
                for k, v in want.items():
                    assert getattr(msg.attribution, k) == v, "%s: attribution.%s = %r, want %r" % (
                        what, k, getattr(msg.attribution, k), v)
            else:
                assert not msg.HasField("attribution"), what + ": attribution on a cgroup that is nobody's"

# delimited Events, as GET /v1/events and a collector's .pb file carry them
events = []
for raw in delimited(open(out + "/events.pb", "rb").read()):
    ev = pb.Event()
    ev.ParseFromString(raw)
    assert ev.SerializeToString() == raw, "Google's runtime re-encodes seq %d differently" % ev.seq
    events.append(ev)
check_events(events, "events.pb")

# the collector protocol: Frame{batch}, Frame{batch_zlib}, Frame{ack}
frames = [pb.Frame.FromString(f) for f in delimited(open(out + "/frames.bin", "rb").read())]
assert [f.WhichOneof("kind") for f in frames] == ["batch", "batch_zlib", "ack"], "frame kinds"
check_events(list(frames[0].batch.events), "plain batch")
assert frames[0].batch.instance_id == INST and frames[0].batch.base_seq == 1, "batch header"
zb = pb.Batch.FromString(zlib.decompress(frames[1].batch_zlib))
check_events(list(zb.events), "zlib batch")
assert zb.instance_id == INST
assert frames[2].ack.instance_id == INST and frames[2].ack.acked_seq == 42, "ack"

# JSON lines: same events, and every key is the envelope's or a field of the body, by the same name
ENVELOPE = {"type", "node", "instance_id", "seq", "ts_ns"}
# which has_ flag says whether a JSON key may be null (the JSON form has no has_ keys: null says it)
PRESENCE = dict({k: "has_mem" for k in ("mem_bytes", "mem_limit_bytes", "oom_kills")},
                **{k: "has_mem_stat" for k in ("mem_working_set_bytes", "mem_inactive_file_bytes", "mem_anon_bytes",
                                               "mem_file_bytes")},
                mem_swap_bytes="has_swap", mem_events_max="has_mem_events", mem_events_oom="has_mem_events",
                mem_events_high="has_mem_events_high", mem_events_oom_group_kill="has_mem_events_oom_group_kill",
                **{k: "has_cpu_bandwidth" for k in ("cpu_periods", "cpu_throttled_periods", "cpu_throttled_ns")},
                **{k: ("has_cpu_bandwidth", "has_kernel_windows") for k in ("cpu_periods_window",
                                                                            "cpu_throttled_periods_window",
                                                                            "cpu_throttled_ns_window",
                                                                            "cpu_throttled_pct")},
                cpu_user_ns="has_cpu_user_system", cpu_system_ns="has_cpu_user_system",
                **{"psi_%s_%s_ns" % (r, k): "has_psi" for r in ("cpu", "memory", "io") for k in ("some", "full")},
                mem_working_set_pct="has_mem_stat",
                **{k: ("has_psi", "has_kernel_windows") for k in ("psi_cpu_some_pct", "psi_memory_some_pct",
                                                                  "psi_memory_full_pct", "psi_io_some_pct")})
lines = [json.loads(l) for l in open(out + "/events.jsonl")]
assert len(lines) == len(EXPECT)
for j, ev, (seq, ts, body, fields) in zip(lines, events, EXPECT):
    assert j["type"] == body and j["seq"] == seq and j["ts_ns"] == ts and j["instance_id"] == INST
    names = set(getattr(pb, {"oom_kill": "OomKill", "cgroup_started": "CgroupStarted", "cgroup_stopped": "CgroupStopped",
                             "agent_started": "AgentStarted"}.get(body, body.capitalize())).DESCRIPTOR.fields_by_name)
    extra = set(j) - ENVELOPE - names
    assert not extra, "%s: JSON keys not in the proto: %s" % (body, extra)
    msg = getattr(ev, body)
    for k in set(j) - ENVELOPE:
        v = getattr(msg, k)
        if k in ("severity", "state", "limit_kind"):
            v = pb.DESCRIPTOR.enum_types_by_name[{"severity": "Severity", "state": "AlertState",
                                                  "limit_kind": "LimitKind"}[k]].values_by_number[v].name
            assert v.lower().endswith("_" + j[k]), "%s: %s %s vs %s" % (body, k, v, j[k])
            continue
        if j[k] is None:
            # null only for a figure whose presence flags say the kernel lacks it (any one of them false)
            flags = PRESENCE[k] if isinstance(PRESENCE[k], tuple) else (PRESENCE[k],)
            assert body == "sample" and not all(getattr(msg, f) for f in flags), "%s: %s is null" % (body, k)
            continue
        if not isinstance(j[k], (int, float, str)):
            v = list(v)
        assert j[k] == v, "%s: JSON %s = %r, proto %r" % (body, k, j[k], v)
print("decoded %d events (delimited, plain batch, zlib batch) and the ack with Google's runtime" % len(events))
PY
echo "PASS"
