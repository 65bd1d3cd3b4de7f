#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What a scrape costs the agent in memory: 1,000 real cgroups, the real agent with every cgroup on
# /metrics/cadvisor, and /metrics and /metrics/cadvisor scraped three times each, plain and gzip, by curl. The
# pages are streamed from a snapshot, so the agent's resident memory (the kernel's VmRSS) may grow by little
# across the scrapes, however large the pages: at most 2 MiB and at most a quarter of one /metrics page, which
# must be at least 4 MiB here (a whole page held in memory, as before pages, grew the RSS by twice the page). The
# gzip pages must decompress to the same text as the plain ones, series for series.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/containers.sh"
. "$here/../lib/cgtest.sh"
B=${CGP_BUILD:-build}/cgpulse
N=1000
[ "$(id -u)" -eq 0 ] || cgp_skip "needs root"
command -v curl >/dev/null || cgp_skip "no curl (make deps)"
cgp_init
T=$CGP_TMP
fail() {
	echo "FAIL: $*"
	[ -f "$T/agent.err" ] && tail -15 "$T/agent.err" | sed 's/^/  agent.err: /'
	exit 1
}

cgp_cgroup_parent mem
for h in "$CGT_V2" "$CGT_MEM" "$CGT_CPU"; do
	[ -n "$h" ] || continue
	mkdir -p "$h$CGP_CGROUP_PARENT" || fail "mkdir $h$CGP_CGROUP_PARENT"
	(cd "$h$CGP_CGROUP_PARENT" && seq -f "c%04g" 1 $N | xargs mkdir) || fail "mkdir $N cgroups in $h"
done

"$B" run --interval 0.5 --no-pin --http 127.0.0.1:0 --metrics-cgroups all >"$T/agent.out" 2>"$T/agent.err" &
agent=$!
cgp_defer "kill $agent 2>/dev/null; wait $agent 2>/dev/null"
for _ in $(seq 100); do grep -q 'http port [1-9]' "$T/agent.err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$T/agent.err")
[ -n "$port" ] || fail "agent did not start"
rss() { awk '$1 == "VmRSS:" { print $2 * 1024 }' "/proc/$agent/status"; }

# steady before any scrape: three sweeps of every test cgroup written to stdout (the ring of recent events, 1 MiB,
# is full by then), learned without asking the agent over HTTP
for _ in $(seq 600); do
	[ "$(grep -c "$CGP_CGROUP_PARENT/c" "$T/agent.out")" -ge $((3 * N)) ] && break
	sleep 0.1
done
[ "$(grep -c "$CGP_CGROUP_PARENT/c" "$T/agent.out")" -ge $((3 * N)) ] || fail "the agent did not sweep $N cgroups 3 times"
before=$(rss)
url=http://127.0.0.1:$port
for k in 1 2 3; do
	curl -sf "$url/metrics" -o "$T/m.txt" || fail "GET /metrics"
	curl -sf --compressed "$url/metrics" -o "$T/mz.txt" || fail "GET /metrics, gzip"
	curl -sf "$url/metrics/cadvisor" -o "$T/c.txt" || fail "GET /metrics/cadvisor"
	curl -sf --compressed "$url/metrics/cadvisor" -o "$T/cz.txt" || fail "GET /metrics/cadvisor, gzip"
done
after=$(rss)
page=$(wc -c <"$T/m.txt")
growth=$((after - before))
echo "# $N cgroups: /metrics $page bytes, /metrics/cadvisor $(wc -c <"$T/c.txt") bytes;" \
	"VmRSS $before -> $after bytes across 12 scrapes (growth $growth)"
[ "$(grep -c "^cgpulse_cgroup_cpu_seconds_total{.*$CGP_CGROUP_PARENT/c" "$T/m.txt")" -eq $N ] ||
	fail "/metrics lacks some of the $N cgroups"
[ "$(grep -c "^container_cpu_usage_seconds_total{.*id=\"$CGP_CGROUP_PARENT/c" "$T/c.txt")" -eq $N ] ||
	fail "/metrics/cadvisor lacks some of the $N cgroups"
tail -n 1 "$T/m.txt" | grep -q 'cgpulse_http_credential_reloads_total{file="token",result="refused"} 0$' ||
	fail "/metrics does not end with the HTTP server's families"
# the gzip pages are the same text: the test cgroups' series, in the same order (values move between scrapes)
same() { cmp -s <(grep "$CGP_CGROUP_PARENT/c" "$1" | sed 's/[^ ]*$//') <(grep "$CGP_CGROUP_PARENT/c" "$2" | sed 's/[^ ]*$//'); }
same "$T/m.txt" "$T/mz.txt" || fail "gzip /metrics differs from plain"
same "$T/c.txt" "$T/cz.txt" || fail "gzip /metrics/cadvisor differs from plain"
tail -n 1 "$T/mz.txt" | grep -q 'result="refused"} 0$' || fail "gzip /metrics cut short"
[ "$page" -ge $((4 << 20)) ] || fail "/metrics is only $page bytes: too small to show what a scrape costs"
if ldd "$B" 2>/dev/null | grep -q libasan; then
	# ASan's allocator keeps freed memory in its quarantine and its size classes, with their shadow (17 MB
	# here; 3.6 MB with no quarantine): its RSS says nothing of the agent's; the plain build's run holds the bound
	echo "# built with ASan: the RSS bounds are checked by the plain build's run only"
else
	[ "$growth" -le $((2 << 20)) ] || fail "VmRSS grew by $growth bytes across the scrapes (bound 2 MiB)"
	[ "$growth" -le $((page / 4)) ] || fail "VmRSS grew by $growth bytes, over a quarter of a $page-byte page"
fi
echo "ok: scraping pages of $page bytes grew the agent's RSS by $growth bytes"
