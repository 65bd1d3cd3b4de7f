#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# What took /healthz down before (64 connections in all, no cap per client, an idle timer that a trickled header
# reset): the real agent, real sockets from Python, /healthz probed by curl all along. Counts, not times.
#  1. slowloris: 70 connections from one address, each trickling a header line every second. The client gets 8
#     (its cap), 4 go to the /healthz-only reserve, the rest are refused at once; the 8 are cut at the header
#     deadline (3 s here) although they never stop sending; every /healthz probe from the same address answers.
#  2. 1,000 idle connections from 125 addresses (8 each) fill the pool: every /healthz probe answers through
#     the reserve, and the idle ones are cut at the deadline.
# Each refusal shows on /metrics by reason.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}/cgpulse
PY=/usr/bin/python3
tmp=$(mktemp -d)
agent= attack=
cleanup() {
	[ -n "$attack" ] && kill "$attack" 2>/dev/null
	[ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/err" | tail -5; exit 1; }
refused() { sed -n "s/^cgpulse_http_connections_refused_total{reason=\"$1\"} \([0-9]*\)/\1/p" "$tmp/m"; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }
ulimit -n 8192

$B run --interval 0.5 --no-pin --http 127.0.0.1:0 --http-header-timeout 3 > /dev/null 2> "$tmp/err" &
agent=$!
for i in $(seq 100); do grep -q 'http port [1-9]' "$tmp/err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$tmp/err")
[ -n "$port" ] || fail "no http port"

# attack MODE N ADDRS HOLD: opens N connections spread over ADDRS source addresses, writes "ready" to
# $tmp/ready, holds them HOLD seconds (slowloris: a header line per second on each; idle: nothing), then
# prints how many the server closed meanwhile. Closed ones are not reopened.
cat > "$tmp/attack.py" <<'PY'
import select, socket, sys, time
mode, n, naddr, hold, port, ready = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
socks = []
for i in range(n):
    src = "127.0.0.1" if naddr == 1 else "127.0.1.%d" % (1 + i % naddr)
    s = socket.socket()
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    if mode == "slowloris":
        s.send(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
    socks.append(s)
time.sleep(0.2)
open(ready, "w").write("ready\n")
closed, end = set(), time.time() + hold
while time.time() < end:
    r, _, _ = select.select([s for s in socks if s not in closed], [], [], 1.0)
    for s in r:
        try:
            if not s.recv(4096):
                closed.add(s)
        except OSError:
            closed.add(s)
    if mode == "slowloris":
        for s in socks:
            if s not in closed:
                try:
                    s.send(b"X-Trickle: 1\r\n")
                except OSError:
                    closed.add(s)
print(len(closed))
PY

# probe until the attacker is done: every /healthz answer counted
probe_during() {
	local ok=0 bad=0
	while kill -0 "$attack" 2>/dev/null; do
		code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz")
		if [ "$code" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "probe $(date +%s.%N): $code" >> "$tmp/probes"; fi
		sleep 0.2
	done
	echo "$ok $bad"
}

hold() { # MODE N ADDRS HOLD
	rm -f "$tmp/ready"
	$PY "$tmp/attack.py" "$1" "$2" "$3" "$4" "$port" "$tmp/ready" > "$tmp/closed" &
	attack=$!
	for i in $(seq 300); do [ -e "$tmp/ready" ] && break; sleep 0.05; done
	[ -e "$tmp/ready" ] || fail "$1: the attacker could not connect"
	read -r ok bad < <(probe_during)
	wait "$attack"; attack=
	curl -sf "http://127.0.0.1:$port/metrics" > "$tmp/m" || fail "/metrics after $1"
	echo "# $1: $2 connections from $3 address(es) for $4 s: /healthz $ok answered, $bad not;" \
		"$(cat "$tmp/closed") closed by the agent; refused: client_limit $(refused client_limit)," \
		"connection_limit $(refused connection_limit), reserve_full $(refused reserve_full)," \
		"reserve_evicted $(refused reserve_evicted), header_deadline $(refused header_deadline)"
	[ "$bad" = 0 ] || fail "$1: $bad /healthz probes not answered: $(cat "$tmp/probes")"
	[ "$ok" -ge 15 ] || fail "$1: only $ok probes"
}

hold slowloris 70 1 6
[ "$(cat "$tmp/closed")" = 70 ] || fail "slowloris: $(cat "$tmp/closed") of 70 trickling connections closed"
[ "$(refused client_limit)" -ge 62 ] || fail "slowloris: client_limit refusals $(refused client_limit), want >= 62"
[ "$(refused header_deadline)" -ge 8 ] || fail "slowloris: the 8 admitted were not cut at the header deadline"
[ $(($(refused reserve_full) + $(refused reserve_evicted))) -ge 58 ] || fail "slowloris: reserve refusals"
dl0=$(refused header_deadline)

hold idle 1000 125 6
[ "$(cat "$tmp/closed")" = 1000 ] || fail "idle: $(cat "$tmp/closed") of 1000 idle connections closed"
[ "$(refused connection_limit)" -ge 500 ] || fail "idle: connection_limit refusals $(refused connection_limit)"
[ $(($(refused header_deadline) - dl0)) -ge 64 ] || fail "idle: the pool's idle connections not cut at the deadline"
grep -q '^cgpulse_http_connections{pool="main"}' "$tmp/m" || fail "no connections gauge"
kill -0 "$agent" || fail "agent died"
echo "http limits: ok"
