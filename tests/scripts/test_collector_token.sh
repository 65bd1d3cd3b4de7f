#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A collector started with --token-file reads nothing from a connection before a Hello with its token: a batch
# with no Hello, a wrong token and a sender with the wrong token file are refused (counted, nothing stored,
# nothing acknowledged); the real agent with --collector-token-file is stored; after the token file is rotated and
# the collector gets SIGHUP, the new token is wanted and the old one refused.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/coll_test.sh
coll_test_protoc
printf 'first-token-0123456789\n' >"$tmp/token"
printf 'first-token-0123456788\n' >"$tmp/wrong"
chmod 600 "$tmp/token" "$tmp/wrong"

COLL_OUT=$tmp/events.jsonl
coll_start coll.log 0 --token-file "$tmp/token" || fail "collector did not start"

# the real agent with the token
"$B/cgpulse" run --json --interval 0.3 --no-pin --http 127.0.0.1:0 --collector "127.0.0.1:$COLL_PORT" \
	--collector-token-file "$tmp/token" >"$tmp/agent.out" 2>"$tmp/agent.err" &
agent=$!
agent_wait_running "$tmp/agent.err" || fail "agent did not start"
for _ in $(seq 100); do grep -q '"type":"sample"' "$tmp/events.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"type":"sample"' "$tmp/events.jsonl" || fail "the agent with the token got nothing stored"

# the agent's own client code with the wrong token: nothing stored, nothing acknowledged
timeout 30 "$B/cgpulse-loadgen" --connect "127.0.0.1:$COLL_PORT" --events 100 --timeout 3 \
	--instance-prefix wrong-token --token-file "$tmp/wrong" >"$tmp/gen.out" 2>"$tmp/gen.err"
[ $? -ne 0 ] || fail "a sender with the wrong token had its events acknowledged"
grep -q '"wrong-token' "$tmp/events.jsonl" && fail "events of a sender with the wrong token were stored"

PYTHONPATH="$tmp/py:tests/lib" timeout 60 $PY - "$COLL_PORT" <<'PY' || fail "hand-made peers"
import sys
from cgpulse.v1 import event_pb2 as pb
from collector_peer import Peer
port = int(sys.argv[1])

def try_batch(token, inst):
    p = Peer(pb, port)
    if token is not None:
        p.hello(token)
    p.batch(inst, [p.event("tok-node", inst, 1)], base_seq=1)
    acks, closed = p.acks(want=1)
    if not acks:
        acks, closed = p.acks(until_closed=True, timeout=5)
    p.close()
    return acks, closed

acks, closed = try_batch(None, "no-token")
assert closed and not acks, "a batch without a Hello was acknowledged"
acks, closed = try_batch("first-token-0123456788", "bad-token")
assert closed and not acks, "a batch after a wrong token was acknowledged"
acks, closed = try_batch("", "empty-token")
assert closed and not acks, "a batch after an empty token was acknowledged"
acks, closed = try_batch("first-token-0123456789", "good-token")
assert acks and acks[0].acked_seq == 1, "a batch with the token was not acknowledged"
print("refused: no Hello, a wrong token, an empty token; acknowledged: the token")
PY

# rotation: SIGHUP reads the file again
printf 'second-token-abcdef\n' >"$tmp/token"
kill -HUP "$COLL_PID"
for _ in $(seq 50); do grep -q "token read again" "$tmp/coll.log" && break; sleep 0.1; done
PYTHONPATH="$tmp/py:tests/lib" timeout 60 $PY - "$COLL_PORT" <<'PY' || fail "rotated token"
import sys
from cgpulse.v1 import event_pb2 as pb
from collector_peer import Peer
port = int(sys.argv[1])
for token, inst, ok in (("first-token-0123456789", "old-token", False), ("second-token-abcdef", "new-token", True)):
    p = Peer(pb, port)
    p.hello(token)
    p.batch(inst, [p.event("tok-node", inst, 1)], base_seq=1)
    acks, closed = p.acks(want=1, timeout=5)
    assert bool(acks) == ok, "%s: acks %s" % (token, acks)
print("after rotation: the old token refused, the new one acknowledged")
PY
kill -TERM "$agent"
wait "$agent"
agent=
kill -USR1 "$COLL_PID"
sleep 0.3
coll_stop || fail "collector exit $?"
no=$(coll_counter refused_no_token coll.log)
bad=$(coll_counter refused_bad_token coll.log)
echo "# refused_no_token=$no refused_bad_token=$bad"
[ "${no:-0}" -ge 1 ] || fail "refused_no_token=$no"
[ "${bad:-0}" -ge 3 ] || fail "refused_bad_token=$bad (want the loadgen's, the wrong, the empty and the old token)"
for inst in no-token bad-token empty-token old-token; do
	grep -q "\"instance_id\":\"$inst\"" "$tmp/events.jsonl" && fail "events of $inst were stored"
done
grep -q '"instance_id":"good-token"' "$tmp/events.jsonl" || fail "the batch with the token was not stored"
grep -q '"instance_id":"new-token"' "$tmp/events.jsonl" || fail "the batch with the rotated token was not stored"
grep -q "first-token\|second-token" "$tmp/coll.log" && fail "a token reached the log"
echo PASS
