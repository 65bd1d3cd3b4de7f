#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# --collector with a name that a DNS server never answers (issue 15: the blocking getaddrinfo held the loop ~10 s
# per retry, 5 sweeps in 40 s, /healthz down). The agent runs in a private mount namespace whose /etc/resolv.conf
# names a local UDP socket that reads queries and answers none. The name is looked up outside the loop: sweeps
# (counted from /metrics) keep their rate, /healthz answers every probe, and the lookups given up are counted.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}
PY=/usr/bin/python3
tmp=$(mktemp -d)
. tests/lib/agent.sh
agent= dns=
cleanup() {
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	[ -n "$dns" ] && kill "$dns" 2>/dev/null && wait "$dns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/agent.err" 2>/dev/null | tail -8; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
command -v unshare >/dev/null || { echo "SKIP: unshare (util-linux) not installed"; exit 77; }
unshare -m true 2>/dev/null || { echo "SKIP: cannot make a mount namespace here"; exit 77; }

ns=127.53.53.53
$PY - "$ns" "$tmp/queries" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 53))
n = 0
while True:
    s.recv(4096)                                   # read, never answer
    n += 1
    open(sys.argv[2], "w").write("%d\n" % n)
PY
dns=$!
printf 'nameserver %s\noptions timeout:5 attempts:2\n' "$ns" >"$tmp/resolv.conf"
interval=0.5
# the mount namespace is private (unshare's default propagation): the bind mount never reaches the host
unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && shift && exec "$@"' sh "$tmp/resolv.conf" \
	"$B/cgpulse" run --interval $interval --no-pin --http 127.0.0.1:0 \
	--collector collector.cgpulse-test.invalid:24786 >/dev/null 2>"$tmp/agent.err" &
agent=$!
agent_wait_running "$tmp/agent.err" || fail "agent did not start"
[ -n "$AGENT_HTTP" ] || fail "no http port"
grep -q "$ns" /etc/resolv.conf && fail "the test's resolv.conf leaked to the host"

s0=$(agent_metric cgpulse_sweep_duration_seconds_count)
t0=$(date +%s.%N)
probes=0 failed=0
for _ in $(seq 16); do
	probes=$((probes + 1))
	curl -s -m 1 -o /dev/null "http://127.0.0.1:$AGENT_HTTP/healthz" || failed=$((failed + 1))
	sleep 0.5
done
s1=$(agent_metric cgpulse_sweep_duration_seconds_count)
t1=$(date +%s.%N)
timeouts=$(agent_metric cgpulse_collector_resolve_timeouts_total)
queries=$(cat "$tmp/queries" 2>/dev/null || echo 0)
read -r sweeps want <<<"$($PY -c "import sys; s0,s1,t0,t1,i=map(float,sys.argv[1:]); print(int(s1-s0), int((t1-t0)/i))" \
	"$s0" "$s1" "$t0" "$t1" "$interval")"
echo "# silent DNS server got $queries queries; agent: $sweeps sweeps where its interval makes $want, /healthz failed $failed of $probes probes, resolve_timeouts=$timeouts"
[ "$queries" -gt 0 ] || fail "the agent never asked the test's DNS server"
[ "${timeouts:-0}" -ge 1 ] || fail "no lookup was given up"
[ "$failed" -eq 0 ] || fail "/healthz failed $failed of $probes probes"
[ "$sweeps" -ge $((want * 3 / 4)) ] || fail "$sweeps sweeps where the interval makes $want: the loop waited for DNS"
kill -TERM "$agent"
wait "$agent"
rc=$?
agent=
[ $rc -eq 0 ] || fail "agent exit $rc"
echo PASS
