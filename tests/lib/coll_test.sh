# SPDX-License-Identifier: GPL-2.0
# The common start of the collector's script tests (tests/scripts/test_collector_*.sh), sourced from the
# repository root: the build directory B, Python, a temporary directory, the collector and agent helpers
# (collector.sh, agent.sh), an EXIT trap that stops what the test started and removes the directory, and fail().
#   agent, gen           pids of the test's agent and sender (cgpulse-loadgen): killed at exit while still set
#   FAIL_LOGS            files under $tmp whose last lines fail() prints (set before sourcing; default
#                        agent.err coll.log)
#   coll_test_stored_once LABEL  every event the agent printed to $tmp/agent.out (--json) is in $tmp/events.jsonl
#                        exactly once (its instance's seqs), or the test fails
#   coll_test_protoc     root and protoc wanted (the test skips without them); event.proto's Python module into
#                        $tmp/py, for Google's runtime as the independent decoder
B=${CGP_BUILD:-build}
PY=/usr/bin/python3
tmp=$(mktemp -d)
. tests/lib/collector.sh
. tests/lib/agent.sh
agent= gen=
FAIL_LOGS=${FAIL_LOGS:-agent.err coll.log}

coll_test_cleanup() {
	local p
	for p in "$agent" "$gen"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	coll_cleanup
	rm -rf "$tmp"
}
trap coll_test_cleanup EXIT

fail() {
	local f
	echo "FAIL: $*"
	for f in $FAIL_LOGS; do
		[ -f "$tmp/$f" ] && sed "s/^/  $f: /" "$tmp/$f" | tail -10
	done
	exit 1
}

coll_test_protoc() {
	[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
	command -v protoc >/dev/null || { echo "SKIP: protoc not installed"; exit 77; }
	mkdir -p "$tmp/py"
	protoc --proto_path=proto --python_out="$tmp/py" proto/cgpulse/v1/event.proto || fail "protoc"
}

coll_test_stored_once() {
	$PY - "$tmp/agent.out" "$tmp/events.jsonl" "$1" <<'PY' || fail "delivery"
import collections, json, sys
sent = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
inst = sent[0]["instance_id"]
got = collections.Counter(json.loads(l)["seq"] for l in open(sys.argv[2]) if json.loads(l).get("instance_id") == inst)
missing = sorted(set(e["seq"] for e in sent) - set(got))
print("# %s: agent published %d events, collector stored %d of them, missing %d" % (sys.argv[3], len(sent), len(got), len(missing)))
assert not missing, missing[:10]
assert all(n == 1 for n in got.values()), [s for s, n in got.items() if n > 1][:10]
PY
}
