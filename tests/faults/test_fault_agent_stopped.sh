#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fault: the agent is stopped (SIGSTOP) for 30 s during an OOM storm in 8 cgroups, then continued. Every OOM kill
# the kernel counted is either delivered to the collector (exactly once) or counted as lost by the kernel side
# (the OOM ring buffer was full: cgpulse_kernel_records_lost_total{reason="oom_ringbuf"}), and the two add up to
# the kernel's count. FAULT_STOP_S sets the stop (default 30).
set -u
cd "$(dirname "$0")/../.."
FAULT_LOGS="agent.err coll.err"
. tests/lib/fault.sh
agent= storm=()
cleanup() {
	touch "$tmp/stop"
	[ -n "$agent" ] && kill -CONT "$agent" 2>/dev/null && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	for p in "${storm[@]}"; do wait "$p" 2>/dev/null; done
	coll_cleanup
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: needs curl"; exit 77; }

rels=()
for i in 1 2 3 4 5 6 7 8; do
	cgt_make storm$i || fail "cgroup"
	cgt_set_limit "$CGT_REL" $((20 << 20))
	rels+=("$CGT_REL")
done
kernel_ooms() {
	local n=0 r
	for r in "${rels[@]}"; do n=$((n + $(cgt_oom_kills "$r"))); done
	echo $n
}

coll_start coll.err || fail "collector did not start"
"$B/cgpulse" run --json --interval 1 --no-pin --http 127.0.0.1:0 --collector "127.0.0.1:$COLL_PORT" \
	>"$tmp/agent.out" 2>"$tmp/agent.err" &
agent=$!
agent_wait_running "$tmp/agent.err" || fail "agent did not start"
before=$(kernel_ooms)

# the storm: in each cgroup a loop runs a memory hog that the OOM killer kills (the hog, the largest, is chosen)
for r in "${rels[@]}"; do
	cgt_run "$r" sh -c 'while [ ! -e "$0" ]; do tail /dev/zero; done' "$tmp/stop" 2>/dev/null
	storm+=("$CGT_PID")
done
sleep 2
kill -STOP "$agent"
sleep "${FAULT_STOP_S:-30}"
during=$(($(kernel_ooms) - before))
kill -CONT "$agent"
sleep 2
touch "$tmp/stop"
for p in "${storm[@]}"; do wait "$p" 2>/dev/null; done
storm=()
kernel=$(($(kernel_ooms) - before))
lost=0 got=0
for _ in $(seq 300); do
	lost=$(agent_metric 'cgpulse_kernel_records_lost_total{reason="oom_ringbuf"}')
	got=$(grep -c '"type":"oom_kill"' "$tmp/events.jsonl")
	[ $((got + ${lost:-0})) -ge "$kernel" ] && break
	sleep 0.1
done
spool_dropped=$(agent_metric 'cgpulse_spool_events_dropped_total{kind="other"}')
kill -TERM "$agent"
wait "$agent" || fail "agent exit $?"
agent=
coll_stop || fail "collector exit $?"

$PY - "$tmp" "$kernel" "${lost:-0}" "$during" "${spool_dropped:-0}" <<'PY' || fail "delivery"
import sys
sys.path.insert(0, "tests/lib")
import delivery
tmp, kernel, lost, during, spool_dropped = sys.argv[1], *map(int, sys.argv[2:])
got = delivery.scan(tmp + "/events.jsonl")
ooms = [e for e in delivery.of_type(got, "oom_kill") if "cgpulse-test-storm" in e["path"]]
dups = delivery.duplicates(got)
print("agent stopped 30 s in an OOM storm: kernel counted %d OOM kills (%d while it was stopped); delivered %d, "
      "lost in the full kernel ring and counted %d: %d + %d = %d; duplicates %d, OOM kills the spool dropped %d"
      % (kernel, during, len(ooms), lost, len(ooms), lost, len(ooms) + lost, len(dups), spool_dropped))
assert not dups, dups[:5]
assert spool_dropped == 0
assert len(ooms) + lost == kernel, "delivered + counted != kernel"
assert kernel > 100, "not much of a storm"
PY
echo "PASS"
