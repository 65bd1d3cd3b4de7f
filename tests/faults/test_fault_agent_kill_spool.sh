#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fault: the agent is killed with SIGKILL while the collector is down and OOM kills happen.
#  1. With --spool-dir and --keep-pins: OOM kills are spooled by the first agent, more happen while no agent runs
#     (they wait in the pinned ring buffer), a second agent starts on the same pins and directory, then the
#     collector: every OOM kill the kernel counted arrives, the first agent's events under its own instance id and
#     seqs, each once; the second agent's agent_started names the first and says it was handed over.
#  2. Without a spool directory (pins kept): the first agent's unacknowledged events are lost, and the second
#     agent's agent_started says so: the previous instance, its last published and last acknowledged seq.
set -u
cd "$(dirname "$0")/../.."
FAULT_LOGS="agent1.err agent2.err coll.err"
. tests/lib/fault.sh
pins=/sys/fs/bpf/cgpulse-test-fault-$$
agent=
cleanup() {
	[ -n "$agent" ] && kill -KILL "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	coll_cleanup
	"$B/cgpulse" cleanup --pin-dir "$pins" >/dev/null 2>&1
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

cgt_make faultspool || fail "cgroup"
rel=$CGT_REL
cgt_set_limit "$rel" $((20 << 20))
start_agent() { # NAME ARGS...
	local name=$1
	shift
	"$B/cgpulse" run --json --interval 0.2 --pin-dir "$pins" --keep-pins --http off \
		--collector "127.0.0.1:$port" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	agent=$!
	agent_wait_running "$tmp/$name.err" || fail "$name did not start"
}
kill_agent() { kill -KILL "$agent"; wait "$agent" 2>/dev/null; agent=; }

for phase in spool nospool; do
	: >"$tmp/events.jsonl"
	coll_start coll.err || fail "collector did not start"
	port=$COLL_PORT
	before=$(cgt_oom_kills "$rel")
	args=()
	[ $phase = spool ] && args=(--spool-dir "$tmp/spool")
	start_agent agent1 "${args[@]}"
	for _ in $(seq 100); do grep -q '"type":"sample"' "$tmp/events.jsonl" && break; sleep 0.1; done
	cgt_oom_kill "$rel"
	sleep 0.5
	coll_kill
	for _ in 1 2 3; do cgt_oom_kill "$rel"; done # the first agent spools them
	sleep 1
	kill_agent
	if [ $phase = spool ]; then
		cgt_oom_kill "$rel" # no agent runs: the record waits in the pinned ring buffer
		start_agent agent2 "${args[@]}"
		cgt_oom_kill "$rel"
		sleep 1
		coll_start coll.err "$port" || fail "collector did not start again"
		want=$(($(cgt_oom_kills "$rel") - before))
		for _ in $(seq 150); do
			[ "$(grep -c '"type":"oom_kill"' "$tmp/events.jsonl")" -ge "$want" ] && break
			sleep 0.1
		done
	else
		start_agent agent2
		coll_start coll.err "$port" || fail "collector did not start again"
		for _ in $(seq 100); do
			[ "$(grep -c '"type":"agent_started"' "$tmp/events.jsonl")" -ge 2 ] && break # the second agent's too
			sleep 0.1
		done
		want=$(($(cgt_oom_kills "$rel") - before))
	fi
	sleep 0.5
	kill -TERM "$agent"
	wait "$agent" || fail "agent exit $?"
	agent=
	coll_stop || fail "collector exit $?"
	"$B/cgpulse" cleanup --pin-dir "$pins" >/dev/null 2>&1

	$PY - "$tmp" "$rel" "$want" "$phase" <<'PY' || fail "delivery ($phase)"
import json, sys
sys.path.insert(0, "tests/lib")
import delivery
tmp, path, kernel, phase = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
a1, a2 = delivery.scan(tmp + "/agent1.out"), delivery.scan(tmp + "/agent2.out")
i1, i2 = next(iter(a1.count)), next(iter(a2.count))
got = delivery.scan(tmp + "/events.jsonl")
started = [e for e in delivery.of_type(got, "agent_started") if e["instance_id"] == i2]
assert len(started) == 1, started
st = started[0]
assert st["previous_instance_id"] == i1, st
ooms = delivery.of_type(got, "oom_kill", path)
dups = delivery.duplicates(got)
assert not dups, dups[:10]
if phase == "spool":
    # what the first agent put in its spool directory: every seq up to the last its pinned state names
    last1 = st["previous_last_seq"]
    missing = delivery.missing(got, i1, last1)
    late = [s for s in a1.count[i1] if s > last1]
    # a non-sample is written to the spool directory before it is printed: one printed in the last turn is stored
    late_others = [s for s in late if a1.kind[(i1, s)] != "sample"]
    lost_others = [(s, a1.kind[(i1, s)]) for s in late_others if s not in got.count[i1]]
    print("agent SIGKILLed with --spool-dir: first instance published 1..%d (%d more printed in its last turn, "
          "%d of them not samples, %d of those lost), collector stored %d of it (%d replayed by the second), "
          "missing %d; OOM kills: kernel %d, collector %d (first agent %d, second %d); handed over: %s"
          % (last1, len(late), len(late_others), len(lost_others), len(got.count[i1]),
             st["spool_replayed"], len(missing), kernel, len(ooms), len(delivery.of_type(a1, "oom_kill", path)),
             len(delivery.of_type(a2, "oom_kill", path)), st["previous_handed_over"]))
    assert st["previous_handed_over"] is True, st
    assert st["spool_replayed"] > 0 and st["spool_corrupt_records"] == 0, st
    assert not missing, missing[:10]
    assert not lost_others, ("printed in the last turn, not delivered", lost_others[:10])
    assert len(ooms) == kernel == 6, (len(ooms), kernel)
else:
    acked, last1 = st["previous_acked_seq"], st["previous_last_seq"]
    stored = sorted(got.count[i1])
    print("agent SIGKILLed without --spool-dir: agent_started names %s, last seq %d, acknowledged %d, handed over %s; "
          "the collector holds its seqs 1..%d; lost and reported: %d events, %d of them OOM kills"
          % (i1[:8], last1, acked, st["previous_handed_over"], stored[-1], last1 - acked,
             sum(1 for s in range(acked + 1, last1 + 1) if a1.kind.get((i1, s)) == "oom_kill")))
    assert st["previous_handed_over"] is False, st
    assert stored == list(range(1, acked + 1)), "the collector holds more or less than acknowledged"
    assert last1 >= max(s for s in a1.count[i1] if a1.kind[(i1, s)] != "sample"), "last seq too low"
    assert last1 > acked
PY
done
echo "PASS"
