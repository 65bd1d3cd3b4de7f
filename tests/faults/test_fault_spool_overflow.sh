#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fault: the collector is away for longer than the spool holds, at the default bound (64 MiB). A real agent
# samples 1,000 cgroups every 50 ms (~20,000 events a second) while real OOM kills fire the playbook's alerts.
# Meanwhile its RSS stays within the bound (base + 64 MiB + 2 MiB); once the collector is back it receives every
# OOM kill and every alert, and Dropped events whose counts are exactly the sequence numbers that never arrive
# (all samples).
set -u
cd "$(dirname "$0")/../.."
FAULT_LOGS="agent.err coll.err"
. tests/lib/fault.sh
agent= parent=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	coll_cleanup
	remove_many
	cgt_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v curl >/dev/null || { echo "SKIP: needs curl"; exit 77; }

hier=("$CGT_V2")
[ -n "$CGT_MEM" ] && hier+=("$CGT_MEM")
remove_many() {
	local h
	[ -n "$parent" ] || return 0
	for h in "${hier[@]}"; do find "$h$parent" -mindepth 1 -maxdepth 1 -type d -name 'c*' -exec rmdir {} + 2>/dev/null; done
}
cgt_make overflow || fail "cgroup"
parent=$CGT_REL
for h in "${hier[@]}"; do
	for i in $(seq -w 1 1000); do echo "$h$parent/c$i"; done | xargs mkdir || fail "cgroups"
done
cgt_make overflowoom || fail "cgroup"
oomrel=$CGT_REL
cgt_set_limit "$oomrel" $((20 << 20))

# the OOM kills of this test's (non-container) cgroup fire an alert each
cat >"$tmp/playbook.yaml" <<'YAML'
version: 1
rules:
  - name: oom_kill
    metric: oom_kills
    above: 0
    for: 0s
    severity: critical
    select: all
    action: "restart it and raise its memory limit"
YAML
coll_start coll.err || fail "collector did not start"
port=$COLL_PORT
# every event but the samples, to check against the collector
"$B/cgpulse" run --json --interval 0.05 --no-pin --http 127.0.0.1:0 --collector "127.0.0.1:$port" \
	--playbook "$tmp/playbook.yaml" 2>"$tmp/agent.err" |
	grep --line-buffered -v '"type":"sample"' >"$tmp/agent.out" &
filter=$!
agent_wait_running "$tmp/agent.err" || fail "agent did not start"
agent=$(pgrep -f "cgpulse run --json --interval 0.05 --no-pin --http 127.0.0.1:0 --collector 127.0.0.1:$port ")
[ -n "$AGENT_HTTP" ] && [ -n "$agent" ] || fail "agent did not start"
sleep 3
# a few scrapes first: their buffers (/metrics is ~5 MB for 1,000 cgroups) are part of the base, not the spool
for _ in 1 2 3; do agent_metric cgpulse_spool_events >/dev/null; done
rss0=$(agent_rss "$agent")
coll_kill
peak=$rss0 full_at= t=0
while [ $t -lt 90 ]; do
	sleep 1
	t=$((t + 1))
	r=$(agent_rss "$agent")
	[ "$r" -gt "$peak" ] && peak=$r
	case $t in 3 | 6 | 9) cgt_oom_kill "$oomrel" ;; esac
	dropped=$(agent_metric 'cgpulse_spool_events_dropped_total{kind="sample"}')
	if [ -z "$full_at" ] && [ "${dropped:-0}" -gt 0 ]; then
		full_at=$t
	fi
	[ -n "$full_at" ] && [ $t -ge $((full_at + 8)) ] && [ $t -ge 10 ] && break
done
[ -n "$full_at" ] || fail "the spool never filled"
before=$(wc -l <"$tmp/events.jsonl")
coll_start coll.err "$port" || fail "collector did not start again"
for _ in $(seq 300); do grep -q '"type":"dropped"' "$tmp/events.jsonl" && break; sleep 0.1; done
remove_many # the flood stops: what is left drains
for _ in $(seq 300); do
	left=$(agent_metric cgpulse_spool_events)
	[ "${left:-99}" -lt 50 ] && break
	sleep 0.1
done
kill -TERM "$agent"
for _ in $(seq 100); do kill -0 "$agent" 2>/dev/null || break; sleep 0.1; done
agent=
wait "$filter"
coll_stop || fail "collector exit $?"
kernel=$(cgt_oom_kills "$oomrel")
exitline=$(grep "exit: published" "$tmp/agent.err") || fail "no exit line"

$PY - "$tmp" "$oomrel" "$kernel" "$rss0" "$peak" "$full_at" "$before" "$exitline" <<'PY' || fail "delivery"
import re, sys
sys.path.insert(0, "tests/lib")
import delivery
tmp, path, kernel, rss0, peak, full_at, before, exitline = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:8]), sys.argv[8]
m = re.search(r"seq 1\.\.(\d+)\); the collector acknowledged up to (\d+); (\d+) events unacknowledged", exitline)
last, acked, unacked = map(int, m.groups())
sent = delivery.scan(tmp + "/agent.out")  # every event but the samples
inst = next(iter(sent.count))
got = delivery.scan(tmp + "/events.jsonl")
stored = got.count[inst]
dups = delivery.duplicates(got)
missing = set(delivery.missing(got, inst, last))
reports = delivery.dropped_reports(got, inst)
reported = sum(r["samples_dropped"] + r["others_dropped"] for r in reports)
# the dropped samples: every sample in the reported ranges (the spool drops its oldest samples, in order)
dropped = {s for r in reports for s in range(r["first_dropped_seq"], r["last_dropped_seq"] + 1)
           if s not in sent.count[inst]}
# some of those reached a collector anyway: sent, stored, not yet acknowledged when the spool let them go
stored_anyway = {s for s in dropped if s in stored}
ooms = delivery.of_type(got, "oom_kill", path)
alerts_sent = sorted(e["seq"] for e in delivery.of_type(sent, "alert"))
alerts_got = [s for s in alerts_sent if s in stored]
bound = 64 << 10  # kB
print("collector away past the spool's 64 MiB: full after %d s; agent RSS %d kB before, peak %d kB (+%d kB; the "
      "bound %d kB); %d events published, %d stored once; Dropped events (%d) report %d samples dropped (others "
      "%d): %d never arrived, %d had reached a collector before they were acknowledged; OOM kills kernel %d = collector "
      "%d; alerts %d published, %d delivered; exit: %d unacknowledged"
      % (full_at, rss0, peak, peak - rss0, bound, last, len(stored), len(reports), reported,
         sum(r["others_dropped"] for r in reports), len(missing), len(stored_anyway), kernel, len(ooms),
         len(alerts_sent), len(alerts_got), unacked))
assert unacked == 0 and acked == last, exitline
assert not dups, dups[:5]
assert all(r["others_dropped"] == 0 for r in reports)
assert len(dropped) == reported, "the reports count %d, their ranges hold %d samples" % (reported, len(dropped))
assert missing == dropped - stored_anyway, "a seq missing that no Dropped event reported"
assert len(ooms) == kernel == 3, (len(ooms), kernel)
assert len(alerts_sent) >= 3 and alerts_got == alerts_sent, (alerts_sent, alerts_got)
assert peak - rss0 <= bound + 2048, "RSS %d kB over its start" % (peak - rss0)
PY
echo "PASS"
