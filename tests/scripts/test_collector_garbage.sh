#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Garbage on the collector port: random bytes, a huge length prefix, a malformed varint, a truncated frame,
# a frame that is not a Frame, a zlib bomb, an agent that sends an Ack, each on its own connection while a real
# sender (cgpulse-loadgen: the agent's spool and collector client) streams. Each bad connection is closed by the
# collector with a logged reason; the real sender finishes; every event it sent is stored exactly once.
set -u
cd "$(dirname "$0")/../.."
FAIL_LOGS="coll.log"
. tests/lib/coll_test.sh
for b in cgpulse-collector cgpulse-loadgen; do [ -x "$B/$b" ] || fail "$B/$b not built"; done

COLL_OUT=$tmp/out.jsonl
coll_start coll.log || fail "collector did not start"
port=$COLL_PORT

# the real sender: 2 agents × 20000 events at 8000/s each (~2.5 s), an OOM kill every 97th event
timeout 60 "$B/cgpulse-loadgen" --connect "127.0.0.1:$port" --agents 2 --events 20000 --rate 8000 --batch 64 \
	--oom-every 97 --instance-prefix garbage-test >"$tmp/gen.out" 2>"$tmp/gen.err" &
gen=$!
for _ in $(seq 50); do [ -s "$tmp/out.jsonl" ] && break; sleep 0.1; done
[ -s "$tmp/out.jsonl" ] || fail "nothing stored from the real sender"

timeout 60 $PY - "$port" <<'PY' || fail "a bad connection was not closed"
import random, socket, struct, sys, time, zlib
port = int(sys.argv[1])

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f; n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)

def frame(msg):
    return varint(len(msg)) + msg

rnd = random.Random(4)
bomb = zlib.compress(b"\0" * (80 << 20), 9)           # inflates past the 64 MiB limit
cases = [
    ("random bytes", bytes(rnd.getrandbits(8) for _ in range(65536)), True),
    ("huge length prefix", varint(1 << 40), False),     # refused before any payload arrives
    ("malformed varint", b"\xff" * 11, False),
    ("truncated frame", varint(1000) + b"\x0a" * 10, True),
    ("not a Frame", frame(b"\xff\xff\xff\xff\xff"), False),
    ("empty Frame", frame(b""), False),
    ("zlib bomb", frame(b"\x12" + varint(len(bomb)) + bomb), False),
    ("ack from an agent", frame(b"\x1a\x05\x0a\x01x\x10\x01"), False),
]
for name, data, half_close in cases:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass                                            # closed while we were still sending: fine
    if half_close:
        s.shutdown(socket.SHUT_WR)                      # end of stream inside a frame
    t0 = time.time()
    try:
        while s.recv(65536):
            pass                                        # acks are fine, but the end must come
    except ConnectionResetError:
        pass
    except socket.timeout:
        sys.exit("%s: connection still open after 10 s" % name)
    print("closed: %-20s %.3f s" % (name, time.time() - t0))
    s.close()
PY

wait "$gen"
rc=$?
gen=
[ $rc -eq 0 ] || { cat "$tmp/gen.err"; fail "loadgen exit $rc"; }
kill -0 "$COLL_PID" 2>/dev/null || fail "collector died"
kill -USR1 "$COLL_PID"
sleep 0.2
coll_stop || fail "collector exit $?"

# every bad connection was closed with a logged reason
for why in "exceeds the limit" "malformed frame length" "ended inside a frame" "not a valid protobuf Frame" \
	"no batch and no ack" "inflates past" "sent an Ack"; do
	grep -q "closing .*$why" "$tmp/coll.log" || fail "no logged close for: $why"
done
bad=$(grep -c "closing " "$tmp/coll.log")
[ "$bad" -ge 8 ] || fail "only $bad bad connections logged, want 8"
grep -q "closed_bad=$bad " "$tmp/coll.log" || fail "closed_bad counter does not say $bad"

# every event the real sender made is stored exactly once, OOM kills included
$PY - "$tmp/out.jsonl" "$tmp/gen.out" <<'PY' || fail "stored events"
import collections, json, sys
want = {}
for l in open(sys.argv[2]):
    if l.startswith("instance "):
        _, inst, _, n = l.split()
        want[inst] = int(n)
assert len(want) == 2, "loadgen named %d instances" % len(want)
seen = collections.Counter()
ooms = 0
for l in open(sys.argv[1]):
    j = json.loads(l)
    seen[(j["instance_id"], j["seq"])] += 1
    ooms += j["type"] == "oom_kill"
dups = [k for k, c in seen.items() if c > 1]
assert not dups, "stored twice: %s" % dups[:5]
for inst, n in want.items():
    missing = [s for s in range(1, n + 1) if (inst, s) not in seen]
    assert not missing, "%s: missing %d seqs, first %s" % (inst, len(missing), missing[:5])
extra = [k for k in seen if k[0] not in want or k[1] > want[k[0]]]
assert not extra, "unexpected events: %s" % extra[:5]
assert ooms == sum(n // 97 for n in want.values()), "oom_kill events: %d" % ooms
print("stored %d events exactly once (%d OOM kills)" % (len(seen), ooms))
PY
echo "PASS"
