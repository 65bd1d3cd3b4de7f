#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The real agent's HTTP endpoint, read by real clients: /healthz, /metrics through `promtool check metrics`,
# /v1/events streamed by curl and decoded by Google's protobuf runtime, resumed with since=, and a consumer that
# reads at 1 KiB/s while the agent keeps sampling at full rate (counts, not times).
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}/cgpulse
PY=/usr/bin/python3
tmp=$(mktemp -d)
agent= slow=
cleanup() {
	[ -n "$slow" ] && kill "$slow" 2>/dev/null
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/err" | tail -5; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v promtool > /dev/null || { echo "SKIP: no promtool"; exit 77; }

$B run --interval 0.2 --no-pin --http 127.0.0.1:0 > /dev/null 2> "$tmp/err" &
agent=$!
for i in $(seq 100); do grep -q 'http port [1-9]' "$tmp/err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$tmp/err")
[ -n "$port" ] && [ "$port" -gt 0 ] || fail "no http port"
url=http://127.0.0.1:$port
sleep 1

[ "$(curl -s -o "$tmp/health" -w '%{http_code}' "$url/healthz")" = 200 ] || fail "/healthz not 200"
grep -q '^attached: .*cgp_switch' "$tmp/health" || fail "/healthz does not say what is attached: $(cat "$tmp/health")"
grep -q '^skipped: ' "$tmp/health" || fail "/healthz does not say what was skipped"
curl -sf "$url/metrics" > "$tmp/metrics" || fail "/metrics"
promtool check metrics < "$tmp/metrics" || fail "promtool check metrics"
for m in cgpulse_cgroup_cpu_seconds_total cgpulse_cgroup_memory_bytes cgpulse_sweep_duration_seconds_count cgpulse_events_published_total; do
	grep -q "^$m" "$tmp/metrics" || fail "/metrics has no $m"
done
grep -q '^cgpulse_cgroup_cpu_seconds_total{.*path="/"' "$tmp/metrics" || fail "no root cgroup in /metrics"

# a slow consumer attached for the rest of the test
curl -s -N --limit-rate 1k "$url/v1/events?since=0" -o "$tmp/slow" &
slow=$!
sweeps0=$(sed -n 's/^cgpulse_sweep_duration_seconds_count \([0-9]*\).*/\1/p' "$tmp/metrics")

# the stream decodes with Google's runtime, and since= resumes right after the given seq
protoc --proto_path=proto --python_out="$tmp" proto/cgpulse/v1/event.proto || fail "protoc"
# side by side: on a node with many cgroups the ring turns over within seconds, and each answer is checked
# for exact coverage (events, or a Gap naming what was pushed out, never a silent jump)
timeout 2 curl -s -N "$url/v1/events?since=0" -o "$tmp/all" &
timeout 2 curl -s -N -H 'Accept-Encoding: gzip' "$url/v1/events?since=5" -o "$tmp/from5.gz"
wait $!
sleep 2
curl -sf "$url/metrics" > "$tmp/metrics2" || fail "/metrics again"
sweeps1=$(sed -n 's/^cgpulse_sweep_duration_seconds_count \([0-9]*\).*/\1/p' "$tmp/metrics2")
$PY - "$tmp" "$sweeps0" "$sweeps1" "$PWD/tests/lib" <<'PY' || fail "stream"
import sys, zlib
sys.path[:0] = [sys.argv[1], sys.argv[4]]
from cgpulse.v1 import event_pb2
import delimited
def events(data):
    return delimited.events(event_pb2, data, partial=True)  # cut by the timeout mid-event
def covers(evs, first):
    """Every seq from `first` on, each exactly once: as an event, or inside a Gap that comes where it was."""
    want, real = first, 0
    for e in evs:
        if e.WhichOneof("body") == "gap":
            g = e.gap
            assert g.first_missed_seq == want and g.last_missed_seq >= want, (want, str(g))
            assert g.missed == g.last_missed_seq - g.first_missed_seq + 1, str(g)
            want = g.last_missed_seq + 1
        else:
            assert e.seq == want, (want, e.seq)
            want, real = want + 1, real + 1
    return real
d = sys.argv[1]
allev = events(open(d + "/all", "rb").read())
assert covers(allev, 1) > 10, len(allev)
assert {e.WhichOneof("body") for e in allev} >= {"sample"}
from5 = events(zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(open(d + "/from5.gz", "rb").read()))
assert covers(from5, 6) > 0, [e.seq for e in from5[:3]]
# sampling went on at its rate with the slow consumer attached: 2 s at 0.2 s is ~10 sweeps
s0, s1 = int(sys.argv[2]), int(sys.argv[3])
print("# stream: %d events from since=0, %d from since=5 (gzip); sweeps %d -> %d with a 1 KiB/s consumer"
      % (len(allev), len(from5), s0, s1))
assert s1 - s0 >= 8, (s0, s1)
PY
echo "agent http: ok"
