#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fault: the collector is killed with SIGKILL five times while a real agent streams samples and real OOM kills
# (one while it is up and one while it is down, each time), and started again on the same port and file. After
# dedup, every sequence number the agent published is stored exactly once, and every OOM kill the kernel counted
# is among them.
set -u
cd "$(dirname "$0")/../.."
FAULT_LOGS="agent.err coll.err"
. tests/lib/fault.sh
agent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	coll_cleanup
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

cgt_make faultkill || fail "cgroup"
rel=$CGT_REL
cgt_set_limit "$rel" $((20 << 20))

coll_start coll.err || fail "collector did not start"
port=$COLL_PORT
"$B/cgpulse" run --json --interval 0.2 --no-pin --http off --collector "127.0.0.1:$port" >"$tmp/agent.out" \
	2>"$tmp/agent.err" &
agent=$!
for _ in $(seq 100); do grep -q '"type":"sample"' "$tmp/events.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"type":"sample"' "$tmp/events.jsonl" || fail "no sample reached the collector"
for round in 1 2 3 4 5; do
	cgt_oom_kill "$rel"
	sleep 0.5
	coll_kill
	cgt_oom_kill "$rel" # while the collector is down: the agent holds it
	sleep 0.7
	coll_start coll.err "$port" || fail "collector did not start again (round $round)"
done
kernel=$(cgt_oom_kills "$rel")
# everything the agent published so far arrives (the agent keeps publishing meanwhile)
for _ in $(seq 100); do
	n=$(grep -c '"type":"oom_kill"' "$tmp/events.jsonl")
	[ "$n" -ge "$kernel" ] && break
	sleep 0.1
done
kill -TERM "$agent"
wait "$agent" || fail "agent exit $?"
agent=
coll_stop || fail "collector exit $?"

$PY - "$tmp" "$rel" "$kernel" <<'PY' || fail "delivery"
import sys
sys.path.insert(0, "tests/lib")
import delivery
tmp, path, kernel = sys.argv[1], sys.argv[2], int(sys.argv[3])
sent = delivery.scan(tmp + "/agent.out")
inst = next(iter(sent.count))
last = max(sent.count[inst])
got = delivery.scan(tmp + "/events.jsonl")
dups = delivery.duplicates(got)
missing = delivery.missing(got, inst, last)
ooms = delivery.of_type(got, "oom_kill", path)
print("collector killed 5 times: agent published seq 1..%d, collector stored %d once each, duplicates %d, "
      "missing %d; OOM kills: kernel %d, agent %d, collector %d"
      % (last, len(got.count[inst]), len(dups), len(missing), kernel, len(delivery.of_type(sent, "oom_kill", path)),
         len(ooms)))
assert sorted(sent.count[inst]) == list(range(1, last + 1)), "the agent's own seqs are not contiguous"
assert not dups, dups[:10]
assert not missing, missing[:10]
assert len(ooms) == kernel == 10, (len(ooms), kernel)
PY
grep -q "unacknowledged$" "$tmp/agent.err" || fail "the agent left events unacknowledged: $(grep 'exit:' "$tmp/agent.err")"
echo "PASS"
