#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# run --stdout: what the agent prints, and only that. `events` (a DaemonSet's log: every sample of every
# container each second has no place there) prints a cgroup's started/stopped events and no sample, while the
# event stream (/v1/events, decoded by Google's runtime) still carries the samples of the same run; `none` prints nothing; `all` (the
# default) prints both; a bad value is refused with the flag named.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}
PY=/usr/bin/python3
tmp=$(mktemp -d)
. tests/lib/agent.sh
. tests/lib/cgtest.sh
agent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/agent.err" 2>/dev/null | tail -5; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v protoc >/dev/null || { echo "SKIP: protoc not installed"; exit 77; }
mkdir -p "$tmp/py"
protoc --proto_path=proto --python_out="$tmp/py" proto/cgpulse/v1/event.proto || fail "protoc"

out=$("$B/cgpulse" run --stdout some 2>&1) && fail "--stdout some accepted"
[[ $out == *"--stdout: 'some' is not all, events or none"* ]] || fail "no clear error for --stdout some: $out"

# run_what WHAT: one agent run with a cgroup made and removed meanwhile; its stdout in $tmp/WHAT.out, the samples
# of /v1/events counted in $tmp/WHAT.ring
run_what() {
	"$B/cgpulse" run --json --no-pin --interval 0.3 --http 127.0.0.1:0 ${1:+--stdout "$1"} \
		>"$tmp/${1:-default}.out" 2>"$tmp/agent.err" &
	agent=$!
	agent_wait_running "$tmp/agent.err" || fail "agent did not start (--stdout ${1:-default})"
	cgt_make "stdout-${1:-default}" || fail "cgroup"
	sleep 1.5
	cgt_cleanup
	sleep 1
	timeout 1 curl -s -N "http://127.0.0.1:$AGENT_HTTP/v1/events?since=0" -o "$tmp/${1:-default}.pb"
	PYTHONPATH="$tmp/py:tests/lib" $PY -c '
import sys, delimited
from cgpulse.v1 import event_pb2
print(sum(e.WhichOneof("body") == "sample" for e in delimited.events(event_pb2, open(sys.argv[1], "rb").read(), True)))
' "$tmp/${1:-default}.pb" >"$tmp/${1:-default}.ring" || fail "decoding /v1/events"
	kill -INT "$agent"
	wait "$agent"
	agent=
}

for what in "" all events none; do run_what "$what"; done
for what in default all; do
	grep -q '"type":"sample"' "$tmp/$what.out" || fail "--stdout $what: no sample on stdout"
	grep -q '"type":"cgroup_started"' "$tmp/$what.out" || fail "--stdout $what: no cgroup_started on stdout"
done
grep -q '"type":"sample"' "$tmp/events.out" && fail "--stdout events: a sample on stdout"
grep -q '"type":"cgroup_started".*cgpulse-test-stdout-events' "$tmp/events.out" || fail "--stdout events: no cgroup_started of the test's cgroup"
grep -q '"type":"cgroup_stopped".*cgpulse-test-stdout-events' "$tmp/events.out" || fail "--stdout events: no cgroup_stopped of the test's cgroup"
[ -s "$tmp/none.out" ] && fail "--stdout none: stdout has $(wc -l <"$tmp/none.out") lines"
for what in events none; do
	[ "$(cat "$tmp/$what.ring")" -gt 0 ] || fail "--stdout $what: no sample on /v1/events either"
done
echo "# samples on /v1/events: events $(cat "$tmp/events.ring"), none $(cat "$tmp/none.ring"); stdout lines: all $(wc -l <"$tmp/all.out"), events $(wc -l <"$tmp/events.out"), none 0"
echo PASS
