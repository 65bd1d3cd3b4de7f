#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Forged batches against a collector that a real agent pushes to (issue 15): a batch naming the agent's instance
# on a connection that spoke for another, an empty batch with the agent's instance and base_seq 2^62 (which used to
# be acknowledged and silence the agent), a batch claiming seqs done beyond the one it carries, an event of another
# node. Each is refused, counted, and logged with the ids escaped; the agent's next events are still stored and
# acknowledged.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/coll_test.sh
coll_test_protoc

COLL_OUT=$tmp/events.jsonl
coll_start coll.log || fail "collector did not start"
"$B/cgpulse" run --json --interval 0.3 --no-pin --http 127.0.0.1:0 --node forged-test-node \
	--collector "127.0.0.1:$COLL_PORT" >"$tmp/agent.out" 2>"$tmp/agent.err" &
agent=$!
agent_wait_running "$tmp/agent.err" || fail "agent did not start"
for _ in $(seq 100); do grep -q '"type":"sample"' "$tmp/events.jsonl" 2>/dev/null && break; sleep 0.1; done
inst=$($PY -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["instance_id"])' "$tmp/events.jsonl") ||
	fail "no event of the agent stored"
acked0=$(agent_metric cgpulse_collector_events_sent_total)

PYTHONPATH="$tmp/py:tests/lib" timeout 60 $PY - "$COLL_PORT" "$inst" <<'PY' || fail "forged batches"
import sys
from cgpulse.v1 import event_pb2 as pb
from collector_peer import Peer
port, inst = int(sys.argv[1]), sys.argv[2]
node = "forged-test-node"
evil = "intruder\n\x1b[31mred"

# 1. a connection speaks for its first batch's instance: the agent's instance after it is refused
p = Peer(pb, port)
p.batch(evil, [p.event(node, evil, 1)], base_seq=1)
acks, closed = p.acks(want=1)
assert len(acks) == 1 and acks[0].acked_seq == 1, "own batch not acknowledged: %s" % acks
p.batch(inst, [p.event(node, inst, 1 << 62)], base_seq=1 << 62)
acks, closed = p.acks(until_closed=True)
assert closed and not acks, "batch of another instance was not refused: %s" % acks
print("refused: another instance on a bound connection")

# 2. an empty batch that claims every seq below 2^62 done
p = Peer(pb, port)
p.batch(inst, [], base_seq=1 << 62)
acks, closed = p.acks(until_closed=True)
assert closed and not acks, "empty batch with base_seq 2^62 acknowledged: %s" % [str(a) for a in acks]
print("refused: empty batch, base_seq 2^62")

# 3. a batch claiming seqs done beyond the one it carries
p = Peer(pb, port)
p.batch(inst, [p.event(node, inst, 5)], base_seq=1 << 62)
acks, closed = p.acks(until_closed=True)
assert closed and not acks, "batch with base_seq past its events acknowledged: %s" % acks
print("refused: base_seq past the events carried")

# 4. a connection speaks for one node
p = Peer(pb, port)
p.batch("other-1", [p.event(node, "other-1", 1), p.event("another-node", "other-1", 2)], base_seq=1)
acks, closed = p.acks(until_closed=True)
assert closed and not acks, "event of another node acknowledged: %s" % acks
print("refused: another node on a bound connection")
PY

# the agent's next events are still stored and acknowledged
n0=$(grep -c "\"instance_id\":\"$inst\"" "$tmp/events.jsonl")
for _ in $(seq 100); do
	n1=$(grep -c "\"instance_id\":\"$inst\"" "$tmp/events.jsonl")
	acked1=$(agent_metric cgpulse_collector_events_sent_total)
	[ "$n1" -gt $((n0 + 20)) ] && [ "${acked1:-0}" -gt "${acked0:-0}" ] && break
	sleep 0.1
done
echo "# agent events stored: $n0 when forged, $n1 after; acknowledged to the agent: $acked0 then $acked1"
[ "$n1" -gt $((n0 + 20)) ] || fail "the agent's events stopped being stored after the forged batches ($n0 → $n1)"
[ "${acked1:-0}" -gt "${acked0:-0}" ] || fail "the agent's events are no longer acknowledged ($acked0 → $acked1)"
kill -TERM "$agent"
wait "$agent"
agent=
kill -USR1 "$COLL_PID"
sleep 0.3
coll_stop || fail "collector exit $?"
for c in refused_instance=1 refused_node=1 refused_floor=2; do
	grep -q " $c " "$tmp/coll.log" || grep -q " $c\$" "$tmp/coll.log" || fail "counter $c not printed"
done
# every seq the agent published is stored once
coll_test_stored_once "forged batches refused"
# ids in the log are escaped: no raw control byte from the forged instance id
grep -q 'intruder\\x0a\\x1b\[31mred' "$tmp/coll.log" || fail "forged instance id not logged escaped"
if LC_ALL=C grep -q $'\x1b' "$tmp/coll.log"; then fail "a raw escape byte reached the log"; fi
echo "PASS"
