#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# The series cap of /metrics/cadvisor: 2,000 real cgroups, the real agent with --metrics-cgroups all and
# --metrics-max-cgroups 1000: series for exactly 1,000 cgroups and no more (distinct id labels, every family),
# the overflow counted on /metrics (cgpulse_cadvisor_cgroups_over_cap, _refused_total); once the cgroups are
# removed their places come free and nothing is over the cap. A bad --metrics-cgroups is refused, saying why.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/containers.sh"
. "$here/../lib/cgtest.sh"
B=${CGP_BUILD:-build}/cgpulse
N=2000
CAP=1000
[ "$(id -u)" -eq 0 ] || cgp_skip "needs root"
command -v curl >/dev/null || cgp_skip "no curl (make deps)"
cgp_init
T=$CGP_TMP
fail() {
	echo "FAIL: $*"
	[ -f "$T/agent.err" ] && tail -15 "$T/agent.err" | sed 's/^/  agent.err: /'
	exit 1
}

# bad input: a clear refusal, before anything is loaded
"$B" run --metrics-cgroups pods >/dev/null 2>"$T/bad.err" && fail "--metrics-cgroups pods accepted"
grep -q "metrics-cgroups: 'pods' is neither" "$T/bad.err" || fail "no reason given: $(cat "$T/bad.err")"

host=$(find "$CGT_V2" -type d | wc -l)
[ "$host" -lt $((CAP / 2)) ] || cgp_skip "the host has $host cgroups of its own; the cap of $CAP would not show"
cgp_cgroup_parent cap
for h in "$CGT_V2" "$CGT_MEM" "$CGT_CPU"; do
	[ -n "$h" ] || continue
	mkdir -p "$h$CGP_CGROUP_PARENT" || fail "mkdir $h$CGP_CGROUP_PARENT"
	(cd "$h$CGP_CGROUP_PARENT" && seq -f "c%04g" 1 $N | xargs mkdir) || fail "mkdir $N cgroups in $h"
done

"$B" run --interval 0.5 --no-pin --http 127.0.0.1:0 --metrics-cgroups all --metrics-max-cgroups $CAP \
	>"$T/agent.out" 2>"$T/agent.err" &
agent=$!
cgp_defer "kill $agent 2>/dev/null; wait $agent 2>/dev/null"
for _ in $(seq 100); do grep -q 'http port [1-9]' "$T/agent.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$T/agent.err")
[ -n "$port" ] || fail "agent did not start"
metric() { curl -sf "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n { print $2; exit }'; }

# until every test cgroup has been swept: those within the cap plus those over it cover them
for _ in $(seq 600); do
	have=$(metric cgpulse_cadvisor_cgroups)
	over=$(metric cgpulse_cadvisor_cgroups_over_cap)
	[ "${have:-0}" -eq $CAP ] && [ "${over:-0}" -ge $((N - CAP)) ] && break
	sleep 0.1
done
echo "cgroups with series $have, over the cap $over"
[ "${have:-0}" -eq $CAP ] || fail "cgpulse_cadvisor_cgroups $have, cap $CAP"
[ "${over:-0}" -ge $((N - CAP)) ] || fail "cgpulse_cadvisor_cgroups_over_cap $over, want at least $((N - CAP))"
refused=$(metric cgpulse_cadvisor_cgroups_refused_total)
[ "${refused:-0}" -ge "$over" ] || fail "refused_total $refused below over_cap $over"
curl -sf "http://127.0.0.1:$port/metrics/cadvisor" >"$T/cadvisor" || fail "GET /metrics/cadvisor"
ids=$(grep -v '^#' "$T/cadvisor" | grep -o 'id="[^"]*"' | sort -u | wc -l)
[ "$ids" -eq $CAP ] || fail "$ids distinct cgroups on /metrics/cadvisor, cap $CAP"
# every family holds at most one series per cgroup within the cap
fam_max=$(grep -v '^#' "$T/cadvisor" | awk -F'{' '{ n[$1]++ } END { m = 0; for (f in n) if (n[f] > m) m = n[f]; print m }')
[ "$fam_max" -le $CAP ] || fail "a family has $fam_max series"
command -v promtool >/dev/null && { promtool check metrics <"$T/cadvisor" >/dev/null 2>&1 || fail "promtool check metrics"; }

# the test's cgroups go: their places come free, nothing stays over the cap
cgp_cgroup_remove "$CGP_CGROUP_PARENT"
for _ in $(seq 600); do
	over=$(metric cgpulse_cadvisor_cgroups_over_cap)
	[ "${over:-1}" -eq 0 ] && break
	sleep 0.1
done
[ "${over:-1}" -eq 0 ] || fail "over_cap $over after the cgroups were removed"
have=$(metric cgpulse_cadvisor_cgroups)
[ "${have:-0}" -lt $CAP ] || fail "cgpulse_cadvisor_cgroups $have after removing $N cgroups"
echo "ok: $N cgroups, cap $CAP: series for exactly $CAP cgroups, $refused refused and counted; after removal $have, none over"
