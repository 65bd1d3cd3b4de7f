#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The real agent pushing to the real collector, which is stopped for 5 s (SIGKILL) while the agent keeps
# sampling and a real OOM kill happens, then started again on the same port and file: after dedup every
# sequence number the agent published arrives exactly once, the OOM kill among them.
set -u
cd "$(dirname "$0")/../.."
. tests/lib/cgtest.sh
BUILD=${CGP_BUILD:-build}
B=$BUILD
PY=/usr/bin/python3
tmp=$(mktemp -d)
. tests/lib/collector.sh
agent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	coll_cleanup
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/agent.err" 2>/dev/null | tail -5; sed 's/^/  collector: /' "$tmp/coll.err" 2>/dev/null | tail -5; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

cgt_make coll || fail "cgroup"
rel=$CGT_REL
cgt_set_limit "$rel" $((20 << 20))
coll_start coll.err || fail "collector did not start"
port=$COLL_PORT
"$BUILD/cgpulse" run --json --interval 0.3 --no-pin --http 127.0.0.1:0 --collector "127.0.0.1:$port" > "$tmp/agent.out" 2> "$tmp/agent.err" &
agent=$!
for i in $(seq 100); do grep -q '"type":"sample"' "$tmp/events.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"type":"sample"' "$tmp/events.jsonl" || fail "no sample reached the collector"

coll_kill
sleep 1
cgt_run "$rel" tail /dev/zero # one process: exactly one OOM kill
wait "$CGT_PID" 2>/dev/null
sleep 4
coll_start coll.err "$port" || fail "collector did not start again"
# the agent reconnects (backoff with jitter) and resends what was not acknowledged
for i in $(seq 200); do grep -q '"type":"oom_kill"' "$tmp/events.jsonl" && break; sleep 0.1; done
sleep 1
kill -TERM "$agent"; wait "$agent"; rc=$?; agent=
[ "$rc" -eq 0 ] || fail "agent exit $rc"
coll_stop

$PY - "$tmp/agent.out" "$tmp/events.jsonl" "$rel" <<'PY' || fail "delivery"
import json, sys, collections
sent = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
got = [json.loads(l) for l in open(sys.argv[2])]
inst = sent[0]["instance_id"]
got = [e for e in got if e.get("instance_id") == inst]
count = collections.Counter(e["seq"] for e in got)
dups = [s for s, n in count.items() if n > 1]
missing = sorted(set(e["seq"] for e in sent) - set(count))
print("# agent published %d events (seq 1..%d), collector stored %d, duplicates %d, missing %d"
      % (len(sent), sent[-1]["seq"], len(got), len(dups), len(missing)))
assert not dups, dups[:10]
assert not missing, missing[:10]
assert [e["seq"] for e in sent] == list(range(1, len(sent) + 1)), "agent seq not contiguous"
ooms = [e for e in got if e["type"] == "oom_kill" and e["path"] == sys.argv[3]]
assert len(ooms) == 1, ooms
PY
echo "agent+collector: ok"
