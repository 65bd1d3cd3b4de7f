#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# A small playbook that nests deep stalled the loop (libyaml's loader is quadratic in the depth: 200 KB took
# 22 s, and the agent took no sample meanwhile). Now: `playbook check` refuses it with file:line:column and the
# bound; the real agent, sampling every 0.25 s, is sent the deepest playbook that fits under the 1 MiB cap by
# SIGHUP and by a changed file, again and again: every reload is refused, the playbook in force stays, and not
# one interval passes without its sweep (cgpulse_sweeps_missed_total stays 0). Counts, not times.
set -u
cd "$(dirname "$0")/../.."
B=${CGP_BUILD:-build}/cgpulse
tmp=$(mktemp -d)
agent=
cleanup() { [ -n "$agent" ] && kill "$agent" 2>/dev/null && wait "$agent" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; sed 's/^/  agent: /' "$tmp/err" 2>/dev/null | tail -5; exit 1; }
metric() { sed -n "s/^$1 \([0-9]*\).*/\1/p" "$tmp/m"; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root"; exit 77; }

# the issue's reproducer, and the deepest file under the 1 MiB cap
/usr/bin/python3 -c "d=100000;print('version: 1\nrules: '+'['*d+']'*d)" > "$tmp/deep.yaml"
/usr/bin/python3 -c "d=524000;print('version: 1\nrules: '+'['*d+']'*d)" > "$tmp/deeper.yaml"
$B playbook check "$tmp/deep.yaml" > /dev/null 2> "$tmp/check" && fail "deep playbook accepted"
[ "$(cat "$tmp/check")" = "$tmp/deep.yaml:2:39: nesting deeper than 32 levels" ] ||
	fail "want file:line:column and the bound, got: $(cat "$tmp/check")"

cat > "$tmp/pb.yaml" <<'EOF'
version: 1
rules:
  - name: busy
    metric: cpu_pct
    above: 90
    for: 1m
    severity: warning
EOF
$B run --interval 0.25 --no-pin --http 127.0.0.1:0 --playbook "$tmp/pb.yaml" > /dev/null 2> "$tmp/err" &
agent=$!
for i in $(seq 100); do grep -q 'http port [1-9]' "$tmp/err" && break; sleep 0.1; done
port=$(sed -n 's/.*http port \([0-9]*\).*/\1/p' "$tmp/err")
[ -n "$port" ] || fail "no http port"
sleep 1
curl -sf "http://127.0.0.1:$port/metrics" > "$tmp/m" || fail "/metrics"
sweeps0=$(metric cgpulse_sweep_duration_seconds_count)

# SIGHUPs in bursts (coalesced to one reload per turn) and file changes, for ~3 s
n=0
for round in $(seq 12); do
	if [ $((round % 3)) = 0 ]; then
		cp "$tmp/deeper.yaml" "$tmp/pb.new" && touch -d "@$((1000000 + round))" "$tmp/pb.new" && mv "$tmp/pb.new" "$tmp/pb.yaml"
	else
		[ "$round" = 1 ] && cp "$tmp/deeper.yaml" "$tmp/pb.yaml"
		kill -HUP "$agent"; kill -HUP "$agent"
	fi
	n=$((n + 1))
	sleep 0.25
done
sleep 1
kill -0 "$agent" 2>/dev/null || fail "agent died"
curl -sf "http://127.0.0.1:$port/metrics" > "$tmp/m" || fail "/metrics after the reloads"
sweeps1=$(metric cgpulse_sweep_duration_seconds_count)
reloads=$(metric cgpulse_playbook_reloads_total)
refused=$(metric cgpulse_playbook_reloads_refused_total)
missed=$(metric cgpulse_sweeps_missed_total)
echo "# $n rounds of reloads: $reloads reloads, $refused refused; sweeps $sweeps0 -> $sweeps1, missed $missed"
[ "${reloads:-0}" -ge 8 ] || fail "want at least 8 reloads, got ${reloads:-none}"
[ "$refused" = "$reloads" ] || fail "every reload of the deep playbook must be refused ($refused of $reloads)"
[ "$missed" = 0 ] || fail "$missed intervals passed without a sweep while reloading"
[ $((sweeps1 - sweeps0)) -ge 12 ] || fail "sweeps $sweeps0 -> $sweeps1 over ~4 s at 0.25 s"
grep -q "nesting deeper than 32 levels" "$tmp/err" || fail "the refusal's reason is not logged"
echo "playbook deep: ok"
