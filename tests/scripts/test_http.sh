#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The HTTP endpoint with real clients, against the real server in its own epoll loop (test_http_server serve,
# synthetic events, 127.0.0.1, any free port): /healthz 200 and 503 by curl; /metrics by curl into
# `promtool check metrics`, plain and gzip; /v1/events streamed by curl --no-buffer and decoded by Google's
# protobuf runtime from the checked-in .proto: resume with since= gives exactly the following events, live
# events arrive while the stream is open, gzip is honoured and flushed per batch; a consumer at
# curl --limit-rate 1k neither slows publishing nor the consumer beside it, and resuming after it fell behind
# starts with a Gap. Counts are asserted, not times.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}
PY=/usr/bin/python3
BIN=$B/tests/test_http_server
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	[ -s "$tmp/server.log" ] && sed 's/^/  server: /' "$tmp/server.log"
	exit 1
}
for c in curl promtool protoc; do
	command -v $c >/dev/null || { echo "SKIP: $c not installed"; exit 77; }
done
$PY -c 'import google.protobuf' 2>/dev/null || { echo "SKIP: python3-protobuf not installed"; exit 77; }
[ -x "$BIN" ] || fail "$BIN not built"

mkdir -p "$tmp/py"
protoc --proto_path=proto --python_out="$tmp/py" proto/cgpulse/v1/event.proto || fail "protoc"
mkfifo "$tmp/ctl"
# ring of 4000 events: the fast consumer's margin while 20 events go out per millisecond
timeout 120 "$BIN" serve --port-file "$tmp/port" --ctl "$tmp/ctl" --ring-events 4000 2>"$tmp/server.log" &
srv=$!
pids+=("$srv")
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.1; done
[ -s "$tmp/port" ] || fail "server did not start"
URL=http://127.0.0.1:$(cat "$tmp/port")

# A command to the server; the timeout covers a server that died (nobody reading the FIFO).
ctl() { timeout 5 sh -c 'printf "%s\n" "$1" > "$2"' _ "$*" "$tmp/ctl" || fail "server gone (ctl $*)"; }
# The server's counters once every earlier command is done. (Called in $(...): a fresh name each time.)
stats() {
	local f
	f=$(mktemp -u "$tmp/stats.XXXXXX")
	ctl "stats $f"
	for _ in $(seq 300); do [ -f "$f" ] && { cat "$f"; return; }; sleep 0.1; done
	fail "no stats from the server"
}
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
code() { curl -s --max-time 5 -o "$tmp/body" -w '%{http_code}' "$@"; }

# --- /healthz
[ "$(code "$URL/healthz")" = 503 ] && grep -qx starting "$tmp/body" || fail "/healthz before ready: $(cat "$tmp/body")"
ctl "health bad programs not attached"
stats >/dev/null
[ "$(code "$URL/healthz")" = 503 ] && grep -qx "programs not attached" "$tmp/body" || fail "/healthz unhealthy"
ctl "health ok"
stats >/dev/null
[ "$(code "$URL/healthz")" = 200 ] && grep -qx ok "$tmp/body" || fail "/healthz healthy: $(cat "$tmp/body")"

# --- /metrics, plain and gzip, through promtool's own parser and linter
curl -sf --max-time 5 "$URL/metrics" -o "$tmp/metrics" || fail "GET /metrics"
promtool check metrics <"$tmp/metrics" >"$tmp/promtool" 2>&1 || { cat "$tmp/promtool"; fail "promtool check metrics"; }
grep -qF 'cgpulse_cgroup_cpu_seconds_total{cgroup_id="77",path="/odd\\dir/\"quoted\"\nline ?",' "$tmp/metrics" ||
	fail "escaped label values"
grep -qF 'cgpulse_cgroup_runq_wait_seconds_bucket{cgroup_id="4026531835",' "$tmp/metrics" || fail "histogram"
grep -qF 'cgpulse_bpf_prog_runs_total{prog="cgp_sched_switch"} 1000' "$tmp/metrics" || fail "bpf program stats"
curl -sf --max-time 5 --compressed -D "$tmp/mhdr" "$URL/metrics" -o "$tmp/metrics.gz.txt" || fail "GET /metrics gzip"
grep -qi '^Content-Encoding: gzip' "$tmp/mhdr" || fail "/metrics ignored Accept-Encoding: gzip"
promtool check metrics <"$tmp/metrics.gz.txt" >"$tmp/promtool" 2>&1 || { cat "$tmp/promtool"; fail "promtool (gzip)"; }
echo "ok: /healthz 503/200, /metrics passes promtool check metrics ($(grep -vc '^#' "$tmp/metrics") series, plain and gzip)"

# --- errors
[ "$(code "$URL/v1/events?since=abc")" = 400 ] || fail "since=abc"
[ "$(code "$URL/v1/events?since=999999")" = 409 ] || fail "since ahead of the agent"
[ "$(code -X POST -d x "$URL/metrics")" = 405 ] || fail "POST /metrics"
[ "$(code "$URL/nope")" = 404 ] || fail "/nope"

# --- /v1/events: history, resume with since=, live events, gzip (curl's and an independent gunzip)
ctl "publish 50 10"
s=$(stats)
[ "$(field published "$s")" = 50 ] || fail "published: $s"
req0=$(field requests_events "$s")
stream() { # NAME ARGS...: a stream read for 4 s, headers in NAME.hdr
	local name=$1
	shift
	curl -s --no-buffer --max-time 4 -D "$tmp/$name.hdr" -o "$tmp/$name.bin" "$@" &
	pids+=($!)
}
stream all "$URL/v1/events?since=0"
stream resume "$URL/v1/events?since=20"
stream curlgz --compressed "$URL/v1/events?since=0"
stream rawgz -H 'Accept-Encoding: gzip' "$URL/v1/events?since=0"
for _ in $(seq 100); do
	[ "$(field requests_events "$(stats)")" -ge $((req0 + 4)) ] && break
	sleep 0.1
done
ctl "publish 10 5" # live, while the four streams are open
[ "$(field published "$(stats)")" = 60 ] || fail "published 60"
wait "${pids[@]:1}" 2>/dev/null
pids=("$srv")
grep -qi '^Content-Encoding: gzip' "$tmp/curlgz.hdr" || fail "/v1/events ignored Accept-Encoding: gzip"
grep -qi '^Content-Encoding: gzip' "$tmp/rawgz.hdr" || fail "/v1/events raw gzip"
grep -qi '^Content-Encoding' "$tmp/all.hdr" && fail "gzip without being asked"

cat >"$tmp/check.py" <<'PY'
import sys, zlib
sys.path.insert(0, sys.argv[1])
from cgpulse.v1 import event_pb2 as pb

def events(path, gz=False, partial=False):
    """Delimited Events (varint length, Event), decoded by Google's runtime; a cut-off tail only if partial."""
    data = open(path, "rb").read()
    if gz:  # an open gzip stream has no trailer yet: decompress what the sync flushes made whole
        data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    i, out = 0, []
    while i < len(data):
        n = shift = 0
        while i < len(data):
            b = data[i]; i += 1
            n |= (b & 0x7f) << shift; shift += 7
            if not b & 0x80:
                break
        else:
            break
        if i + n > len(data):
            assert partial, "%s: truncated event" % path
            break
        ev = pb.Event.FromString(data[i:i + n]); i += n
        assert ev.instance_id == "http-test-instance" and ev.node == "test-node", path
        out.append(ev)
    return out

def walk(evs, after, path):
    """Every seq after `after` in order, each received or inside the Gap sent in its place.
    Returns (last seq accounted for, events received, gaps)."""
    got, gaps = 0, []
    for ev in evs:
        if ev.WhichOneof("body") == "gap":
            g = ev.gap
            assert ev.seq == 0 and g.first_missed_seq == after + 1, "%s: gap %s after %d" % (path, g, after)
            assert g.missed == g.last_missed_seq - g.first_missed_seq + 1
            after = g.last_missed_seq; gaps.append(g)
        else:
            assert ev.WhichOneof("body") == "sample", path
            assert ev.seq == after + 1, "%s: seq %d after %d: a silent jump" % (path, ev.seq, after)
            after = ev.seq; got += 1
    return after, got, gaps

d, cmd = sys.argv[2], sys.argv[3]
if cmd == "basic":
    for name, gz, since in (("all", False, 0), ("resume", False, 20), ("curlgz", False, 0), ("rawgz", True, 0)):
        evs = events("%s/%s.bin" % (d, name), gz)
        last, got, gaps = walk(evs, since, name)
        assert not gaps and last == 60 and got == 60 - since, "%s: %d events up to %d, gaps %s" % (name, got, last, gaps)
        # 51..60 were published while the stream was open: they arrived without the stream ending
    print("ok: since=0 gave 1..60, since=20 gave exactly 21..60, live events arrived, gzip by curl and by zlib")
elif cmd == "slow":
    since, total = int(sys.argv[4]), int(sys.argv[5])
    last, got, gaps = walk(events(d + "/fast.bin"), since, "fast")
    assert not gaps and last == since + total and got == total, "fast: %d events up to %d, gaps %s" % (got, last, gaps)
    slow_last, slow_got, gaps = walk(events(d + "/slow.bin", partial=True), since, "slow")
    assert slow_got < total / 10, "slow consumer read %d events: not slow" % slow_got
    print(slow_last)
elif cmd == "fastdone":
    evs = events(d + "/fast.bin", partial=True)
    sys.exit(0 if evs and evs[-1].seq == int(sys.argv[4]) else 1)
elif cmd == "resume":
    after, end = int(sys.argv[4]), int(sys.argv[5])
    evs = events(d + "/again.bin", partial=True)
    assert evs and evs[0].WhichOneof("body") == "gap", "resume after falling behind: no Gap first"
    last, got, gaps = walk(evs, after, "again")
    assert len(gaps) == 1 and last == end, "again: %d events up to %d (want %d), gaps %s" % (got, last, end, gaps)
    print("ok: resumed after seq %d: Gap %d..%d (%d missed), then %d events up to %d" %
          (after, gaps[0].first_missed_seq, gaps[0].last_missed_seq, gaps[0].missed, got, last))
PY
timeout 60 $PY "$tmp/check.py" "$tmp/py" "$tmp" basic || fail "/v1/events decode"

# --- a slow consumer beside a fast one, while 20000 events of ~1 KiB go out, 20 per millisecond
s=$(stats)
since=$(field last_seq "$s")
req0=$(field requests_events "$s")
curl -s --no-buffer --limit-rate 1k --max-time 8 -o "$tmp/slow.bin" "$URL/v1/events?since=$since" &
slow=$!
curl -s --no-buffer --max-time 20 -o "$tmp/fast.bin" "$URL/v1/events?since=$since" &
fast=$!
pids+=("$slow" "$fast")
for _ in $(seq 100); do
	[ "$(field requests_events "$(stats)")" -ge $((req0 + 2)) ] && break
	sleep 0.1
done
ctl "publish 20000 20 1000"
[ "$(code "$URL/healthz")" = 200 ] || fail "/healthz while streaming" # the loop keeps serving
s=$(stats)
[ "$(field published "$s")" = $((since + 20000)) ] || fail "publishing stalled: $s"
# the fast consumer ends once it holds the last event (or curl's own time limit ends it)
for _ in $(seq 40); do
	timeout 30 $PY "$tmp/check.py" "$tmp/py" "$tmp" fastdone $((since + 20000)) && break
	kill -0 "$fast" 2>/dev/null || break
	sleep 0.5
done
kill "$fast" 2>/dev/null
wait "$slow" "$fast" 2>/dev/null
pids=("$srv")
slow_last=$(timeout 60 $PY "$tmp/check.py" "$tmp/py" "$tmp" slow "$since" 20000) || fail "slow/fast consumers"
echo "ok: 20000 events published with a consumer at 1 KiB/s attached; the consumer beside it got all of them," \
	"the slow one $((slow_last - since))"
# the slow consumer comes back from where it got to: a Gap first, never a silent jump
curl -s --no-buffer --max-time 3 -o "$tmp/again.bin" "$URL/v1/events?since=$slow_last"
timeout 60 $PY "$tmp/check.py" "$tmp/py" "$tmp" resume "$slow_last" $((since + 20000)) || fail "resume after falling behind"
s=$(stats)
[ "$(field gaps_sent "$s")" -ge 1 ] || fail "no gap counted: $s"

ctl quit
wait "$srv"
rc=$?
pids=()
[ $rc = 0 ] || fail "server exit $rc"
echo "PASS"
