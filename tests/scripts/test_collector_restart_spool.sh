#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The delivery protocol across a collector crash: a sender (cgpulse-loadgen: the agent's own spool and
# collector client) streams samples and OOM kills; the collector is killed (SIGKILL) for 3 s and started again
# on the same port and file. The sender's small spool overflows meanwhile, so it drops its oldest samples (never
# an OOM kill) and says so in a Dropped event. Afterwards: nothing is stored twice, every OOM kill is stored,
# every missing seq is one a Dropped event reported, and the sender saw every event acknowledged.
set -u
cd "$(dirname "$0")/../.."
FAIL_LOGS="coll1.log coll2.log gen.err"
. tests/lib/coll_test.sh
for b in cgpulse-collector cgpulse-loadgen; do [ -x "$B/$b" ] || fail "$B/$b not built"; done

COLL_OUT=$tmp/out.jsonl
coll_start coll1.log || fail "collector did not start"
port=$COLL_PORT
# 6000 events at 1000/s, an OOM kill every 50th; the spool holds 1000, so a 3 s outage must drop ~2000 samples
timeout 60 "$B/cgpulse-loadgen" --connect "127.0.0.1:$port" --events 6000 --rate 1000 --batch 100 --oom-every 50 \
	--spool-events 1000 --instance-prefix restart-test >"$tmp/gen.out" 2>"$tmp/gen.err" &
gen=$!
sleep 1.5
coll_kill
before=$(wc -l <"$tmp/out.jsonl")
sleep 3
coll_start coll2.log "$port" || fail "collector did not start again"
grep -q "holds $before events" "$tmp/coll2.log" || fail "restarted collector did not read back its $before events"

wait "$gen"
rc=$?
gen=
[ $rc -eq 0 ] || fail "loadgen exit $rc (not every event was acknowledged)"
grep -q "disconnects=1 " "$tmp/gen.out" || fail "sender did not see exactly one disconnect"
coll_stop || fail "collector exit $?"

$PY - "$tmp/out.jsonl" "$tmp/gen.out" <<'PY' || fail "stored events"
import collections, json, sys
n = int([l.split()[3] for l in open(sys.argv[2]) if l.startswith("instance ")][0])
rows = [json.loads(l) for l in open(sys.argv[1])]
count = collections.Counter(r["seq"] for r in rows)
assert all(c == 1 for c in count.values()), "stored twice: %s" % [s for s, c in count.items() if c > 1][:5]
types = {r["seq"]: r["type"] for r in rows}
dropped = [r for r in rows if r["type"] == "dropped"]
assert dropped, "no Dropped event although the spool overflowed"
reported = sum(r["samples_dropped"] + r["others_dropped"] for r in dropped)
assert all(r["others_dropped"] == 0 for r in dropped), "an OOM kill was dropped while samples were left"
missing = [s for s in range(1, n + 1) if s not in count]
assert missing, "nothing missing: the outage did not overflow the spool"
assert len(missing) <= reported, "%d missing, only %d reported dropped" % (len(missing), reported)
for s in missing:
    assert any(r["first_dropped_seq"] <= s <= r["last_dropped_seq"] for r in dropped), "seq %d lost silently" % s
# OOM kills are every 50th event the loadgen made; the Dropped events shift later seqs, so count, not place
ooms = sum(1 for t in types.values() if t == "oom_kill")
assert ooms == 6000 // 50, "%d OOM kills stored, want %d" % (ooms, 6000 // 50)
print("%d events: %d stored once, %d dropped samples reported by %d Dropped events, all %d OOM kills kept"
      % (n, len(count), reported, len(dropped), ooms))
PY
echo "PASS"
